"""Saved replies: texts staff insert into the reply box, kept by admins in the console.

A table rather than a file: admins change them in the console without access to the server
or a deploy, every api process sees a change at once, and the audit log records who did it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import SavedReply

MAX_TITLE = 120
MAX_TEXT = 2000


class SavedReplyError(Exception):
    """A saved reply that cannot be stored; the message is for staff."""


def list_saved_replies(session: Session) -> list[SavedReply]:
    """All saved replies, by title."""
    return list(session.scalars(select(SavedReply).order_by(SavedReply.title, SavedReply.id)))


def add_saved_reply(session: Session, title: str, text: str, author: str) -> SavedReply:
    """Store a saved reply; SavedReplyError when a field is empty or too long."""
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise SavedReplyError("标题和内容都不能为空。")
    if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
        raise SavedReplyError(f"标题最多 {MAX_TITLE} 字，内容最多 {MAX_TEXT} 字。")
    reply = SavedReply(title=title, text=text, created_by=author)
    session.add(reply)
    session.flush()
    return reply


def delete_saved_reply(session: Session, reply_id: int) -> SavedReply:
    """Remove a saved reply; SavedReplyError when it does not exist."""
    reply = session.get(SavedReply, reply_id)
    if reply is None:
        raise SavedReplyError("该常用回复不存在。")
    session.delete(reply)
    session.flush()
    return reply
