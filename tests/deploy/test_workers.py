"""Several workers share a task queue; a worker serves Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.testing import WorkflowEnvironment

from labellisation.api.commands import COMMAND_DEADLINE
from labellisation.contract import QUERY_STATUS
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.path.status import ProjectStatus, StatusRequest
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.temporal import connect
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile
from tests.support.servers import start_dev_server

ROOT = Path(__file__).parents[2]


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The real dev server: sticky queues of a stopped worker fall back as in production."""
    async with await start_dev_server() as env:
        yield env


def task_identities(events: Sequence[HistoryEvent], since: int = 0) -> list[tuple[str, str]]:
    """(kind, worker identity) of every workflow task and activity task completed, in history order; with `since`
    (an event id), only the workflow tasks completed after it and the activities scheduled after it (an activity
    scheduled before may be completed by the worker that stops, during its shutdown).

    Completed, not started: the start of a workflow task the server made for an update carries no identity.
    """
    completed = []
    for event in events:
        if event.HasField("workflow_task_completed_event_attributes") and event.event_id > since:
            completed.append(("workflow", event.workflow_task_completed_event_attributes.identity))
        elif event.HasField("activity_task_completed_event_attributes"):
            attributes = event.activity_task_completed_event_attributes
            if attributes.scheduled_event_id > since:
                completed.append(("activity", attributes.identity))
    return completed


async def test_two_workers_share_the_queue_and_a_path_completes_when_one_stops_midway(
    dev_server: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    """Midway, the worker that ran the project's last workflow task (it holds it in its cache) stops; the other
    takes the project over and ends the path. The histories' task identities show both did work."""
    target = dev_server.client.service_client.config.target_host
    # A second worker process would have its own client; distinct identities tell whose task is whose.
    clients = {
        name: await Client.connect(target, data_converter=data_converter, identity=name)
        for name in ("worker-1", "worker-2")
    }
    workers = {name: running(client, task_queue, sqlite_store, mailbox.settings) for name, client in clients.items()}
    runs = {name: asyncio.create_task(worker.run()) for name, worker in workers.items()}
    project = await ProjectDriver.start(clients["worker-1"], task_queue, make_profile(), process="demo")
    stages = load_process("demo").stages
    await approve_stages(project, stages[:3])
    so_far = task_identities((await project.handle.fetch_history()).events)
    stopped = next(identity for kind, identity in reversed(so_far) if kind == "workflow")
    (other,) = set(workers) - {stopped}
    await workers[stopped].shutdown()  # graceful: its running tasks finish, nothing is lost
    assert runs[stopped].done()
    # Read once it stopped: tasks it was running may end during the shutdown.
    before = len((await project.handle.fetch_history()).events)  # event ids count from 1: the last one's id
    try:
        await asyncio.wait_for(approve_stages(project, stages[3:]), 60)
        outcome = await asyncio.wait_for(project.handle.result(), 30)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):  # the latter: an update cut by the timeout
        await workers[other].shutdown()
        raise AssertionError(f"{other} never took the project over once {stopped} stopped") from None
    history = await project.recorded(sqlite_store)
    after = task_identities((await project.handle.fetch_history()).events, since=before)
    await workers[other].shutdown()
    await asyncio.gather(*runs.values())
    assert outcome.state.value == "completed"
    ids = [e.event_id for e in history]
    assert len(ids) == len(set(ids)) and history[-1].kind.value == "project_completed"
    # Both did work: the stopped one the project's workflow tasks up to its stop, the other every task after it.
    assert after and {identity for _, identity in after} == {other}, after
    assert ("workflow", other) in after and ("activity", other) in after, after


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
    first = json.loads(await asyncio.wait_for(process.stderr.readline(), 60))
    started = json.loads(await asyncio.wait_for(process.stderr.readline(), 60))
    # on a new server the worker first creates « Votre point du jour »'s schedule
    assert (first["event"], first["schedule_id"]) == ("schedule created", "point-du-jour")
    assert started["event"] == "worker started"
    # Let its pollers start: the test is about stopping a running worker. It once exited -6 in one run of five,
    # aborted while the interpreter finalized (worker.py, `exit_before_finalization`).
    await asyncio.sleep(1)
    process.send_signal(signal.SIGTERM)
    rest = await asyncio.wait_for(process.stderr.read(), 60)
    assert await process.wait() == 0, rest.decode()[-3000:]
    events = [json.loads(line)["event"] for line in rest.decode().splitlines() if line.startswith("{")]
    assert events[-1] == "worker stopped"


async def test_a_status_read_is_answered_within_the_api_deadline_after_the_worker_holding_it_was_killed(
    dev_server: WorkflowEnvironment, tmp_path: Path
) -> None:
    """A killed worker's cached projects: the server gives their tasks to the new worker before the API's deadline."""
    target = dev_server.client.service_client.config.target_host
    env = {**os.environ, "LABELLISATION_TEMPORAL_ADDRESS": target, "LABELLISATION_DATA_DIR": str(tmp_path),
           "LABELLISATION_LOG_FORMAT": "json"}  # fmt: skip
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{tmp_path}/records.db")
    client = await Client.connect(target, data_converter=data_converter)

    async def worker() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "worker.py"), env=env, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        while json.loads(await asyncio.wait_for(process.stderr.readline(), 60))["event"] != "worker started":
            pass
        return process

    first = await worker()
    profile = make_profile()
    project = await ProjectDriver.start(client, "labellisation", profile, process="demo")
    await project.status()  # answered by the first worker: the project is in its cache, on its sticky queue
    first.send_signal(signal.SIGKILL)
    await first.wait()
    second = await worker()
    try:
        status = await project.handle.query(
            QUERY_STATUS, StatusRequest(), result_type=ProjectStatus, rpc_timeout=COMMAND_DEADLINE
        )
        assert status.project_id == profile.project_id
    finally:
        second.send_signal(signal.SIGKILL)
        await second.wait()
