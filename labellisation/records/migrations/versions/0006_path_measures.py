"""Path measures (#19): each project's steps and stages as the path analytics count them (the clock rules),
kept by the store as events arrive, so that the report adds up small rows in SQL instead of reading every event.
Filled here from the events already recorded.

Revision ID: 0006_path_measures
Revises: 0005_calendar_feeds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from labellisation.records.path_measures import MEASURED_KINDS, Event, measure
from labellisation.records.tables import EventRow, ProjectRow, StageMeasureRow, StepMeasureRow

revision = "0006_path_measures"
down_revision = "0005_calendar_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
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
    op.create_table(
        "stage_measures",
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.project_id"), primary_key=True),
        sa.Column("stage", sa.String(64), primary_key=True),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("start_year", sa.Integer, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
    )
    projects = {row[0]: {"process": row[1], "region": row[2]} for row in op.get_bind().execute(
        sa.select(ProjectRow.project_id, ProjectRow.process, ProjectRow.region)
    )}  # fmt: skip
    events = op.get_bind().execute(
        sa.select(EventRow.project_id, EventRow.kind, EventRow.step, EventRow.at, EventRow.data)
        .where(EventRow.kind.in_(sorted(MEASURED_KINDS)))
        .order_by(EventRow.project_id, EventRow.seq)
    )
    per_project: dict[str, list[Event]] = {}
    for project_id, kind, step, at, data in events:
        per_project.setdefault(project_id, []).append((kind, step, at, data))
    steps, stages = [], []
    for project_id, found in per_project.items():
        measured = measure(found)
        steps += [row | projects[project_id] for row in measured.step_rows(project_id)]
        stages += [row | projects[project_id] for row in measured.stage_rows(project_id)]
    if steps:
        op.bulk_insert(StepMeasureRow.__table__, steps)  # type: ignore[arg-type]
    if stages:
        op.bulk_insert(StageMeasureRow.__table__, stages)  # type: ignore[arg-type]


def downgrade() -> None:
    op.drop_table("stage_measures")
    op.drop_table("step_measures")
