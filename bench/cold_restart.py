"""Cold restart (#20 part 2): status reads on random projects before and right after the worker is killed.

    .venv/bin/python -m bench cold [--count 10000]

The portfolio benchmark's setting (bench/portfolio_scale.py): local dev server, `python worker.py` in its own
process, SQLite records, COUNT open `fnep` projects started as the API starts them. Once the worker is idle,
the real HTTP API answers REQUESTS `GET /projects/{id}` on random projects one after the other (warm: the
worker has run for minutes, its sticky cache holds the 500 workflows it touched last). Then the worker is
killed (SIGKILL) and a new `python worker.py` started; from its start, COLD_REQUESTS more reads on random
projects, timed from the kill. Cold: the first REQUESTS of them. Back to warm: the end of the first window of
WINDOW reads whose p95 is at most the warm p95. A status read that a worker answers replays the project's
history when the workflow is not in its cache: with 10,000 projects and 500 cached, most reads do, warm or cold.
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from temporalio.testing import WorkflowEnvironment

from bench.office_hours import office_hours_process, zone_named
from bench.portfolio_scale import idle, recorded, records_variables, start_all, start_input, worker_process
from bench.report import machine, percentile, write_section
from labellisation.api.app import create_app
from labellisation.contract import SEARCH_ATTRIBUTES
from labellisation.converter import data_converter
from labellisation.devstack import _EmbeddedServer, free_port
from labellisation.log_setup import configure_logging
from labellisation.mail.sink import start_sink
from labellisation.process import ProcessDefinition
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.temporal import dev_server_binary
from labellisation.tokens import ApiUser, UserRole, create_token
from labellisation.worker_app import STICKY_QUEUE_TIMEOUT

DEFAULT_COUNT = 10_000
REQUESTS = 200
COLD_REQUESTS = 600
WINDOW = 50


@dataclass
class Figures:
    #: Each warm read: its latency and HTTP status.
    warm: list[tuple[float, int]]
    #: Each cold read: seconds since the kill when it ended, its latency and HTTP status.
    cold: list[tuple[float, float, int]]
    poll_after_kill: float


def back_to_warm(cold: list[tuple[float, float, int]], warm_p95: float) -> float | None:
    """Seconds from the kill to the end of the first WINDOW reads whose p95 is at most `warm_p95`."""
    for end in range(WINDOW, len(cold) + 1):
        if percentile([latency for _, latency, _ in cold[end - WINDOW : end]], 0.95) <= warm_p95:
            return cold[end - 1][0]
    return None


async def reads(http: httpx.AsyncClient, count: int, rng: random.Random, projects: int) -> list[tuple[float, int]]:
    """COUNT reads of random projects, one after the other: each one's latency and HTTP status."""
    found = []
    for _ in range(count):
        project_id = start_input(rng.randrange(projects))[0].profile.project_id
        started = time.perf_counter()
        response = await http.get(f"/projects/{project_id}")
        found.append((time.perf_counter() - started, response.status_code))
    return found


async def measure(count: int, tmp: Path, process: ProcessDefinition) -> Figures:
    url = f"sqlite+aiosqlite:///{tmp}/records.db"
    await asyncio.to_thread(upgrade, url)
    smtp = free_port()
    sink = start_sink(tmp / "outbox", smtp)
    settings = Settings(smtp_port=smtp, data_dir=tmp, default_process="fnep", api_rate_limit=0)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()), port=free_port(), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES), dev_server_log_level="never",
    )  # fmt: skip
    store = RecordStore.from_url(url)
    variables = records_variables(env, url, smtp, tmp)
    token = await create_token(store, ApiUser(role=UserRole.COORDINATOR, name="C", email="c@fnep.fr"))
    port = free_port()
    api = _EmbeddedServer(uvicorn.Config(create_app(settings, env.client, store), host="127.0.0.1", port=port,
                                         log_config=None, lifespan="off"))  # fmt: skip
    server = asyncio.create_task(api.serve())
    rng = random.Random(20)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, headers=headers) as http:
            async with worker_process(env.client, variables, tmp / "worker.log") as pid:
                await start_all(env.client, count, process)
                await recorded(store, count)
                await idle(pid)
                warm = await reads(http, REQUESTS, rng, count)
                os.kill(pid, signal.SIGKILL)
                killed = time.perf_counter()
            async with worker_process(env.client, variables, tmp / "worker-2.log"):
                polling = time.perf_counter() - killed
                cold = []
                for _ in range(COLD_REQUESTS):
                    [(latency, status)] = await reads(http, 1, rng, count)
                    cold.append((time.perf_counter() - killed, latency, status))
    finally:
        api.should_exit = True
        await server
        await store.close()
        await env.shutdown()
        sink.stop()
    return Figures(warm, cold, polling)


async def main(count: int = DEFAULT_COUNT) -> None:
    configure_logging("console", "WARNING")
    process = office_hours_process(datetime.now(UTC))
    with tempfile.TemporaryDirectory() as tmp:
        figures = await measure(count, Path(tmp), process)
    report(figures, count, zone_named(process))


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f} ms"


def report(f: Figures, count: int, zone: str) -> None:
    cold = [latency for _, latency, _ in f.cold[:REQUESTS]]
    warm = [latency for latency, _ in f.warm]
    warm_p95 = percentile(warm, 0.95)
    failed = [(at, status) for at, _, status in f.cold if status != 200]
    warm_failed = sum(status != 200 for _, status in f.warm)
    back = back_to_warm(f.cold, warm_p95)
    ratio = percentile(cold, 0.95) / warm_p95
    rows = [
        "| reads of `GET /projects/{id}` (random projects, one after the other) | p50 | p95 | target |",
        "| --- | --- | --- | --- |",
        f"| warm: {REQUESTS} reads, the worker idle after {count:,} starts ({warm_failed} not 200) | "
        f"{_ms(warm, 0.5)} | {_ms(warm, 0.95)} | |",
        f"| cold: the first {REQUESTS} reads from the new worker's start ({f.poll_after_kill:.1f} s after the SIGKILL) "
        f"| {_ms(cold, 0.5)} | **{_ms(cold, 0.95)}** ({ratio:.1f}× warm) | p95 ≤ 3× warm |",
        f"| back to warm: the first {WINDOW} reads in a row with p95 ≤ the warm p95 end | "
        f"{'not within ' + str(COLD_REQUESTS) + ' reads' if back is None else f'{back:.1f} s after the kill'} | | |",
        f"| cold reads not answered 200 (of {COLD_REQUESTS}); the last one ended | {len(failed)} "
        f"({', '.join(sorted({str(s) for _, s in failed})) or '-'}) | "
        f"{'-' if not failed else f'{failed[-1][0]:.1f} s after the kill'} | 0 |",
    ]
    table = "\n".join(rows)
    print(table)
    body = (
        f"Issue #20, part 2. The portfolio benchmark's setting: local dev server, `python worker.py` in its own\n"
        f"process (500 cached workflows), SQLite records, {count:,} open `fnep` projects (in a time zone where it\n"
        f"is office hours, {zone}: their welcome e-mails go out at once, whatever the hour). Once the worker is idle,\n"
        f"{REQUESTS} reads of random projects through the real HTTP API (warm); then the worker is SIGKILLed and\n"
        f"a new one started; from its start, {COLD_REQUESTS} more reads, timed from the kill. A read the worker\n"
        f"answers replays the project's history when its workflow is not cached: with {count:,} projects and 500\n"
        f"cached, most reads do, warm or cold. The server still lists the killed worker's pollers for a while, so\n"
        f"the reads start as soon as the new process does; the first read of a workflow the killed worker held\n"
        f"waits for the server to give up its sticky queue ({STICKY_QUEUE_TIMEOUT.total_seconds():.0f} s, the\n"
        f"worker's `sticky_queue_schedule_to_start_timeout`; the SDK's 10 s reached the API's deadline: a 503).\n\n"
        f"{table}\n\nMachine: {machine()}."
    )
    write_section("Cold restart (#20)", body)
