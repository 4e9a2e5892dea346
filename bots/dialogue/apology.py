"""What the customer is told when their message could not be handled at all.

A message whose turn keeps failing (a bug, data the stores refuse) is dead-lettered by the
pipeline; the customer must not be left with silence. :class:`TurnFailedApology` builds that
one reply: the domain's ``turn_failed`` response when the brand wrote one, else a built-in
text, in the conversation's language when it can still be read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from connectors.base import Inbound, Outbound

from ..errors import StoreUnavailable
from .domain import DomainSpec
from .responses import render
from .store import StateStore

log = logging.getLogger(__name__)

__all__ = ["TurnFailedApology", "RESPONSE_KEY", "BUILT_IN"]

#: the domain response a brand may write for this moment.
RESPONSE_KEY = "turn_failed"

#: used when the domain has no ``turn_failed`` response.
BUILT_IN = {
    "en": "Sorry, something went wrong on our side and I couldn't handle your last message. "
    "Our team has been told. Please try again in a moment, or write it differently.",
    "fr": "Désolé, un problème de notre côté m'a empêché de traiter votre dernier message. "
    "Notre équipe est prévenue. Réessayez dans un instant, ou formulez-le autrement.",
}


@dataclass(frozen=True)
class TurnFailedApology:
    """``Inbound -> [Outbound]``: the apology for a dead-lettered message (one reply).

    Args:
        default_language: used when the state cannot be read or has no language.
        domain: the brand's domain (its ``turn_failed`` response, if any); None: the built-in text
            (a custom ``--pipeline`` without our dialogue).
        store: the dialogue state store, read without a lock for the conversation's language.
    """

    default_language: str
    domain: DomainSpec | None = None
    store: StateStore | None = None

    def language(self, conversation_id: str) -> str:
        if self.store is None:
            return self.default_language
        try:
            return self.store.load(conversation_id).language or self.default_language
        except (StoreUnavailable, ValueError) as exc:  # unreachable, or the state itself is broken
            log.warning("apology for %s: state unreadable (%s); using %s", conversation_id, exc, self.default_language)
            return self.default_language

    def text(self, language: str) -> str:
        if self.domain is not None and RESPONSE_KEY in self.domain.responses:
            return render(self.domain, RESPONSE_KEY, language, fallback_language=self.default_language).text
        return BUILT_IN.get(language) or BUILT_IN["en"]

    def __call__(self, inbound: Inbound) -> list[Outbound]:
        return [
            Outbound(
                channel=inbound.channel,
                recipient=inbound.sender_id,
                text=self.text(self.language(inbound.conversation_id)),
                kind="reply",
                # one apology per inbound, however many times its turn is redone
                idempotency_key=f"{inbound.channel}:{inbound.message_id}:turn-failed",
                conversation_id=inbound.conversation_id,
            )
        ]
