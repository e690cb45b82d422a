"""The demo path as the kill tests drive it: a project with a short task timeout, then straight approvals."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client

from labellisation.contract import WORKFLOW_NAME, ProjectOutcome, StartProject, Update, workflow_id
from labellisation.path.commands import RecordCohort
from labellisation.path.state import Cohort, ProjectProfile
from labellisation.process import StageDefinition, load_process
from tests.support.driver import ProjectDriver

COHORT = Cohort(label="c1", enrolled=10, dropouts=0, presented=10, passed=9, positive_exits=9, job_offers=9)


async def start_demo(client: Client, profile: ProjectProfile, task_queue: str = "labellisation") -> ProjectDriver:
    """A short workflow task timeout: a task lost in a crash is retried after 2 s, not 10."""
    start = StartProject(profile=profile, process_id="demo", process=load_process("demo"))
    handle = await client.start_workflow(
        WORKFLOW_NAME, start, id=workflow_id(profile.project_id), task_queue=task_queue,
        task_timeout=timedelta(seconds=2), result_type=ProjectOutcome,
    )  # fmt: skip
    return ProjectDriver(handle)


async def approve_stages(project: ProjectDriver, stages: Sequence[StageDefinition], pause: float = 0) -> None:
    """Submit and approve every step of `stages` (decision ids `kill-<step>`), recording a cohort when needed."""
    for stage in stages:
        if stage.id == "seeding":
            await project.update(Update.RECORD_COHORT, RecordCohort(actor="direction", cohort=COHORT))
        for step in stage.steps:
            await project.submit(step.id)
            await asyncio.sleep(pause)
            await project.decide(step.id, "approve", decision_id=f"kill-{step.id}")
