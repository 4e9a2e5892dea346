"""Settings of asking for feedback in the conversation (``feedback:`` in config.yaml).

When the bot asks for the ``feedback_analytics`` consent (the wording itself and its
version are ``privacy.consent.wordings``), how soon it asks again after a "later", and
which feedback questions follow a resolved conversation or a hand-back to the bot
(CSAT 1-5, an optional comment, NPS 0-10). The phrases that let a customer change their
mind in words ("stop analysing my messages", "je refuse", "delete my data") are data:
``phrases_file`` (default: the one shipped in ``bots/dialogue/privacy.yml``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import Section

__all__ = ["FeedbackSettings"]


class FeedbackSettings(Section):
    #: when the bot asks for the feedback-analytics consent: at the customer's first message,
    #: after a resolved request (a flow the bot completed, a staff resolve or hand-back), or
    #: never (consent then only comes from words, the console or the API).
    ask_consent: Literal["first_contact", "after_resolution", "never"] = "after_resolution"
    #: after "later" (or an unanswered question), ask again once this many days have passed
    #: (at the next moment ``ask_consent`` allows).
    later_days: int = Field(default=7, ge=1, le=365)
    #: after "later", ask again at the next resolution even before ``later_days``.
    later_at_resolution: bool = True
    #: ask "how would you rate...? 1-5" after a staff resolve or hand-back to the bot.
    csat: bool = True
    #: after the CSAT answer, offer one free-text comment (stored redacted, with its sentiment).
    comment: bool = True
    #: after the CSAT answer (and comment), ask "how likely are you to recommend us? 0-10".
    nps: bool = False
    #: YAML file of the consent / opt-out / erasure phrases and the privacy responses
    #: (relative to the config file); None: the shipped ``bots/dialogue/privacy.yml``.
    phrases_file: str | None = None
    #: how close (0-1, difflib ratio) a message must be to a phrase to match it: typos pass.
    phrase_similarity: float = Field(default=0.86, ge=0.6, le=1.0)
