"""Render bot turns for WeChat: plain text, sources as `<a href>` links, numbered options.

The same reply contract as every channel (core's `custom` payload types). WeChat has no
buttons in a conversation, so did-you-mean suggestions, follow-ups and menu topics become a
numbered list; the citizen answers with the digit (bot/wechat/handler.py keeps the last list
per user). Passive replies and customer-service text messages are limited to 2,048 bytes of
UTF-8; parts are cut below `TEXT_LIMIT_BYTES` at line or sentence ends, never inside a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.wechat import texts
from bot.wechat.conversation import BotMessage
from bot.wechat.menu import Menu
from core.conversation.render import ASK, COMMAND, TOPIC, Card, card, outbox_card
from core.kb.loader import KnowledgeBase

TEXT_LIMIT_BYTES = 2000  # WeChat: 2,048 bytes per text message; margin for the XML/JSON wrapper
MAX_OPTIONS = 9
MAX_TOPIC_OPTIONS = 20

Option = dict[str, str]  # {"kb_id": …, "title": …} or {"topic": …, "title": …}


@dataclass
class Rendered:
    """One turn as WeChat text, and the numbered options it offers (None: it offers none)."""

    text: str
    options: list[Option] | None = field(default=None)


def link(url: str | None, title: str) -> str:
    """A WeChat text link, or the bare title when there is no plain http(s) URL."""
    title = title.replace("<", "〈").replace(">", "〉")
    if url is None or any(c in url for c in "\"'<> \n"):
        return title
    return f'<a href="{url}">{title}</a>'


def numbered(options: list[Option], header: str | None = None, lang: str | None = "zh") -> str:
    """ "1. …" lines with the hint to answer with a digit."""
    lines = [header] if header else []
    lines += [f"{i}. {o['title']}" for i, o in enumerate(options, 1)]
    lines.append(texts.text("options_hint", lang))
    return "\n".join(lines)


def from_card(c: Card, lang: str | None = "zh") -> Rendered:
    """A card of the shared rendering contract as WeChat text: heading, text, the one-line
    footer, sources as links, review date; its buttons become numbered options (ask an entry,
    list a topic) or the words to send (转人工, 退订侨法). Feedback buttons have no WeChat form
    and are left out. `lang`: the language of the hints this channel adds."""
    parts: list[str] = []
    body = c.text or ""
    if c.title:
        body = f"{c.title}\n{body}" if body else c.title
    if body:
        parts.append(f"{c.badge} {body}" if c.badge else body)
    if c.footer:
        parts.append(c.footer)
    if c.sources:
        parts.append(c.sources_label + "；".join(link(s.url, s.title) for s in c.sources))
    if c.reviewed:
        parts.append(c.reviewed_label + c.reviewed)
    options: list[Option] = []
    commands: set[str] = set()
    for row in c.rows:
        for button in row:
            if button.action == ASK and button.value:
                options.append({"kb_id": button.value, "title": button.label})
            elif button.action == TOPIC and button.value:
                options.append({"topic": button.value, "title": button.label})
            elif button.action == COMMAND:
                commands.add(button.value)
    options = options[:MAX_OPTIONS]
    if options:
        header = texts.text("follow_up_header", lang) if c.sources or c.reviewed else None
        parts.append(numbered(options, header, lang))
    if "unsubscribe" in commands:
        parts.append(texts.text("tip_footer", lang))
    human = texts.text("human_text", lang)
    if "human" in commands and not any(human in p for p in parts):
        parts.append(texts.text("human_hint", lang))
    return Rendered("\n\n".join(parts), options or None)


def render(message: BotMessage, lang: str | None = "zh") -> Rendered:
    """One bot turn as WeChat text and its options, the hints in `lang`."""
    return from_card(card(message), lang)


def render_outbox(kind: str, text: str, payload: dict[str, Any] | None) -> list[str]:
    """An outbox row (staff reply, notification, tip, deferred answer) as WeChat text parts;
    the hints in the language the payload names (as core's cards do), else Chinese."""
    if kind == "wx_reply":  # a deferred bot answer, already rendered
        return split_text(text)
    lang = "en" if (payload or {}).get("lang") == "en" else "zh"
    return split_text(from_card(outbox_card(kind, text, payload), lang).text)


def topic_menu(kb: KnowledgeBase, menu: Menu, topic: str, lang: str | None = "zh") -> Rendered:
    """The KB questions of one topic, numbered."""
    ids = sorted(k for k, e in kb.entries.items() if e.topic == topic)[:MAX_TOPIC_OPTIONS]
    options: list[Option] = [{"kb_id": k, "title": kb.entries[k].title} for k in ids]
    if not options:
        return Rendered(texts.text("menu_expired", lang), None)
    header = f"【{menu.topic_label(topic)}】{texts.text('choose_question', lang)}"
    return Rendered(numbered(options, header, lang), options)


def section_menu(menu: Menu, section: str, lang: str | None = "zh") -> Rendered:
    """The topics of a section, numbered."""
    options: list[Option] = [
        {"topic": t, "title": menu.topic_label(t)} for t in menu.sections.get(section, [])
    ]
    if not options:
        return Rendered(texts.text("menu_expired", lang), None)
    return Rendered(numbered(options, texts.text("choose_topic", lang), lang), options)


def pack(parts: list[str], limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """As few messages as possible: parts joined while they fit, long ones split."""
    out: list[str] = []
    for part in parts:
        for chunk in split_text(part, limit):
            if out and _size(out[-1]) + 2 + _size(chunk) <= limit:
                out[-1] = f"{out[-1]}\n\n{chunk}"
            else:
                out.append(chunk)
    return out


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Parts of at most `limit` UTF-8 bytes, cut at line or sentence ends, never in a link."""
    chunks: list[str] = []
    text = text.strip()
    while _size(text) > limit:
        cut = _safe_cut(text, limit)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return [c for c in chunks if c]


_LINK_RE = re.compile(r"<a\b[^>]*>.*?</a>", re.S)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _safe_cut(text: str, limit: int) -> int:
    """A character index whose prefix fits in `limit` bytes, preferably at a natural break."""
    fit = len(text.encode("utf-8")[:limit].decode("utf-8", "ignore"))  # chars within the limit
    cut = max(text.rfind("\n", 0, fit), text.rfind("。", 0, fit) + 1, text.rfind("；", 0, fit) + 1)
    if cut < fit // 4:  # no natural break in most of the part: cut at the limit
        cut = fit
    for match in _LINK_RE.finditer(text):
        if match.start() >= cut:
            break
        if cut < match.end():
            cut = match.start() if match.start() > 0 else min(match.end(), fit)
            break
    return cut if cut > 0 else fit
