"""Repositories: functions taking a session first; they may flush, never commit."""
