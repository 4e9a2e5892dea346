"""Channel I/O only: verify and parse inbound webhooks, send outbound messages.

One module per channel behind :class:`connectors.base.Connector`
(``parse(WebhookRequest) -> list[Inbound]``, ``send(Outbound) -> str``, ``rules``):

- :mod:`connectors.telegram` -- ``TelegramConnector`` (python-telegram-bot 22).
- :mod:`connectors.twilio` -- ``WhatsAppConnector`` and ``SmsConnector`` (twilio 9),
  one Messaging webhook for both, ``parse_status`` for status callbacks.
- :mod:`connectors.webchat` -- the web chat.

Errors: :mod:`connectors.errors`. Nothing here imports ``bots`` or ``nlu``; the
runtime builds connectors from settings (``bots.channel_registry``).
"""
