"""Shared fixtures: a real time-skipping Temporal test server from PyPI.

One server per test: the server stops skipping time while any workflow has a
task no worker will pick up, so workflows left by another test would stall it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.mail.sink import start_sink
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.search_attributes import register_search_attributes
from labellisation.settings import Settings
from labellisation.temporal import time_skipping_server_binary
from tests.support.mailbox import Mailbox
from tests.support.office_hours import chosen_start, skip_to_office_hours


def pytest_configure(config: pytest.Config) -> None:
    """A wrong LABELLISATION_TEST_START_DATE stops the run once, before any test, with the reason."""
    try:
        chosen_start(datetime.now(UTC))
    except ValueError as wrong:
        raise pytest.UsageError(str(wrong)) from None


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(time_skipping_server_binary()), data_converter=data_converter
    )
    await register_search_attributes(env.client)
    # Every test starts at 10:00 Paris on a working day, whatever the hour CI runs at: news found outside office
    # hours waits for the next working morning (#17 item 3). Tests of other hours skip there themselves.
    await skip_to_office_hours(env)
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def client(time_skipping_env: WorkflowEnvironment) -> Client:
    return time_skipping_env.client


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[RecordStore]:
    url = f"sqlite+aiosqlite:///{tmp_path}/records.db"
    await asyncio.to_thread(upgrade, url)
    store = RecordStore.from_url(url)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    port = free_port()
    sink = start_sink(tmp_path / "outbox", port)
    settings = Settings(smtp_port=port, data_dir=tmp_path, public_base_url="https://suivi.fnep.fr")
    try:
        yield Mailbox(tmp_path / "outbox", settings)
    finally:
        sink.stop()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
