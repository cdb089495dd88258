"""Shared library of the Qiaowu Assistant, one package per capability: conversation, cases,
handoff, notify, kb, staff, retention; plus the shared modules settings, db, text, texts (the
catalogue of citizen-facing texts), encoder, logs, metrics, hashing, redaction and services.
Allowed imports between them: tests/test_boundaries.py (CORE_ALLOWED) and the README.
"""
