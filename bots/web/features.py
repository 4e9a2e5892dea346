"""Feature blueprints mounted by ``create_app``; each entry is ``register(app, services)``."""

REGISTRARS: list = []
