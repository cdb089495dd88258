"""👍/👎 feedback on KB answers (anonymous: only the entry id and the verdict are stored)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.db.models import Feedback
from core.kb.loader import KnowledgeBase


def record_feedback(session: Session, kb: KnowledgeBase, kb_id: str, helpful: bool) -> bool:
    """Store one verdict; False (nothing stored) when the id is not a KB entry."""
    if kb.get(kb_id) is None:
        return False
    session.add(Feedback(kb_id=kb_id, helpful=helpful))
    session.flush()
    return True
