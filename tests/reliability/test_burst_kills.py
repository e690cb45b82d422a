"""The Monday burst (#20) while the worker processes are killed (SIGKILL) again and again, two workers on one queue.

PROJECTS `fnep` projects (env LABELLISATION_BURST_PROJECTS, 40 by default, 1000 in `make reliability`) are started
with `bench/burst.py`'s process: each sends its news e-mail at its start, then exactly one reminder, the holder's
`before_due` of the opportunity study, due at the same instant T for all of them, a margin after the starts. Two
`python worker.py` processes poll the same task queue. From a little before T, KILLS SIGKILLs (env
LABELLISATION_BURST_KILLS, 6 by default, 100 in `make reliability`) alternate between the two workers, each killed
worker restarted before the other is killed: one of them always polls. The SMTP sink holds every session a moment
before any data (test_worker_kills' `HoldingOutbox`), so the burst lasts long enough for the kills to land in it
and cut sends in flight; a cut send is retried only after its start-to-close timeout (1 min), with backoff.

Afterwards, as the README's *Sent once* promises: every project's reminder is recorded exactly once in the records
`reminders` table, once among its REMINDER_SENT events (records database and the workflow's own), and reached the
SMTP sink at least once; another copy only from an attempt that a kill cut between the SMTP acceptance and the row
(each copy its own attempt, `X-Labellisation-Attempt`, a kill within that attempt's timeout): twice after one such
kill, three times after two, counted as figures. News e-mails: the same, by key. Every project
still runs, answers its status query with the reminder sent and nothing due, no event lost or duplicated between
the workflow and the records, and no workflow task failed for good (one failed and not followed by a completed one).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from bench.burst import burst_process, burst_start, whole_second
from labellisation.contract import QUERY_STATUS, TASK_QUEUE, WORKFLOW_NAME, workflow_id
from labellisation.mail.sender import ATTEMPT_HEADER
from labellisation.path.reminders import Kind
from labellisation.path.state import Event, EventKind
from labellisation.path.status import ProjectStatus, StatusRequest
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import EmailAttemptRow, ReminderRow
from tests.reliability import test_worker_kills
from tests.reliability.figures import report
from tests.reliability.test_worker_kills import (  # noqa: F401 (dev_server, holding_mailbox: fixtures)
    HoldingOutbox,
    WorkerProcess,
    carried,
    dev_server,
    holding_mailbox,
    retried_sends,
)
from tests.support.event_counts import lost_or_duplicated
from tests.support.mailbox import Mailbox
from workflows.reminder_sender import SEND_RETRIES, SEND_TIMEOUT

PROJECTS = int(os.environ.get("LABELLISATION_BURST_PROJECTS", "40"))
KILLS = int(os.environ.get("LABELLISATION_BURST_KILLS", "6"))
PREFIX = "rafale"
#: The kills begin this long before the burst falls due.
LEAD = 3.0
#: Between a restarted worker polling again and the next kill (of the other worker), seconds.
PAUSE = (0.3, 1.5)
#: Starts in flight at once.
CONCURRENCY = 50
#: Project reads (describe, history, query, records) in flight at once for the checks.
READS = 16
#: One worker's SMTP connections (labellisation/mail/pool.py), each holding its session HOLD s in the sink.
CONNECTIONS = 4
#: Slack on every bound, for a loaded shared machine.
SLACK = 60.0

T = TypeVar("T")


def burst_instant(now: datetime) -> datetime:
    """The burst falls due a margin after the starts: time for the workers and PROJECTS starts (a few per 100 ms
    on a loaded machine), then a few seconds."""
    return whole_second(now + timedelta(seconds=6 + 0.06 * PROJECTS))


def longest_retry_wait(window: float) -> float:
    """How long after the last kill a send cut by it may wait for its next attempt: its start-to-close timeout, then
    the retry's backoff, which doubles with each attempt cut before (as many as fit in the kill window)."""
    timeout = SEND_TIMEOUT.total_seconds()
    interval = SEND_RETRIES.initial_interval.total_seconds()
    coefficient = SEND_RETRIES.backoff_coefficient
    attempts, elapsed = 1, 0.0
    while elapsed + timeout + interval * coefficient ** (attempts - 1) <= window:
        elapsed += timeout + interval * coefficient ** (attempts - 1)
        attempts += 1
    return timeout + interval * coefficient ** (attempts - 1)


def drain_seconds() -> float:
    """The burst and the news through one worker's held SMTP sessions, at most."""
    return 2 * PROJECTS * test_worker_kills.HOLD / CONNECTIONS


@dataclass
class Killer:
    workers: tuple[WorkerProcess, WorkerProcess]
    sink: HoldingOutbox
    burst: datetime
    rng: random.Random = field(default_factory=lambda: random.Random(20))
    #: Per kill: when, and how many sessions the sink held at that moment.
    kills: list[tuple[datetime, int]] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    async def run(self) -> None:
        """KILLS kills from LEAD s before the burst, alternating; the killed worker polls again before the next."""
        await asyncio.sleep(max(0.0, (self.burst - datetime.now(UTC)).total_seconds() - LEAD))
        self.started = time.monotonic()
        for n in range(KILLS):
            held = len(self.sink.held())
            self.kills.append((datetime.now(UTC), held))
            await asyncio.wait_for(self.workers[n % 2].kill_and_restart(), 120)
            await asyncio.sleep(self.rng.uniform(*PAUSE))
        self.ended = time.monotonic()


async def bounded(calls: list[Callable[[], Awaitable[T]]], at_once: int = READS) -> list[T]:
    gate = asyncio.Semaphore(at_once)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


async def start_projects(client: Client, burst: datetime) -> list[str]:
    process = burst_process(burst)

    async def one(n: int) -> str:
        start, attributes = burst_start(n, process, PREFIX)
        await client.start_workflow(
            WORKFLOW_NAME, start, id=workflow_id(start.profile.project_id), task_queue=TASK_QUEUE,
            search_attributes=attributes,
        )  # fmt: skip
        return start.profile.project_id

    return await bounded([lambda n=n: one(n) for n in range(PROJECTS)], CONCURRENCY)  # type: ignore[misc]


@dataclass
class Recorded:
    """What the records hold of the burst's projects' e-mails."""

    before_due: int
    news: int
    #: E-mails whose intent is written (`email_attempts`) but not their row: a send on its way or cut.
    outstanding: int

    def drained(self) -> bool:
        """Every project's reminder and news recorded (one news e-mail each, at its start), and no send on its way."""
        return self.before_due >= PROJECTS and self.news >= PROJECTS and not self.outstanding


async def recorded(store: RecordStore) -> Recorded:
    async with store.sessions() as session:
        rows = (
            await session.execute(
                select(ReminderRow.reminder_id, ReminderRow.kind).where(ReminderRow.project_id.like(f"{PREFIX}-%"))
            )
        ).all()
        intents = (
            await session.execute(
                select(EmailAttemptRow.email_key).where(EmailAttemptRow.project_id.like(f"{PREFIX}-%"))
            )
        ).all()
    kinds = Counter(kind for _, kind in rows)
    keys = {key for key, _ in rows}
    return Recorded(kinds[Kind.BEFORE_DUE.value], kinds["news"], sum(1 for (key,) in intents if key not in keys))


def before_due_sent(events: list[Event]) -> list[str]:
    """The reminder ids of the REMINDER_SENT events of a `before_due` reminder."""
    return [
        str(e.data["reminder_id"])
        for e in events
        if e.kind is EventKind.REMINDER_SENT and e.data.get("kind") == Kind.BEFORE_DUE.value
    ]


def failed_for_good(events: list[HistoryEvent]) -> str | None:
    """The failure of the workflow's last workflow task when no completed one followed it, else None."""
    last: HistoryEvent | None = None
    for e in events:
        if e.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        ):
            last = e
    if last is None or last.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        return None
    attributes = last.workflow_task_failed_event_attributes
    return f"{attributes.cause}: {attributes.failure.message[:300]}"


@dataclass(frozen=True)
class Copy:
    """One copy of an e-mail at the sink: its attempt (`X-Labellisation-Attempt`) and when that attempt built it."""

    attempt: int
    built: datetime


def copies_of(messages: list[EmailMessage]) -> dict[str, list[Copy]]:
    """Each key (reminder id or news id) an e-mail carried -> its copies at the sink, by attempt."""
    copies: dict[str, list[Copy]] = {}
    for m in messages:
        copy = Copy(int(str(m[ATTEMPT_HEADER])), parsedate_to_datetime(str(m["Date"])))
        for key in carried(m):
            copies.setdefault(key, []).append(copy)
    return {key: sorted(found, key=lambda c: c.attempt) for key, found in copies.items()}


def unexplained(copies: list[Copy], attempts: int, kills: list[datetime]) -> str | None:
    """How the copies of one recorded e-mail break *Sent once* (README), or None.

    At least one copy; each copy its own attempt, among the attempts `email_attempts` counted; every copy but the
    last from an attempt that ended without its row, which here only a kill ends: one landed after that copy was
    built (its Date, to the second) and before the attempt's start-to-close timeout."""
    if not copies:
        return "never delivered"
    numbers = [c.attempt for c in copies]
    if len(set(numbers)) != len(numbers) or numbers[-1] > attempts:
        return f"copies of attempts {numbers}, {attempts} attempts recorded"
    for copy in copies[:-1]:
        window = (copy.built - timedelta(seconds=1), copy.built + SEND_TIMEOUT + timedelta(seconds=2))
        if not any(window[0] <= kill <= window[1] for kill in kills):
            return f"copy of attempt {copy.attempt} (built {copy.built.isoformat()}) sent again, no kill cut it"
    return None


@dataclass
class ProjectSeen:
    project_id: str
    status: WorkflowExecutionStatus | None
    #: The workflow's answer to its status query, or why there was none.
    answer: ProjectStatus | str
    events: list[HistoryEvent]
    recorded: list[Event]


async def look_at(client: Client, store: RecordStore, project_id: str) -> ProjectSeen:
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(workflow_id(project_id))
    description = await handle.describe()
    events = list((await handle.fetch_history()).events)
    answer: ProjectStatus | str
    try:
        answer = await handle.query(
            QUERY_STATUS, StatusRequest(include_history=True), result_type=ProjectStatus,
            rpc_timeout=timedelta(seconds=30),
        )  # fmt: skip
    except Exception as error:  # reported, then asserted
        answer = f"{type(error).__name__}: {error}"
    return ProjectSeen(project_id, description.status, answer, events, await store.history(project_id))


@pytest.mark.timeout(300 + 0.6 * PROJECTS + 8 * KILLS)
async def test_a_monday_burst_survives_worker_kills(
    dev_server: WorkflowEnvironment,  # noqa: F811
    tmp_path: Path,
    holding_mailbox: tuple[Mailbox, HoldingOutbox],  # noqa: F811
) -> None:
    mailbox, sink = holding_mailbox
    client = dev_server.client
    url = f"sqlite+aiosqlite:///{tmp_path}/records.db"
    await asyncio.to_thread(upgrade, url)
    env = {
        **os.environ,
        "LABELLISATION_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "LABELLISATION_DATABASE_URL": url,
        "LABELLISATION_SMTP_PORT": str(mailbox.settings.smtp_port),
        "LABELLISATION_TASK_QUEUE": TASK_QUEUE,
        "LABELLISATION_LOG_FORMAT": "json",
    }
    workers = (WorkerProcess(env), WorkerProcess(env))
    store = RecordStore.from_url(url)
    began = time.monotonic()
    killer_task: asyncio.Task[None] | None = None
    try:
        await asyncio.gather(*(w.start() for w in workers))
        burst = burst_instant(datetime.now(UTC))
        project_ids = await start_projects(client, burst)
        ahead = (burst - datetime.now(UTC)).total_seconds()
        print(f"\nburst kills: {PROJECTS} projects started in {time.monotonic() - began:.0f} s, {ahead:.0f} s ahead")
        killer = Killer(workers, sink, burst)
        killer_task = asyncio.create_task(killer.run())

        # Until every e-mail is recorded and the kills are over; bounded once they are.
        deadline = None
        while not (await recorded(store)).drained() or not killer_task.done():
            if killer_task.done():
                killer_task.result()  # a worker that did not come back: its error
                if deadline is None:
                    window = killer.ended - killer.started
                    deadline = time.monotonic() + longest_retry_wait(window) + drain_seconds() + SLACK
                assert time.monotonic() < deadline, (
                    f"e-mails of the burst never recorded: {await recorded(store)} "
                    f"{(datetime.now(UTC) - burst).total_seconds():.0f} s after the burst"
                )
            await asyncio.sleep(1.0)
        drained = (datetime.now(UTC) - burst).total_seconds()
        print(
            f"burst kills: e-mails recorded {drained:.0f} s after the burst, {len(killer.kills)} kills "
            f"from {(killer.kills[0][0] - burst).total_seconds():.1f} s to "
            f"{(killer.kills[-1][0] - burst).total_seconds():.1f} s, "
            f"{sum(1 for _, held in killer.kills if held)} while the sink held a send; burst at {burst.isoformat()}, "
            f"kills at (s from it, sessions held) "
            f"{[(round((at - burst).total_seconds(), 1), held) for at, held in killer.kills]}"
        )

        # The REMINDER_SENT events reach the records after the rows (the recorder, its own retries): bounded wait.
        seen: list[ProjectSeen] = []
        record_deadline = time.monotonic() + longest_retry_wait(0) + SLACK
        while True:
            seen = await bounded([lambda p=p: look_at(client, store, p) for p in project_ids])  # type: ignore[misc]
            waiting = [s.project_id for s in seen if len(before_due_sent(s.recorded)) < 1]
            if not waiting or time.monotonic() > record_deadline:
                break
            await asyncio.sleep(2.0)
        async with store.sessions() as session:
            rows = (await session.execute(select(ReminderRow).where(ReminderRow.project_id.like(f"{PREFIX}-%")))).all()
            attempts = {r.email_key: r.attempts for (r,) in (await session.execute(select(EmailAttemptRow))).all()}
    finally:
        if killer_task is not None:
            killer_task.cancel()
        await asyncio.gather(*(w.stop() for w in workers))
        await store.close()
    elapsed = time.monotonic() - began

    table = [r for (r,) in rows]
    before_due_rows: dict[str, list[str]] = {p: [] for p in project_ids}
    for r in table:
        if r.kind == Kind.BEFORE_DUE.value:
            before_due_rows.setdefault(r.project_id, []).append(r.reminder_id)
    news_rows = Counter(r.reminder_id for r in table if r.reminder_id.startswith("news:"))
    messages = mailbox.messages()
    copies = copies_of(messages)
    kills = [at for at, _ in killer.kills]

    problems: list[str] = []
    once = lost = 0
    doubled: Counter[int] = Counter()  # copies at the sink -> reminders delivered that many times, above once
    for s in seen:
        p = s.project_id
        keys = before_due_rows[p]
        in_records = before_due_sent(s.recorded)
        in_workflow = before_due_sent(s.answer.history or []) if isinstance(s.answer, ProjectStatus) else []
        delivered = copies.get(keys[0], []) if len(keys) == 1 else []
        if not keys or not in_records or not delivered:
            lost += 1
        if len(keys) != 1 or in_records != keys or in_workflow != keys:
            problems.append(f"{p}: rows {keys}, records events {in_records}, workflow events {in_workflow}")
        elif (why := unexplained(delivered, attempts.get(keys[0], 1), kills)) is not None:
            problems.append(f"{p}: {keys[0]}: {why}")
        else:
            once += 1
            if len(delivered) > 1:
                doubled[len(delivered)] += 1
                print(
                    f"burst kills: {p}'s reminder {keys[0]} delivered {len(delivered)} times: attempts "
                    f"{[c.attempt for c in delivered]}, built at {[c.built.strftime('%H:%M:%S') for c in delivered]}; "
                    f"{attempts.get(keys[0])} attempts recorded"
                )
        if s.status is not WorkflowExecutionStatus.RUNNING:
            problems.append(f"{p}: workflow {s.status}")
        if isinstance(s.answer, str):
            problems.append(f"{p}: no answer to the status query: {s.answer}")
        else:
            due = [r for r in s.answer.upcoming_reminders if r.kind == Kind.BEFORE_DUE.value and r.at <= burst]
            if s.answer.state.value != "active" or due:
                problems.append(f"{p}: state {s.answer.state.value}, reminders still due {due}")
            mismatch = lost_or_duplicated(s.recorded, s.answer.history or [])
            if mismatch:
                problems.append(f"{p}: {mismatch} events lost or duplicated between the workflow and the records")
        failure = failed_for_good(s.events)
        if failure is not None:
            problems.append(f"{p}: last workflow task failed: {failure}")
    # News: one row per key, each at the sink, another copy only after an attempt a kill cut.
    news_copies = {k: v for k, v in copies.items() if k.startswith("news:")}
    for key in set(news_rows) | set(news_copies):
        why = unexplained(news_copies.get(key, []), attempts.get(key, 1), kills)
        if news_rows[key] != 1 or why is not None:
            problems.append(f"{key}: {news_rows[key]} rows; {why}")
    # Every e-mail at the sink is one of the rows (nothing went out the records do not know of).
    unknown = set(copies) - {r.reminder_id for r in table}
    if unknown:
        problems.append(f"e-mails at the sink without their row: {sorted(unknown)[:10]}")
    transient = Counter(
        str(e.workflow_task_failed_event_attributes.cause)
        for s in seen
        for e in s.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    )
    cut = sum(len(retried_sends(s.events)) for s in seen)

    report("burst with kills: projects in the burst", PROJECTS)
    report(
        "burst with kills: worker kills (SIGKILL, two workers; landing while the sink held a send)",
        f"{len(killer.kills)}; {sum(1 for _, held in killer.kills if held)}",
    )
    report("burst with kills: e-mails received by the SMTP sink", len(messages))
    report("burst with kills: reminders recorded once (table, records events, workflow), delivered", once)
    report("burst with kills: reminder sends cut by a kill, then retried", cut)
    report(
        "burst with kills: reminders delivered twice; three times or more (kills between SMTP acceptance and record)",
        f"{doubled[2]}; {sum(n for copies, n in doubled.items() if copies > 2)}",
    )
    news_twice = Counter(len(got) for got in news_copies.values() if len(got) > 1)
    report(
        "burst with kills: news e-mails recorded once, delivered; of them twice; three times or more",
        f"{sum(1 for got in news_copies.values() if got)}; {news_twice[2]}; "
        f"{sum(n for copies, n in news_twice.items() if copies > 2)}",
    )
    report("burst with kills: most attempts of one e-mail", max(attempts.values(), default=0))
    report("burst with kills: reminders lost", lost)
    report("burst with kills: workflow tasks failed, then retried (causes)", dict(transient) or 0)
    report("burst with kills: wall time (s)", round(elapsed))

    assert len(seen) == PROJECTS
    assert problems == [], "\n".join(problems[:30])
    assert lost == 0
    assert once == PROJECTS
    assert len(killer.kills) == KILLS
