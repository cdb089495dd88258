"""security: throttle budgets and locks, server-side console sessions, login failures per name,
lookup attempts with client and method, token last use, hashed case-event keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00

"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create throttle_hits, throttle_locks, login_failures, console_sessions; add columns;
    replace case_events.event_key by its SHA-256 (keys could exceed the 64-character column)."""
    op.create_table(
        "throttle_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_hits")),
    )
    with op.batch_alter_table("throttle_hits", schema=None) as batch_op:
        batch_op.create_index("ix_throttle_hits_key_at", ["key", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_throttle_hits_token"), ["token"], unique=False)
    op.create_table(
        "throttle_locks",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_locks")),
    )
    op.create_table(
        "login_failures",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_login_failures")),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_console_sessions_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("method", sa.String(length=8), nullable=True))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    events = sa.table("case_events", sa.column("id", sa.Integer), sa.column("event_key", sa.String))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(events.c.id, events.c.event_key).where(events.c.event_key.is_not(None))
    ).all()
    for row_id, key in rows:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
            connection.execute(
                events.update().where(events.c.id == row_id).values(event_key=digest)
            )


def downgrade() -> None:
    """Drop what upgrade added (hashed event keys stay hashed)."""
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.drop_column("method")
        batch_op.drop_column("client_hash")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))
    op.drop_table("console_sessions")
    op.drop_table("login_failures")
    op.drop_table("throttle_locks")
    with op.batch_alter_table("throttle_hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_hits_token"))
        batch_op.drop_index("ix_throttle_hits_key_at")
    op.drop_table("throttle_hits")
