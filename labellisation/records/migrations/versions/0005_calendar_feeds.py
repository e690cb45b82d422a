"""Calendar feeds (#19 item 5): one row per secret feed URL of a person, its SHA-256 only, revocable.

Revision ID: 0005_calendar_feeds
Revises: 0004_email_attempts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from labellisation.records.tables import UtcDateTime

revision = "0005_calendar_feeds"
down_revision = "0004_email_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("feed_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_calendar_feeds_user_id", "calendar_feeds", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_calendar_feeds_user_id", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
