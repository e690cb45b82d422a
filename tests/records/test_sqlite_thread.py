"""On a SQLite file, a record batch and each of an e-mail's bookkeeping statements come back from the database's
thread once (records/sqlite_thread.py), where aiosqlite came back after every driver call; and they keep their
guarantees: a batch all or nothing, the writes of one store seen by another on the same file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from labellisation.records import store as store_module
from labellisation.records.digests import digest_readers_unless_sent
from labellisation.records.store import RecordStore
from labellisation.records.tables import EventRow, ProjectRow, StepMeasureRow
from tests.records.test_store import fresh_project, request_for


@pytest.fixture
async def returns(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """What came back to the event loop from another thread, from now on: every aiosqlite call does, as does the
    end of work run in an executor."""
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    original = loop.call_soon_threadsafe

    def counting(callback: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(callback, "__qualname__", repr(callback)))
        return original(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
    yield seen


async def test_a_new_project_s_first_batch_comes_back_once(sqlite_store: RecordStore, returns: list[str]) -> None:
    request = request_for(fresh_project())
    assert await sqlite_store.record(request) == len(request.events)
    assert len(returns) == 1  # 28 through aiosqlite (its first connection included)
    async with sqlite_store.engine.connect() as connection:  # the aiosqlite engine reads what the thread wrote
        events = await connection.scalar(select(func.count()).select_from(EventRow))
        measures = await connection.scalar(select(func.count()).select_from(StepMeasureRow))
    assert events == len(request.events)
    assert measures


async def test_an_e_mail_s_statements_come_back_once_each(sqlite_store: RecordStore, returns: list[str]) -> None:
    key = "edp-belfort:news:1"
    assert await digest_readers_unless_sent(sqlite_store, key, ["porteur@edp-belfort.fr"]) == {}
    assert await sqlite_store.record_attempt(key, "edp-belfort") == 1
    await sqlite_store.record_reminders([(key, None, "news")], "edp-belfort", ["porteur@edp-belfort.fr"], "<m@x>")
    assert await digest_readers_unless_sent(sqlite_store, key, ["porteur@edp-belfort.fr"]) is None
    assert len(returns) == 4  # 36 through aiosqlite (its first connection included)


async def test_a_batch_that_fails_leaves_nothing(sqlite_store: RecordStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The projection and the events are written when the measures fail: the transaction takes them back."""

    def fails(*_args: object) -> None:
        raise RuntimeError("disque plein")

    request = request_for(fresh_project())
    with monkeypatch.context() as patched:
        patched.setattr(store_module, "_write_measures", fails)
        with pytest.raises(RuntimeError, match="disque plein"):
            await sqlite_store.record(request)
    async with sqlite_store.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(ProjectRow)) == 0
        assert await connection.scalar(select(func.count()).select_from(EventRow)) == 0
    assert await sqlite_store.record(request) == len(request.events)


async def test_two_stores_on_one_file_write_side_by_side(sqlite_store: RecordStore) -> None:
    """The API and the worker each have their own store, and so their own thread, on the same file."""
    other = RecordStore.from_url(str(sqlite_store.engine.url))
    try:
        requests = [request_for(fresh_project()) for _ in range(20)]
        counts = await asyncio.gather(*(s.record(r) for s, r in zip([sqlite_store, other] * 10, requests, strict=True)))
        assert counts == [len(r.events) for r in requests]
        assert await other.project(requests[0].project.project_id) is not None
        assert await sqlite_store.project(requests[1].project.project_id) is not None
    finally:
        await other.close()


def test_an_in_memory_database_has_no_thread() -> None:
    """A second engine would open a second, empty database: the aiosqlite engine does the work itself."""
    assert RecordStore.from_url("sqlite+aiosqlite://").sqlite_thread is None
    assert RecordStore.from_url("sqlite+aiosqlite:///:memory:").sqlite_thread is None
