"""The real KB is valid, and the validator rejects each kind of bad entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from core.kb import KBError, KnowledgeBase, load_kb
from core.kb.schema import PENDING_PHRASE

ROOT = Path(__file__).resolve().parents[3]
CORE_TOPICS = {"apostille", "legalization", "visa_agency"}


def test_real_kb_is_valid_and_covers_the_core_topics(kb):
    topics = {entry.topic for entry in kb.entries.values()}
    assert topics >= CORE_TOPICS
    assert any(t.startswith("rights_") for t in topics)
    assert len(kb.entries) >= 12
    for entry in kb.entries.values():
        assert entry.sources and len(entry.questions) >= 8


def test_answers_render_office_placeholders(kb):
    text = kb.answer("apostille_how_to_apply")
    assert "{office." not in text
    assert kb.office.legalization_scope in text
    assert kb.office.legalization_scope_en in kb.answer("apostille_how_to_apply", "en")


def _copy_kb(tmp_path: Path, kb_id: str = "apostille_how_to_apply") -> tuple[Path, dict]:
    root = tmp_path / "kb"
    (root / "apostille").mkdir(parents=True)
    shutil.copy(ROOT / "kb" / "office.yml", root / "office.yml")
    shutil.copy(ROOT / "kb" / "sources_policy.yml", root / "sources_policy.yml")
    source = ROOT / "kb" / "apostille" / f"{kb_id}.yml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["follow_up"] = []
    return root, data


def _write(root: Path, data: dict, name: str | None = None) -> None:
    path = root / data.get("topic", "apostille") / f"{name or data['id']}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(root: Path) -> str:
    with pytest.raises(KBError) as info:
        load_kb(root)
    return "\n".join(info.value.problems)


def test_valid_single_entry_loads(tmp_path):
    root, data = _copy_kb(tmp_path)
    _write(root, data)
    assert list(load_kb(root).entries) == ["apostille_how_to_apply"]


def test_rejects_missing_fields(tmp_path):
    root, data = _copy_kb(tmp_path)
    del data["sources"]
    _write(root, data)
    assert "sources" in _problems(root)


def test_rejects_too_few_questions(tmp_path):
    root, data = _copy_kb(tmp_path)
    data["questions"] = data["questions"][:3]
    _write(root, data)
    assert "questions" in _problems(root)


def test_rejects_duplicate_ids(tmp_path):
    root, data = _copy_kb(tmp_path)
    _write(root, data)
    _write(root, data, name="copy_of_entry")
    assert "duplicate id" in _problems(root)


def test_rejects_dangling_follow_up(tmp_path):
    root, data = _copy_kb(tmp_path)
    data["follow_up"] = ["no_such_entry"]
    _write(root, data)
    assert "no_such_entry" in _problems(root)


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("办理费用为50元。", "amount"),
        ("一般5个工作日办结。", "amount"),
        ("三侨生可加10分。", "amount"),
        ("请致电 0591-87654321 咨询。", "phone-like"),
    ],
)
def test_rejects_invented_amounts_and_numbers(tmp_path, sentence, expected):
    root, data = _copy_kb(tmp_path)
    data["answer"] = sentence + "\n" + data["answer"]
    _write(root, data)
    assert expected in _problems(root)


def test_allows_verified_hotlines_and_dates(tmp_path):
    root, data = _copy_kb(tmp_path)
    data["answer"] += "\n公约自2023年11月7日起生效；紧急情况请拨打12308或+86-10-12308。"
    _write(root, data)
    load_kb(root)


def test_pending_entries_defer_to_the_office_in_their_footer(tmp_path):
    root, data = _copy_kb(tmp_path)
    data["pending_verification"] = True
    _write(root, data)
    kb = load_kb(root)
    footer = kb.footer(data["id"])
    assert PENDING_PHRASE in footer and kb.office.short_contact("zh") in footer
    assert "check with the office" in kb.footer(data["id"], "en")


def test_validator_rejects_a_pending_footer_without_the_office(tmp_path, monkeypatch):
    root, data = _copy_kb(tmp_path)
    data["pending_verification"] = True
    _write(root, data)
    monkeypatch.setattr(KnowledgeBase, "footer", lambda self, kb_id, lang="zh": "政策可能调整。")
    assert "footer of an unverified entry" in _problems(root)


def test_rejects_unknown_placeholder(tmp_path):
    root, data = _copy_kb(tmp_path)
    data["answer"] += "\n{office.director_mobile}"
    _write(root, data)
    assert "unknown placeholder" in _problems(root)


def test_rejects_invalid_yaml(tmp_path):
    root, data = _copy_kb(tmp_path)
    (root / "apostille" / "broken.yml").write_text("id: [unclosed", encoding="utf-8")
    _write(root, data)
    assert "not valid YAML" in _problems(root)
