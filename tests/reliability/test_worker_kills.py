"""A demo path completes while the worker process is killed (SIGKILL) again and again, also while reminders go out.

The six steps of the implementation stage are submitted together and left undecided until the reviewers'
reminder went out for each (demo: 20 s after a submission). The SMTP sink holds every session a moment at
RCPT TO, before any data: a send is then in flight long enough for a kill to land inside it, and a kill there
leaves nothing delivered. While the reminders are awaited, the worker is killed as soon as a send is held
(else at a slow random cadence), until a kill is seen to cut a send: Temporal still shows it started by the
dead worker. Then the kills pause until the reminders are recorded, since each cut send waits for its 1 min
start-to-close timeout before its retry. Elsewhere the kills go on at a fast cadence, 20 at least.

Afterwards: every step approved exactly once, every stage completed once, no event lost or duplicated, at
least one send cut by a kill and retried, and every reminder exactly once in the records `reminders` table,
once among the project's REMINDER_SENT events and once among the messages the SMTP sink received.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import ACTIVITY_SEND_REMINDER, ACTIVITY_SEND_REMINDERS, ACTIVITY_SEND_REMINDERS_WITH_NEWS
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.mail.sink import OutboxHandler, OutboxSink
from labellisation.path.reminders import Kind, SendReminder, SendReminders
from labellisation.path.state import Event, EventKind
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import ReminderRow
from labellisation.settings import Settings
from tests.reliability.figures import report
from tests.support.demo_path import approve_stages, start_demo
from tests.support.driver import ProjectDriver
from tests.support.event_counts import lost_or_duplicated
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile
from tests.support.servers import start_dev_server

ROOT = Path(__file__).parents[2]
KILLS = 20
#: The activities that send reminders: one alone, or several to the same reader as one e-mail.
REMINDER_SENDS = {ACTIVITY_SEND_REMINDER, ACTIVITY_SEND_REMINDERS, ACTIVITY_SEND_REMINDERS_WITH_NEWS}
#: The stage whose steps wait, submitted, for their reviewers' reminders.
REMINDED_STAGE = "implementation"
REVIEW_KINDS = (Kind.REVIEW_PENDING,)
#: How long to wait for them after the last submission: 20 s of policy (demo), one send cut by a kill (its
#: 1 min start-to-close timeout, then a 5 s retry), and slack for a loaded machine.
REMINDER_WAIT = 150.0
#: How long the sink holds each SMTP session at RCPT TO: the window a kill aims at.
HOLD = 1.0
#: Kills that land while a send is held, at most, before the test gives up on seeing one cut.
MAX_AIMED_KILLS = 3
#: How often the killer looks for a held send.
POLL = 0.02


class HoldingOutbox(OutboxHandler):
    """The dev sink's handler, holding each session HOLD s at RCPT TO, and telling which sessions it holds."""

    def __init__(self, outbox: Path) -> None:
        super().__init__(outbox)
        self._held: set[int] = set()
        self._numbers = itertools.count(1)
        self._guard = threading.Lock()  # the sink runs in its own thread

    def held(self) -> set[int]:
        with self._guard:
            return set(self._held)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        number = next(self._numbers)
        with self._guard:
            self._held.add(number)
        try:
            await asyncio.sleep(HOLD)
        finally:
            with self._guard:
                self._held.discard(number)
        return "250 OK"


@pytest.fixture
def holding_mailbox(tmp_path: Path) -> Iterator[tuple[Mailbox, HoldingOutbox]]:
    outbox, port = tmp_path / "outbox", free_port()
    handler = HoldingOutbox(outbox)
    sink = OutboxSink(outbox, "127.0.0.1", port)
    sink.handler = handler
    sink.start()
    try:
        yield Mailbox(outbox, Settings(smtp_port=port, data_dir=tmp_path)), handler
    finally:
        sink.stop()


class WorkerProcess:
    """`python worker.py` as a separate process, so SIGKILL is a real crash."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0
        #: The Temporal identities of the killed processes (the SDK's default: pid@host).
        self.killed: set[str] = set()

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
        assert await self.process.wait() == -signal.SIGKILL
        self.kills += 1
        self.killed.add(f"{self.process.pid}@{socket.gethostname()}")
        await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


@pytest.fixture
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with await start_dev_server() as env:
        yield env


async def sends_cut(handle: WorkflowHandle[Any, Any], killed: set[str]) -> set[str]:
    """Activity ids of the reminder sends Temporal still shows started by a worker that was killed."""
    pending = (await handle.describe()).raw_description.pending_activities
    return {
        a.activity_id
        for a in pending
        if a.activity_type.name in REMINDER_SENDS
        and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        and a.last_worker_identity in killed
    }


@dataclass
class Chaos:
    worker: WorkerProcess
    sink: HoldingOutbox
    rng: random.Random
    handle: WorkflowHandle[Any, Any] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set while the review reminders are awaited.
    waiting: asyncio.Event = field(default_factory=asyncio.Event)
    waited: asyncio.Event = field(default_factory=asyncio.Event)
    #: Kills that landed while the sink held a send.
    aimed: int = 0
    #: The sends seen cut by a kill (activity ids), as Temporal showed them right after it.
    cut: set[str] = field(default_factory=set)

    async def run(self) -> None:
        """Fast kills (0.1–1 s after each start); while reminders are awaited, `_while_waiting`."""
        while not self.done.is_set() or self.worker.kills < KILLS:
            if self.waiting.is_set():
                await self._while_waiting()
            else:
                await asyncio.sleep(self.rng.uniform(0.1, 1.0))
                await self.worker.kill_and_restart()

    async def _while_waiting(self) -> None:
        """Kill as soon as the sink holds a send (else after 0.5–3 s) until a kill is seen to cut one; then wait.

        Gives up (raises) after MAX_AIMED_KILLS aimed kills without a cut send to show.
        """
        seen: set[int] = set()
        while self.waiting.is_set() and not self.cut:
            for _ in range(round(self.rng.uniform(0.5, 3.0) / POLL)):
                if self.sink.held() - seen or not self.waiting.is_set():
                    break
                await asyncio.sleep(POLL)
            held = self.sink.held() - seen
            if not self.waiting.is_set():
                return
            if held:
                self.aimed += 1
                seen |= self.sink.held()
            await self.worker.kill_and_restart()
            assert self.handle is not None
            self.cut |= await sends_cut(self.handle, self.worker.killed)
            if not self.cut and self.aimed >= MAX_AIMED_KILLS:
                raise AssertionError(f"{self.aimed} kills landed while the sink held a send, none cut a send")
        await self.waited.wait()  # a cut send retries after its 1 min timeout: no more kills meanwhile


async def sent_reminders(store: RecordStore, project_id: str) -> list[Event]:
    return [e for e in await store.history(project_id) if e.kind is EventKind.REMINDER_SENT]


async def await_review_reminders(
    project: ProjectDriver,
    project_id: str,
    store: RecordStore,
    steps: list[str],
    chaos: Chaos,
    killer: asyncio.Task[None],
) -> None:
    """Submit `steps`, leave them undecided until the review reminders of each are recorded, then approve them.

    Polls the records database, not the workflow: a query in flight when the worker dies fails.
    """
    chaos.waiting.set()
    for step in steps:
        await project.submit(step)
    expected = {(step, kind.value) for step in steps for kind in REVIEW_KINDS}
    deadline = time.monotonic() + REMINDER_WAIT
    while True:
        if killer.done():
            killer.result()  # the killer gave up: its AssertionError says why
        seen = {(e.step, e.data["kind"]) for e in await sent_reminders(store, project_id)}
        if expected <= seen:
            break
        assert time.monotonic() < deadline, (
            f"review reminders never recorded: {sorted(expected - seen)}; sends seen cut: {len(chaos.cut)}"
        )
        await asyncio.sleep(0.5)
    assert chaos.cut, f"the review reminders went out without a kill cutting a send ({chaos.aimed} aimed kills)"
    chaos.waiting.clear()
    chaos.waited.set()
    for step in steps:
        await project.decide(step, "approve", decision_id=f"kill-{step}")


def retried_sends(events: list[HistoryEvent]) -> dict[str, list[str]]:
    """Activity id -> reminder ids of each reminder send whose last attempt was not its first (a kill cut one); a
    send of several reminders as one e-mail (`send_reminders`) carries several.

    The history keeps only the last attempt of an activity, in its started event.
    """
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes
        for e in events
        if e.activity_task_scheduled_event_attributes.activity_type.name in REMINDER_SENDS
    }
    retried = {}
    for e in events:
        if not e.HasField("activity_task_started_event_attributes"):
            continue
        started = e.activity_task_started_event_attributes
        attributes = scheduled.get(started.scheduled_event_id)
        if attributes is not None and started.attempt > 1:
            payloads = list(attributes.input.payloads)
            if attributes.activity_type.name == ACTIVITY_SEND_REMINDER:
                (one,) = data_converter.payload_converter.from_payloads(payloads, [SendReminder])
                retried[attributes.activity_id] = [one.reminder.reminder_id]
            else:
                (several,) = data_converter.payload_converter.from_payloads(payloads, [SendReminders])
                retried[attributes.activity_id] = [r.reminder.reminder_id for r in several.requests]
    return retried


def carried(message: EmailMessage) -> list[str]:
    """The keys an e-mail carries: its reminder's or news', or each reminder of one listing several."""
    several = message["X-Labellisation-Reminder-Ids"]
    if several is not None:
        return ["".join(key.split()) for key in str(several).split(",")]
    return ["".join(str(message["X-Labellisation-Reminder-Id"]).split())]


async def test_a_path_survives_twenty_worker_kills(
    dev_server: WorkflowEnvironment, tmp_path: Path, holding_mailbox: tuple[Mailbox, HoldingOutbox]
) -> None:
    mailbox, sink = holding_mailbox
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
    chaos = Chaos(worker, sink, random.Random(2026))
    killer = asyncio.create_task(chaos.run())
    profile = make_profile()
    store = RecordStore.from_url(url)
    stages = load_process("demo").stages
    try:
        project = await start_demo(dev_server.client, profile)
        chaos.handle = project.handle
        began = time.monotonic()
        reminded = next(i for i, stage in enumerate(stages) if stage.id == REMINDED_STAGE)
        await approve_stages(project, stages[:reminded])
        print(f"\nworker kills: {REMINDED_STAGE} reached in {time.monotonic() - began:.0f} s, {worker.kills} kills")
        steps = [step.id for step in stages[reminded].steps]
        await await_review_reminders(project, profile.project_id, store, steps, chaos, killer)
        print(
            f"worker kills: reminders awaited until {time.monotonic() - began:.0f} s, {worker.kills} kills, "
            f"{chaos.aimed} aimed at a held send, {len(chaos.cut)} sends seen cut"
        )
        await approve_stages(project, stages[reminded + 1 :])
        print(f"worker kills: path walked in {time.monotonic() - began:.0f} s, {worker.kills} kills")
        chaos.done.set()
        await killer
        outcome = await project.handle.result()
        events = list((await project.handle.fetch_history()).events)
        history = await project.recorded(store)
        in_workflow = (await project.status(include_history=True)).history or []
        async with store.sessions() as session:
            query = select(ReminderRow.reminder_id).where(ReminderRow.project_id == profile.project_id)
            table_ids = list((await session.execute(query)).scalars())
    finally:
        chaos.done.set()
        killer.cancel()
        await worker.stop()
        await store.close()

    # A crash shows as a timed-out task; a failed one would mean our code broke (e.g. non-determinism).
    failures = [
        (e.workflow_task_failed_event_attributes.cause, e.workflow_task_failed_event_attributes.failure.message[:300])
        for e in events
        if e.HasField("workflow_task_failed_event_attributes")
    ]
    approved = Counter(e.step for e in history if e.kind is EventKind.STEP_APPROVED)
    every_step = Counter(step.id for stage in stages for step in stage.steps)
    kinds = Counter(e.kind for e in history)
    reminder_events = [e for e in history if e.kind is EventKind.REMINDER_SENT]
    recorded = Counter(e.data["reminder_id"] for e in reminder_events)
    every_row = Counter(table_ids)
    every_mail = Counter(key for m in mailbox.messages() for key in carried(m))
    # Reminders and news share the table and the header; news keys start with `news:`.
    in_table = Counter({k: n for k, n in every_row.items() if not k.startswith("news:")})
    delivered = Counter({k: n for k, n in every_mail.items() if not k.startswith("news:")})
    news_rows = Counter({k: n for k, n in every_row.items() if k.startswith("news:")})
    news_mails = Counter({k: n for k, n in every_mail.items() if k.startswith("news:")})
    news_once = {k for k in news_rows | news_mails if news_rows[k] == news_mails[k] == 1}
    once = {r for r in recorded | in_table | delivered if recorded[r] == in_table[r] == delivered[r] == 1}
    retried = retried_sends(events)
    lost = lost_or_duplicated(history, in_workflow)
    report("worker kills survived (SIGKILL)", worker.kills if outcome.state.value == "completed" else 0)
    report("worker kills: decisions recorded once each", sum(1 for step in every_step if approved[step] == 1))
    report("worker kills: reminders delivered once each", len(once))
    report("worker kills: news e-mails delivered once each", len(news_once))
    report(
        "worker kills: reminder sends cut by a kill, then sent once",
        sum(1 for ids in retried.values() if set(ids) <= once),
    )
    report("worker kills: events lost or duplicated", lost)

    assert worker.kills >= KILLS
    assert failures == []
    assert outcome.state.value == "completed"
    assert approved == every_step  # each step approved exactly once
    assert kinds[EventKind.STAGE_COMPLETED] == len(stages)
    assert kinds[EventKind.PROJECT_COMPLETED] == 1
    assert lost == 0
    assert {(step, kind.value) for step in steps for kind in REVIEW_KINDS} <= {
        (e.step, e.data["kind"]) for e in reminder_events
    }
    assert len(recorded) >= len(REVIEW_KINDS) * len(steps) >= 3
    # Each reminder: one row, one REMINDER_SENT event, one e-mail; none of them without the others.
    assert set(recorded) == set(in_table) == set(delivered) == once
    # Each news e-mail (submissions to the reviewers, decisions to the holder...): one row, one e-mail. How many there
    # are depends on the timing: news due with reminders rides in their e-mail, and news waiting while reminders go
    # out gathers the events of several commands (patch `news-mornings`).
    assert set(news_rows) == set(news_mails) == news_once
    assert {key.rsplit(":", 1)[1] for key in news_once} >= {"holder", "reviewers"}
    # Also while reminders go out: the sends seen cut right after a kill were retried, and went out once.
    assert chaos.cut, "no reminder send was cut by a kill"
    assert chaos.cut <= set(retried), (chaos.cut, retried)
    assert {key for ids in retried.values() for key in ids} <= once
