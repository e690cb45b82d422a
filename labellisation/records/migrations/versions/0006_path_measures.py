"""Path measures (#19): each project's steps and stages as the path analytics count them (the clock rules),
kept by the store as events arrive, so that the report adds up small rows in SQL instead of reading every event.
Filled here from the events already recorded.

The tables are named here as they stood at this revision (`sa.table`, and the tables `op.create_table` returns),
not through the ORM classes of `labellisation/records/tables.py`, which follow the latest revision (a column
they gain later, with a default, would otherwise be written here before it exists). The measuring itself stays
the application's.

Revision ID: 0006_path_measures
Revises: 0005_calendar_feeds
"""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from alembic import op

from labellisation.records.path_measures import MEASURED_KINDS, Event, measure

revision = "0006_path_measures"
down_revision = "0005_calendar_feeds"
branch_labels = None
depends_on = None

#: The tables read, as they stood at this revision.
PROJECTS = sa.table("projects", sa.column("project_id"), sa.column("process"), sa.column("region"))
EVENTS = sa.table(
    "events", sa.column("project_id"), sa.column("seq"), sa.column("kind"), sa.column("step"),
    sa.column("at", sa.DateTime(timezone=True)), sa.column("data", sa.JSON),
)  # fmt: skip


def upgrade() -> None:
    step_measures = op.create_table(
        "step_measures",
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.project_id"), primary_key=True),
        sa.Column("step", sa.String(64), primary_key=True),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("start_year", sa.Integer, nullable=True),
        sa.Column("holder_days", sa.Float, nullable=True),
        sa.Column("review_days", sa.Float, nullable=True),
        sa.Column("reviews", sa.Integer, nullable=False),
        sa.Column("reviews_within_10", sa.Integer, nullable=False),
        sa.Column("reviews_within_20", sa.Integer, nullable=False),
        sa.Column("changes", sa.Integer, nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
        sa.Column("on_time", sa.Boolean, nullable=False),
    )
    stage_measures = op.create_table(
        "stage_measures",
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.project_id"), primary_key=True),
        sa.Column("stage", sa.String(64), primary_key=True),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("start_year", sa.Integer, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
    )
    projects = {row[0]: {"process": row[1], "region": row[2]} for row in op.get_bind().execute(
        sa.select(PROJECTS.c.project_id, PROJECTS.c.process, PROJECTS.c.region)
    )}  # fmt: skip
    events = op.get_bind().execute(
        sa.select(EVENTS.c.project_id, EVENTS.c.kind, EVENTS.c.step, EVENTS.c.at, EVENTS.c.data)
        .where(EVENTS.c.kind.in_(sorted(MEASURED_KINDS)))
        .order_by(EVENTS.c.project_id, EVENTS.c.seq)
    )
    per_project: dict[str, list[Event]] = {}
    for project_id, kind, step, at, data in events:
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)  # SQLite keeps naive UTC text
        per_project.setdefault(project_id, []).append((kind, step, at, data))
    steps, stages = [], []
    for project_id, found in per_project.items():
        measured = measure(found)
        steps += [row | projects[project_id] for row in measured.step_rows(project_id)]
        stages += [row | projects[project_id] for row in measured.stage_rows(project_id)]
    if steps:
        op.bulk_insert(step_measures, steps)
    if stages:
        op.bulk_insert(stage_measures, stages)


def downgrade() -> None:
    op.drop_table("stage_measures")
    op.drop_table("step_measures")
