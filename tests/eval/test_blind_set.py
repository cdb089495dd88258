"""The blind evaluation set stays sealed, unseen and well-formed; its scoring rules hold."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import yaml

from scripts import eval_blind as blind
from scripts.eval_blind import Turn, TurnResult, in_script, score, stock_result

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "eval.md"
FIELDS = {
    "text", "expect", "script", "cat", "need", "kind", "reference", "reason", "authority",
    "about", "kb", "also",
}  # fmt: skip


def _kb_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "kb").rglob("*.yml"):
        entry = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(entry, dict) and "questions" in entry:
            ids.add(str(entry["id"]))
    return ids


def test_blind_set_is_well_formed_and_labelled():
    dialogues = blind.load_blind()
    singles = [d for d in dialogues if d.single]
    convs = [d for d in dialogues if not d.single]
    assert len(singles) >= 300 and len(convs) >= 40
    assert len({d.turns[0].text for d in singles}) == len(singles)
    assert len({d.id for d in convs}) == len(convs)
    ids = _kb_ids()
    for d in dialogues:
        assert d.script in blind.SCRIPTS, d.id
        records = [d.raw] if d.single else d.raw["turns"]
        for raw, turn in zip(records, d.turns, strict=True):
            assert set(raw) <= FIELDS, raw
            if turn.expect == "kb_answer":
                assert turn.kb == "none" or turn.kb in ids, raw
                assert all(a in ids for a in turn.also), raw
            else:
                assert turn.kb is None and not turn.also, raw
            if turn.expect == "status_prompt":
                assert turn.need in ("reference", "verification"), raw
                assert (turn.need == "verification") == bool(turn.reference), raw
            if turn.expect == "out_of_scope":
                assert turn.reason, raw


def test_split_is_about_half_and_covers_every_type():
    dialogues = blind.load_blind()
    assert all(d.split == "tune" for d in dialogues if d.tune_only)  # the second batch
    for single in (True, False):
        chosen = [d for d in dialogues if d.single == single and not d.tune_only]
        share = sum(d.split == "holdout" for d in chosen) / len(chosen)
        assert 0.35 <= share <= 0.65, (single, share)
    holdout_types = Counter(t.expect for d in dialogues if d.split == "holdout" for t in d.turns)
    assert set(holdout_types) == set(blind.TYPES)


def test_holdout_matches_the_seal_and_the_report():
    """Nobody edits the holdout silently: files, seal and docs/eval.md agree."""
    files = blind.holdout_sha256(blind.load_blind())
    assert files == blind.SEALED_HOLDOUT_SHA256, (
        "tests/eval/blind/ holdout changed: restore it, or re-seal on purpose "
        "(SEALED_HOLDOUT_SHA256 in scripts/eval_blind.py) and say why"
    )
    recorded = re.search(r"Sealed holdout SHA-256: `([0-9a-f]{64})`", REPORT.read_text("utf-8"))
    assert recorded is not None, "docs/eval.md does not record the holdout hash: run make eval"
    assert recorded.group(1) == files


def test_no_holdout_text_is_similar_to_training_data_or_kb_questions():
    leaks = blind.holdout_leaks(blind.load_blind())
    known = blind.seen_at_seal()
    new = {text: hit for text, hit in leaks.items() if text not in known}
    assert new == {}, (
        f"holdout texts ≥ 70 % similar to a training example / KB question (remove those): {new}"
    )
    stale = sorted(known - set(leaks))
    assert stale == [], f"no longer similar: drop from tests/eval/blind/holdout_seen.yml: {stale}"


def test_status_prompt_needs_the_right_need_and_reference():
    turn = Turn(
        "VA-2026-000123 进度", "status_prompt", need="verification", reference="VA-2026-000123"
    )
    prompt = [{"type": "status_prompt", "need": "verification"}]
    assert score(
        turn, TurnResult(prompt, "请输入", slot_reference="VA-2026-000123"), "hans"
    ).handled
    assert not score(
        turn, TurnResult(prompt, "请输入", slot_reference="VA-2026-000999"), "hans"
    ).handled
    asked = [{"type": "status_prompt", "need": "reference"}]
    assert not score(turn, TurnResult(asked, "请提供"), "hans").handled
    assert score(
        Turn("查进度", "status_prompt", need="reference"), TurnResult(asked), "hans"
    ).handled


def test_kb_answer_scoring_separates_suggestions_and_wrong_answers():
    turn = Turn("认证怎么办理", "kb_answer", kb="a", also=("b",))
    right = score(turn, TurnResult([{"type": "kb_answer", "kb_id": "b"}]), "hans")
    assert right.handled and not right.confident_wrong
    wrong = score(turn, TurnResult([{"type": "kb_answer", "kb_id": "c"}]), "hans")
    assert not wrong.handled and wrong.confident_wrong
    options = [{"type": "suggestions", "options": [{"kb_id": "c"}, {"kb_id": "a"}]}]
    suggested = score(turn, TurnResult(options), "hans")
    assert not suggested.handled and suggested.right_suggestion
    none = Turn("x", "kb_answer", kb="none")
    assert score(none, TurnResult([{"type": "fallback"}]), "hans").handled
    assert not score(none, TurnResult([{"type": "kb_answer", "kb_id": "a"}]), "hans").handled


def test_refusals_emergencies_cancel_and_false_alarms():
    oos = Turn("帮我弄个假证明", "out_of_scope", reason="forgery")
    refused = score(
        oos, TurnResult([{"type": "out_of_scope", "reason": "not_office_service"}]), "hans"
    )
    assert refused.handled and refused.reason_ok is False
    assert not score(oos, TurnResult([{"type": "kb_answer", "kb_id": "a"}]), "hans").handled
    emergency = Turn("被扣下了", "emergency")
    assert score(emergency, TurnResult([{"type": "emergency", "hotline": "12308"}]), "hans").handled
    assert not score(emergency, TurnResult([{"type": "emergency"}]), "hans").handled
    alarm = score(
        Turn("你好", "greeting"), TurnResult([{"type": "emergency", "hotline": "12308"}]), "hans"
    )
    assert alarm.false_alarm and not alarm.handled
    cancel = Turn("算了不查了", "cancel")
    done = TurnResult([{"type": "status_cancelled"}], actions=["utter_status_cancelled"])
    assert score(cancel, done, "hans").handled
    nothing = TurnResult([{"type": "status_cancelled"}], actions=["utter_nothing_to_cancel"])
    assert not score(cancel, nothing, "hans").handled
    still_open = TurnResult(
        [{"type": "status_cancelled"}],
        actions=["utter_status_cancelled"],
        active_loop="case_status_form",
    )
    assert not score(cancel, still_open, "hans").handled


def test_reply_script_checks():
    assert in_script(
        "An apostille is issued by 《取消外国公文书认证要求的公约》 parties: https://x.cn/附", "en"
    )
    assert not in_script("您好！我是外事侨务办公室的智能助手", "en")
    assert in_script("認證辦好了沒", "hant") and not in_script("认证办好了没", "hant")
    assert in_script("认证办好了没", "hans") and not in_script("認證辦好了沒", "hans")
    assert in_script("", "en") is None


def test_stock_baseline_maps_intents_to_reply_types():
    parse = {
        "intent": {"name": "faq"},
        "response_selector": {
            "faq": {"response": {"intent_response_key": "faq/apostille_what_is"}}
        },
    }
    assert stock_result(parse).payloads == [{"type": "kb_answer", "kb_id": "apostille_what_is"}]
    status = stock_result(
        {
            "intent": {"name": "ask_case_status"},
            "entities": [{"entity": "case_reference", "value": "VA-2026-000123"}],
        }
    )
    assert (
        status.payloads[0]["need"] == "verification" and status.slot_reference == "VA-2026-000123"
    )
    assert stock_result({"intent": {"name": "request_human"}}).payloads == [{"type": "handoff"}]
