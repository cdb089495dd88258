"""The aspect of a bare follow-up, and which titles cover it (core.kb.aspects)."""

from __future__ import annotations

import pytest

from core.kb.aspects import asked_aspect, covers


@pytest.mark.parametrize(
    "text, aspect",
    [
        ("那费用呢", "fees"),
        ("what about the cost?", "fees"),
        ("and who do we pay it to?", "fees"),
        ("得等几天", "time"),
        ("要多久能拿到", "time"),
        ("How long does that usually take?", "time"),
        ("要帶啲咩文件去？", "documents"),
        ("which documents then?", "documents"),
        ("那谁可以申请", "eligibility"),
        ("在哪里办", "where"),
    ],
)
def test_the_aspect_of_a_bare_follow_up(text, aspect):
    assert asked_aspect(text) == aspect


@pytest.mark.parametrize(
    "text",
    [
        "那APEC卡多少钱",  # names a service of its own
        "附加证明书要多久",
        "去哪儿交材料",  # two aspects: left to the ranker
        "how much does a visa to Japan cost?",
        "你好",
    ],
)
def test_no_aspect_when_the_message_names_more(text):
    assert asked_aspect(text) is None


def test_titles_say_what_they_cover():
    assert covers("代办签证要多久、多少钱？", None, "fees")
    assert covers("代办签证要多久、多少钱？", None, "time")
    assert covers("x", "How are ABTC fees paid?", "fees")
    assert not covers("办公地址和办公时间", "Office address and hours", "time")
