"""Fusing the ResponseSelector ranking, BM25 hits and dense similarity."""

from pathlib import Path

from core.kb.ranker import Thresholds, agreement, fused_scores, rank
from core.kb.search import BM25Index, Hit

T = Thresholds(
    answer=0.6,
    margin=0.1,
    suggest=0.3,
    w_selector=0.5,
    w_bm25=0.5,
    w_dense=1.0,
    dense_floor=0.85,
    gate_dense=0.9,
    gate_bm25=0.45,
    gate_selector=0.5,
    gate_fused=float("inf"),
)


def test_agreeing_signals_answer():
    result = rank([("a", 0.5), ("b", 0.2)], [Hit("a", 0.5), Hit("b", 0.3)], T, dense={"a": 0.95})
    assert result.decision == "answer" and result.kb_ids == ["a"]


def test_dense_similarity_can_carry_the_answer():
    result = rank([("b", 0.2)], [Hit("b", 0.3)], T, dense={"a": 0.99, "b": 0.86})
    assert result.kb_ids == ["a"] and result.decision == "answer"


def test_close_competitors_give_suggestions_not_an_answer():
    result = rank(
        [("a", 0.4), ("b", 0.4)], [Hit("a", 0.5), Hit("b", 0.5)], T, dense={"a": 0.93, "b": 0.92}
    )
    assert result.decision == "suggest" and result.kb_ids[:2] == ["a", "b"]


def test_nothing_near_the_kb_is_refused_before_scoring():
    # Weak on every signal: out of domain, even if one entry is slightly ahead.
    result = rank([("a", 0.3)], [Hit("a", 0.4)], T, dense={"a": 0.89})
    assert result.decision == "fallback"
    assert rank([], [], T).decision == "fallback"


def test_one_strong_signal_passes_the_gate():
    assert rank([("a", 0.7)], [], T, dense={"a": 0.8}).decision == "suggest"


def test_thresholds_are_configurable():
    strict = Thresholds(**{**T.__dict__, "answer": 5.0})
    assert rank([("a", 0.9)], [Hit("a", 0.9)], strict, dense={"a": 0.99}).decision == "suggest"


def test_fused_score_is_a_weighted_sum():
    scores = fused_scores({"a": 0.4}, {"a": 0.2, "b": 0.6}, {"a": 0.95, "b": 0.80}, T)
    assert abs(scores["a"] - (0.2 + 0.1 + 1.0 * (0.95 - 0.85) / 0.15)) < 1e-9
    assert abs(scores["b"] - 0.3) < 1e-9  # dense below the floor adds nothing


def test_bm25_index_finds_entry_by_paraphrase(kb):
    index = BM25Index(kb)
    assert index.search("海牙认证去哪里办理", limit=3)[0].kb_id == "apostille_how_to_apply"
    assert index.search("   ", limit=3) == []


def test_bm25_scores_are_okapi_bm25_with_repeated_terms_counted(kb):
    """The postings index scores exactly what the textbook formula gives, query term by query
    term (a repeated term counts again), for a short question and a pasted letter alike."""
    import math

    from core.kb.search import query_window, tokens

    index = BM25Index(kb)
    letter = "您好，我想问问海牙认证去哪里办理，另外护照丢了怎么补办，海牙认证要多久？" * 5
    for text in ["海牙认证去哪里办理", letter]:
        query = tokens(text)
        ceiling = sum(index.idf.get(t, 0.0) for t in query) * (index.k1 + 1)
        expected = {}
        for kb_id, doc in zip(index.ids, index.docs, strict=True):
            dl = sum(doc.values())
            score = 0.0
            for term in query:
                if doc.get(term):
                    tf = doc[term]
                    norm = tf + index.k1 * (1 - index.b + index.b * dl / index.avgdl)
                    score += index.idf[term] * tf * (index.k1 + 1) / norm
            expected[kb_id] = round(score / ceiling, 4)
        hits = index.search(text, limit=len(index.ids))
        assert hits and {h.kb_id: h.score for h in hits} == {
            k: v for k, v in expected.items() if v > 0
        }
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert math.isclose(hits[0].score, max(expected.values()))
    # a longer letter is searched by its start and end only: its cost stops growing with it
    longer = letter * 10
    assert query_window(longer) == longer[:200] + "\n" + longer[-200:]
    assert index.search(longer, limit=5) == index.search(query_window(longer), limit=5)


def test_listed_question_answers_exactly_whatever_the_scores():
    assert rank([("b", 0.9)], [Hit("b", 0.9)], exact="a").kb_ids == ["a"]


def test_exact_match_ignores_script_width_and_punctuation(kb):
    index = BM25Index(kb)
    assert index.exact("華僑是指什麼人") == "huaqiao_definition"
    assert index.exact("华侨是指什么人？？") == "huaqiao_definition"
    assert index.exact("华侨是指什么人以及其他") is None
    assert index.exact("？！") is None


def test_dense_index_ranks_a_paraphrase_first(kb, tmp_path):
    from core.kb.dense import DenseIndex

    index = DenseIndex(kb, tmp_path)
    assert index.search("where can I get an apostille done", limit=3)[0].kb_id == (
        "apostille_how_to_apply"
    )
    assert index.search("華僑是指什麼人", limit=1)[0].kb_id == "huaqiao_definition"
    assert list(tmp_path.glob("kb-dense-*.npy"))  # cached for the next start
    again = DenseIndex(kb, tmp_path)
    assert (again.matrix == index.matrix).all()


def test_a_small_lead_answers_when_the_signals_corroborate_it():
    # a leads b by far less than the margin, but selector, BM25 and dense all rank a first.
    t = Thresholds(**{**T.__dict__, "margin": 0.2, "agree_margin": 0.0, "agree_signals": 2})
    result = rank(
        [("a", 0.5), ("b", 0.4)], [Hit("a", 0.5), Hit("b", 0.45)], t, dense={"a": 0.95, "b": 0.94}
    )
    assert result.decision == "answer" and result.kb_ids == ["a"]


def test_a_small_lead_without_corroboration_only_suggests():
    # a leads on the fused score thanks to dense alone; selector and BM25 prefer b.
    t = Thresholds(**{**T.__dict__, "margin": 0.2, "agree_margin": 0.0, "agree_signals": 2})
    result = rank(
        [("a", 0.3), ("b", 0.4)], [Hit("a", 0.4), Hit("b", 0.45)], t, dense={"a": 0.97, "b": 0.94}
    )
    assert result.decision == "suggest" and result.kb_ids[:2] == ["a", "b"]
    strict = Thresholds(**{**t.__dict__, "agree_signals": 4})  # corroboration switched off
    agreeing = rank(
        [("a", 0.5), ("b", 0.4)],
        [Hit("a", 0.5), Hit("b", 0.45)],
        strict,
        dense={"a": 0.95, "b": 0.94},
    )
    assert agreeing.decision == "suggest"


def test_a_tie_within_a_signal_is_no_corroboration():
    assert agreement("a", {"a": 0.4, "b": 0.4}, {"a": 0.5, "b": 0.5}, {"a": 0.9}) == 1
    assert agreement("a", {"a": 0.5, "b": 0.4}, {}, {"b": 0.9, "a": 0.8}) == 1


def test_a_message_nearer_an_out_of_scope_example_is_refused():
    strong = ([("a", 0.9)], [Hit("a", 0.8)])
    t = Thresholds(**{**T.__dict__, "negative_floor": 0.9, "negative_margin": 0.0})
    assert rank(*strong, t, dense={"a": 0.95}, negative=0.96).decision == "fallback"
    # The KB is nearer, the example is not similar enough, or the gate is off: answered.
    assert rank(*strong, t, dense={"a": 0.97}, negative=0.96).decision == "answer"
    assert rank(*strong, t, dense={"a": 0.85}, negative=0.89).decision == "answer"
    off = Thresholds(**{**t.__dict__, "negative_margin": float("inf")})
    assert rank(*strong, off, dense={"a": 0.95}, negative=0.99).decision == "answer"
    # A question listed verbatim in the KB is never refused this way.
    assert rank(*strong, t, exact="a", negative=0.99).decision == "answer"


def test_dense_index_scores_out_of_scope_examples(kb, tmp_path):
    from core.kb.dense import DenseIndex, load_examples

    examples = load_examples(Path("data/nlu/out_of_scope.yml"))
    assert len(examples) > 200 and "明天会下雨吗" in examples
    index = DenseIndex(kb, tmp_path, examples)
    assert len(index.negatives) == len(examples) and len(index.matrix) > len(examples)
    # An ID-card question (police business) is nearer the out-of-scope examples than the KB;
    # an apostille question is the other way round.
    near_miss = "我的身份证明年到期，要去哪里换一张新的"
    assert index.negative_score(near_miss) > max(index.scores(near_miss).values())
    in_scope = "出生公证书送到国外用要办附加证明书吗"
    assert index.negative_score(in_scope) < max(index.scores(in_scope).values())
    assert DenseIndex(kb, tmp_path).negative_score(near_miss) is None  # no examples given
    assert load_examples(tmp_path / "missing.yml") == []


def test_moderate_signals_that_add_up_pass_the_gate_when_allowed():
    # Every signal below its bar, but together they clearly point at "a".
    sel, bm, dn = [("a", 0.45)], [Hit("a", 0.4)], {"a": 0.88, "b": 0.86}
    assert rank(sel, bm, T, dense=dn).decision == "fallback"  # gate_fused off (inf)
    t = Thresholds(**{**T.__dict__, "gate_fused": 0.5})
    result = rank(sel, bm, t, dense=dn)
    assert result.decision == "answer" and result.kb_ids == ["a"]
    # Weak and scattered: still refused.
    assert rank([("a", 0.2)], [Hit("b", 0.2)], t, dense={"a": 0.86}).decision == "fallback"


def test_dense_index_scores_a_message_with_rasas_vector_without_encoding_it(
    kb, tmp_path, monkeypatch
):
    from core import encoder
    from core.kb.dense import DenseIndex, query_of

    index = DenseIndex(kb, tmp_path)
    text = "where can I get an apostille done " * 10  # long: Rasa embedded the first 120
    encoder.forget_recent()
    expected = index.scores(text)
    hint = encoder.pack(query_of(text), encoder.query_vector(query_of(text)))
    encoder.forget_recent()

    def refuse(texts):
        raise AssertionError(f"encoded again: {texts}")

    monkeypatch.setattr(encoder, "encode", refuse)
    assert index.scores(text, hint) == expected
    assert index.passage_scores(text, hint) and index.negative_score(text, hint) is None


def test_an_english_message_gets_the_cross_lingual_shift_on_its_cosines():
    from core.kb.ranker import is_latin

    assert is_latin("Do you do visas for Japan?") and not is_latin("日本签证 visa")
    assert not is_latin("2026 000123") and is_latin("ok 2026")  # letters decide, digits do not
    assert not is_latin("？！")
    t = Thresholds(**{**T.__dict__, "latin_shift": 0.04})
    signals = ([], [Hit("a", 0.2)])
    # 0.89 is below the dense gate (0.9): refused, unless the message is English.
    assert rank(*signals, t, dense={"a": 0.89, "b": 0.80}).decision == "fallback"
    shifted = rank(*signals, t, dense={"a": 0.89, "b": 0.80}, latin=True)
    assert shifted.decision == "answer" and shifted.kb_ids == ["a"]
