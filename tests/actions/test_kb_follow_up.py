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


@pytest.mark.parametrize(
    "text, last, expected",
    [
        # the APEC card's fee entry, though "cost" alone is nearer the visa agency's fees
        ("and the fee?", "apec_card_what_is", "apec_card_fees_progress"),
        ("那要交多少钱", "apec_card_eligibility", "apec_card_fees_progress"),
        ("那要带什么材料", "apostille_how_to_apply", "apostille_documents_applicant"),
        # the entry just answered covers the aspect: it is given again
        ("那要多久", "apostille_time_fees", "apostille_time_fees"),
        # notarisation first links to the apostille entries: their topic carries the fees
        ("费用呢", "notarization_first", "apostille_time_fees"),
    ],
)
def test_a_bare_aspect_follow_up_is_the_topic_entry_titled_for_it(text, last, expected):
    ranking = decide_kb(text, {}, last)
    assert (ranking.decision, ranking.kb_ids) == ("answer", [expected])


def test_a_follow_up_that_names_another_service_is_not_forced_into_the_topic():
    ranking = decide_kb("那签证代办多少钱", {}, "apostille_how_to_apply")
    assert ranking.kb_ids[:1] != ["apostille_time_fees"]
