"""The catalogue of citizen-facing texts: both languages have the same keys and placeholders."""

from __future__ import annotations

import string

import pytest

from core import texts


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys():
    zh, en = texts.catalogue("zh"), texts.catalogue("en")
    assert sorted(set(zh) ^ set(en)) == []


def test_no_text_is_empty_and_english_has_no_chinese_sentence():
    en = texts.catalogue("en")
    assert [k for k, v in {**texts.catalogue("zh"), **en}.items() if not v.strip()] == []
    # English may quote a Chinese command or name; it never is a Chinese sentence.
    assert [k for k, v in en.items() if sum("\u4e00" <= c <= "\u9fff" for c in v) > 12] == []


@pytest.mark.parametrize("key", sorted(texts.catalogue("zh")))
def test_english_uses_only_the_placeholders_the_chinese_text_has(key):
    # English may leave one out (e.g. the Chinese-only office contact), never invent one.
    assert placeholders(texts.t(key, "en")) <= placeholders(texts.t(key, "zh"))


def test_t_fills_placeholders_and_picks_the_language():
    assert (
        texts.t("message.too_long", "zh", max=1000)
        == "消息太长了（超过 1000 字），请精简后分几次发送。"
    )
    assert "1000 characters" in texts.t("message.too_long", "en", max=1000)
    assert texts.t("reply.fallback", "zh-Hant") == texts.t("reply.fallback", "zh")
    assert texts.section("widget", "en")["send"] == "Send"


def test_unknown_key_fails_loudly():
    with pytest.raises(KeyError):
        texts.t("no.such.key")


def test_no_text_is_cut_short_by_a_yaml_comment():
    # In a plain YAML scalar " #" starts a comment: "（工单号 #{ticket}）" must be quoted.
    cut = [
        f"{lang}.yml: {line.strip()[:40]}"
        for lang in texts.LANGS
        for line in (texts.DIR / f"{lang}.yml").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
        and (value := line.partition(": ")[2])
        and value[0] not in "'\"|>"
        and " #" in value
    ]
    assert cut == []
