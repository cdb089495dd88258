"""App database: engine and session factory, typed models, Alembic migrations
(`python -m core.db upgrade`). Shared by every capability; imports only core.settings.
Each capability keeps its own queries in its `store` module.
"""
