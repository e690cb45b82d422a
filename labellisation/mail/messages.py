"""What a reminder e-mail says, before rendering: pure pydantic."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from labellisation.path.reminders import Kind, Role


class Recipient(BaseModel):
    role: Role
    email: str
    name: str | None = None


class ReminderEmail(BaseModel):
    reminder_id: str
    kind: Kind
    to: list[Recipient]
    project_id: str
    school_name: str
    city: str
    step_id: str | None
    step_label: str | None
    stage_label: str
    due_at: datetime | None
    days_overdue: int = 0
    days_waiting: int = 0
    review_on: date | None = None
    pause_reason: str | None = None
    project_url: str


class RenderedEmail(BaseModel):
    subject: str
    text: str
    html: str
