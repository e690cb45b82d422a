"""A records store on SQLite and on a PostgreSQL server, fresh for every run.

The PostgreSQL server comes from `LABELLISATION_TEST_POSTGRES_URL`, a URL whose user may create databases
(`postgresql://postgres@127.0.0.1:5432/test`); without it, the machine's own server on 127.0.0.1:5432 with
trust auth, as user `postgres` or `root`. Where none answers the PostgreSQL tests are skipped, with one line
saying so, unless `LABELLISATION_TEST_REQUIRE_POSTGRES=1` (CI's `.ci/run`) makes that an error.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore

URL_VARIABLE = "LABELLISATION_TEST_POSTGRES_URL"
REQUIRE_VARIABLE = "LABELLISATION_TEST_REQUIRE_POSTGRES"
#: Trust auth on the test machines; the superuser is `postgres` on some, `root` on others.
DEFAULT_URLS = ("postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test")
CONNECT_TIMEOUT = 10


def _dsn(url: URL) -> str:
    """The URL as asyncpg takes it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _first_answering(candidates: list[URL]) -> tuple[URL | None, list[str]]:
    """The first candidate server URL that lets us in, and why each one before it did not."""
    errors: list[str] = []
    for url in candidates:
        try:
            connection = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            errors.append(f"{url.render_as_string()}: {' '.join(str(error).split()) or type(error).__name__}")
            continue
        await connection.close()
        return url, errors
    return None, errors


def _admin_url() -> URL:
    """The server to create our database on; skips the test (or fails it, if required) when there is none."""
    configured = os.environ.get(URL_VARIABLE, "").strip()
    candidates = [make_url(configured)] if configured else [make_url(url) for url in DEFAULT_URLS]
    url, errors = asyncio.run(_first_answering(candidates))
    if url is not None:
        return url
    reason = (
        f"no PostgreSQL server ({'; '.join(errors)}): "
        f"set {URL_VARIABLE}=postgresql://USER@HOST:PORT/DB (a user that may create databases) to run this test"
    )
    if os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0"):
        pytest.fail(f"{reason}; it may not be skipped, as {REQUIRE_VARIABLE} is set", pytrace=False)
    pytest.skip(f"{reason}, and {REQUIRE_VARIABLE}=1 to fail instead of skipping")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, dropped at the end (asked for once per session)."""
    admin_url = _admin_url()
    name = f"records_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(_dsn(admin_url), timeout=CONNECT_TIMEOUT)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
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
