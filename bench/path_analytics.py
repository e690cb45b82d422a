"""Path analytics at network scale (#19): `GET /reports/path`'s work over COUNT projects of 30 events each.

    .venv/bin/python -m bench analytics [--count 10000]

COUNT `fnep` projects (six regions, started over three years) walk the path in the pure model with seeded
random waits, requests for changes and pauses, until each has 30 events; each is written through the records
store (`RecordStore.record`, one batch per project, which keeps its path measures), on SQLite (a file) and on
the local PostgreSQL (a database of its own, dropped after), side by side in one run. Then, one block after
the other: REQUESTS times what the route does (`path_report_of`: the measures rows added up in SQL), and
FROM_EVENTS times the same figures computed from the events at read time (`report_events` + `measure` +
`path_report`, the regions from `portfolio`: what the route did before the measures tables). The HTTP layer
is not included (a few milliseconds).
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import text

from bench.report import machine, percentile, write_section
from labellisation.path.state import Project
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.path_measures import MEASURED_KINDS, measure
from labellisation.records.path_report import path_report, path_report_of, report_events
from labellisation.records.schema import RecordEvents, project_record
from labellisation.records.store import RecordStore
from tests.support.random_paths import walked

DEFAULT_COUNT = 10_000
EVENTS = 30
REQUESTS = 40
#: The same figures from the events take seconds each: fewer of them.
FROM_EVENTS = 5
PROCESS = load_process("fnep")
STEPS = [step.id for stage in PROCESS.stages for step in stage.steps]
STAGES = [stage.id for stage in PROCESS.stages]
ADMIN_URLS = ("postgresql://postgres@127.0.0.1:5432/test", "postgresql://root@127.0.0.1:5432/test")


@dataclass
class Run:
    database: str
    seed_seconds: float
    events: int
    measured: list[float]
    from_events: list[float]


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def measure_on(database: str, url: str, projects: list[Project]) -> Run:
    await asyncio.to_thread(upgrade, url)
    store = RecordStore.from_url(url)
    try:
        started = time.perf_counter()
        events = 0
        for index, project in enumerate(projects, 1):
            batch = project.events[:EVENTS]
            events += len(batch)
            await store.record(RecordEvents(project=project_record(project), events=batch))
            if index % 1000 == 0 and store.engine.dialect.name == "postgresql":
                await analyze(store)
        seed = time.perf_counter() - started

        async def by_measures() -> object:
            return await path_report_of(store, STEPS, STAGES, None, process="fnep")

        async def by_events() -> object:
            every = await report_events(store, None, None, "fnep", kinds=sorted(MEASURED_KINDS))
            regions = {r["project_id"]: r["region"] for r in await store.portfolio()}
            return path_report({p: measure(e) for p, e in every.items()}, STEPS, STAGES, regions)

        if (await by_measures()) != (await by_events()):
            raise RuntimeError("the measures and the events give different figures")
        measured, from_events = [], []
        # One after the other, not interleaved: reading every event churns the database's cache and the heap,
        # which the next report then pays for (an interleaved run put those five calls in the p95).
        for _ in range(REQUESTS):
            measured.append(await timed(by_measures))
        for _ in range(FROM_EVENTS):
            from_events.append(await timed(by_events))
        run = Run(database, seed, events, measured, from_events)
        print(
            f"{database}: written in {seed:.0f} s; path report p95 {_ms(measured, 0.95)}, "
            f"from the events p95 {_ms(from_events, 0.95)}",
            flush=True,
        )
        return run
    finally:
        await store.close()


async def analyze(store: RecordStore) -> None:
    """What autovacuum does as tables grow (this machine's server runs without it): fresh statistics, so that
    plans cached on pooled connections while the tables were empty are made again."""
    async with store.engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


async def postgres_database() -> tuple[str, Callable[[], Awaitable[None]]]:
    """A database of our own on the local server, and how to drop it."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    for admin in ADMIN_URLS:
        try:
            connection = await asyncpg.connect(admin, timeout=10)
        except (OSError, asyncpg.PostgresError):
            continue
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

        async def drop(admin: str = admin) -> None:
            connection = await asyncpg.connect(admin, timeout=10)
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.close()

        return admin.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}", drop
    raise RuntimeError(f"no PostgreSQL server answers at {', '.join(ADMIN_URLS)}")


async def main(count: int = DEFAULT_COUNT) -> None:
    rng = random.Random(19)
    started = time.perf_counter()
    projects = [walked(index, rng, EVENTS) for index in range(count)]
    # The walked projects (millions of objects) are the benchmark's, not the API's: out of the collector's sight,
    # or each of its full passes over them lands in a measured report as a pause of a second.
    gc.freeze()
    print(f"{count:,} projects walked in {time.perf_counter() - started:.0f} s")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(await measure_on("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'records.db'}", projects))
    url, drop = await postgres_database()
    try:
        runs.append(await measure_on("PostgreSQL", url, projects))
    finally:
        await drop()
    report(runs, count)


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.0f} ms"


def report(runs: list[Run], count: int) -> None:
    rows = ["| records database | events | written in | path report p50 / **p95** | the same from the events "
            "p50 / p95 | ratio of p95 | target |", "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in runs:
        ratio = percentile(r.from_events, 0.95) / percentile(r.measured, 0.95)
        rows.append(
            f"| {r.database} | {r.events:,} | {r.seed_seconds:.0f} s | {_ms(r.measured, 0.5)} / "
            f"**{_ms(r.measured, 0.95)}** | {_ms(r.from_events, 0.5)} / {_ms(r.from_events, 0.95)} | "
            f"{ratio:.1f}× faster | p95 ≤ 500 ms |"
        )
    table = "\n".join(rows)
    print(table)
    body = (
        f"{count:,} `fnep` projects of {EVENTS} events each (walked in the pure model with seeded random waits,\n"
        f"requests for changes and pauses; six regions; started over three years), written through\n"
        f"`RecordStore.record` (one batch per project, the path measures kept as it writes), on SQLite (a file)\n"
        f"and on the local PostgreSQL (its autovacuum is off on this machine: `ANALYZE` every 1,000 projects\n"
        f"instead), in one run. Then, one block after the other: {REQUESTS} times the work of\n"
        f"`GET /reports/path` for the whole network (`path_report_of`: the step and stage measures added up\n"
        f"in SQL, the days fetched for the quantiles), and {FROM_EVENTS} times the same figures computed from\n"
        f"the events at read time (what the route did before the measures tables). Both give the same report\n"
        f"(checked). The HTTP layer is not included.\n\n"
        f"{table}\n\nMachine: {machine()}."
    )
    write_section("Path analytics (#19)", body)
