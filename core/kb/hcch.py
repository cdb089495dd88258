"""Refresh kb/countries.yml from a saved copy of the HCCH status table of the Apostille Convention.

    python -m core.kb countries import <saved page.html> [--kb kb] [--write] [--today YYYY-MM-DD]

An editor saves https://www.hcch.net/en/instruments/conventions/status-table/?cid=41 (or its
print view) from a browser; this reads the table of Contracting Parties (the instrument's date,
its type — ratification, accession, succession — and the entry into force, EIF), the parties
whose accession drew an objection (type `A**`) and the objections named in the notes below the
table, and prints how kb/countries.yml differs:

    changed  越南 Viet Nam: status non_member -> member (in force for China from 2026-09-11)
    added    Atlantis: a Contracting Party not in the table (add code, zh and aliases by hand)
    check    孟加拉国 Bangladesh: accession marked A** (an objection) without the objector named

`--write` applies the changes to existing entries, sets `checked` to today on every entry the
page confirmed, and rewrites the file in its usual layout. Parties missing from the table are
never written (a Chinese name cannot be guessed), nor are entries that the page no longer lists.
Standard library only (html.parser).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from core.kb.countries import (
    CHINA_IN_FORCE,
    Country,
    CountryTable,
    dump_table,
    load_countries,
    read_header,
    today,
    validate_table,
)
from core.kb.loader import KBError

STATUS_TABLE_URL = "https://www.hcch.net/en/instruments/conventions/status-table/?cid=41"
CHINA = "china"

_ROMAN = {
    "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6,
    "VII": 7, "VIII": 8, "IX": 9, "X": 10, "XI": 11, "XII": 12,
}  # fmt: skip
_DATE_RE = re.compile(r"\b(\d{1,2})-([IVX]{1,4})-(\d{4})\b")
_NUM_DATE_RE = re.compile(r"\b(\d{1,2})-(\d{1,2})-(\d{4})\b")
_CJK_RE = re.compile(r"[\u3000-\u9fff]")
_TYPES = {
    "R": "ratification",
    "A": "accession",
    "SU": "succession",
    "C": "continuation",
    "AP": "approval",
    "AEU": "approval",
    "DEN": "denunciation",
}


def parse_date(text: str) -> dt.date | None:
    """`9-V-2004` (HCCH) or `09-05-2004` → a date; None when the text holds no date."""
    m = _DATE_RE.search(text)
    if m and m.group(2) in _ROMAN:
        return dt.date(int(m.group(3)), _ROMAN[m.group(2)], int(m.group(1)))
    m = _NUM_DATE_RE.search(text)
    if m:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return None


@dataclass
class Party:
    name: str
    instrument: dt.date | None  # ratification / accession / succession date
    type_code: str  # as printed: R, A, A**, Su, ...
    eif: dt.date | None
    objection_marked: bool = False  # `**`: the accession gave rise to an objection

    @property
    def type(self) -> str | None:
        return _TYPES.get(self.type_code.rstrip("*").upper())

    @property
    def is_party(self) -> bool:
        """A Contracting Party (not a mere signatory, not denounced)."""
        return self.type not in (None, "denunciation") and self.instrument is not None


@dataclass
class StatusTable:
    parties: list[Party]
    last_update: dt.date | None = None
    declared_count: int | None = None
    # (objecting party, party objected to), names as printed, from the notes below the table
    objections: list[tuple[str, str]] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Collects the status table's rows (cells as text) and the page's text lines."""

    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._table_depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.lines: list[str] = []
        self._line: list[str] = []
        self._skip = 0  # inside <script>/<style>

    def _flush(self) -> None:
        text = " ".join("".join(self._line).split())
        if text:
            self.lines.append(text)
        self._line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag in self._BLOCKS:
            self._flush()
        if tag == "table":
            self._table_depth += 1
            if self._table_depth == 1:
                self.tables.append([])
        elif tag == "tr" and self._table_depth == 1:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[-1].append(self._row)
            self._row = None
        elif tag == "table" and self._table_depth:
            self._table_depth -= 1
        if tag in self._BLOCKS or tag in ("td", "th"):
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cell is not None:
            self._cell.append(data)
        self._line.append(data)


def _header_key(cell: str) -> str:
    """`R/A/S 2` → `r/a/s`, `EIF4` → `eif`, `Type 3` → `type` (the footnote digits dropped)."""
    return re.sub(r"[\s\d*]+$", "", cell).strip().lower()


def _norm(name: str) -> str:
    name = name.lower().replace("’", "'")
    name = re.sub(r"\s+", " ", name).strip()
    return name


def _bare(name: str) -> str:
    """The name without a parenthesised part or a leading article: `bolivia`, `netherlands`."""
    name = re.sub(r"\([^)]*\)", "", _norm(name))
    name = re.sub(r"^the ", "", name)
    return re.sub(r"\s+", " ", name).strip(" ,")


def parse_status_table(html: str) -> StatusTable:
    """Parse a saved HCCH status table page (normal or print view)."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    parties: list[Party] = []
    for rows in parser.tables:
        if not rows or not rows[0] or not rows[0][0].lower().startswith("contracting party"):
            continue
        header = [_header_key(c) for c in rows[0]]
        for row in rows[1:]:

            def col(*names: str, row: list[str] = row, header: list[str] = header) -> str:
                for name in names:
                    if name in header and header.index(name) < len(row):
                        return row[header.index(name)]
                return ""

            if not row or not row[0].strip() or row[0].lower().startswith("contracting party"):
                continue
            type_code = col("type").strip()
            parties.append(
                Party(
                    name=row[0].strip().rstrip("*").strip(),
                    instrument=parse_date(col("r/a/s", "r/a/ap/su", "r/a/su", "r/a")),
                    type_code=type_code,
                    eif=parse_date(col("eif")),
                    objection_marked="**" in type_code,
                )
            )
    if not parties:
        raise ValueError("no table of Contracting Parties found: is this the HCCH status table?")
    text = "\n".join(parser.lines)
    last = re.search(r"Last update:\s*(\S+)", text)
    count = re.search(r"Number of Contracting Parties to this Convention:\s*(\d+)", text)
    return StatusTable(
        parties=parties,
        last_update=parse_date(last.group(1)) if last else None,
        declared_count=int(count.group(1)) if count else None,
        objections=_objections(parser.lines, [p.name for p in parties]),
    )


_NOTE_WORDS = frozenset(
    {
        "type", "articles", "declarations", "declaration", "reservations", "reservation",
        "res/d/n", "res/d/n/dc", "d", "n", "denunciation", "objection", "objections",
        "notifications", "notification", "extensions", "ext", "authorities", "auth",
    }
)  # fmt: skip


def _is_heading(rest: str) -> bool:
    """What follows a party's name in a note heading: nothing, or only column words."""
    return all(word in _NOTE_WORDS for word in rest.lower().replace(",", " ").split())


def _objections(lines: list[str], names: list[str]) -> list[tuple[str, str]]:
    """Objections named in the notes: a note block starts with a party's name; a line in it that
    speaks of an objection and names another party links the two (the objector is the party
    said to object, else the block's party objects to the one named)."""
    by_len = sorted(names, key=len, reverse=True)
    found: list[tuple[str, str]] = []
    current: str | None = None
    for line in lines:
        starts = next((n for n in by_len if line.startswith(n)), None)
        if starts is not None and _is_heading(line[len(starts) :]):  # "China Type", "India"
            current = starts
            continue
        if current is None or "object" not in line.lower():
            continue
        others = [n for n in by_len if n != current and re.search(rf"\b{re.escape(n)}\b", line)]
        for other in others:
            said = re.search(rf"\b{re.escape(other)}\b[^.]*\bobject", line, re.IGNORECASE)
            pair = (other, current) if said else (current, other)
            if pair not in found:
                found.append(pair)
    return found


# ---- comparing with kb/countries.yml -----------------------------------------------------------


@dataclass
class Change:
    kind: str  # changed | added | check | missing
    code: str | None
    text: str
    update: dict[str, object] = field(default_factory=dict)


def _index(table: CountryTable) -> dict[str, Country]:
    index: dict[str, Country] = {}
    for c in table.countries:
        for name in (c.en, *c.aliases):
            if not _CJK_RE.search(name):  # the page's names are English
                index.setdefault(_norm(name), c)
                index.setdefault(_bare(name), c)
    return index


def _find(index: dict[str, Country], name: str) -> Country | None:
    return index.get(_norm(name)) or index.get(_bare(name))


def diff(table: CountryTable, page: StatusTable) -> list[Change]:
    """What the page says differently from the table (and what to check by hand)."""
    index = _index(table)
    china_objections: dict[str, str] = {}  # other party (normalised) → who objected
    for objector, target in page.objections:
        if _bare(target) == CHINA:
            china_objections[_bare(objector)] = objector
        elif _bare(objector) == CHINA:
            china_objections[_bare(target)] = "China"
    changes: list[Change] = []
    seen: set[str] = set()
    for p in page.parties:
        if _bare(p.name) == CHINA or not p.is_party:
            continue
        c = _find(index, p.name)
        if c is None:
            changes.append(
                Change(
                    "added",
                    None,
                    f"{p.name}: a Contracting Party not in the table ({p.type or p.type_code}, "
                    f"in force {p.eif or '?'}); add code, zh and aliases by hand",
                )
            )
            continue
        seen.add(c.code)
        label = f"{c.zh} {c.en}"
        if p.eif is None:
            changes.append(Change("check", c.code, f"{label}: the page gives no entry into force"))
            continue
        update: dict[str, object] = {"eif": p.eif, "type": p.type}
        objecting = china_objections.get(_bare(p.name))
        if objecting is not None:
            want_status, want_date = "not_applicable", max(p.eif, CHINA_IN_FORCE)
            update["note"] = (
                f"HCCH status table: {objecting} objected "
                f"{'to China’s accession' if objecting != 'China' else 'to its accession'} (Art. 12)"
            )
            update["pending_verification"] = False
        else:
            want_status, want_date = "member", max(p.eif, CHINA_IN_FORCE)
            if p.objection_marked and p.eif > CHINA_IN_FORCE and not c.pending_verification:
                changes.append(
                    Change(
                        "check",
                        c.code,
                        f"{label}: accession marked {p.type_code} (an objection) and the page "
                        "does not name the objector: make sure it is not China",
                    )
                )
        parts = []
        if c.status != want_status:
            parts.append(f"status {c.status} -> {want_status}")
        if c.effective != want_date:
            parts.append(f"date {c.effective} -> {want_date}")
        if c.eif is not None and c.eif != p.eif:
            parts.append(f"own entry into force {c.eif} -> {p.eif}")
        if c.type is not None and p.type is not None and c.type != p.type:
            parts.append(f"type {c.type} -> {p.type}")
        update.update(status=want_status, effective=want_date, source="hcch")
        if objecting is not None and c.pending_verification:
            parts.append("objection named on the page: pending_verification -> false")
        if parts:
            changes.append(Change("changed", c.code, f"{label}: {'; '.join(parts)}", update))
        else:
            changes.append(Change("same", c.code, label, update))
    for c in table.countries:
        if c.code in seen:
            continue
        if c.status != "non_member":
            changes.append(
                Change(
                    "missing",
                    c.code,
                    f"{c.zh} {c.en}: {c.status} in the table but not a Contracting Party on the "
                    "page (denounced, renamed, or a partial copy?): check by hand",
                )
            )
        else:
            changes.append(Change("same", c.code, f"{c.zh} {c.en}", {}))
    return changes


def apply(table: CountryTable, changes: list[Change], day: dt.date) -> CountryTable:
    """The table with the changes applied and every confirmed entry's `checked` set to `day`."""
    by_code = {ch.code: ch for ch in changes if ch.code and ch.kind in ("changed", "same")}
    countries = []
    for c in table.countries:
        ch = by_code.get(c.code)
        if ch is None:
            countries.append(c)
            continue
        update = dict(ch.update)
        if ch.kind == "same":  # keep what the editor wrote; only record the check
            update = {
                k: v for k, v in update.items() if k in ("eif", "type") and getattr(c, k) is None
            }
        update["checked"] = day
        if update.get("status") == "member" and c.status == "not_applicable":
            update["note"] = None
        countries.append(c.model_copy(update=update))
    sources = dict(table.sources)
    return table.model_copy(update={"countries": tuple(countries), "sources": sources})


MISSING_LISTED = 10  # more parties of the table missing from the page than this: a partial copy


def partial_copy(page: StatusTable, changes: list[Change]) -> str | None:
    """Why the page cannot be trusted to confirm the whole table, or None."""
    read = sum(p.is_party for p in page.parties)
    if page.declared_count is not None and page.declared_count != read:
        return f"the page says {page.declared_count} Contracting Parties but {read} rows were read"
    missing = sum(ch.kind == "missing" for ch in changes)
    if missing > MISSING_LISTED:
        return f"{missing} parties of the table are not on the page"
    return None


def report(page: StatusTable, changes: list[Change]) -> list[str]:
    """The lines the editor reads."""
    parties = [p for p in page.parties if p.is_party]
    lines = [
        f"HCCH status table: {len(parties)} Contracting Parties read"
        + (f" (the page says {page.declared_count})" if page.declared_count else "")
        + (f", last update {page.last_update}" if page.last_update else "")
    ]
    partial = partial_copy(page, changes)
    if partial:
        lines.append(f"warning: {partial}: a partial copy? --write will refuse it")
    missing = [ch for ch in changes if ch.kind == "missing"]
    for kind in ("changed", "added", "missing", "check"):
        if kind == "missing" and len(missing) > MISSING_LISTED:
            codes = ", ".join(ch.code or "?" for ch in missing)
            lines.append(
                f"missing  {len(missing)} parties of the table are not on the page ({codes}): "
                "a partial copy? Save the whole status table page."
            )
            continue
        lines += [f"{kind:8} {ch.text}" for ch in changes if ch.kind == kind]
    same = sum(ch.kind == "same" for ch in changes)
    lines.append(f"{same} entries unchanged")
    return lines


def main(argv: list[str]) -> int:
    """`countries import <page.html> [--kb DIR] [--write] [--today DATE]`."""
    ap = argparse.ArgumentParser(
        prog="python -m core.kb countries", description=__doc__.split("\n")[0]
    )
    sub = ap.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="compare a saved HCCH status table page with the table")
    imp.add_argument("page", type=Path, help="the saved HTML of the HCCH status table (cid=41)")
    imp.add_argument("--kb", type=Path, default=Path("kb"), help="the KB directory (default kb)")
    imp.add_argument("--write", action="store_true", help="apply the changes, update `checked`")
    imp.add_argument("--today", type=dt.date.fromisoformat, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    day = args.today or today()
    path = args.kb / "countries.yml"
    try:
        table = load_countries(path, day)
        page = parse_status_table(args.page.read_text(encoding="utf-8"))
    except (KBError, OSError, ValueError) as exc:
        print(exc, file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    changes = diff(table, page)
    for line in report(page, changes):
        print(line)  # noqa: T201
    if not args.write:
        if any(ch.kind == "changed" for ch in changes):
            print("run again with --write to apply the changes")  # noqa: T201
        return 0
    partial = partial_copy(page, changes)
    if partial:
        print(f"not written: {partial} (a partial copy?)", file=sys.stderr)  # noqa: T201
        return 1
    updated = apply(table, changes, day)
    problems = validate_table(updated, day)
    if problems:
        print("not written: " + "; ".join(problems), file=sys.stderr)  # noqa: T201
        return 1
    path.write_text(dump_table(updated, read_header(path)), encoding="utf-8")
    print(f"wrote {path}")  # noqa: T201
    return 0
