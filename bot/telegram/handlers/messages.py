"""Private-chat messages: keyboard sections, text to the relay, other content politely refused."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.telegram import texts
from bot.telegram.conversation import relay_and_reply
from bot.telegram.render import section_menu
from core.conversation.relay import Relay
from core.kb.loader import KnowledgeBase

logger = logging.getLogger(__name__)


async def on_section(message: Message, kb: KnowledgeBase, lang: str) -> None:
    """A reply-keyboard section (归侨侨眷权益 …): its topics or questions as buttons."""
    menu = section_menu(kb, message.text or "", lang)
    await message.answer(menu.text, reply_markup=menu.keyboard)


async def on_unknown_command(message: Message, lang: str) -> None:
    """Never relay "/…" to Rasa: there it would inject an intent."""
    await message.answer(texts.text("unknown_command", lang))


async def on_text(message: Message, bot: Bot, relay: Relay, lang: str) -> None:
    """Relay the text to the bot (or to staff during a handoff)."""
    await relay_and_reply(bot, message.chat.id, message.text or "", relay, lang)


async def on_contact(message: Message, lang: str) -> None:
    """A shared contact card: not processed, not stored."""
    await message.answer(texts.text("contact_shared", lang))


async def on_other(message: Message, lang: str) -> None:
    """Photos, stickers, voice, documents, locations …: explain politely."""
    logger.info(
        "non_text_message", extra={"event": "non_text_message", "kind": message.content_type}
    )
    await message.answer(texts.text("non_text", lang))


async def on_edited(message: Message, lang: str) -> None:
    """An edited message is not processed again."""
    await message.answer(texts.text("edited", lang))


def build_router() -> Router:
    """A fresh router (a Router can belong to one Dispatcher only)."""
    router = Router(name="messages")
    router.message.filter(F.chat.type == "private")
    router.edited_message.filter(F.chat.type == "private")
    router.message.register(on_section, F.text.in_(texts.all_section_labels()))
    router.message.register(on_unknown_command, F.text.startswith("/"))
    router.message.register(on_text, F.text)
    router.message.register(on_contact, F.contact)
    router.message.register(on_other)
    router.edited_message.register(on_edited)
    return router
