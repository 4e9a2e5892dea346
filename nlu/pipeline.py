"""Building a blank spaCy pipeline for one language with the brandbot components."""

from __future__ import annotations

from typing import Any

import spacy
from spacy.language import Language

from . import components  # noqa: F401 - imported for its effect: registers the factories
from .components import ENTITIES, INTENTS, SENTIMENT

__all__ = ["LANGUAGE_DEFAULTS", "build_pipeline", "component_configs"]

#: per-language settings of the entities component (a brand overrides them via configs).
LANGUAGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "fr": {"phone_country_code": "33", "date_order": "DMY"},
    "en": {"phone_country_code": "", "date_order": "DMY"},
    "de": {"phone_country_code": "49", "date_order": "DMY"},
    "nl": {"phone_country_code": "31", "date_order": "DMY"},
    "es": {"phone_country_code": "34", "date_order": "DMY"},
    "it": {"phone_country_code": "39", "date_order": "DMY"},
}


def component_configs(language: str, overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """The config given to each component's factory (only what differs from default_config)."""
    cfgs: dict[str, dict[str, Any]] = {INTENTS: {}, ENTITIES: dict(LANGUAGE_DEFAULTS.get(language, {})), SENTIMENT: {}}
    for name, extra in (overrides or {}).items():
        cfgs.setdefault(name, {}).update(extra)
    return cfgs


def build_pipeline(language: str, overrides: dict[str, dict[str, Any]] | None = None) -> Language:
    """``spacy.blank(language)`` + intents, entities and sentiment components (untrained)."""
    nlp = spacy.blank(language)
    for name, cfg in component_configs(language, overrides).items():
        nlp.add_pipe(name, config=cfg)
    return nlp
