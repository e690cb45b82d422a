"""The API's token cache: one database query per token and short while, never a stale refusal."""

from __future__ import annotations

from sqlalchemy import delete

from labellisation.records.store import RecordStore
from labellisation.records.tables import TokenRow
from labellisation.tokens import ApiUser, TokenCache, UserRole, create_token

REVIEWER = ApiUser(role=UserRole.REVIEWER, name="Romain", email="relecteurs@fnep.fr")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def delete_tokens(store: RecordStore) -> None:
    async with store.sessions.begin() as session:
        await session.execute(delete(TokenRow))


async def test_a_valid_token_is_kept_for_its_ttl_then_checked_again(sqlite_store: RecordStore) -> None:
    clock = Clock()
    cache = TokenCache(sqlite_store, ttl=30, clock=clock)
    token = await create_token(sqlite_store, REVIEWER)
    assert await cache.authenticate(token) == REVIEWER
    await delete_tokens(sqlite_store)
    clock.now += 29
    assert await cache.authenticate(token) == REVIEWER  # served from the cache
    clock.now += 2
    assert await cache.authenticate(token) is None  # expired: the database says it is gone


async def test_a_refusal_is_not_kept_and_a_new_token_works_at_once(sqlite_store: RecordStore) -> None:
    cache = TokenCache(sqlite_store, clock=Clock())
    assert await cache.authenticate("lab_inconnu") is None
    token = await create_token(sqlite_store, REVIEWER)
    assert await cache.authenticate(token) == REVIEWER
    assert await cache.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


async def test_the_cache_holds_at_most_its_size(sqlite_store: RecordStore) -> None:
    cache = TokenCache(sqlite_store, size=2, clock=Clock())
    tokens = [await create_token(sqlite_store, REVIEWER) for _ in range(3)]
    for token in tokens:
        assert await cache.authenticate(token) == REVIEWER
    await delete_tokens(sqlite_store)
    assert await cache.authenticate(tokens[0]) is None  # evicted first, so the database was asked
    assert await cache.authenticate(tokens[2]) == REVIEWER
