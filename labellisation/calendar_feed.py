"""Calendars (#19 item 5): each person's deadlines as an ICS feed at a secret, revocable URL.

A person asks for their feed (« Mon calendrier »); the URL carries a random secret, of which only the SHA-256 is
stored (`calendar_feeds`); asking again or revoking ends the previous URL (404 from then on). Calendar apps
(Outlook, Google, Apple) poll the URL: the feed is built at each request from the projects' statuses, so a moved
deadline moves in the calendar at the next poll (each event keeps its UID).

What each person sees (`feed_events`, pure):
- a holder: the deadlines of their steps still in their hands (in progress, changes requested);
- a reviewer: the review due dates of the submitted steps of their regions (the reviewers' reminder, 10 working
  days after the submission with `fnep`);
- a coordinator: every open deadline of their regions' projects, and the pauses' review dates.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from labellisation.french_calendar import zone
from labellisation.path.state import AWAITING_HOLDER, StepStatus
from labellisation.path.status import ProjectStatus
from labellisation.records.store import RecordStore
from labellisation.records.tables import CalendarFeedRow
from labellisation.tokens import UserRole

#: The steps whose deadline is still open (not decided for good).
OPEN = AWAITING_HOLDER | {StepStatus.SUBMITTED}


class FeedEvent(BaseModel):
    uid: str
    day: date
    summary: str
    description: str
    url: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_feed(store: RecordStore, user_id: int, now: datetime) -> str:
    """A new secret for the person's feed; their earlier feed URLs stop working."""
    token = secrets.token_urlsafe(32)
    async with store.sessions.begin() as session:
        await revoke_in(session, user_id, now)
        session.add(CalendarFeedRow(feed_hash=_hash(token), user_id=user_id, created_at=now, revoked_at=None))
    return token


async def revoke_in(session: AsyncSession, user_id: int, now: datetime) -> None:
    await session.execute(
        update(CalendarFeedRow)
        .where(CalendarFeedRow.user_id == user_id, CalendarFeedRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_feeds(store: RecordStore, user_id: int, now: datetime) -> None:
    async with store.sessions.begin() as session:
        await revoke_in(session, user_id, now)


async def feed_owner(store: RecordStore, token: str) -> int | None:
    """The user id of a live feed secret, or None (unknown or revoked)."""
    async with store.sessions() as session:
        row = await session.scalar(
            select(CalendarFeedRow).where(
                CalendarFeedRow.feed_hash == _hash(token), CalendarFeedRow.revoked_at.is_(None)
            )
        )
    return row.user_id if row is not None else None


def _day(moment: datetime) -> date:
    return moment.astimezone(zone()).date()


def feed_events(role: UserRole, statuses: list[ProjectStatus], base_url: str) -> list[FeedEvent]:
    """The events of a person of `role` over the projects `statuses` (already those they may see)."""
    base = base_url.rstrip("/")
    found: list[FeedEvent] = []
    for status in statuses:
        school = status.name
        if role is UserRole.HOLDER:
            url = f"{base}/mon-dossier/{status.project_id}"
            for step in status.steps:
                if step.status in AWAITING_HOLDER and step.due_at is not None:
                    found.append(FeedEvent(
                        uid=f"{status.project_id}.{step.id}.echeance", day=_day(step.due_at), url=url,
                        summary=f"{school} — échéance : {step.label}",
                        description=f"Déposez le dossier « {step.label} » avant la fin de ce jour. {url}",
                    ))  # fmt: skip
        elif role is UserRole.REVIEWER:
            url = f"{base}/a-decider"
            labels = {s.id: s.label for s in status.steps}
            for reminder in status.upcoming_reminders:
                if reminder.kind == "review_pending" and reminder.step in labels:
                    label = labels[reminder.step]
                    found.append(FeedEvent(
                        uid=f"{status.project_id}.{reminder.step}.decision", day=_day(reminder.at), url=url,
                        summary=f"{school} — à décider : {label}",
                        description=f"Le dossier « {label} » attend la décision de la FNEP. {url}",
                    ))  # fmt: skip
        else:
            url = f"{base}/projets/{status.project_id}"
            for step in status.steps:
                if step.status in OPEN and step.due_at is not None:
                    found.append(FeedEvent(
                        uid=f"{status.project_id}.{step.id}.echeance", day=_day(step.due_at), url=url,
                        summary=f"{school} — échéance : {step.label}",
                        description=f"Échéance de l'étape « {step.label} ». {url}",
                    ))  # fmt: skip
            if status.pause is not None:
                found.append(FeedEvent(
                    uid=f"{status.project_id}.pause.{status.pause.since.date().isoformat()}",
                    day=status.pause.review_on, url=url, summary=f"{school} — revoir la pause",
                    description=f"Projet en pause : {status.pause.reason}. {url}",
                ))  # fmt: skip
    return sorted(found, key=lambda e: (e.day, e.uid))


def ics(name: str, events: list[FeedEvent], now: datetime) -> bytes:
    """The feed as iCalendar: one all-day event per deadline, its UID stable so a moved deadline moves."""
    calendar = Calendar()
    calendar.add("prodid", "-//FNEP//Suivi des Écoles de Production//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Échéances — {name}")
    calendar.add("x-published-ttl", "PT1H")
    for item in events:
        event = Event()
        event.add("uid", f"{item.uid}@suivi-ecoles-de-production")
        event.add("dtstamp", now)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("url", item.url)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
