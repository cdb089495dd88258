"""Shared library for the Qiaowu Assistant: settings, database, knowledge base, text tools."""
