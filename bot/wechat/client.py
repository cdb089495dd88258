"""Async client for the WeChat Official Account API, with one access_token for all processes.

The access_token lives in the app database (`wechat_access_tokens`). A process that finds it
missing, expiring within `REFRESH_MARGIN`, or rejected by WeChat (40001/40014/42001) takes a
short lease on the row and fetches a new one from `/cgi-bin/stable_token` (the secret travels in
the body, not the URL); the others wait for it, so WeChat sees one fetch, not one per process.
A call rejected for its token is repeated once with the new token. Rate limits (45009) and
network or server errors raise `Transient` for the caller to back off; the outbox loop does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.wechat.conversation import Clock, in_transaction, utcnow
from core.db.engine import affected_rows
from core.db.models import WechatAccessToken
from core.db.utc import aware

logger = logging.getLogger(__name__)

REFRESH_MARGIN = dt.timedelta(minutes=5)
LEASE = dt.timedelta(seconds=15)
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid / expired access_token
WINDOW_ERRORS = frozenset({45015, 45047})  # 48-hour window over / its message quota used up
USER_ERRORS = frozenset({40003, 43004, 43019})  # invalid openid / unfollowed / blocked
RATE_ERRORS = frozenset({45009, 45011})  # API call quota / frequency
BUSY_ERRORS = frozenset({-1})  # "system busy"
CONFIG_HINTS = {
    40013: "WECHAT_APP_ID is wrong",
    40125: "WECHAT_APP_SECRET is wrong",
    40164: "this server's IP is not in the account's IP allow-list (IP白名单)",
    61004: "this server's IP is not in the account's IP allow-list (IP白名单)",
}


class WeChatError(Exception):
    """WeChat refused the call (`errcode` ≠ 0)."""

    def __init__(self, errcode: int, errmsg: str = ""):
        super().__init__(f"errcode {errcode}")
        self.errcode = errcode
        self.errmsg = errmsg[:120]


class WindowClosed(WeChatError):
    """The citizen has not written within 48 hours (or the window's quota is used up)."""


class UserUnreachable(WeChatError):
    """The openid is invalid, unfollowed or blocked the account: retrying cannot help."""


class Transient(Exception):
    """WeChat is unreachable, busy or rate-limiting: try again later (`retry_after` seconds)."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def _raise_for(data: dict[str, Any]) -> None:
    code = int(data.get("errcode") or 0)
    if code == 0:
        return
    message = str(data.get("errmsg", ""))
    if code in WINDOW_ERRORS:
        raise WindowClosed(code, message)
    if code in USER_ERRORS:
        raise UserUnreachable(code, message)
    if code in RATE_ERRORS:
        raise Transient(f"errcode {code}", retry_after=60.0)
    if code in BUSY_ERRORS:
        raise Transient(f"errcode {code}")
    raise WeChatError(code, message)


class WeChatClient:
    """The calls this assistant makes: customer-service text, template message, menu."""

    def __init__(
        self,
        app_id: str,
        secret: str,
        sessions: sessionmaker[Session],
        *,
        api_base: str = "https://api.weixin.qq.com",
        http: httpx.AsyncClient | None = None,
        clock: Clock = utcnow,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        timeout_s: float = 10.0,
    ):
        self.app_id = app_id
        self._secret = secret
        self.sessions = sessions
        self.base = api_base.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=timeout_s)
        self.clock = clock
        self.sleep = sleep

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the calls --------------------------------------------------------------------------

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (allowed within 48 hours of the citizen's message)."""
        await self.call(
            "/cgi-bin/message/custom/send",
            {"touser": openid, "msgtype": "text", "text": {"content": text}},
        )

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], url: str | None = None
    ) -> None:
        """A template message (allowed outside the 48-hour window)."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            body["url"] = url
        await self.call("/cgi-bin/message/template/send", body)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the account's custom menu."""
        await self.call("/cgi-bin/menu/create", menu)

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with the access_token; once more with a new token if WeChat rejects it."""
        token = await self.access_token()
        data = await self._post(path, payload, token)
        if int(data.get("errcode") or 0) in TOKEN_ERRORS:
            logger.warning(
                "wechat_token_rejected",
                extra={"event": "wechat_token_rejected", "status": data.get("errcode")},
            )
            token = await self.access_token(rejected=token)
            data = await self._post(path, payload, token)
        _raise_for(data)
        return data

    async def _post(self, path: str, payload: dict[str, Any], token: str) -> dict[str, Any]:
        try:
            response = await self._http.post(
                f"{self.base}{path}",
                params={"access_token": token},
                content=_json(payload),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise Transient(type(exc).__name__) from exc
        return self._json_of(response)

    @staticmethod
    def _json_of(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(f"status {response.status_code}")
        if response.status_code != 200:
            raise WeChatError(-response.status_code, "http status")
        try:
            data = response.json()
        except ValueError as exc:
            raise Transient("invalid JSON") from exc
        if not isinstance(data, dict):
            raise Transient("unexpected reply shape")
        return data

    # --- the shared access_token ------------------------------------------------------------

    async def access_token(self, *, rejected: str | None = None) -> str:
        """A valid token: the shared one, or a new one fetched by exactly one process.

        `rejected` is a token WeChat refused; it is replaced unless another process already
        replaced it.
        """
        for _ in range(int(LEASE.total_seconds() / 0.25) + 8):
            now = self.clock()
            token = await in_transaction(self.sessions, self._valid_token, now, rejected)
            if token is not None:
                return token
            if await in_transaction(self.sessions, self._take_lease, now, rejected):
                try:
                    return await self._refresh(rejected is not None)
                except BaseException:
                    await in_transaction(self.sessions, self._release)
                    raise
            await self.sleep(0.25)  # another process is fetching it
        raise Transient("access_token lease held too long")

    async def _refresh(self, force: bool) -> str:
        try:
            response = await self._http.post(
                f"{self.base}/cgi-bin/stable_token",
                content=_json(
                    {
                        "grant_type": "client_credential",
                        "appid": self.app_id,
                        "secret": self._secret,
                        "force_refresh": force,
                    }
                ),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise Transient(type(exc).__name__) from exc
        data = self._json_of(response)
        code = int(data.get("errcode") or 0)
        if code in CONFIG_HINTS:
            logger.error(
                "wechat_token_refused",
                extra={
                    "event": "wechat_token_refused",
                    "status": code,
                    "error": CONFIG_HINTS[code],
                },
            )
        _raise_for(data)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise Transient("no access_token in reply")
        expires = self.clock() + dt.timedelta(seconds=int(data.get("expires_in") or 7200))
        await in_transaction(self.sessions, self._store, token, expires)
        logger.info("wechat_token_refreshed", extra={"event": "wechat_token_refreshed"})
        return token

    def _valid_token(self, session: Session, now: dt.datetime, rejected: str | None) -> str | None:
        row = session.get(WechatAccessToken, self.app_id)
        if row is None or not row.token or row.expires_at is None or row.token == rejected:
            return None
        return row.token if aware(row.expires_at) - REFRESH_MARGIN > now else None

    def _take_lease(self, session: Session, now: dt.datetime, rejected: str | None) -> bool:
        """Take the right to fetch: only while nobody holds it and the stored token is still
        missing, expiring or the rejected one (one conditional UPDATE, so two processes
        cannot both win, and a process that lost the race finds the new token instead)."""
        if session.get(WechatAccessToken, self.app_id) is None:
            try:
                with session.begin_nested():
                    session.add(WechatAccessToken(app_id=self.app_id))
            except IntegrityError:
                pass  # another process created it
        row = WechatAccessToken
        stale = (row.token.is_(None)) | (row.expires_at.is_(None))
        stale = stale | (row.expires_at <= now + REFRESH_MARGIN)
        if rejected is not None:
            stale = stale | (row.token == rejected)
        leased = affected_rows(
            session,
            update(row)
            .where(
                row.app_id == self.app_id,
                (row.lease_until.is_(None)) | (row.lease_until < now),
                stale,
            )
            .values(lease_until=now + LEASE),
        )
        return leased == 1

    def _store(self, session: Session, token: str, expires: dt.datetime) -> None:
        session.execute(
            update(WechatAccessToken)
            .where(WechatAccessToken.app_id == self.app_id)
            .values(token=token, expires_at=expires, lease_until=None)
        )

    def _release(self, session: Session) -> None:
        session.execute(
            update(WechatAccessToken)
            .where(WechatAccessToken.app_id == self.app_id)
            .values(lease_until=None)
        )


def _json(payload: dict[str, Any]) -> bytes:
    # WeChat shows \\uXXXX escapes literally in some clients: send real UTF-8.
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
