"""Destination-country routing for documents issued in China (kb/countries.yml).

`find_country(text)` names the country a question mentions; `route_for(...)` turns it into the KB
entry to answer with (apostille path, legalization path, objection, or "请向办公室确认") and the
sentence naming the country. Brief §3.05/§3.06: never hard-code a status without a source and a
check date; statuses that are 待核实 send the citizen to the office.

A country's status towards China is computed against a date (`today`, injectable for tests): a
`member` whose `effective` date is still ahead is *pending* (accession deposited, Convention not
yet in force): until that date documents still need legalization, from it on an apostille.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from core.kb.loader import KBError
from core.text import normalize

Status = Literal["member", "not_applicable", "non_member"]
# What a citizen is told on a given day: `pending` is a member whose date is still ahead;
# `unverified` is any entry marked pending_verification that is not an objection case.
Effective = Literal["member", "pending", "not_applicable", "non_member", "unverified"]
HcchType = Literal["accession", "ratification", "succession", "continuation", "approval"]

CHINA_IN_FORCE = dt.date(2023, 11, 7)  # brief §3.03 [已核实: S09; S12]; HCCH status table
REVIEW_AFTER_DAYS = 90  # `make kb` warns when the newest check is older than this
OFFICE_TZ = ZoneInfo("Asia/Shanghai")

# The KB entry that explains each path.
PATH_ENTRY = {
    "member": "apostille_member_states",
    "pending": "legalization_non_member_states",  # until the date: legalization
    "not_applicable": "apostille_not_applicable_pairs",
    "non_member": "legalization_non_member_states",
    "unverified": "apostille_vs_legalization",
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
# Documents explicitly taken *abroad* ("拿到巴勒斯坦用", "for use in Spain"): the path applies even
# when the ranker picked the entry about foreign documents coming to China.
_ABROAD_RE = re.compile(
    r"(拿到|带到|送到|寄到|寄往|送往|拿去|带去)(?!中国|国内|内地|大陆)[\u4e00-\u9fff]{1,10}(用|使用)|"
    r"\buse[ds]?\b(?: [a-z']+){0,3} in (?!china)[a-z]"
)
# Words that contain a country name but are not that country (removed before matching).
_NOT_COUNTRIES = re.compile(
    r"内蒙古"  # Inner Mongolia is in China
    r"|朝鲜族"  # an ethnic group of China
    r"|马里兰"  # Maryland (United States), not Mali
    r"|新墨西哥|new mexico"  # New Mexico (United States), not Mexico
    r"|(?<!巴布亚)新几内亚"  # the island of New Guinea is not Guinea (巴布亚新几内亚 is listed)
)


def today() -> dt.date:
    """Today in the office's time zone (the clock every status is computed against)."""
    return dt.datetime.now(OFFICE_TZ).date()


class Country(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    status: Status
    # The date from which the status holds for Chinese documents: for members the later of the
    # state's own entry into force and China's (2023-11-07). Non-members: null.
    effective: dt.date | None
    # The state's own entry into force and the kind of its instrument, as the HCCH table gives
    # them (only where read from the table or an official notice; otherwise null).
    eif: dt.date | None = None
    type: HcchType | None = None
    source: str
    checked: dt.date
    pending_verification: bool = False
    note: str | None = None

    def status_on(self, day: dt.date) -> Effective:
        """What applies between China and this country on `day`."""
        if self.status == "member" and self.pending_verification:
            return "unverified"
        if self.status == "non_member" and self.pending_verification:
            return "unverified"
        if self.status == "member" and self.effective is not None and day < self.effective:
            return "pending"
        return self.status


class SourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    url: str
    short: str  # how a reply names it: "海牙国际私法会议公约状态表"
    short_en: str
    secondary: bool = False  # not an official page: needs `reason`, entries stay 待核实
    reason: str | None = None


class CountryTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: dict[str, SourceRef]
    countries: tuple[Country, ...]
    unverified_names: tuple[str, ...] = ()

    @property
    def checked(self) -> dt.date:
        """The newest check of any entry (what the freshness rule looks at)."""
        return max(c.checked for c in self.countries)

    def by_code(self) -> dict[str, Country]:
        return {c.code: c for c in self.countries}


_CODE_RE = re.compile(r"^[A-Z]{2}$")


def validate_table(table: CountryTable, day: dt.date | None = None) -> list[str]:
    """Completeness and consistency problems; an empty list when the table is publishable.

    Every entry has a status, a known source and a check date no later than `day`; members and
    objection cases have the date they took effect (not before China's own entry into force, and
    the later of it and the state's `eif` when that is given); non-members have none; entries
    marked pending_verification or not_applicable say why in `note`; an entry resting on a
    secondary source is pending_verification. A member whose date is still ahead is a pending
    accession (reported by `pending`); once the date has passed it is simply a member.
    """
    day = day or today()
    problems = []
    seen: dict[str, str] = {}
    codes: set[str] = set()
    if not table.countries:
        problems.append("the table has no countries")
    for key, source in table.sources.items():
        if not source.url.startswith("https://") and not source.url.startswith("http://"):
            problems.append(f"source {key}: url must be http(s)")
        if source.secondary and not source.reason:
            problems.append(f"source {key}: a secondary source needs a reason")
    for c in table.countries:
        if not _CODE_RE.match(c.code):
            problems.append(f"{c.code}: code must be two capital letters (ISO 3166-1)")
        if c.code in codes:
            problems.append(f"{c.code}: duplicate code")
        codes.add(c.code)
        cited = table.sources.get(c.source)
        if cited is None:
            problems.append(f"{c.code}: source {c.source!r} is not in sources")
        elif cited.secondary and not c.pending_verification:
            problems.append(f"{c.code}: rests on a secondary source: pending_verification")
        if c.checked > day:
            problems.append(f"{c.code}: checked date {c.checked} is in the future")
        if c.status == "non_member" and c.effective is not None:
            problems.append(f"{c.code}: a non-member has no effective date")
        if c.status != "non_member" and c.effective is None:
            problems.append(f"{c.code}: {c.status} needs the date it took effect")
        if c.effective is not None and c.effective < CHINA_IN_FORCE:
            problems.append(f"{c.code}: effective before the Convention applied to China")
        if c.status == "member" and c.eif is not None and c.effective is not None:
            expected = max(c.eif, CHINA_IN_FORCE)
            if c.effective != expected:
                problems.append(
                    f"{c.code}: effective {c.effective} should be {expected} "
                    f"(the later of its entry into force {c.eif} and China's {CHINA_IN_FORCE})"
                )
        if c.status == "non_member" and (c.eif is not None or c.type is not None):
            problems.append(f"{c.code}: a non-member has no entry into force or instrument")
        if (c.pending_verification or c.status == "not_applicable") and not c.note:
            problems.append(f"{c.code}: say in `note` what is unverified or why it does not apply")
        for name in (c.zh, c.en, *c.aliases):
            key = name.lower()
            if not key.strip():
                problems.append(f"{c.code}: empty name")
            if key in seen and seen[key] != c.code:
                problems.append(f"{c.code}: name {name!r} also used by {seen[key]}")
            seen[key] = c.code
    for name in table.unverified_names:
        if name.lower() in seen:
            problems.append(f"unverified name {name!r} is also a listed country")
    return problems


def pending(table: CountryTable, day: dt.date | None = None) -> list[Country]:
    """Accessions deposited but not yet in force on `day` (members whose date is ahead)."""
    day = day or today()
    return [c for c in table.countries if c.status_on(day) == "pending"]


def due_for_review(
    table: CountryTable, day: dt.date | None = None, max_age_days: int = REVIEW_AFTER_DAYS
) -> list[Country]:
    """Entries whose last check is older than `max_age_days` (for the editors' review queue)."""
    day = day or today()
    return [c for c in table.countries if (day - c.checked).days > max_age_days]


def freshness_warning(
    table: CountryTable, day: dt.date | None = None, max_age_days: int = REVIEW_AFTER_DAYS
) -> str | None:
    """A warning line when even the newest check is older than `max_age_days`, else None."""
    day = day or today()
    age = (day - table.checked).days
    if age <= max_age_days:
        return None
    return (
        f"warning: kb/countries.yml was last checked {table.checked} ({age} days ago, more than "
        f"{max_age_days}); refresh it from a saved HCCH status table: "
        "python -m core.kb countries import <page.html>"
    )


def load_countries(path: Path, day: dt.date | None = None) -> CountryTable:
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
    problems = validate_table(table, day)
    if problems:
        raise KBError([f"{path}: {p}" for p in problems])
    return table


# ---- writing the table back (the importer's --write) -------------------------------------------

_PLAIN_RE = re.compile(r"^[\w\u00c0-\u024f\u4e00-\u9fff][\w .'\u00c0-\u024f\u4e00-\u9fff-]*$")
_YAML_WORDS = {"yes", "no", "true", "false", "null", "on", "off", "y", "n", "~"}


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if (
        _PLAIN_RE.match(text)
        and text.lower() not in _YAML_WORDS
        and not text[0].isdigit()
        and text == text.strip()
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(mapping: dict[str, object]) -> str:
    parts = []
    for key, value in mapping.items():
        if isinstance(value, tuple | list):
            parts.append(f"{key}: [{', '.join(_scalar(v) for v in value)}]")
        else:
            parts.append(f"{key}: {_scalar(value)}")
    return "{" + ", ".join(parts) + "}"


_FIELD_ORDER = (
    "code", "zh", "en", "aliases", "status", "effective", "eif", "type", "source", "checked",
    "pending_verification", "note",
)  # fmt: skip


def dump_table(table: CountryTable, header: str = "") -> str:
    """The table as YAML in the hand-edited layout: one line per country, header kept."""
    lines = [header.rstrip("\n")] if header.strip() else []
    lines.append("sources:")
    for key, src in table.sources.items():
        lines.append(f"  {key}:")
        for field in ("title", "url", "short", "short_en", "secondary", "reason"):
            value = getattr(src, field)
            if field in ("secondary", "reason") and not value:
                continue
            lines.append(f"    {field}: {_scalar(value)}")
    lines.append("countries:")
    for c in table.countries:
        data = c.model_dump()
        row: dict[str, object] = {}
        for field in _FIELD_ORDER:
            value = data[field]
            if field in ("eif", "type", "note") and value is None:
                continue
            if field == "pending_verification" and not value:
                continue
            row[field] = value
        lines.append(f"  - {_flow(row)}")
    lines.append(
        "# Country names recognised in questions but with no verified status here: the reply says"
    )
    lines.append('# "请向办公室确认" instead of guessing.')
    lines.append(f"unverified_names: [{', '.join(_scalar(n) for n in table.unverified_names)}]")
    return "\n".join(lines) + "\n"


def read_header(path: Path) -> str:
    """The comment block at the top of a countries file (kept when the importer rewrites it)."""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            header.append(line)
        else:
            break
    return "\n".join(header) + "\n"


# ---- matching questions ------------------------------------------------------------------------


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
                names.append((normalize(name).lower(), c, c.zh))
        names += [(normalize(n).lower(), None, n) for n in table.unverified_names]
        names.sort(key=lambda item: -len(item[0]))
        self.names = names
        # Latin names as whole words, all in one pattern: a pasted letter is read once, not
        # once per name (it was ~5 ms for 2,000 characters, name by name)
        latin = [name for name, _, _ in names if name.isascii()]
        self._rank = {name: i for i, (name, _, _) in reversed(list(enumerate(names)))}
        self._latin = (
            re.compile(rf"(?<![a-z])(?=({'|'.join(map(re.escape, latin))})(?![a-z]))")
            if latin
            else None
        )

    def find(self, text: str) -> Mention | None:
        """The longest country name the text mentions (Latin names as whole words)."""
        plain = normalize(text).lower()
        plain = _NOT_COUNTRIES.sub(" ", plain)
        found = [
            i for i, (name, _, _) in enumerate(self.names) if not name.isascii() and name in plain
        ]
        if self._latin is not None:
            # every position (overlapping), so "papua new guinea" is found as well as "guinea"
            found += [self._rank[m.group(1)] for m in self._latin.finditer(plain)]
        if not found:
            return None
        _, country, label = self.names[min(found)]
        return Mention(country, label)


def wants_path(text: str, kb_id: str | None) -> bool:
    """True when the question is about using a Chinese document abroad."""
    plain = normalize(text).lower()
    if _TO_CHINA_RE.search(plain):
        return False
    if _ABROAD_RE.search(plain):
        return True
    if kb_id in ("foreign_documents_for_china",):
        return False
    if kb_id in DOCUMENT_ENTRIES:
        return True
    return bool(_DOCUMENT_RE.search(plain) and _USE_RE.search(plain))


def _zh_date(day: dt.date | None) -> str:
    # validate() gives every member a date; without one the sentence still reads.
    return f"{day.year}年{day.month}月{day.day}日" if day is not None else "生效之日"


def sentence(
    mention: Mention, table: CountryTable, contact: str, lang: str, day: dt.date | None = None
) -> str:
    """The reply's first paragraph, naming the country and its path on `day` (default today)."""
    day = day or today()
    c = mention.country
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
    src = table.sources[c.source]
    checked = c.checked.isoformat()
    status = c.status_on(day)
    if lang == "en":
        cite = f"({src.short_en}, checked {checked}; the list can change, the China Consular Service list prevails.)"
        if status == "member":
            return (
                f"{c.en}: the Apostille Convention has applied between China and {c.en} since "
                f"{c.effective}. A Chinese public document for use in {c.en} only needs an "
                f"apostille (after notarisation where required); no legalization by the "
                f"{c.en} embassy or consulate is needed. {cite}"
            )
        if status == "pending":
            return (
                f"{c.en}: {c.en} has acceded to the Apostille Convention, but it is not yet in "
                f"force for {c.en}: it is expected to apply between China and {c.en} from "
                f"{c.effective}. "
                f"Until then, documents for {c.en} still need consular legalization. {cite}"
            )
        if status == "non_member":
            return (
                f"{c.en}: according to the {src.short_en} (checked {checked}), {c.en} is not a "
                f"party to the Apostille Convention, so documents for {c.en} cannot get an "
                "apostille and need consular legalization. The list can change; the China "
                "Consular Service list prevails."
            )
        if status == "not_applicable":
            return (
                f"{c.en}: according to public sources {c.en} objected to China's accession, so "
                f"the Convention may not apply between China and {c.en} and documents generally "
                "still need consular legalization. This is not yet officially verified; please "
                "check with the office (contact details below)."
                if c.pending_verification
                else f"{c.en}: {c.en} objected to China's accession, so the Convention does not "
                f"apply between China and {c.en}; documents need consular legalization. {cite}"
            )
        return (
            f"{c.en}: I could not verify whether the Apostille Convention applies between China "
            f"and {c.en}; please check with the office: {contact}."
        )
    cite = f"（依据{src.short}，核对日期{checked}；名单可能变化，以中国领事服务网公布的缔约国名单为准。）"
    if status == "member":
        return (
            f"{c.zh}：公约自{_zh_date(c.effective)}起在中国与{c.zh}之间适用。送往{c.zh}使用的中国公文书，"
            f"先办好公证或证明，再办理附加证明书即可，不需要再办{c.zh}驻华使领馆的领事认证。{cite}"
        )
    if status == "pending":
        return (
            f"{c.zh}：{c.zh}已加入公约，但公约尚未对{c.zh}生效，预计自{_zh_date(c.effective)}起在中国与{c.zh}之间适用。"
            f"在此之前，送往{c.zh}使用的文书仍需办理领事认证，不能办理附加证明书。{cite}"
        )
    if status == "non_member":
        return (
            f"{c.zh}：据{src.short}（核对日期{checked}），{c.zh}不是公约缔约国，"
            f"送往{c.zh}使用的文书不能办理附加证明书，需要办理领事认证。"
            "名单可能变化，以中国领事服务网公布的名单为准。"
        )
    if status == "not_applicable":
        if c.pending_verification:
            return (
                f"{c.zh}：据公开资料，{c.zh}对中国加入公约提出了反对，中国与{c.zh}之间公约可能不适用，"
                "文书一般仍需办理领事认证。这一点尚待官方核实，请以办公室最新通知为准（咨询方式见下）。"
            )
        return (
            f"{c.zh}：{c.zh}对中国加入公约提出了反对，公约在中国与{c.zh}之间不适用，"
            f"送往{c.zh}使用的文书需要办理领事认证。{cite}"
        )
    return (
        f"{c.zh}：我这里还没有核实公约在中国与{c.zh}之间是否适用，请向办公室确认：{contact}。"
        "下面是两种途径的区别，供参考。"
    )


def payload(mention: Mention, table: CountryTable, day: dt.date | None = None) -> dict[str, object]:
    """The `country` field of a kb_answer payload (status as computed on `day`)."""
    day = day or today()
    c = mention.country
    if c is None:
        return {"name": mention.name, "status": "unknown", "checked": table.checked.isoformat()}
    source = table.sources[c.source]
    return {
        "code": c.code,
        "name": c.zh,
        "name_en": c.en,
        "status": c.status_on(day),
        "effective": c.effective.isoformat() if c.effective else None,
        "checked": c.checked.isoformat(),
        "pending_verification": c.pending_verification,
        "source": {"title": source.title, "url": source.url},
    }


def path_entry(mention: Mention, day: dt.date | None = None) -> str:
    """The KB id whose answer explains the path for this country on `day`."""
    if mention.country is None:
        return PATH_ENTRY["unknown"]
    return PATH_ENTRY[mention.country.status_on(day or today())]


@lru_cache(maxsize=4)
def get_matcher(path: Path) -> CountryMatcher | None:
    """The matcher for kb/countries.yml (None when the file does not exist)."""
    if not path.exists():
        return None
    return CountryMatcher(load_countries(path))
