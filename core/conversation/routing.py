"""Deterministic routing rules that no statistical classifier may overrule.

- A case reference anywhere in a message (any kind, lower case, spaces, full-width digits,
  with or without hyphens) is a status enquiry for that case.
- An explicit request for a person ("转人工", "不要机器人，给我换个人", "I want a real person").

Pure Python (stdlib + core.text): Rasa's override component (rasa_addons/routing.py) and the
app both use it, so every path into the bot routes the same way.
"""

from __future__ import annotations

import re

from core.cases import references
from core.cases.references import Reference
from core.text import normalize


def find_reference(text: str) -> Reference | None:
    """The first case reference in the text, in canonical form (core.cases.references)."""
    return references.find(text)


_HUMAN_RE = re.compile(
    "|".join(
        [
            r"转人工|转接人工|人工客服|人工服务|人工坐席|人工回复|人工处理|要人工|找人工|换人工|叫人工|^人工[!?.吧啊呀]*$",
            r"真人|活人|不要机器人|别用机器人|不想(跟|和)机器人|机器人(太笨|没用|不行|听不懂|答不了)",
            r"(换|找|叫|来)(个|一个)?人(来|吧|啊|过来|回答|跟我|和我)|给我(换|找)(个|一个)?人",
            r"(跟|和|同|找|要|请|让|叫)(你们)?(的)?(工作人员|职员|值班(的)?(同志|人员)?|负责人|经办人|客服)",
            r"(工作人员|职员|客服|经办人).{0,6}(联系我|回复我|打(电话)?给我|跟我(说|讲|聊|通话))",
            r"\b(real|live|actual) (person|human|agent|staff)",
            r"\bhuman( agent| being| please|$)|^(a )?human\b",
            r"\b(talk|speak|chat)(ing)? (to|with) (a |an |some |the )?"
            r"(person|human|someone|somebody|staff|officer|agent|representative|operator)",
            r"\b(customer service|operator please|live chat|get me a person|transfer me)",
            r"\bsomeone from (your|the) (team|office) (call|contact|reply)",
        ]
    )
)


def wants_human(text: str) -> bool:
    """The message explicitly asks for a person instead of the bot."""
    return bool(_HUMAN_RE.search(normalize(text).lower()))


_DIGITS_RE = re.compile(r"^\s*\d{4}\s*$")


def is_bare_code(text: str) -> bool:
    """Four digits on their own: the answer to the verification prompt."""
    return bool(_DIGITS_RE.match(normalize(text)))
