"""Render cards (core.conversation.render) for Telegram: HTML-escaped text, sources as links,
buttons inline.

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

from bot.telegram import texts
from core.conversation import render as render_contract
from core.conversation.rasa_client import BotMessage
from core.conversation.render import (
    ASK,
    COMMAND,
    FEEDBACK_NO,
    FEEDBACK_YES,
    LANG,
    RATE,
    TOPIC,
    Button,
    Card,
)
from core.kb import topics
from core.kb.loader import KnowledgeBase
from core.texts import t

TELEGRAM_LIMIT = 4096
CALLBACK_LIMIT = 64
CALLBACK_PREFIX = "kb:"
FEEDBACK_PREFIXES = ("fb1:", "fb0:")
TOPIC_PREFIX = "tp:"
LANG_PREFIX = "lang:"
COMMAND_PREFIX = "cmd:"
RATE_PREFIX = "rate:"
BUTTON_TEXT_LIMIT = 60
# Callback data per card button action (core.conversation.render).
ACTION_PREFIXES = {
    ASK: CALLBACK_PREFIX,
    FEEDBACK_YES: "fb1:",
    FEEDBACK_NO: "fb0:",
    COMMAND: COMMAND_PREFIX,
    TOPIC: TOPIC_PREFIX,
    LANG: LANG_PREFIX,
    RATE: RATE_PREFIX,
}


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


def _button_row(row: list[Button]) -> list[InlineKeyboardButton]:
    """A card's button row; empty when any of its buttons would not fit Telegram's limit."""
    buttons = [button(b.label, f"{ACTION_PREFIXES[b.action]}{b.value}") for b in row]
    return [b for b in buttons if b is not None] if all(buttons) else []


def feedback_row(kb_id: str) -> list[InlineKeyboardButton]:
    """👍/👎 buttons for one answer (empty if the id would not fit)."""
    return _button_row(render_contract.feedback_row(kb_id))


def _sources(out: Card) -> list[str]:
    links = [
        f'<a href="{escape(link.url, quote=True)}">{escape(link.title)}</a>'
        if link.url
        else escape(link.title)
        for link in out.sources
    ]
    lines = []
    if links:
        lines.append(out.sources_label + "；".join(links))
    if out.reviewed:
        lines.append(out.reviewed_label + escape(out.reviewed))
    return lines


def render_card(out: Card) -> list[Outgoing]:
    """A card as Telegram messages: HTML text (split below the limit), buttons under the last."""
    parts = [escape(out.text)] if out.text else []
    if out.title is not None:
        parts = [f"<b>{escape(out.title)}</b>\n" + (parts[0] if parts else ""), *parts[1:]]
    if out.footer:
        parts.append(f"<i>{escape(out.footer)}</i>")
    parts.extend(_sources(out))
    outgoing = _assemble(parts, _markup([r for r in map(_button_row, out.rows) if r]))
    if out.badge and outgoing:
        outgoing[0].text = f"{out.badge} {outgoing[0].text}"
    return outgoing


def render(message: BotMessage) -> list[Outgoing]:
    """One bot turn as Telegram messages (split below Telegram's length limit)."""
    return render_card(render_contract.card(message))


def render_outbox(kind: str, text: str, payload: dict[str, Any] | None) -> list[Outgoing]:
    """An outbox row (staff reply, notification, tip, system message) as Telegram messages."""
    return render_card(render_contract.outbox_card(kind, text, payload))


def _assemble(parts: list[str], keyboard: InlineKeyboardMarkup | None) -> list[Outgoing]:
    """Join and split; the keyboard goes under the last part, after the whole text."""
    if not parts:
        return []
    chunks = split_text("\n\n".join(parts))
    return [
        Outgoing(chunk, keyboard if i == len(chunks) - 1 else None)
        for i, chunk in enumerate(chunks)
    ]


def main_keyboard(lang: str = "zh") -> ReplyKeyboardMarkup:
    """The reply keyboard shown by /start, in the citizen's language."""

    def key(name: str) -> KeyboardButton:
        return KeyboardButton(text=texts.text(name, lang))

    return ReplyKeyboardMarkup(
        keyboard=[
            [key("btn_rights"), key("btn_visa")],
            [key("btn_legalization")],
            [key("btn_status"), key("btn_human")],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def section_menu(kb: KnowledgeBase, section: str, lang: str = "zh") -> Outgoing:
    """A reply-keyboard section (its label in any language): its topics, or straight its
    questions when it has one topic."""
    section_topics = texts.section_topics(section) or ()
    if len(section_topics) == 1:
        return topic_menu(kb, section_topics[0], lang)
    rows = _rows(button(topics.label(t), f"{TOPIC_PREFIX}{t}") for t in section_topics)
    return Outgoing(escape(texts.text("choose_topic", lang)), _markup(rows))


def topic_menu(kb: KnowledgeBase, topic: str, lang: str = "zh") -> Outgoing:
    """The KB questions of one topic as buttons."""
    ids = sorted(k for k, e in kb.entries.items() if e.topic == topic)
    rows = _rows(button(kb.entries[k].title, f"{CALLBACK_PREFIX}{k}") for k in ids)
    return Outgoing(escape(texts.text("choose_question", lang)), _markup(rows))


def lang_keyboard() -> InlineKeyboardMarkup:
    """中文 / 繁體 / English choice."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("telegram.lang_name_zh"), callback_data=f"{LANG_PREFIX}zh"
                ),
                InlineKeyboardButton(
                    text=t("telegram.lang_name_zh_hant"), callback_data=f"{LANG_PREFIX}zh-Hant"
                ),
                InlineKeyboardButton(
                    text=t("telegram.lang_name_en"), callback_data=f"{LANG_PREFIX}en"
                ),
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
