"""E-mails sent honestly and the daily digest (#17): `email_attempts` (the intent written before each send),
`users.daily_digest` (the person's choice, off for everyone) and `digest_items` (what waits for their digest).

Revision ID: 0004_email_attempts
Revises: 0003_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from labellisation.records.tables import UtcDateTime

revision = "0004_email_attempts"
down_revision = "0003_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_attempts",
        sa.Column("email_key", sa.String(300), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("first_at", UtcDateTime(), nullable=False),
        sa.Column("last_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_email_attempts_project_id", "email_attempts", ["project_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("daily_digest", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "digest_items",
        sa.Column("item_key", sa.String(700), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("school", sa.String(400), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("digest_key", sa.String(300), nullable=True),
    )
    op.create_index("ix_digest_items_user_id", "digest_items", ["user_id"])
    op.create_index("ix_digest_items_digest_key", "digest_items", ["digest_key"])


def downgrade() -> None:
    op.drop_index("ix_digest_items_digest_key", table_name="digest_items")
    op.drop_index("ix_digest_items_user_id", table_name="digest_items")
    op.drop_table("digest_items")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("daily_digest")
    op.drop_index("ix_email_attempts_project_id", table_name="email_attempts")
    op.drop_table("email_attempts")
