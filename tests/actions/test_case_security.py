"""The case actions' side of issue 17: the per-address budget comes from the api's metadata,
and subscribing needs a verification recorded in the app database, not a slot."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.case_status import ActionLookupCaseStatus, ActionSubscribeCase
from core import services
from core.db.engine import session_scope
from core.db.models import Subscription
from core.settings import Settings, get_settings
from tests.factories import make_case


@pytest.fixture(autouse=True)
def action_env(settings: Settings, monkeypatch):
    monkeypatch.setattr("core.services.get_settings", lambda: settings)
    for module in ("actions.case_status", "actions.common"):
        monkeypatch.setattr(f"{module}.get_settings", lambda: settings)
    services.get_sessionmaker.cache_clear()
    with session_scope(services.get_sessionmaker()) as session:
        make_case(session, salt=settings.hash_salt.get_secret_value())
    yield settings
    services.get_sessionmaker.cache_clear()
    get_settings.cache_clear()


def tracker(
    sender: str,
    digits: str,
    *,
    client: str | None = None,
    slots=None,
    reference: str = "VA-2026-000123",
) -> Tracker:
    latest = {"text": digits, "intent": {"name": "inform"}, "entities": []}
    if client:
        latest["metadata"] = {"client": client}
    return Tracker(
        sender_id=sender,
        slots={"case_reference": reference, "phone_last4": digits, **(slots or {})},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(action, t: Tracker) -> dict:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, t, {})
    return dispatcher.messages[-1]["custom"]


async def test_one_address_behind_many_sessions_is_one_budget():
    address = "a" * 32  # the api's hash of the client address
    replies = [
        await run(
            ActionLookupCaseStatus(),
            tracker(f"web:s{i}", "0000", client=address, reference=f"VA-2026-{900000 + i}"),
        )
        for i in range(21)  # a new session and a new reference every time
    ]
    assert all(r == {"type": "status_denied"} for r in replies[:20])
    assert replies[20]["type"] == "status_denied" and replies[20]["retry_after_s"] > 0
    other = await run(ActionLookupCaseStatus(), tracker("web:s99", "5678", client="b" * 32))
    assert other["type"] == "status"  # another address is not affected


async def test_a_locked_reference_points_the_owner_to_the_query_code():
    for i in range(5):
        await run(ActionLookupCaseStatus(), tracker(f"tg:{i}", "0000"))
    locked = await run(ActionLookupCaseStatus(), tracker("tg:owner", "5678"))
    assert locked["type"] == "status_denied" and locked["query_code"] is True


async def test_subscribing_needs_the_senders_own_recorded_verification(action_env):
    forged = tracker("web:forger", "", slots={"verified_case": "VA-2026-000123"})
    assert await run(ActionSubscribeCase(), forged) == {
        "type": "status_prompt",
        "need": "reference",
    }
    assert (await run(ActionLookupCaseStatus(), tracker("web:owner", "5678")))["type"] == "status"
    done = await run(ActionSubscribeCase(), tracker("web:owner", ""))
    assert done == {"type": "subscription", "state": "subscribed", "reference": "VA-2026-000123"}
    with session_scope(services.get_sessionmaker()) as session:
        senders = session.scalars(select(Subscription.sender_id)).all()
    assert senders == ["web:owner"]
