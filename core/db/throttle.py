"""Sliding-window failure budgets shared by every replica: in Redis when REDIS_URL is set,
otherwise in the app database.

A caller *reserves* one hit in each of several budgets before the work it guards (checking a
verification secret, a password) and, when the work succeeds, *releases* it: the hit then does
not count. Check and record are one atomic step — a Lua script in Redis; in the database a lock
(PostgreSQL advisory transaction locks per budget; SQLite's single writer, taken by the insert
that comes first) held until the caller's transaction ends — so two replicas can never both see
the last free slot of a budget. A refused reservation records nothing.

Budgets marked `escalating` also lock their subject once they run out, for the window doubled at
each lockout (up to `max_lock_s`); the level falls back to 0 after `max_lock_s` without a lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from core.db.engine import affected_rows
from core.db.models import ThrottleHit, ThrottleLock
from core.db.utc import aware


@dataclass(frozen=True)
class Budget:
    """At most `limit` hits under `key` within `window_s` seconds."""

    key: str
    limit: int
    window_s: int
    escalating: bool = False
    max_lock_s: int = 86400


@dataclass(frozen=True)
class Reservation:
    """The hits of one reserved attempt (`token`), or why it was refused."""

    token: str | None
    refused_by: Budget | None = None
    retry_after_s: int = 0

    @property
    def ok(self) -> bool:
        """True when every budget had room (the hit now counts until released)."""
        return self.refused_by is None


@dataclass(frozen=True)
class Lock:
    """A budget that is exhausted or an escalated lock, for staff."""

    key: str
    until: dt.datetime
    level: int | None = None


class Throttle(Protocol):
    """What the guards need; `session` is the caller's transaction (unused by Redis)."""

    def reserve(self, session: Session, budgets: Sequence[Budget], now: dt.datetime) -> Reservation:
        """Atomically: refuse if a budget is full or locked, else count one hit in each."""
        ...

    def release(self, session: Session, reservation: Reservation) -> None:
        """The guarded work succeeded: its hits stop counting."""
        ...

    def escalate(self, session: Session, budget: Budget, now: dt.datetime) -> None:
        """After a failure: lock the budget's subject if it is full (escalating budgets)."""
        ...

    def locks(self, session: Session, now: dt.datetime) -> list[Lock]:
        """Escalated locks in force."""
        ...

    def clear(self, session: Session, key: str) -> None:
        """Forget a budget's hits and lock (an admin lifting a lockout)."""
        ...


def _retry(oldest: dt.datetime, window_s: int, now: dt.datetime) -> int:
    return max(1, int((oldest + dt.timedelta(seconds=window_s) - now).total_seconds()) + 1)


def _lock_seconds(budget: Budget, level: int) -> int:
    return int(min(budget.window_s * (2**level), budget.max_lock_s))


def _advisory_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class DatabaseThrottle:
    """Budgets in `throttle_hits` / `throttle_locks` of the app database."""

    def _lock(self, session: Session, budgets: Sequence[Budget]) -> None:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            for key in sorted({b.key for b in budgets}):  # one order: no deadlocks
                session.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _advisory_id(key)}
                )

    def reserve(self, session: Session, budgets: Sequence[Budget], now: dt.datetime) -> Reservation:
        token = secrets.token_hex(16)
        self._lock(session, budgets)
        # The insert comes first: on SQLite it takes the write lock for the whole transaction.
        session.add_all(ThrottleHit(key=b.key, token=token, at=now) for b in budgets)
        session.flush()
        for budget in budgets:
            refusal = self._refusal(session, budget, now)
            if refusal is not None:
                session.execute(delete(ThrottleHit).where(ThrottleHit.token == token))
                session.flush()
                return Reservation(None, budget, refusal)
        return Reservation(token)

    def _refusal(self, session: Session, budget: Budget, now: dt.datetime) -> int | None:
        if budget.escalating:
            lock = session.get(ThrottleLock, budget.key)
            if lock is not None and aware(lock.locked_until) > now:
                return max(1, int((aware(lock.locked_until) - now).total_seconds()) + 1)
        since = now - dt.timedelta(seconds=budget.window_s)
        count, oldest = session.execute(
            select(func.count(), func.min(ThrottleHit.at)).where(
                ThrottleHit.key == budget.key, ThrottleHit.at > since
            )
        ).one()
        if count > budget.limit:  # includes the hit just added
            return _retry(aware(oldest), budget.window_s, now)
        return None

    def release(self, session: Session, reservation: Reservation) -> None:
        if reservation.token:
            session.execute(delete(ThrottleHit).where(ThrottleHit.token == reservation.token))
            session.flush()

    def escalate(self, session: Session, budget: Budget, now: dt.datetime) -> None:
        if not budget.escalating:
            return
        self._lock(session, [budget])
        since = now - dt.timedelta(seconds=budget.window_s)
        count = session.scalar(
            select(func.count()).where(ThrottleHit.key == budget.key, ThrottleHit.at > since)
        )
        if (count or 0) < budget.limit:
            return
        lock = session.get(ThrottleLock, budget.key)
        if lock is None:
            lock = ThrottleLock(key=budget.key, level=0, locked_until=now, updated_at=now)
            session.add(lock)
        elif aware(lock.locked_until) > now:
            return  # already locked (another replica escalated first)
        elif aware(lock.locked_until) + dt.timedelta(seconds=budget.max_lock_s) < now:
            lock.level = 0  # quiet for long enough: start again at one window
        lock.locked_until = now + dt.timedelta(seconds=_lock_seconds(budget, lock.level))
        lock.level += 1
        lock.updated_at = now
        session.flush()

    def locks(self, session: Session, now: dt.datetime) -> list[Lock]:
        rows = session.scalars(select(ThrottleLock).where(ThrottleLock.locked_until > now))
        return [Lock(r.key, aware(r.locked_until), r.level) for r in rows]

    def clear(self, session: Session, key: str) -> None:
        session.execute(delete(ThrottleHit).where(ThrottleHit.key == key))
        session.execute(delete(ThrottleLock).where(ThrottleLock.key == key))
        session.flush()


# KEYS: the budgets' hit sets, then their lock hashes. ARGV: now (ms), member, then per budget
# limit, window (ms), escalating (0/1). Returns {index of the refusing budget or 0, retry ms}.
_RESERVE = """
local n = #KEYS / 2
local now = tonumber(ARGV[1])
for i = 1, n do
  local limit = tonumber(ARGV[3 * i])
  local window = tonumber(ARGV[3 * i + 1])
  if ARGV[3 * i + 2] == '1' then
    local untl = tonumber(redis.call('HGET', KEYS[n + i], 'until') or '0')
    if untl > now then return {i, untl - now} end
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    local oldest = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2])
    return {i, oldest + window - now}
  end
end
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[3 * i + 1]))
end
return {0, 0}
"""
# KEYS: hit set, lock hash. ARGV: now, limit, window, max lock (all ms).
_ESCALATE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
local maxlock = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then return 0 end
local untl = tonumber(redis.call('HGET', KEYS[2], 'until') or '0')
if untl > now then return 0 end
local level = tonumber(redis.call('HGET', KEYS[2], 'level') or '0')
if untl + maxlock < now then level = 0 end
local span = math.min(window * math.pow(2, level), maxlock)
redis.call('HSET', KEYS[2], 'until', now + span, 'level', level + 1)
redis.call('PEXPIRE', KEYS[2], math.floor(span + maxlock))
return 1
"""


class RedisThrottle:
    """Budgets as Redis sorted sets (one member per hit) and lock hashes, under `prefix`."""

    def __init__(self, client: Any, prefix: str = "qiaowu:throttle:"):
        self.client = client
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._escalate = client.register_script(_ESCALATE)

    def _hits(self, key: str) -> str:
        return f"{self.prefix}hits:{key}"

    def _lockkey(self, key: str) -> str:
        return f"{self.prefix}lock:{key}"

    def reserve(self, session: Session, budgets: Sequence[Budget], now: dt.datetime) -> Reservation:
        member = secrets.token_hex(16)
        args: list[Any] = [int(now.timestamp() * 1000), member]
        for b in budgets:
            args += [b.limit, b.window_s * 1000, 1 if b.escalating else 0]
        keys = [self._hits(b.key) for b in budgets] + [self._lockkey(b.key) for b in budgets]
        index, retry_ms = self._reserve(keys=keys, args=args)
        if int(index):
            retry = max(1, int(float(retry_ms) / 1000) + 1)
            return Reservation(None, budgets[int(index) - 1], retry)
        return Reservation(f"{member}|" + "\x1f".join(b.key for b in budgets))

    def release(self, session: Session, reservation: Reservation) -> None:
        if not reservation.token:
            return
        member, _, keys = reservation.token.partition("|")
        pipe = self.client.pipeline()
        for key in keys.split("\x1f"):
            pipe.zrem(self._hits(key), member)
        pipe.execute()

    def escalate(self, session: Session, budget: Budget, now: dt.datetime) -> None:
        if budget.escalating:
            self._escalate(
                keys=[self._hits(budget.key), self._lockkey(budget.key)],
                args=[
                    int(now.timestamp() * 1000),
                    budget.limit,
                    budget.window_s * 1000,
                    budget.max_lock_s * 1000,
                ],
            )

    def locks(self, session: Session, now: dt.datetime) -> list[Lock]:
        found = []
        now_ms = now.timestamp() * 1000
        for name in self.client.scan_iter(match=f"{self.prefix}lock:*", count=500):
            key = name.decode() if isinstance(name, bytes) else str(name)
            until, level = self.client.hmget(key, "until", "level")
            if until is not None and float(until) > now_ms:
                found.append(
                    Lock(
                        key.removeprefix(f"{self.prefix}lock:"),
                        dt.datetime.fromtimestamp(float(until) / 1000, dt.UTC),
                        int(float(level or 0)),
                    )
                )
        return found

    def clear(self, session: Session, key: str) -> None:
        self.client.delete(self._hits(key), self._lockkey(key))


@lru_cache(maxsize=4)
def _redis_throttle(url: str) -> RedisThrottle:
    import redis  # only needed when REDIS_URL is set

    return RedisThrottle(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))


def get_throttle(redis_url: str | None) -> Throttle:
    """The process's throttle: Redis when a URL is given, else the app database."""
    return _redis_throttle(redis_url) if redis_url else DatabaseThrottle()


def purge_hits(session: Session, before: dt.datetime) -> int:
    """Delete database hits and ended locks older than `before` (retention)."""
    hits = affected_rows(session, delete(ThrottleHit).where(ThrottleHit.at < before))
    locks = affected_rows(session, delete(ThrottleLock).where(ThrottleLock.locked_until < before))
    return hits + locks
