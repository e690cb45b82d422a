"""A project's events reach the records database, in order, once, whatever happens."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import Update
from labellisation.converter import data_converter
from labellisation.path.commands import RecordCohort
from labellisation.path.state import Cohort, EventKind, ProjectState
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import EventRow, ProjectRow, ReminderRow
from labellisation.search_attributes import register_search_attributes
from labellisation.temporal import time_skipping_server_binary
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile
from tests.support.proxy import CuttableProxy

COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=1, presented=11, passed=10, positive_exits=11, job_offers=40)


def expected_kinds() -> list[tuple[EventKind, str | None, str | None]]:
    """What a straight demo path must leave, derived from the definition: (kind, step, actor)."""
    holder, reviewer = "porteur@edp-belfort.fr", "relecteur@fnep.fr"
    out: list[tuple[EventKind, str | None, str | None]] = [(EventKind.PROJECT_STARTED, None, "coordination FNEP")]
    stages = load_process("demo").stages
    for index, stage in enumerate(stages):
        out.append((EventKind.STAGE_STARTED, None, None))
        out += [(EventKind.STEP_STARTED, s.id, None) for s in stage.steps]
        if stage.id == "seeding":
            out.append((EventKind.COHORT_RECORDED, None, "direction"))
        for s in stage.steps:
            out += [(EventKind.STEP_SUBMITTED, s.id, holder), (EventKind.STEP_APPROVED, s.id, reviewer)]
        out.append((EventKind.STAGE_COMPLETED, None, None))
        if index == len(stages) - 1:
            out.append((EventKind.PROJECT_COMPLETED, None, reviewer))
    return out


async def walk_demo_path(project: ProjectDriver) -> None:
    for stage in load_process("demo").stages:
        if stage.id == "seeding":
            await project.update(Update.RECORD_COHORT, RecordCohort(actor="direction", cohort=COHORT))
        for step in stage.steps:
            await project.pass_step(step.id)


async def test_a_whole_path_leaves_exactly_the_expected_events_after_the_workflow_is_gone(
    database_url: str, tmp_path: Path, mailbox: Mailbox
) -> None:
    await asyncio.to_thread(upgrade, database_url)
    store = RecordStore.from_url(database_url)
    profile = make_profile()
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(time_skipping_server_binary()), data_converter=data_converter
    ) as env:
        await register_search_attributes(env.client)
        async with running(env.client, "records", store, mailbox.settings):
            project = await ProjectDriver.start(env.client, "records", profile, process="demo")
            await walk_demo_path(project)
            assert (await project.handle.result()).state is ProjectState.COMPLETED
            in_workflow = (await project.status(include_history=True)).history or []
    # Temporal is gone: the official record stays readable from our database alone.
    history = await store.history(profile.project_id)
    record = await store.project(profile.project_id)
    await store.close()
    assert [(e.kind, e.step, e.actor) for e in history] == expected_kinds()
    assert history == in_workflow
    assert all(a.at <= b.at for a, b in itertools.pairwise(history))
    assert record is not None and record.state is ProjectState.COMPLETED


async def written(reader: RecordStore, project_id: str) -> tuple[int, int, datetime | None]:
    """What the records database holds for a project: its events, its reminders, its projection's last update."""
    async with reader.sessions() as session:
        events = await session.scalar(select(func.count()).where(EventRow.project_id == project_id))
        reminders = await session.scalar(select(func.count()).where(ReminderRow.project_id == project_id))
        updated = await session.scalar(select(ProjectRow.updated_at).where(ProjectRow.project_id == project_id))
    return int(events or 0), int(reminders or 0), updated


async def no_activity_in_flight(project: ProjectDriver) -> None:
    """Until the workflow has no activity running. A send the cut would catch between the SMTP server's acceptance
    and its row writes the row again in real time (`RECORD_AFTER_SEND`, up to 40 s), and the time-skipping server
    does not skip time while an activity runs: the test's skips would wait for it."""
    for _ in range(300):  # bounded: 30 s
        if not (await project.handle.describe()).raw_description.pending_activities:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("activities still running 30 s after the path was recorded")


async def test_events_survive_a_database_outage_without_loss_or_duplicate(
    client: Client, task_queue: str, postgres_url: str, time_skipping_env: WorkflowEnvironment, mailbox: Mailbox
) -> None:
    await asyncio.to_thread(upgrade, postgres_url)
    server = make_url(postgres_url)  # LABELLISATION_TEST_POSTGRES_URL's server, or 127.0.0.1:5432
    proxy = CuttableProxy(server.port or 5432, server.host or "127.0.0.1")
    await proxy.start()
    store = RecordStore.from_url(server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    reader = RecordStore.from_url(postgres_url)  # straight to the server, not through the proxy
    profile = make_profile()
    try:
        async with running(client, task_queue, store, mailbox.settings):
            project = await ProjectDriver.start(client, task_queue, profile, process="demo")
            await project.pass_step("opportunity_study")
            await project.recorded(reader)
            await no_activity_in_flight(project)
            await proxy.cut()
            at_cut = await written(reader, profile.project_id)
            # The database is down: the project goes on accepting commands.
            await project.pass_step("association")
            status = await project.submit("feasibility_study")
            assert status.current_stage == "feasibility"
            await time_skipping_env.sleep(timedelta(minutes=3))  # retries with backoff meanwhile
            before_restore = await written(reader, profile.project_id)
            waiting = (await project.status(include_history=True)).history or []
            await proxy.restore()
            await time_skipping_env.sleep(timedelta(minutes=10))  # past the longest retry interval
            history = await project.recorded(reader)
            in_workflow = (await project.status(include_history=True)).history or []
            after_restore = await written(reader, profile.project_id)
    finally:
        await proxy.cut()
        await store.close()
        await reader.close()
    # Nothing reached the database while it was cut off, though the workflow had events waiting to be written.
    assert before_restore == at_cut
    assert len(waiting) > at_cut[0]
    # Once it was back, every event of the workflow's history was written, each once, in order.
    assert history == in_workflow
    assert after_restore[0] == len(in_workflow)
    ids = [e.event_id for e in history]
    assert len(ids) == len(set(ids))
    assert {e.event_id for e in waiting} <= set(ids)
    kinds = [e.kind for e in history if e.step == "association"]
    assert kinds == [EventKind.STEP_STARTED, EventKind.STEP_SUBMITTED, EventKind.STEP_APPROVED]
    path_events = [e for e in history if e.kind is not EventKind.REMINDER_SENT]
    assert path_events[-1].kind is EventKind.STEP_SUBMITTED and path_events[-1].step == "feasibility_study"
