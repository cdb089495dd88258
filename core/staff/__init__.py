"""Staff: `users` (console accounts, login lockout, roles), `sessions` (signed console
cookies, CSRF), `tokens` (integration API), `audit`, `store` (queries), `python -m core.staff`.
May import only the shared modules (db, settings, …), never another capability.
"""
