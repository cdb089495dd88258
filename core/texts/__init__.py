"""Every fixed text citizens read, one catalogue per language: core/texts/zh.yml and en.yml
(the same keys; tests check parity). `t("reply.fallback", lang="en", **fmt)` gives one text;
`section("widget", lang)` a group of them. Shared by every channel; imports nothing from core.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import yaml

LANGS = ("zh", "en")
DIR = Path(__file__).resolve().parent


def lang_of(lang: str | None) -> str:
    """The catalogue for a language code: "en" → English; zh, zh-Hant and anything else → Chinese
    (traditional script is converted from the simplified text after rendering)."""
    return "en" if lang == "en" else "zh"


@lru_cache(maxsize=len(LANGS))
def catalogue(lang: str) -> dict[str, str]:
    """All texts of one language by dotted key (read once per process, on first use)."""
    data = yaml.safe_load((DIR / f"{lang_of(lang)}.yml").read_text(encoding="utf-8"))
    return dict(_flatten(data))


def t(key: str, lang: str | None = "zh", **fmt: object) -> str:
    """The text for `key` in the language, with `{placeholders}` filled from `fmt`."""
    text = catalogue(lang_of(lang))[key]
    return text.format(**fmt) if fmt else text


def section(prefix: str, lang: str | None = "zh") -> dict[str, str]:
    """The texts under `prefix.` by their remaining key (e.g. the widget's own texts)."""
    start = prefix + "."
    return {k[len(start) :]: v for k, v in catalogue(lang_of(lang)).items() if k.startswith(start)}


def _flatten(data: dict[str, object], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", str(value)
