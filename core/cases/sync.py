"""Keeping cases in step with the office's case systems: validated upserts, idempotent events,
subscriber notifications through the outbox, subscriptions, retention, lockouts for staff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from core.cases import store
from core.cases.rules import (
    KIND_BY_PREFIX,
    KINDS,
    STATES,
    find_reference,
    mask_name,
    phone_hash,
    query_code_hash,
    status_of,
)
from core.db.models import Case, CaseEvent
from core.db.throttle import DatabaseThrottle, Throttle
from core.db.utc import aware
from core.notify import outbox
from core.texts import t

logger = logging.getLogger(__name__)
CLOCK_SKEW_S = 300  # an event's occurred_at may be this far ahead of our clock

KindCode = Literal["visa_agency", "legalization", "apec_card", "invitation", "status_confirmation"]
StateCode = Literal[
    "received", "in_review", "need_more", "submitted", "completed", "closed", "rejected"
]
assert set(get_args(KindCode)) == set(KINDS) and set(get_args(StateCode)) == set(STATES)


def _reference(value: str) -> str:
    reference = find_reference(value)
    if reference is None or len(value.strip()) > 20:
        raise ValueError("reference must look like VA-2026-000123 (prefix VA/LA/AP/IN/RS)")
    return reference


class CaseData(BaseModel):
    """A case as the office's system sends it (PUT body; POST adds the reference)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: KindCode
    state: StateCode
    applicant_name: str = Field(min_length=1, max_length=64, description="Stored masked only")
    phone: str = Field(
        min_length=4,
        max_length=20,
        description="Phone number (only a salted hash of the last 4 digits is kept)",
    )
    query_code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{6,10}$",
        description="Code printed on the receipt (stored hashed)",
    )

    @field_validator("phone")
    @classmethod
    def _phone_digits(cls, value: str) -> str:
        digits = "".join(c for c in value if c.isdigit())
        if len(digits) < 4 or any(c not in "0123456789+- ()" for c in value):
            raise ValueError("phone must contain at least 4 digits and only digits, spaces, +, -")
        return digits


class CaseIn(CaseData):
    """POST body: a new case."""

    reference: str = Field(description="e.g. VA-2026-000123; the prefix must match the kind")

    @field_validator("reference")
    @classmethod
    def _valid_reference(cls, value: str) -> str:
        return _reference(value)

    @model_validator(mode="after")
    def _prefix_matches_kind(self) -> CaseIn:
        if KIND_BY_PREFIX[self.reference[:2]].code != self.kind:
            raise ValueError(
                f"reference prefix {self.reference[:2]} does not match kind {self.kind}"
            )
        return self


class EventIn(BaseModel):
    """A state change of a case; `event_id` makes delivery idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    event_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    state: StateCode
    note: str | None = Field(
        default=None, max_length=500, description="Internal note (not shown to citizens)"
    )
    occurred_at: dt.datetime | None = Field(
        default=None, description="When it happened (UTC if no offset); not in the future"
    )

    @field_validator("occurred_at")
    @classmethod
    def _not_in_the_future(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        value = aware(value)
        if value > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=CLOCK_SKEW_S):
            raise ValueError("occurred_at lies in the future")
        return value


class CaseConflict(Exception):
    """The case exists already (POST) or its kind cannot change."""


class CaseNotFound(Exception):
    """No case with this reference."""


@dataclass(frozen=True)
class UpsertResult:
    case: Case
    created: bool
    changed: bool


def notify_subscribers(session: Session, case: Case, event: CaseEvent) -> int:
    """Queue a notification to every subscriber of the case; return how many."""
    status = status_of(case)
    subscribers = store.case_subscribers(session, case)
    for sender_id in subscribers:
        outbox.enqueue(
            session,
            channel=outbox.channel_of(sender_id),
            sender_id=sender_id,
            kind="notification",
            text=f"{t('reply.case_update')}\n{status.text()}",
            payload={"type": "status", **status.payload()},
            dedupe_key=f"case-event:{event.id}:{sender_id}",
        )
    return len(subscribers)


def _change_state(
    session: Session,
    case: Case,
    state: str,
    now: dt.datetime,
    *,
    event_key: str | None = None,
    note: str | None = None,
) -> CaseEvent:
    event = store.add_event(session, case, state, event_key=event_key, note=note, occurred_at=now)
    case.closed_at = now if STATES[state].closes else None
    notify_subscribers(session, case, event)
    return event


def create_case(session: Session, data: CaseIn, salt: str, now: dt.datetime) -> Case:
    """Insert a new case; CaseConflict when the reference exists."""
    if store.find_case(session, data.reference) is not None:
        raise CaseConflict(data.reference)
    return upsert_case(session, data.reference, data, salt, now).case


def upsert_case(
    session: Session, reference: str, data: CaseData, salt: str, now: dt.datetime
) -> UpsertResult:
    """Create or update a case; a state change is recorded as an event and notified."""
    reference = _reference(reference)
    if KIND_BY_PREFIX[reference[:2]].code != data.kind:
        raise CaseConflict(f"reference prefix {reference[:2]} does not match kind {data.kind}")
    fields = {
        "applicant_masked": mask_name(data.applicant_name),
        "phone_hash": phone_hash(salt, reference, data.phone[-4:]),
        "query_code_hash": query_code_hash(salt, reference, data.query_code)
        if data.query_code
        else None,
    }
    case = store.find_case(session, reference)
    if case is None:
        case = store.add_case(
            session,
            Case(
                reference=reference,
                kind=data.kind,
                state=data.state,
                created_at=now,
                updated_at=now,
                **fields,
            ),
        )
        _change_state(session, case, data.state, now)
        return UpsertResult(case, created=True, changed=True)
    if case.kind != data.kind:
        raise CaseConflict(f"{reference} is a {case.kind} case; its kind cannot change")
    changed = any(getattr(case, name) != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(case, name, value)
    if case.state != data.state:
        _change_state(session, case, data.state, now)
        changed = True
    session.flush()
    return UpsertResult(case, created=False, changed=changed)


def event_key(reference: str, event_id: str) -> str:
    """The idempotency key stored for an event: fixed length, whatever the event id."""
    return hashlib.sha256(f"{reference}:{event_id}".encode()).hexdigest()


def add_case_event(
    session: Session, reference: str, data: EventIn, now: dt.datetime
) -> tuple[CaseEvent, bool]:
    """Record an event once per event_id; returns (event, created)."""
    case = store.find_case(session, _reference(reference))
    if case is None:
        raise CaseNotFound(reference)
    key = event_key(case.reference, data.event_id)
    existing = store.find_event(session, key)
    if existing is not None:
        return existing, False
    occurred = aware(data.occurred_at) if data.occurred_at else now
    return _change_state(session, case, data.state, occurred, event_key=key, note=data.note), True


def subscribe(session: Session, sender_id: str, reference: str) -> bool:
    """Subscribe the sender to a case's changes; False if already subscribed or no such case."""
    case = store.find_case(session, reference)
    return case is not None and store.add_subscription(session, sender_id, case)


def unsubscribe_all(session: Session, sender_id: str) -> int:
    """Remove every case subscription of the sender; return how many."""
    return store.delete_subscriptions(session, sender_id)


def purge_closed(session: Session, now: dt.datetime, days: int) -> dict[str, int]:
    """Delete cases closed more than `days` ago, with their events and subscriptions."""
    return store.delete_closed_before(session, now - dt.timedelta(days=days))


@dataclass(frozen=True)
class Lockout:
    subject: str  # a reference, or "sender:<hash prefix>"
    failures: int
    until: dt.datetime


def active_lockouts(
    session: Session,
    now: dt.datetime,
    *,
    max_failures: int = 5,
    window_s: int = 900,
    throttle: Throttle | None = None,
) -> list[Lockout]:
    """References and senders currently locked out (for staff): from the recorded failures,
    and the escalated reference locks of the lookup budgets (core/cases/guard.py)."""
    since = now - dt.timedelta(seconds=window_s)
    found: dict[str, Lockout] = {}
    for kind, subject, count, oldest in store.failures_at_least(session, since, max_failures):
        name = subject if kind == "reference" else f"sender:{subject[:12]}"
        found[name] = Lockout(name, count, aware(oldest) + dt.timedelta(seconds=window_s))
    for lock in (throttle or DatabaseThrottle()).locks(session, now):
        if lock.key.startswith("lookup:ref:"):
            name = lock.key.removeprefix("lookup:ref:")
            failures = found[name].failures if name in found else max_failures
            until = max(lock.until, found[name].until) if name in found else lock.until
            found[name] = Lockout(name, failures, until)
        elif lock.key == "lookup:global":
            found["*"] = Lockout("*", max_failures, lock.until)
    return sorted(found.values(), key=lambda lock: lock.until)
