"""The custom menu: read and validate bot/wechat/menu.yml, its WeChat JSON, its click keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.kb.loader import KnowledgeBase

MENU_FILE = Path(__file__).with_name("menu.yml")
MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES, KEY_BYTES = 16, 60, 128
COMMANDS = frozenset({"status", "human", "tip_on", "tip_off", "privacy", "help"})
BUTTON_TYPES = frozenset({"click", "view"})


class MenuError(ValueError):
    """The menu file breaks WeChat's limits or names something the bot does not know."""


@dataclass(frozen=True)
class Menu:
    buttons: list[dict[str, Any]]
    sections: dict[str, list[str]]
    topics: dict[str, str]  # topic → label

    def wechat_json(self) -> dict[str, Any]:
        """The body of WeChat's menu/create call."""
        return {"button": self.buttons}

    def outline(self) -> str:
        """The menu as lines for the welcome message."""
        lines = []
        for top in self.buttons:
            subs = "、".join(str(s["name"]) for s in top.get("sub_button", []))
            lines.append(f"【{top['name']}】{subs}" if subs else f"【{top['name']}】")
        return "\n".join(lines)

    def topic_label(self, topic: str) -> str:
        return self.topics.get(topic, topic)


def load_menu(path: Path = MENU_FILE, kb: KnowledgeBase | None = None) -> Menu:
    """Read and validate the menu file (against the KB's topics when given)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    buttons = data.get("button") or []
    sections = {str(k): [str(t) for t in v] for k, v in (data.get("sections") or {}).items()}
    topics = {str(k): str(v) for k, v in (data.get("topics") or {}).items()}
    menu = Menu(buttons, sections, topics)
    problems = validate(menu, kb)
    if problems:
        raise MenuError("; ".join(problems))
    return menu


def validate(menu: Menu, kb: KnowledgeBase | None = None) -> list[str]:
    """Every problem of the menu, as readable lines (empty when it is fine)."""
    found: list[str] = []
    if not 1 <= len(menu.buttons) <= MAX_BUTTONS:
        found.append(f"the menu needs 1 to {MAX_BUTTONS} top-level buttons")
    kb_topics = {e.topic for e in kb.entries.values()} if kb is not None else None
    for top in menu.buttons:
        name = str(top.get("name", ""))
        if not name or len(name.encode()) > TOP_NAME_BYTES:
            found.append(f"top-level name {name!r} must be 1-{TOP_NAME_BYTES} bytes")
        subs = top.get("sub_button") or []
        if len(subs) > MAX_SUB_BUTTONS:
            found.append(f"{name!r} has more than {MAX_SUB_BUTTONS} sub-buttons")
        for button in subs if subs else [top]:
            found.extend(_button_problems(menu, button, kb_topics, top_level=not subs))
    for section, members in menu.sections.items():
        for topic in members:
            if kb_topics is not None and topic not in kb_topics:
                found.append(f"section {section!r} names unknown topic {topic!r}")
    return found


def _button_problems(
    menu: Menu, button: dict[str, Any], kb_topics: set[str] | None, *, top_level: bool
) -> list[str]:
    found = []
    name = str(button.get("name", ""))
    limit = TOP_NAME_BYTES if top_level else SUB_NAME_BYTES
    if not name or len(name.encode()) > limit:
        found.append(f"button name {name!r} must be 1-{limit} bytes")
    kind = button.get("type")
    if kind not in BUTTON_TYPES:
        found.append(f"button {name!r}: type must be one of {sorted(BUTTON_TYPES)}")
    if kind == "view":
        if not str(button.get("url", "")).startswith("https://"):
            found.append(f"button {name!r}: a view button needs an https url")
        return found
    key = str(button.get("key", ""))
    if not key or len(key.encode()) > KEY_BYTES:
        found.append(f"button {name!r}: key must be 1-{KEY_BYTES} bytes")
    prefix, _, value = key.partition(":")
    if prefix == "TOPIC":
        if kb_topics is not None and value not in kb_topics:
            found.append(f"button {name!r}: unknown topic {value!r}")
    elif prefix == "SECTION":
        if value not in menu.sections:
            found.append(f"button {name!r}: unknown section {value!r}")
    elif prefix == "CMD":
        if value not in COMMANDS:
            found.append(f"button {name!r}: unknown command {value!r}")
    else:
        found.append(f"button {name!r}: key {key!r} is not TOPIC:, SECTION: or CMD:")
    return found
