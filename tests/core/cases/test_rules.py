"""Case references, verified lookup and lockout — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from core.cases.rules import (
    LookupDenied,
    LookupLocked,
    find_last4,
    find_query_code,
    find_reference,
    lookup_status,
    mask_name,
)
from tests.factories import SALT, make_case

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("VA-2026-000123", "VA-2026-000123"),
        ("va 2026 000123", "VA-2026-000123"),
        ("ＶＡ－２０２６－０００１２３", "VA-2026-000123"),
        ("我的编号是la2026000456谢谢", "LA-2026-000456"),
        ("XX-2026-000123", None),
        ("VA-2026-00012", None),
        ("'; DROP TABLE cases; --", None),
    ],
)
def test_find_reference_normalises_case_width_and_spaces(text, expected):
    assert find_reference(text) == expected


def test_find_last4_accepts_only_four_digits():
    assert find_last4("５６７８") == "5678"
    assert find_last4("后四位是5678") == "5678"
    assert find_last4("13800005678") is None


def test_digits_inside_a_reference_are_neither_the_last4_nor_a_query_code():
    assert find_last4("VA-2026-001890") is None and find_query_code("va 2026 001890") is None
    assert find_last4("VA-2026-001890 后四位5678") == "5678"
    assert find_query_code("VA-2026-001890 查询码 AB12CD34") == "AB12CD34"


def test_mask_name_keeps_only_first_character():
    assert mask_name("张伟") == "张*"
    assert mask_name("Li Lei") == "L***"


def _lookup(session, reference="VA-2026-000123", last4="5678", sender="s1", now=NOW):
    return lookup_status(
        session, reference=reference, secret=last4, sender_hash=sender, salt=SALT, now=now
    )


def test_lookup_returns_status_without_personal_data(db_session):
    make_case(db_session)
    status = _lookup(db_session)
    assert status.state == "in_review" and status.kind == "visa_agency"
    payload = status.payload()
    assert payload["reference"] == "VA-2026-000123"
    assert "张" not in status.text() and "5678" not in status.text()
    assert set(payload) == {"reference", "kind", "state", "updated_at", "next_step"}


def test_unknown_reference_and_wrong_digits_are_indistinguishable(db_session):
    make_case(db_session)
    with pytest.raises(LookupDenied) as wrong_digits:
        _lookup(db_session, last4="0000")
    with pytest.raises(LookupDenied) as unknown:
        _lookup(db_session, reference="VA-2026-999999")
    assert type(wrong_digits.value) is type(unknown.value)


def test_lookup_locks_after_five_failures_per_reference(db_session):
    make_case(db_session)
    for i in range(5):
        with pytest.raises(LookupDenied):
            _lookup(
                db_session, last4="0000", sender=f"attacker-{i}", now=NOW + dt.timedelta(seconds=i)
            )
    with pytest.raises(LookupLocked) as locked:
        _lookup(db_session, sender="someone-else", now=NOW + dt.timedelta(seconds=10))
    assert 0 < locked.value.retry_after_s <= 900
    # After the window the right digits work again.
    assert _lookup(db_session, now=NOW + dt.timedelta(minutes=16)).state == "in_review"


def test_lookup_locks_a_sender_trying_many_references(db_session):
    make_case(db_session)
    for i in range(5):
        with pytest.raises(LookupDenied):
            _lookup(db_session, reference=f"VA-2026-90000{i}", sender="bruteforcer")
    with pytest.raises(LookupLocked):
        _lookup(db_session, sender="bruteforcer")
