"""A project's status rebuilt from the records database, for a project whose workflow is gone.

Temporal deletes a closed workflow after the namespace's retention; the records database keeps the
project's row (profile, state, stage) and every event. Pure: the events are folded back into the
project's steps, pause and cohorts, and the model's own `project_status` renders them, so the answer
has the shape and the counting of the workflow's (`source` says `records`, and no reminder is planned:
nothing runs any more to send one).

The steps' structure comes from the process definition shipped under the project's process id, completed
by what the events show (a stage or step the shipped version lacks gets its id as label).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from labellisation.path.clocks import FIRST_CLOCK_RULES, work_calendar
from labellisation.path.state import (
    OPEN_STEP,
    Cohort,
    Event,
    EventKind,
    Pause,
    PausedSpan,
    Project,
    ProjectProfile,
    ProjectState,
    StepState,
    StepStatus,
)
from labellisation.path.status import ProjectStatus, project_status
from labellisation.process import Calendar, ProcessDefinition, StageDefinition, StepDefinition
from labellisation.records.schema import ProjectRecord

RECORDS = "records"
#: A step the shipped definition does not know: its deadline comes from the events, never from this.
_UNKNOWN_DURATION = "P1D"


def status_from_records(
    record: ProjectRecord, events: Sequence[Event], shipped: ProcessDefinition | None, now: datetime
) -> ProjectStatus:
    """The status of a project from its records row and events (oldest first), counted at `now`."""
    project = rebuild_project(record, events, shipped)
    status = project_status(project, now)
    return status.model_copy(update={"next_reminder": None, "upcoming_reminders": [], "source": RECORDS})


def rebuild_project(record: ProjectRecord, events: Sequence[Event], shipped: ProcessDefinition | None) -> Project:
    """The project as its events left it: steps with their dates, pauses, cohorts; state and stage from the row."""
    process = _definition(record, events, shipped)
    started = next((e for e in events if e.kind is EventKind.PROJECT_STARTED), None)
    stage_ids = [s.id for s in process.stages]
    project = Project(
        profile=ProjectProfile.model_validate(record.profile),
        process=process,
        state=record.state,
        stage_index=stage_ids.index(record.current_stage) if record.current_stage in stage_ids else 0,
        steps=[StepState(id=d.id, stage=s.id) for s in process.stages for d in s.steps],
        events=list(events),
        next_event_number=len(events) + 1,
        started_at=started.at if started is not None else record.updated_at,
        updated_at=record.updated_at,
        clock_rules=int(started.data.get("clock_rules", FIRST_CLOCK_RULES))
        if started is not None
        else FIRST_CLOCK_RULES,
    )
    steps = {step.id: step for step in project.steps}
    pause: Pause | None = None
    for event in events:
        step = steps.get(event.step) if event.step is not None else None
        if step is not None:
            _step_event(step, event)
        elif event.kind is EventKind.PLANNED_OPENING_CHANGED:
            for step_id, moved in (event.data.get("deadlines") or {}).items():
                if step_id in steps:
                    steps[step_id].due_at = _moment(moved.get("due_at"))
        elif event.kind is EventKind.PROJECT_PAUSED:
            since = pause.since if pause is not None else event.at  # pausing a paused project extends it
            pause = Pause(
                since=since, reason=event.comment or "", review_on=date.fromisoformat(event.data["review_on"])
            )
        elif event.kind is EventKind.PROJECT_RESUMED:
            _resumed(project, pause.since if pause is not None else event.at, event)
            pause = None
        elif event.kind is EventKind.COHORT_RECORDED:
            project.cohorts.append(Cohort.model_validate(event.data))
    project.pause = pause if record.state is ProjectState.PAUSED else None
    return project


def _step_event(step: StepState, event: Event) -> None:
    kind, at = event.kind, event.at
    if kind is EventKind.STEP_STARTED:
        step.status, step.started_at, step.due_set_at = StepStatus.IN_PROGRESS, at, at
        step.due_at = _moment(event.data.get("due_at"))
        step.deadline_noted = False
    elif kind is EventKind.STEP_SUBMITTED:
        step.status, step.submitted_at, step.decided_at = StepStatus.SUBMITTED, at, None
        step.submissions += 1
    elif kind in _DECIDED:
        step.status, step.decided_at = _DECIDED[kind], at
        if "due_at" in event.data:  # fair clocks: sent back, due again at the later of its deadline and the delay
            step.due_at, step.due_set_at = _moment(event.data["due_at"]), at
    elif kind is EventKind.DEADLINE_MOVED:
        step.due_at, step.due_set_at, step.deadline_noted = _moment(event.data.get("due_at")), at, False
    elif kind is EventKind.DEADLINE_PASSED:
        step.deadline_noted = True


_DECIDED = {
    EventKind.STEP_APPROVED: StepStatus.APPROVED,
    EventKind.CHANGES_REQUESTED: StepStatus.CHANGES_REQUESTED,
    EventKind.STEP_REJECTED: StepStatus.REJECTED,
}


def _resumed(project: Project, since: datetime, event: Event) -> None:
    """What resume did to the open deadlines, from what its event recorded.

    Fair clocks (`paused_days`): whole days on the project's calendar, except the deadlines anchored on the
    planned opening, and the pause kept for the clocks counted from before it; first rules: every open
    deadline moved by `paused_seconds`, exactly.
    """
    fair_days = event.data.get("paused_days")
    calendar = work_calendar(project)
    for step in project.steps:
        if step.status not in OPEN_STEP or step.due_at is None:
            continue
        definition = project.process.step(step.id)
        if fair_days is None:
            step.due_at += timedelta(seconds=int(event.data.get("paused_seconds", 0)))
        elif definition is None or definition.due is None:
            step.due_at = calendar.shift_days(step.due_at, float(fair_days))
        step.due_set_at = event.at
    if fair_days is not None:
        project.pauses.append(PausedSpan(since=since, until=event.at, days=float(fair_days)))


def _definition(record: ProjectRecord, events: Sequence[Event], shipped: ProcessDefinition | None) -> ProcessDefinition:
    """The shipped definition of the project's process, completed by the stages and steps its events show."""
    base = shipped if shipped is not None and shipped.id == record.process else None
    stages: dict[str, tuple[str, list[StepDefinition]]] = {
        s.id: (s.label, list(s.steps)) for s in (base.stages if base is not None else [])
    }
    known = {d.id for _, steps in stages.values() for d in steps}
    current: str | None = None
    for event in events:
        if event.kind is EventKind.STAGE_STARTED:
            current = str(event.data.get("stage"))
            stages.setdefault(current, (current, []))
        elif event.kind is EventKind.STEP_STARTED and event.step is not None and event.step not in known:
            stage = current or record.current_stage
            stages.setdefault(stage, (stage, []))[1].append(
                StepDefinition(id=event.step, label=event.step, duration=_UNKNOWN_DURATION)
            )
            known.add(event.step)
        elif event.kind is EventKind.PROJECT_MIGRATED:
            removed = set(event.data.get("removed") or [])
            for _, steps in stages.values():
                steps[:] = [d for d in steps if d.id not in removed]
    built = [StageDefinition(id=id_, label=label, steps=steps) for id_, (label, steps) in stages.items() if steps]
    if base is not None:
        return base.model_copy(update={"version": record.process_version, "stages": built})
    return ProcessDefinition(
        id=record.process, version=record.process_version, label=record.process, calendar=Calendar.NONE, stages=built
    )


def _moment(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) else None
