"""Destination-country routing for documents issued in China (kb/countries.yml).

`find_country(text)` names the country a question mentions; `route_for(...)` turns it into the KB
entry to answer with (apostille path, legalization path, objection, or "请向办公室确认") and the
sentence naming the country. Brief §3.05/§3.06: never hard-code a status without a source and a
check date; statuses that are 待核实 send the citizen to the office.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from core.kb.loader import KBError
from core.text import normalize

Status = Literal["member", "not_applicable_with_china", "non_member"]
CHINA_IN_FORCE = dt.date(2023, 11, 7)  # brief §3.03 [已核实: S09; S12]

# The KB entry that explains each path.
PATH_ENTRY = {
    "member": "apostille_member_states",
    "not_applicable_with_china": "apostille_not_applicable_pairs",
    "non_member": "legalization_non_member_states",
    "unknown": "apostille_vs_legalization",
}
# Entries about using a Chinese document abroad: a named country refines them.
DOCUMENT_ENTRIES = frozenset(
    {
        "apostille_what_is",
        "apostille_documents_applicant",
        "apostille_how_to_apply",
        "apostille_member_states",
        "apostille_not_applicable_pairs",
        "apostille_vs_legalization",
        "apostille_time_fees",
        "legalization_what_is",
        "legalization_non_member_states",
        "legalization_agency_service",
        "notarization_first",
        "documents_that_qualify",
        "document_rejected_abroad",
    }
)
# A Chinese document to be used abroad: a document word and a "use there" word.
_DOCUMENT_RE = re.compile(
    r"公证|认证|附加证明|海牙|证明|证书|文件|文书|学历|学位|毕业证|成绩单|出生|结婚证|离婚|无犯罪|"
    r"营业执照|授权书|apostille|legali[sz]|notari[sz]|document|certificate|diploma|degree"
)
_USE_RE = re.compile(
    r"用|使用|提交|送|寄|交给|拿到|拿去|带到|带去|\buse\b|\bused\b|submit|send|for"
)
# Documents coming *to* China are a different entry (foreign_documents_for_china).
_TO_CHINA_RE = re.compile(
    r"(拿到|带到|拿回|带回|寄回|回|在|送到|到)(中国|国内|内地|大陆)(来)?(用|使用)|in china|to china|for china"
)


class Country(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    status: Status
    effective: dt.date | None
    source: str
    pending_verification: bool = False


class SourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    url: str


class CountryTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    checked: dt.date
    sources: dict[str, SourceRef]
    countries: tuple[Country, ...]
    unverified_names: tuple[str, ...] = ()


def validate_table(table: CountryTable) -> list[str]:
    """Consistency problems: unknown sources, missing dates, duplicate names, unsafe claims."""
    problems = []
    seen: dict[str, str] = {}
    for c in table.countries:
        if c.source not in table.sources:
            problems.append(f"{c.code}: source {c.source!r} is not in sources")
        if c.status == "non_member" and c.effective is not None:
            problems.append(f"{c.code}: a non-member has no effective date")
        if c.status != "non_member" and c.effective is None:
            problems.append(f"{c.code}: {c.status} needs the date it took effect")
        if c.effective is not None and c.effective < CHINA_IN_FORCE:
            problems.append(f"{c.code}: effective before the Convention applied to China")
        if c.status == "not_applicable_with_china" and not c.pending_verification:
            problems.append(f"{c.code}: objections are 待核实 in the brief: pending_verification")
        for name in (c.zh, c.en, *c.aliases):
            key = name.lower()
            if key in seen and seen[key] != c.code:
                problems.append(f"{c.code}: name {name!r} also used by {seen[key]}")
            seen[key] = c.code
    for name in table.unverified_names:
        if name.lower() in seen:
            problems.append(f"unverified name {name!r} is also a listed country")
    if table.checked > dt.date.today():
        problems.append("checked date is in the future")
    return problems


def load_countries(path: Path) -> CountryTable:
    """Load and validate kb/countries.yml; KBError lists every problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        table = CountryTable.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise KBError([f"{path}: {exc.__class__.__name__}"]) from exc
    except ValidationError as exc:
        raise KBError(
            [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        ) from exc
    problems = validate_table(table)
    if problems:
        raise KBError([f"{path}: {p}" for p in problems])
    return table


@dataclass(frozen=True)
class Mention:
    country: Country | None  # None: a country name with no verified status
    name: str  # as the citizen should read it


class CountryMatcher:
    """Longest-name-first matching of country names in normalised text."""

    def __init__(self, table: CountryTable):
        self.table = table
        names: list[tuple[str, Country | None, str]] = []
        for c in table.countries:
            for name in (c.zh, c.en, *c.aliases):
                names.append((name.lower(), c, c.zh))
        names += [(n.lower(), None, n) for n in table.unverified_names]
        names.sort(key=lambda item: -len(item[0]))
        self.names = names

    def find(self, text: str) -> Mention | None:
        plain = normalize(text).lower()
        plain = plain.replace("内蒙古", "")  # Inner Mongolia is in China
        for name, country, label in self.names:
            if name.isascii():
                if re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", plain):
                    return Mention(country, label)
            elif name in plain:
                return Mention(country, label)
        return None


def wants_path(text: str, kb_id: str | None) -> bool:
    """True when the question is about using a Chinese document abroad."""
    plain = normalize(text).lower()
    if _TO_CHINA_RE.search(plain) or kb_id in ("foreign_documents_for_china",):
        return False
    if kb_id in DOCUMENT_ENTRIES:
        return True
    return bool(_DOCUMENT_RE.search(plain) and _USE_RE.search(plain))


def sentence(mention: Mention, table: CountryTable, contact: str, lang: str) -> str:
    """The reply's first paragraph, naming the country and its path."""
    c = mention.country
    checked = table.checked.isoformat()
    if c is None:
        if lang == "en":
            return (
                f"I have no verified information on whether apostilles are accepted in "
                f"{mention.name}; please check with the office: {contact}."
            )
        return (
            f"我这里还没有核实过{mention.name}是否适用附加证明书，请向办公室确认：{contact}。"
            "下面是两种途径的区别，供参考。"
        )
    if lang == "en":
        if c.status == "member":
            return (
                f"{c.en}: the Apostille Convention has applied between China and {c.en} since "
                f"{c.effective}. A Chinese public document for use in {c.en} only needs an "
                f"apostille (after notarisation where required); no legalization by the "
                f"{c.en} embassy or consulate is needed. (HCCH status table, checked {checked}; "
                "the list can change, the China Consular Service list prevails.)"
            )
        if c.status == "non_member":
            return (
                f"{c.en}: according to the HCCH status table (checked {checked}), {c.en} is not a "
                f"party to the Apostille Convention, so documents for {c.en} cannot get an "
                "apostille and need consular legalization. The list can change; the China "
                "Consular Service list prevails."
            )
        return (
            f"{c.en}: according to public sources {c.en} objected to China's accession, so the "
            f"Convention may not apply between China and {c.en} and documents generally still "
            "need consular legalization. This is not yet officially verified; please check "
            "with the office (contact details below)."
        )
    if c.status == "member":
        return (
            f"{c.zh}：公约自{c.effective:%Y年%-m月%-d日}起在中国与{c.zh}之间适用。送往{c.zh}使用的中国公文书，"
            f"先办好公证或证明，再办理附加证明书即可，不需要再办{c.zh}驻华使领馆的领事认证。"
            f"（依据海牙国际私法会议公约状态表，核对日期{checked}；名单可能变化，以中国领事服务网公布的缔约国名单为准。）"
        )
    if c.status == "non_member":
        return (
            f"{c.zh}：据海牙国际私法会议公约状态表（核对日期{checked}），{c.zh}不是公约缔约国，"
            f"送往{c.zh}使用的文书不能办理附加证明书，需要办理领事认证。"
            "名单可能变化，以中国领事服务网公布的名单为准。"
        )
    return (
        f"{c.zh}：据公开资料，{c.zh}对中国加入公约提出了反对，中国与{c.zh}之间公约可能不适用，"
        "文书一般仍需办理领事认证。这一点尚待官方核实，请以办公室最新通知为准（咨询方式见下）。"
    )


def payload(mention: Mention, table: CountryTable) -> dict[str, object]:
    """The `country` field of a kb_answer payload."""
    c = mention.country
    if c is None:
        return {"name": mention.name, "status": "unknown", "checked": table.checked.isoformat()}
    source = table.sources[c.source]
    return {
        "code": c.code,
        "name": c.zh,
        "name_en": c.en,
        "status": c.status,
        "effective": c.effective.isoformat() if c.effective else None,
        "checked": table.checked.isoformat(),
        "pending_verification": c.pending_verification,
        "source": {"title": source.title, "url": source.url},
    }


def path_entry(mention: Mention) -> str:
    """The KB id whose answer explains the path for this country."""
    return PATH_ENTRY[mention.country.status if mention.country else "unknown"]


@lru_cache(maxsize=4)
def get_matcher(path: Path) -> CountryMatcher | None:
    """The matcher for kb/countries.yml (None when the file does not exist)."""
    if not path.exists():
        return None
    return CountryMatcher(load_countries(path))
