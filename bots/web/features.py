"""Feature blueprints mounted by ``create_app``; each entry is ``register(app, services)``."""

from . import chat, metrics, webhooks

REGISTRARS: list = [chat.register, webhooks.register, metrics.register]
