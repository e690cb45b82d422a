"""API tokens: random, shown once, stored as a SHA-256 hash; roles and projects."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, EmailStr
from sqlalchemy import select

from labellisation.records.store import RecordStore
from labellisation.records.tables import TokenRow


class UserRole(StrEnum):
    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"
    HOLDER = "holder"


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


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(store: RecordStore, user: ApiUser) -> str:
    """A new token, returned once; only its hash is kept."""
    token = "lab_" + secrets.token_urlsafe(32)
    async with store.sessions.begin() as session:
        session.add(
            TokenRow(
                token_hash=hash_token(token),
                role=user.role.value,
                name=user.name,
                email=str(user.email),
                projects={"ids": user.projects},
                created_at=datetime.now(UTC),
            )
        )
    return token


async def authenticate(store: RecordStore, token: str) -> ApiUser | None:
    digest = hash_token(token)
    async with store.sessions() as session:
        row = (await session.scalars(select(TokenRow).where(TokenRow.token_hash == digest))).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return ApiUser(role=UserRole(row.role), name=row.name, email=row.email, projects=row.projects.get("ids", []))


class TokenCache:
    """Tokens recently found valid, kept a short while: spares the records database a query per request.

    Keyed by the token's hash, like the table. Only successes are kept, so a token created a moment
    ago (by `labellisation token create`, in another process) works at once; a token row deleted by
    hand stays usable for at most `ttl` seconds.
    """

    def __init__(
        self, store: RecordStore, ttl: float = 30.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store, self.ttl, self.size, self.clock = store, ttl, size, clock
        self._users: dict[str, tuple[float, ApiUser]] = {}

    async def authenticate(self, token: str) -> ApiUser | None:
        digest = hash_token(token)
        cached = self._users.get(digest)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        user = await authenticate(self.store, token)
        self._users.pop(digest, None)
        if user is not None:
            if len(self._users) >= self.size:
                self._users.pop(next(iter(self._users)))  # the oldest entry
            self._users[digest] = (self.clock() + self.ttl, user)
        return user


async def has_tokens(store: RecordStore) -> bool:
    async with store.sessions() as session:
        return (await session.scalars(select(TokenRow.token_hash).limit(1))).first() is not None


DEMO_PROJECT = "demo-lyon"
DEMO_USERS = {
    "LABELLISATION_COORDINATOR_TOKEN": ApiUser(
        role=UserRole.COORDINATOR, name="Claire Coordination", email="coordination@fnep.fr"
    ),
    "LABELLISATION_REVIEWER_TOKEN": ApiUser(
        role=UserRole.REVIEWER, name="Romain Relecteur", email="relecteurs@fnep.fr"
    ),
    "LABELLISATION_HOLDER_TOKEN": ApiUser(
        role=UserRole.HOLDER, name="Paul Porteur", email="porteur@edp-lyon.fr", projects=[DEMO_PROJECT]
    ),
}


async def create_demo_tokens(store: RecordStore) -> dict[str, str] | None:
    """On a fresh records database, one token per role for the demo; None if tokens exist."""
    if await has_tokens(store):
        return None
    return {variable: await create_token(store, user) for variable, user in DEMO_USERS.items()}
