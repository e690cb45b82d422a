"""SQLAlchemy tables of the records database (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator, false
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
    #: A region slug (labellisation/regions.py); migration 0003 mapped the free texts written before it.
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


class StepMeasureRow(Base):
    """One step of one project as the path analytics count it (labellisation/records/path_measures.py), rewritten
    by the store whenever an event it reads is recorded: the report adds these up in SQL."""

    __tablename__ = "step_measures"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: The project's, copied so that the report filters without a join.
    process: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(200))
    start_year: Mapped[int | None] = mapped_column(Integer)
    #: Days the holder's clock ran up to the last submission; None before any submission.
    holder_days: Mapped[float | None] = mapped_column(Float)
    #: Days the review's clock ran over the decided submissions; None before any decision.
    review_days: Mapped[float | None] = mapped_column(Float)
    reviews: Mapped[int] = mapped_column(Integer)
    reviews_within_10: Mapped[int] = mapped_column(Integer)
    reviews_within_20: Mapped[int] = mapped_column(Integer)
    changes: Mapped[int] = mapped_column(Integer)
    approved: Mapped[bool] = mapped_column(Boolean)
    on_time: Mapped[bool] = mapped_column(Boolean)


class StageMeasureRow(Base):
    """One stage a project started and how it ended (passed, abandoned, rejected; still_there while under way)."""

    __tablename__ = "stage_measures"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    process: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(200))
    start_year: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32))


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


class EmailAttemptRow(Base):
    """The intent to send an e-mail, written before each attempt (#17 item 5): a retry that finds it without the
    e-mail's `reminders` row knows an earlier attempt may have reached the SMTP server."""

    __tablename__ = "email_attempts"

    #: The e-mail's key: its reminder id, news id or digest id (the first row it writes in `reminders`).
    email_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]


class DigestItemRow(Base):
    """An e-mail kept for a person who chose the daily digest (« Votre point du jour ») instead of sending it."""

    __tablename__ = "digest_items"

    #: The e-mail's key and the person's address: one item per person per e-mail.
    item_key: Mapped[str] = mapped_column(String(700), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    project_id: Mapped[str] = mapped_column(String(64))
    school: Mapped[str] = mapped_column(String(400))
    url: Mapped[str] = mapped_column(Text)
    #: What the e-mail said: [{"title": ..., "body": ...}, ...], one part per reminder or news item.
    parts: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    #: The key of the digest e-mail that carried it; None until then.
    digest_key: Mapped[str | None] = mapped_column(String(300), index=True)


class UserRow(Base):
    """A person: the e-mail is stored lower-cased, so it is unique case-insensitively by construction."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))  # coordinator, reviewer, holder
    #: Region slugs (labellisation/regions.py) a coordinator or reviewer is limited to; empty: every region.
    regions: Mapped[list[str]] = mapped_column(JSON)
    #: The project ids of a holder (one or more); empty for the other roles.
    projects: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    #: Chose one e-mail a working morning across all their projects (« Votre point du jour ») instead of each.
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class TokenRow(Base):
    """An API token of a person: only its SHA-256 hash is stored; it may expire or be revoked."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: The token's first characters ("lab_" and 8 more), to recognise it in `token list`; none before 0003.
    prefix: Mapped[str | None] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class SignInLinkRow(Base):
    """A single-use sign-in link sent by e-mail: only the SHA-256 of its random token is stored."""

    __tablename__ = "sign_in_links"

    link_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CalendarFeedRow(Base):
    """A person's calendar feed (#19 item 5): only the SHA-256 of the secret in its URL is stored; revocable."""

    __tablename__ = "calendar_feeds"

    feed_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SessionRow(Base):
    """A web session: only the SHA-256 of the random id in the cookie is stored; ended by sign-out or disabling."""

    __tablename__ = "sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    csrf_token: Mapped[str] = mapped_column(String(64))
