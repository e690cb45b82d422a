"""Path simulation: the whole `fnep` path with its reminders against a bare workflow, one run.

    .venv/bin/python -m bench path [--count 5]

On one time-skipping test server: COUNT projects, one after another, each
driven through the 8 stages of `fnep`. Every stage is left late (reminders
before the deadline, overdue and escalation e-mails go out through the real
`send_reminder` activity to a real SMTP sink), each submission waits for review
long enough for the reviewers' reminder, and every event is written to a
SQLite records database. After each project, a bare workflow with as many
timers (spread over the same simulated span) and as many no-op activity calls
as the project's history holds runs on the same server. Median wall times and
their ratio go to BENCHMARKS.md. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bare_path import BarePathWorkflow, noop
from bench.report import machine, write_section
from labellisation.contract import (
    ACTIVITY_SEND_NEWS,
    ACTIVITY_SEND_REMINDER,
    ACTIVITY_SEND_REMINDERS,
    ACTIVITY_SEND_REMINDERS_WITH_NEWS,
    QUERY_STATUS,
    WORKFLOW_NAME,
    ProjectOutcome,
    StartProject,
    Update,
    workflow_id,
)
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.log_setup import configure_logging
from labellisation.mail.sink import start_sink
from labellisation.path.commands import DecideStep, RecordCohort, SubmitStep
from labellisation.path.state import Cohort, Document, ProjectProfile
from labellisation.path.status import ProjectStatus
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import ReminderRow
from labellisation.search_attributes import register_search_attributes
from labellisation.settings import Settings
from labellisation.temporal import time_skipping_server_binary
from labellisation.worker_app import build_worker

DEFAULT_COUNT = 5
PROCESS = load_process("fnep")
#: The activities that send an e-mail.
E_MAIL_SENDS = {ACTIVITY_SEND_REMINDER, ACTIVITY_SEND_REMINDERS, ACTIVITY_SEND_NEWS, ACTIVITY_SEND_REMINDERS_WITH_NEWS}
#: How late each stage is submitted: 2 before-due, 3 overdue reminders and the escalation go out.
LATE = timedelta(days=23)
#: How long each submission waits for its decision: past the reviewers' reminder (10 working days).
REVIEW = timedelta(days=16)
#: Planned opening, from the project's start: stages 1-5 take ~22 months, late included.
OPENING = timedelta(days=800)
DOCUMENT = Document(title="Dossier", url="https://docs.example.org/dossier.pdf")
COHORT = Cohort(label="c1", enrolled=12, dropouts=1, presented=11, passed=10, positive_exits=11, job_offers=55)


@dataclass
class PathRun:
    seconds: float
    timers: int
    activities: int
    #: Local activities run (`sent-recorded-inline`: the senders' record batches), markers in the history.
    local: int
    #: E-mail sends scheduled (`send_reminder`, `send_reminders`, `send_news`: the history's count; a send that finds
    #: its row written sends nothing).
    sends: int
    #: Rows of the records `reminders` table for the project: reminders that went out.
    recorded: int
    #: E-mails the SMTP sink received for the project (its `X-Labellisation-Project` header).
    emails: int
    updates: int
    span: timedelta


async def _sleep_until_late(env: WorkflowEnvironment, status: ProjectStatus) -> None:
    """Skip the server's clock to LATE past the stage's last deadline."""
    dues = [s.due_at for s in status.steps if s.stage == status.current_stage and s.due_at is not None]
    wait = max(dues) + LATE - await env.get_current_time()
    if wait > timedelta(0):
        await env.sleep(wait)


async def _update(handle: WorkflowHandle[object, ProjectOutcome], name: Update, command: object) -> ProjectStatus:
    status: ProjectStatus = await handle.execute_update(name, command, result_type=ProjectStatus)
    return status


def emails_for(outbox: Path, project_id: str) -> int:
    """E-mails the sink wrote to `outbox` for `project_id`."""
    parser = BytesHeaderParser()
    return sum(
        1
        for path in outbox.glob("*.eml")
        if parser.parsebytes(path.read_bytes())["X-Labellisation-Project"] == project_id
    )


async def reminders_recorded(store: RecordStore, project_id: str) -> int:
    async with store.sessions() as session:
        query = select(func.count()).select_from(ReminderRow).where(ReminderRow.project_id == project_id)
        return int((await session.execute(query)).scalar_one())


async def drive(env: WorkflowEnvironment, task_queue: str, n: int, store: RecordStore, outbox: Path) -> PathRun:
    """One whole fnep path, late at every stage; its wall time, what its history holds, the reminders sent."""
    now = await env.get_current_time()
    profile = ProjectProfile(
        project_id=f"path-{n:02d}", name="École de Production", region="Occitanie", department="31",
        city="Toulouse", trades=["Usinage"], holder={"name": "A", "email": "h@x.fr"},
        planned_opening=(now + OPENING).date(),
    )  # fmt: skip
    started = time.perf_counter()
    handle = await env.client.start_workflow(
        WORKFLOW_NAME, StartProject(profile=profile, process_id="fnep", process=PROCESS),
        id=workflow_id(profile.project_id), task_queue=task_queue, result_type=ProjectOutcome,
    )  # fmt: skip
    status = await handle.query(QUERY_STATUS, result_type=ProjectStatus)
    updates = 0
    for stage in PROCESS.stages:
        await _sleep_until_late(env, status)
        if any(step.requires_cohort for step in stage.steps):
            await _update(handle, Update.RECORD_COHORT, RecordCohort(actor="direction", cohort=COHORT))
            updates += 1
        for step in stage.steps:
            await _update(handle, Update.SUBMIT, SubmitStep(actor="h", step=step.id, documents=[DOCUMENT]))
        await env.sleep(REVIEW)
        for step in stage.steps:
            command = DecideStep(actor="r", step=step.id, decision="approve", decision_id=f"{n}-{step.id}")
            status = await _update(handle, Update.DECIDE, command)
        updates += 2 * len(stage.steps)
    await handle.result()
    seconds = time.perf_counter() - started
    events = (await handle.fetch_history()).events
    kinds = Counter(e.event_type for e in events)
    sends = sum(
        1
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name in E_MAIL_SENDS
    )
    # The workflow closes once every send finished, each e-mail in the sink before its row is written.
    return PathRun(
        seconds=seconds, timers=kinds[EventType.EVENT_TYPE_TIMER_STARTED],
        activities=kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED], sends=sends,
        local=sum(
            1 for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
        ),
        recorded=await reminders_recorded(store, profile.project_id),
        emails=emails_for(outbox, profile.project_id), updates=updates,
        span=events[-1].event_time.ToDatetime() - events[0].event_time.ToDatetime(),
    )  # fmt: skip


async def bare(client: Client, run: PathRun, n: int) -> float:
    """The same count of timers over the same simulated span, and as many no-op activity and local activity
    calls."""
    started = time.perf_counter()
    await client.execute_workflow(
        BarePathWorkflow.run, args=[run.timers, run.span.total_seconds(), run.activities, run.local],
        id=f"bare-path-{n:02d}", task_queue="bare-path",
    )  # fmt: skip
    return time.perf_counter() - started


async def main(count: int = DEFAULT_COUNT) -> None:
    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        url = f"sqlite+aiosqlite:///{tmp}/records.db"
        await asyncio.to_thread(upgrade, url)
        store = RecordStore.from_url(url)
        smtp = free_port()
        sink = start_sink(tmp / "outbox", smtp)
        settings = Settings(smtp_port=smtp, data_dir=tmp, default_process="fnep")
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(time_skipping_server_binary()), data_converter=data_converter
        )
        await register_search_attributes(env.client)
        ours: list[PathRun] = []
        floor: list[float] = []
        try:
            async with (
                build_worker(env.client, "path", store=store, settings=settings),
                Worker(env.client, task_queue="bare-path", workflows=[BarePathWorkflow], activities=[noop]),
            ):
                warm = await drive(
                    env, "path", 0, store, tmp / "outbox"
                )  # warm-up pair, discarded: imports, sandbox, JIT of the server
                await bare(env.client, warm, 0)
                for n in range(1, count + 1):  # interleaved: drift of a shared machine hits both alike
                    ours.append(await drive(env, "path", n, store, tmp / "outbox"))
                    floor.append(await bare(env.client, ours[-1], n))
        finally:
            await env.shutdown()
            sink.stop()
            await store.close()
        mails = len(list((tmp / "outbox").glob("*.eml")))
    report(ours, floor, count, mails)


def report(ours: list[PathRun], floor: list[float], count: int, mails: int) -> None:
    our = statistics.median(r.seconds for r in ours)
    bare_median = statistics.median(floor)
    run = ours[-1]
    table = "\n".join([
        "| workflow | runs | median wall time (s) | min (s) | max (s) |",
        "| --- | --- | --- | --- | --- |",
        f"| whole `fnep` path, reminders, records | {count} | {our:.2f} | "
        f"{min(r.seconds for r in ours):.2f} | {max(r.seconds for r in ours):.2f} |",
        f"| bare: {run.timers} timers, {run.activities} no-op activities, {run.local} no-op local activities "
        f"| {count} | {bare_median:.2f} | "
        f"{min(floor):.2f} | {max(floor):.2f} |",
        f"| **ratio** | | **{our / bare_median:.2f}** (target ≤ 1.5) | | |",
    ])  # fmt: skip
    print(table)
    body = (
        f"One time-skipping test server (temporal-test-server), worker in the benchmark process, SQLite records\n"
        f"database, aiosmtpd sink. {count} projects one after another (plus one discarded warm-up pair), each\n"
        f"the whole `fnep` path: every stage submitted {LATE.days} days after its last deadline, every\n"
        f"decision {REVIEW.days} days after the submissions, a cohort recorded before `first_graduates`.\n"
        f"Per project: {run.updates} updates, {run.timers} timers started, {run.activities} activities scheduled\n"
        f"({run.sends} e-mail sends of reminders and news, the rest record batches) and {run.local} local\n"
        f"activities (the senders' record batches, patch `sent-recorded-inline`),\n"
        f"{run.span.days / 365.25:.1f} simulated years; the last project's e-mails: {run.recorded} rows in the\n"
        f"records `reminders` table, {run.emails} e-mails in the sink. {mails} e-mails reached the sink in all.\n"
        f"After each project, on the same server and worker process, a bare workflow with as many timers (equal\n"
        f"sleeps over the same simulated span) and as many no-op activity and local activity calls, started and\n"
        f"awaited by the client.\n"
        f"Wall time: start to result, per workflow.\n"
        f"Machine: {machine()}.\n\n"
        f"{table}\n\n"
        "Reading: the bare workflow has the same timers and activity calls but no client round trips and no\n"
        "work in its activities. Ours also waits, one after the other, for the driver's updates and clock\n"
        "skips (each update runs the path model and upserts search attributes), and its activities do real\n"
        "I/O, in sequence within a project: each reminder checks the records database, renders and sends\n"
        "an e-mail over SMTP and records it; each record batch is one SQLite transaction. A profile of the\n"
        "benchmark process shows it idle about half the time (waiting on the server), the rest mostly in\n"
        "those activities; the time-skipping server makes the timers themselves cheap for both.\n"
    )
    write_section("Path simulation", body)
