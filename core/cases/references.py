"""Case references (`VA-2026-000123`): the one pattern every part of the project recognises.

Pure Python (stdlib + core.text) so that Rasa's routing component can import it. Citizens type
references in lower case, with spaces, full-width characters or other dashes, with or without
separators, alone or inside a sentence: all of them are found and put in canonical form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import normalize

# Prefix → case kind; core.cases.rules.KINDS describes each kind.
PREFIXES = {
    "VA": "visa_agency",
    "LA": "legalization",
    "AP": "apec_card",
    "IN": "invitation",
    "RS": "status_confirmation",
}
_SEP = r"\s*[-_－—–‐.·/]?\s*"
REFERENCE_RE = re.compile(
    r"(?<![a-z0-9])("
    + "|".join(p.lower() for p in PREFIXES)
    + r")"
    + _SEP
    + r"(\d{4})"
    + _SEP
    + r"(\d{6})(?![0-9])"
)


@dataclass(frozen=True)
class Reference:
    canonical: str  # "VA-2026-000123"
    kind: str  # visa_agency | legalization | …


def find(text: str) -> Reference | None:
    """The first case reference in the text, in canonical form."""
    match = REFERENCE_RE.search(normalize(text).lower())
    if match is None:
        return None
    prefix, year, number = match.groups()
    return Reference(f"{prefix.upper()}-{year}-{number}", PREFIXES[prefix.upper()])
