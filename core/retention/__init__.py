"""Retention (PIPL): `purge` deletes, after configurable periods, what the service keeps about
citizens and staff — Rasa's tracker events, handoff tickets with their messages, outbox rows,
verification attempts and throttle hits, idempotency records, unanswered questions, feedback,
analytics turns, expired console sessions, the audit log and closed cases (docs/data.md lists
every table). `job` runs it daily inside the api; `python -m core.retention purge` runs it once.
May import core.cases (closed-case retention) and the shared modules; logs counts only.
"""
