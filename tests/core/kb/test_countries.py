"""kb/countries.yml: the table validates, names are found in questions, paths are right on a given
day (pending accessions before and after their date), the HCCH importer and the freshness rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.kb import hcch
from core.kb.__main__ import main as kb_main
from core.kb.countries import (
    CHINA_IN_FORCE,
    PATH_ENTRY,
    CountryMatcher,
    CountryTable,
    dump_table,
    freshness_warning,
    load_countries,
    path_entry,
    payload,
    pending,
    read_header,
    sentence,
    validate_table,
    wants_path,
)
from core.kb.loader import KBError

ROOT = Path(__file__).resolve().parents[3]
TABLE_PATH = ROOT / "kb" / "countries.yml"
FIXTURE = ROOT / "tests" / "fixtures" / "hcch_status_table.html"
VIET_NAM_IN_FORCE = dt.date(2026, 9, 11)
DAY = dt.date(2026, 12, 1)  # the day the table was checked


@pytest.fixture(scope="module")
def table() -> CountryTable:
    return load_countries(TABLE_PATH, DAY)


@pytest.fixture(scope="module")
def matcher(table: CountryTable) -> CountryMatcher:
    return CountryMatcher(table)


def _country(table: CountryTable, code: str):
    return table.by_code()[code]


# ---- the table ---------------------------------------------------------------------------------


def test_table_is_complete_with_sources(table):
    codes = {c.code for c in table.countries}
    assert len(codes) >= 120
    assert {"US", "CA", "GB", "AU", "DE", "FR", "JP", "KR", "IT", "ES", "NL", "NZ", "SG"} <= codes
    assert {"RU", "IN", "TH", "MY", "ID", "VN", "PH", "AE", "SA", "BR", "MX", "ZA", "EG"} <= codes
    assert {"KH", "LA", "MM", "KE", "NG", "IQ", "QA", "KW", "BD", "RW", "DZ"} <= codes
    statuses = {c.status for c in table.countries}
    assert statuses == {"member", "not_applicable", "non_member"}
    parties = [c for c in table.countries if c.status != "non_member"]
    assert len(parties) >= 120  # the Convention's parties, China itself not listed
    for country in table.countries:
        source = table.sources[country.source]
        assert source.url.startswith("http") and not source.secondary
        assert country.checked <= DAY
    for kb_id in PATH_ENTRY.values():  # the routing's answers exist (make kb checks it too)
        assert list((ROOT / "kb").glob(f"*/{kb_id}.yml")), kb_id


def test_known_statuses(table):
    by_code = table.by_code()
    assert by_code["CA"].status == "member" and by_code["CA"].effective == dt.date(2024, 1, 11)
    assert by_code["CA"].eif == dt.date(2024, 1, 11) and by_code["CA"].type == "accession"
    assert by_code["US"].effective == CHINA_IN_FORCE  # in force since 1981: China's date counts
    assert by_code["RW"].effective == dt.date(2024, 6, 5)
    assert by_code["TH"].status == "non_member" and by_code["TH"].effective is None
    india = by_code["IN"]
    assert india.status == "not_applicable" and india.pending_verification and india.note
    # an accession after China's marked A** on the HCCH table: the objector is not verified
    assert by_code["BD"].pending_verification and "A**" in (by_code["BD"].note or "")


def test_viet_nam_is_a_member_from_2026_09_11(table, matcher):
    vn = _country(table, "VN")
    assert vn.status == "member" and vn.effective == VIET_NAM_IN_FORCE
    before, on = VIET_NAM_IN_FORCE - dt.timedelta(days=1), VIET_NAM_IN_FORCE
    assert vn.status_on(dt.date(2026, 1, 10)) == "pending"
    assert vn.status_on(before) == "pending"
    assert vn.status_on(on) == "member" and vn.status_on(DAY) == "member"
    mention = matcher.find("毕业证公证要送到越南用")
    assert mention is not None and mention.country.code == "VN"
    assert path_entry(mention, before) == "legalization_non_member_states"
    assert path_entry(mention, on) == "apostille_member_states"
    zh_before = sentence(mention, table, "CONTACT", "zh", before)
    assert (
        "尚未对越南生效" in zh_before and "2026年9月11日" in zh_before and "领事认证" in zh_before
    )
    zh_after = sentence(mention, table, "CONTACT", "zh", on)
    assert "附加证明书即可" in zh_after and "2026年9月11日起在中国与越南之间适用" in zh_after
    en_before = sentence(mention, table, "CONTACT", "en", before)
    assert "not yet in force" in en_before and "2026-09-11" in en_before
    assert "legalization" in en_before
    assert payload(mention, table, before)["status"] == "pending"
    assert payload(mention, table, on)["status"] == "member"


def test_a_pending_accession_before_and_after_its_date(table, tmp_path):
    """A made-up accession in force in 2027: pending until then, a member from that day."""
    later = dt.date(2027, 3, 1)
    thailand = _country(table, "TH").model_copy(
        update={
            "status": "member",
            "effective": later,
            "eif": later,
            "type": "accession",
            "source": "hcch",
        }
    )
    changed = table.model_copy(
        update={"countries": tuple(thailand if c.code == "TH" else c for c in table.countries)}
    )
    assert validate_table(changed, DAY) == []
    assert [c.code for c in pending(changed, DAY)] == ["TH"]
    assert pending(changed, later) == []
    mention = CountryMatcher(changed).find("出生公证拿去泰国使用")
    assert mention.country.code == "TH"
    assert mention.country.status_on(DAY) == "pending"
    assert mention.country.status_on(later) == "member"
    assert path_entry(mention, DAY) == "legalization_non_member_states"
    assert path_entry(mention, later) == "apostille_member_states"
    assert "预计自2027年3月1日起" in sentence(mention, changed, "C", "zh", DAY)
    assert "附加证明书即可" in sentence(mention, changed, "C", "zh", later)
    # the same file loads against an injected day (the clock is not the machine's)
    path = tmp_path / "countries.yml"
    path.write_text(dump_table(changed, read_header(TABLE_PATH)), encoding="utf-8")
    assert load_countries(path, DAY).by_code()["TH"].status_on(DAY) == "pending"


def test_the_file_is_in_the_layout_the_importer_writes(table):
    assert dump_table(table, read_header(TABLE_PATH)) == TABLE_PATH.read_text(encoding="utf-8")


# ---- completeness rules ------------------------------------------------------------------------


def test_validator_rejects_inconsistent_rows(table):
    first = table.countries[0]
    bad = table.model_copy(
        update={
            "countries": (
                first.model_copy(update={"effective": dt.date(2020, 1, 1)}),
                first.model_copy(update={"code": "XX", "source": "nowhere"}),
            )
        }
    )
    problems = "\n".join(validate_table(bad, DAY))
    assert "effective before" in problems
    assert "source 'nowhere'" in problems
    assert "also used by" in problems


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"effective": None}, "needs the date it took effect"),
        ({"status": "non_member"}, "a non-member has no effective date"),
        ({"checked": DAY + dt.timedelta(days=1)}, "in the future"),
        ({"pending_verification": True}, "say in `note`"),
        ({"status": "not_applicable", "note": None}, "say in `note`"),
        ({"eif": dt.date(2024, 6, 1)}, "should be 2024-06-01"),
        ({"code": "usa"}, "two capital letters"),
    ],
)
def test_completeness_rules(table, update, message):
    us = _country(table, "US").model_copy(update=update)
    bad = table.model_copy(
        update={"countries": tuple(us if c.code == "US" else c for c in table.countries)}
    )
    assert any(message in p for p in validate_table(bad, DAY)), validate_table(bad, DAY)


def test_an_entry_on_a_secondary_source_must_stay_unverified(table):
    sources = dict(table.sources)
    sources["blog"] = sources["hcch"].model_copy(
        update={"url": "https://blog.example/x", "secondary": True, "reason": "only report found"}
    )
    us = _country(table, "US").model_copy(update={"source": "blog"})
    bad = table.model_copy(
        update={
            "sources": sources,
            "countries": tuple(us if c.code == "US" else c for c in table.countries),
        }
    )
    assert any("secondary source" in p for p in validate_table(bad, DAY))


def test_loader_reports_schema_errors(tmp_path):
    path = tmp_path / "countries.yml"
    path.write_text(
        "sources: {}\ncountries:\n"
        "  - {code: XX, zh: 某国, en: Somewhere, status: maybe, effective: null, source: x,"
        " checked: 2026-01-01}\n",
        encoding="utf-8",
    )
    with pytest.raises(KBError, match="status"):
        load_countries(path)
    path.write_text(
        "sources: {}\ncountries:\n"
        "  - {code: XX, zh: 某国, en: Somewhere, status: member, effective: 2024-01-01, source: x}\n",
        encoding="utf-8",
    )
    with pytest.raises(KBError, match="checked"):
        load_countries(path)


# ---- freshness ---------------------------------------------------------------------------------


def test_freshness_warning_after_90_days(table):
    assert freshness_warning(table, DAY) is None
    assert freshness_warning(table, DAY + dt.timedelta(days=90)) is None
    warning = freshness_warning(table, DAY + dt.timedelta(days=91))
    assert warning is not None and warning.startswith("warning:")
    assert "2026-12-01" in warning and "91 days" in warning and "countries import" in warning


def test_make_kb_warns_but_does_not_fail_on_a_stale_table(tmp_path, capsys, monkeypatch):
    stale = TABLE_PATH.read_text(encoding="utf-8").replace(
        "checked: 2026-12-01", "checked: 2026-06-01"
    )
    (tmp_path / "countries.yml").write_text(stale, encoding="utf-8")
    monkeypatch.setattr("core.kb.countries.today", lambda: DAY)
    # only the country table is under test here: the entries are a stand-in
    entries = SimpleNamespace(entries=dict.fromkeys(PATH_ENTRY.values()))
    monkeypatch.setattr("core.kb.__main__.load_kb", lambda _dir: entries)
    assert kb_main(["validate", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "warning: kb/countries.yml was last checked 2026-06-01 (183 days ago" in captured.err
    assert "kb ok" in captured.out
    (tmp_path / "countries.yml").write_text(
        TABLE_PATH.read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert kb_main(["validate", str(tmp_path)]) == 0
    assert "warning" not in capsys.readouterr().err


# ---- matching and replies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("我的出生公证要拿到加拿大用，怎么办？", "CA"),
        ("學歷證明送到澳洲使用要辦什麼", "AU"),
        ("my degree certificate will be used in the UK", "GB"),
        ("文件要寄去印度尼西亚", "ID"),  # not India
        ("去印度用的授权书", "IN"),
        ("无犯罪证明拿到迪拜用", "AE"),
        ("结婚证要送去北爱尔兰用", "GB"),  # not Ireland
        ("documents for use in Viet Nam", "VN"),
        ("出生证明拿到刚果金用", "CD"),
        ("文件寄到刚果（金）用", "CD"),
        ("文件寄到刚果（布）用", "CG"),
        ("学历公证去巴布亚新几内亚用", "PG"),
        ("去赤道几内亚用的文件", "GQ"),
        ("papers for use in north korea", "KP"),  # not South Korea
        ("朝鲜族的出生证明送韩国用", "KR"),
        ("去南苏丹用的文件", "SS"),  # not Sudan
        ("要寄到美国马里兰州的学历公证", "US"),  # Maryland is not Mali
        ("document for new mexico", None),  # not Mexico
        ("documents for nigeria", "NG"),  # not Niger
    ],
)
def test_finds_the_country(matcher, text, code):
    mention = matcher.find(text)
    if code is None:
        assert mention is None or mention.country is None
        return
    assert mention is not None and mention.country is not None
    assert mention.country.code == code


def test_inner_mongolia_and_plain_words_are_not_countries(matcher):
    assert matcher.find("内蒙古的公证处在哪") is None
    assert matcher.find("can you help us with our documents") is None


def test_unverified_name_is_recognised_without_a_status(matcher, table):
    mention = matcher.find("结婚证公证要拿到巴勒斯坦用")
    assert mention is not None and mention.country is None and mention.name == "巴勒斯坦"
    assert path_entry(mention) == "apostille_vs_legalization"
    assert payload(mention, table) == {
        "name": "巴勒斯坦",
        "status": "unknown",
        "checked": "2026-12-01",
    }


def test_paths(matcher, table):
    member = matcher.find("加拿大")
    non_member = matcher.find("泰国")
    india = matcher.find("印度")
    assert path_entry(member, DAY) == "apostille_member_states"
    assert path_entry(non_member, DAY) == "legalization_non_member_states"
    assert path_entry(india, DAY) == "apostille_not_applicable_pairs"
    zh = sentence(member, table, "CONTACT", "zh", DAY)
    assert "加拿大" in zh and "附加证明书即可" in zh and "2024年1月11日" in zh
    assert "海牙国际私法会议公约状态表" in zh and "2026-12-01" in zh
    assert "不是公约缔约国" in sentence(non_member, table, "CONTACT", "zh", DAY)
    objection = sentence(india, table, "CONTACT", "zh", DAY)
    assert "待官方核实" in objection and "请以办公室最新通知为准" in objection
    unknown = sentence(matcher.find("巴勒斯坦"), table, "CONTACT", "zh", DAY)
    assert "请向办公室确认" in unknown
    assert payload(member, table, DAY)["status"] == "member"
    assert payload(india, table, DAY)["status"] == "not_applicable"


def test_an_unverified_entry_sends_the_citizen_to_the_office(matcher, table):
    bangladesh = matcher.find("学历公证要送孟加拉国用")
    assert bangladesh.country.code == "BD"
    assert bangladesh.country.status_on(DAY) == "unverified"
    assert path_entry(bangladesh, DAY) == "apostille_vs_legalization"
    assert "请向办公室确认：CONTACT" in sentence(bangladesh, table, "CONTACT", "zh", DAY)
    assert "check with the office: CONTACT" in sentence(bangladesh, table, "CONTACT", "en", DAY)


def test_only_document_use_abroad_is_routed():
    assert wants_path("我的出生公证要拿到加拿大用，怎么办？", None)
    assert wants_path("加拿大可以吗", "apostille_how_to_apply")
    assert not wants_path("美国的结婚证拿到中国用怎么认证", None)
    # taken abroad, said in so many words: the path even when the ranker chose the entry about
    # foreign documents for use in China
    assert wants_path("结婚证公证要拿到巴勒斯坦用", "foreign_documents_for_china")
    assert wants_path("Can I use my diploma in Spain?", "foreign_documents_for_china")
    assert not wants_path("美国的出生证明要带到国内用", "foreign_documents_for_china")
    assert not wants_path("美国出生证明怎么认证", "foreign_documents_for_china")
    assert not wants_path("加拿大签证好办吗", "visa_agency_documents")


# ---- the HCCH importer -------------------------------------------------------------------------


def test_parses_the_status_table_fixture():
    page = hcch.parse_status_table(FIXTURE.read_text(encoding="utf-8"))
    assert page.last_update == dt.date(2026, 1, 14) and page.declared_count == 8
    rows = {p.name: p for p in page.parties}
    assert list(rows) == [
        "Albania", "Algeria", "Bangladesh", "Canada", "China", "Germany", "India", "Viet Nam",
    ]  # fmt: skip
    assert rows["Viet Nam"].eif == VIET_NAM_IN_FORCE and rows["Viet Nam"].type == "accession"
    assert rows["Viet Nam"].instrument == dt.date(2025, 12, 31)
    assert rows["Germany"].type == "ratification" and rows["Germany"].instrument == dt.date(
        1965, 12, 15
    )
    assert rows["China"].objection_marked and rows["Bangladesh"].objection_marked
    assert not rows["Canada"].objection_marked
    assert page.objections == [("India", "China")]


def test_parse_dates():
    assert hcch.parse_date("11-IX-2026") == VIET_NAM_IN_FORCE
    assert hcch.parse_date("09-07-2026") == dt.date(2026, 7, 9)
    assert hcch.parse_date("") is None
    with pytest.raises(ValueError, match="no table of Contracting Parties"):
        hcch.parse_status_table("<html><table><tr><td>x</td></tr></table></html>")


STALE = """\
# a stale table
sources:
  hcch:
    title: HCCH status table
    url: "https://www.hcch.net/en/instruments/conventions/status-table/?cid=41"
    short: 海牙国际私法会议公约状态表
    short_en: HCCH status table
countries:
  - {code: AL, zh: 阿尔巴尼亚, en: Albania, aliases: [], status: member, effective: 2023-11-07, eif: 2004-05-09, type: accession, source: hcch, checked: 2026-05-01}
  - {code: CA, zh: 加拿大, en: Canada, aliases: [], status: member, effective: 2024-01-01, source: hcch, checked: 2026-05-01}
  - {code: DE, zh: 德国, en: Germany, aliases: [], status: member, effective: 2023-11-07, source: hcch, checked: 2026-05-01}
  - {code: IN, zh: 印度, en: India, aliases: [], status: not_applicable, effective: 2023-11-07, source: hcch, checked: 2026-05-01, pending_verification: true, note: 待核实}
  - {code: VN, zh: 越南, en: Viet Nam, aliases: [vietnam], status: non_member, effective: null, source: hcch, checked: 2026-05-01}
  - {code: BD, zh: 孟加拉国, en: Bangladesh, aliases: [], status: member, effective: 2025-03-30, source: hcch, checked: 2026-05-01}
  - {code: TH, zh: 泰国, en: Thailand, aliases: [], status: non_member, effective: null, source: hcch, checked: 2026-05-01}
# Country names recognised in questions but with no verified status here: the reply says
# "请向办公室确认" instead of guessing.
unverified_names: []
"""


@pytest.fixture
def stale_kb(tmp_path: Path) -> Path:
    (tmp_path / "countries.yml").write_text(STALE, encoding="utf-8")
    return tmp_path


def test_importer_prints_the_differences(stale_kb, capsys):
    before = (stale_kb / "countries.yml").read_text(encoding="utf-8")
    code = hcch.main(["import", str(FIXTURE), "--kb", str(stale_kb), "--today", "2026-12-01"])
    out = capsys.readouterr().out
    assert code == 0
    assert "8 Contracting Parties read (the page says 8), last update 2026-01-14" in out
    assert "changed  越南 Viet Nam: status non_member -> member; date None -> 2026-09-11" in out
    assert "changed  加拿大 Canada: date 2024-01-01 -> 2024-01-11" in out
    assert "changed  印度 India: objection named on the page: pending_verification -> false" in out
    assert "added    Algeria: a Contracting Party not in the table" in out
    assert "check    孟加拉国 Bangladesh: accession marked A**" in out
    assert "阿尔巴尼亚" not in out  # unchanged entries are only counted
    assert "4 entries unchanged" in out  # AL, DE, BD (member, same date), TH (still non-member)
    assert "--write" in out
    assert (stale_kb / "countries.yml").read_text(encoding="utf-8") == before  # nothing written


def test_importer_write_applies_the_changes_and_updates_checked(stale_kb, capsys):
    code = hcch.main(
        ["import", str(FIXTURE), "--kb", str(stale_kb), "--write", "--today", "2026-12-01"]
    )
    assert code == 0, capsys.readouterr()
    written = (stale_kb / "countries.yml").read_text(encoding="utf-8")
    assert written.startswith("# a stale table\n")
    table = load_countries(stale_kb / "countries.yml", DAY)
    by_code = table.by_code()
    assert by_code["VN"].status == "member" and by_code["VN"].effective == VIET_NAM_IN_FORCE
    assert by_code["VN"].eif == VIET_NAM_IN_FORCE and by_code["VN"].type == "accession"
    assert by_code["VN"].status_on(dt.date(2026, 9, 10)) == "pending"
    assert by_code["CA"].effective == dt.date(2024, 1, 11)
    assert by_code["IN"].status == "not_applicable" and not by_code["IN"].pending_verification
    assert "India objected" in by_code["IN"].note
    assert by_code["DE"].eif == dt.date(1966, 2, 13)  # filled in where the entry had none
    assert by_code["TH"].status == "non_member"
    assert {c.checked for c in table.countries} == {DAY}
    assert "Algeria" not in written  # no Chinese name can be guessed: added by hand
    # a second run finds nothing to change
    capsys.readouterr()
    hcch.main(["import", str(FIXTURE), "--kb", str(stale_kb), "--today", "2026-12-01"])
    out = capsys.readouterr().out
    assert "\nchanged " not in out and "added    Algeria" in out


def test_importer_refuses_to_write_from_a_partial_copy(stale_kb, capsys, tmp_path):
    page = tmp_path / "partial.html"
    page.write_text(
        FIXTURE.read_text(encoding="utf-8").replace(
            "Number of Contracting Parties to this Convention: 8",
            "Number of Contracting Parties to this Convention: 130",
        ),
        encoding="utf-8",
    )
    before = (stale_kb / "countries.yml").read_text(encoding="utf-8")
    code = hcch.main(
        ["import", str(page), "--kb", str(stale_kb), "--write", "--today", "2026-12-01"]
    )
    captured = capsys.readouterr()
    assert code == 1 and "partial copy" in captured.err
    assert (stale_kb / "countries.yml").read_text(encoding="utf-8") == before


def test_cli_hook(stale_kb, capsys):
    assert kb_main(["countries", "import", str(FIXTURE), "--kb", str(stale_kb)]) == 0
    assert "Contracting Parties read" in capsys.readouterr().out


def test_the_real_table_against_the_fixture(table):
    """The shipped table agrees with the fixture's rows (the fixture is a partial page)."""
    page = hcch.parse_status_table(FIXTURE.read_text(encoding="utf-8"))
    changes = {ch.code: ch for ch in hcch.diff(table, page) if ch.code}
    for code in ("AL", "CA", "DE", "VN", "DZ", "BD"):
        assert changes[code].kind == "same", changes[code].text
    assert hcch.partial_copy(page, list(changes.values())) is not None
