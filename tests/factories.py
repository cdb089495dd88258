"""Test data builders."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from core.cases import store
from core.cases.rules import received_case
from core.db.models import Case

SALT = "test-salt"


def make_case(
    session: Session,
    reference: str = "VA-2026-000123",
    *,
    kind: str = "visa_agency",
    state: str = "in_review",
    name: str = "张伟",
    last4: str = "5678",
    salt: str = SALT,
) -> Case:
    """Insert a case with an event history."""
    now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    case = store.add_case(
        session,
        received_case(reference=reference, kind=kind, name=name, last4=last4, salt=salt, now=now),
    )
    store.add_event(session, case, state, occurred_at=now)
    return case


def make_tracker(
    text: str = "",
    *,
    sender_id: str = "test-user",
    intent: str = "faq",
    confidence: float = 0.95,
    kb_id: str | None = None,
    kb_confidence: float = 0.95,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A tracker whose latest message looks like Rasa's parse result."""
    latest: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
    }
    if kb_id is not None:
        latest["response_selector"] = {
            "faq": {
                "response": {"intent_response_key": f"faq/{kb_id}", "confidence": kb_confidence}
            }
        }
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


WIDGET_SECRET = "test-widget-session-secret"  # the `settings` fixture signs widget ids with it


def widget_session() -> str:
    """A widget session id as POST /api/v1/sessions issues it (for apps built from `settings`)."""
    from core.conversation.widget_sessions import mint

    return mint(WIDGET_SECRET, int(time.time()))


def shows(secret: str, text: str) -> bool:
    """Whether ``secret`` appears in ``text`` as a token of its own, not inside a longer run of
    letters or digits (a timestamp such as 1796199258.5678034 or a random hex id is no leak)."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text) is not None
