"""The `faq` intent's examples are a sample of the KB questions; Rasa learns no KB ids."""

from pathlib import Path

import yaml

from core.kb.generate import render_files, render_retrieval_files, sample_questions

ROOT = Path(__file__).resolve().parents[3]


def test_faq_sample_is_one_intent_without_kb_ids(kb):
    nlu = yaml.safe_load(next(iter(render_files(kb).values())))["nlu"]
    assert [block["intent"] for block in nlu] == ["faq"]
    examples = [line[2:] for line in nlu[0]["examples"].splitlines()]
    assert len(examples) == len(set(examples))
    questions = {q for e in kb.entries.values() for q in [e.title, *e.questions]}
    assert set(examples) <= {q.replace("[", "【").replace("]", "】") for q in questions}


def test_committed_sample_uses_the_faq_intent_only():
    data = yaml.safe_load((ROOT / "data" / "nlu" / "faq.yml").read_text(encoding="utf-8"))
    assert {block["intent"] for block in data["nlu"]} == {"faq"}
    assert not (ROOT / "data" / "nlu" / "responses" / "faq.yml").exists()


def test_sample_covers_every_script_of_an_entry():
    questions = [
        "怎么办签证",
        "签证要多久",
        "簽證要多久辦好",
        "how long does a visa take",
        "签证费用",
    ]
    picked = sample_questions(questions, 3)
    assert "how long does a visa take" in picked and "簽證要多久辦好" in picked
    assert len(picked) == 3 and sample_questions(questions, 3) == picked


def test_the_model_hash_ignores_kb(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("model_hash", ROOT / "scripts" / "model_hash.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "kb" not in module.INPUTS


def test_stock_baseline_data_keeps_retrieval_intents(kb):
    files = render_retrieval_files(kb)
    nlu = next(v for k, v in files.items() if "responses" not in str(k))
    responses = next(v for k, v in files.items() if "responses" in str(k))
    for kb_id in kb.entries:
        assert f"intent: faq/{kb_id}\n" in nlu
        assert f"utter_faq/{kb_id}:" in responses
