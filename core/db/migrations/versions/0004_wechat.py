"""wechat: message dedupe, WeChat users (48-hour window, options), shared access_token

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create wechat_messages, wechat_users, wechat_access_tokens."""
    op.create_table(
        "wechat_messages",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wechat_messages")),
    )
    with op.batch_alter_table("wechat_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wechat_messages_created_at"), ["created_at"], unique=False
        )
    op.create_table(
        "wechat_users",
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("options_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_wechat_users")),
    )
    op.create_table(
        "wechat_access_tokens",
        sa.Column("app_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_wechat_access_tokens")),
    )


def downgrade() -> None:
    """Drop the WeChat tables."""
    op.drop_table("wechat_access_tokens")
    op.drop_table("wechat_users")
    with op.batch_alter_table("wechat_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wechat_messages_created_at"))
    op.drop_table("wechat_messages")
