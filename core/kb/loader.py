"""Load kb/ into memory and check the rules that a single entry cannot check alone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ValidationError

from core.kb.schema import (
    OFFICE_TEXT_FIELDS,
    PENDING_PHRASE,
    PENDING_PHRASE_EN,
    POLICY_NOTE_EN,
    POLICY_NOTE_ZH,
    Entry,
    OfficeSettings,
    Source,
    SourcePolicy,
)

PLACEHOLDER_RE = re.compile(r"\{office\.([a-z_]+)\}")
SOURCES_POLICY = "sources_policy.yml"
# Chinese proper names an English answer may show as written (the WeChat account citizens must
# search for); anything else in CJK script in an English answer is a translation gap.
ALLOWED_CJK_IN_EN = frozenset({"领事直通车"})
_CJK_RE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")
PENDING_FOOTER_ZH = "部分内容待核实，" + PENDING_PHRASE + "。"
PENDING_FOOTER_EN = "Some details are not yet confirmed; please " + PENDING_PHRASE_EN + "."
# The office contact paragraph belongs in the footer, never in an answer body.
FOOTER_ONLY = frozenset({"contact", "contact_en"})
LEAD_MAX_CHARS = 150  # the first line answers directly: at most two sentences
# Verified, nationwide numbers (brief §7.1). Any other phone-like digit run is refused.
ALLOWED_NUMBERS = frozenset(
    {
        "12308",
        "861012308",
        "861065612308",
        "12348",
        "12345",
        "12367",
        "96110",
        "110",
        "119",
        "120",
        "122",
    }
)
_PHONE_RE = re.compile(r"(?<![\d.-])(\+?\d[\d -]{3,}\d)(?![\d年月日.-])")
# Amounts, fees, scores and durations must never be stated as facts (brief §0.3 rule 1).
_AMOUNT_RE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:元|块|美元|欧元|万元|分(?!之|钟)|个?工作日|天|日内|个月内|周内|小时内)"
)


class KBError(Exception):
    """The knowledge base is invalid; `problems` lists every finding as 'file: message'."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid knowledge base:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass
class KnowledgeBase:
    """All entries by id, plus office settings used to render answers."""

    entries: dict[str, Entry]
    office: OfficeSettings
    files: dict[str, Path] = field(default_factory=dict)

    def get(self, kb_id: str) -> Entry | None:
        """Entry by id, or None."""
        return self.entries.get(kb_id)

    def render(self, text: str) -> str:
        """Replace {office.<field>} placeholders with the office settings."""
        return PLACEHOLDER_RE.sub(lambda m: str(getattr(self.office, m.group(1))), text)

    def answer(self, kb_id: str, lang: str = "zh") -> str:
        """Rendered answer body (direct answer, then steps); English when asked for and available.

        The policy line and the office contact are not part of it: see `footer`.
        """
        entry = self.entries[kb_id]
        text = entry.answer_en if lang == "en" and entry.answer_en else entry.answer
        return self.render(text)

    def footer(self, kb_id: str, lang: str = "zh") -> str:
        """The one short line channels show under every answer: policy or 待核实 note, contact.

        Entries with unverified facts (`pending_verification`) send the citizen to the office.
        """
        entry = self.entries[kb_id]
        english = lang == "en" and bool(entry.answer_en)
        if english:
            note = PENDING_FOOTER_EN if entry.pending_verification else POLICY_NOTE_EN
            return f"{note} Contact: {self.office.short_contact('en')}"
        note = PENDING_FOOTER_ZH if entry.pending_verification else POLICY_NOTE_ZH
        return f"{note}咨询：{self.office.short_contact('zh')}"


def _read_yaml(path: Path, problems: list[str]) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not valid YAML ({exc.__class__.__name__})")
        return None


def _format_validation(path: Path, exc: ValidationError) -> list[str]:
    return [f"{path}: {'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors()]


def check_answer_text(text: str, office: OfficeSettings, lang: str = "zh") -> list[str]:
    """Problems with an answer's wording: unknown or wrong-language placeholders, the contact
    paragraph in the body, invented numbers or amounts."""
    problems = []
    for name in PLACEHOLDER_RE.findall(text):
        if name in FOOTER_ONLY:
            problems.append(
                f"{{office.{name}}} in the answer body; the office contact is shown in the footer"
            )
        elif name not in OfficeSettings.model_fields or name in ("example", "last_reviewed"):
            problems.append(f"unknown placeholder {{office.{name}}}")
        elif lang == "en" and name in OFFICE_TEXT_FIELDS:
            problems.append(f"English answer uses {{office.{name}}}; use {{office.{name}_en}}")
        elif lang == "zh" and name.endswith("_en"):
            problems.append(f"Chinese answer uses the English field {{office.{name}}}")
    plain = PLACEHOLDER_RE.sub("", text)
    for number in _PHONE_RE.findall(plain):
        digits = re.sub(r"\D", "", number)
        if len(digits) >= 5 and digits not in ALLOWED_NUMBERS and not _looks_like_year(digits):
            problems.append(f"phone-like number {number!r} is not a verified hotline")
    for amount in _AMOUNT_RE.findall(plain):
        problems.append(f"states an amount or duration {amount!r}; use {PENDING_PHRASE!r}")
    for line in (ln.strip() for ln in plain.splitlines()):
        bare = re.sub(r"[\s，。、；：,.;:!！]", "", line)
        if bare and bare in _STANDALONE_NOTES:
            problems.append(f"a line only says {line!r}; the footer carries it")
    for note in (POLICY_NOTE_ZH, POLICY_NOTE_EN):
        if note.rstrip("。.") in plain:
            problems.append(f"the policy line {note!r} is in the body; the footer carries it")
    return problems


_STANDALONE_NOTES = frozenset(
    re.sub(r"[\s，。、；：,.;:!！]", "", n)
    for n in (
        PENDING_PHRASE,
        "Please " + PENDING_PHRASE_EN,
        "For details, please check with the office",
    )
)


def check_sources(sources: list[Source], policy: SourcePolicy) -> list[str]:
    """Official pages only: allowed host, not a bare home page; else secondary with a reason."""
    problems = []
    for source in sources:
        if source.secondary:
            continue  # the schema already required its reason
        host = (source.url.host or "").lower()
        path = urlsplit(str(source.url)).path
        if not policy.is_official(host):
            problems.append(
                f"source {str(source.url)!r} is not on an official host (kb/{SOURCES_POLICY}); "
                "cite the official page or mark it secondary: true with a reason"
            )
        elif path in ("", "/") and not source.url.query:
            problems.append(
                f"source {str(source.url)!r} is a bare home page; cite the page itself "
                "(e.g. the statute's deep link) or mark it secondary: true with a reason"
            )
    return problems


def check_english(text: str) -> list[str]:
    """Chinese text in a rendered English answer, apart from the allowed proper names."""
    found = [run for run in _CJK_RE.findall(text) if run not in ALLOWED_CJK_IN_EN]
    return [f"English answer contains Chinese text {run!r}" for run in found]


def check_lead(text: str) -> list[str]:
    """The first line is the direct answer: at most two sentences, short enough for a phone."""
    lead = text.strip().splitlines()[0] if text.strip() else ""
    sentences = len(re.findall(r"[。！？]", lead.rstrip("。！？"))) + 1
    if sentences > 2 or len(lead) > LEAD_MAX_CHARS:
        return [
            f"the first line must be a direct answer of at most two sentences and "
            f"{LEAD_MAX_CHARS} characters (has {sentences} sentences, {len(lead)} characters)"
        ]
    return []


def _looks_like_year(digits: str) -> bool:
    return len(digits) == 4 and 1900 <= int(digits) <= 2100


_Model = TypeVar("_Model", bound=BaseModel)


def _load_required(
    path: Path, model: type[_Model], missing: str, problems: list[str]
) -> _Model | None:
    """A required YAML file of the KB validated as `model`; None (and a problem) otherwise."""
    if not path.exists():
        problems.append(f"{path}: {missing}")
        return None
    known = len(problems)
    raw = _read_yaml(path, problems)
    if raw is None:
        if len(problems) == known:  # an empty file is as good as none
            problems.append(f"{path}: {missing}")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_format_validation(path, exc))
        return None


def load_kb(root: Path) -> KnowledgeBase:
    """Load and validate kb/; raise KBError listing every problem found."""
    problems: list[str] = []
    office = _load_required(
        root / "office.yml", OfficeSettings, "missing office settings file", problems
    )
    policy = _load_required(
        root / SOURCES_POLICY, SourcePolicy, "missing sources policy (the official hosts)", problems
    )

    entries: dict[str, Entry] = {}
    files: dict[str, Path] = {}
    for path in sorted(root.glob("*/*.yml")):
        raw = _read_yaml(path, problems)
        if raw is None:
            continue
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_format_validation(path, exc))
            continue
        if entry.id in entries:
            problems.append(f"{path}: duplicate id {entry.id!r} (also in {files[entry.id]})")
            continue
        if path.stem != entry.id or path.parent.name != entry.topic:
            problems.append(f"{path}: file must be kb/{entry.topic}/{entry.id}.yml")
        entries[entry.id] = entry
        files[entry.id] = path

    for kb_id, entry in entries.items():
        path = files[kb_id]
        for target in entry.follow_up:
            if target not in entries:
                problems.append(f"{path}: follow_up {target!r} is not a KB id")
            elif target == kb_id:
                problems.append(f"{path}: follow_up points to itself")
        if policy is not None:
            problems.extend(f"{path}: {p}" for p in check_sources(entry.sources, policy))
        problems.extend(f"{path}: answer: {p}" for p in check_lead(entry.answer))
        if office is not None:
            problems.extend(f"{path}: answer: {p}" for p in check_answer_text(entry.answer, office))
            if entry.answer_en:
                problems.extend(
                    f"{path}: answer_en: {p}"
                    for p in check_answer_text(entry.answer_en, office, "en")
                )
        if entry.last_reviewed < entry.effective_from:
            problems.append(f"{path}: last_reviewed is before effective_from")
        normalised = {q.strip() for q in entry.questions}
        if len(normalised) != len(entry.questions):
            problems.append(f"{path}: duplicate questions")

    if not entries:
        problems.append(f"{root}: no entries found")
    if office is not None and not problems:
        problems.extend(_check_rendered(KnowledgeBase(entries=entries, office=office, files=files)))
    if problems or office is None:
        raise KBError(problems)
    return KnowledgeBase(entries=entries, office=office, files=files)


def _check_rendered(kb: KnowledgeBase) -> list[str]:
    """What citizens read, with the office's values filled in: English answers and footers
    carry no Chinese text, and an unverified entry's footer sends them to the office."""
    problems: list[str] = []
    for kb_id, entry in kb.entries.items():
        path = kb.files[kb_id]
        if entry.answer_en:
            english = kb.answer(kb_id, "en") + "\n" + kb.footer(kb_id, "en")
            problems.extend(f"{path}: answer_en: {p}" for p in check_english(english))
        if entry.pending_verification:
            for lang, phrase in (("zh", PENDING_PHRASE), ("en", PENDING_PHRASE_EN)):
                footer = kb.footer(kb_id, lang)
                if phrase not in footer or kb.office.short_contact(lang) not in footer:
                    problems.append(
                        f"{path}: the {lang} footer of an unverified entry must say {phrase!r} "
                        "and give the office contact"
                    )
    return problems
