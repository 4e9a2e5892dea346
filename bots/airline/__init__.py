"""Nimbus Air: the example brand bot (fictional airline, fictional data)."""
