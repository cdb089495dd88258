"""The responses Rasa says itself (domain.yml) read exactly as the catalogue (core/texts).

domain.yml keeps them in Chinese; the relay renders English conversations from the payload with
the catalogue's English (core.conversation.language). A variant with the condition
`{type: slot, name: lang, value: en}` must equal the English text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.texts import t

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "utter_greet": "reply.greeting",
    "utter_goodbye": "reply.goodbye",
    "utter_thanks": "reply.thanks",
    "utter_ask_case_reference": "reply.status_prompt_reference",
    "utter_ask_phone_last4": "reply.status_prompt_verification",
    "utter_status_cancelled": "reply.status_cancelled",
    "utter_nothing_to_cancel": "reply.status_cancelled_nothing",
}


def responses() -> dict[str, list[dict]]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def lang_of(variant: dict) -> str:
    for condition in variant.get("condition") or []:
        if condition.get("name") == "lang":
            return str(condition.get("value"))
    return "zh"


def test_every_response_has_a_catalogue_key():
    assert sorted(set(responses()) - set(KEYS)) == []


@pytest.mark.parametrize("name", sorted(KEYS))
def test_response_text_equals_the_catalogue(name):
    variants = responses().get(name, [])
    assert variants, f"{name} is missing from domain.yml"
    differences = [
        (lang_of(v), v.get("text"), t(KEYS[name], lang_of(v)))
        for v in variants
        if v.get("text") != t(KEYS[name], lang_of(v))
    ]
    assert differences == [], "domain.yml and core/texts differ (domain.yml is the lead's file)"
