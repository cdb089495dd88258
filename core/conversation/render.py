"""Reply payloads as every messaging app shows them, before app-specific markup.

`card(message)` turns one bot turn (text + `custom` payload, see replies) into a `Card`: the
text, an optional heading and badge, the sources and review date with their labels, and rows
of buttons whose `action` a channel maps to its own callback format. Telegram renders cards as
HTML with inline keyboards (bot/telegram/render.py); another messaging app renders the same
cards its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.conversation.rasa_client import BotMessage
from core.texts import t

MAX_OPTION_BUTTONS = 5

# Button actions: ask a KB entry's question, 👍/👎 on an answer, a command, list a topic, language,
# rate the human service of a closed ticket ("<ticket>:<1-5>").
ASK, FEEDBACK_YES, FEEDBACK_NO, COMMAND, TOPIC, LANG, RATE = (
    "ask", "feedback_yes", "feedback_no", "command", "topic", "lang", "rate",
)  # fmt: skip


@dataclass(frozen=True)
class Button:
    """A button: its label and what pressing it does (`action` with its `value`)."""

    label: str
    action: str
    value: str


@dataclass(frozen=True)
class Link:
    """A source under an answer; `url` is None when it is not an http(s) address."""

    title: str
    url: str | None


@dataclass
class Card:
    """One message as a channel shows it; all strings are plain text (the channel escapes)."""

    text: str | None = None
    title: str | None = None  # a heading above the text (status cards, staff replies)
    badge: str | None = None  # a symbol before the whole message (🔔 notifications)
    footer: str | None = None  # one short line under a KB answer: policy/待核实 note, contact
    sources: list[Link] = field(default_factory=list)
    sources_label: str = ""
    reviewed: str | None = None
    reviewed_label: str = ""
    rows: list[list[Button]] = field(default_factory=list)


def human_row(lang: str = "zh") -> list[Button]:
    """A "talk to staff" button."""
    return [Button(t("card.human", lang), COMMAND, "human")]


def feedback_row(kb_id: str, lang: str = "zh") -> list[Button]:
    """👍/👎 buttons for one answer."""
    return [
        Button(t("card.helpful", lang), FEEDBACK_YES, kb_id),
        Button(t("card.unhelpful", lang), FEEDBACK_NO, kb_id),
    ]


def option_rows(options: list[dict[str, Any]]) -> list[list[Button]]:
    """Follow-up or did-you-mean entries, one button per row."""
    return [
        [Button(str(o.get("title", "")), ASK, str(o.get("kb_id", "")))]
        for o in options[:MAX_OPTION_BUTTONS]
        if o.get("kb_id")
    ]


def safe_url(url: str) -> str | None:
    """The URL when it is http(s); anything else is shown as plain text."""
    return url if url.startswith(("https://", "http://")) else None


_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]{2}")


def card_lang(message: BotMessage) -> str:
    """The language of a turn's buttons and labels: the payload's `lang`, else that of its text
    (the relay already wrote it in the citizen's language)."""
    custom = message.custom or {}
    if custom.get("lang") in ("en", "zh"):
        return str(custom["lang"])
    text = message.text or ""
    return "en" if _LATIN.search(text) and not _CJK_CHAR.search(text) else "zh"


def card(message: BotMessage) -> Card:
    """One bot turn as a card (the payload decides sources, heading and buttons)."""
    custom = message.custom or {}
    kind = custom.get("type")
    out = Card(text=message.text or None)
    lang = card_lang(message)
    if kind in ("kb_answer", "tip"):
        out.footer = str(custom["footer"]) if custom.get("footer") else None
        out.sources = [
            Link(str(s.get("title", "")), safe_url(str(s.get("url", ""))))
            for s in custom.get("sources", [])
        ]
        out.sources_label = t("card.sources", lang)
        out.reviewed = str(custom["last_reviewed"]) if custom.get("last_reviewed") else None
        out.reviewed_label = t("card.reviewed", lang)
        out.rows = option_rows(custom.get("options", []))
        kb_id = str(custom.get("kb_id", ""))
        if kb_id:
            out.rows.append(feedback_row(kb_id, lang))
        if kind == "tip":
            out.rows.append([Button(t("card.unsubscribe", lang), COMMAND, "unsubscribe")])
    elif kind == "suggestions":
        out.rows = [*option_rows(custom.get("options", [])), human_row(lang)]
    elif kind == "status" and out.text:
        out.title = t("card.status_title", lang)
        out.rows = [human_row(lang)]
    elif kind in ("fallback", "out_of_scope"):
        out.rows = [human_row(lang)]
    elif kind == "rating_request" and custom.get("ticket"):
        out.rows = [rating_row(int(custom["ticket"]))]
    return out


def rating_row(ticket: int) -> list[Button]:
    """1–5 buttons rating the human service of a closed ticket."""
    return [Button(str(score), RATE, f"{ticket}:{score}") for score in range(1, 6)]


def outbox_card(kind: str, text: str, payload: dict[str, Any] | None) -> Card:
    """An outbox row (staff reply, notification, tip, system message) as a card."""
    payload = payload or {}
    if kind == "staff_reply":
        ticket = payload.get("ticket")
        title = t("card.staff_reply_ticket", ticket=ticket) if ticket else t("card.staff_reply")
        return Card(text=text, title=title)
    out = card(BotMessage(text=text, custom=payload))
    if kind == "notification":
        out.badge = "🔔"
    return out
