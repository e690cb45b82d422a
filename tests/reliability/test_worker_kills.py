"""A demo path completes while the worker process is killed (SIGKILL) again and again.

The six steps of the implementation stage are submitted together and left
undecided until the reviewers' reminder went out for each (demo: 20 s after a
submission), kills going on all the while (at a slower cadence), so
kills can land during reminder sends too. Afterwards every decision is there,
every stage completed once, and every reminder appears exactly once in the
records `reminders` table, once among the project's REMINDER_SENT events and
once among the messages the test SMTP server received.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import SEARCH_ATTRIBUTES
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.path.reminders import ACTIVITY_SEND_REMINDER, Kind
from labellisation.path.state import Event, EventKind
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import ReminderRow
from labellisation.temporal import dev_server_binary
from tests.reliability.figures import report
from tests.support.demo_path import approve_stages, start_demo
from tests.support.driver import ProjectDriver
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

ROOT = Path(__file__).parents[2]
KILLS = 20
#: The stage whose steps wait, submitted, for their reviewers' reminders.
REMINDED_STAGE = "implementation"
REVIEW_KINDS = (Kind.REVIEW_PENDING,)
#: How long to wait for them after the last submission: 20 s of policy (demo), plus one send cut by a kill
#: (its 1 min start-to-close timeout, then a 5 s retry) and slack for a loaded machine. Escalations too
#: (40 s) made the test last 2–4.5 min on a loaded 2-core machine: sends go out one at a time.
REMINDER_WAIT = 120.0


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
        dev_server_existing_path=str(dev_server_binary()), port=free_port(), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
    )  # fmt: skip
    try:
        yield env
    finally:
        await env.shutdown()


async def killer(worker: WorkerProcess, done: asyncio.Event, waiting: asyncio.Event, rng: random.Random) -> None:
    """Kill 0.1–1 s after each start; while reminders are awaited, 0.5–3 s, so some go out between kills.

    A send cut by a kill is retried only after its 1 min start-to-close timeout, and reminders go out
    one at a time: at the fast cadence nearly every send would be cut and the wait would never end.
    """
    while not done.is_set() or worker.kills < KILLS:
        await asyncio.sleep(rng.uniform(0.5, 3.0) if waiting.is_set() else rng.uniform(0.1, 1.0))
        await worker.kill_and_restart()


async def sent_reminders(store: RecordStore, project_id: str) -> list[Event]:
    return [e for e in await store.history(project_id) if e.kind is EventKind.REMINDER_SENT]


async def await_review_reminders(
    project: ProjectDriver, project_id: str, store: RecordStore, steps: list[str], waiting: asyncio.Event
) -> None:
    """Submit `steps`, leave them undecided until the review reminders of each are recorded, then approve them.

    Polls the records database, not the workflow: a query in flight when the worker dies fails.
    """
    waiting.set()
    for step in steps:
        await project.submit(step)
    expected = {(step, kind.value) for step in steps for kind in REVIEW_KINDS}
    deadline = time.monotonic() + REMINDER_WAIT
    while True:
        seen = {(e.step, e.data["kind"]) for e in await sent_reminders(store, project_id)}
        if expected <= seen:
            break
        assert time.monotonic() < deadline, f"review reminders never recorded: {sorted(expected - seen)}"
        await asyncio.sleep(0.5)
    waiting.clear()
    for step in steps:
        await project.decide(step, "approve", decision_id=f"kill-{step}")


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
    done, waiting = asyncio.Event(), asyncio.Event()
    chaos = asyncio.create_task(killer(worker, done, waiting, random.Random(2026)))
    profile = make_profile()
    store = RecordStore.from_url(url)
    try:
        project = await start_demo(dev_server.client, profile)
        began = time.monotonic()
        stages = load_process("demo").stages
        reminded = next(i for i, stage in enumerate(stages) if stage.id == REMINDED_STAGE)
        await approve_stages(project, stages[:reminded])
        print(f"\nworker kills: {REMINDED_STAGE} reached in {time.monotonic() - began:.0f} s, {worker.kills} kills")
        steps = [step.id for step in stages[reminded].steps]
        await await_review_reminders(project, profile.project_id, store, steps, waiting)
        print(f"\nworker kills: reminders awaited until {time.monotonic() - began:.0f} s, {worker.kills} kills")
        await approve_stages(project, stages[reminded + 1 :])
        print(f"worker kills: path walked in {time.monotonic() - began:.0f} s, {worker.kills} kills")
        done.set()
        await chaos
        outcome = await project.handle.result()
        events = (await project.handle.fetch_history()).events
        failures = [
            e.workflow_task_failed_event_attributes
            for e in events
            if e.HasField("workflow_task_failed_event_attributes")
        ]
        sends = {
            e.event_id
            for e in events
            if e.activity_task_scheduled_event_attributes.activity_type.name == ACTIVITY_SEND_REMINDER
        }
        # A send cut by a kill shows as a later attempt (the history keeps only the last one).
        cut_sends = sum(
            1
            for e in events
            if e.activity_task_started_event_attributes.scheduled_event_id in sends
            and e.activity_task_started_event_attributes.attempt > 1
        )
        history = await project.recorded(store)
        async with store.sessions() as session:
            query = select(ReminderRow.reminder_id).where(ReminderRow.project_id == profile.project_id)
            table_ids = list((await session.execute(query)).scalars())
    finally:
        done.set()
        chaos.cancel()
        await worker.stop()
        await store.close()

    assert worker.kills >= KILLS
    # A crash shows as a timed-out task; a failed one would mean our code broke (e.g. non-determinism).
    assert [(f.cause, f.failure.message[:300]) for f in failures] == []
    assert outcome.state.value == "completed"
    kinds = Counter(e.kind for e in history)
    assert kinds[EventKind.STEP_APPROVED] == 13
    assert kinds[EventKind.STAGE_COMPLETED] == len(load_process("demo").stages)
    assert kinds[EventKind.PROJECT_COMPLETED] == 1
    assert len({e.event_id for e in history}) == len(history)
    reminder_events = [e for e in history if e.kind is EventKind.REMINDER_SENT]
    recorded = Counter(e.data["reminder_id"] for e in reminder_events)
    in_table = Counter(table_ids)
    delivered = Counter("".join(str(m["X-Labellisation-Reminder-Id"]).split()) for m in mailbox.messages())
    assert {(step, kind.value) for step in steps for kind in REVIEW_KINDS} <= {
        (e.step, e.data["kind"]) for e in reminder_events
    }
    assert len(recorded) >= len(REVIEW_KINDS) * len(steps) >= 3
    # Each reminder: one row, one REMINDER_SENT event, one e-mail; none of them without the others.
    assert set(recorded.values()) == set(in_table.values()) == set(delivered.values()) == {1}
    assert set(recorded) == set(in_table) == set(delivered)
    report("worker kills survived (SIGKILL)", worker.kills)
    report("worker kills: decisions recorded once each", kinds[EventKind.STEP_APPROVED])
    report("worker kills: reminders delivered once each", len(recorded))
    report("worker kills: reminder sends cut by a kill, then sent once", cut_sends)
    report("worker kills: events lost or duplicated", 0)
