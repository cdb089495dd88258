"""The held-out evaluation set stays held out and well-formed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from core.conversation.semantic import EXEMPLAR_DIR
from core.kb.dense import load_examples
from core.kb.search import question_key
from scripts.eval import Case, classify, load_cases, metrics

DEV_SET = Path("tests/eval/dev_set.yml")


def _training_examples() -> set[str]:
    return {
        question_key(text)
        for path in [*Path("data/nlu").glob("*.yml"), *EXEMPLAR_DIR.glob("*.yml")]
        for text in load_examples(path)
    }


def test_cases_are_well_formed_and_reference_real_entries(kb):
    raw = yaml.safe_load(DEV_SET.read_text(encoding="utf-8"))["cases"]
    assert all(set(c) <= {"text", "expect", "cat", "also"} for c in raw)
    cases = load_cases(DEV_SET)
    assert len(cases) >= 200
    kinds = Counter(c.kind for c in cases)
    assert kinds["out_of_scope"] >= 50 and kinds["emergency"] >= 20
    for case in cases:
        for kb_id in (case.expect, *case.also):
            assert kb_id in ("out_of_scope", "emergency") or kb_id in kb.entries, kb_id
    assert len({c.text for c in cases}) == len(cases)
    assert {c.split for c in cases} == {"tune", "holdout"}


def test_no_case_is_a_training_example():
    training = _training_examples()
    leaked = [c.text for c in load_cases(DEV_SET) if question_key(c.text) in training]
    assert leaked == []


def test_scoring_counts_wrong_answers_and_refusals():
    cases = [
        Case("a", "x", "c"),
        Case("b", "y", "c"),
        Case("c", "out_of_scope", "oos"),
        Case("d", "emergency", "e"),
    ]
    outcomes = [
        classify([{"type": "kb_answer", "kb_id": "x"}]),
        classify([{"type": "kb_answer", "kb_id": "z"}]),
        classify([{"type": "fallback"}]),
        classify([{"type": "kb_answer", "kb_id": "x"}, {"type": "emergency"}]),
    ]
    m = metrics(cases, outcomes)
    assert m["answer_right"] == 50.0 and m["answer_wrong"] == 50.0
    assert m["oos_refused"] == 100.0 and m["emergency_recall"] == 100.0
