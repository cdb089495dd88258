"""CSV import of cases: every row validated first, then all rows imported or none."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.cases.sync import CaseIn, upsert_case

CSV_COLUMNS = ("reference", "kind", "state", "applicant_name", "phone", "query_code")


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row (header excluded)
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


class ImportRejected(Exception):
    """The file had errors; nothing was imported."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s); nothing imported")
        self.errors = errors


def parse_csv(text: str) -> list[CaseIn]:
    """Validate every row; ImportRejected listing all errors if any row is bad."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRejected([RowError(0, "header", f"missing column(s): {', '.join(missing)}")])
    rows: list[CaseIn] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=1):
        values = {k: (v or "").strip() for k, v in raw.items() if k in CSV_COLUMNS}
        if not values.get("query_code"):
            values.pop("query_code", None)
        try:
            row = CaseIn.model_validate(values)
        except ValidationError as exc:
            errors.extend(
                RowError(number, ".".join(map(str, e["loc"])) or "row", e["msg"])
                for e in exc.errors()
            )
            continue
        if row.reference in seen:
            errors.append(RowError(number, "reference", f"duplicate of row {seen[row.reference]}"))
            continue
        seen[row.reference] = number
        rows.append(row)
    if errors:
        raise ImportRejected(errors)
    return rows


def import_cases(
    session: Session, rows: list[CaseIn], salt: str, now: dt.datetime
) -> dict[str, int]:
    """Upsert validated rows (the caller's transaction makes it all or nothing)."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        result = upsert_case(session, row.reference, row, salt, now)
        key = "created" if result.created else "updated" if result.changed else "unchanged"
        counts[key] += 1
    return counts


def read_csv(path: Path) -> str:
    """File text (UTF-8, with or without BOM)."""
    return path.read_text(encoding="utf-8-sig")
