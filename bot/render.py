"""Render bot turns for Telegram: HTML-escaped text, sources as links, buttons inline."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from core.rasa_client import BotMessage

TELEGRAM_LIMIT = 4096
CALLBACK_PREFIX = "kb:"


@dataclass
class Outgoing:
    text: str  # HTML parse mode, already escaped
    keyboard: InlineKeyboardMarkup | None = None


def _keyboard(options: list[dict[str, Any]]) -> InlineKeyboardMarkup | None:
    rows = []
    for option in options[:5]:
        data = f"{CALLBACK_PREFIX}{option['kb_id']}"
        if len(data.encode()) <= 64:
            rows.append([InlineKeyboardButton(text=str(option["title"])[:60], callback_data=data)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def render(message: BotMessage) -> list[Outgoing]:
    """One bot turn as Telegram messages (split below Telegram's length limit)."""
    custom = message.custom or {}
    parts = [escape(message.text)] if message.text else []
    keyboard = None
    kind = custom.get("type")
    if kind == "kb_answer":
        links = []
        for source in custom.get("sources", []):
            url = _safe_url(str(source.get("url", "")))
            title = escape(str(source.get("title", "")))
            links.append(f'<a href="{escape(url, quote=True)}">{title}</a>' if url else title)
        parts.append("依据：" + "；".join(links))
        parts.append(f"审核日期：{escape(str(custom.get('last_reviewed', '')))}")
        keyboard = _keyboard(custom.get("options", []))
    elif kind == "suggestions":
        keyboard = _keyboard(custom.get("options", []))
    if not parts:
        return []
    return [
        Outgoing(chunk, keyboard if i == 0 else None)
        for i, chunk in enumerate(split_text("\n\n".join(parts)))
    ]


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at paragraph or line breaks so each part fits; never inside an HTML tag."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind("。", 0, limit) + 1)
        if cut <= 0 or (
            "<" in text[text.rfind("<", 0, cut) : cut]
            and ">" not in text[text.rfind("<", 0, cut) : cut]
        ):
            cut = limit
            while cut > 0 and text.rfind("<", 0, cut) > text.rfind(">", 0, cut):
                cut = text.rfind("<", 0, cut)
            cut = cut or limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    return [c for c in chunks if c]
