"""Text normalisation shared by every channel and by the Rasa pipeline.

Full-width → half-width, traditional → simplified Chinese (OpenCC tables), whitespace
collapsed. Kept dependency-light (stdlib + opencc) so the Rasa venv can import it too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_SPACE_RE = re.compile(r"\s+")
# Control and invisible characters, and lone UTF-16 surrogates ("\ud83d" escaped in a JSON body
# decodes to one): no encoder can encode them as UTF-8, so they would crash the turn.
_CONTROL_RE = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2028\u2029\ufeff"
    "\ud800-\udfff]"
)
# Punctuation that NFKC leaves full-width but which carries no meaning for matching.
_PUNCT_MAP = str.maketrans(
    {
        "，": ",",
        "。": ".",
        "？": "?",
        "！": "!",
        "：": ":",
        "；": ";",
        "（": "(",
        "）": ")",
        "、": ",",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "【": "[",
        "】": "]",
        "《": "<",
        "》": ">",
    }
)


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    """OpenCC's traditional → simplified converter (OpenCC has no annotations)."""
    from opencc import OpenCC  # imported lazily: loading the tables takes ~0.1 s

    converter = OpenCC("t2s")
    return lambda text: str(converter.convert(text))


def to_simplified(text: str) -> str:
    """Convert traditional Chinese characters to simplified ones."""
    return _t2s()(text)


# A turn normalises the same message many times (routing, BM25, the dense query, refusal rules);
# a pasted letter costs ~3 ms per pass in OpenCC, so the last few hundred results are kept.
@lru_cache(maxsize=256)
def normalize(text: str) -> str:
    """Canonical form of a citizen message for matching (not for display)."""
    text = _CONTROL_RE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_PUNCT_MAP)
    text = to_simplified(text)
    return _SPACE_RE.sub(" ", text).strip()


def clean_display(text: str) -> str:
    """Strip control characters and surrounding whitespace, keep the citizen's wording."""
    return _CONTROL_RE.sub("", text).strip()
