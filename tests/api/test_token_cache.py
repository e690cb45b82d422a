"""The API's token check: the records database is asked on every request, so nothing stale is ever accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from labellisation.records.store import RecordStore
from labellisation.records.tables import TokenRow
from labellisation.tokens import ApiUser, TokenCache, TokenRefused, UserRole, create_token

REVIEWER = ApiUser(role=UserRole.REVIEWER, name="Romain", email="relecteurs@fnep.fr")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def delete_tokens(store: RecordStore) -> None:
    async with store.sessions.begin() as session:
        await session.execute(delete(TokenRow))


async def test_a_deleted_token_is_refused_at_the_next_request(sqlite_store: RecordStore) -> None:
    cache = TokenCache(sqlite_store)
    token = await create_token(sqlite_store, REVIEWER)
    assert await cache.authenticate(token) == REVIEWER
    await delete_tokens(sqlite_store)
    assert await cache.authenticate(token) is None  # no window: it was accepted a moment ago


async def test_a_refusal_is_not_kept_and_a_new_token_works_at_once(sqlite_store: RecordStore) -> None:
    cache = TokenCache(sqlite_store)
    assert await cache.authenticate("lab_inconnu") is None
    token = await create_token(sqlite_store, REVIEWER)
    assert await cache.authenticate(token) == REVIEWER
    assert await cache.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


async def test_a_token_ends_at_its_expiry_on_the_check_clock(sqlite_store: RecordStore) -> None:
    clock = Clock()
    cache = TokenCache(sqlite_store, now=clock)
    token = await create_token(sqlite_store, REVIEWER, expires_at=clock.now + timedelta(days=30), now=clock)
    clock.now += timedelta(days=30, seconds=-1)
    assert await cache.authenticate(token) == REVIEWER
    clock.now += timedelta(seconds=1)
    with pytest.raises(TokenRefused, match="jeton expiré"):
        await cache.authenticate(token)
