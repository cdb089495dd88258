"""Who holds a ticket: assigning or transferring it to another agent, and who may close it.

A queued ticket can be assigned by any agent; a claimed one is transferred only by the agent
who holds it or by an admin. Closing a ticket another agent holds is refused (admins may).
Each transfer leaves an internal note on the ticket (staff only).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import HandoffTicket, StaffUser
from core.handoff import store
from core.handoff.tickets import TicketError, get_open_ticket


def transfer_ticket(
    session: Session,
    ticket_id: int,
    actor: str,
    target: str,
    now: dt.datetime,
    *,
    admin: bool = False,
) -> HandoffTicket:
    """Give the ticket to `target` (an active console user); TicketError when not allowed."""
    ticket = get_open_ticket(session, ticket_id)
    user = session.scalar(select(StaffUser).where(StaffUser.username == target))
    if user is None or not user.active:
        raise TicketError("没有这个工作人员。")
    if ticket.state == "claimed" and ticket.claimed_by not in (actor, None) and not admin:
        raise TicketError(f"工单由 {ticket.claimed_by} 处理，只有其本人或管理员可以转交。")
    if ticket.claimed_by == target:
        raise TicketError(f"工单已由 {target} 处理。")
    previous = ticket.claimed_by
    if ticket.state == "queued":
        ticket.claimed_at = now
    ticket.state = "claimed"
    ticket.claimed_by = target
    note = f"{actor} 将工单转交给 {target}" + (f"（原处理人 {previous}）" if previous else "")
    store.add_message(session, ticket, "note", note)
    return ticket


def ensure_can_close(ticket: HandoffTicket, actor: str, *, admin: bool = False) -> None:
    """TicketError when `actor` may not close the ticket (another agent holds it)."""
    if ticket.state == "claimed" and ticket.claimed_by not in (actor, None) and not admin:
        raise TicketError(f"工单由 {ticket.claimed_by} 处理，只有其本人或管理员可以结束。")


def assignable_staff(session: Session) -> list[str]:
    """Usernames of active console users (every role can answer tickets)."""
    return list(
        session.scalars(
            select(StaffUser.username)
            .where(StaffUser.active.is_(True))
            .order_by(StaffUser.username)
        )
    )
