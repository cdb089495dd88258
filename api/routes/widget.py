"""Widget api: send a message, stream staff replies (SSE) or poll them, history, 👍/👎."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, Field

from api.deps import RelayDep, SettingsDep, app_state, request_lang
from api.errors import error
from api.routes.v1 import v1_router
from core.conversation import widget_sessions
from core.conversation.rasa_client import RasaUnavailable
from core.conversation.relay import MessageRejected
from core.db.engine import session_scope
from core.db.throttle import Budget, Reservation, get_throttle
from core.handoff.history import ConversationItem, citizen_history, updates_after, widget_cursor
from core.handoff.ratings import RatingError, record_rating
from core.hashing import salted_hash
from core.kb.feedback import record_feedback
from core.kb.schema import KB_ID_RE
from core.notify.preferences import get_lang, set_lang
from core.services import get_kb
from core.settings import Settings
from core.texts import t


class InvalidSession(Exception):
    """The session id was not issued by this api (forged, from an old widget) or has expired."""


async def check_session(request: Request) -> None:
    """Every widget route but POST /sessions needs a session id the api signed (path or body)."""
    session_id = request.path_params.get("session_id")
    if session_id is None and request.method == "POST" and request.url.path != SESSIONS_PATH:
        try:
            body = await request.json()
        except ValueError:
            return  # the route's own validation answers 400
        session_id = body.get("session_id") if isinstance(body, dict) else None
    if not isinstance(session_id, str) or not re.fullmatch(SESSION_RE, session_id):
        return  # a malformed or missing id: 422 from the route's own validation
    if not widget_sessions.valid(
        widget_secret(request),
        session_id,
        int(time.time()),
        request.app.state.settings.widget_session_max_s,
    ):
        raise InvalidSession


router = v1_router(
    "widget",
    {401: {"description": "Unknown, forged or expired session id (get one: POST /sessions)"}},
    dependencies=[Depends(check_session)],
)
SESSIONS_PATH = "/api/v1/sessions"
SESSION_RE = r"^[A-Za-z0-9_-]{8,64}$"
SessionId = Annotated[str, Path(pattern=SESSION_RE, description="The widget's session id")]
POLL_INTERVAL_S = 0.5
KEEPALIVE_S = 15.0


class MessageIn(BaseModel):
    """A citizen's message from the web widget."""

    session_id: str = Field(
        pattern=SESSION_RE, description="The id from POST /api/v1/sessions (kept by the widget)"
    )
    text: str = Field(description="What the citizen typed (1–1,000 characters)")
    lang: Literal["zh", "en"] | None = Field(
        default=None, description="The widget's language; answers follow it where the KB has it"
    )


class BotMessageOut(BaseModel):
    text: str | None
    custom: dict[str, Any] | None


class MessagesOut(BaseModel):
    messages: list[BotMessageOut]


class HistoryItem(BaseModel):
    role: str = Field(description="user | bot | staff | system")
    text: str | None
    custom: dict[str, Any] | None
    at: str
    id: int | None = Field(default=None, description="Outbox row id (staff replies, notices)")


class HistoryOut(BaseModel):
    messages: list[HistoryItem]
    cursor: int = Field(
        default=0, description="Newest outbox id included: pass it as `after` for updates"
    )


class RatingIn(BaseModel):
    """The citizen's 1–5 rating of the human service of one closed ticket."""

    session_id: str = Field(pattern=SESSION_RE)
    ticket: int = Field(ge=1)
    score: int = Field(ge=1, le=5)


class FeedbackIn(BaseModel):
    """👍/👎 on one KB answer; only the entry id and the verdict are stored."""

    session_id: str = Field(pattern=SESSION_RE)
    kb_id: str = Field(pattern=KB_ID_RE.pattern)
    helpful: bool


class RateLimiter:
    """Sliding one-minute window per key, in process memory (one api process per session)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, key: str, now: float) -> int:
        """0 and count the hit when allowed; otherwise seconds until the next is allowed."""
        hits = self._hits[key]
        while hits and hits[0] <= now - 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return max(1, int(hits[0] + 60 - now) + 1)
        hits.append(now)
        if len(self._hits) > 50_000:  # forget idle sessions so memory stays bounded
            for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                del self._hits[stale]
        return 0


def widget_secret(request: Request) -> str:
    """The key that signs widget session ids (set in create_app)."""
    return app_state(request, "widget_secret", str)


def client_tag(request: Request, settings: Settings) -> str:
    """The client address as the lookup budgets see it: a salted hash, never the address."""
    network = widget_sessions.client_network(request.client.host if request.client else None)
    return salted_hash(settings.hash_salt.get_secret_value(), "addr", network)[:32]


class SessionOut(BaseModel):
    session_id: str = Field(description="Keep it (e.g. in localStorage) and send it every time")
    expires_in_s: int


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOut,
    summary="A new widget session id (signed by the api)",
    responses={429: {"description": "Too many new sessions from this address"}},
)
async def new_session(request: Request, relay: RelayDep, settings: SettingsDep) -> Any:
    """Issue a session id; each client address gets WIDGET_SESSIONS_PER_HOUR of them."""
    budget = Budget(
        f"widget:mint:{client_tag(request, settings)}", settings.widget_sessions_per_hour, 3600
    )

    def reserve() -> Reservation:
        with session_scope(relay.sessions) as session:
            return get_throttle(settings.redis_url).reserve(
                session, [budget], dt.datetime.now(dt.UTC)
            )

    reservation = await asyncio.to_thread(reserve)
    if not reservation.ok:
        wait = reservation.retry_after_s
        response = error(
            429,
            "rate_limited",
            t("api.sessions_rate_limited", request_lang(request), minutes=max(1, wait // 60)),
            retry_after_s=wait,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    session_id = widget_sessions.mint(widget_secret(request), int(time.time()))
    return SessionOut(session_id=session_id, expires_in_s=settings.widget_session_max_s)


def install(app: FastAPI) -> None:
    """JSON 401 for session ids the api did not issue."""

    @app.exception_handler(InvalidSession)
    async def _invalid(request: Request, __: InvalidSession) -> JSONResponse:
        text = t("api.invalid_session", request_lang(request))
        return error(401, "invalid_session", text, new_session=SESSIONS_PATH)


def _limiter(request: Request, per_minute: int) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "widget_limiter", None)
    if limiter is None:
        limiter = request.app.state.widget_limiter = RateLimiter(per_minute)
    return limiter


@router.post(
    "/messages",
    response_model=MessagesOut,
    summary="Send a citizen message",
    responses={
        413: {"description": "Message too long"},
        422: {"description": "Empty or invalid message"},
        429: {"description": "Too many messages from this session"},
        503: {"description": "Service unavailable; message not accepted"},
    },
)
async def post_message(
    body: MessageIn, request: Request, relay: RelayDep, settings: SettingsDep
) -> MessagesOut | JSONResponse:
    """Relay one message to the bot (or to staff during a handoff) and return the replies."""
    lang = body.lang or request_lang(request)
    cleaned = relay.check(body.text, lang)
    if len(cleaned) > settings.widget_max_chars:
        raise MessageRejected(
            "too_long", t("message.too_long", lang, max=settings.widget_max_chars)
        )
    wait = _limiter(request, settings.widget_rate_per_minute).retry_after(
        body.session_id, time.monotonic()
    )
    if wait:
        response = error(
            429, "rate_limited", t("message.rate_limited", lang, wait=wait), retry_after_s=wait
        )
        response.headers["Retry-After"] = str(wait)
        return response
    sender = f"web:{body.session_id}"
    if body.lang is not None:
        await asyncio.to_thread(_remember_lang, relay, sender, body.lang)
    metadata: dict[str, str] = {"lang": body.lang} if body.lang else {}
    metadata["client"] = client_tag(request, settings)  # the lookup's per-address budget
    replies = await relay.handle(sender, cleaned, metadata=metadata)
    return MessagesOut(messages=[BotMessageOut(**m.as_dict()) for m in replies])


@router.get(
    "/conversations/{session_id}/messages",
    response_model=HistoryOut,
    summary="The conversation so far (for the widget after a reload)",
)
async def history(session_id: SessionId, relay: RelayDep) -> HistoryOut:
    """Bot turns from Rasa's tracker, messages to staff and delivered staff replies."""
    sender = f"web:{session_id}"
    try:
        events = await relay.rasa.tracker_events(sender)
    except RasaUnavailable:
        events = []  # still show what the app database knows

    def load() -> tuple[int, list[ConversationItem]]:
        with session_scope(relay.sessions) as session:
            cursor = widget_cursor(session, sender, dt.datetime.now(dt.UTC))
            return cursor, citizen_history(session, sender, events)

    cursor, items = await asyncio.to_thread(load)
    return HistoryOut(messages=[HistoryItem(**item.as_widget()) for item in items], cursor=cursor)


def _remember_lang(relay: Any, sender: str, lang: str) -> None:
    """Keep the widget's language for messages staff and the system send later."""
    with session_scope(relay.sessions) as session:
        if get_lang(session, sender) != lang:
            set_lang(session, sender, lang, dt.datetime.now(dt.UTC))


async def _take(relay: Any, sender: str, after: int) -> list[dict[str, Any]]:
    def work() -> list[ConversationItem]:
        with session_scope(relay.sessions) as session:
            return updates_after(session, sender, after, dt.datetime.now(dt.UTC))

    return [item.as_widget() for item in await asyncio.to_thread(work)]


After = Annotated[
    int, Query(ge=0, description="The newest outbox id this tab has (from history or updates)")
]


@router.get(
    "/conversations/{session_id}/updates",
    response_model=HistoryOut,
    summary="Staff replies and notices newer than `after` (polling fallback)",
)
async def updates(session_id: SessionId, relay: RelayDep, after: After = 0) -> HistoryOut:
    """Staff messages and notices after the tab's cursor; every tab gets each of them."""
    items = await _take(relay, f"web:{session_id}", after)
    cursor = max([after, *(item["id"] or 0 for item in items)])
    return HistoryOut(messages=[HistoryItem(**item) for item in items], cursor=cursor)


@router.get(
    "/conversations/{session_id}/events",
    summary="Server-sent events: staff replies and notices as they are written",
    response_class=StreamingResponse,
)
async def events(
    session_id: SessionId,
    request: Request,
    relay: RelayDep,
    settings: SettingsDep,
    after: After = 0,
) -> StreamingResponse:
    """An event stream of outbox rows after the tab's cursor (each event carries its id, so a
    reconnecting browser resumes from Last-Event-ID); it ends after a while and reconnects."""
    sender = f"web:{session_id}"
    last_id = request.headers.get("last-event-id", "")
    cursor = max(after, int(last_id)) if last_id.isdigit() else after

    async def stream() -> AsyncIterator[str]:
        nonlocal cursor
        yield "retry: 1000\n\n"
        started = last_sent = time.monotonic()
        while time.monotonic() - started < settings.widget_stream_s:
            if await request.is_disconnected():
                return
            for item in await _take(relay, sender, cursor):
                cursor = max(cursor, item["id"] or 0)
                data = json.dumps(item, ensure_ascii=False)
                yield f"id: {cursor}\nevent: message\ndata: {data}\n\n"
                last_sent = time.monotonic()
            if time.monotonic() - last_sent > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(POLL_INTERVAL_S)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _recording(
    path: str, summary: str, refusal: dict[int | str, dict[str, Any]]
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A route that stores one judgement of the citizen's: 201 with RECORDED, or the refusal."""
    return router.post(
        path, status_code=201, response_model=None, summary=summary, responses=refusal
    )


RECORDED = {"status": "recorded"}
Recorded = dict[str, str] | JSONResponse


@_recording("/feedback", "👍/👎 on an answer", {404: {"description": "Unknown KB id"}})
async def feedback(body: FeedbackIn, request: Request, relay: RelayDep) -> Recorded:
    """Store whether an answer helped (anonymous: no session id is stored)."""

    def work() -> bool:
        with session_scope(relay.sessions) as session:
            return record_feedback(session, get_kb(), body.kb_id, body.helpful)

    if not await asyncio.to_thread(work):
        return error(404, "unknown_kb_id", t("api.unknown_kb_id", request_lang(request)))
    return RECORDED


@_recording(
    "/ratings",
    "The citizen's 1–5 rating of the human service (after a ticket is closed)",
    {409: {"description": "Not this conversation's closed ticket, or already rated"}},
)
async def rating(body: RatingIn, request: Request, relay: RelayDep) -> Recorded:
    """Store one rating per closed ticket of this conversation (no session id is stored)."""

    def work() -> str | None:
        with session_scope(relay.sessions) as session:
            try:
                record_rating(
                    session,
                    f"web:{body.session_id}",
                    body.ticket,
                    body.score,
                    dt.datetime.now(dt.UTC),
                )
            except RatingError as exc:
                return str(exc)
            return None

    problem = await asyncio.to_thread(work)
    if problem is not None:
        text = t("api.rating_refused", request_lang(request))
        return error(409, "rating_refused", text, reason=problem)
    return RECORDED
