"""Sign-in links and sessions in the records database: random secrets out, only their SHA-256 kept.

Every function takes `now`, so the tests move the clock instead of sleeping. A link is good once, for
LINK_LIFETIME; a session lasts SESSION_IDLE without a request and SESSION_LIFETIME at most, and ends
at sign-out, when its person is disabled (the people functions set `ended_at`), or when found expired.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from labellisation.people import Person, find_person, person_of_row
from labellisation.records.store import RecordStore
from labellisation.records.tables import SessionRow, SignInLinkRow, UserRow
from labellisation.tokens import ApiUser, api_user

LINK_LIFETIME = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=12)
SESSION_LIFETIME = timedelta(days=30)
#: A session's last-seen time is written at most this often (not on every page).
SEEN_EVERY = timedelta(minutes=1)
#: Longer path segments are not links we made (ours are 43 characters): refused without a query.
MAX_LINK_TOKEN = 128


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def find_active_person(store: RecordStore, email: str) -> Person | None:
    """The active person with this address (any case), or None."""
    found = await find_person(store, email)
    return found if found is not None and found.active else None


async def create_sign_in_link(store: RecordStore, user_id: int, now: datetime) -> str:
    """A new single-use link token for the person, returned once; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    async with store.sessions.begin() as session:
        session.add(
            SignInLinkRow(link_hash=digest(token), user_id=user_id, created_at=now, expires_at=now + LINK_LIFETIME)
        )
    return token


def sign_in_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/connexion/lien/{token}"


async def sign_in_links_for(
    store: RecordStore, emails: list[str], public_base_url: str, now: datetime
) -> list[tuple[Person, str]]:
    """A fresh sign-in link for each active person among `emails` (`make run` prints the demo people's)."""
    links = []
    for email in emails:
        found = await find_active_person(store, email)
        if found is not None:
            links.append((found, sign_in_url(public_base_url, await create_sign_in_link(store, found.id, now))))
    return links


async def use_sign_in_link(store: RecordStore, token: str, now: datetime) -> Person | None:
    """The link's person when it is known, unused, unexpired and its person active; it is then used up.

    One conditional UPDATE marks it used, so two clicks at the same moment cannot both succeed.
    """
    if not token or len(token) > MAX_LINK_TOKEN:
        return None
    link_hash = digest(token)
    async with store.sessions.begin() as session:
        marked = await session.execute(
            update(SignInLinkRow)
            .where(
                SignInLinkRow.link_hash == link_hash,
                SignInLinkRow.used_at.is_(None),
                SignInLinkRow.expires_at > now,
            )
            .values(used_at=now)
            .returning(SignInLinkRow.user_id)
        )
        user_id = marked.scalar_one_or_none()
        if user_id is None:
            return None
        row = await session.get(UserRow, user_id)
        found = person_of_row(row) if row is not None else None
    return found if found is not None and found.active else None


@dataclass(frozen=True)
class SignedIn:
    """The person behind a valid session, and the session's CSRF token for the forms of the page."""

    user: ApiUser
    user_id: int
    session_hash: str
    csrf_token: str


async def open_session(store: RecordStore, user_id: int, now: datetime) -> str:
    """A new session; returns its random id (for the cookie), stored only as a hash, with a CSRF token."""
    session_id = secrets.token_urlsafe(32)
    async with store.sessions.begin() as session:
        session.add(
            SessionRow(
                session_hash=digest(session_id),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                csrf_token=secrets.token_urlsafe(32),
            )
        )
        await session.execute(update(UserRow).where(UserRow.id == user_id).values(last_seen_at=now))
    return session_id


def _expired(row: SessionRow, now: datetime) -> bool:
    return now - row.last_seen_at >= SESSION_IDLE or now - row.created_at >= SESSION_LIFETIME


async def find_session(store: RecordStore, session_id: str, now: datetime) -> SignedIn | None:
    """The signed-in person of a live session, its last-seen time moved to `now`; None otherwise.

    A session found expired, or whose person is disabled, is ended on the way.
    """
    session_hash = digest(session_id)
    async with store.sessions.begin() as session:
        found = (
            await session.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.session_hash == session_hash)
            )
        ).first()
        if found is None:
            return None
        row, user = found
        if row.ended_at is not None:
            return None
        if _expired(row, now) or not user.active:
            row.ended_at = now
            return None
        if now - row.last_seen_at >= SEEN_EVERY:
            row.last_seen_at = now
            user.last_seen_at = now
        return SignedIn(
            user=api_user(person_of_row(user)), user_id=user.id, session_hash=session_hash, csrf_token=row.csrf_token
        )


async def end_session(store: RecordStore, session_hash: str, now: datetime) -> None:
    async with store.sessions.begin() as session:
        await session.execute(
            update(SessionRow)
            .where(SessionRow.session_hash == session_hash, SessionRow.ended_at.is_(None))
            .values(ended_at=now)
        )
