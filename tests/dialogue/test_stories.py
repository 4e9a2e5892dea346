"""Conversation tests as data: every story in ``stories/*.yml`` runs against real Redis and SQLite.

A story is a list of steps::

    - user: "I want to change my seat on X7K9QZ"   # or  press: /affirm  (a button payload)
      bot: ["Which seat"]          # each must appear in the replies (case-insensitive)
      not_bot: ["Sorry"]           # none of these may appear
      buttons: ["Yes", "No"]       # titles of the last reply's buttons, in order
      state: {flow: change_seat, slots: {seat: 15C}, language: en, mode: bot, pending: null}
      silent: true                 # the bot sends nothing (a person is handling it)

A step may send something other than text (what the connectors give for it)::

    - attach: sticker              # a message with one attachment of this kind and ``user`` as caption
    - react: "👍"                   # an emoji reaction to the bot's last message (kind "event")
      recorded: true               # the inbound is in the transcript (with ``attach`` or ``react``)

A story may ask for consent and feedback (the runtime then carries the privacy step, with the
shipped phrases and the default consent wordings) and check the consents on record::

    feedback: {ask_consent: first_contact}   # bots.settings.feedback.FeedbackSettings fields
    steps:
      - user: "I agree to share feedback"
        consent: {feedback_analytics: granted}  # or refused (refused or withdrawn), null (never answered)
        state: {privacy: {consent: "yes"}}   # privacy: only the keys given are compared

A story may also set who is there to take a handoff (default: staff always there)::

    handoff: {}                    # the handoff settings (``{}``: config defaults, business
                                   #   hours in brand.timezone, a signed-in agent needed)
    at: "2026-03-02T10:00:00+00:00"   # the runtime's clock (fixed)
    agents_online: 1               # staff heartbeats on the console presence set

Each story gets a fresh conversation and a freshly seeded demo database. Every
story runs twice: with the keyword test NLU (tests/dialogue/rules_nlu.py: the
dialogue alone) and with the real NLU trained once per session from
bots/airline/nlu (the whole bot as a customer meets it). The held-out stories
(``unseen_*.yml``: phrasings kept out of the NLU data on purpose) run only with
the trained NLU, since the keyword NLU is not meant to read free wording.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bots.dialogue.build import build_privacy_step
from bots.dialogue.privacy_step import customer_of
from bots.dialogue.runtime import ConversationRuntime
from bots.settings.feedback import FeedbackSettings
from bots.settings.privacy import PrivacySettings
from bots.stores.models import messages
from connectors.base import Attachment, Inbound

from .conftest import inbound

pytestmark = pytest.mark.integration

STORIES = Path(__file__).resolve().parent / "stories"


class StoryLoader(yaml.SafeLoader):
    """YAML without the 1.1 booleans: a customer's ``yes``/``no``/``on`` stay text."""


StoryLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_stories(held_out: bool = True) -> list[Any]:
    """Every story; ``held_out=False`` leaves out ``unseen_*.yml`` (phrasings only a trained NLU can read)."""
    params = []
    for file in sorted(STORIES.glob("*.yml")):
        if not held_out and file.stem.startswith("unseen_"):
            continue
        for story in yaml.load(file.read_text(encoding="utf-8"), Loader=StoryLoader):
            params.append(pytest.param(story, id=f"{file.stem}:{story['name']}"))
    return params


def _check_state(state: Any, want: dict[str, Any], where: str) -> None:
    for key, value in want.items():
        if key == "flow":
            got = state.flow.name if state.flow else None
        elif key == "slots":
            got = {k: (state.flow.slots.get(k) if state.flow else None) for k in value}
        elif key == "stack":
            got = [f.name for f in state.stack]
        elif key == "privacy":
            got = {k: state.privacy.get(k) for k in value}
        else:
            got = getattr(state, key)
        assert got == value, f"{where}: state.{key} is {got!r}, expected {value!r}"


def story_runtime(
    make_runtime: Any, airline_settings: Any, story: dict[str, Any], nlu: Any = None
) -> ConversationRuntime:
    """A runtime set up as the story says (handoff settings, clock, agents online)."""
    clock: Callable[[], datetime] | None = None
    if "at" in story:
        at = datetime.fromisoformat(str(story["at"]))

        def clock() -> datetime:
            return at

    rt = make_runtime(nlu=nlu, settings=airline_settings(handoff=story.get("handoff")), clock=clock)
    for i in range(int(story.get("agents_online", 0))):
        rt.presence.beat(f"story-agent-{i}")
    if "feedback" in story:
        rt.privacy = build_privacy_step(
            rt.settings,
            rt.redis,
            rt.engine,
            rt.domain,
            privacy=PrivacySettings(analytics_secret="story-analytics-secret-0123456789"),
            feedback=FeedbackSettings(**story["feedback"]),
            clock=clock,
        )
    return rt


def run_story(runtime: ConversationRuntime, story: dict[str, Any]) -> None:
    conv = f"story:{story['name']}"
    transcript: list[str] = []
    for i, step in enumerate(story["steps"], 1):
        text = step.get("user", "")
        payload = step.get("press")
        sent = _step_inbound(step, conv, f"s{i}")
        result = runtime.handle(sent)
        replies = [o.text for o in result.outbounds]
        shown = text or payload or f"[{step.get('attach') or 'reaction ' + str(step.get('react'))}]"
        transcript.append(f"  > {shown}\n" + "".join(f"  < {r}\n" for r in replies))
        where = f"story {story['name']!r} step {i} ({shown!r})\n" + "".join(transcript)
        joined = "\n".join(replies).lower()
        for want in step.get("bot", []):
            assert str(want).lower() in joined, f"{where}: expected {want!r} in the replies"
        for unwanted in step.get("not_bot", []):
            assert str(unwanted).lower() not in joined, f"{where}: {unwanted!r} should not be in the replies"
        if "buttons" in step:
            titles = [q.title for q in result.outbounds[-1].quick_replies] if result.outbounds else []
            assert titles == step["buttons"], f"{where}: buttons {titles}, expected {step['buttons']}"
        if step.get("silent"):
            assert replies == [], f"{where}: expected no reply"
        if "state" in step:
            _check_state(result.state, step["state"], where)
        if step.get("recorded"):
            with runtime.engine.connect() as c:
                row = c.execute(
                    select(messages.c.data).where(
                        messages.c.conversation_id == conv,
                        messages.c.direction == "in",
                        messages.c.message_id == sent.message_id,
                    )
                ).first()
            assert row is not None, f"{where}: the inbound is not in the transcript"
            if sent.attachments:
                assert [a["kind"] for a in row.data["attachments"]] == [a.kind for a in sent.attachments], where
        if "consent" in step:
            assert runtime.privacy is not None, f"{where}: a consent check needs `feedback:` in the story"
            current = runtime.privacy.consents.current(customer_of("story", conv))
            said = {True: "granted", False: "refused"}
            got = {p: (said[current[p].granted] if p in current else None) for p in step["consent"]}
            assert got == step["consent"], f"{where}: consents {got}, expected {step['consent']}"


def _step_inbound(step: dict[str, Any], conv: str, message_id: str) -> Inbound:
    """The step's inbound: text or a button, a message with an attachment, or a reaction."""
    text = str(step.get("user", ""))
    base = inbound(text, conv=conv, message_id=message_id, payload=step.get("press"))
    if "react" in step:
        raw = {"reacted_to": "bot-last", "action": "react"}
        return replace(base, text=str(step["react"]), kind="event", event="reaction", raw=raw)
    if "attach" in step:
        kind = step["attach"]
        att = Attachment(kind, latitude=52.3, longitude=4.76) if kind == "location" else Attachment(kind, url="x")
        return replace(base, attachments=(att,))
    return base


@pytest.mark.parametrize("story", load_stories(held_out=False))
def test_story_with_keyword_nlu(story: dict[str, Any], make_runtime, airline_settings) -> None:
    run_story(story_runtime(make_runtime, airline_settings, story), story)


@pytest.mark.parametrize("story", load_stories())
def test_story_with_trained_nlu(story: dict[str, Any], make_runtime, airline_settings, trained_nlu) -> None:
    run_story(story_runtime(make_runtime, airline_settings, story, trained_nlu), story)


def test_held_out_story_lines_are_not_in_the_nlu_training_data() -> None:
    """``unseen_*.yml`` measure the bot on wording it never saw: none of their lines may be an NLU example."""
    from nlu.data import load_examples

    data = Path(__file__).resolve().parents[2] / "bots" / "airline" / "nlu"
    known = {e.text.strip().lower() for lang in ("en", "fr") for e in load_examples(data, lang)}
    leaked = [
        step["user"]
        for file in sorted(STORIES.glob("unseen_*.yml"))
        for story in yaml.load(file.read_text(encoding="utf-8"), Loader=StoryLoader)
        for step in story["steps"]
        if "user" in step and len(str(step["user"]).split()) > 2 and str(step["user"]).strip().lower() in known
    ]
    assert leaked == []
