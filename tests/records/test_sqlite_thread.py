"""On a SQLite file, a record batch and each of an e-mail's bookkeeping statements come back from the database's
thread once (records/sqlite_thread.py), where aiosqlite came back after every driver call; and they keep their
guarantees: a batch all or nothing, the writes of one store seen by another on the same file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from labellisation.mail.messages import RecipientRole
from labellisation.mail.recipients import staff
from labellisation.people import invite
from labellisation.records import store as store_module
from labellisation.records.digests import digest_readers_unless_sent
from labellisation.records.store import RecordStore
from labellisation.records.tables import EventRow, ProjectRow, StepMeasureRow
from labellisation.settings import Settings
from labellisation.tokens import authenticate
from tests.records.test_store import fresh_project, request_for


@pytest.fixture
async def returns(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """The threads that came back to the event loop, from now on, one name each time: aiosqlite's after every
    driver call, ours after each piece of work. The loop's default executor (other tests' `to_thread`, name
    lookups) is left out."""
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    original = loop.call_soon_threadsafe

    def counting(callback: Any, *args: Any, **kwargs: Any) -> Any:
        if not threading.current_thread().name.startswith("asyncio_"):
            seen.append(threading.current_thread().name)
        return original(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
    yield seen


async def warmed(store: RecordStore, returns: list[str]) -> None:
    """Connections open and statements compiled, then the count starts again: what every batch or e-mail costs."""
    await store.ping()
    await store.record(request_for(fresh_project()))
    await digest_readers_unless_sent(store, "warm", ["porteur@edp-belfort.fr"])
    await store.record_attempt("warm", None)
    await store.record_reminders([("warm", None, "news")], "edp-belfort", [], "<w@x>")
    returns.clear()


async def test_a_new_project_s_first_batch_comes_back_once(sqlite_store: RecordStore, returns: list[str]) -> None:
    await warmed(sqlite_store, returns)
    request = request_for(fresh_project())
    assert await sqlite_store.record(request) == len(request.events)
    assert returns == ["records-sqlite-writes_0"]  # 15 through aiosqlite
    async with sqlite_store.engine.connect() as connection:  # the aiosqlite engine reads what the thread wrote
        mine = request.project.project_id
        events = await connection.scalar(select(func.count()).where(EventRow.project_id == mine))
        measures = await connection.scalar(select(func.count()).where(StepMeasureRow.project_id == mine))
    assert events == len(request.events)
    assert measures


async def test_an_e_mail_s_statements_come_back_once_each(sqlite_store: RecordStore, returns: list[str]) -> None:
    await warmed(sqlite_store, returns)
    key = "edp-belfort:news:1"
    assert await digest_readers_unless_sent(sqlite_store, key, ["porteur@edp-belfort.fr"]) == {}
    assert await sqlite_store.record_attempt(key, "edp-belfort") == 1
    await sqlite_store.record_reminders([(key, None, "news")], "edp-belfort", ["porteur@edp-belfort.fr"], "<m@x>")
    assert await digest_readers_unless_sent(sqlite_store, key, ["porteur@edp-belfort.fr"]) is None
    assert sorted(returns) == ["records-sqlite-reads_0"] * 2 + ["records-sqlite-writes_0"] * 2  # 20 through aiosqlite


async def test_the_reviewers_of_a_region_come_back_once(
    sqlite_store: RecordStore, returns: list[str], tmp_path: Path
) -> None:
    await invite(sqlite_store, role="reviewer", name="Rhône", email="rhone@fnep.fr", regions=["auvergne-rhone-alpes"])
    await invite(sqlite_store, role="reviewer", name="Breizh", email="breizh@fnep.fr", regions=["bretagne"])
    await invite(sqlite_store, role="coordinator", name="Nationale", email="nationale@fnep.fr")
    await warmed(sqlite_store, returns)
    found = await staff(sqlite_store, Settings(data_dir=tmp_path), RecipientRole.REVIEWERS, "bretagne", "edp-brest")
    assert [r.email for r in found] == ["breizh@fnep.fr"]
    assert returns == ["records-sqlite-reads_0"]  # 6 through aiosqlite, reading every person


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
    """The API and the worker each have their own store, and so their own threads, on the same file."""
    other = RecordStore.from_url(str(sqlite_store.engine.url))
    try:
        requests = [request_for(fresh_project()) for _ in range(20)]
        counts = await asyncio.gather(*(s.record(r) for s, r in zip([sqlite_store, other] * 10, requests, strict=True)))
        assert counts == [len(r.events) for r in requests]
        assert await other.project(requests[0].project.project_id) is not None
        assert await sqlite_store.project(requests[1].project.project_id) is not None
    finally:
        await other.close()


async def test_reads_do_not_wait_behind_a_write_waiting_for_the_file(sqlite_store: RecordStore) -> None:
    """Another process holds the file's write lock (a burst, a migration): the batch waits for it, in the busy
    timeout, but an e-mail's check and the token check still answer."""
    await sqlite_store.record_reminders([("sent-before", None, "news")], "edp-belfort", [], "<m@x>")
    other_process = sqlite3.connect(str(sqlite_store.engine.url.database), isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    try:
        request = request_for(fresh_project())
        batch = asyncio.ensure_future(sqlite_store.record(request))
        await asyncio.sleep(0.3)  # the batch is in the writing thread, waiting for the lock
        assert await asyncio.wait_for(sqlite_store.reminder_sent("sent-before"), timeout=5)
        assert await asyncio.wait_for(authenticate(sqlite_store, "lbl_inconnu"), timeout=5) is None
        assert not batch.done()
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
    assert await batch == len(request.events)


async def test_a_store_closed_twice_or_used_again_still_works(sqlite_store: RecordStore) -> None:
    """As the engine reconnects after `dispose`, the threads start again at the next use."""
    stores = [sqlite_store, type(sqlite_store)(sqlite_store.engine)]  # as the tests' own stores are built
    first = stores[0].sqlite_thread
    assert first is not None
    assert stores[1].sqlite_thread is first
    await stores[1].close()
    await stores[1].close()
    assert first._writes._shutdown and first._reads._shutdown  # the threads end
    assert sqlite_store.sqlite_thread is not first
    request = request_for(fresh_project())
    assert await sqlite_store.record(request) == len(request.events)
    assert await sqlite_store.reminder_sent("never") is False


def test_an_in_memory_database_has_no_thread() -> None:
    """A second engine would open a second, empty database: the aiosqlite engine does the work itself."""
    assert RecordStore.from_url("sqlite+aiosqlite://").sqlite_thread is None
    assert RecordStore.from_url("sqlite+aiosqlite:///:memory:").sqlite_thread is None
