"""The selector the action server trains on the KB questions' vectors (core.kb.selector)."""

from pathlib import Path

import numpy as np

from core.kb.ranker import Thresholds, rank
from core.kb.search import Hit
from core.kb.selector import OUT_OF_SCOPE, train


def _clusters(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three labelled clusters of unit vectors around random centres, 8 points each."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16))
    rows, labels = [], []
    for centre, label in zip(centres, ("a", "b", OUT_OF_SCOPE), strict=True):
        for _ in range(8):
            v = centre + 0.3 * rng.normal(size=16)
            rows.append(v / np.linalg.norm(v))
            labels.append(label)
    return np.array(rows, dtype=np.float32), labels


def test_it_ranks_the_class_of_an_unseen_point_first_and_reports_out_of_scope():
    x, labels = _clusters()
    held_out = [0, 8, 16]  # one point of each class, never trained on
    keep = [i for i in range(len(labels)) if i not in held_out]
    selector = train(x[keep], [labels[i] for i in keep])
    ranked, oos = selector.ranking(x[0])
    assert ranked[0][0] == "a" and ranked[0][1] > 0.5 and oos < 0.5
    assert [k for k, _ in ranked] == ["a", "b"]  # out_of_scope is not a KB entry
    assert selector.ranking(x[8])[0][0][0] == "b"
    assert selector.ranking(x[16])[1] > 0.5
    probabilities = selector.probabilities(x[0])
    assert abs(float(probabilities.sum()) - 1.0) < 1e-5


def test_training_is_deterministic():
    x, labels = _clusters(1)
    one, two = train(x, labels), train(x, labels)
    assert np.array_equal(one.weights, two.weights) and one.labels == two.labels


def test_a_likely_out_of_scope_message_is_refused_however_the_kb_signals_score():
    strong = ([("a", 0.6)], [Hit("a", 0.8)])
    t = Thresholds()
    assert rank(*strong, t, dense={"a": 0.97}).decision == "answer"
    assert rank(*strong, t, dense={"a": 0.97}, out_of_scope=0.5).decision == "fallback"
    assert rank(*strong, t, exact="a", out_of_scope=0.9).decision == "answer"  # listed verbatim


def test_the_dense_index_trains_one_on_the_kb_and_its_out_of_scope_examples(kb, tmp_path):
    from core.kb.dense import DenseIndex, load_examples

    index = DenseIndex(kb, tmp_path, load_examples(Path("data/nlu/out_of_scope.yml")))
    ranked, oos = index.selector_ranking("where can I get an apostille done")
    assert ranked[0][0] == "apostille_how_to_apply" and oos < 0.3
    _, oos = index.selector_ranking("我的身份证明年到期，要去哪里换一张新的")
    assert oos > 0.3
    assert index.selector_ranking("   ") == ([], 0.0)


def test_a_trained_selector_is_cached_by_its_inputs(tmp_path):
    from core.kb.selector import trained

    x, labels = _clusters(2)
    first = trained(tmp_path, x, labels)
    assert len(list(tmp_path.glob("kb-selector-*.npz"))) == 1
    again = trained(tmp_path, x, labels)  # read back, not retrained
    assert np.array_equal(first.weights, again.weights) and again.labels == first.labels
    trained(tmp_path, x, [*labels[:-1], "a"])  # other labels: another file
    assert len(list(tmp_path.glob("kb-selector-*.npz"))) == 2
    for path in tmp_path.glob("kb-selector-*.npz"):
        path.write_bytes(b"broken")
    retrained = trained(tmp_path, x, labels)  # unreadable: trained again
    assert np.array_equal(retrained.weights, first.weights)
