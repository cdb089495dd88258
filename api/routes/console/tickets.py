"""The queue and one ticket: claim, reply, internal note, transfer, close (agents and up);
the fragments the pages fetch to stay live, and the ticket list the alerts watch."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from api.routes.console import common
from api.routes.console.common import Current, CurrentDep, Post, PostDep
from core.conversation.rasa_client import RasaUnavailable
from core.db.models import HandoffMessage, HandoffTicket
from core.db.utc import aware
from core.handoff import assign, console, history, ratings, saved_replies, search, store
from core.handoff import tickets as handoff
from core.staff.users import Staff

logger = logging.getLogger(__name__)
router = common.page_router()
MessageText = Annotated[str, Form(max_length=4000)]


@router.get("", response_class=HTMLResponse)
async def queue(request: Request, current: CurrentDep) -> HTMLResponse:
    """Open tickets (emergencies first) and recently closed ones; the table stays live."""
    now = dt.datetime.now(dt.UTC)
    items = await common.db(request, console.list_queue, now)
    closed = await common.db(request, store.recently_closed, 20)
    hours = request.app.state.office_hours
    return common.render(
        request,
        "queue.html",
        current,
        items=items,
        closed=closed,
        hours=hours.describe(),
        office_open=hours.is_open(now),
    )


@router.get("/fragments/queue", response_class=HTMLResponse)
async def queue_fragment(request: Request, current: CurrentDep) -> HTMLResponse:
    """The queue table alone (the queue page swaps it in every few seconds)."""
    items = await common.db(request, console.list_queue, dt.datetime.now(dt.UTC))
    return common.render(request, "_queue.html", current, items=items)


@router.get("/live")
async def live(request: Request, current: CurrentDep) -> JSONResponse:
    """Open tickets as the alerts watch them: id, priority, state (no citizen text)."""
    items = await common.db(request, console.list_queue, dt.datetime.now(dt.UTC))
    return JSONResponse(
        {
            "poll_s": common.settings_of(request).console_poll_s,
            "tickets": [{"id": i.id, "priority": i.priority, "state": i.state} for i in items],
            "labels": {
                "new": common.t(current, "新工单"),
                "urgent": common.t(current, "紧急工单"),
                "escalated": common.t(current, "工单升级为紧急"),
                "on": common.t(current, "提醒已开启"),
            },
        }
    )


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, current: CurrentDep, ticket_id: int) -> HTMLResponse:
    """One ticket: the conversation so far (bot tracker + ticket messages) and the actions.
    Opening it is audited (who read which conversation); its live fragment is not."""
    await common.db(
        request, common.record, current.staff.username, "view_ticket", f"ticket:{ticket_id}"
    )
    return await ticket_view(request, current, ticket_id)


@router.get("/fragments/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_fragment(request: Request, current: CurrentDep, ticket_id: int) -> HTMLResponse:
    """The ticket's heading and conversation alone (the ticket page swaps them in)."""
    return await ticket_view(request, current, ticket_id, template="_ticket_live.html")


def _ticket_extras(session: Session, ticket_id: int) -> dict[str, Any]:
    ticket = session.get(HandoffTicket, ticket_id)
    assert ticket is not None
    return {
        "earlier": search.earlier_tickets(session, ticket),
        "rating": ratings.ticket_rating(session, ticket_id),
        "staff_names": assign.assignable_staff(session),
        "saved_replies": saved_replies.list_saved_replies(session),
    }


async def ticket_view(
    request: Request,
    current: Current,
    ticket_id: int,
    error: str | None = None,
    status: int = 200,
    template: str = "ticket.html",
) -> HTMLResponse:
    ticket = await common.db(request, store.load_ticket, ticket_id)
    if ticket is None:
        raise HTTPException(404, common.t(current, "工单不存在。"))
    tracker_error = None
    try:
        events = await request.app.state.relay.rasa.tracker_events(ticket.sender_id)
    except RasaUnavailable:
        events, tracker_error = [], "暂时无法读取与机器人的对话记录（Rasa 不可用）。"
    items = history.merge(
        history.tracker_items(events), history.ticket_items(ticket.messages, notes=True)
    )
    extras = await common.db(request, _ticket_extras, ticket_id)
    return common.render(
        request,
        template,
        current,
        status_code=status,
        ticket=ticket,
        items=items,
        error=error,
        tracker_error=tracker_error,
        waiting_s=int((dt.datetime.now(dt.UTC) - aware(ticket.created_at)).total_seconds()),
        **extras,
    )


async def _ticket_action(
    post: Post, ticket_id: int, action: str, change: Callable[[Session, Staff], dict[str, Any]]
) -> Response:
    """Run one staff action on a ticket as the post's sender and audit it, with the detail the
    change returns; a refused action shows the ticket again with why (409)."""
    me = post.actor()

    def work(session: Session) -> None:
        detail = change(session, me)
        common.record(session, me.username, action, f"ticket:{ticket_id}", **detail)

    return await common.apply_change(
        post.request,
        work,
        f"/console/tickets/{ticket_id}",
        handoff.TicketError,
        lambda exc: ticket_view(post.request, post.current, ticket_id, error=str(exc), status=409),
    )


@router.post("/tickets/{ticket_id}/claim")
async def claim(post: PostDep, ticket_id: int) -> Response:
    """Take the ticket."""

    def change(session: Session, me: Staff) -> dict[str, Any]:
        handoff.claim_ticket(session, ticket_id, me.username, dt.datetime.now(dt.UTC))
        return {}

    return await _ticket_action(post, ticket_id, "claim_ticket", change)


async def _add_message(
    post: Post, ticket_id: int, action: str, write: Callable[[Session, Staff], HandoffMessage]
) -> Response:
    """Add a message to the ticket (a reply or an internal note), audited with its id."""
    return await _ticket_action(post, ticket_id, action, lambda s, me: {"message": write(s, me).id})


@router.post("/tickets/{ticket_id}/reply")
async def reply(post: PostDep, ticket_id: int, text: MessageText = "") -> Response:
    """Reply to the citizen (through the outbox of the ticket's channel)."""

    def write(session: Session, me: Staff) -> HandoffMessage:
        return handoff.reply_to_ticket(session, ticket_id, me.id, me.username, text)

    return await _add_message(post, ticket_id, "reply", write)


@router.post("/tickets/{ticket_id}/note")
async def note(post: PostDep, ticket_id: int, text: MessageText = "") -> Response:
    """Internal note (never sent to the citizen)."""

    def write(session: Session, me: Staff) -> HandoffMessage:
        return handoff.add_note(session, ticket_id, me.id, text)

    return await _add_message(post, ticket_id, "note", write)


@router.post("/tickets/{ticket_id}/transfer")
async def transfer(
    post: PostDep, ticket_id: int, to: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Assign a queued ticket, or hand one's own (admins: any) claimed ticket, to another."""

    def change(session: Session, me: Staff) -> dict[str, Any]:
        ticket = assign.transfer_ticket(
            session, ticket_id, me.username, to, dt.datetime.now(dt.UTC), admin=me.can("admin")
        )
        return {"to": ticket.claimed_by}

    return await _ticket_action(post, ticket_id, "transfer_ticket", change)


@router.post("/tickets/{ticket_id}/close")
async def close(post: PostDep, ticket_id: int) -> Response:
    """Resume the bot for the citizen, close the ticket, ask the citizen for a 1–5 rating.

    An agent cannot close a ticket another agent holds (admins can)."""
    me = post.actor()
    request, current = post.request, post.current
    try:
        ticket = await common.db(request, handoff.get_open_ticket, ticket_id)
        assign.ensure_can_close(ticket, me.username, admin=me.can("admin"))
    except handoff.TicketError as exc:
        return await ticket_view(request, current, ticket_id, error=str(exc), status=409)
    try:
        await request.app.state.relay.rasa.resume(ticket.sender_id)
    except RasaUnavailable:
        logger.warning("resume_failed", extra={"event": "resume_failed", "ticket": ticket_id})
        return await ticket_view(
            request,
            current,
            ticket_id,
            error="机器人服务暂时不可用，无法恢复自动答复；工单保持打开，请稍后再关闭。",
            status=503,
        )

    def change(session: Session, me: Staff) -> dict[str, Any]:
        held = handoff.get_open_ticket(session, ticket_id)
        assign.ensure_can_close(held, me.username, admin=me.can("admin"))
        closed = handoff.close_open_ticket(session, ticket_id, dt.datetime.now(dt.UTC))
        ratings.request_rating(session, closed)
        return {}

    return await _ticket_action(post, ticket_id, "close_ticket", change)
