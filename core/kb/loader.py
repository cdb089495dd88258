"""Load kb/ into memory and check the rules that a single entry cannot check alone."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from core.kb.schema import PENDING_PHRASE, Entry, OfficeSettings

PLACEHOLDER_RE = re.compile(r"\{office\.([a-z_]+)\}")
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
        """Rendered answer text; English when asked for and available."""
        entry = self.entries[kb_id]
        text = entry.answer_en if lang == "en" and entry.answer_en else entry.answer
        return self.render(text)


def _read_yaml(path: Path, problems: list[str]) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not valid YAML ({exc.__class__.__name__})")
        return None


def _format_validation(path: Path, exc: ValidationError) -> list[str]:
    return [f"{path}: {'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors()]


def check_answer_text(text: str, office: OfficeSettings) -> list[str]:
    """Problems with an answer's wording: unknown placeholders, invented numbers or amounts."""
    problems = []
    for name in PLACEHOLDER_RE.findall(text):
        if name not in OfficeSettings.model_fields and name != "contact":
            problems.append(f"unknown placeholder {{office.{name}}}")
    plain = PLACEHOLDER_RE.sub("", text)
    for number in _PHONE_RE.findall(plain):
        digits = re.sub(r"\D", "", number)
        if len(digits) >= 5 and digits not in ALLOWED_NUMBERS and not _looks_like_year(digits):
            problems.append(f"phone-like number {number!r} is not a verified hotline")
    for amount in _AMOUNT_RE.findall(plain):
        problems.append(f"states an amount or duration {amount!r}; use {PENDING_PHRASE!r}")
    return problems


def _looks_like_year(digits: str) -> bool:
    return len(digits) == 4 and 1900 <= int(digits) <= 2100


def load_kb(root: Path) -> KnowledgeBase:
    """Load and validate kb/; raise KBError listing every problem found."""
    problems: list[str] = []
    office_path = root / "office.yml"
    raw_office = _read_yaml(office_path, problems) if office_path.exists() else None
    office: OfficeSettings | None = None
    if raw_office is None and not problems:
        problems.append(f"{office_path}: missing office settings file")
    elif raw_office is not None:
        try:
            office = OfficeSettings.model_validate(raw_office)
        except ValidationError as exc:
            problems.extend(_format_validation(office_path, exc))

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
        if office is not None:
            for text in filter(None, (entry.answer, entry.answer_en)):
                problems.extend(f"{path}: {p}" for p in check_answer_text(text, office))
        if entry.pending_verification and (
            PENDING_PHRASE not in entry.answer or "{office.contact}" not in entry.answer
        ):
            problems.append(
                f"{path}: pending_verification answers must say {PENDING_PHRASE!r} "
                "and give {office.contact}"
            )
        if entry.last_reviewed < entry.effective_from:
            problems.append(f"{path}: last_reviewed is before effective_from")
        normalised = {q.strip() for q in entry.questions}
        if len(normalised) != len(entry.questions):
            problems.append(f"{path}: duplicate questions")

    if not entries:
        problems.append(f"{root}: no entries found")
    if problems or office is None:
        raise KBError(problems)
    return KnowledgeBase(entries=entries, office=office, files=files)
