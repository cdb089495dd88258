"""kb/countries.yml: the table validates, names are found in questions, paths are right."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.kb.countries import (
    PATH_ENTRY,
    CountryMatcher,
    CountryTable,
    load_countries,
    path_entry,
    payload,
    sentence,
    validate_table,
    wants_path,
)
from core.kb.loader import KBError

TABLE_PATH = Path("kb/countries.yml")


@pytest.fixture(scope="module")
def table() -> CountryTable:
    return load_countries(TABLE_PATH)


@pytest.fixture(scope="module")
def matcher(table: CountryTable) -> CountryMatcher:
    return CountryMatcher(table)


def test_table_covers_the_main_destinations_with_sources(table, kb):
    codes = {c.code for c in table.countries}
    assert len(codes) >= 30
    assert {"US", "CA", "GB", "AU", "DE", "FR", "JP", "KR", "IT", "ES", "NL", "NZ", "SG"} <= codes
    assert {"RU", "IN", "TH", "MY", "ID", "VN", "PH", "AE", "SA", "BR", "MX", "ZA", "EG"} <= codes
    for country in table.countries:
        assert table.sources[country.source].url.startswith("http")
    for kb_id in PATH_ENTRY.values():
        assert kb_id in kb.entries


def test_known_statuses(table):
    by_code = {c.code: c for c in table.countries}
    assert by_code["CA"].status == "member" and by_code["CA"].effective == dt.date(2024, 1, 11)
    assert by_code["US"].effective == dt.date(2023, 11, 7)
    assert by_code["TH"].status == "non_member" and by_code["TH"].effective is None
    india = by_code["IN"]
    assert india.status == "not_applicable_with_china" and india.pending_verification


def test_validator_rejects_inconsistent_rows(table):
    bad = table.model_copy(
        update={
            "countries": (
                table.countries[0].model_copy(update={"effective": dt.date(2020, 1, 1)}),
                table.countries[0].model_copy(update={"code": "XX", "source": "nowhere"}),
            )
        }
    )
    problems = "\n".join(validate_table(bad))
    assert "effective before" in problems
    assert "source 'nowhere'" in problems
    assert "also used by" in problems


def test_loader_reports_schema_errors(tmp_path):
    path = tmp_path / "countries.yml"
    path.write_text(
        "checked: 2026-01-01\nsources: {}\ncountries:\n"
        "  - {code: XX, zh: 某国, en: Somewhere, status: maybe, effective: null, source: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(KBError, match="status"):
        load_countries(path)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("我的出生公证要拿到加拿大用，怎么办？", "CA"),
        ("學歷證明送到澳洲使用要辦什麼", "AU"),
        ("my degree certificate will be used in the UK", "GB"),
        ("文件要寄去印度尼西亚", "ID"),  # not India
        ("去印度用的授权书", "IN"),
        ("无犯罪证明拿到迪拜用", "AE"),
    ],
)
def test_finds_the_country(matcher, text, code):
    mention = matcher.find(text)
    assert mention is not None and mention.country is not None
    assert mention.country.code == code


def test_inner_mongolia_and_plain_words_are_not_countries(matcher):
    assert matcher.find("内蒙古的公证处在哪") is None
    assert matcher.find("can you help us with our documents") is None


def test_unverified_name_is_recognised_without_a_status(matcher):
    mention = matcher.find("结婚证公证要拿到卡塔尔用")
    assert mention is not None and mention.country is None and mention.name == "卡塔尔"
    assert path_entry(mention) == "apostille_vs_legalization"


def test_paths(matcher, table):
    member = matcher.find("加拿大")
    non_member = matcher.find("泰国")
    india = matcher.find("印度")
    assert path_entry(member) == "apostille_member_states"
    assert path_entry(non_member) == "legalization_non_member_states"
    assert path_entry(india) == "apostille_not_applicable_pairs"
    zh = sentence(member, table, "CONTACT", "zh")
    assert "加拿大" in zh and "附加证明书即可" in zh and "2024年1月11日" in zh
    assert "不是公约缔约国" in sentence(non_member, table, "CONTACT", "zh")
    pending = sentence(india, table, "CONTACT", "zh")
    assert "待官方核实" in pending and "请以办公室最新通知为准" in pending
    unknown = sentence(matcher.find("卡塔尔"), table, "CONTACT", "zh")
    assert "请向办公室确认" in unknown
    assert payload(member, table)["status"] == "member"
    assert payload(matcher.find("卡塔尔"), table)["status"] == "unknown"


def test_only_document_use_abroad_is_routed():
    assert wants_path("我的出生公证要拿到加拿大用，怎么办？", None)
    assert wants_path("加拿大可以吗", "apostille_how_to_apply")
    assert not wants_path("美国的结婚证拿到中国用怎么认证", None)
    assert not wants_path("加拿大签证好办吗", "visa_agency_documents")
