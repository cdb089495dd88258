"""Knowledge base: the YAML entries under kb/, their validation and search."""

from core.kb.loader import KBError, KnowledgeBase, load_kb
from core.kb.schema import Entry, OfficeSettings, Source

__all__ = ["Entry", "KBError", "KnowledgeBase", "OfficeSettings", "Source", "load_kb"]
