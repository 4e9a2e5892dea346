"""The bot's domain (flows, FAQ, responses) read from config and checked once at start."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import ConfigError
from ..settings import Settings
from ..settings.dialogue import DomainSpec, IdentitySpec
from .errors import DomainError

__all__ = ["load_domain", "check_domain", "BUILTIN_RESPONSES"]

#: responses the engine itself uses; a domain must define each in every language.
BUILTIN_RESPONSES = (
    "fallback_rephrase",
    "offer_human",
    "handoff_waiting",
    "handoff_offer",
    "handoff_closed",
    "handoff_ask_message",
    "handoff_left_message",
    "handoff_cancelled",
    "handoff_returned",
    "handoff_timeout",
    "handoff_declined",
    "flow_cancelled",
    "nothing_to_cancel",
    "action_error",
    "anything_else",
    "confirm_yes_no",
    "slot_gave_up",
)


def load_domain(settings: Settings) -> DomainSpec:
    """Merge ``dialogue.domain_file`` (if any) with the inline ``dialogue:`` keys.

    Inline keys win over the file's on the same name, so a brand can override one
    response without copying the file.

    Raises:
        ConfigError: the file is missing or invalid (names the file and the key).
        DomainError: a flow or FAQ refers to an undefined response or language.
    """
    d = settings.dialogue
    data: dict = {"flows": {}, "faq": {}, "responses": {}, "intent_labels": {}}
    identity = d.identity
    if d.domain_file:
        path: Path = settings.path(d.domain_file)
        if not path.is_file():
            raise ConfigError([f"dialogue.domain_file: {path} does not exist"], settings.source)
        identity = _merge_file(path.resolve(), data, settings, seen={}, visited=set()) or identity
    for key in data:
        data[key].update(getattr(d, key))
    domain = DomainSpec(**data, identity=d.identity or identity)
    check_domain(domain, settings.brand.languages)
    return domain


def _merge_file(
    path: Path, data: dict, settings: Settings, seen: dict[tuple[str, str], Path], visited: set[Path]
) -> IdentitySpec | None:
    """Add one domain file (and the files it includes, relative to it) to ``data``; its identity step."""
    visited.add(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        spec = DomainSpec.model_validate(raw)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError([f"dialogue.domain_file {path}: {exc}"], settings.source) from exc
    for key in data:
        for name, value in getattr(spec, key).items():
            if (key, name) in seen:
                raise ConfigError(
                    [f"dialogue.domain_file {path}: {key}.{name} is also defined in {seen[(key, name)]}"],
                    settings.source,
                )
            seen[(key, name)] = path
            data[key][name] = value
    identity = spec.identity
    for name in spec.include:
        included = (path.parent / name).resolve()
        if not included.is_file():
            problem = f"dialogue.domain_file {path}: include {name!r}: {included} does not exist"
            raise ConfigError([problem], settings.source)
        if included in visited:
            raise ConfigError([f"dialogue.domain_file {path}: {included} is included twice"], settings.source)
        found = _merge_file(included, data, settings, seen, visited)
        if found is not None and identity is not None:
            raise ConfigError([f"dialogue.domain_file {included}: identity is also defined in {path}"], settings.source)
        identity = identity or found
    return identity


def check_domain(domain: DomainSpec, languages: list[str] | tuple[str, ...]) -> None:
    """Every referenced response exists, in every language the brand speaks."""
    problems: list[str] = []
    needed: dict[str, str] = {k: "the engine" for k in BUILTIN_RESPONSES}
    if domain.identity is not None:
        needed[domain.identity.failed] = needed[domain.identity.locked] = "identity"
        for slot in domain.identity.slots:
            needed[slot.prompt] = f"identity slot {slot.name!r}"
            if slot.invalid:
                needed[slot.invalid] = f"identity slot {slot.name!r}"
    for name, flow in domain.flows.items():
        if flow.verify and domain.identity is None:
            problems.append(f"flow {name!r} asks to verify the customer's identity but the domain has no identity step")
        for used in (flow.confirm, flow.success, flow.failure):
            if used:
                needed[used] = f"flow {name!r}"
        for slot in flow.slots:
            if slot.prompt:
                needed[slot.prompt] = f"flow {name!r} slot {slot.name!r}"
            if slot.invalid:
                needed[slot.invalid] = f"flow {name!r} slot {slot.name!r}"
    triggers: dict[str, str] = {}
    for name, flow in domain.flows.items():
        for intent in flow.intents:
            if intent in triggers:
                problems.append(f"intent {intent!r} triggers both flows {triggers[intent]!r} and {name!r}")
            if intent in domain.faq:
                problems.append(f"intent {intent!r} has an FAQ answer and triggers flow {name!r}; keep one")
            triggers[intent] = name
    for key, where in needed.items():
        if key not in domain.responses:
            problems.append(f"response {key!r} (used by {where}) is not defined")
    for kind, table in (("response", domain.responses), ("faq", domain.faq)):
        for key, resp in table.items():
            for lang in languages:
                if lang not in resp.text:
                    problems.append(f"{kind} {key!r} has no text in {lang!r}")
                for b in resp.buttons:
                    if lang not in b.title:
                        problems.append(f"{kind} {key!r} button {b.payload!r} has no title in {lang!r}")
    if problems:
        raise DomainError("the dialogue domain is inconsistent:\n  - " + "\n  - ".join(problems))
