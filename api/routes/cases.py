"""Integration API for the office's case systems: bearer tokens, idempotent upserts."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import SettingsDep
from api.errors import error
from api.routes.v1 import v1_router
from core.cases import store
from core.cases.sync import (
    CaseConflict,
    CaseData,
    CaseIn,
    CaseNotFound,
    EventIn,
    active_lockouts,
    add_case_event,
    create_case,
    upsert_case,
)
from core.db.engine import get_engine, session_factory, session_scope
from core.db.models import ApiToken, Case, IdempotencyRecord
from core.db.throttle import get_throttle
from core.settings import Settings
from core.staff.audit import audit
from core.staff.tokens import find_token, mark_used

router = v1_router(
    "cases",
    {
        401: {"description": "Missing, invalid or revoked token"},
        403: {"description": "The token's role may not do this"},
    },
)
bearer = HTTPBearer(
    auto_error=False,
    description="Token from `python -m core.staff tokens create` (integration writes, staff reads)",
)


class AuthError(Exception):
    """Missing/invalid token (401) or insufficient role (403)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def get_session(settings: SettingsDep) -> Any:
    """A session per request (committed on success)."""
    with session_scope(session_factory(get_engine(settings.database_url))) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _authorize(
    request: Request,
    settings: Settings,
    credentials: HTTPAuthorizationCredentials | None,
    role: str,
) -> ApiToken:
    """The token if it is valid and has `role`; AuthError otherwise. Every use of a valid token
    is audited (its own transaction: a refused write is recorded too) and stamps last_used_at."""
    if credentials is None or not credentials.credentials:
        raise AuthError(401, "缺少访问令牌（Authorization: Bearer …）。")
    route = getattr(request.scope.get("route"), "path", request.url.path)
    with session_scope(session_factory(get_engine(settings.database_url))) as session:
        token = find_token(session, credentials.credentials)
        if token is None:
            raise AuthError(401, "访问令牌无效或已撤销。")
        allowed = token.role == role
        mark_used(token, dt.datetime.now(dt.UTC))
        audit(
            session,
            f"token:{token.name}"[:64],
            "api_token_use" if allowed else "api_token_refused",
            f"{request.method} {route}"[:128],
            {"token": token.id, "reference": request.path_params.get("reference")},
        )
    if not allowed:
        message = (
            "该令牌只能读取，不能写入业务数据。"
            if token.role == "staff"
            else "该令牌无权读取业务数据。"
        )
        raise AuthError(403, message)
    return token


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require_writer(request: Request, settings: SettingsDep, credentials: Credentials) -> ApiToken:
    """Only integration tokens (the office's case systems) may write."""
    return _authorize(request, settings, credentials, "integration")


def require_staff(request: Request, settings: SettingsDep, credentials: Credentials) -> ApiToken:
    """Only staff tokens may read case data."""
    return _authorize(request, settings, credentials, "staff")


TokenDep = Annotated[ApiToken, Depends(require_writer)]
StaffDep = Annotated[ApiToken, Depends(require_staff)]


class EventOut(BaseModel):
    state: str
    occurred_at: dt.datetime


class CaseOut(BaseModel):
    """A case without personal data beyond the masked name."""

    reference: str
    kind: str
    state: str
    applicant_masked: str
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    events: list[EventOut] = []


def _out(case: Case, with_events: bool = False) -> dict[str, Any]:
    """The case as the API shows it (the row's columns CaseOut names; its events on request)."""
    columns = {name: getattr(case, name) for name in CaseOut.model_fields if name != "events"}
    events = case.events if with_events else []
    data = CaseOut(
        **columns, events=[EventOut(state=e.state, occurred_at=e.occurred_at) for e in events]
    )
    out: dict[str, Any] = json.loads(data.model_dump_json())
    return out


def _idempotent(
    session: Session, token: ApiToken, key: str | None, body: BaseModel, produce: Any
) -> JSONResponse:
    """Replay the stored response for a repeated Idempotency-Key; 409 if the body differs."""
    if key is None:
        status_code, content = produce()
        return JSONResponse(status_code=status_code, content=content)
    scoped = f"{token.id}:{key}"[:160]
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    record = session.get(IdempotencyRecord, scoped)
    if record is not None:
        if record.request_hash != request_hash:
            return error(409, "idempotency_conflict", "该 Idempotency-Key 已用于不同的请求内容。")
        return JSONResponse(status_code=record.status_code, content=record.response)
    status_code, content = produce()
    session.add(
        IdempotencyRecord(
            key=scoped, request_hash=request_hash, status_code=status_code, response=content
        )
    )
    return JSONResponse(status_code=status_code, content=content)


def _bad_reference(exc: ValueError) -> JSONResponse:
    return error(
        422,
        "invalid_request",
        "请求内容不符合要求。",
        fields=[{"field": "reference", "problem": str(exc)}],
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


@router.post(
    "/cases",
    status_code=201,
    summary="Create a case",
    responses={409: {"description": "Reference exists (use PUT to update)"}},
)
def post_case(
    body: CaseIn,
    session: SessionDep,
    token: TokenDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a case. With an `Idempotency-Key`, a retried request returns the first response."""
    salt = settings.hash_salt.get_secret_value()

    def produce() -> tuple[int, dict[str, Any]]:
        try:
            case = create_case(session, body, salt, _now())
        except CaseConflict:
            return 409, {
                "error": {
                    "code": "exists",
                    "message": f"业务编号 {body.reference} 已存在，请用 PUT 更新。",
                }
            }
        return 201, _out(case)

    return _idempotent(session, token, idempotency_key, body, produce)


@router.put(
    "/cases/{reference}",
    summary="Create or update a case (idempotent)",
    responses={
        201: {"description": "Created"},
        200: {"description": "Updated or unchanged"},
        409: {"description": "The reference belongs to another kind of case"},
    },
)
def put_case(
    reference: str, body: CaseData, session: SessionDep, token: TokenDep, settings: SettingsDep
) -> JSONResponse:
    """Upsert by reference: sending the same body twice changes nothing."""
    try:
        result = upsert_case(
            session, reference, body, settings.hash_salt.get_secret_value(), _now()
        )
    except ValueError as exc:
        return _bad_reference(exc)
    except CaseConflict as exc:
        return error(409, "kind_conflict", str(exc))
    content = {**_out(result.case), "changed": result.changed}
    return JSONResponse(status_code=201 if result.created else 200, content=content)


@router.post(
    "/cases/{reference}/events",
    status_code=201,
    summary="Record a state change",
    responses={
        200: {"description": "Duplicate event id: nothing changed"},
        404: {"description": "No such case"},
    },
)
def post_event(reference: str, body: EventIn, session: SessionDep, token: TokenDep) -> JSONResponse:
    """Record an event once per `event_id`; subscribers are notified of the new state."""
    try:
        event, created = add_case_event(session, reference, body, _now())
    except ValueError as exc:
        return _bad_reference(exc)
    except CaseNotFound:
        return error(404, "not_found", "没有该业务编号。")
    case = session.get(Case, event.case_id)
    assert case is not None
    return JSONResponse(
        status_code=201 if created else 200, content={**_out(case), "duplicate": not created}
    )


@router.get(
    "/cases/{reference}",
    response_model=CaseOut,
    summary="Read a case (staff tokens)",
    responses={404: {"description": "No such case"}},
)
def get_case(reference: str, session: SessionDep, token: StaffDep) -> JSONResponse:
    """A case with its history; personal data stays masked."""
    from core.cases.rules import find_reference

    normalised = find_reference(reference)
    case = store.find_case(session, normalised) if normalised else None
    if case is None:
        return error(404, "not_found", "没有该业务编号。")
    return JSONResponse(content=_out(case, with_events=True))


class LockoutOut(BaseModel):
    subject: str
    failures: int
    until: dt.datetime


@router.get("/lockouts", response_model=list[LockoutOut], summary="Current lookup lockouts (staff)")
def get_lockouts(session: SessionDep, token: StaffDep, settings: SettingsDep) -> list[LockoutOut]:
    """References and senders locked out of status lookups right now."""
    return [
        LockoutOut(subject=lock.subject, failures=lock.failures, until=lock.until)
        for lock in active_lockouts(
            session,
            _now(),
            max_failures=settings.lockout_max_failures,
            window_s=settings.lockout_window_s,
            throttle=get_throttle(settings.redis_url),
        )
    ]


def install_auth_errors(app: FastAPI) -> None:
    """JSON 401/403 for token problems."""

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        response = error(
            exc.status_code, "unauthorized" if exc.status_code == 401 else "forbidden", exc.message
        )
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
