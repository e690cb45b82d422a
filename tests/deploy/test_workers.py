"""Several workers share a task queue; a worker serves Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import SEARCH_ATTRIBUTES
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.temporal import connect, dev_server_binary
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

ROOT = Path(__file__).parents[2]


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server: sticky queues of a stopped worker fall back as in production."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()),
        port=free_port(),
        data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_two_workers_share_the_queue_and_a_path_completes_when_one_stops_midway(
    dev_server: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    client = dev_server.client
    other = await connect(client.service_client.config.target_host)  # a second worker process would have its own
    first = running(client, task_queue, sqlite_store, mailbox.settings)
    second = running(other, task_queue, sqlite_store, mailbox.settings)
    runs = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    project = await ProjectDriver.start(client, task_queue, make_profile(), process="demo")
    stages = load_process("demo").stages
    for stage in stages[:3]:
        for step in stage.steps:
            await project.pass_step(step.id)
    await first.shutdown()  # graceful: its running tasks finish, nothing is lost
    assert runs[0].done()
    for stage in stages[3:]:
        if stage.id == "seeding":
            from labellisation.contract import Update
            from labellisation.path.commands import RecordCohort
            from labellisation.path.state import Cohort

            cohort = Cohort(label="c1", enrolled=10, dropouts=0, presented=10, passed=9, positive_exits=9, job_offers=9)
            await project.update(Update.RECORD_COHORT, RecordCohort(actor="d", cohort=cohort))
        for step in stage.steps:
            await project.pass_step(step.id)
    outcome = await project.handle.result()
    history = await project.recorded(sqlite_store)
    await second.shutdown()
    await asyncio.gather(*runs)
    assert outcome.state.value == "completed"
    ids = [e.event_id for e in history]
    assert len(ids) == len(set(ids)) and history[-1].kind.value == "project_completed"


async def test_the_worker_serves_sdk_and_product_metrics(
    time_skipping_env: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    port = free_port()
    target = time_skipping_env.client.service_client.config.target_host
    client = await connect(target, metrics_port=port)
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile(), process="demo")
        await project.submit("opportunity_study")
        await time_skipping_env.sleep(timedelta(seconds=30))  # the reviewers' reminder (20 s in demo)
        await project.recorded(sqlite_store)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    assert "temporal_workflow_task_execution_latency" in text or "temporal_request" in text
    assert "labellisation_events_recorded" in text
    assert "labellisation_reminders_sent{" in text and 'kind="review_pending"' in text


async def test_worker_process_stops_cleanly_on_sigterm(dev_server: WorkflowEnvironment, tmp_path: Path) -> None:
    """`python worker.py` as compose runs it: SIGTERM lets running tasks finish, then exit 0."""
    target = dev_server.client.service_client.config.target_host
    env = {**os.environ, "LABELLISATION_TEMPORAL_ADDRESS": target, "LABELLISATION_DATA_DIR": str(tmp_path),
           "LABELLISATION_LOG_FORMAT": "json"}  # fmt: skip
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{tmp_path}/records.db")
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "worker.py"), env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    started = await asyncio.wait_for(process.stderr.readline(), 60)
    assert json.loads(started)["event"] == "worker started"
    process.send_signal(signal.SIGTERM)
    rest = await asyncio.wait_for(process.stderr.read(), 60)
    assert await process.wait() == 0
    events = [json.loads(line)["event"] for line in rest.decode().splitlines() if line.startswith("{")]
    assert events[-1] == "worker stopped"
