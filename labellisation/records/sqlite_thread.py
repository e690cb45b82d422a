"""The records' frequent statements on a SQLite file, each run whole in one thread hand-off.

aiosqlite runs every driver call (cursor, execute, fetch, close, commit) in its connection's thread and comes back
to the event loop after each: three or four hand-offs a statement, 15 for a project's first record batch, about a
hundred microseconds of CPU each on a busy host (BENCHMARKS.md). `AsyncConnection.run_sync` saves none of them,
since each driver call still goes through the loop. Here the same work runs as one function on a plain (pysqlite)
connection to the same file, in a thread: one hand-off for the whole transaction.

Two threads per engine, sharing its pool of connections (one each at a time): one writes, the other reads. The
writes run one after the other, as SQLite's single writer would anyway; a write waiting for the file's lock
(another connection writing, up to the busy timeout) holds up the writes behind it, not the reads (WAL: readers
never wait for the writer). Build stores on the root engine: one from `engine.execution_options(...)` would get
threads of its own.
Work that has started runs to its end even if its caller is cancelled: what runs here is idempotent (its inserts
skip the rows already there), except an e-mail's attempt counter, which then counts an attempt that sent nothing
(the retry's message says « attempt 2 », as after a crash before the send).

Never call these from inside an aiosqlite transaction that has written: the thread would wait for that
transaction's lock, which waits for the caller (the busy timeout, then « database is locked »).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
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
    """A pysqlite engine on the file of an aiosqlite one, used from two threads of its own (writes, reads)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records-sqlite-writes")
        self._reads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="records-sqlite-reads")

    @classmethod
    def beside(cls, engine: AsyncEngine) -> SqliteThread | None:
        """The threads of this engine's file, started at first use and shared by every store on the engine (the
        tests build several on one); None unless it is aiosqlite on a file: an in-memory database is the engine's
        own connection, which no second engine would see, and a `uri=` URL is left to aiosqlite."""
        if engine.sync_engine in _THREADS:
            return _THREADS[engine.sync_engine]
        url = engine.url
        on_file = url.get_driver_name() == "aiosqlite" and url.database not in (None, "", ":memory:")
        thread = None
        if on_file and "uri" not in url.query:
            sync = create_engine(url.set(drivername="sqlite+pysqlite"), connect_args={"check_same_thread": False})
            event.listen(sync, "connect", sqlite_pragmas)
            thread = cls(sync)
        _THREADS[engine.sync_engine] = thread
        return thread

    @staticmethod
    async def close_beside(engine: AsyncEngine) -> None:
        """Close the threads of this engine, if started; a later use starts them again (as the engine reconnects
        after `dispose`)."""
        thread = _THREADS.pop(engine.sync_engine, None)
        if thread is not None:
            await thread._close()

    async def begin(self, work: Callable[..., T], *args: Any, reads: bool = False) -> T:
        """`work(connection, *args)` in one transaction, committed when it returns, rolled back if it raises; in
        the reading thread if `reads`."""
        executor = self._reads if reads else self._writes
        return await asyncio.get_running_loop().run_in_executor(executor, self._in_transaction, work, args)

    def _in_transaction(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as connection:
            return work(connection, *args)

    async def _close(self) -> None:
        """Close the connections after the work queued, then let the threads end."""
        loop = asyncio.get_running_loop()
        try:
            for executor in (self._writes, self._reads):
                await loop.run_in_executor(executor, self.engine.pool.dispose)
        finally:
            self.engine.dispose()  # whatever is left (check_same_thread is off)
            for executor in (self._writes, self._reads):
                executor.shutdown(wait=False)


_THREADS: weakref.WeakKeyDictionary[Engine, SqliteThread | None] = weakref.WeakKeyDictionary()


async def run_in(engine: AsyncEngine, work: Callable[..., T], *args: Any, reads: bool = False) -> T:
    """`work(connection, *args)` in one transaction: in the SQLite threads of `engine` when it has some, else on
    `engine` (asyncpg's statements run through SQLAlchemy's greenlet, no thread). The threads are looked up and
    handed the work in one step of the event loop, with no await between: `close_beside` cannot shut them down
    in between."""
    thread = SqliteThread.beside(engine)
    if thread is not None:
        return await thread.begin(work, *args, reads=reads)
    async with engine.begin() as connection:
        return await connection.run_sync(work, *args)
