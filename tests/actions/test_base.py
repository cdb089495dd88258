"""The shared action base: an emergency in any message is answered first; the language is chosen
once (the relay's metadata or the message's script)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

import actions
from actions.base import CitizenAction, language_of
from actions.case_status import ActionLookupCaseStatus, ActionSubscribeCase, ActionUnsubscribeCase
from actions.handoff import ActionOpenHandoff
from actions.kb_answer import ActionAnswerKb, ActionHandleFallback, ActionRefuseOutOfScope


def tracker(text: str, metadata: dict[str, Any] | None = None) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "web:base-test",
            "slots": {},
            "latest_message": {"text": text, "intent": {"name": "ask_faq"}, "metadata": metadata},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        }
    )


class Echo(CitizenAction):
    def name(self) -> str:
        return "action_echo_test"

    async def act(self, dispatcher, tracker, domain, lang):  # type: ignore[no-untyped-def]
        dispatcher.utter_message(text=lang, json_message={"type": "echo"})
        return []


def test_language_follows_the_relay_then_the_script():
    assert language_of(tracker("附加证明书怎么办理？")) == "zh"
    assert language_of(tracker("What is an apostille?")) == "en"
    assert language_of(tracker("VA-2026-000123", {"lang": "en"})) == "en"


async def test_an_emergency_is_answered_before_the_action(sessions, monkeypatch):
    monkeypatch.setattr("actions.base.get_sessionmaker", lambda: sessions)
    dispatcher = CollectingDispatcher()
    await Echo().run(dispatcher, tracker("我的护照在国外被偷了，转人工"), {})
    assert [m["custom"]["type"] for m in dispatcher.messages] == ["emergency"]
    assert dispatcher.messages[0]["custom"]["kind"] == "passport_lost"


async def test_without_an_emergency_the_action_runs_in_the_citizens_language():
    dispatcher = CollectingDispatcher()
    await Echo().run(dispatcher, tracker("How do I get an apostille?"), {})
    assert [(m["text"], m["custom"]["type"]) for m in dispatcher.messages] == [("en", "echo")]


@pytest.mark.parametrize(
    "action",
    [
        ActionOpenHandoff,
        ActionAnswerKb,
        ActionHandleFallback,
        ActionRefuseOutOfScope,
        ActionLookupCaseStatus,
        ActionSubscribeCase,
        ActionUnsubscribeCase,
    ],
)
def test_citizen_actions_use_the_base(action):
    assert issubclass(action, CitizenAction)


@pytest.mark.parametrize("action", [ActionAnswerKb, ActionHandleFallback, ActionRefuseOutOfScope])
async def test_kb_actions_answer_an_emergency_first(action, sessions, monkeypatch):
    monkeypatch.setattr("actions.base.get_sessionmaker", lambda: sessions)
    dispatcher = CollectingDispatcher()
    await action().run(dispatcher, tracker("我的护照在国外被偷了，怎么补办"), {})
    assert [m["custom"]["type"] for m in dispatcher.messages] == ["emergency"]


async def test_case_actions_answer_in_the_citizens_language(sessions, monkeypatch):
    monkeypatch.setattr("actions.case_status.get_sessionmaker", lambda: sessions)
    dispatcher = CollectingDispatcher()
    await ActionUnsubscribeCase().run(dispatcher, tracker("stop notifications"), {})
    assert [m["text"] for m in dispatcher.messages] == [
        "You are not subscribed to any progress notifications."
    ]


def test_rasa_sdk_registers_the_actions_but_not_the_abstract_base():
    executor = ActionExecutor()
    executor.register_package(actions)
    assert (
        "action_open_handoff" in executor.actions and "action_handle_emergency" in executor.actions
    )
