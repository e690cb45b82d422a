"""A records store on SQLite and on the machine's PostgreSQL, fresh for every run."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore

PG_SERVER = "127.0.0.1:5432"
#: Trust auth on the test machine; the superuser is `postgres` on some, `root` on others.
PG_USERS = ("postgres", "root")


async def _admin_user() -> str:
    """The first user the server lets in on the existing `test` database."""
    errors: list[str] = []
    for user in PG_USERS:
        try:
            connection = await asyncpg.connect(f"postgresql://{user}@{PG_SERVER}/test")
        except (OSError, asyncpg.PostgresError) as error:
            errors.append(f"{user}: {error}")
            continue
        await connection.close()
        return user
    raise RuntimeError(f"no PostgreSQL at {PG_SERVER} for the records tests ({'; '.join(errors)})")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the local PostgreSQL server, dropped at the end."""
    name = f"records_{uuid.uuid4().hex[:12]}"
    user = asyncio.run(_admin_user())

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(f"postgresql://{user}@{PG_SERVER}/test")
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{user}@{PG_SERVER}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/records.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[RecordStore]:
    await asyncio.to_thread(upgrade, database_url)
    opened = RecordStore.from_url(database_url)
    try:
        yield opened
    finally:
        await opened.close()
