"""Handing conversations to staff: `tickets` (open, route, claim, reply, close), `store`
(queries), `history` (the conversation so far), `console` (the queue), `office_hours`. May
import core.notify and the shared modules (db, settings, …).
"""
