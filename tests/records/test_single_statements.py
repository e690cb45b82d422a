"""The e-mail records written and read one statement at a time (in autocommit on PostgreSQL) keep their guarantees:
a message's rows all or none, and the pool's connections back in transactions for everything else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from labellisation.records.store import RecordStore
from labellisation.records.tables import EmailAttemptRow, ReminderRow

KEY = "edp-belfort:feasibility_study:overdue:2026-09-15T21:59:59+00:00"
NEWS = "edp-belfort:news:3"


async def test_the_rows_of_one_message_are_written_all_or_none(store: RecordStore) -> None:
    # The second row breaks a NOT NULL constraint (its kind): the first must not stay behind, or of one message
    # the reminder would count as sent and the news not.
    rows = [(KEY, "feasibility_study", "overdue"), (NEWS, None, None)]
    with pytest.raises(IntegrityError):
        await store.record_reminders(rows, "edp-belfort", ["porteur@edp-belfort.fr"], "<m@fnep.fr>")  # type: ignore[arg-type]
    assert not await store.reminder_sent(KEY)
    assert not await store.reminder_sent(NEWS)

    await store.record_reminders(
        [(KEY, "feasibility_study", "overdue"), (NEWS, None, "news")],
        "edp-belfort",
        ["porteur@edp-belfort.fr"],
        "<m@fnep.fr>",
    )
    assert await store.reminder_sent(KEY)
    assert await store.reminder_sent(NEWS)


async def test_a_connection_used_for_one_statement_goes_back_to_transactions(store: RecordStore) -> None:
    # On PostgreSQL, the same pooled connection serves the autocommit reads and, after, a transaction: that
    # transaction must still roll back as a whole. (On a SQLite file the single statements go to their own
    # threads and connections, records/sqlite_thread.py; the rollback must hold all the same.)
    key = f"{KEY}:rolled-back"  # the PostgreSQL database is shared by this module's tests
    assert not await store.reminder_sent(key)
    assert await store.record_attempt(key, "edp-belfort") == 1
    backend = await _backend(store.statements)
    with pytest.raises(RuntimeError, match="abandoned"):
        async with store.engine.begin() as connection:
            # The very connection the single statements used (one at a time, so the pool hands back the same).
            assert await _backend(connection) == backend
            await connection.execute(
                store.insert_into(ReminderRow),
                {"reminder_id": key, "project_id": "edp-belfort", "step": None, "kind": "overdue",
                 "recipients": "", "message_id": "<m@fnep.fr>", "sent_at": datetime.now(UTC)},
            )  # fmt: skip
            raise RuntimeError("abandoned")
    assert not await store.reminder_sent(key)
    assert await store.record_attempt(key, "edp-belfort") == 2


async def _backend(on: AsyncEngine | AsyncConnection) -> object:
    """Which server connection answers: PostgreSQL's backend pid; SQLite's connection object."""
    if isinstance(on, AsyncEngine):
        async with on.connect() as connection:
            return await _backend(connection)
    if on.dialect.name == "postgresql":
        return (await on.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return (await on.get_raw_connection()).driver_connection


async def test_an_attempt_counts_and_keeps_its_first_moment(store: RecordStore) -> None:
    # The upsert is built once per store (values bound at each call): the second attempt of a key counts 2 and
    # moves `last_at`, `first_at` stays; another key starts at 1.
    key = f"{KEY}:attempts"  # the PostgreSQL database is shared by this module's tests
    assert await store.record_attempt(key, "edp-belfort") == 1
    [(first_at, last_at)] = await _moments(store, key)
    assert await store.record_attempt(key, "edp-belfort") == 2
    [(first_again, last_again)] = await _moments(store, key)
    assert first_again == first_at
    assert last_again > last_at
    assert await store.record_attempt(f"{key}:other", None) == 1


async def _moments(store: RecordStore, key: str) -> list[tuple[datetime, datetime]]:
    async with store.engine.connect() as connection:
        query = select(EmailAttemptRow.first_at, EmailAttemptRow.last_at).where(EmailAttemptRow.email_key == key)
        return [(first, last) for first, last in await connection.execute(query)]
