"""Personal data (RGPD, #18 item 6): export everything held about a person, or anonymise it, in the records database.

A person is known by their e-mail address: the `users` row, and wherever the records name it (the holder of a
project, the actors, comments and data of events, the recipients of the e-mails sent). Anonymising replaces the
address by a stable anonymous one (`anonyme-<10 hex of its SHA-256>@anonyme.example`) and the name by
« Personne anonymisée », in one transaction; records stay records: no event is deleted, a project's path still
shows. A holder of a project still under way (active or paused) is refused: its holder must change first.

The anonymous domain is `.example` (reserved, RFC 2606, never delivered) and not `.invalid`: the e-mail
validation of the project's profile (`Holder.email`, read back by the status of a project whose workflow is
gone) refuses special-use domains such as `.invalid`, which would hide the project's path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from labellisation.people import PersonError, normalise_email, person_of_row
from labellisation.records.store import RecordStore
from labellisation.records.tables import (
    DigestItemRow,
    EventRow,
    ProjectRow,
    ReminderRow,
    SessionRow,
    SignInLinkRow,
    TokenRow,
    UserRow,
)

ANONYMOUS_NAME = "Personne anonymisée"
ANONYMOUS_DOMAIN = "anonyme.example"
#: The states of a project still under way: its holder may not be anonymised.
UNDER_WAY = ("active", "paused")

#: Characters that may come right before an address's local part, or continue its domain: an address found
#: inside a longer one (`paul@edp.fr` in `jean-paul@edp.fr` or `paul@edp.fr.com`) is not the address.
_BEFORE = r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
_AFTER = r"(?![\w-]|\.[\w-])"


class PrivacyRefused(Exception):
    """An anonymisation that may not be done (a project under way); the message says why, in French."""


def anonymous_address(address: str) -> str:
    """The stable anonymous address of `address` (any case): the same address always gives the same one."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:10]
    return f"anonyme-{digest}@{ANONYMOUS_DOMAIN}"


@dataclass(frozen=True)
class Rewrite:
    """Replace one address (any case) by its anonymous one, and the person's names by « Personne anonymisée »."""

    address: str
    names: tuple[str, ...] = ()

    @property
    def anonymous(self) -> str:
        return anonymous_address(self.address)

    @property
    def _address(self) -> re.Pattern[str]:
        return re.compile(_BEFORE + re.escape(self.address) + _AFTER, re.IGNORECASE)

    def mentions(self, value: Any) -> bool:
        """Whether the address occurs in `value`: a text, or a JSON value (keys and values, at any depth)."""
        if isinstance(value, str):
            return self._address.search(value) is not None
        if isinstance(value, dict):
            return any(self.mentions(k) or self.mentions(v) for k, v in value.items())
        if isinstance(value, list):
            return any(self.mentions(v) for v in value)
        return False

    def text(self, value: str) -> str:
        """The text with every occurrence of the address replaced."""
        return self._address.sub(self.anonymous, value)

    def json(self, value: Any) -> Any:
        """A JSON value with the address replaced in every text, key or value, at any depth.

        An object holding the address itself as one of its values describes the person (a profile's holder,
        `{"name": …, "email": …}`): its `name` becomes « Personne anonymisée » too.
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            rewritten = {self.text(k) if isinstance(k, str) else k: self.json(v) for k, v in value.items()}
            is_person = any(isinstance(v, str) and v.strip().lower() == self.address for v in value.values())
            if is_person and isinstance(rewritten.get("name"), str):
                rewritten["name"] = ANONYMOUS_NAME
            return rewritten
        return value

    def actor(self, value: str) -> str:
        """An event's actor: the address replaced; « Name <address> » and the person's names become anonymous."""
        text = self.text(value)
        if self.mentions(value):
            text = re.sub(rf"^.*<\s*{re.escape(self.anonymous)}\s*>\s*$", f"{ANONYMOUS_NAME} <{self.anonymous}>", text)
        for name in sorted({n.strip() for n in self.names if n.strip()}, key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", ANONYMOUS_NAME, text, flags=re.IGNORECASE)
        return text

    def recipients(self, value: str) -> str:
        return self.text(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _holder(profile: dict[str, Any]) -> dict[str, Any]:
    holder = profile.get("holder")
    return holder if isinstance(holder, dict) else {}


def _is_holder(row: ProjectRow, address: str) -> bool:
    email = str(_holder(row.profile).get("email", ""))
    return row.holder_email.strip().lower() == address or email.strip().lower() == address


async def _user(session: AsyncSession, address: str) -> UserRow | None:
    found: UserRow | None = (await session.scalars(select(UserRow).where(UserRow.email == address))).first()
    return found


async def _projects(session: AsyncSession) -> list[ProjectRow]:
    return list(await session.scalars(select(ProjectRow).order_by(ProjectRow.project_id)))


async def _events(session: AsyncSession) -> list[tuple[str, str, datetime, str, str | None, str | None, Any]]:
    """Every event, as plain tuples (the whole table is searched: an address may hide in any JSON value)."""
    query = select(
        EventRow.event_id, EventRow.project_id, EventRow.at, EventRow.kind, EventRow.actor, EventRow.comment,
        EventRow.data,
    ).order_by(EventRow.project_id, EventRow.seq)  # fmt: skip
    return [tuple(row) for row in (await session.execute(query)).all()]


async def _reminders(session: AsyncSession, address: str) -> list[ReminderRow]:
    rows = await session.scalars(select(ReminderRow).order_by(ReminderRow.sent_at, ReminderRow.reminder_id))
    return [r for r in rows if address in (a.strip().lower() for a in r.recipients.split(","))]


async def export_person(store: RecordStore, email: str) -> dict[str, Any]:
    """Everything held about the person with this address (any case), ready for JSON; never a secret or its hash.

    PersonError on `email` for an address that is not one, or one nothing is held about.
    """
    address = normalise_email(email)
    rewrite = Rewrite(address)
    async with store.sessions() as session:
        user = await _user(session, address)
        tokens: list[dict[str, Any]] = []
        sessions: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        digest_items: list[dict[str, Any]] = []
        if user is not None:
            for token in await session.scalars(
                select(TokenRow).where(TokenRow.user_id == user.id).order_by(TokenRow.created_at)
            ):
                tokens.append(
                    {
                        "prefix": token.prefix, "label": token.label, "created_at": _iso(token.created_at),
                        "expires_at": _iso(token.expires_at), "revoked_at": _iso(token.revoked_at),
                        "last_used_at": _iso(token.last_used_at),
                    }
                )  # fmt: skip
            for row in await session.scalars(
                select(SessionRow).where(SessionRow.user_id == user.id).order_by(SessionRow.created_at)
            ):
                sessions.append(
                    {"created_at": _iso(row.created_at), "last_seen_at": _iso(row.last_seen_at),
                     "ended_at": _iso(row.ended_at)}
                )  # fmt: skip
            for link in await session.scalars(
                select(SignInLinkRow).where(SignInLinkRow.user_id == user.id).order_by(SignInLinkRow.created_at)
            ):
                links.append(
                    {"created_at": _iso(link.created_at), "expires_at": _iso(link.expires_at),
                     "used_at": _iso(link.used_at)}
                )  # fmt: skip
            for item in await session.scalars(
                select(DigestItemRow).where(DigestItemRow.user_id == user.id).order_by(DigestItemRow.created_at)
            ):
                digest_items.append(
                    {"project_id": item.project_id, "school": item.school, "url": item.url, "parts": item.parts,
                     "created_at": _iso(item.created_at), "digest_key": item.digest_key}
                )  # fmt: skip
        projects = [
            {"project_id": p.project_id, "name": p.name, "state": p.state, "holder": _holder(p.profile)}
            for p in await _projects(session)
            if _is_holder(p, address)
        ]
        events = [
            {"event_id": event_id, "project_id": project_id, "at": _iso(at), "kind": kind, "actor": actor,
             "comment": comment, "data": data}
            for event_id, project_id, at, kind, actor, comment, data in await _events(session)
            if rewrite.mentions(actor or "") or rewrite.mentions(comment or "") or rewrite.mentions(data)
        ]  # fmt: skip
        reminders = [
            {"key": r.reminder_id, "project_id": r.project_id, "kind": r.kind, "sent_at": _iso(r.sent_at)}
            for r in await _reminders(session, address)
        ]
    if user is None and not (projects or events or reminders):
        raise PersonError("email", f"rien n'est conservé sur « {email.strip()} » (ni personne, ni projet, ni trace)")
    person = person_of_row(user).model_dump(mode="json") if user is not None else None
    return {
        "email": address,
        "person": person,
        "tokens": tokens,
        "sessions": sessions,
        "sign_in_links": links,
        "projects": projects,
        "events": events,
        "reminders": reminders,
        "digest_items": digest_items,
    }


@dataclass
class Anonymisation:
    """What an anonymisation changes (a plan) or changed (a summary)."""

    email: str
    anonymous: str
    user: bool = False
    tokens: int = 0
    sessions: int = 0
    sign_in_links: int = 0
    digest_items: int = 0
    projects: list[str] = field(default_factory=list)
    events: int = 0
    reminders: int = 0
    #: Projects of which the person is the holder and that are still under way (id, state): refused.
    under_way: list[tuple[str, str]] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return self.user or bool(self.projects or self.events or self.reminders)

    def refusal(self) -> str | None:
        """Why it may not be done, in French; None when it may."""
        if not self.under_way:
            return None
        project_id, _ = self.under_way[0]
        return (
            f"le projet {project_id} est en cours : changez d'abord son porteur "
            f"(labellisation projects … / PATCH /projects/{project_id}/profile)"
        )


@dataclass
class _Work:
    """The plan and the rows it changes, found in the session that applies it."""

    plan: Anonymisation
    rewrite: Rewrite
    user: UserRow | None
    projects: list[ProjectRow]
    events: list[tuple[str, str | None, str | None, dict[str, Any]]]
    reminders: list[ReminderRow]


def _names(user: UserRow | None, projects: Iterable[ProjectRow]) -> tuple[str, ...]:
    names = [user.name] if user is not None else []
    names += [str(_holder(p.profile).get("name", "")) for p in projects]
    return tuple(n for n in dict.fromkeys(names) if n.strip())


async def _work(session: AsyncSession, email: str) -> _Work:
    address = normalise_email(email)
    user = await _user(session, address)
    all_projects = await _projects(session)
    held = [p for p in all_projects if _is_holder(p, address)]
    rewrite = Rewrite(address, _names(user, held))
    plan = Anonymisation(email=address, anonymous=rewrite.anonymous, user=user is not None)
    plan.under_way = [(p.project_id, p.state) for p in held if p.state in UNDER_WAY]
    changed_projects = [p for p in all_projects if p in held or rewrite.mentions(p.profile)]
    plan.projects = [p.project_id for p in changed_projects]
    events: list[tuple[str, str | None, str | None, dict[str, Any]]] = []
    for event_id, _project, _at, _kind, actor, comment, data in await _events(session):
        new = (
            rewrite.actor(actor) if actor is not None else None,
            rewrite.text(comment) if comment is not None else None,
            rewrite.json(data),
        )
        if new != (actor, comment, data):
            events.append((event_id, *new))
    plan.events = len(events)
    reminders = await _reminders(session, address)
    plan.reminders = len(reminders)
    if user is not None:
        plan.tokens = len(
            (
                await session.scalars(
                    select(TokenRow.token_hash).where(TokenRow.user_id == user.id, TokenRow.revoked_at.is_(None))
                )
            ).all()
        )
        plan.sessions = len(
            (
                await session.scalars(
                    select(SessionRow.session_hash).where(SessionRow.user_id == user.id, SessionRow.ended_at.is_(None))
                )
            ).all()
        )
        plan.sign_in_links = len(
            (
                await session.scalars(
                    select(SignInLinkRow.link_hash).where(
                        SignInLinkRow.user_id == user.id, SignInLinkRow.used_at.is_(None)
                    )
                )
            ).all()
        )
        plan.digest_items = len(
            (await session.scalars(select(DigestItemRow.item_key).where(DigestItemRow.user_id == user.id))).all()
        )
    if not plan.anything:
        raise PersonError("email", f"rien n'est conservé sur « {email.strip()} » (ni personne, ni projet, ni trace)")
    return _Work(plan, rewrite, user, changed_projects, events, reminders)


async def anonymise_plan(store: RecordStore, email: str) -> Anonymisation:
    """What `anonymise` would change, changing nothing (its `refusal()` says if it would be refused)."""
    async with store.sessions() as session:
        return (await _work(session, email)).plan


async def anonymise(store: RecordStore, email: str, now: datetime) -> Anonymisation:
    """Anonymise the person with this address everywhere in the records database, in one transaction.

    PrivacyRefused (nothing changed) while they hold a project under way; PersonError on `email` for an address
    that is not one or nothing is held about.
    """
    async with store.sessions.begin() as session:
        work = await _work(session, email)
        plan, rewrite = work.plan, work.rewrite
        refusal = plan.refusal()
        if refusal is not None:
            raise PrivacyRefused(refusal)
        if work.user is not None:
            user_id = work.user.id
            work.user.name, work.user.email, work.user.active = ANONYMOUS_NAME, rewrite.anonymous, False
            await session.execute(
                update(TokenRow)
                .where(TokenRow.user_id == user_id, TokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            await session.execute(
                update(SessionRow)
                .where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None))
                .values(ended_at=now)
            )
            await session.execute(
                update(SignInLinkRow)
                .where(SignInLinkRow.user_id == user_id, SignInLinkRow.used_at.is_(None))
                .values(used_at=now)
            )
            await session.execute(
                update(SignInLinkRow)
                .where(SignInLinkRow.user_id == user_id, SignInLinkRow.expires_at > now)
                .values(expires_at=now)
            )
            await session.execute(delete(DigestItemRow).where(DigestItemRow.user_id == user_id))
        for project in work.projects:
            profile = rewrite.json(project.profile)
            if _is_holder(project, rewrite.address):
                profile["holder"] = {**_holder(profile), "name": ANONYMOUS_NAME, "email": rewrite.anonymous}
                project.holder_email = rewrite.anonymous
            project.profile = profile
        stamp = now.date().isoformat()
        for event_id, actor, comment, data in work.events:
            await session.execute(
                update(EventRow)
                .where(EventRow.event_id == event_id)
                .values(actor=actor, comment=comment, data={**data, "anonymised": stamp})
            )
        for reminder in work.reminders:
            reminder.recipients = rewrite.recipients(reminder.recipients)
    return plan


async def holders_past_retention(store: RecordStore, now: datetime, years: int) -> list[str]:
    """The holders' addresses (lower-cased, sorted) of the projects finished (completed, rejected, abandoned)
    more than `years` years before `now` who hold no project still under way and are not anonymised yet: whose
    personal data the retention rule says to anonymise (`labellisation privacy purge`)."""
    limit = now - relativedelta(years=years)
    async with store.sessions() as session:
        projects = await _projects(session)
    under_way = {_holder_email(p) for p in projects if p.state in UNDER_WAY}
    due = {
        _holder_email(p)
        for p in projects
        if p.state not in UNDER_WAY and p.updated_at < limit and not _holder_email(p).endswith(f"@{ANONYMOUS_DOMAIN}")
    }
    return sorted(due - under_way)


def _holder_email(row: ProjectRow) -> str:
    return str(_holder(row.profile).get("email") or row.holder_email).lower()
