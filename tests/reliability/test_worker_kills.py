"""A demo path completes while the worker process is killed (SIGKILL) again and again.

Afterwards every decision is there, every stage completed once, and every
reminder recorded once and delivered once to the test SMTP server.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import SEARCH_ATTRIBUTES
from labellisation.converter import data_converter
from labellisation.path.state import EventKind
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.temporal import dev_server_binary
from tests.conftest import Mailbox, make_profile
from tests.reliability.demo_path import approve_stages, start_demo
from tests.reliability.figures import report

ROOT = Path(__file__).parents[2]
KILLS = 20


class WorkerProcess:
    """`python worker.py` as a separate process, so SIGKILL is a real crash."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        """Start, and return once the worker says it polls (a kill before that tests nothing)."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "worker.py"), env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.process.stderr is not None
        while line := await asyncio.wait_for(self.process.stderr.readline(), 60):
            if b"worker started" in line:
                break
        self._drain = asyncio.create_task(self._discard(self.process.stderr))

    @staticmethod
    async def _discard(stream: asyncio.StreamReader) -> None:
        while await stream.readline():
            pass

    async def kill_and_restart(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1
        await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
    )  # fmt: skip
    try:
        yield env
    finally:
        await env.shutdown()


async def killer(worker: WorkerProcess, done: asyncio.Event, rng: random.Random) -> None:
    while not done.is_set() or worker.kills < KILLS:
        await asyncio.sleep(rng.uniform(0.1, 1.0))
        await worker.kill_and_restart()


async def test_a_path_survives_twenty_worker_kills(dev_server: WorkflowEnvironment, tmp_path: Path,
                                                   mailbox: Mailbox) -> None:  # fmt: skip
    url = f"sqlite+aiosqlite:///{tmp_path}/records.db"
    await asyncio.to_thread(upgrade, url)
    env = {
        **os.environ,
        "LABELLISATION_TEMPORAL_ADDRESS": dev_server.client.service_client.config.target_host,
        "LABELLISATION_DATABASE_URL": url,
        "LABELLISATION_SMTP_PORT": str(mailbox.settings.smtp_port),
        "LABELLISATION_TASK_QUEUE": "labellisation",
        # No sticky cache: a killed worker's workflows move to the next one at once.
        "LABELLISATION_MAX_CACHED_WORKFLOWS": "0",
        "LABELLISATION_LOG_FORMAT": "json",
    }
    worker = WorkerProcess(env)
    await worker.start()
    done = asyncio.Event()
    chaos = asyncio.create_task(killer(worker, done, random.Random(2026)))
    profile = make_profile()
    try:
        project = await start_demo(dev_server.client, profile)
        # Submissions wait a little before their decision: reviewers get reminded.
        await approve_stages(project, load_process("demo").stages, pause=0.3)
        done.set()
        await chaos
        outcome = await project.handle.result()
        failures = [
            e.workflow_task_failed_event_attributes
            for e in (await project.handle.fetch_history()).events
            if e.HasField("workflow_task_failed_event_attributes")
        ]
        store = RecordStore.from_url(url)
        history = await project.recorded(store)
        reminder_rows = [e for e in history if e.kind is EventKind.REMINDER_SENT]
        sent_ids = [await store.reminder_sent(e.data["reminder_id"]) for e in reminder_rows]
        await store.close()
    finally:
        done.set()
        chaos.cancel()
        await worker.stop()

    assert worker.kills >= KILLS
    # A crash shows as a timed-out task; a failed one would mean our code broke (e.g. non-determinism).
    assert [(f.cause, f.failure.message[:300]) for f in failures] == []
    assert outcome.state.value == "completed"
    kinds = Counter(e.kind for e in history)
    assert kinds[EventKind.STEP_APPROVED] == 13
    assert kinds[EventKind.STAGE_COMPLETED] == len(load_process("demo").stages)
    assert kinds[EventKind.PROJECT_COMPLETED] == 1
    assert len({e.event_id for e in history}) == len(history)
    assert all(sent_ids)
    delivered = Counter("".join(str(m["X-Labellisation-Reminder-Id"]).split()) for m in mailbox.messages())
    recorded = Counter(e.data["reminder_id"] for e in reminder_rows)
    assert delivered == recorded
    assert set(delivered.values()) <= {1}
    report("worker kills survived (SIGKILL)", worker.kills)
    report("worker kills: decisions recorded once each", kinds[EventKind.STEP_APPROVED])
    report("worker kills: reminders delivered once each", len(recorded))
    report("worker kills: events lost or duplicated", 0)
