"""Updates that are not a private conversation: groups, channels, inline mode, edits.

Group and supergroup chats: the bot answers only when mentioned or replied to, and then
refuses politely and points to a private chat (answers, status lookups and handoffs are
personal). Everything else in groups and all channel posts are ignored on purpose.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.types import (
    InlineQuery,
    InlineQueryResultsButton,
    Message,
)

from bot.telegram import texts

logger = logging.getLogger(__name__)
GROUP_TYPES = {"group", "supergroup"}


async def addressed_to_bot(message: Message, bot: Bot) -> bool:
    """True when a group message mentions the bot, uses a /command@bot, or replies to it."""
    me = await bot.me()
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == me.id:
        return True
    text = message.text or message.caption or ""
    handle = f"@{me.username}".lower() if me.username else None
    for entity in message.entities or message.caption_entities or []:
        part = entity.extract_from(text).lower()
        if entity.type == "mention" and handle and part == handle:
            return True
        if entity.type == "bot_command" and handle and part.endswith(handle):
            return True
    return False


async def on_group_message(message: Message, bot: Bot, lang: str) -> None:
    """Refuse politely when addressed; otherwise stay silent."""
    if not await addressed_to_bot(message, bot):
        return
    me = await bot.me()
    logger.info("group_refused", extra={"event": "group_refused"})
    await message.reply(texts.text("group_refusal", lang, username=me.username or "bot"))


async def on_ignored(event: object) -> None:
    """Channel posts and edits outside private chats: deliberately ignored."""
    logger.debug("update_ignored", extra={"event": "update_ignored"})


async def on_inline_query(query: InlineQuery, lang: str) -> None:
    """Inline mode is not offered: empty results and a button to a private chat."""
    await query.answer(
        results=[],
        cache_time=3600,
        is_personal=False,
        button=InlineQueryResultsButton(
            text=texts.text("inline_button", lang), start_parameter="inline"
        ),
    )


def build_router() -> Router:
    """Registered before the private-chat routers."""
    router = Router(name="other")
    router.message.register(on_group_message, F.chat.type.in_(GROUP_TYPES))
    router.message.register(on_ignored, F.chat.type == "channel")
    router.edited_message.register(on_ignored, F.chat.type != "private")
    router.channel_post.register(on_ignored)
    router.edited_channel_post.register(on_ignored)
    router.inline_query.register(on_inline_query)
    return router
