"""Transitions: a project, a command and the time in; a new project or a refusal out.

Every function works on a deep copy, so a refusal never leaves anything
half-applied, and the same inputs always give the same result (the workflow
replays them).
"""

from __future__ import annotations

import copy
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from labellisation.catalogue import DECISION_LABELS
from labellisation.catalogue import STATE_LABELS as STATE_LABELS  # re-exported for older importers
from labellisation.catalogue import STATUS_LABELS as STATUS_LABELS
from labellisation.french_calendar import format_date_fr
from labellisation.path.commands import (
    AbandonProject,
    Command,
    DecideStep,
    Decision,
    MoveDeadline,
    PauseProject,
    RecordCohort,
    ResumeProject,
    SubmitStep,
)
from labellisation.path.deadlines import compute_due, end_of_day
from labellisation.path.state import (
    AWAITING_HOLDER,
    OPEN_STEP,
    Decided,
    Event,
    EventKind,
    Pause,
    Project,
    ProjectProfile,
    ProjectState,
    StepState,
    StepStatus,
)
from labellisation.process import ProcessDefinition


class RefusalCode(StrEnum):
    """Why a command is refused; the API maps these to 404, 409 and 422."""

    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID = "invalid"


class Refusal(BaseModel):
    code: RefusalCode
    message: str


class _Refused(Exception):
    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.refusal = Refusal(code=code, message=message)


def _conflict(message: str) -> _Refused:
    return _Refused(RefusalCode.CONFLICT, message)


def refuse_start(profile: ProjectProfile, process: ProcessDefinition, now: datetime) -> Refusal | None:
    """Why a project cannot start with this profile now: a planned opening, or a deadline anchored on it, past.

    The opening declaration is due three months before the opening (`fnep`): a project whose declaration
    date has already gone by would start late on a legal step, so it is refused like a past opening.
    """
    opening = end_of_day(profile.planned_opening, process.timezone)
    if opening <= now:
        day = format_date_fr(profile.planned_opening)
        return Refusal(code=RefusalCode.INVALID, message=f"planned_opening : l'ouverture prévue ({day}) est passée")
    for stage in process.stages:
        for step in stage.steps:
            if step.due is None:
                continue
            due = compute_due(step, now, profile, process)
            if due <= now:
                return Refusal(
                    code=RefusalCode.INVALID,
                    message=f"planned_opening : avec une ouverture le {format_date_fr(profile.planned_opening)}, "
                    f"l'étape « {step.label} » aurait dû être faite le {format_date_fr(due, process.timezone)} : "
                    "choisissez une date d'ouverture plus lointaine",
                )
    return None


def start_project(profile: ProjectProfile, process: ProcessDefinition, now: datetime, actor: str) -> Project:
    """A new project whose first stage is under way."""
    steps = [StepState(id=step.id, stage=stage.id) for stage in process.stages for step in stage.steps]
    project = Project(profile=profile, process=process, steps=steps, started_at=now, updated_at=now)
    _emit(
        project,
        now,
        EventKind.PROJECT_STARTED,
        actor=actor,
        data={
            "process": process.id,
            "process_version": process.version,
            "planned_opening": profile.planned_opening.isoformat(),
        },
    )
    _start_stage(project, now)
    return project


def apply(project: Project, command: Command, now: datetime) -> Project | Refusal:
    """Apply one command; on refusal the given project is untouched."""
    if isinstance(command, DecideStep) and command.decision_id in project.decisions:
        return _retried_decision(project, command)
    new = _copy(project)
    try:
        _HANDLERS[type(command)](new, command, now)
    except _Refused as refused:
        return refused.refusal
    new.updated_at = now
    return new


def note_deadlines(project: Project, now: datetime) -> Project:
    """Record every deadline that has passed since the last wake-up."""
    if project.pause is not None or project.finished:
        return project
    due = [
        s
        for s in project.steps
        if s.status in AWAITING_HOLDER and s.due_at and not s.deadline_noted and s.due_at <= now
    ]
    if not due:
        return project
    new = _copy(project)
    for step in new.steps:
        if step.id in {s.id for s in due}:
            step.deadline_noted = True
            _emit(new, now, EventKind.DEADLINE_PASSED, step=step.id, data={"due_at": _iso(step.due_at)})
    return new


def mark_reminder_sent(
    project: Project, reminder_id: str, kind: str, step: str | None, to: list[str], now: datetime
) -> Project:
    """Keep a sent reminder: it never goes out again, and the history shows it."""
    if reminder_id in project.sent_reminders:
        return project
    new = _copy(project)
    new.sent_reminders.add(reminder_id)
    _emit(new, now, EventKind.REMINDER_SENT, step=step, data={"reminder_id": reminder_id, "kind": kind, "to": to})
    return new


def record_refused_signal(project: Project, command: DecideStep, refusal: Refusal, now: datetime) -> Project:
    """Keep a refused signal in the history without changing anything else."""
    new = _copy(project)
    _emit(
        new,
        now,
        EventKind.SIGNAL_REFUSED,
        step=command.step,
        actor=command.actor,
        comment=command.comment or None,
        data={
            "decision": command.decision.value,
            "decision_id": command.decision_id,
            "reason": refusal.message,
            "code": refusal.code.value,
        },
    )
    return new


# -- handlers -------------------------------------------------------------------------


def _submit(project: Project, command: SubmitStep, now: datetime) -> None:
    step = _open_step(project, command.step)
    if step.status not in AWAITING_HOLDER:
        raise _conflict(_not_awaiting_holder(project, step))
    definition = project.process.step(step.id)
    if definition is not None and definition.requires_cohort and not project.cohorts:
        raise _conflict(f"{_name(project, step)} : enregistrez d'abord les résultats d'au moins une cohorte")
    step.status = StepStatus.SUBMITTED
    step.submitted_at = now
    step.decided_at = None
    step.submissions += 1
    step.documents = list(command.documents)
    _emit(
        project,
        now,
        EventKind.STEP_SUBMITTED,
        step=step.id,
        actor=command.actor,
        comment=command.comment or None,
        data={"documents": [d.model_dump() for d in command.documents], "submission": step.submissions},
    )


def _decide(project: Project, command: DecideStep, now: datetime) -> None:
    step = _open_step(project, command.step)
    if step.status is not StepStatus.SUBMITTED:
        if step.status in (StepStatus.APPROVED, StepStatus.REJECTED):
            raise _conflict(f"{_name(project, step)} est déjà décidée ({STATUS_LABELS[step.status]})")
        raise _conflict(f"{_name(project, step)} n'a pas été soumise ({STATUS_LABELS[step.status]}) : rien à décider")
    step.decided_at = now
    data = {"decision": command.decision.value, "decision_id": command.decision_id}
    if command.decision_id is not None:
        project.decisions[command.decision_id] = Decided(step=step.id, decision=command.decision.value)
    if command.decision is Decision.APPROVE:
        step.status = StepStatus.APPROVED
        _emit(
            project,
            now,
            EventKind.STEP_APPROVED,
            step=step.id,
            actor=command.actor,
            comment=command.comment or None,
            data=data,
        )
        _advance(project, now, command.actor)
    elif command.decision is Decision.REQUEST_CHANGES:
        step.status = StepStatus.CHANGES_REQUESTED
        _emit(
            project,
            now,
            EventKind.CHANGES_REQUESTED,
            step=step.id,
            actor=command.actor,
            comment=command.comment,
            data=data,
        )
    else:
        step.status = StepStatus.REJECTED
        project.state = ProjectState.REJECTED
        _emit(
            project, now, EventKind.STEP_REJECTED, step=step.id, actor=command.actor, comment=command.comment, data=data
        )


def _move_deadline(project: Project, command: MoveDeadline, now: datetime) -> None:
    step = _open_step(project, command.step)
    if step.status not in OPEN_STEP:
        raise _conflict(f"{_name(project, step)} est {STATUS_LABELS[step.status]} : son échéance ne peut pas changer")
    new_due = end_of_day(command.due_on, project.process.timezone)
    if new_due <= now:
        raise _Refused(
            RefusalCode.INVALID, f"due_on : la nouvelle échéance ({command.due_on.isoformat()}) est déjà passée"
        )
    previous = step.due_at
    step.due_at = new_due
    step.due_set_at = now
    step.deadline_noted = False
    _emit(
        project,
        now,
        EventKind.DEADLINE_MOVED,
        step=step.id,
        actor=command.actor,
        comment=command.reason,
        data={"previous_due_at": _iso(previous), "due_at": _iso(new_due)},
    )


def _pause(project: Project, command: PauseProject, now: datetime) -> None:
    _check_active(project)
    if command.review_on < _local_today(project, now):
        raise _Refused(
            RefusalCode.INVALID, f"review_on : la date de réexamen ({command.review_on.isoformat()}) est déjà passée"
        )
    project.state = ProjectState.PAUSED
    project.pause = Pause(since=now, reason=command.reason, review_on=command.review_on)
    _emit(
        project,
        now,
        EventKind.PROJECT_PAUSED,
        actor=command.actor,
        comment=command.reason,
        data={"review_on": command.review_on.isoformat()},
    )


def _resume(project: Project, command: ResumeProject, now: datetime) -> None:
    _check_not_finished(project)
    if project.pause is None:
        raise _conflict("le projet n'est pas en pause")
    paused_for = now - project.pause.since
    for step in project.steps:
        if step.status in OPEN_STEP and step.due_at is not None:
            step.due_at = step.due_at + paused_for
            step.due_set_at = now
    project.pause = None
    project.state = ProjectState.ACTIVE
    _emit(
        project,
        now,
        EventKind.PROJECT_RESUMED,
        actor=command.actor,
        data={"paused_seconds": int(paused_for.total_seconds())},
    )


def _abandon(project: Project, command: AbandonProject, now: datetime) -> None:
    _check_not_finished(project)
    project.state = ProjectState.ABANDONED
    _emit(project, now, EventKind.PROJECT_ABANDONED, actor=command.actor, comment=command.reason)


def _record_cohort(project: Project, command: RecordCohort, now: datetime) -> None:
    _check_active(project)
    cohort_steps = [s for s in project.steps if (d := project.process.step(s.id)) is not None and d.requires_cohort]
    if not any(s.status is not StepStatus.NOT_STARTED for s in cohort_steps):
        raise _conflict("les résultats de cohorte s'enregistrent à partir de l'amorçage (après l'ouverture)")
    if any(c.label == command.cohort.label for c in project.cohorts):
        raise _conflict(f"la cohorte « {command.cohort.label} » est déjà enregistrée")
    project.cohorts.append(command.cohort)
    _emit(project, now, EventKind.COHORT_RECORDED, actor=command.actor, data=command.cohort.model_dump())


_HANDLERS: dict[type[Any], Any] = {
    SubmitStep: _submit,
    DecideStep: _decide,
    MoveDeadline: _move_deadline,
    PauseProject: _pause,
    ResumeProject: _resume,
    AbandonProject: _abandon,
    RecordCohort: _record_cohort,
}


# -- helpers --------------------------------------------------------------------------


def _retried_decision(project: Project, command: DecideStep) -> Project | Refusal:
    assert command.decision_id is not None
    earlier = project.decisions[command.decision_id]
    if earlier.step == command.step and earlier.decision == command.decision.value:
        return project
    decided = DECISION_LABELS.get(Decision(earlier.decision), earlier.decision)
    step = project.find_step(earlier.step)
    where = _name(project, step) if step is not None else f"l'étape {earlier.step}"
    return Refusal(
        code=RefusalCode.CONFLICT,
        message=f"decision_id {command.decision_id!r} a déjà servi pour une autre décision ({decided} : {where})",
    )


def _open_step(project: Project, step_id: str) -> StepState:
    """The step named by a command, once the project accepts commands at all."""
    step = project.find_step(step_id)
    if step is None:
        known = ", ".join(s.id for s in project.steps)
        raise _Refused(RefusalCode.NOT_FOUND, f"étape inconnue {step_id!r} (étapes du parcours : {known})")
    _check_active(project)
    return step


def _check_not_finished(project: Project) -> None:
    if project.finished:
        raise _conflict(f"le projet est terminé ({STATE_LABELS[project.state]}) : il n'accepte plus de commande")


def _check_active(project: Project) -> None:
    _check_not_finished(project)
    if project.state is ProjectState.PAUSED:
        raise _conflict("le projet est en pause : reprenez-le d'abord")


def _not_awaiting_holder(project: Project, step: StepState) -> str:
    if step.status is StepStatus.NOT_STARTED:
        current = project.process.stages[project.stage_index].label
        return f"{_name(project, step)} n'a pas encore commencé (phase en cours : {current})"
    if step.status is StepStatus.SUBMITTED:
        return f"{_name(project, step)} est déjà soumise et attend la décision de la FNEP"
    return f"{_name(project, step)} est déjà décidée ({STATUS_LABELS[step.status]})"


def _name(project: Project, step: StepState) -> str:
    definition = project.process.step(step.id)
    return f"l'étape « {definition.label if definition else step.id} »"


def _advance(project: Project, now: datetime, actor: str) -> None:
    while True:
        stage = project.process.stages[project.stage_index]
        if any(s.status is not StepStatus.APPROVED for s in project.steps if s.stage == stage.id):
            return
        _emit(project, now, EventKind.STAGE_COMPLETED, data={"stage": stage.id})
        if project.stage_index + 1 == len(project.process.stages):
            project.state = ProjectState.COMPLETED
            _emit(project, now, EventKind.PROJECT_COMPLETED, actor=actor)
            return
        project.stage_index += 1
        _start_stage(project, now)


def _start_stage(project: Project, now: datetime) -> None:
    stage = project.process.stages[project.stage_index]
    _emit(project, now, EventKind.STAGE_STARTED, data={"stage": stage.id})
    for definition in stage.steps:
        step = project.find_step(definition.id)
        assert step is not None
        step.status = StepStatus.IN_PROGRESS
        step.started_at = now
        step.due_at = compute_due(definition, now, project.profile, project.process)
        step.due_set_at = now
        step.deadline_noted = False
        _emit(project, now, EventKind.STEP_STARTED, step=step.id, data={"due_at": _iso(step.due_at)})


def _copy(project: Project) -> Project:
    """A copy to change: deep, except the events and the process definition, which are shared.

    Events are facts, never changed once emitted, and a definition is frozen: copying them made
    every command cost time in proportion to the project's history.
    """
    shared: dict[int, Any] = {id(event): event for event in project.events}
    shared[id(project.process)] = project.process
    return copy.deepcopy(project, shared)


def _emit(
    project: Project,
    now: datetime,
    kind: EventKind,
    *,
    step: str | None = None,
    actor: str | None = None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    event_id = f"{project.profile.project_id}-{project.next_event_number:06d}"
    project.next_event_number += 1
    project.events.append(
        Event(event_id=event_id, at=now, kind=kind, step=step, actor=actor, comment=comment, data=data or {})
    )


def _local_today(project: Project, now: datetime) -> Any:
    return now.astimezone(ZoneInfo(project.process.timezone)).date()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
