"""Shared library of the Qiaowu Assistant, one package per capability: conversation, cases,
handoff, notify, kb, staff; plus the shared modules settings, db, text, texts (the catalogue
of citizen-facing texts), logs, metrics, hashing and services. Allowed imports between them:
tests/test_boundaries.py (CORE_ALLOWED) and the README.
"""
