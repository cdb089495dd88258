"""Case status: reference formats, states in plain Chinese, verified lookup with lockout."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.cases import store
from core.cases.guard import LookupLimits, lookup_budgets, scope_of
from core.db.models import Case
from core.db.throttle import DatabaseThrottle, Throttle
from core.hashing import salted_hash
from core.texts import t


@dataclass(frozen=True)
class CaseKind:
    code: str
    prefix: str
    label: str
    label_en: str


KINDS = {
    k.code: k
    for k in (
        CaseKind("visa_agency", "VA", "因私签证代办", "Private visa agency"),
        CaseKind("legalization", "LA", "领事认证/附加证明书", "Consular legalization / apostille"),
        CaseKind("apec_card", "AP", "APEC商务旅行卡", "APEC Business Travel Card"),
        CaseKind("invitation", "IN", "外国人来华邀请", "Invitation of foreign visitors"),
        CaseKind(
            "status_confirmation",
            "RS",
            "华侨回国定居/归侨侨眷身份证明",
            "Resettlement / returnee status confirmation",
        ),
    )
}
KIND_BY_PREFIX = {k.prefix: k for k in KINDS.values()}


@dataclass(frozen=True)
class StateInfo:
    label: str
    label_en: str
    next_step: str
    next_step_en: str
    closes: bool = False  # the case is finished in this state (retention counts from here)


STATES: dict[str, StateInfo] = {
    "received": StateInfo(
        "已受理",
        "Received",
        "材料已收到，请耐心等待审核，无需重复提交。",
        "Your documents were received; please wait for the review.",
    ),
    "in_review": StateInfo(
        "审核中",
        "Under review",
        "正在审核，如需补充材料工作人员会与您联系。",
        "Under review; staff will contact you if anything is missing.",
    ),
    "need_more": StateInfo(
        "材料需补正",
        "More documents needed",
        "请按补正通知补齐材料后交回窗口；如未收到通知，请在工作时间联系办公室。",
        "Please bring the missing documents listed in the notice to the counter.",
    ),
    "submitted": StateInfo(
        "已送交办理机关",
        "Submitted to the issuing authority",
        "已送交有关机关办理，结果以办理机关决定为准，请耐心等待。",
        "Submitted to the competent authority, whose decision is final.",
    ),
    "completed": StateInfo(
        "已办结，待领取",
        "Ready for collection",
        "已办结，请凭受理回执在工作时间到窗口领取。",
        "Done: please collect it at the counter with your receipt.",
    ),
    "closed": StateInfo(
        "已结案",
        "Closed",
        "本件已办结并领取，无需再办理。",
        "Finished and collected; nothing more to do.",
        closes=True,
    ),
    "rejected": StateInfo(
        "不予办理",
        "Not accepted",
        "详细原因请凭受理回执在工作时间咨询窗口。",
        "Please ask at the counter with your receipt for the reasons.",
        closes=True,
    ),
}

# Kind-specific next steps where the generic one would mislead.
KIND_NEXT_STEPS: dict[tuple[str, str], str] = {
    (
        "visa_agency",
        "submitted",
    ): "已送交目的国驻华使领馆或签证中心，是否签发及何时签发由目的国决定，请耐心等待。",
    ("legalization", "submitted"): "已送交外交部或有关国家驻华使领馆办理认证，请耐心等待。",
    ("apec_card", "submitted"): "已报送审批，结果以有关部门和经济体的审批为准，请耐心等待。",
    (
        "invitation",
        "completed",
    ): "邀请函已出具，请凭回执领取，并由被邀请人持邀请函向中国驻外使领馆申请签证。",
    ("status_confirmation", "completed"): "证明已出具，请凭受理回执在工作时间到窗口领取。",
}

REFERENCE_RE = re.compile(r"(?<![A-Z0-9])([A-Z]{2})[-_ ]?(\d{4})[-_ ]?(\d{6})(?![0-9])")
LAST4_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
QUERY_CODE_RE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{6,10})(?![A-Za-z0-9])")


class LookupDenied(Exception):
    """No such case, or the verification did not match (deliberately indistinguishable)."""


class LookupLocked(Exception):
    """A failure budget is exhausted (`scope`: sender, client, reference or global)."""

    def __init__(self, retry_after_s: int, scope: str = "sender", method: str = "phone"):
        super().__init__(f"locked for {retry_after_s}s")
        self.retry_after_s = retry_after_s
        self.scope = scope
        self.method = method

    @property
    def query_code_works(self) -> bool:
        """The 4 digits are locked for this reference (or everyone), the query code is not."""
        return self.method == "phone" and self.scope in ("reference", "global")


@dataclass(frozen=True)
class CaseStatus:
    """What the citizen may see about a case: no personal data."""

    reference: str
    kind: str
    kind_label: str
    state: str
    state_label: str
    updated_at: dt.date
    next_step: str

    def payload(self) -> dict[str, str]:
        """The `status` reply payload fields."""
        return {
            "reference": self.reference,
            "kind": self.kind,
            "state": self.state,
            "updated_at": self.updated_at.isoformat(),
            "next_step": self.next_step,
        }

    def text(self) -> str:
        """Plain Chinese summary."""
        return t(
            "reply.status_card",
            kind=self.kind_label,
            reference=self.reference,
            state=self.state_label,
            updated=self.updated_at.isoformat(),
            next_step=self.next_step,
        )


def find_reference(text: str) -> str | None:
    """A normalised reference (e.g. VA-2026-000123) found in free text, in any case or width."""
    plain = unicodedata.normalize("NFKC", text).upper()
    for prefix, year, number in REFERENCE_RE.findall(plain):
        if prefix in KIND_BY_PREFIX:
            return f"{prefix}-{year}-{number}"
    return None


def _without_references(text: str) -> str:
    """NFKC text, upper-cased, with every case reference blanked out: the year and number of
    "VA-2026-001890" are not the 4 digits or the query code of a verification answer."""
    return REFERENCE_RE.sub(" ", unicodedata.normalize("NFKC", text).upper())


def find_last4(text: str) -> str | None:
    """Four digits given alone (the last 4 digits of the phone number), outside any reference."""
    match = LAST4_RE.search(_without_references(text))
    return match.group(1) if match else None


def find_query_code(text: str) -> str | None:
    """A receipt query code (6–10 letters/digits, at least one digit), upper-cased, outside any
    reference."""
    plain = _without_references(text).strip()
    match = QUERY_CODE_RE.search(plain)
    code = match.group(1).upper() if match else None
    return (
        code if code and any(c.isdigit() for c in code) and find_reference(code) is None else None
    )


def phone_hash(salt: str, reference: str, last4: str) -> str:
    """Stored verifier: reference + last 4 phone digits, salted."""
    return salted_hash(salt, "phone", reference, last4)


def query_code_hash(salt: str, reference: str, code: str) -> str:
    """Stored verifier: reference + the receipt's query code, salted."""
    return salted_hash(salt, "code", reference, code.upper())


def mask_name(name: str) -> str:
    """Keep the first character only: 张三 → 张*, Li Lei → L***."""
    name = name.strip()
    if not name:
        return "*"
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


def received_case(
    *,
    reference: str,
    kind: str,
    name: str,
    last4: str,
    salt: str,
    now: dt.datetime,
    query_code: str | None = None,
) -> Case:
    """A new case in state "received": the applicant's name masked, the phone's last 4 digits
    (and the receipt's query code) stored only as salted hashes."""
    return Case(
        reference=reference,
        kind=kind,
        state="received",
        applicant_masked=mask_name(name),
        phone_hash=phone_hash(salt, reference, last4),
        query_code_hash=query_code_hash(salt, reference, query_code) if query_code else None,
        created_at=now,
        updated_at=now,
    )


def status_of(case: Case) -> CaseStatus:
    """The citizen-visible view of a case."""
    kind = KINDS[case.kind]
    info = STATES.get(case.state)
    label = info.label if info else case.state
    next_step = KIND_NEXT_STEPS.get((case.kind, case.state)) or (
        info.next_step if info else "请在工作时间联系办公室了解详情。"
    )
    return CaseStatus(
        case.reference, case.kind, kind.label, case.state, label, case.updated_at.date(), next_step
    )


def verifies(case: Case, salt: str, secret: str) -> bool:
    """True when `secret` is the case's last 4 phone digits or its query code."""
    if LAST4_RE.fullmatch(secret):
        return hmac.compare_digest(case.phone_hash, phone_hash(salt, case.reference, secret))
    if case.query_code_hash is None:
        return False
    return hmac.compare_digest(case.query_code_hash, query_code_hash(salt, case.reference, secret))


def lookup_status(
    session: Session,
    *,
    reference: str,
    secret: str,
    sender_hash: str,
    salt: str,
    now: dt.datetime,
    max_failures: int = 5,
    window_s: int = 900,
    client_hash: str | None = None,
    limits: LookupLimits | None = None,
    throttle: Throttle | None = None,
) -> CaseStatus:
    """Verify reference + last 4 phone digits (or query code); return the status; record it.

    The attempt is first reserved in its failure budgets (core/cases/guard.py), atomically:
    LookupLocked when one is exhausted (nothing is checked then). An unknown reference and wrong
    digits both raise LookupDenied; every checked attempt is stored in verification_attempts.
    """
    limits = limits or LookupLimits(max_failures=max_failures, window_s=window_s)
    throttle = throttle or DatabaseThrottle()
    method = "phone" if LAST4_RE.fullmatch(secret) else "code"
    budgets = lookup_budgets(
        limits,
        reference=reference,
        method=method,
        sender_hash=sender_hash,
        client_hash=client_hash or f"sender:{sender_hash}",
    )
    reservation = throttle.reserve(session, budgets, now)
    if reservation.refused_by is not None:
        raise LookupLocked(reservation.retry_after_s, scope_of(reservation.refused_by), method)
    case = store.find_case(session, reference)
    ok = case is not None and verifies(case, salt, secret)
    store.record_attempt(
        session, reference, sender_hash, ok, now, client_hash=client_hash, method=method
    )
    if not ok or case is None:
        for budget in budgets:
            throttle.escalate(session, budget, now)
        raise LookupDenied(reference)
    throttle.release(session, reservation)
    return status_of(case)


def verified_reference(
    session: Session, sender_hash: str, now: dt.datetime, within_s: int
) -> str | None:
    """The case this sender verified most recently, if within `within_s` seconds (subscribing
    needs it: a slot value alone could be set by anyone who reaches the action server)."""
    return store.last_success(session, sender_hash, now - dt.timedelta(seconds=within_s))
