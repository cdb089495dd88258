"""Brute force against the verified lookup: budgets per sender, client address, reference
(escalating) and in total; atomic across replicas on PostgreSQL and on Redis."""

from __future__ import annotations

import datetime as dt
import random
import secrets
import threading
import uuid

import pytest
from sqlalchemy import delete

from core.cases.guard import LookupLimits
from core.cases.rules import LookupDenied, LookupLocked, lookup_status, query_code_hash
from core.db.engine import build_engine, session_factory, session_scope
from core.db.models import Case, ThrottleHit, ThrottleLock, VerificationAttempt
from core.db.throttle import DatabaseThrottle, RedisThrottle
from tests.factories import SALT, make_case

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
LIMITS = LookupLimits()  # the defaults: 5/15 min per sender and reference, 20/h client, 60/h all


def _attempt(session, *, reference, secret, sender, client, now, throttle=None):
    """'denied', 'locked:<scope>' or the state."""
    try:
        status = lookup_status(
            session,
            reference=reference,
            secret=secret,
            sender_hash=sender,
            client_hash=client,
            salt=SALT,
            now=now,
            limits=LIMITS,
            throttle=throttle or DatabaseThrottle(),
        )
    except LookupDenied:
        return "denied"
    except LookupLocked as locked:
        return f"locked:{locked.scope}"
    return status.state


def _with_code(session, reference="VA-2026-000123", code="QW123456"):
    case = make_case(session, reference)
    case.query_code_hash = query_code_hash(SALT, reference, code)
    session.flush()
    return case


def test_rotating_session_ids_are_stopped_by_the_client_budget(db_session):
    _with_code(db_session)
    rng = random.Random(7)
    outcomes = []
    for i in range(300):  # sequential references, random digits, a new session id every time
        outcomes.append(
            _attempt(
                db_session,
                reference=f"VA-2026-{i + 1:06d}",
                secret=f"{rng.randrange(10000):04d}",
                sender=f"fresh-session-{i}",
                client="attacker-address",
                now=NOW + dt.timedelta(seconds=i),
            )
        )
    checked = [o for o in outcomes if not o.startswith("locked")]
    assert len(checked) == LIMITS.client_max_failures  # 20 guesses, then nothing is checked
    assert set(outcomes[len(checked) :]) == {"locked:client"}


def test_rotating_addresses_as_well_are_stopped_by_the_global_budget(db_session):
    _with_code(db_session)
    outcomes = [
        _attempt(
            db_session,
            reference=f"VA-2026-{i + 1:06d}",
            secret="0000",
            sender=f"s{i}",
            client=f"botnet-{i}",
            now=NOW + dt.timedelta(seconds=i),
        )
        for i in range(200)
    ]
    checked = [o for o in outcomes if not o.startswith("locked")]
    assert len(checked) == LIMITS.global_max_failures
    assert outcomes[-1] == "locked:global"


def test_the_owner_of_a_sprayed_reference_still_gets_in_with_the_query_code(db_session):
    _with_code(db_session)
    for i in range(8):  # a spray on one reference from many sessions and addresses
        _attempt(
            db_session,
            reference="VA-2026-000123",
            secret=f"{1000 + i}",
            sender=f"s{i}",
            client=f"c{i}",
            now=NOW + dt.timedelta(seconds=i),
        )
    later = NOW + dt.timedelta(seconds=30)
    owner = {"sender": "owner-session", "client": "owner-home", "now": later}
    assert _attempt(db_session, reference="VA-2026-000123", secret="5678", **owner) == (
        "locked:reference"
    )
    assert _attempt(db_session, reference="VA-2026-000123", secret="QW123456", **owner) == (
        "in_review"
    )


def test_a_reference_lockout_escalates(db_session):
    _with_code(db_session)
    t = NOW

    def spray(start):
        for i in range(5):
            _attempt(
                db_session,
                reference="VA-2026-000123",
                secret="0000",
                sender=f"s-{start:%H%M}-{i}",
                client=f"c-{start:%H%M}-{i}",
                now=start + dt.timedelta(seconds=i),
            )

    spray(t)  # first lockout: one window (15 min)
    owner = {"reference": "VA-2026-000123", "secret": "5678", "sender": "o", "client": "o"}
    assert _attempt(db_session, **owner, now=t + dt.timedelta(minutes=14)) == "locked:reference"
    t2 = t + dt.timedelta(minutes=16)
    spray(t2)  # second lockout: two windows (30 min)
    assert _attempt(db_session, **owner, now=t2 + dt.timedelta(minutes=25)) == "locked:reference"
    assert _attempt(db_session, **owner, now=t2 + dt.timedelta(minutes=31)) == "in_review"


def test_a_success_does_not_count_against_the_budgets(db_session):
    _with_code(db_session)
    for i in range(10):
        assert (
            _attempt(
                db_session,
                reference="VA-2026-000123",
                secret="5678",
                sender="same",
                client="same",
                now=NOW + dt.timedelta(seconds=i),
            )
            == "in_review"
        )


# --- concurrency: several "replicas" (threads with their own connection) at the same instant --


def _race(sessions_factory, reference: str, throttle_factory, n: int = 12) -> list[str]:
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def replica(i: int) -> None:
        throttle = throttle_factory()
        barrier.wait()
        try:
            with session_scope(sessions_factory) as session:
                outcome = _attempt(
                    session,
                    reference=reference,
                    secret="0000",
                    sender=f"racer-{i}",
                    client=f"racer-{i}",
                    now=dt.datetime.now(dt.UTC),
                    throttle=throttle,
                )
        except Exception as exc:  # a database error would be a failed attempt of its own
            outcome = f"error:{type(exc).__name__}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _committed_case(sessions_factory) -> str:
    reference = f"VA-2026-{secrets.randbelow(900000) + 100000:06d}"
    with session_scope(sessions_factory) as session:
        session.execute(delete(Case).where(Case.reference == reference))
        make_case(session, reference)
    return reference


def _cleanup(sessions_factory, reference: str) -> None:
    with session_scope(sessions_factory) as session:
        session.execute(delete(Case).where(Case.reference == reference))
        session.execute(
            delete(VerificationAttempt).where(VerificationAttempt.reference == reference)
        )
        session.execute(delete(ThrottleHit).where(ThrottleHit.key.like(f"%{reference}%")))
        session.execute(delete(ThrottleLock).where(ThrottleLock.key.like(f"%{reference}%")))
        session.execute(delete(ThrottleHit).where(ThrottleHit.key.like("lookup:%:racer-%")))
        session.execute(delete(ThrottleHit).where(ThrottleHit.key == "lookup:global"))


@pytest.mark.pg
def test_concurrent_guesses_on_postgresql_never_exceed_the_reference_budget(pg_url):
    engine = build_engine(pg_url)
    sessions_factory = session_factory(engine)
    reference = _committed_case(sessions_factory)
    try:
        results = _race(sessions_factory, reference, DatabaseThrottle)
    finally:
        _cleanup(sessions_factory, reference)
        engine.dispose()
    assert results.count("denied") == LIMITS.max_failures, results
    assert results.count("locked:reference") == len(results) - LIMITS.max_failures


def test_concurrent_guesses_on_sqlite_never_exceed_the_reference_budget(sqlite_url):
    sessions_factory = session_factory(build_engine(sqlite_url))
    reference = _committed_case(sessions_factory)
    results = _race(sessions_factory, reference, DatabaseThrottle)
    assert results.count("denied") == LIMITS.max_failures, results
    assert results.count("locked:reference") == len(results) - LIMITS.max_failures


@pytest.mark.redis
def test_concurrent_guesses_through_redis_never_exceed_the_reference_budget(redis_url, sqlite_url):
    import redis

    prefix = f"test-throttle-{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(redis_url)
    sessions_factory = session_factory(build_engine(sqlite_url))
    reference = _committed_case(sessions_factory)
    try:
        results = _race(
            sessions_factory,
            reference,
            lambda: RedisThrottle(redis.Redis.from_url(redis_url), prefix=prefix),
        )
        with session_scope(sessions_factory) as session:
            assert session.query(ThrottleHit).count() == 0  # Redis held the budgets
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    assert results.count("denied") == LIMITS.max_failures, results
    assert results.count("locked:reference") == len(results) - LIMITS.max_failures


@pytest.mark.redis
def test_redis_budgets_release_successes_and_escalate_like_the_database(redis_url, db_session):
    import redis

    prefix = f"test-throttle-{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(redis_url)
    throttle = RedisThrottle(client, prefix=prefix)
    _with_code(db_session)
    try:
        owner = {"reference": "VA-2026-000123", "sender": "o", "client": "o", "throttle": throttle}
        for _ in range(3):
            assert _attempt(db_session, secret="5678", now=NOW, **owner) == "in_review"
        for i in range(5):
            _attempt(
                db_session,
                reference="VA-2026-000123",
                secret="0000",
                sender=f"s{i}",
                client=f"c{i}",
                now=NOW + dt.timedelta(seconds=i),
                throttle=throttle,
            )
        later = NOW + dt.timedelta(minutes=10)
        assert _attempt(db_session, secret="5678", now=later, **owner) == "locked:reference"
        assert _attempt(db_session, secret="QW123456", now=later, **owner) == "in_review"
        assert [lock.key for lock in throttle.locks(db_session, later)] == [
            "lookup:ref:VA-2026-000123"
        ]
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
