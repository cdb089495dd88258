"""What every channel does with a citizen's message: check, route to staff or to Rasa.

- emergencies first, on every path (core.conversation.safety): during an open ticket the ticket
  is raised to urgent and the citizen gets 12308 at once; while Rasa is down an urgent ticket is
  opened with the hotline reply; otherwise Rasa is told (`metadata.route`) so that its routing
  component answers with the emergency action whatever DIET predicted;
- an open handoff ticket takes the message (the bot stays silent meanwhile);
- otherwise Rasa answers; when Rasa is down the message is parked in a ticket for staff,
  so an accepted message is never lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core import encoder, metrics
from core.conversation import language
from core.conversation.analytics import observe_turn, record_turn
from core.conversation.emergency import CLEAR_KEY, Emergency
from core.conversation.rasa_client import BotMessage, RasaClient, RasaUnavailable
from core.conversation.safety import Assessment, Safety, emergency_reply, get_safety
from core.db.engine import get_engine, session_factory, session_scope
from core.handoff.office_hours import OfficeHours
from core.handoff.tickets import TicketInfo, park_message, request_handoff, route_to_open_ticket
from core.kb.dense import query_of
from core.notify.outbox import channel_of
from core.notify.preferences import set_lang, stored_lang
from core.settings import Settings
from core.text import clean_display, normalize
from core.texts import t

logger = logging.getLogger(__name__)

FRACTION_SLASH = "\u2044"
LEADING_SLASHES_RE = re.compile(r"^[/／]+")


class MessageRejected(Exception):
    """The message cannot be accepted; `code` is stable, `message` is for the citizen."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message


class ServiceUnavailable(Exception):
    """Neither the bot nor the database could take the message; it was NOT accepted."""


def with_vector(metadata: dict[str, Any], text: str) -> dict[str, Any]:
    """The metadata plus the message's vector when the emergency check embedded exactly what
    Rasa will embed (core.encoder): Rasa and the action server then need not encode it again."""
    plain = query_of(text)
    vector = encoder.recent(plain) if plain else None
    if vector is None:
        return metadata
    return {**metadata, encoder.KEY: encoder.pack(plain, vector)}


@dataclass
class Relay:
    rasa: RasaClient
    sessions: sessionmaker[Session]
    max_chars: int = 2000
    hours: OfficeHours | None = None  # when set, queued handoffs outside hours get a notice
    turn_salt: str | None = None  # when set, each turn's reply kind is stored for analytics
    safety: Safety | None = None  # emergency check (keywords only when None)
    # Staff hours by language ("zh"/"en") for the emergency and handoff replies.
    handoff_hours: Callable[[str], str] | None = None
    # English KB titles for option buttons (None: titles stay as the actions wrote them).
    title_en: Callable[[str], str | None] | None = None
    # The emergency check's warm-up started by build_relay (None: not started).
    warming: asyncio.Future[bool] | None = field(default=None, init=False, repr=False)

    async def aclose(self) -> None:
        """Stop waiting for the warm-up and close the Rasa client (at the process's end)."""
        if self.warming is not None:
            self.warming.cancel()
        await self.rasa.aclose()

    def check(self, text: object, lang: str | None = "zh") -> str:
        """The cleaned text, or MessageRejected with a polite explanation (in `lang`)."""
        if not isinstance(text, str):
            raise MessageRejected("invalid_text", t("message.not_text", lang))
        # Lone surrogates (JSON escapes like "\ud800") cannot be encoded as UTF-8: dropped.
        cleaned = clean_display(text).encode("utf-8", "ignore").decode("utf-8")
        if not cleaned:
            raise MessageRejected("empty", t("message.empty", lang))
        if len(cleaned) > self.max_chars:
            raise MessageRejected("too_long", t("message.too_long", lang, max=self.max_chars))
        if normalize(cleaned).startswith("/"):
            # Rasa reads "/intent{...}" as a ready-made intent: citizens must not inject those.
            # Its normaliser (NFKC) turns "／" back into "/", so leading slashes become the
            # look-alike FRACTION SLASH, which normalisation leaves alone.
            cleaned = LEADING_SLASHES_RE.sub(lambda m: FRACTION_SLASH * len(m.group()), cleaned)
            if normalize(cleaned).startswith("/"):
                cleaned = FRACTION_SLASH + cleaned
        return cleaned

    async def handle(
        self, sender_id: str, text: object, metadata: dict[str, Any] | None = None
    ) -> list[BotMessage]:
        """Replies for one citizen message, in the conversation's language and script.

        `metadata` (e.g. {"lang": "en"}, the sender's stored choice) goes to Rasa; a message
        written in another language or script changes the conversation's language (stored)."""
        chosen = (metadata or {}).get("lang")
        if chosen is None:  # a channel that passes no language: the one stored for the sender
            chosen = await self._stored_lang(sender_id)
        cleaned = self.check(text, chosen)
        current = chosen if chosen in language.LANGS else None
        lang = language.detect(cleaned, current) or current or "zh"
        if lang != chosen:
            await self._remember_lang(sender_id, lang)
        meta = {**(metadata or {}), "lang": language.rasa_lang(lang)}
        if lang == "zh-Hant":
            meta["script"] = "hant"
        answer = await self._answer(sender_id, cleaned, meta, lang == "en")
        return language.localize(answer, lang, self._hours_en, self.title_en)

    async def _stored_lang(self, sender_id: str) -> str | None:
        def work() -> str | None:
            with session_scope(self.sessions) as session:
                return stored_lang(session, sender_id)

        try:
            return await asyncio.to_thread(work)
        except Exception:  # the message's own language decides
            logger.warning("lang_not_read", extra={"event": "lang_not_read"})
            return None

    async def _remember_lang(self, sender_id: str, lang: str) -> None:
        def work() -> None:
            with session_scope(self.sessions) as session:
                set_lang(session, sender_id, lang, dt.datetime.now(dt.UTC))

        try:
            await asyncio.to_thread(work)
        except Exception:  # a preference is not worth failing the turn
            logger.warning("lang_not_stored", extra={"event": "lang_not_stored"})

    def _hours_en(self) -> str:
        return self.handoff_hours("en") if self.handoff_hours is not None else ""

    async def _answer(
        self, sender_id: str, cleaned: str, metadata: dict[str, Any], english: bool
    ) -> list[BotMessage]:
        assessment = await asyncio.to_thread(self._assess, cleaned)
        emergency = assessment.emergency
        try:
            ticket = await asyncio.to_thread(self._route_to_ticket, sender_id, cleaned)
        except Exception:
            logger.exception("ticket_check_failed", extra={"event": "ticket_check_failed"})
            ticket = None  # database trouble: still let the bot answer
        channel = channel_of(sender_id)
        if ticket is not None and emergency is not None:
            # Staff are already on this conversation: raise the ticket, and give the hotline now.
            raised = await self._urgent_ticket(sender_id, emergency)
            observe_turn(channel, ["emergency"], "to_staff")
            await self._record(sender_id, [{"type": "emergency"}])
            return self._emergency_messages(emergency, english, raised or ticket)
        if emergency is not None:
            metadata = {
                **(metadata or {}),
                "route": "report_emergency",
                "emergency": emergency.kind,
            }
        elif assessment.clear:
            metadata = {**(metadata or {}), CLEAR_KEY: True}
        if ticket is not None:
            observe_turn(channel, ["in_ticket"], "to_staff")
            await self._record(sender_id, [{"type": "in_ticket"}])
            return self._with_hours_notice(
                [BotMessage(t("reply.in_ticket", ticket=ticket.ticket), ticket.payload())]
            )
        metadata = with_vector(metadata, cleaned)
        started = time.perf_counter()
        try:
            answer = await self.rasa.send(sender_id, cleaned, metadata=metadata)
            metrics.RASA_LATENCY.observe(time.perf_counter() - started)
        except RasaUnavailable as exc:
            logger.warning(
                "rasa_unavailable", extra={"event": "rasa_unavailable", "error": str(exc)}
            )
        else:
            if any(m.custom for m in answer):
                observe_turn(channel, [str(m.custom.get("type")) for m in answer if m.custom])
                await self._record(sender_id, [m.custom for m in answer if m.custom])
                return self._with_hours_notice(answer)
            # Every turn of this assistant ends with a payload; none means Rasa could not run
            # its action (action server down, action error): the citizen would get silence.
            logger.warning("rasa_no_reply", extra={"event": "rasa_no_reply"})
        if emergency is not None:
            # Rasa cannot run the emergency action: the relay opens the urgent ticket itself.
            raised = await self._urgent_ticket(sender_id, emergency, text=cleaned)
            if raised is not None:
                observe_turn(channel, ["emergency"], "parked")
                return self._emergency_messages(emergency, english, raised)
        try:
            parked = await asyncio.to_thread(self._park, sender_id, cleaned)
        except Exception as exc:
            logger.exception("park_failed", extra={"event": "park_failed"})
            observe_turn(channel, [], "refused")
            raise ServiceUnavailable from exc
        observe_turn(channel, ["unavailable"], "parked")
        return [
            BotMessage(t("reply.unavailable"), {"type": "unavailable", "ticket": parked.ticket})
        ]

    def _assess(self, text: str) -> Assessment:
        safety = self.safety or Safety()
        return safety.assess(text)

    async def _urgent_ticket(
        self, sender_id: str, emergency: Emergency, text: str | None = None
    ) -> TicketInfo | None:
        """Open (or raise to urgent) the sender's ticket; None when the database is down."""

        def work() -> TicketInfo:
            with session_scope(self.sessions) as session:
                info = request_handoff(
                    session, sender_id, f"emergency:{emergency.kind}", priority="urgent"
                )
                if text is not None:
                    route_to_open_ticket(session, sender_id, text)
                return info

        try:
            return await asyncio.to_thread(work)
        except Exception:
            logger.exception("urgent_ticket_failed", extra={"event": "urgent_ticket_failed"})
            return None

    def _emergency_messages(
        self, emergency: Emergency, english: bool, ticket: TicketInfo | None
    ) -> list[BotMessage]:
        number = ticket.ticket if ticket is not None else None
        hours = self.handoff_hours("en" if english else "zh") if self.handoff_hours else ""
        text, payload = emergency_reply(
            emergency, english=english, ticket=number, handoff_hours=hours
        )
        return self._with_hours_notice([BotMessage(text, payload)])

    async def _record(self, sender_id: str, payloads: list[dict[str, Any]]) -> None:
        """Store the turn's reply kind for analytics; never fails the turn."""
        if self.turn_salt is None:
            return
        salt = self.turn_salt

        def work() -> None:
            with session_scope(self.sessions) as session:
                record_turn(session, salt, sender_id, channel_of(sender_id), payloads)

        try:
            await asyncio.to_thread(work)
        except Exception:
            logger.exception("turn_record_failed", extra={"event": "turn_record_failed"})

    def _with_hours_notice(self, messages: list[BotMessage]) -> list[BotMessage]:
        """Add when staff will answer, if a queued handoff is among the replies after hours."""
        if self.hours is None:
            return messages
        queued = any(
            m.custom.get("type") in ("handoff", "emergency")
            and m.custom.get("state", "queued") == "queued"
            for m in messages
        )
        now = dt.datetime.now(dt.UTC)
        if not queued or self.hours.is_open(now):
            return messages
        notice = BotMessage(
            self.hours.closed_notice(now),
            {"type": "office_hours", "next_open": self.hours.next_open(now).isoformat()},
        )
        return [*messages, notice]

    def _route_to_ticket(self, sender_id: str, text: str) -> TicketInfo | None:
        with session_scope(self.sessions) as session:
            return route_to_open_ticket(session, sender_id, text)

    def _park(self, sender_id: str, text: str) -> TicketInfo:
        with session_scope(self.sessions) as session:
            return park_message(session, sender_id, text)


def build_relay(
    settings: Settings,
    *,
    handoff_hours: Callable[[str], str],
    title_en: Callable[[str], str | None],
    hours: OfficeHours | None = None,
) -> Relay:
    """The relay of a channel's process (api, Telegram, WeChat) from settings: the Rasa client,
    the app database, office hours, the analytics salt and the emergency check.

    Call it in the running event loop: it starts loading the emergency check's semantic index
    in a worker thread (Safety.warm; without var/cache that embeds ~1,200 NLU examples, tens of
    seconds), so no channel's first message waits for it. `await relay.aclose()` at the end.
    """
    safety = get_safety()
    relay = Relay(
        RasaClient.from_settings(settings),
        session_factory(get_engine(settings.database_url)),
        settings.max_message_chars,
        hours=hours
        or OfficeHours.parse(settings.office_hours, settings.office_days, settings.office_timezone),
        turn_salt=settings.hash_salt.get_secret_value(),
        safety=safety,
        handoff_hours=handoff_hours,
        title_en=title_en,
    )
    relay.warming = asyncio.get_running_loop().run_in_executor(None, safety.warm)
    return relay
