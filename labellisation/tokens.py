"""API tokens: a person's, random, shown once, stored as a SHA-256 hash; an optional expiry; revocable.

Every request checks its token in the records database (one query by primary key, joined to the person): a
revoked or expired token, or a disabled person, is refused at the very next request, in every API process.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, EmailStr
from sqlalchemy import Result, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from labellisation.catalogue import ROLE_LABELS
from labellisation.durations import Duration, DurationError
from labellisation.log_setup import get_logger
from labellisation.people import (
    Clock,
    Person,
    PersonError,
    UserRole,
    checked_access,
    find_person,
    invite,
    update_person,
    utc_now,
)
from labellisation.records.store import RecordStore
from labellisation.records.tables import TokenRow, UserRow

__all__ = [
    "ApiUser",
    "TokenCache",
    "TokenRefused",
    "UserRole",
    "authenticate",
    "create_token",
    "list_tokens",
    "revoke_token",
]

log = get_logger("labellisation.tokens")

PARIS = ZoneInfo("Europe/Paris")
#: The characters of a token kept in clear to recognise it in `token list` ("lab_" and 8 of its 43 random ones).
PREFIX_LENGTH = 12
#: How often a token's last use (and its person's last visit) is written: at most once a minute per token.
TOUCH_EVERY = timedelta(minutes=1)

REVOKED = "jeton révoqué"
EXPIRED = "jeton expiré"
DISABLED = "compte désactivé"


class ApiUser(BaseModel):
    role: UserRole
    name: str
    email: EmailStr
    projects: list[str] = []
    #: Region slugs (labellisation/regions.py) a coordinator or reviewer is limited to; empty: every region.
    regions: list[str] = []

    @property
    def actor(self) -> str:
        """How events name this person."""
        return f"{self.name} <{self.email}>"[:200]

    def may_see(self, project_id: str) -> bool:
        return self.role is not UserRole.HOLDER or project_id in self.projects

    def covers_region(self, region_slug: str) -> bool:
        """Whether a project of this region is within the person's reach (holders: by project, not region)."""
        return self.role is UserRole.HOLDER or not self.regions or region_slug in self.regions


def api_user(person: Person) -> ApiUser:
    """The person as the API sees them."""
    return ApiUser(
        role=person.role, name=person.name, email=person.email, projects=person.projects, regions=person.regions
    )


class TokenRefused(Exception):
    """A known token that may not be used: revoked, expired, or its person disabled. The message says which."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def person_for(store: RecordStore, user: ApiUser, now: Clock = utc_now) -> Person:
    """The person `user` describes, found by e-mail or invited (`token create --role --name --email`, tests).

    A known person keeps their name; their role must be the same; a holder's new projects are added to theirs.
    """
    checked_access(user.role, user.regions, user.projects)  # e.g. --project with a role other than holder
    person = await find_person(store, str(user.email))
    if person is None:
        return await invite(
            store, role=user.role, name=user.name, email=str(user.email), regions=user.regions,
            projects=user.projects, now=now,
        )  # fmt: skip
    if person.role is not user.role:
        raise PersonError(
            "role", f"{person.email} est déjà {ROLE_LABELS[person.role.value]} : un jeton a le rôle de sa personne"
        )
    if user.role is UserRole.HOLDER and not set(user.projects) <= set(person.projects):
        added = [p for p in user.projects if p not in person.projects]
        person = await update_person(store, person.email, projects=[*person.projects, *added])
    return person


async def create_token(
    store: RecordStore,
    owner: ApiUser | Person,
    *,
    expires_at: datetime | None = None,
    label: str | None = None,
    now: Clock = utc_now,
) -> str:
    """A new token of a person (an ApiUser: found or invited by e-mail), returned once; only its hash is kept."""
    moment = now()
    if expires_at is not None and expires_at <= moment:
        raise PersonError("expires", f"l'échéance {expires_at:%Y-%m-%d %H:%M} UTC est déjà passée")
    if label is not None and len(label) > 200:
        raise PersonError("label", "libellé trop long (200 caractères au plus)")
    person = owner if isinstance(owner, Person) else await person_for(store, owner, now)
    token = "lab_" + secrets.token_urlsafe(32)
    async with store.sessions.begin() as session:
        session.add(
            TokenRow(
                token_hash=hash_token(token), user_id=person.id, prefix=token[:PREFIX_LENGTH], label=label,
                created_at=moment, expires_at=expires_at, revoked_at=None, last_used_at=None,
            )
        )  # fmt: skip
    return token


_CHECK = (
    select(
        TokenRow.revoked_at, TokenRow.expires_at, TokenRow.last_used_at, UserRow.id, UserRow.email, UserRow.name,
        UserRow.role, UserRow.regions, UserRow.projects, UserRow.active,
    )
    .join(UserRow, UserRow.id == TokenRow.user_id)
    # One statement object for every request, the hash a bound parameter: SQLAlchemy reuses its compiled form and
    # result columns as they are (a statement built per call costs about 0.5 ms more to adapt them).
    .where(TokenRow.token_hash == bindparam("digest"))
)  # fmt: skip


async def authenticate(store: RecordStore, token: str, now: Clock = utc_now) -> ApiUser | None:
    """The person of a token; None for an unknown token; TokenRefused for a revoked or expired one or a disabled person.

    One query by primary key, on every call: nothing about a token's validity is remembered between requests.
    """
    digest = hash_token(token)
    found = await store.one_read(_CHECK, {"digest": digest}, Result.first)
    if found is None:
        return None
    revoked_at, expires_at, last_used_at, user_id, email, name, role, regions, projects, active = found
    moment = now()
    if revoked_at is not None:
        raise TokenRefused(REVOKED)
    if not active:
        raise TokenRefused(DISABLED)
    if expires_at is not None and expires_at <= moment:
        raise TokenRefused(EXPIRED)
    if last_used_at is None or moment - last_used_at >= TOUCH_EVERY:
        await _touch(store, digest, user_id, moment)
    return ApiUser(role=UserRole(role), name=name, email=email, projects=projects, regions=regions)


async def _touch(store: RecordStore, digest: str, user_id: int, moment: datetime) -> None:
    """Note the token's use and its person's visit; a failure here never refuses the request."""
    try:
        async with store.engine.begin() as connection:
            await connection.execute(update(TokenRow).where(TokenRow.token_hash == digest).values(last_used_at=moment))
            await connection.execute(update(UserRow).where(UserRow.id == user_id).values(last_seen_at=moment))
    except SQLAlchemyError as error:
        log.warning("token use not noted", error=str(error))


class TokenCache:
    """The API's token check (the name is older than the rule): the database is asked on every request.

    It used to keep accepted tokens 30 s; a revocation must now hold at the next request in every process,
    so nothing about a token is kept. `now` is the clock expiries are read against (tests skip it).
    """

    def __init__(self, store: RecordStore, now: Clock = utc_now) -> None:
        self.store, self.now = store, now

    async def authenticate(self, token: str) -> ApiUser | None:
        return await authenticate(self.store, token, self.now)


class TokenInfo(BaseModel):
    """A token as `token list` shows it: never the token, its id (the hash's start) and its prefix."""

    id: str
    prefix: str | None
    label: str | None
    email: str
    name: str
    role: UserRole
    person_active: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "révoqué"
        if not self.person_active:
            return "compte désactivé"
        if self.expires_at is not None and self.expires_at <= now:
            return "expiré"
        return "valide"


ID_LENGTH = 12

_INFO = select(
    TokenRow.token_hash, TokenRow.prefix, TokenRow.label, UserRow.email, UserRow.name, UserRow.role, UserRow.active,
    TokenRow.created_at, TokenRow.expires_at, TokenRow.revoked_at, TokenRow.last_used_at,
).join(UserRow, UserRow.id == TokenRow.user_id)  # fmt: skip


def _info(row: tuple[object, ...]) -> TokenInfo:
    token_hash, prefix, label, email, name, role, active, created, expires, revoked, used = row
    return TokenInfo.model_validate(
        {"id": str(token_hash)[:ID_LENGTH], "prefix": prefix, "label": label, "email": email, "name": name,
         "role": role, "person_active": active, "created_at": created, "expires_at": expires, "revoked_at": revoked,
         "last_used_at": used}
    )  # fmt: skip


async def list_tokens(store: RecordStore, email: str | None = None) -> list[TokenInfo]:
    """Every token (of one person, given their e-mail), oldest first."""
    query = _INFO.order_by(TokenRow.created_at, TokenRow.token_hash)
    if email is not None:
        query = query.where(UserRow.email == email.strip().lower())
    async with store.engine.connect() as connection:
        return [_info(tuple(row)) for row in (await connection.execute(query)).all()]


async def revoke_token(store: RecordStore, key: str, now: Clock = utc_now) -> tuple[TokenInfo, bool]:
    """Revoke the token `key` designates: the token itself, its prefix (`lab_…`) or its id (`token list`).

    Returns the token and whether this call revoked it (False: it already was). PersonError (field `token`)
    when `key` designates no token or several.
    """
    text = key.strip()
    if text.startswith("lab_") and len(text) > PREFIX_LENGTH:
        condition = TokenRow.token_hash == hash_token(text)
    elif text.startswith("lab_") and len(text) >= 8:
        condition = TokenRow.prefix.startswith(text, autoescape=True)
    elif len(text) >= 6 and all(c in "0123456789abcdef" for c in text.lower()):
        condition = TokenRow.token_hash.startswith(text.lower())
    else:
        raise PersonError(
            "token", f"« {key} » : donnez le jeton, son début (lab_…) ou son id (labellisation token list)"
        )
    async with store.sessions.begin() as session:
        hashes = list((await session.scalars(select(TokenRow.token_hash).where(condition).limit(2))).all())
        if not hashes:
            raise PersonError("token", f"aucun jeton ne correspond à « {text} » (labellisation token list)")
        if len(hashes) > 1:
            raise PersonError("token", f"plusieurs jetons correspondent à « {text} » : donnez plus de caractères")
        row = await session.get(TokenRow, hashes[0])
        assert row is not None
        revoked_now = row.revoked_at is None
        if revoked_now:
            row.revoked_at = now()
        found = (await session.execute(_INFO.where(TokenRow.token_hash == hashes[0]))).one()
    return _info(tuple(found)), revoked_now


def expiry(expires_in: str | None, expires_on: str | None, now: Clock = utc_now) -> datetime | None:
    """When a new token ends: `expires_in` an ISO 8601 duration from now (P30D, P6M), or at the end of the day
    `expires_on` (YYYY-MM-DD, Paris time); None for neither. PersonError naming the option otherwise."""
    moment = now()
    if expires_in is not None and expires_on is not None:
        raise PersonError("expires-on", "--expires-in ou --expires-on, pas les deux")
    if expires_in is not None:
        try:
            duration = Duration.parse(expires_in)
        except DurationError as error:
            raise PersonError("expires-in", str(error)) from None
        end = duration.add_to(moment)
        if duration.negative or end <= moment:
            raise PersonError("expires-in", f"« {expires_in} » : une durée positive est attendue (exemple : P30D)")
        return end
    if expires_on is not None:
        try:
            day = date.fromisoformat(expires_on.strip())
        except ValueError:
            raise PersonError("expires-on", f"« {expires_on} » n'est pas une date AAAA-MM-JJ") from None
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
        if end <= moment:
            raise PersonError("expires-on", f"le {day:%d/%m/%Y} est déjà passé")
        return end
    return None


async def has_tokens(store: RecordStore) -> bool:
    async with store.sessions() as session:
        return (await session.scalars(select(TokenRow.token_hash).limit(1))).first() is not None


DEMO_PROJECT = "demo-lyon"
#: The demo project's region (Lyon, department 69): the demo reviewer's.
DEMO_REGION = "auvergne-rhone-alpes"
DEMO_USERS = {
    "LABELLISATION_COORDINATOR_TOKEN": ApiUser(
        role=UserRole.COORDINATOR, name="Claire Coordination", email="coordination@fnep.fr"
    ),
    "LABELLISATION_REVIEWER_TOKEN": ApiUser(
        role=UserRole.REVIEWER, name="Romain Relecteur", email="relecteurs@fnep.fr", regions=[DEMO_REGION]
    ),
    "LABELLISATION_HOLDER_TOKEN": ApiUser(
        role=UserRole.HOLDER, name="Paul Porteur", email="porteur@edp-lyon.fr", projects=[DEMO_PROJECT]
    ),
}


async def demo_people(store: RecordStore) -> list[Person]:
    """The three demo people, created or brought back to their definition (role, regions, projects)."""
    people = []
    for user in DEMO_USERS.values():
        person = await find_person(store, str(user.email))
        if person is None:
            person = await invite(
                store, role=user.role, name=user.name, email=str(user.email), regions=user.regions,
                projects=user.projects,
            )  # fmt: skip
        elif (person.role, person.regions, person.projects) != (user.role, user.regions, user.projects):
            person = await update_person(
                store, person.email, role=user.role, regions=user.regions, projects=user.projects
            )
        people.append(person)
    return people


async def create_demo_tokens(store: RecordStore) -> dict[str, str] | None:
    """The demo people (always), and on a fresh records database one token each; None if tokens exist."""
    people = await demo_people(store)
    if await has_tokens(store):
        return None
    return {
        variable: await create_token(store, person, label="démo")
        for variable, person in zip(DEMO_USERS, people, strict=True)
    }
