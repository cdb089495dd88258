"""CSV import (all or nothing), retention and lockout listing — SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.cases.importer import ImportRejected, import_cases, parse_csv
from core.cases.rules import LookupDenied, lookup_status
from core.cases.store import record_attempt
from core.cases.sync import (
    EventIn,
    active_lockouts,
    add_case_event,
    purge_closed,
    subscribe,
    unsubscribe_all,
)
from core.db.models import Case, CaseEvent, Outbox, Subscription

SALT = "test-salt"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
GOOD = """reference,kind,state,applicant_name,phone,query_code
VA-2026-100001,visa_agency,received,张三,13800001111,
LA-2026-100002,legalization,completed,李四,+86 139 0000 2222,AB12CD34
"""


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_import_is_all_or_nothing_with_a_row_report(db_session):
    bad = (
        GOOD + "XX-1,visa_agency,received,王五,1234,\nAP-2026-100004,apec_card,flying,赵六,5678,\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        parse_csv(bad)
    messages = [str(e) for e in rejected.value.errors]
    assert any(m.startswith("row 3: reference") for m in messages)
    assert any(m.startswith("row 4: state") for m in messages)
    assert count(db_session, Case) == 0


def test_reimporting_the_same_file_changes_nothing(db_session):
    first = import_cases(db_session, parse_csv(GOOD), SALT, NOW)
    again = import_cases(db_session, parse_csv(GOOD), SALT, NOW)
    assert first == {"created": 2, "updated": 0, "unchanged": 0}
    assert again == {"created": 0, "updated": 0, "unchanged": 2}
    assert count(db_session, CaseEvent) == 2


def test_duplicate_references_and_missing_columns_are_reported():
    with pytest.raises(ImportRejected) as dup:
        parse_csv(GOOD + "VA-2026-100001,visa_agency,received,张三,13800001111,\n")
    assert "duplicate of row 1" in str(dup.value.errors[0])
    with pytest.raises(ImportRejected) as header:
        parse_csv("reference,kind\nVA-2026-100001,visa_agency\n")
    assert header.value.errors[0].field == "header"


def test_query_code_verifies_like_the_phone_digits(db_session):
    import_cases(db_session, parse_csv(GOOD), SALT, NOW)
    status = lookup_status(
        db_session,
        reference="LA-2026-100002",
        secret="AB12CD34",
        sender_hash="s",
        salt=SALT,
        now=NOW,
    )
    assert status.state == "completed"
    assert (
        lookup_status(
            db_session,
            reference="LA-2026-100002",
            secret="2222",
            sender_hash="s",
            salt=SALT,
            now=NOW,
        ).kind
        == "legalization"
    )
    with pytest.raises(LookupDenied):
        lookup_status(
            db_session,
            reference="VA-2026-100001",
            secret="AB12CD34",
            sender_hash="s",
            salt=SALT,
            now=NOW,
        )


def test_purge_removes_only_cases_closed_before_the_retention_period(db_session):
    import_cases(db_session, parse_csv(GOOD), SALT, NOW - dt.timedelta(days=400))
    add_case_event(
        db_session,
        "VA-2026-100001",
        EventIn(event_id="c1", state="closed"),
        NOW - dt.timedelta(days=200),
    )
    add_case_event(
        db_session,
        "LA-2026-100002",
        EventIn(event_id="c2", state="closed"),
        NOW - dt.timedelta(days=10),
    )
    counts = purge_closed(db_session, NOW, days=180)
    assert counts == {"cases": 1, "events": 2}
    assert db_session.scalars(select(Case.reference)).all() == ["LA-2026-100002"]


def test_subscribe_and_unsubscribe_in_one_call(db_session):
    import_cases(db_session, parse_csv(GOOD), SALT, NOW)
    assert subscribe(db_session, "web:s1", "VA-2026-100001") is True
    assert subscribe(db_session, "web:s1", "VA-2026-100001") is False
    assert subscribe(db_session, "web:s1", "VA-2026-999999") is False
    add_case_event(db_session, "VA-2026-100001", EventIn(event_id="e9", state="in_review"), NOW)
    assert [r.channel for r in db_session.scalars(select(Outbox))] == ["web"]
    assert unsubscribe_all(db_session, "web:s1") == 1
    assert count(db_session, Subscription) == 0


def test_lockouts_are_listed_for_staff(db_session):
    for i in range(5):
        record_attempt(db_session, "VA-2026-100001", f"sender-{i}", False, NOW)
    locks = active_lockouts(db_session, NOW + dt.timedelta(minutes=1))
    assert [(lock.subject, lock.failures) for lock in locks] == [("VA-2026-100001", 5)]
    assert active_lockouts(db_session, NOW + dt.timedelta(minutes=16)) == []
