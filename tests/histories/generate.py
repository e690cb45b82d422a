"""Regenerate the committed workflow histories the replay test checks.

    .venv/bin/python -m tests.histories.generate v5

Runs representative projects on the time-skipping test server and writes each
history as JSON into the folder named (`tests/histories/v4/`). Commit the
folder and keep the older ones: each holds what a running project's history
looks like for one version of the workflow, and every later change to
`workflows/` must still replay them all. Projects start as `POST /projects`
starts them (since v4): the `started` update sent with the start. Since v5
(the patch `fair-clocks`), `changed_while_paused` also plays what the fair
clocks and the coordinator's new commands add: a pause extended, a decision
during it, the profile and the planned opening changed, the next stage
started at resume. Since v6 (the patch `news-emails`), every run sends the news of its events
(`send_news`). Since v7 (the patch `reminders-merged`), reminders to the same reader due at the same moment go
out as one e-mail (`send_reminders`), and a late reminder found at night waits for the next working morning (the
patch `catch-up-mornings`). Since v8 (the patch `news-mornings`), news found outside office hours waits for the
next working morning and rides with the reminders due to the same reader then (`send_reminders_with_news`): the
scenario `news_in_the_morning` plays it on the `fnep` process (the only one with a calendar). Since v9 (the patch
`sent-recorded-inline`), a record batch of the senders' events only (a reminder sent or refused) is recorded by a
local activity first (a `core_local_activity` marker), in the workflow task that marked it.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import WORKFLOW_NAME, StartProject, Update, workflow_id
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.mail.sink import start_sink
from labellisation.overview import static_details, static_summary
from labellisation.path.commands import (
    AbandonProject,
    ChangePlannedOpening,
    PauseProject,
    RecordCohort,
    ResumeProject,
    UpdateProfile,
)
from labellisation.path.state import Cohort, Holder, ProjectProfile
from labellisation.path.status import ProjectStatus
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.search_attributes import register_search_attributes
from labellisation.settings import Settings
from labellisation.temporal import time_skipping_server_binary
from tests.support.driver import ProjectDriver, running
from tests.support.profiles import make_profile

HERE = Path(__file__).parent
TASK_QUEUE = "histories"
CONTINUED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
COHORT = Cohort(label="2028-2030", enrolled=12, dropouts=1, presented=11, passed=10, positive_exits=11, job_offers=40)


async def full_path(project: ProjectDriver, env: WorkflowEnvironment) -> None:
    for stage in load_process("demo").stages:
        await env.sleep(timedelta(minutes=3))  # deadlines pass and reminders go out
        if stage.id == "seeding":
            await project.update(Update.RECORD_COHORT, RecordCohort(actor="direction", cohort=COHORT))
        for step in stage.steps:
            await project.pass_step(step.id)


async def changes_requested(project: ProjectDriver, env: WorkflowEnvironment) -> None:
    await project.submit("opportunity_study")
    await project.decide("opportunity_study", "request_changes", comment="Chiffrer les besoins")
    await env.sleep(timedelta(minutes=2))
    await project.pass_step("opportunity_study")
    await project.update(Update.ABANDON, AbandonProject(actor="coordination", reason="Fin de l'exemple"))


async def paused_and_resumed(project: ProjectDriver, env: WorkflowEnvironment) -> None:
    today = (await env.get_current_time()).date()
    await project.update(Update.PAUSE, PauseProject(actor="c", reason="Attente", review_on=today + timedelta(days=2)))
    await env.sleep(timedelta(days=3))
    await project.update(Update.RESUME, ResumeProject(actor="c"))
    await project.pass_step("opportunity_study")
    await project.update(Update.ABANDON, AbandonProject(actor="coordination", reason="Fin de l'exemple"))


async def rejected(project: ProjectDriver, env: WorkflowEnvironment) -> None:
    await project.submit("opportunity_study")
    await project.decide("opportunity_study", "reject", comment="Besoin non démontré")


async def continued_as_new(project: ProjectDriver, env: WorkflowEnvironment) -> None:
    for round_number in range(10):
        await project.submit("opportunity_study")
        await project.decide("opportunity_study", "request_changes", comment=f"Tour {round_number}")


async def changed_while_paused(project: ProjectDriver, env: WorkflowEnvironment) -> None:
    today = (await env.get_current_time()).date()
    await project.submit("opportunity_study")
    await project.update(Update.PAUSE, PauseProject(actor="c", reason="Attente", review_on=today + timedelta(days=1)))
    await env.sleep(timedelta(days=1))
    later = PauseProject(actor="c", reason="Vote reporté", review_on=today + timedelta(days=3))
    await project.update(Update.PAUSE, later)  # extended
    await project.decide("opportunity_study", "approve")  # decided during the pause: the next stage waits
    holder = Holder(name="Association EdP Belfort", email="presidence@edp-belfort.fr")
    await project.update(Update.UPDATE_PROFILE, UpdateProfile(actor="c", holder=holder, reason="Nouveau contact"))
    opening = ChangePlannedOpening(actor="c", planned_opening=date(2029, 3, 1), reason="Travaux plus longs")
    await project.update(Update.CHANGE_PLANNED_OPENING, opening)
    await env.sleep(timedelta(days=3))  # the pause reviews go out
    await project.update(Update.RESUME, ResumeProject(actor="c"))  # the association starts
    await env.sleep(timedelta(minutes=3))  # its deadline passes and its reminders go out
    await project.update(Update.ABANDON, AbandonProject(actor="coordination", reason="Fin de l'exemple"))


async def news_in_the_morning(project: ProjectDriver, env: WorkflowEnvironment) -> None:
    """An `fnep` project: the planned opening changes at 21:00 the evening before the holder's first reminder; the
    news waits for that morning and goes out in the reminder's e-mail."""
    status = await project.status()
    assert status.next_reminder is not None
    evening = status.next_reminder.at - timedelta(hours=12)
    await env.sleep(evening - await env.get_current_time())
    opening = ChangePlannedOpening(actor="c", planned_opening=date(2030, 9, 1), reason="Travaux plus longs")
    await project.update(Update.CHANGE_PLANNED_OPENING, opening)
    await env.sleep(timedelta(hours=13))
    await project.update(Update.ABANDON, AbandonProject(actor="coordination", reason="Fin de l'exemple"))


async def start(
    client: Client, profile: ProjectProfile, max_history_events: int | None, process_id: str = "demo"
) -> ProjectDriver:
    """A project started as the API starts one: update-with-start, the `started` update answering."""
    request = StartProject(
        profile=profile, process_id=process_id, process=load_process(process_id), max_history_events=max_history_events
    )
    operation: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WORKFLOW_NAME,
        request,
        id=workflow_id(profile.project_id),
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        static_summary=static_summary(profile),
        static_details=static_details(request.profile, request.process_id),
    )
    await client.execute_update_with_start_workflow(
        Update.STARTED, start_workflow_operation=operation, result_type=ProjectStatus
    )
    return ProjectDriver(await operation.workflow_handle())


SCENARIOS: dict[str, Callable[[ProjectDriver, WorkflowEnvironment], Awaitable[None]]] = {
    "full_path": full_path,
    "changes_requested": changes_requested,
    "paused_and_resumed": paused_and_resumed,
    "rejected": rejected,
    "changed_while_paused": changed_while_paused,
    "news_in_the_morning": news_in_the_morning,
    "continued_as_new": continued_as_new,  # last: its project stays active, its reminders going on
}


async def main(version: str) -> None:
    folder = HERE / version
    folder.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/records.db"
        await asyncio.to_thread(upgrade, url)
        store = RecordStore.from_url(url)
        port = free_port()
        sink = start_sink(Path(tmp) / "outbox", port)
        settings = Settings(smtp_port=port, data_dir=Path(tmp))
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(time_skipping_server_binary()), data_converter=data_converter
        )
        try:
            await register_search_attributes(env.client)
            async with running(env.client, TASK_QUEUE, store, settings):
                for name, scenario in SCENARIOS.items():
                    limit = 100 if name == "continued_as_new" else None
                    process_id = "fnep" if name == "news_in_the_morning" else "demo"
                    profile = make_profile(f"history-{name.replace('_', '-')}")
                    project = await start(env.client, profile, limit, process_id)
                    await scenario(project, env)
                    await project.recorded(store)
                    first = env.client.get_workflow_handle(
                        project.handle.id, run_id=project.handle.first_execution_run_id
                    )
                    history = await first.fetch_history()
                    for _ in range(100):  # the first run continues as new once its records and news are settled
                        if name != "continued_as_new" or history.events[-1].event_type == CONTINUED:
                            break
                        await asyncio.sleep(0.1)
                        history = await first.fetch_history()
                    (folder / f"{name}.json").write_text(history.to_json())
                    print(f"{name}: {len(history.events)} events")
                    if name == "continued_as_new":  # the next run starts from the carried state
                        started = (await project.handle.fetch_history()).events[0]
                        assert started.workflow_execution_started_event_attributes.continued_execution_run_id
                        following = await env.client.get_workflow_handle(
                            project.handle.id,
                            run_id=(await project.handle.describe()).run_id,
                        ).fetch_history()
                        (folder / f"{name}_last_run.json").write_text(following.to_json())
        finally:
            await env.shutdown()
            sink.stop()
            await store.close()


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].startswith("v"):
        sys.exit("usage: python -m tests.histories.generate vN  (a new folder for this version of the workflow)")
    asyncio.run(main(sys.argv[1]))
