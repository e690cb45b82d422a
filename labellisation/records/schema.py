"""What the workflow sends to the records database: pure pydantic, sandbox-safe."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from labellisation.path.deadlines import next_deadline
from labellisation.path.state import Event, Project, ProjectState


class ProjectRecord(BaseModel):
    """A project's profile and where it stands: the portfolio's row."""

    project_id: str
    name: str
    region: str
    department: str
    city: str
    academy: str | None
    process: str
    process_version: int
    state: ProjectState
    current_stage: str
    next_due_at: datetime | None
    planned_opening: date
    holder_email: str
    updated_at: datetime
    profile: dict[str, Any]


class RecordEvents(BaseModel):
    project: ProjectRecord
    events: list[Event]


class RecordedEvents(BaseModel):
    inserted: int


def project_record(project: Project) -> ProjectRecord:
    profile = project.profile
    return ProjectRecord(
        project_id=profile.project_id,
        name=profile.name,
        region=profile.region,
        department=profile.department,
        city=profile.city,
        academy=profile.academy,
        process=project.process.id,
        process_version=project.process.version,
        state=project.state,
        current_stage=project.current_stage_id(),
        next_due_at=next_deadline(project),
        planned_opening=profile.planned_opening,
        holder_email=str(profile.holder.email),
        updated_at=project.updated_at,
        profile=profile.model_dump(mode="json"),
    )
