"""People: who uses the product (coordinators, reviewers, holders), their regions or projects, active or disabled.

A person is a row of the `users` table. Their e-mail is stored lower-cased, so it is unique whatever its case.
Coordinators and reviewers may be limited to regions (slugs of labellisation/regions.py; none: every region);
a holder is linked to one or more projects and to no region. Bad input is a `PersonError`: a French sentence
that starts with the field it is about, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError
from sqlalchemy import Result, Row, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from labellisation.catalogue import ROLE_LABELS
from labellisation.records.store import RecordStore
from labellisation.records.tables import SessionRow, UserRow
from labellisation.regions import UnknownRegion, region_from_text

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class UserRole(StrEnum):
    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"
    HOLDER = "holder"


class PersonError(ValueError):
    """Bad input about a person or a token; `field` names it, the message starts with it."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.detail = field, message
        super().__init__(f"{field} : {message}")


class Person(BaseModel):
    id: int
    email: str
    name: str
    role: UserRole
    #: Region slugs a coordinator or reviewer is limited to; empty: every region.
    regions: list[str] = []
    #: A holder's project ids; empty for the other roles.
    projects: list[str] = []
    active: bool = True
    created_at: datetime
    last_seen_at: datetime | None = None
    #: One e-mail a working morning across all their projects (« Votre point du jour ») instead of each (#17).
    daily_digest: bool = False

    @property
    def actor(self) -> str:
        """How events name this person."""
        return f"{self.name} <{self.email}>"[:200]


_EMAIL = TypeAdapter(EmailStr)
PROJECT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{2,63}$"  # labellisation/path/state.py ProjectId


def normalise_email(email: str) -> str:
    """The address as stored: validated, lower-cased; else a PersonError on `email`."""
    text = email.strip()
    try:
        _EMAIL.validate_python(text)
    except ValidationError:
        raise PersonError("email", f"« {email} » n'est pas une adresse e-mail valide (exemple : nom@fnep.fr)") from None
    if len(text) > 320:
        raise PersonError("email", "adresse trop longue (320 caractères au plus)")
    return text.lower()


def _name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        raise PersonError("name", "le nom est vide")
    if len(text) > 200:
        raise PersonError("name", "nom trop long (200 caractères au plus)")
    return text


def _role(role: str | UserRole) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        raise PersonError("role", f"« {role} » n'est pas un rôle (coordinator, reviewer, holder)") from None


def _regions(regions: Iterable[str]) -> list[str]:
    slugs: list[str] = []
    for text in regions:
        try:
            slug = region_from_text(text).slug
        except UnknownRegion as error:
            raise PersonError("region", str(error).removeprefix("region : ")) from None
        if slug not in slugs:
            slugs.append(slug)
    return slugs


def _projects(projects: Iterable[str]) -> list[str]:
    ids: list[str] = []
    for project in projects:
        text = project.strip()
        if not re.match(PROJECT_ID_PATTERN, text):
            raise PersonError(
                "project", f"« {project} » n'est pas un identifiant de projet (minuscules, chiffres, tirets)"
            )
        if text not in ids:
            ids.append(text)
    return ids


def checked_access(role: UserRole, regions: Iterable[str], projects: Iterable[str]) -> tuple[list[str], list[str]]:
    """The regions (slugs) and projects of a person of `role`, or a PersonError naming the field at fault."""
    region_slugs, project_ids = _regions(regions), _projects(projects)
    if role is UserRole.HOLDER:
        if not project_ids:
            raise PersonError("project", "un porteur est lié à au moins un projet : --project ID")
        if region_slugs:
            raise PersonError("region", "un porteur n'est limité à aucune région : ses projets suffisent")
    elif project_ids:
        raise PersonError(
            "project", f"seul un porteur est lié à des projets ; un {ROLE_LABELS[role.value]} voit selon ses régions"
        )
    return region_slugs, project_ids


def person_of_row(row: UserRow | Row[Any]) -> Person:
    return Person(
        id=row.id, email=row.email, name=row.name, role=UserRole(row.role), regions=list(row.regions),
        projects=list(row.projects), active=row.active, created_at=row.created_at, last_seen_at=row.last_seen_at,
        daily_digest=bool(row.daily_digest),
    )  # fmt: skip


def _duplicate(email: str) -> PersonError:
    return PersonError("email", f"une personne a déjà l'adresse « {email} » (labellisation users list)")


async def invite(
    store: RecordStore,
    *,
    role: str | UserRole,
    name: str,
    email: str,
    regions: Iterable[str] = (),
    projects: Iterable[str] = (),
    now: Clock = utc_now,
) -> Person:
    """A new person, or a PersonError (bad field, or an address already known, whatever its case): nothing written."""
    checked_role, checked_name, address = _role(role), _name(name), normalise_email(email)
    region_slugs, project_ids = checked_access(checked_role, regions, projects)
    row = UserRow(
        email=address, name=checked_name, role=checked_role.value, regions=region_slugs, projects=project_ids,
        active=True, created_at=now(), last_seen_at=None,
    )  # fmt: skip
    try:
        async with store.sessions.begin() as session:
            if await _row_by_email(session, address) is not None:
                raise _duplicate(address)
            session.add(row)
    except IntegrityError:  # the same address written by another process in between
        raise _duplicate(address) from None
    return person_of_row(row)


async def _row_by_email(session: AsyncSession, email: str) -> UserRow | None:
    found: UserRow | None = (await session.scalars(select(UserRow).where(UserRow.email == email.lower()))).first()
    return found


async def update_person(
    store: RecordStore,
    email: str,
    *,
    name: str | None = None,
    role: str | UserRole | None = None,
    regions: Iterable[str] | None = None,
    projects: Iterable[str] | None = None,
) -> Person:
    """Change what is given of a person (checked as for an invitation); PersonError if nobody has `email`."""
    async with store.sessions.begin() as session:
        row = await _row_by_email(session, email.strip())
        if row is None:
            raise _unknown(email)
        new_role = _role(role) if role is not None else UserRole(row.role)
        region_slugs, project_ids = checked_access(
            new_role, row.regions if regions is None else regions, row.projects if projects is None else projects
        )
        if name is not None:
            row.name = _name(name)
        row.role, row.regions, row.projects = new_role.value, region_slugs, project_ids
        return person_of_row(row)


def _unknown(email: str) -> PersonError:
    return PersonError("email", f"aucune personne n'a l'adresse « {email.strip()} » (labellisation users list)")


async def find_person(store: RecordStore, email: str) -> Person | None:
    """The person with this address (any case), or None."""
    async with store.sessions() as session:
        row = await _row_by_email(session, email.strip())
    return person_of_row(row) if row is not None else None


async def person_by_id(store: RecordStore, user_id: int) -> Person | None:
    async with store.sessions() as session:
        row = await session.get(UserRow, user_id)
    return person_of_row(row) if row is not None else None


#: People by name within a role (`list_people`, `active_of_role`).
_BY_NAME = (func.lower(UserRow.name), UserRow.id)

#: The active people of one role (bind `role`), as plain rows: read before each e-mail to the reviewers or the
#: coordinators, so in one statement (on a SQLite file, one hand-off to the records' reading thread).
_ACTIVE_OF_ROLE = (
    select(*UserRow.__table__.columns)
    .where(UserRow.role == bindparam("role"), UserRow.active.is_(True))
    .order_by(*_BY_NAME)
)


async def list_people(store: RecordStore) -> list[Person]:
    async with store.sessions() as session:
        rows = await session.scalars(select(UserRow).order_by(UserRow.role, *_BY_NAME))
        return [person_of_row(row) for row in rows]


async def active_of_role(store: RecordStore, role: UserRole) -> list[Person]:
    """The active people of `role`, in the order `list_people` gives them."""
    return [person_of_row(row) for row in await store.one_read(_ACTIVE_OF_ROLE, {"role": role.value}, Result.all)]


async def set_active(store: RecordStore, email: str, active: bool, now: Clock = utc_now) -> Person:
    """Disable (or enable again) a person; disabling ends their web sessions. PersonError if nobody has `email`."""
    async with store.sessions.begin() as session:
        row = await _row_by_email(session, email.strip())
        if row is None:
            raise _unknown(email)
        row.active = active
        if not active:
            await session.execute(
                update(SessionRow)
                .where(SessionRow.user_id == row.id, SessionRow.ended_at.is_(None))
                .values(ended_at=now())
            )
        return person_of_row(row)


async def set_daily_digest(store: RecordStore, email: str, daily_digest: bool) -> Person:
    """Choose « Votre point du jour » (one e-mail a working morning across all one's projects) or each e-mail as it
    comes; PersonError if nobody has `email`. What waits for a digest still goes in the next one."""
    async with store.sessions.begin() as session:
        row = await _row_by_email(session, email.strip())
        if row is None:
            raise _unknown(email)
        row.daily_digest = daily_digest
        return person_of_row(row)


async def disable(store: RecordStore, email: str, now: Clock = utc_now) -> Person:
    return await set_active(store, email, False, now)


async def enable(store: RecordStore, email: str, now: Clock = utc_now) -> Person:
    return await set_active(store, email, True, now)
