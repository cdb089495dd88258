"""Demo cases for `make run`: one per case kind (README lists references and digits).

`python -m core.cases seed` is idempotent: existing references are left as they are.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.cases import store
from core.cases.rules import received_case
from core.db.engine import configured_sessions, session_scope
from core.settings import get_settings

# reference, kind, state, applicant (stored masked only), phone last 4 digits
DEMO_QUERY_CODES = {"VA-2026-000123": "QW123456"}  # receipt query code, stored hashed
DEMO_CASES = [
    ("VA-2026-000123", "visa_agency", "in_review", "张伟", "5678"),
    ("LA-2026-000456", "legalization", "completed", "李娜", "4321"),
    ("AP-2026-000789", "apec_card", "submitted", "王强", "2468"),
    ("IN-2026-000321", "invitation", "need_more", "刘洋", "1357"),
    ("RS-2026-000654", "status_confirmation", "received", "陈静", "8642"),
]


def seed_demo_cases(session: Session, salt: str, now: dt.datetime) -> int:
    """Insert the demo cases that are missing; return how many were added."""
    added = 0
    for reference, kind, state, name, last4 in DEMO_CASES:
        if store.find_case(session, reference) is not None:
            continue
        case = store.add_case(
            session,
            received_case(
                reference=reference,
                kind=kind,
                name=name,
                last4=last4,
                salt=salt,
                now=now,
                query_code=DEMO_QUERY_CODES.get(reference),
            ),
        )
        store.add_event(session, case, "received", occurred_at=now - dt.timedelta(days=3))
        if state != "received":
            store.add_event(session, case, state, occurred_at=now - dt.timedelta(days=1))
        added += 1
    return added


def seed() -> int:
    """Seed the configured database; how many demo cases were added."""
    settings = get_settings()
    with session_scope(configured_sessions()) as session:
        return seed_demo_cases(
            session, settings.hash_salt.get_secret_value(), dt.datetime.now(dt.UTC)
        )
