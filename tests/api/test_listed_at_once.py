"""A project the API has just started is in the lists at once, before its workflow's first record batch.

The worker here records into a database of its own, which the API never reads: whatever the API lists, it wrote
itself when it answered the start. Before, the lists waited for the recorder, and a coordinator who started a
project and opened « Portefeuille » a moment later could miss it (seen in tests/reliability/test_confinement.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from labellisation.api.app import create_app
from labellisation.api.commands import list_at_once, started_record
from labellisation.devstack import free_port
from labellisation.path.status import project_status
from labellisation.path.transitions import start_project
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.schema import project_record
from labellisation.records.store import RecordStore
from labellisation.tokens import ApiUser, UserRole, create_token
from tests.support.api import OTHER, PROJECT, profile
from tests.support.driver import running
from tests.support.mailbox import Mailbox
from tests.support.path_helpers import T0
from tests.support.profiles import make_profile


async def test_a_started_project_is_listed_at_once_with_its_stage_and_holder(
    time_skipping_env: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, tmp_path: Path
) -> None:
    elsewhere = f"sqlite+aiosqlite:///{tmp_path}/worker-records.db"
    await asyncio.to_thread(upgrade, elsewhere)
    worker_store = RecordStore.from_url(elsewhere)
    settings = mailbox.settings.model_copy(update={"task_queue": task_queue, "default_process": "demo"})
    coordinator = await create_token(sqlite_store, ApiUser(role=UserRole.COORDINATOR, name="Claire", email="c@fnep.fr"))
    holder = await create_token(
        sqlite_store, ApiUser(role=UserRole.HOLDER, name="Léa", email="lea@edp-lyon.fr", projects=[OTHER])
    )
    app = create_app(settings, client=time_skipping_env.client, store=sqlite_store)
    try:
        async with (
            running(time_skipping_env.client, task_queue, worker_store, settings),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http,
        ):
            as_coordinator = {"Authorization": f"Bearer {coordinator}"}
            for project_id in (PROJECT, OTHER):
                started = await http.post("/projects", json=profile(project_id), headers=as_coordinator)
                assert started.status_code == 201, started.text
            listed = (await http.get("/projects?stage=opportunity", headers=as_coordinator)).json()
            assert [(p["project_id"], p["state"], p["current_stage"]) for p in listed] == [
                (PROJECT, "active", "opportunity"),
                (OTHER, "active", "opportunity"),
            ]
            assert listed[0]["region"] == "bourgogne-franche-comte"
            mine = (await http.get("/projects", headers={"Authorization": f"Bearer {holder}"})).json()
            assert [p["project_id"] for p in mine] == [OTHER]
            # Started twice: refused, and the row stays the first start's.
            again = await http.post("/projects", json=profile(PROJECT, name="Autre nom"), headers=as_coordinator)
            assert again.status_code == 409, again.text
            record = await sqlite_store.project(PROJECT)
            assert record is not None and record.name == "École de Production de Belfort"
    finally:
        await worker_store.close()


async def test_an_unreachable_records_database_never_fails_the_start_it_follows(
    capfd: pytest.CaptureFixture[str],
) -> None:
    project = start_project(make_profile("edp-nowhere"), load_process("demo"), T0, "coordination")
    unreachable = RecordStore.from_url(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/records")
    try:
        await list_at_once(unreachable, project.profile, project_status(project, T0))  # returns, raises nothing
    finally:
        await unreachable.close()
    logged = "".join(capfd.readouterr())
    assert "records unreachable: the new project is listed once its recorder writes it" in logged


@pytest.mark.parametrize("process", ["fnep", "demo"])
def test_the_row_listed_at_once_is_the_row_the_recorder_writes(process: str) -> None:
    # Two mappings of one row, the API's from the start's status and the recorder's from the project: the
    # recorder's first batch must find nothing to change (else the portfolio would show one, then the other).
    project = start_project(make_profile(f"edp-mapped-{process}"), load_process(process), T0, "coordination")
    listed = started_record(project.profile, project_status(project, T0))
    recorded = project_record(project)
    assert listed.model_dump() == recorded.model_dump()
    assert listed.current_stage == project.process.stages[0].id and listed.next_due_at is not None
