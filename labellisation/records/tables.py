"""SQLAlchemy tables of the records database (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in and out on every backend; stored as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused by the records database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None] | None:
        """On SQLite, parse the stored text with `fromisoformat` in one step (the generic path costs 10x)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def parse(value: str | datetime | None) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):  # stored as naive UTC text: "2026-01-05 09:00:00.000000"
                value = datetime.fromisoformat(value if "+" in value[19:] else value + "+00:00")
            return value if value.tzinfo is UTC else self.process_result_value(value, dialect)

        return parse


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class ProjectRow(Base):
    __tablename__ = "projects"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(200), index=True)
    department: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(200))
    academy: Mapped[str | None] = mapped_column(String(200))
    process: Mapped[str] = mapped_column(String(64))
    process_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32), index=True)
    current_stage: Mapped[str] = mapped_column(String(64), index=True)
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    planned_opening: Mapped[str] = mapped_column(String(10))
    holder_email: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime]
    profile: Mapped[dict[str, Any]]


class EventRow(Base):
    """Append-only: one row per accepted event; `event_id` is the workflow's."""

    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(320))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    recorded_at: Mapped[datetime]

    __table_args__ = (Index("ix_events_project_seq", "project_id", "seq", unique=True),)


class ReminderRow(Base):
    """One row per reminder e-mail sent: the proof it went out, and its guard against a second send."""

    __tablename__ = "reminders"

    reminder_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(300))
    sent_at: Mapped[datetime]


class TokenRow(Base):
    """An API token: only its SHA-256 hash is stored."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    projects: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
