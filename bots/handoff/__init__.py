"""Handing conversations to people: modes, business hours, the waiting queue, presence."""
