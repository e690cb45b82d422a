"""Records: projects, events, reminders.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from labellisation.records.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(200), nullable=False, index=True),
        sa.Column("department", sa.String(200), nullable=False),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column("academy", sa.String(200)),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("process_version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False, index=True),
        sa.Column("current_stage", sa.String(64), nullable=False, index=True),
        sa.Column("next_due_at", UtcDateTime(), index=True),
        sa.Column("planned_opening", sa.String(10), nullable=False),
        sa.Column("holder_email", sa.String(320), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.project_id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64)),
        sa.Column("actor", sa.String(320)),
        sa.Column("comment", sa.Text),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_events_project_seq", "events", ["project_id", "seq"], unique=True)
    op.create_table(
        "reminders",
        sa.Column("reminder_id", sa.String(300), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("step", sa.String(64)),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reminders")
    op.drop_index("ix_events_project_seq", table_name="events")
    op.drop_table("events")
    op.drop_table("projects")
