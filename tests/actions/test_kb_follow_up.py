"""Follow-ups within a topic (actions.kb_answer.is_follow_up / decide_kb with last_kb_id)."""

from __future__ import annotations

import pytest

from actions.kb_answer import decide_kb, is_follow_up


@pytest.mark.parametrize(
    "text",
    [
        "另外问下，我外婆在泰国，怎么证明她是华侨",
        "换个问题，APEC卡怎么办",
        "Another question: what is an apostille?",
    ],
)
def test_an_announced_new_topic_is_not_a_follow_up(text):
    assert not is_follow_up(text)


@pytest.mark.parametrize("text", ["那还需要什么材料", "要多久能拿到", "what documents then?"])
def test_short_questions_about_one_aspect_are_follow_ups(text):
    assert is_follow_up(text)


def test_a_follow_up_may_be_answered_by_the_entry_just_given():
    # The resettlement entry lists the documents: "what documents then?" after it is answered by
    # it again (before, the entry just answered was excluded and siblings were suggested).
    ranking = decide_kb("what documents then?", {}, "resettlement_conditions_documents")
    assert ranking.decision == "answer"
    assert ranking.kb_ids == ["resettlement_conditions_documents"]
