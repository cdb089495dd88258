"""One WeChat message or event → the passive reply, within WeChat's five seconds.

WeChat waits 5 s for the response to a callback and, without one, sends the same message again
(three tries). So:
- the message is claimed in the app database first (`wechat_messages`, keyed by MsgId or, for
  events, sender + time + event): a retry, in this process or another, never reaches Rasa again;
- when the turn is ready within `deadline_s` (4.5 s), its first part is the passive reply and
  any further parts go to the outbox; a retry gets the same passive reply again (WeChat only
  retries when it did not receive the first);
- otherwise the citizen gets an acknowledgement now and the answer through the outbox
  (customer-service messages) when it is ready; a retry then gets "success" (nothing).
Nothing in a turn raises to the server: failures become a polite text.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.wechat import store, texts
from bot.wechat.conversation import (
    Clock,
    MessageRejected,
    Relay,
    ServiceUnavailable,
    in_transaction,
    utcnow,
)
from bot.wechat.menu import Menu
from bot.wechat.protocol import Inbound
from bot.wechat.render import Option, Rendered, pack, render, section_menu, topic_menu
from core.conversation import language
from core.handoff import ratings
from core.hashing import sender_tag
from core.kb.loader import KnowledgeBase
from core.notify import outbox, tips
from core.notify.preferences import get_lang

logger = logging.getLogger(__name__)
T = TypeVar("T")

REPLY_KIND = "wx_reply"  # outbox rows holding an already rendered bot answer
NON_TEXT = frozenset({"image", "location", "link", "file"})  # kinds with a text of their own
SILENT_EVENTS = frozenset(
    {"view", "location", "templatesendjobfinish", "masssendjobfinish", "view_miniprogram"}
)


@dataclass
class WeChatBot:
    """The WeChat channel's conversation logic (the server and tests call `respond`)."""

    relay: Relay
    sessions: sessionmaker[Session]
    kb: KnowledgeBase
    menu: Menu
    salt: str
    deadline_s: float = 4.5
    tip_time: str = "09:00"
    tip_timezone: str = "Asia/Shanghai"
    max_attempts: int = 10
    clock: Clock = utcnow
    on_queued: Callable[[], None] | None = None  # wakes the outbox loop
    _later: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict, init=False)
    _users: dict[str, int] = field(default_factory=dict, init=False)

    async def respond(self, inbound: Inbound) -> str | None:
        """The passive reply to one callback (None: answer "success", i.e. nothing)."""
        key = inbound.dedupe_key(self.salt)
        try:
            claimed = await in_transaction(self.sessions, store.claim_message, key, self.clock())
        except Exception:
            # Without the database a retry cannot be recognised; answering twice beats silence.
            logger.exception("wechat_dedupe_failed", extra={"event": "wechat_dedupe_failed"})
            return await self._answer_without_dedupe(inbound)
        if not claimed:
            return await self._retry_reply(key)
        turn = asyncio.create_task(self.turn(inbound))
        done, _ = await asyncio.wait({turn}, timeout=self.deadline_s)
        if turn in done:
            parts = turn.result()
            try:
                await self._settle_passive(key, inbound.sender_id, parts)
            except Exception:  # the answer is ready: give it even if it cannot be recorded
                logger.exception("wechat_settle_failed", extra={"event": "wechat_settle_failed"})
            return parts[0] if parts else None
        try:
            await self._db(store.settle_message, key, "deferred", None)
        except Exception:
            logger.exception("wechat_settle_failed", extra={"event": "wechat_settle_failed"})
        later = asyncio.create_task(self._deliver_later(key, inbound.sender_id, turn))
        self._later.add(later)
        later.add_done_callback(self._later.discard)
        logger.info("wechat_deferred", extra={"event": "wechat_deferred"})
        return texts.text("ack", await self._lang(inbound.sender_id))

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for answers still being prepared (shutdown, tests)."""
        if self._later:
            await asyncio.wait(set(self._later), timeout=timeout)

    async def turn(self, inbound: Inbound) -> list[str]:
        """The reply parts for one message or event (never raises). One user's messages are
        handled one after another, in arrival order (users run in parallel)."""
        sender = inbound.sender_id
        lock = self._locks.setdefault(sender, asyncio.Lock())
        self._users[sender] = self._users.get(sender, 0) + 1
        try:
            async with lock:
                return await self._turn(inbound)
        finally:
            self._users[sender] -= 1
            if self._users[sender] == 0:
                del self._users[sender], self._locks[sender]

    async def _turn(self, inbound: Inbound) -> list[str]:
        lang = await self._lang(inbound.sender_id)
        try:
            rendered = await self._dispatch(inbound, lang)
            options = [r.options for r in rendered if r.options is not None]
            if options:
                await self._db(store.save_options, inbound.sender_id, options[-1], self.clock())
            elif rendered:
                await self._db(store.save_options, inbound.sender_id, None, self.clock())
        except Exception:
            logger.exception(
                "wechat_turn_failed",
                extra={"event": "wechat_turn_failed", "kind": inbound.msg_type},
            )
            return [texts.text("unavailable", lang)]
        return pack([r.text for r in rendered if r.text])

    # --- the five-second bookkeeping ----------------------------------------------------------

    async def _retry_reply(self, key: str) -> str | None:
        logger.info("wechat_retry", extra={"event": "wechat_retry"})
        row = await self._db(store.find_message, key)
        return row.reply if row is not None and row.state == "passive" else None

    async def _settle_passive(self, key: str, sender_id: str, parts: list[str]) -> None:
        first = parts[0] if parts else None

        def work(session: Session) -> None:
            store.settle_message(session, key, "passive", first)
            self._enqueue(session, key, sender_id, parts[1:], offset=1)

        await self._db(work)
        if len(parts) > 1:
            self._wake()

    async def _deliver_later(self, key: str, sender_id: str, turn: asyncio.Task[list[str]]) -> None:
        parts = await turn
        try:
            await self._db(lambda s: self._enqueue(s, key, sender_id, parts, offset=0))
        except Exception:
            logger.exception("wechat_enqueue_failed", extra={"event": "wechat_enqueue_failed"})
            return
        self._wake()

    def _enqueue(
        self, session: Session, key: str, sender_id: str, parts: list[str], *, offset: int
    ) -> None:
        for i, part in enumerate(parts, offset):
            outbox.enqueue(
                session,
                channel=store.CHANNEL,
                sender_id=sender_id,
                kind=REPLY_KIND,
                text=part,
                payload={"type": REPLY_KIND},
                dedupe_key=f"wxmsg:{key[:32]}:{i}",
            )

    async def _answer_without_dedupe(self, inbound: Inbound) -> str | None:
        try:
            parts = await asyncio.wait_for(self.turn(inbound), self.deadline_s)
        except TimeoutError:  # the database is failing: no stored language to look up
            return texts.text("unavailable")
        return parts[0] if parts else None

    # --- what a message means -----------------------------------------------------------------

    async def _dispatch(self, inbound: Inbound, lang: str) -> list[Rendered]:
        sender = inbound.sender_id
        kind = inbound.msg_type
        if kind == "event":
            return await self._event(inbound, lang)
        await self._db(store.record_inbound, sender, self.clock())
        logger.info(
            "wechat_message",
            extra={
                "event": "wechat_message",
                "kind": kind,
                "sender": sender_tag(self.salt, sender),
            },
        )
        if kind == "text":
            return await self._text(sender, inbound.field("Content"), lang)
        if kind == "voice":
            recognized = inbound.field("Recognition")
            if recognized:
                return await self._text(sender, recognized, lang)
            return [Rendered(texts.text("voice_unrecognized", lang))]
        return [Rendered(texts.text(kind if kind in NON_TEXT else "non_text", lang))]

    async def _text(self, sender: str, text: str, lang: str) -> list[Rendered]:
        word = unicodedata.normalize("NFKC", text).strip()
        said = word.lower()
        if said in texts.words("subscribe"):
            return [await self._tips(sender, on=True, lang=lang)]
        if said in texts.words("unsubscribe"):
            return [await self._tips(sender, on=False, lang=lang)]
        if said in texts.words("privacy"):
            return [Rendered(texts.privacy(self.kb.office, lang))]
        if said in texts.words("help"):
            return [self.welcome(privacy=False, lang=lang)]
        if word.isdigit() and len(word) <= 2:
            # Soon after a closed ticket's 1–5 question, a bare digit is the rating.
            thanks = await self._db(ratings.rate_by_digit, sender, int(word), self.clock())
            if thanks is not None:
                return [Rendered(thanks)]
            option = await self._db(store.chosen_option, sender, int(word), self.clock())
            if option is not None:
                return await self._option(sender, option, lang)
        return await self._relay(sender, text, lang)

    async def _option(self, sender: str, option: Option, lang: str) -> list[Rendered]:
        if "topic" in option:
            return [topic_menu(self.kb, self.menu, option["topic"], lang)]
        entry = self.kb.get(option.get("kb_id", ""))
        if entry is None:
            return [Rendered(texts.text("menu_expired", lang))]
        return await self._relay(sender, entry.title, lang)

    async def _relay(self, sender: str, text: str, lang: str) -> list[Rendered]:
        """Relay a message; `lang` is the conversation's language so far (stored per sender)."""
        try:
            replies = await self.relay.handle(
                sender, text, metadata={"lang": lang} if lang != "zh" else None
            )
        except MessageRejected as rejected:
            return [Rendered(rejected.message)]
        except ServiceUnavailable:
            return [Rendered(texts.text("unavailable", lang))]
        # The relay answers in the language this message is written in (else the stored one).
        reply_lang = language.detect(text, lang) or lang
        return [render(reply, reply_lang) for reply in replies]

    async def _event(self, inbound: Inbound, lang: str) -> list[Rendered]:
        sender, event = inbound.sender_id, inbound.event or ""
        logger.info("wechat_event", extra={"event": "wechat_event", "kind": event})
        if event == "subscribe":
            await self._db(store.record_follow, sender, self.clock())
            return [self.welcome(privacy=True, lang=lang)]
        if event == "unsubscribe":
            await self._db(store.unfollow, sender, self.clock(), self.max_attempts)
            return []
        if event == "scan":
            return [Rendered(texts.text("welcome_back", lang))]
        if event == "click":
            return await self._click(sender, inbound.field("EventKey"), lang)
        if event not in SILENT_EVENTS:
            logger.info("wechat_event_ignored", extra={"event": "wechat_event_ignored"})
        return []

    async def _click(self, sender: str, key: str, lang: str) -> list[Rendered]:
        prefix, _, value = key.partition(":")
        if prefix == "TOPIC" and any(e.topic == value for e in self.kb.entries.values()):
            return [topic_menu(self.kb, self.menu, value, lang)]
        if prefix == "SECTION":
            return [section_menu(self.menu, value, lang)]
        if prefix == "CMD":
            if value == "status":
                return await self._relay(sender, texts.text("status_text", lang), lang)
            if value == "human":
                return await self._relay(sender, texts.text("human_text", lang), lang)
            if value in ("tip_on", "tip_off"):
                return [await self._tips(sender, on=value == "tip_on", lang=lang)]
            if value == "privacy":
                return [Rendered(texts.privacy(self.kb.office, lang))]
            if value == "help":
                return [self.welcome(privacy=False, lang=lang)]
        return [Rendered(texts.text("menu_expired", lang))]

    def welcome(self, *, privacy: bool, lang: str = "zh") -> Rendered:
        """The welcome with the menu's topics (and the privacy line for new followers)."""
        text = texts.text("welcome", lang, menu=self.menu.outline())
        return Rendered(f"{text}\n\n{texts.text('privacy_line', lang)}" if privacy else text)

    async def _tips(self, sender: str, *, on: bool, lang: str) -> Rendered:
        try:
            changed = await self._db(tips.subscribe if on else tips.unsubscribe, sender)
        except Exception:
            logger.exception("wechat_tips_failed", extra={"event": "wechat_tips_failed"})
            return Rendered(texts.text("db_trouble", lang))
        if on:
            if not changed:
                return Rendered(texts.text("already_subscribed", lang))
            tz = texts.tip_timezone(self.tip_timezone, lang)
            return Rendered(texts.text("subscribed", lang, time=self.tip_time, tz=tz))
        return Rendered(texts.text("unsubscribed" if changed else "not_subscribed", lang))

    # --- helpers ------------------------------------------------------------------------------

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await in_transaction(self.sessions, fn, *args)

    async def _lang(self, sender: str) -> str:
        """The conversation's language so far (stored per sender); Chinese when unknown."""
        try:
            return await self._db(get_lang, sender)
        except Exception:  # a language is not worth failing the turn
            logger.warning("lang_lookup_failed", extra={"event": "lang_lookup_failed"})
            return "zh"

    def _wake(self) -> None:
        if self.on_queued is not None:
            self.on_queued()
