"""Reaching citizens after the fact: `outbox` (rows per channel; queries), `delivery` (claim,
send, record), `background` (a messaging app's tip/delivery/housekeeping loop), `tips` (the
daily 侨法 tip), `preferences` (a sender's language). May import
core.kb and the shared modules (db, settings, …), never another capability.
"""
