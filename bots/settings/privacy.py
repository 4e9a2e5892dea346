"""Settings of consent and the privacy duties (``privacy:`` in config.yaml).

``analytics_secret`` keys the pseudonyms that analytics use instead of channel ids (an
HMAC-SHA256 of ``"channel:id"``); it comes from the environment
(``${BRANDBOT_ANALYTICS_SECRET}``) and the development default is refused in production
(:func:`production_problems`, checked by the root settings). ``consent.wordings`` holds
the exact texts shown to customers, versioned: a consent record names the version it was
given under. ``retention`` says how long transcripts, deliveries and signals are kept.
When and how the bot asks (consent moment, CSAT, NPS, comments) is the ``feedback:``
section (:mod:`bots.settings.feedback`), read by the dialogue.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ._base import Section

__all__ = [
    "DEV_ANALYTICS_SECRET",
    "PURPOSES",
    "ConsentWording",
    "ConsentSettings",
    "RetentionSettings",
    "PrivacySettings",
    "production_problems",
]

#: the development default of privacy.analytics_secret; refused when environment is production.
DEV_ANALYTICS_SECRET = "dev-only-analytics-secret"

#: what a customer can consent to: ``service`` is the basis for answering at all,
#: ``service_updates`` the proactive messages about their trips (sent unless withdrawn),
#: ``feedback_analytics`` lets their messages become feedback signals, ``marketing``
#: allows proactive promotions.
PURPOSES = ("service", "service_updates", "feedback_analytics", "marketing")


class ConsentWording(Section):
    """One purpose's consent text as shown to customers, per language, with its version id.

    Change ``version`` whenever ``text`` changes: each consent record keeps the version
    (and the exact text) it was given under.
    """

    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    text: dict[str, str] = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _texts_not_empty(cls, value: dict[str, str]) -> dict[str, str]:
        empty = sorted(lang for lang, words in value.items() if not words.strip())
        if empty:
            raise ValueError(f"empty consent text for language(s) {empty}; write the sentence customers are shown")
        return value


def _default_wordings() -> dict[str, ConsentWording]:
    return {
        "service": ConsentWording(
            version="service-1",
            text={
                "en": "We use your messages to answer you. Say 'delete my data' at any time.",
                "fr": "Nous utilisons vos messages pour vous répondre. Dites « supprimer mes données » à tout moment.",
            },
        ),
        "service_updates": ConsentWording(
            version="updates-1",
            text={
                "en": "We send you updates about your trips here (flight changes, gates, check-in). "
                "Say 'no more messages' to stop them.",
                "fr": "Nous vous envoyons ici les informations sur vos voyages (changements de vol, portes, "
                "enregistrement). Dites « plus de messages » pour ne plus les recevoir.",
            },
        ),
        "feedback_analytics": ConsentWording(
            version="feedback-1",
            text={
                "en": "May we learn from this conversation (anonymised) to improve our service? "
                "You can change your mind at any time.",
                "fr": "Pouvons-nous apprendre de cette conversation (anonymisée) pour améliorer notre service ? "
                "Vous pouvez changer d'avis à tout moment.",
            },
        ),
        "marketing": ConsentWording(
            version="marketing-1",
            text={
                "en": "May we send you offers and news here? Reply STOP at any time.",
                "fr": "Pouvons-nous vous envoyer des offres et nouvelles ici ? Répondez STOP à tout moment.",
            },
        ),
    }


class ConsentSettings(Section):
    #: purpose -> the versioned texts shown when asking (every purpose needs one).
    wordings: dict[str, ConsentWording] = Field(default_factory=_default_wordings)

    @field_validator("wordings")
    @classmethod
    def _known_purposes(cls, value: dict[str, ConsentWording]) -> dict[str, ConsentWording]:
        unknown = sorted(set(value) - set(PURPOSES))
        if unknown:
            raise ValueError(f"unknown consent purpose(s) {unknown}; valid purposes: {list(PURPOSES)}")
        missing = [p for p in PURPOSES if p not in value]
        if missing:
            raise ValueError(f"no wording for purpose(s) {missing}; every purpose in {list(PURPOSES)} needs one")
        return value


class RetentionSettings(Section):
    """Days each kind of record is kept before ``brandbot retention run`` purges it (0: forever)."""

    #: transcripts: the ``messages`` rows.
    messages_days: int = Field(default=365, ge=0, le=36500)
    #: ``deliveries`` rows and their ``delivery_parts``.
    deliveries_days: int = Field(default=90, ge=0, le=36500)
    #: feedback signals (pseudonymous, redacted; the counts-only table is kept).
    signals_days: int = Field(default=730, ge=0, le=36500)


class PrivacySettings(Section):
    #: keys the pseudonyms of analytics; set BRANDBOT_ANALYTICS_SECRET in production.
    analytics_secret: str = Field(default=DEV_ANALYTICS_SECRET, min_length=16)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    def wording(self, purpose: str, language: str) -> tuple[str, str]:
        """``(version, text)`` of ``purpose``'s consent wording in ``language`` (else its first language).

        Raises:
            KeyError: ``purpose`` is not one of :data:`PURPOSES`.
        """
        w = self.consent.wordings[purpose]
        text = w.text.get(language) or next(iter(w.text.values()))
        return w.version, text


def production_problems(privacy: PrivacySettings, environment: str) -> list[tuple[str, str]]:
    """(key path, problem) for settings that must not reach production (the development secret)."""
    if environment == "production" and privacy.analytics_secret == DEV_ANALYTICS_SECRET:
        return [
            (
                "privacy.analytics_secret",
                "is the development default in production: export BRANDBOT_ANALYTICS_SECRET "
                '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")',
            )
        ]
    return []
