"""Inline-button presses: ask a KB question, feedback, topic lists, language, commands, the 1–5
rating of the human service after a ticket was closed."""

from __future__ import annotations

import datetime as dt
import logging

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram import texts
from bot.telegram.conversation import TOLD, Clock, relay_and_reply, stored_or_told
from bot.telegram.handlers.commands import store_lang, unsubscribe
from bot.telegram.render import (
    CALLBACK_PREFIX,
    COMMAND_PREFIX,
    FEEDBACK_PREFIXES,
    LANG_PREFIX,
    RATE_PREFIX,
    TOPIC_PREFIX,
    topic_menu,
    without_feedback,
)
from core.conversation.relay import Relay
from core.handoff.ratings import RatingError, record_rating, thanks
from core.kb import topics
from core.kb.feedback import record_feedback
from core.kb.loader import KnowledgeBase
from core.notify.preferences import LANGS

logger = logging.getLogger(__name__)

COMMANDS = {"human": "btn_human", "status": "btn_status"}  # the button → the text relayed


def _private_chat(query: CallbackQuery) -> int | None:
    """The private chat the button belongs to (also for messages too old to edit)."""
    message = query.message
    if message is None or message.chat.type != "private":
        return None
    return message.chat.id


async def on_kb_button(
    query: CallbackQuery, bot: Bot, relay: Relay, kb: KnowledgeBase, lang: str
) -> None:
    """A follow-up or did-you-mean button: ask the entry's question on the citizen's behalf."""
    entry = kb.get((query.data or "")[len(CALLBACK_PREFIX) :])
    chat_id = _private_chat(query)
    if entry is None or chat_id is None:
        await query.answer(texts.text("button_expired", lang))
        return
    await query.answer()
    await relay_and_reply(bot, chat_id, entry.title, relay, lang)


async def on_feedback(
    query: CallbackQuery, kb: KnowledgeBase, sessions: sessionmaker[Session], lang: str
) -> None:
    """👍/👎: store the verdict once and remove the buttons."""
    data = query.data or ""
    helpful, kb_id = data.startswith("fb1:"), data[4:]
    if _private_chat(query) is None:
        await query.answer(texts.text("button_expired", lang))
        return
    stored = await stored_or_told(
        logger, "feedback_failed", query.answer, lang, sessions, record_feedback, kb, kb_id, helpful
    )
    if stored is TOLD:
        return
    if not stored:
        await query.answer(texts.text("button_expired", lang))
        return
    logger.info("feedback", extra={"event": "feedback", "kb_id": kb_id, "status": int(helpful)})
    await query.answer(texts.text("feedback_thanks", lang))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(
            reply_markup=without_feedback(query.message.reply_markup)
        )


async def on_topic(query: CallbackQuery, bot: Bot, kb: KnowledgeBase, lang: str) -> None:
    """A topic button: list its questions."""
    topic = (query.data or "")[len(TOPIC_PREFIX) :]
    chat_id = _private_chat(query)
    if topic not in topics.TOPIC_LABELS or chat_id is None:
        await query.answer(texts.text("button_expired", lang))
        return
    await query.answer()
    menu = topic_menu(kb, topic, lang)
    await bot.send_message(chat_id, menu.text, reply_markup=menu.keyboard)


async def on_lang(
    query: CallbackQuery, bot: Bot, sessions: sessionmaker[Session], clock: Clock, lang: str
) -> None:
    """中文 / 繁體 / English buttons of /lang."""
    chosen = (query.data or "")[len(LANG_PREFIX) :]
    chat_id = _private_chat(query)
    if chosen not in LANGS or chat_id is None:
        await query.answer(texts.text("button_expired", lang))
        return
    await query.answer()
    await store_lang(bot, chat_id, sessions, clock, chosen, lang)


async def on_command(
    query: CallbackQuery, bot: Bot, relay: Relay, sessions: sessionmaker[Session], lang: str
) -> None:
    """转人工 / 查询进度 / 取消订阅 buttons."""
    name = (query.data or "")[len(COMMAND_PREFIX) :]
    chat_id = _private_chat(query)
    if chat_id is None or (name not in COMMANDS and name != "unsubscribe"):
        await query.answer(texts.text("button_expired", lang))
        return
    await query.answer()
    if name == "unsubscribe":
        await unsubscribe(bot, chat_id, sessions, lang)
        return
    await relay_and_reply(bot, chat_id, texts.text(COMMANDS[name], lang), relay, lang)


async def on_rating(query: CallbackQuery, sessions: sessionmaker[Session], lang: str) -> None:
    """A 1–5 button under the rating question: store the score once and remove the buttons."""
    ticket, _, score = (query.data or "")[len(RATE_PREFIX) :].partition(":")
    chat_id = _private_chat(query)
    if chat_id is None or not ticket.isdigit() or not score.isdigit():
        await query.answer(texts.text("button_expired", lang))
        return
    sender = f"tg:{chat_id}"

    def work(session: Session) -> str | None:
        try:
            record_rating(session, sender, int(ticket), int(score), dt.datetime.now(dt.UTC))
        except RatingError:
            return None
        return thanks(session, sender)

    reply = await stored_or_told(logger, "rating_failed", query.answer, lang, sessions, work)
    if reply is TOLD:
        return
    await query.answer(reply or texts.text("button_expired", lang))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def on_unknown_button(query: CallbackQuery, lang: str) -> None:
    """Buttons from old messages or unknown data: acknowledge so the client stops spinning."""
    await query.answer(texts.text("button_expired", lang))


def build_router() -> Router:
    """Callback-query handlers, most specific first."""
    router = Router(name="callbacks")
    router.callback_query.register(on_kb_button, F.data.startswith(CALLBACK_PREFIX))
    router.callback_query.register(on_feedback, F.data.startswith(FEEDBACK_PREFIXES))
    router.callback_query.register(on_topic, F.data.startswith(TOPIC_PREFIX))
    router.callback_query.register(on_lang, F.data.startswith(LANG_PREFIX))
    router.callback_query.register(on_command, F.data.startswith(COMMAND_PREFIX))
    router.callback_query.register(on_rating, F.data.startswith(RATE_PREFIX))
    router.callback_query.register(on_unknown_button)
    return router
