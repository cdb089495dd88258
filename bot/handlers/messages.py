"""Text messages and button presses go to the relay; other content gets a polite reply."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, Message

from bot.render import CALLBACK_PREFIX, Outgoing, render
from core.kb.loader import KnowledgeBase
from core.rasa_client import BotMessage
from core.relay import MessageRejected, Relay, ServiceUnavailable

logger = logging.getLogger(__name__)

NON_TEXT_ZH = "目前只能处理文字消息，请用文字描述您的问题。如需人工帮助，请发送“转人工”。"
WELCOME_ZH = (
    "您好！我是外事侨务办公室的智能助手，可以解答归侨侨眷权益、因私签证代办、领事认证和附加证明书等问题，"
    "也可以查询办理进度（发送“查询进度”）或转人工服务（发送“转人工”）。\n"
    "Hello! Ask me about returnee rights, the visa agency service, legalization and apostilles."
)
UNAVAILABLE_ZH = "服务暂时不可用，请稍后再试。"


def sender_of(chat_id: int) -> str:
    """Channel-prefixed sender id so trackers never collide with the widget's."""
    return f"tg:{chat_id}"


async def _send(message: Message, outgoing: list[Outgoing]) -> None:
    for item in outgoing:
        await message.answer(item.text, reply_markup=item.keyboard)


async def _relay_and_reply(message: Message, relay: Relay, text: str) -> None:
    try:
        replies: list[BotMessage] = await relay.handle(sender_of(message.chat.id), text)
    except MessageRejected as rejected:
        await message.answer(rejected.message)
        return
    except ServiceUnavailable:
        await message.answer(UNAVAILABLE_ZH)
        return
    for reply in replies:
        await _send(message, render(reply))


async def on_start(message: Message) -> None:
    """Welcome text."""
    await message.answer(WELCOME_ZH)


async def on_text(message: Message, relay: Relay) -> None:
    """Relay the text to the bot (or to staff during a handoff)."""
    await _relay_and_reply(message, relay, message.text or "")


async def on_other(message: Message) -> None:
    """Photos, stickers, voice, documents, locations …: explain politely."""
    await message.answer(NON_TEXT_ZH)


async def on_kb_button(query: CallbackQuery, relay: Relay, kb: KnowledgeBase) -> None:
    """A follow-up or did-you-mean button: ask the entry's question on the citizen's behalf."""
    kb_id = (query.data or "")[len(CALLBACK_PREFIX) :]
    entry = kb.get(kb_id)
    await query.answer()
    if entry is None or query.message is None or not isinstance(query.message, Message):
        return
    await _relay_and_reply(query.message, relay, entry.title)


async def on_unknown_button(query: CallbackQuery) -> None:
    """Buttons from old messages or unknown data: acknowledge so the client stops spinning."""
    await query.answer("该按钮已失效，请直接输入您的问题。")


def build_router() -> Router:
    """A fresh router (a Router can belong to one Dispatcher only)."""
    router = Router(name="messages")
    router.message.register(on_start, CommandStart())
    router.message.register(on_text, F.text)
    router.message.register(on_other)
    router.callback_query.register(on_kb_button, F.data.startswith(CALLBACK_PREFIX))
    router.callback_query.register(on_unknown_button)
    return router
