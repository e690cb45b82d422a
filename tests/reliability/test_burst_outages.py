"""The Monday burst (#20) survives an outage in the middle of it: the Temporal server killed, the records database cut.

N `fnep` projects (`LABELLISATION_BURST_PROJECTS`: 40 by default, 1,000 in `make reliability`) are started with
`bench.burst.burst_process(T)`: the holder's « échéance dans 1 heure » reminder of the opportunity study falls due
at the same instant T for all of them, a margin after the starts. The test's SMTP sink holds each burst e-mail a
moment after writing it (before its `250`), so that the burst lasts a few seconds whatever N, and some e-mails are
always in flight. Once some but not all of them are in the sink:

1. the Temporal dev server (on a SQLite file) is killed with SIGKILL, stays down DOWN seconds, and restarts on the
   same file and port; the worker (in this process) and the clients reconnect by themselves;
2. or the records database (PostgreSQL, reached by the worker through a `CuttableProxy`) is cut for CUT seconds
   and restored; the worker's activities retry per their retry policies (sends: 5 s doubling; records: 1 s
   doubling), and a send the SMTP server accepted writes its `reminders` row again until the database answers
   (`activities.notifications.RECORD_AFTER_SEND`, 40 s, longer than the cut), so that it is not sent again.

Then, as the README promises: every project's before_due reminder is in the `reminders` table once and once among
its REMINDER_SENT events (in the records database and in the workflow); it reached the sink exactly once, after a
server kill as after a records outage shorter than RECORD_AFTER_SEND (the doubles are a figure); every
project is running, answers its status query with the reminder sent, has its events recorded without a gap, and no
workflow task failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.smtp import Envelope
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from temporalio.client import Client, WorkflowExecutionStatus

from bench.burst import burst_process, burst_start, whole_second
from labellisation.contract import TASK_QUEUE, WORKFLOW_NAME, workflow_id
from labellisation.devstack import DevOptions, TemporalDevServer, free_port
from labellisation.mail.sender import ATTEMPT_HEADER
from labellisation.mail.sink import OutboxHandler, OutboxSink
from labellisation.path.reminders import Kind
from labellisation.path.state import Event, EventKind, ProjectState
from labellisation.path.status import ProjectStatus
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import EmailAttemptRow, EventRow, ReminderRow
from labellisation.settings import Settings
from tests.records import conftest as records_conftest
from tests.reliability.figures import report
from tests.reliability.test_server_kill import kill
from tests.reliability.test_worker_kills import carried
from tests.support.driver import ProjectDriver, running
from tests.support.event_counts import event_number, lost_or_duplicated
from tests.support.mailbox import Mailbox
from tests.support.proxy import CuttableProxy

#: A database of our own on the PostgreSQL server of the records tests (skipped, with its reason, where none
#: answers; an error with LABELLISATION_TEST_REQUIRE_POSTGRES=1).
postgres_url = records_conftest.postgres_url

PROJECTS = int(os.environ.get("LABELLISATION_BURST_PROJECTS", "40"))
#: The one step every burst reminder is about, and the reminder kind.
STEP = load_process("fnep").stages[0].steps[0].id
BURST_KIND = Kind.BEFORE_DUE.value
#: How long the Temporal server stays down, and the records database cut off.
DOWN = 5.0
CUT = 10.0
#: The burst is due this long after the starts begin: the starts, the first workflow tasks, the first records and
#: the news of the first stage, on a shared 2-core machine, about 0.1 s of worker time per project.
MARGIN = timedelta(seconds=8 + 0.12 * PROJECTS)
#: How long the sink holds each burst e-mail after writing it: the burst spreads over a few seconds (the worker
#: sends on at most 4 SMTP connections) and an outage always finds e-mails in flight.
HOLD = min(0.4, max(0.005, 16 / PROJECTS))
#: The outage begins once this many burst e-mails are in the sink.
TRIGGER = max(1, PROJECTS // 4)
#: Bounds: the burst seen beginning after T; everything recorded after the outage (a send whose completion the
#: server never got waits for its 1 min start-to-close timeout; a send cut by the database for its 5 s, 10 s,
#: 20 s backoff), with time for the worker to catch up on a loaded machine.
BURST_WAIT = 60 + 0.2 * PROJECTS
SETTLE_WAIT = 150 + 0.3 * PROJECTS
#: At most this many starts, queries, history fetches in flight.
CONCURRENCY = 50

T = TypeVar("T")


def burst_key(key: str) -> bool:
    """A burst reminder's key: `<project>:<step>:before_due:<anchor>`."""
    return f":{STEP}:{BURST_KIND}:" in key


class BurstOutbox(OutboxHandler):
    """The dev sink's handler; each burst e-mail is written, counted, then held HOLD s before its `250`."""

    def __init__(self, outbox: Path) -> None:
        super().__init__(outbox)
        self._burst = 0
        self._guard = threading.Lock()  # the sink runs in its own thread
        #: When each copy of each burst reminder arrived (monotonic clock).
        self.arrivals: dict[str, list[float]] = defaultdict(list)

    def burst(self) -> int:
        with self._guard:
            return self._burst

    def doubled(self, start: float, end: float) -> tuple[int, int]:
        """Reminders that arrived more than once: their first copy before `start`, and between `start` and `end`."""
        with self._guard:
            firsts = [times[0] for times in self.arrivals.values() if len(times) > 1]
        return sum(1 for t in firsts if t < start), sum(1 for t in firsts if start <= t <= end)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        headers = BytesHeaderParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        assert isinstance(headers, EmailMessage)
        keys = [key for key in carried(headers) if burst_key(key)]
        if keys:
            with self._guard:
                self._burst += 1
                for key in keys:
                    self.arrivals[key].append(time.monotonic())
            await asyncio.sleep(HOLD)
        return answer


@pytest.fixture
def burst_mailbox(tmp_path: Path) -> Iterator[tuple[Mailbox, BurstOutbox]]:
    outbox, port = tmp_path / "outbox", free_port()
    handler = BurstOutbox(outbox)
    sink = OutboxSink(outbox, "127.0.0.1", port)
    sink.handler = handler
    sink.start()
    try:
        yield Mailbox(outbox, Settings(smtp_port=port, data_dir=tmp_path)), handler
    finally:
        sink.stop()


@dataclass
class Temporal:
    """The dev server on a SQLite file of its own, and a client that outlives its restarts."""

    server: TemporalDevServer
    client: Client

    async def kill_and_restart(self) -> tuple[float, float]:
        """SIGKILL, DOWN s down, restart on the same file and port: (seconds down, seconds until it serves)."""
        killed = time.monotonic()
        await kill(self.server)
        await asyncio.sleep(DOWN)
        self.server = TemporalDevServer(self.server.options)
        down = time.monotonic() - killed
        await self.server.start()  # its own client is only the readiness probe
        return down, time.monotonic() - killed


@pytest.fixture
async def temporal(tmp_path: Path) -> AsyncIterator[Temporal]:
    options = DevOptions(data_dir=tmp_path / "temporal", temporal_port=free_port(), ui_port=free_port())
    server = TemporalDevServer(options)
    client = await server.start()
    running_server = Temporal(server, client)
    try:
        yield running_server
    finally:
        await running_server.server.stop()


async def gather_bounded(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


async def start_burst(client: Client, prefix: str) -> datetime:
    """Start PROJECTS projects whose burst reminder falls due at the instant returned."""
    at = whole_second(datetime.now(UTC) + MARGIN)
    process = burst_process(at)

    async def start(n: int) -> None:
        start, attributes = burst_start(n, process, prefix)
        await client.start_workflow(
            WORKFLOW_NAME, start, id=workflow_id(start.profile.project_id), task_queue=TASK_QUEUE,
            search_attributes=attributes,
        )  # fmt: skip

    began = time.monotonic()
    await gather_bounded([lambda n=n: start(n) for n in range(PROJECTS)])  # type: ignore[misc]
    print(
        f"\nburst: {PROJECTS} projects started in {time.monotonic() - began:.1f} s, "
        f"due in {(at - datetime.now(UTC)).total_seconds():.1f} s, each e-mail held {HOLD:.3f} s"
    )
    return at


async def until_some_out(sink: BurstOutbox, at: datetime) -> int:
    """Wait (bounded) until TRIGGER burst e-mails are in the sink; how many there are then."""
    deadline = time.monotonic() + max(0.0, (at - datetime.now(UTC)).total_seconds()) + BURST_WAIT
    while (count := sink.burst()) < TRIGGER:
        assert time.monotonic() < deadline, f"the burst never began: {count} e-mails of {PROJECTS} after {BURST_WAIT} s"
        await asyncio.sleep(0.01)
    assert count < PROJECTS, f"the burst was over ({count} e-mails) before the outage could begin"
    return count


async def recorded_counts(reader: RecordStore, prefix: str) -> tuple[int, int]:
    """Burst reminders in the `reminders` table, and REMINDER_SENT events about the step, of our projects."""
    mine = f"{prefix}-%"
    async with reader.sessions() as session:
        rows = await session.scalar(
            select(func.count()).where(
                ReminderRow.project_id.like(mine), ReminderRow.kind == BURST_KIND, ReminderRow.step == STEP
            )
        )
        events = await session.scalar(
            select(func.count()).where(
                EventRow.project_id.like(mine), EventRow.kind == EventKind.REMINDER_SENT.value, EventRow.step == STEP
            )
        )
    return int(rows or 0), int(events or 0)


async def until_recorded(reader: RecordStore, prefix: str) -> float:
    """Wait (bounded) until every project's burst reminder is in the table and its event recorded; how long."""
    began = time.monotonic()
    counts = (0, 0)
    while time.monotonic() - began < SETTLE_WAIT:
        with contextlib.suppress(OSError):
            counts = await recorded_counts(reader, prefix)
        if min(counts) >= PROJECTS:
            return time.monotonic() - began
        await asyncio.sleep(0.5)
    raise AssertionError(f"after {SETTLE_WAIT:.0f} s, of {PROJECTS} reminders: {counts[0]} rows, {counts[1]} events")


@dataclass
class Copy:
    message_id: str
    attempt: int


@dataclass
class Seen:
    """What one project left: rows, attempts, records, the workflow's own view, the e-mails."""

    project_id: str
    rows: list[ReminderRow] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    recorded: list[Event] = field(default_factory=list)
    status: ProjectStatus | None = None
    execution: WorkflowExecutionStatus | None = None
    failed_tasks: list[str] = field(default_factory=list)
    copies: dict[str, list[Copy]] = field(default_factory=lambda: defaultdict(list))


async def observe(client: Client, reader: RecordStore, mailbox: Mailbox, prefix: str) -> list[Seen]:
    seen = {f"{prefix}-{n:05d}": Seen(f"{prefix}-{n:05d}") for n in range(PROJECTS)}
    async with reader.sessions() as session:
        for row in await session.scalars(select(ReminderRow).where(ReminderRow.project_id.like(f"{prefix}-%"))):
            seen[row.project_id].rows.append(row)
        for intent in await session.scalars(
            select(EmailAttemptRow).where(EmailAttemptRow.project_id.like(f"{prefix}-%"))
        ):
            assert intent.project_id is not None
            seen[intent.project_id].attempts[intent.email_key] = intent.attempts
    for message in mailbox.messages():
        for key in carried(message):
            project_id = key.split(":", 1)[0]
            if project_id in seen:
                attempt = int(str(message[ATTEMPT_HEADER] or "1"))
                seen[project_id].copies[key].append(Copy(str(message["Message-ID"]).strip(), attempt))

    async def one(project: Seen) -> None:
        handle = client.get_workflow_handle(workflow_id(project.project_id))
        project.recorded = await reader.history(project.project_id)
        project.status = await ProjectDriver(handle).status(include_history=True)
        project.execution = (await handle.describe()).status
        project.failed_tasks = [
            str(e.workflow_task_failed_event_attributes.failure.message)[:200]
            for e in (await handle.fetch_history()).events
            if e.HasField("workflow_task_failed_event_attributes")
        ]

    await gather_bounded([lambda p=p: one(p) for p in seen.values()])  # type: ignore[misc]
    return list(seen.values())


def sent_events(events: list[Event]) -> list[str]:
    return [
        e.data["reminder_id"]
        for e in events
        if e.kind is EventKind.REMINDER_SENT and e.step == STEP and e.data["kind"] == BURST_KIND
    ]


def problems(project: Seen, copies_allowed: int) -> list[str]:
    """What is wrong with one project, each in a sentence naming what the records and the sink held."""
    out: list[str] = []
    rows = [r for r in project.rows if r.kind == BURST_KIND and r.step == STEP]
    keys = [r.reminder_id for r in rows]
    in_records = sent_events(project.recorded)
    status = project.status
    in_workflow = (status.history or []) if status is not None else []
    copies = {key: found for key, found in project.copies.items() if burst_key(key)}
    where = (
        f"{project.project_id}: rows {keys}, recorded events {in_records}, workflow events {sent_events(in_workflow)},"
        f" e-mails {dict(copies)}, attempts {project.attempts}"
    )
    if len(rows) != 1:
        out.append(f"{where}: {len(rows)} rows in the reminders table, not 1")
    if len(in_records) != 1 or in_records != keys:
        out.append(f"{where}: the recorded REMINDER_SENT events are not the row's reminder, once")
    if sent_events(in_workflow) != keys:
        out.append(f"{where}: the workflow's REMINDER_SENT events are not the row's reminder, once")
    if set(copies) != set(keys):
        out.append(f"{where}: the sink's e-mails are not the row's reminder")
    for key, found in copies.items():
        row = next((r for r in rows if r.reminder_id == key), None)
        if not 1 <= len(found) <= copies_allowed:
            out.append(f"{where}: {len(found)} copies of {key} (at most {copies_allowed})")
        if row is not None and {c.message_id for c in found} != {row.message_id.strip()}:
            out.append(f"{where}: a copy's Message-ID is not the row's {row.message_id}")
        attempts = sorted(c.attempt for c in found)
        if len(set(attempts)) != len(attempts) or (len(found) > 1 and attempts[-1] < 2):
            out.append(f"{where}: copies of {key} not marked as successive attempts: {attempts}")
        if attempts and project.attempts.get(key, 0) < attempts[-1]:
            out.append(f"{where}: email_attempts counts fewer attempts than the sink saw")
    if status is None or status.state is not ProjectState.ACTIVE:
        out.append(f"{where}: status {status.state if status else None}, not active")
    elif any(r.kind == BURST_KIND and r.step == STEP for r in status.upcoming_reminders):
        out.append(f"{where}: the status still shows the reminder to come")
    if project.execution is not WorkflowExecutionStatus.RUNNING:
        out.append(f"{where}: the workflow is {project.execution}, not running")
    if project.failed_tasks:
        out.append(f"{where}: workflow tasks failed: {project.failed_tasks}")
    numbers = [event_number(e) for e in project.recorded]
    if lost_or_duplicated(project.recorded, in_workflow) or numbers != list(range(1, len(numbers) + 1)):
        out.append(f"{where}: recorded events {numbers[:5]}…{numbers[-5:]} against {len(in_workflow)} in the workflow")
    return out


def tally(label: str, projects: list[Seen], copies_allowed: int, outage: str, wall: float) -> list[str]:
    """Report the figures of one run and return every problem found."""
    found = [p for project in projects for p in problems(project, copies_allowed)]
    burst_copies = Counter({key: len(c) for project in projects for key, c in project.copies.items() if burst_key(key)})
    rows = sum(1 for p in projects for r in p.rows if r.kind == BURST_KIND and r.step == STEP)
    lost = sum(
        1
        for p in projects
        if not any(r.kind == BURST_KIND and r.step == STEP for r in p.rows)
        or not sent_events(p.recorded)
        or not any(burst_key(key) for key in p.copies)
    )
    events = sum(lost_or_duplicated(p.recorded, (p.status.history or []) if p.status else []) for p in projects)
    report(f"burst, {label}: projects", len(projects))
    report(
        f"burst, {label}: reminders recorded (rows, events)",
        f"{rows}, {sum(len(sent_events(p.recorded)) for p in projects)}",
    )
    report(f"burst, {label}: e-mails in the sink", sum(burst_copies.values()))
    report(
        f"burst, {label}: doubles (second copy, same Message-ID, attempt 2)", sum(n - 1 for n in burst_copies.values())
    )
    report(f"burst, {label}: lost", lost)
    report(f"burst, {label}: events lost or duplicated", events)
    report(f"burst, {label}: outage", outage)
    report(f"burst, {label}: wall time", f"{wall:.0f} s")
    return found


@pytest.mark.timeout(240 + 0.8 * PROJECTS)
async def test_a_burst_survives_a_killed_temporal_server(
    temporal: Temporal, tmp_path: Path, burst_mailbox: tuple[Mailbox, BurstOutbox]
) -> None:
    began = time.monotonic()
    mailbox, sink = burst_mailbox
    url = f"sqlite+aiosqlite:///{tmp_path}/records.db"
    await asyncio.to_thread(upgrade, url)
    store = RecordStore.from_url(url)
    prefix = f"panne{uuid.uuid4().hex[:6]}"
    try:
        async with running(temporal.client, TASK_QUEUE, store, mailbox.settings):
            at = await start_burst(temporal.client, prefix)
            out = await until_some_out(sink, at)
            down, serving = await temporal.kill_and_restart()
            print(f"burst: server killed with {out} of {PROJECTS} e-mails out, down {down:.1f} s, back {serving:.1f} s")
            settled = await until_recorded(store, prefix)
            print(f"burst: every reminder recorded {settled:.0f} s after the restart")
            projects = await observe(temporal.client, store, mailbox, prefix)
    finally:
        await store.close()
    outage = f"{down:.1f} s down, serving again {serving:.1f} s after the kill; all recorded {settled:.0f} s later"
    found = tally("Temporal server killed", projects, 1, outage, time.monotonic() - began)
    assert found == [], "\n".join(found[:20])


@pytest.mark.timeout(240 + 0.8 * PROJECTS)
async def test_a_burst_survives_a_records_database_outage(
    temporal: Temporal, postgres_url: str, burst_mailbox: tuple[Mailbox, BurstOutbox]
) -> None:
    began = time.monotonic()
    mailbox, sink = burst_mailbox
    await asyncio.to_thread(upgrade, postgres_url)
    server = make_url(postgres_url)  # LABELLISATION_TEST_POSTGRES_URL's server, or 127.0.0.1:5432
    proxy = CuttableProxy(server.port or 5432, server.host or "127.0.0.1")
    await proxy.start()
    store = RecordStore.from_url(server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    reader = RecordStore.from_url(postgres_url)  # straight to the server, not through the proxy
    prefix = f"coupure{uuid.uuid4().hex[:6]}"
    try:
        async with running(temporal.client, TASK_QUEUE, store, mailbox.settings):
            at = await start_burst(temporal.client, prefix)
            out = await until_some_out(sink, at)
            cut = time.monotonic()
            await proxy.cut()
            await asyncio.sleep(CUT)
            await proxy.restore()
            restored = time.monotonic()
            length = restored - cut
            print(f"burst: records database cut with {out} of {PROJECTS} e-mails out, for {length:.1f} s")
            settled = await until_recorded(reader, prefix)
            print(f"burst: every reminder recorded {settled:.0f} s after the restore")
            projects = await observe(temporal.client, reader, mailbox, prefix)
    finally:
        await proxy.cut()
        await store.close()
        await reader.close()
    # A send whose intent was written before the cut cannot write its row while the cut lasts, whether its SMTP
    # exchange ended before the cut or ran during it: it writes the row again until the database is back, rather
    # than failing into a retry that would send it again (they were 11 to 19 of 40 doubles before).
    before, during = sink.doubled(cut, restored)
    report("burst, records database cut: doubles, first copy before the cut, during it", f"{before}, {during}")
    outage = f"{length:.1f} s cut; all recorded {settled:.0f} s after the restore"
    found = tally("records database cut", projects, 1, outage, time.monotonic() - began)
    assert found == [], "\n".join(found[:20])
