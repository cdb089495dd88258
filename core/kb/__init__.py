"""Knowledge base: the YAML entries under kb/ (schema, loader, generator, countries), search and
ranking, topics, answers, staff drafts and 👍/👎 feedback. May import only the shared modules
(settings, db, text, hashing), never another capability.
"""

from core.kb.loader import KBError, KnowledgeBase, load_kb
from core.kb.schema import Entry, OfficeSettings, Source

__all__ = ["Entry", "KBError", "KnowledgeBase", "OfficeSettings", "Source", "load_kb"]
