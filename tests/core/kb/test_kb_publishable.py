"""What a government office can publish: official sources, English office facts, short answers
with one footer line, and no production start on the shipped example office facts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from core.kb import KBError, load_kb
from core.kb.loader import ALLOWED_CJK_IN_EN, PENDING_FOOTER_ZH
from core.kb.schema import PENDING_PHRASE, POLICY_NOTE_EN, POLICY_NOTE_ZH
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
ENTRY = "apostille_what_is"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def _kb_copy(tmp_path: Path) -> tuple[Path, dict]:
    """A one-entry KB with the real office facts and sources policy."""
    root = tmp_path / "kb"
    (root / "apostille").mkdir(parents=True, exist_ok=True)
    for name in ("office.yml", "sources_policy.yml"):
        shutil.copy(ROOT / "kb" / name, root / name)
    data = yaml.safe_load((ROOT / "kb" / "apostille" / f"{ENTRY}.yml").read_text(encoding="utf-8"))
    data["follow_up"] = []
    return root, data


def _write(root: Path, data: dict) -> None:
    path = root / data["topic"] / f"{data['id']}.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _problems(root: Path) -> str:
    with pytest.raises(KBError) as info:
        load_kb(root)
    return "\n".join(info.value.problems)


def _with_source(tmp_path: Path, **source: object) -> str:
    root, data = _kb_copy(tmp_path)
    data["sources"] = [{"title": "来源", **source}]
    _write(root, data)
    return _problems(root)


# --- sources ----------------------------------------------------------------------------------


def test_official_deep_links_pass(tmp_path):
    root, data = _kb_copy(tmp_path)
    data["sources"] = [
        {"title": "条例", "url": "https://www.gov.cn/zhengce/zhengceku/202307/content_6891761.htm"},
        {
            "title": "HCCH",
            "url": "https://www.hcch.net/en/instruments/conventions/status-table/?cid=41",
        },
        {"title": "使馆", "url": "http://vu.china-embassy.gov.cn/chn/lsfw/202310/t1.htm"},
    ]
    _write(root, data)
    assert list(load_kb(root).entries) == [ENTRY]


def test_rejects_a_source_on_a_host_that_is_not_official(tmp_path):
    problems = _with_source(tmp_path, url="https://wincon.com.cn/major/14311.html")
    assert "not on an official host" in problems


def test_rejects_a_lookalike_of_an_official_host(tmp_path):
    assert "not on an official host" in _with_source(tmp_path, url="https://fakegov.cn/x.html")


@pytest.mark.parametrize("url", ["https://flk.npc.gov.cn", "https://flk.npc.gov.cn/"])
def test_rejects_a_bare_home_page_even_on_an_official_host(tmp_path, url):
    assert "bare home page" in _with_source(tmp_path, url=url)


def test_a_secondary_source_needs_a_reason(tmp_path):
    problems = _with_source(tmp_path, url="https://wincon.com.cn/major/14311.html", secondary=True)
    assert "secondary: true source needs a non-empty reason" in problems
    blank = _with_source(tmp_path, url="https://flk.npc.gov.cn", secondary=True, reason="  ")
    assert "non-empty reason" in blank


def test_a_secondary_source_with_a_reason_passes(tmp_path):
    root, data = _kb_copy(tmp_path)
    data["sources"] = [
        {
            "title": "数据库",
            "url": "https://flk.npc.gov.cn",
            "secondary": True,
            "reason": "深链接待核实",
        }
    ]
    _write(root, data)
    load_kb(root)


def test_a_reason_without_secondary_is_refused(tmp_path):
    problems = _with_source(tmp_path, url="https://www.gov.cn/a.htm", reason="why")
    assert "reason is only for secondary" in problems


def test_the_allow_list_is_read_from_kb_sources_policy(tmp_path):
    root, data = _kb_copy(tmp_path)
    data["sources"] = [{"title": "律所", "url": "https://wincon.com.cn/major/14311.html"}]
    _write(root, data)
    (root / "sources_policy.yml").write_text("official_hosts: [gov.cn, wincon.com.cn]\n")
    load_kb(root)
    (root / "sources_policy.yml").unlink()
    assert "missing sources policy" in _problems(root)


def test_every_real_source_is_official_or_a_reasoned_secondary(kb):
    for entry in kb.entries.values():
        for source in entry.sources:
            assert not source.secondary or source.reason, (entry.id, source.url)
    urls = {str(s.url) for e in kb.entries.values() for s in e.sources if not s.secondary}
    assert not any(u.rstrip("/").endswith("flk.npc.gov.cn") for u in urls)


def test_the_2009_identity_rules_are_cited_where_the_definitions_rely_on_them(kb):
    for kb_id in (
        "huaqiao_definition",
        "students_not_huaqiao",
        "foreign_nationals_of_chinese_origin",
    ):
        titles = [s.title for s in kb.entries[kb_id].sources]
        assert any("国侨发〔2009〕5号" in t for t in titles), kb_id


def test_the_12308_number_is_sourced_to_the_mfa_consular_site(kb):
    hosts = {
        s.url.host for s in kb.entries["consular_protection_hotline"].sources if not s.secondary
    }
    assert "cs.mfa.gov.cn" in hosts


# --- office facts and English answers ----------------------------------------------------------


def test_every_english_answer_and_footer_has_no_chinese_text(kb):
    for kb_id, entry in kb.entries.items():
        assert entry.answer_en, kb_id
        text = kb.answer(kb_id, "en") + "\n" + kb.footer(kb_id, "en")
        leftover = [run for run in CJK.findall(text) if run not in ALLOWED_CJK_IN_EN]
        assert leftover == [], (kb_id, leftover)


def test_rejects_a_chinese_office_field_in_an_english_answer(tmp_path):
    root, data = _kb_copy(tmp_path)
    data["answer_en"] += "\nThis office handles: {office.legalization_scope}."
    _write(root, data)
    assert "use {office.legalization_scope_en}" in _problems(root)


def test_rejects_chinese_text_in_an_english_office_field(tmp_path):
    root, data = _kb_copy(tmp_path)
    data["answer_en"] += "\nThis office handles: {office.legalization_scope_en}."
    _write(root, data)
    office = yaml.safe_load((root / "office.yml").read_text(encoding="utf-8"))
    office["legalization_scope_en"] = "以本办公布为准"
    (root / "office.yml").write_text(yaml.safe_dump(office, allow_unicode=True), encoding="utf-8")
    assert "English answer contains Chinese text" in _problems(root)


def test_every_office_fact_has_an_english_twin(kb):
    office = kb.office.model_dump()
    for name, value in office.items():
        if isinstance(value, str) and not name.endswith("_en"):
            assert office.get(f"{name}_en"), name


# --- answer shape: body, then one footer line ---------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_answer_body_repeats_the_contact_or_the_policy_line(kb, lang):
    for kb_id in kb.entries:
        body = kb.answer(kb_id, lang)
        assert kb.office.contact not in body and kb.office.contact_en not in body, kb_id
        assert POLICY_NOTE_ZH.rstrip("。") not in body and POLICY_NOTE_EN not in body, kb_id


def test_every_footer_is_one_short_line_with_the_policy_note_and_contact(kb):
    for kb_id, entry in kb.entries.items():
        zh, en = kb.footer(kb_id, "zh"), kb.footer(kb_id, "en")
        assert "\n" not in zh and "\n" not in en
        assert kb.office.short_contact("zh") in zh and kb.office.short_contact("en") in en
        if entry.pending_verification:
            assert zh.startswith(PENDING_FOOTER_ZH) and PENDING_PHRASE in zh, kb_id
        else:
            assert zh.startswith(POLICY_NOTE_ZH) and en.startswith(POLICY_NOTE_EN), kb_id
        assert len(zh) <= 80, (kb_id, len(zh))


def test_rejects_the_contact_placeholder_in_an_answer_body(tmp_path):
    root, data = _kb_copy(tmp_path)
    data["answer"] += "\n咨询：{office.contact}。"
    _write(root, data)
    assert "the office contact is shown in the footer" in _problems(root)


@pytest.mark.parametrize("line", ["请以办公室最新通知为准。", "政策可能调整，以最新公告为准。"])
def test_rejects_the_footer_lines_repeated_in_a_body(tmp_path, line):
    root, data = _kb_copy(tmp_path)
    data["answer"] += "\n" + line
    _write(root, data)
    assert "footer carries it" in _problems(root)


def test_rejects_an_answer_that_does_not_lead_with_a_short_direct_answer(tmp_path):
    root, data = _kb_copy(tmp_path)
    data["answer"] = "第一句。第二句。第三句。\n" + data["answer"]
    _write(root, data)
    assert "direct answer of at most two sentences" in _problems(root)


def test_taiwan_is_answered_in_the_entry_whose_title_names_it(kb):
    entry = kb.entries["hk_macao_taiwan_not_huaqiao"]
    assert "台" in entry.title and "台湾" in entry.answer and "Taiwan" in (entry.answer_en or "")


def test_questions_about_embassy_powers_go_to_the_mfa_not_the_local_office(kb):
    answer = kb.answer("consular_protection_cannot_do")
    assert "《中国领事保护和协助指南》" in answer and "12308" in answer
    assert PENDING_PHRASE not in answer


# --- production start --------------------------------------------------------------------------


def _office_dir(tmp_path: Path, example: bool) -> Path:
    kb_dir = tmp_path / "kb"
    kb_dir.mkdir()
    office = yaml.safe_load((ROOT / "kb" / "office.yml").read_text(encoding="utf-8"))
    office["example"] = example
    (kb_dir / "office.yml").write_text(yaml.safe_dump(office, allow_unicode=True), encoding="utf-8")
    return kb_dir


def test_production_refuses_to_start_with_example_office_facts(tmp_path):
    kb_dir = _office_dir(tmp_path, example=True)
    with pytest.raises(ValidationError, match="example: true"):
        Settings(_env_file=None, app_env="production", kb_dir=kb_dir)


def test_production_refuses_to_start_without_office_facts(tmp_path):
    with pytest.raises(ValidationError, match="cannot be read"):
        Settings(_env_file=None, app_env="production", kb_dir=tmp_path / "nowhere")


def test_production_starts_once_the_office_published_its_facts(tmp_path):
    kb_dir = _office_dir(tmp_path, example=False)
    assert Settings(_env_file=None, app_env="production", kb_dir=kb_dir).app_env == "production"


def test_the_shipped_office_file_is_marked_as_example_and_fine_outside_production():
    assert yaml.safe_load((ROOT / "kb" / "office.yml").read_text(encoding="utf-8"))["example"]
    assert Settings(_env_file=None, app_env="development", kb_dir=ROOT / "kb").app_env
