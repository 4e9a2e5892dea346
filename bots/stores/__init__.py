"""Adapters to the stores: Redis (hot, shared) and SQL (durable record)."""
