"""Feature blueprints mounted by ``create_app``; each entry is ``register(app, services)``."""

from . import chat  # noqa: E402
from . import metrics, webhooks  # noqa: E402

REGISTRARS: list = [chat.register, webhooks.register, metrics.register]
