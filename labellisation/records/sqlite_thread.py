"""The records' frequent writes on a SQLite file, each run whole in one thread hand-off.

aiosqlite runs every driver call (cursor, execute, fetch, close, commit) in its connection's thread and comes back
to the event loop after each: three or four hand-offs a statement, fifteen for a project's first record batch,
about a hundred microseconds of CPU each on a busy host (BENCHMARKS.md). `AsyncConnection.run_sync` saves none of
them, since each driver call still goes through the loop. Here the same work runs as one function on a plain
(pysqlite) connection to the same file, in a thread of its own: one hand-off for the whole transaction.

The thread is one: the work handed to it runs one piece after the other, as SQLite's single writer would anyway.
Work that has started cannot be cancelled; what runs here is idempotent (its inserts skip the rows already
there), so a cancelled caller's transaction that still commits changes nothing a retry would not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Per-connection settings only. WAL is a property of the file, set once by the migrations:
    # switching to it on every connect needs a lock that concurrent first connections fail on
    # ("database is locked") before any busy timeout applies.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class SqliteThread:
    """A pysqlite engine on the file of an aiosqlite one, used from one thread of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records-sqlite")

    @classmethod
    def beside(cls, engine: AsyncEngine) -> SqliteThread | None:
        """The thread for this engine's file; None unless it is aiosqlite on a file (an in-memory database is the
        engine's own connection, which no second engine would see)."""
        url = engine.url
        if url.get_driver_name() != "aiosqlite" or url.database in (None, "", ":memory:") or url.query.get("uri"):
            return None
        sync = create_engine(url.set(drivername="sqlite+pysqlite"), connect_args={"check_same_thread": False})
        event.listen(sync, "connect", sqlite_pragmas)
        return cls(sync)

    async def begin(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in one transaction, committed when it returns, rolled back if it raises."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._in_transaction, work, args)

    def _in_transaction(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as connection:
            return work(connection, *args)

    async def close(self) -> None:
        """Close the connections in the thread that used them, then let the thread end."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self.engine.dispose)
        self._executor.shutdown(wait=False)


async def run_in(
    thread: SqliteThread | None, engine: AsyncEngine, work: Callable[[Connection], T] | Callable[..., T], *args: Any
) -> T:
    """`work(connection, *args)` in one transaction: in the SQLite thread when there is one, else on `engine`
    (asyncpg's statements run through SQLAlchemy's greenlet, no thread)."""
    if thread is not None:
        return await thread.begin(work, *args)
    async with engine.begin() as connection:
        return await connection.run_sync(work, *args)
