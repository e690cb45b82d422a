"""The records store's connections: the e-mails' bookkeeping statements on both databases, and a connection the
PostgreSQL server closed replaced at checkout, without the pool's pre-ping (records/store.py)."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore


async def test_the_attempts_of_an_email_count_up_from_one(store: RecordStore) -> None:
    assert [await store.record_attempt("r-1", "p-1") for _ in range(3)] == [1, 2, 3]
    assert await store.record_attempt("r-2", None) == 1


async def test_an_email_counts_as_sent_once_its_row_is_written(store: RecordStore) -> None:
    assert not await store.reminder_sent("r-1")
    await store.record_reminders([("r-1", "etude", "before_due"), ("r-2", None, "news")], "p-1", ["a@x.fr"], "<m>")
    await store.record_reminders([("r-1", "etude", "before_due")], "p-1", ["a@x.fr"], "<m>")  # a retry: no change
    assert await store.reminder_sent("r-1")
    assert await store.reminder_sent("r-2")
    assert not await store.reminder_sent("r-3")


async def _backend_pid(store: RecordStore) -> int:
    async with store.engine.connect() as connection:
        return int((await connection.scalar(text("SELECT pg_backend_pid()"))) or 0)


async def test_a_connection_the_server_closed_is_replaced_before_use(postgres_url: str) -> None:
    """The database server ends the pooled connection (as on a restart): the next statement gets a new one and
    succeeds; nothing fails for the caller."""
    await asyncio.to_thread(upgrade, postgres_url)
    store = RecordStore.from_url(postgres_url)
    try:
        await store.record_reminders([("r-1", None, "news")], "p-1", [], "<m>")
        pid = await _backend_pid(store)
        admin = await asyncpg.connect(make_url(postgres_url).set(drivername="postgresql").render_as_string(False))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.5)  # the server's close reaches the idle connection's socket
        assert await store.reminder_sent("r-1")
        assert await _backend_pid(store) != pid
    finally:
        await store.close()
