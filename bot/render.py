"""Render bot turns for Telegram: HTML-escaped text, sources as links, buttons inline.

Callback data (Telegram allows 64 bytes): `kb:<id>` ask an entry, `fb1:<id>` / `fb0:<id>`
feedback, `tp:<topic>` list a topic, `lang:<zh|en>`, `cmd:<human|status|unsubscribe>`.
KB ids are at most 60 characters (core.kb.schema), so every form fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot import texts
from core.kb.loader import KnowledgeBase
from core.rasa_client import BotMessage

TELEGRAM_LIMIT = 4096
CALLBACK_LIMIT = 64
CALLBACK_PREFIX = "kb:"
FEEDBACK_PREFIXES = ("fb1:", "fb0:")
TOPIC_PREFIX = "tp:"
LANG_PREFIX = "lang:"
COMMAND_PREFIX = "cmd:"
MAX_OPTION_BUTTONS = 5
BUTTON_TEXT_LIMIT = 60


@dataclass
class Outgoing:
    text: str  # HTML parse mode, already escaped
    keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None


def button(text: str, data: str) -> InlineKeyboardButton | None:
    """An inline button, or None when the callback data would exceed Telegram's limit."""
    if len(data.encode()) > CALLBACK_LIMIT:
        return None
    return InlineKeyboardButton(text=text[:BUTTON_TEXT_LIMIT], callback_data=data)


def _rows(buttons: Iterable[InlineKeyboardButton | None]) -> list[list[InlineKeyboardButton]]:
    return [[b] for b in buttons if b is not None]


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _option_rows(options: list[dict[str, Any]]) -> list[list[InlineKeyboardButton]]:
    return _rows(
        button(str(o.get("title", "")), f"{CALLBACK_PREFIX}{o.get('kb_id', '')}")
        for o in options[:MAX_OPTION_BUTTONS]
        if o.get("kb_id")
    )


def feedback_row(kb_id: str) -> list[InlineKeyboardButton]:
    """👍/👎 buttons for one answer (empty if the id would not fit)."""
    pair = [button("👍 有帮助", f"fb1:{kb_id}"), button("👎 没帮助", f"fb0:{kb_id}")]
    return [b for b in pair if b is not None] if all(pair) else []


def human_row() -> list[InlineKeyboardButton]:
    """A "talk to staff" button."""
    return [InlineKeyboardButton(text="转人工", callback_data=f"{COMMAND_PREFIX}human")]


def _sources(custom: dict[str, Any]) -> list[str]:
    english = custom.get("lang") == "en"
    links = []
    for source in custom.get("sources", []):
        url = _safe_url(str(source.get("url", "")))
        title = escape(str(source.get("title", "")))
        links.append(f'<a href="{escape(url, quote=True)}">{title}</a>' if url else title)
    lines = []
    if links:
        lines.append(("Sources: " if english else "依据：") + "；".join(links))
    if custom.get("last_reviewed"):
        label = "Last reviewed: " if english else "审核日期："
        lines.append(label + escape(str(custom["last_reviewed"])))
    return lines


def _safe_url(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


def render(message: BotMessage) -> list[Outgoing]:
    """One bot turn as Telegram messages (split below Telegram's length limit)."""
    custom = message.custom or {}
    kind = custom.get("type")
    parts = [escape(message.text)] if message.text else []
    rows: list[list[InlineKeyboardButton]] = []
    if kind in ("kb_answer", "tip"):
        parts.extend(_sources(custom))
        rows = _option_rows(custom.get("options", []))
        kb_id = str(custom.get("kb_id", ""))
        if kb_id:
            rows.append(feedback_row(kb_id))
        if kind == "tip":
            rows.append(
                [
                    InlineKeyboardButton(
                        text="取消订阅", callback_data=f"{COMMAND_PREFIX}unsubscribe"
                    )
                ]
            )
    elif kind == "suggestions":
        rows = [*_option_rows(custom.get("options", [])), human_row()]
    elif kind == "status" and parts:
        parts[0] = "<b>📋 办理进度</b>\n" + parts[0]
        rows = [human_row()]
    elif kind in ("fallback", "out_of_scope"):
        rows = [human_row()]
    return _assemble(parts, _markup([r for r in rows if r]))


def render_outbox(kind: str, text: str, payload: dict[str, Any] | None) -> list[Outgoing]:
    """An outbox row (staff reply, notification, tip, system message) as Telegram messages."""
    payload = payload or {}
    if kind == "staff_reply":
        ticket = payload.get("ticket")
        header = (
            f"👤 工作人员回复（工单 #{escape(str(ticket))}）：" if ticket else "👤 工作人员回复："
        )
        return _assemble([f"<b>{header}</b>\n{escape(text)}"], None)
    parts = render(BotMessage(text=text, custom=payload))
    if kind == "notification" and parts:
        parts[0].text = f"🔔 {parts[0].text}"
    return parts


def _assemble(parts: list[str], keyboard: InlineKeyboardMarkup | None) -> list[Outgoing]:
    """Join and split; the keyboard goes under the last part, after the whole text."""
    if not parts:
        return []
    chunks = split_text("\n\n".join(parts))
    return [
        Outgoing(chunk, keyboard if i == len(chunks) - 1 else None)
        for i, chunk in enumerate(chunks)
    ]


def main_keyboard() -> ReplyKeyboardMarkup:
    """The reply keyboard shown by /start."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=texts.BTN_RIGHTS), KeyboardButton(text=texts.BTN_VISA)],
            [KeyboardButton(text=texts.BTN_LEGALIZATION)],
            [KeyboardButton(text=texts.BTN_STATUS), KeyboardButton(text=texts.BTN_HUMAN)],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def section_menu(kb: KnowledgeBase, section: str) -> Outgoing:
    """A reply-keyboard section: its topics, or straight its questions when it has one topic."""
    topics = texts.SECTIONS[section]
    if len(topics) == 1:
        return topic_menu(kb, topics[0])
    rows = _rows(button(texts.TOPIC_LABELS.get(t, t), f"{TOPIC_PREFIX}{t}") for t in topics)
    return Outgoing(escape(texts.CHOOSE_TOPIC), _markup(rows))


def topic_menu(kb: KnowledgeBase, topic: str) -> Outgoing:
    """The KB questions of one topic as buttons."""
    ids = sorted(k for k, e in kb.entries.items() if e.topic == topic)
    rows = _rows(button(kb.entries[k].title, f"{CALLBACK_PREFIX}{k}") for k in ids)
    return Outgoing(escape(texts.CHOOSE_QUESTION), _markup(rows))


def lang_keyboard() -> InlineKeyboardMarkup:
    """中文 / English choice."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="中文", callback_data=f"{LANG_PREFIX}zh"),
                InlineKeyboardButton(text="English", callback_data=f"{LANG_PREFIX}en"),
            ]
        ]
    )


def without_feedback(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same keyboard minus its feedback row (after the citizen gave feedback)."""
    if markup is None:
        return None
    rows = [
        row
        for row in markup.inline_keyboard
        if not any((b.callback_data or "").startswith(FEEDBACK_PREFIXES) for b in row)
    ]
    return _markup(rows)


def split_text(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at line or sentence ends so each part fits; never inside a tag, a link or an
    HTML entity, so every part is valid HTML on its own."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = _safe_cut(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    return [c for c in chunks if c.strip()]


# Units that must stay whole: links and bold spans with their text, other tags, entities.
_ATOM_RE = re.compile(r"<a\b[^>]*>.*?</a>|<b>.*?</b>|<[^>]*>|&#?\w+;", re.S)


def _safe_cut(text: str, limit: int) -> int:
    cut = max(text.rfind("\n", 0, limit), text.rfind("。", 0, limit) + 1)
    if cut < limit // 4:  # no natural break in most of the part: cut at the limit
        cut = limit
    for match in _ATOM_RE.finditer(text):
        if match.start() >= cut:
            break
        if cut < match.end():
            cut = match.start()
            break
    return cut if cut > 0 else limit
