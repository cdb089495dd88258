"""Combining the ResponseSelector ranking with BM25 hits."""

from core.kb.ranker import Thresholds, rank
from core.kb.search import BM25Index, Hit


def test_agreement_answers_even_at_modest_confidence():
    result = rank([("a", 0.3), ("b", 0.2)], [Hit("a", 0.3), Hit("b", 0.25)])
    assert result.decision == "answer" and result.kb_ids == ["a"]


def test_confident_bm25_with_clear_margin_answers():
    result = rank([("b", 0.1)], [Hit("a", 0.7), Hit("b", 0.3)])
    assert result.kb_ids == ["a"] and result.decision == "answer"


def test_bm25_without_margin_does_not_answer_alone():
    result = rank([("c", 0.1)], [Hit("a", 0.7), Hit("b", 0.68)])
    assert result.decision == "suggest" and result.kb_ids[:2] == ["a", "b"]


def test_confident_selector_answers_alone():
    assert rank([("a", 0.8)], [Hit("b", 0.3), Hit("c", 0.28)]).kb_ids == ["a"]


def test_weak_signals_fall_back():
    assert rank([("a", 0.1)], [Hit("b", 0.1)]).decision == "fallback"
    assert rank([], []).decision == "fallback"


def test_thresholds_are_configurable():
    strict = Thresholds(selector_answer=0.9)
    assert rank([("a", 0.8)], [], strict).decision == "suggest"


def test_bm25_index_finds_entry_by_paraphrase(kb):
    index = BM25Index(kb)
    assert index.search("海牙认证去哪里办理", limit=3)[0].kb_id == "apostille_how_to_apply"
    assert index.search("   ", limit=3) == []


def test_listed_question_answers_exactly_whatever_the_scores():
    assert rank([("b", 0.9)], [Hit("b", 0.9)], exact="a").kb_ids == ["a"]


def test_exact_match_ignores_script_width_and_punctuation(kb):
    index = BM25Index(kb)
    assert index.exact("華僑是指什麼人") == "huaqiao_definition"
    assert index.exact("华侨是指什么人？？") == "huaqiao_definition"
    assert index.exact("华侨是指什么人以及其他") is None
    assert index.exact("？！") is None
