"""The committed FAQ training data must match what `make kb` generates from kb/."""

from pathlib import Path

from core.kb.generate import render_files, write_training_data

ROOT = Path(__file__).resolve().parents[1]


def test_generated_faq_data_is_fresh(kb, tmp_path):
    written = write_training_data(kb, tmp_path)
    assert written
    for path in written:
        committed = ROOT / "data" / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} missing: run make kb"
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"stale: run make kb ({committed.relative_to(ROOT)})"
        )


def test_every_kb_entry_becomes_an_intent_and_a_response(kb):
    files = render_files(kb)
    nlu = next(v for k, v in files.items() if k.name == "faq.yml" and "responses" not in str(k))
    responses = next(v for k, v in files.items() if "responses" in str(k))
    for kb_id in kb.entries:
        assert f"intent: faq/{kb_id}\n" in nlu
        assert f"utter_faq/{kb_id}:" in responses
