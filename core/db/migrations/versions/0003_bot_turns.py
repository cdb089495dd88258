"""bot_turns: one row per citizen message and the kind of reply (analytics)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create bot_turns."""
    op.create_table(
        "bot_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender_hash", sa.String(length=64), nullable=False),
        sa.Column("reply_type", sa.String(length=32), nullable=False),
        sa.Column("kb_id", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_turns")),
    )
    with op.batch_alter_table("bot_turns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_turns_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    """Drop bot_turns."""
    with op.batch_alter_table("bot_turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_turns_created_at"))
    op.drop_table("bot_turns")
