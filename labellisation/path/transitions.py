"""Transitions: a project, a command and the time in; a new project or a refusal out.

Every function works on a deep copy, so a refusal never leaves anything
half-applied, and the same inputs always give the same result (the workflow
replays them).
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from labellisation.catalogue import DECISION_LABELS
from labellisation.catalogue import STATE_LABELS as STATE_LABELS  # re-exported for older importers
from labellisation.catalogue import STATUS_LABELS as STATUS_LABELS
from labellisation.french_calendar import format_date_fr
from labellisation.path.clocks import FIRST_CLOCK_RULES, fair, work_calendar
from labellisation.path.commands import (
    AbandonProject,
    ChangePlannedOpening,
    Command,
    DecideStep,
    Decision,
    MigrateProject,
    MoveDeadline,
    PauseProject,
    RecordCohort,
    ResumeProject,
    SubmitStep,
    UpdateProfile,
)
from labellisation.path.deadlines import changes_delay_end, compute_due, deadline_passed, end_of_day
from labellisation.path.limits import MAX_COHORTS
from labellisation.path.migration import plan_migration
from labellisation.path.state import (
    AWAITING_HOLDER,
    OPEN_STEP,
    Decided,
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
from labellisation.process import ProcessDefinition, StepDefinition


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
    date has already gone by would start late on a legal step, so it is refused like a past opening, naming
    the first opening date that works.
    """
    return _refuse_planned_opening(profile, process, now, steps=None)


#: How far ahead an opening may be planned: further, a date is a typing error, and the reminders counted
#: after it would run past the last year a date can have (9999).
MAX_OPENING_YEARS = 20
#: How far `first_workable_opening` looks.
_OPENING_SEARCH_DAYS = MAX_OPENING_YEARS * 366


def first_workable_opening(
    profile: ProjectProfile, process: ProcessDefinition, now: datetime, steps: Collection[str] | None = None
) -> date | None:
    """The first planned opening date with which neither the opening nor a deadline anchored on it is past.

    `steps`: the anchored steps that count (None: every one, as for a new project).
    """
    day = now.astimezone(ZoneInfo(process.timezone)).date()
    for _ in range(_OPENING_SEARCH_DAYS):
        candidate = profile.model_copy(update={"planned_opening": day})
        if end_of_day(day, process.timezone) > now and _late_anchored_step(candidate, process, now, steps) is None:
            return day
        day += timedelta(days=1)
    return None


def _refuse_planned_opening(
    profile: ProjectProfile, process: ProcessDefinition, now: datetime, steps: Collection[str] | None
) -> Refusal | None:
    """The start's check, for a new project (`steps` None) or for the anchored steps still to come (`steps`)."""
    opening = end_of_day(profile.planned_opening, process.timezone)
    day = format_date_fr(profile.planned_opening)
    if opening <= now:
        return Refusal(code=RefusalCode.INVALID, message=f"planned_opening : l'ouverture prévue ({day}) est passée")
    if opening - now > timedelta(days=MAX_OPENING_YEARS * 365):
        return Refusal(
            code=RefusalCode.INVALID,
            message=f"planned_opening : l'ouverture prévue ({day}) est à plus de {MAX_OPENING_YEARS} ans",
        )
    late = _late_anchored_step(profile, process, now, steps)
    if late is None:
        return None
    step, due = late
    first = first_workable_opening(profile, process, now, steps)
    return Refusal(
        code=RefusalCode.INVALID,
        message=f"planned_opening : avec une ouverture le {format_date_fr(profile.planned_opening)}, "
        f"l'étape « {step.label} » aurait dû être faite le {format_date_fr(due, process.timezone)} : "
        "choisissez une date d'ouverture plus lointaine"
        + (f" (au plus tôt le {format_date_fr(first)})" if first is not None else ""),
    )


def _late_anchored_step(
    profile: ProjectProfile, process: ProcessDefinition, now: datetime, steps: Collection[str] | None
) -> tuple[StepDefinition, datetime] | None:
    """The first step anchored on a project date whose deadline, with this profile, is already past."""
    for stage in process.stages:
        for step in stage.steps:
            if step.due is None or (steps is not None and step.id not in steps):
                continue
            due = compute_due(step, now, profile, process)
            if due <= now:
                return step, due
    return None


def start_project(
    profile: ProjectProfile,
    process: ProcessDefinition,
    now: datetime,
    actor: str,
    clock_rules: int = FIRST_CLOCK_RULES,
) -> Project:
    """A new project whose first stage is under way, its clocks following `clock_rules` (labellisation/path/clocks.py).

    The workflow gives new projects the latest rules (patch `fair-clocks`); the default is the first rules,
    those of every project built before the rules had a version.
    """
    steps = [StepState(id=step.id, stage=stage.id) for stage in process.stages for step in stage.steps]
    project = Project(
        profile=profile, process=process, steps=steps, started_at=now, updated_at=now, clock_rules=clock_rules
    )
    data: dict[str, Any] = {
        "process": process.id,
        "process_version": process.version,
        "planned_opening": profile.planned_opening.isoformat(),
    }
    if fair(project):
        data["clock_rules"] = clock_rules
    _emit(project, now, EventKind.PROJECT_STARTED, actor=actor, data=data)
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
        if s.status in AWAITING_HOLDER and s.due_at and not s.deadline_noted and deadline_passed(project, s.due_at, now)
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


def mark_delivery_failed(
    project: Project,
    key: str,
    kind: str,
    step: str | None,
    audience: str,
    refused: list[str],
    reason: str,
    now: datetime,
) -> Project:
    """Keep an e-mail the mail server refused for good (`key`: a reminder id or a news id): it never goes out
    again, and the history shows to whom and why."""
    if key in project.sent_reminders:
        return project
    new = _copy(project)
    new.sent_reminders.add(key)
    first = any(address not in project.refused_addresses for address in refused)
    new.refused_addresses.update(refused)
    data = {"key": key, "kind": kind, "audience": audience, "refused": refused, "reason": reason, "first": first}
    _emit(new, now, EventKind.DELIVERY_FAILED, step=step, data=data)
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
    step = _step_to_decide(project, command.step)
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
        if fair(project):
            data = {**data, "due_at": _iso(_give_changes_delay(project, step, now))}
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
    if new_due - now > timedelta(days=MAX_OPENING_YEARS * 365):  # beyond it the reminder dates overflow
        raise _Refused(
            RefusalCode.INVALID,
            f"due_on : la nouvelle échéance ({command.due_on.isoformat()}) est à plus de {MAX_OPENING_YEARS} ans",
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
    """Pause an active project; with the fair clocks, pausing a paused one extends it (new reason and review date)."""
    extended = project.pause if fair(project) and project.state is ProjectState.PAUSED else None
    if extended is None:
        _check_active(project)
    if command.review_on < _local_today(project, now):
        raise _Refused(
            RefusalCode.INVALID, f"review_on : la date de réexamen ({command.review_on.isoformat()}) est déjà passée"
        )
    project.state = ProjectState.PAUSED
    since = extended.since if extended is not None else now
    project.pause = Pause(since=since, reason=command.reason, review_on=command.review_on)
    data = {"review_on": command.review_on.isoformat()}
    if extended is not None:
        data["previous_review_on"] = extended.review_on.isoformat()
    _emit(project, now, EventKind.PROJECT_PAUSED, actor=command.actor, comment=command.reason, data=data)


def _resume(project: Project, command: ResumeProject, now: datetime) -> None:
    _check_not_finished(project)
    if project.pause is None:
        raise _conflict("le projet n'est pas en pause")
    paused_for = now - project.pause.since
    data: dict[str, Any] = {"paused_seconds": int(paused_for.total_seconds())}
    if fair(project):
        data["paused_days"] = _give_back_paused_days(project, project.pause, now)
    else:
        for step in project.steps:
            if step.status in OPEN_STEP and step.due_at is not None:
                step.due_at = step.due_at + paused_for
                step.due_set_at = now
    project.pause = None
    project.state = ProjectState.ACTIVE
    _emit(project, now, EventKind.PROJECT_RESUMED, actor=command.actor, data=data)
    stage = project.process.stages[project.stage_index]
    if fair(project) and all(s.status is StepStatus.NOT_STARTED for s in project.steps if s.stage == stage.id):
        _start_stage(project, now)  # a stage completed during the pause: the next one starts now


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
    if len(project.cohorts) >= MAX_COHORTS:
        raise _conflict(f"{MAX_COHORTS} cohortes sont déjà enregistrées : c'est le maximum par projet")
    project.cohorts.append(command.cohort)
    _emit(project, now, EventKind.COHORT_RECORDED, actor=command.actor, data=command.cohort.model_dump())


def _change_planned_opening(project: Project, command: ChangePlannedOpening, now: datetime) -> None:
    """The profile's planned opening changes, and with it every anchored deadline of the steps to come."""
    _check_not_finished(project)
    anchored = [d for stage in project.process.stages for d in stage.steps if d.due is not None]
    to_come = {s.id for s in project.steps if s.status is StepStatus.NOT_STARTED or s.status in OPEN_STEP}
    following = {d.id for d in anchored if d.id in to_come}
    if not following:
        labels = ", ".join(f"« {d.label} »" for d in anchored) or "aucune"
        raise _conflict(
            f"aucune étape à venir ne dépend plus de la date d'ouverture prévue (étapes fixées par elle : {labels}) : "
            "elle ne peut plus changer"
        )
    previous = project.profile.planned_opening
    if command.planned_opening == previous:
        return
    profile = project.profile.model_copy(update={"planned_opening": command.planned_opening})
    refusal = _refuse_planned_opening(profile, project.process, now, following)
    if refusal is not None:
        raise _Refused(refusal.code, refusal.message)
    project.profile = profile
    moved: dict[str, dict[str, str | None]] = {}
    for step in project.steps:
        definition = project.process.step(step.id)
        if step.id in following and step.status in OPEN_STEP and definition is not None:
            due = compute_due(definition, now, profile, project.process)
            moved[step.id] = {"previous_due_at": _iso(step.due_at), "due_at": _iso(due)}
            step.due_at, step.due_set_at, step.deadline_noted = due, now, False
    _emit(
        project,
        now,
        EventKind.PLANNED_OPENING_CHANGED,
        actor=command.actor,
        comment=command.reason,
        data={
            "previous_planned_opening": previous.isoformat(),
            "planned_opening": command.planned_opening.isoformat(),
            "deadlines": moved,
        },
    )


def _update_profile(project: Project, command: UpdateProfile, now: datetime) -> None:
    """Profile fields change (the holder's contact…): the event keeps them before and after."""
    _check_not_finished(project)
    updated = project.profile.model_copy(update=command.changes())
    fields = {name for name in command.changes() if getattr(updated, name) != getattr(project.profile, name)}
    if not fields:
        return
    before = project.profile.model_dump(mode="json", include=fields)
    project.profile = updated
    after = updated.model_dump(mode="json", include=fields)
    _emit(
        project,
        now,
        EventKind.PROFILE_UPDATED,
        actor=command.actor,
        comment=command.reason,
        data={"before": before, "after": after},
    )


def _migrate(project: Project, command: MigrateProject, now: datetime) -> None:
    """The project follows a new version of its process (labellisation/path/migration.py says what changes)."""
    plan = plan_migration(project, command.process)
    if plan.refusal is not None:
        raise _Refused(RefusalCode(plan.refusal_code or RefusalCode.CONFLICT), plan.refusal)
    new = command.process
    current = project.current_stage_id()
    kept = {step.id: step for step in project.steps}
    project.steps = []
    for stage in new.stages:
        for definition in stage.steps:
            step = kept.get(definition.id) or StepState(id=definition.id, stage=stage.id)
            step.stage = stage.id
            project.steps.append(step)
    project.process = new
    project.stage_index = next(i for i, stage in enumerate(new.stages) if stage.id == current)
    _emit(
        project,
        now,
        EventKind.PROJECT_MIGRATED,
        actor=command.actor,
        comment=command.reason,
        data=plan.model_dump(include={"process", "from_version", "to_version", "changes", "added", "removed"}),
    )
    for step_id in plan.starting:
        starting = new.step(step_id)
        assert starting is not None
        _start_step(project, starting, now)


_HANDLERS: dict[type[Any], Any] = {
    SubmitStep: _submit,
    DecideStep: _decide,
    MoveDeadline: _move_deadline,
    PauseProject: _pause,
    ResumeProject: _resume,
    AbandonProject: _abandon,
    RecordCohort: _record_cohort,
    ChangePlannedOpening: _change_planned_opening,
    UpdateProfile: _update_profile,
    MigrateProject: _migrate,
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


def _step_to_decide(project: Project, step_id: str) -> StepState:
    """The step a decision is about: with the fair clocks, a step submitted before a pause is decided during it."""
    if fair(project) and project.state is ProjectState.PAUSED:
        step = project.find_step(step_id)
        if step is not None and step.status is StepStatus.SUBMITTED:
            return step
    return _open_step(project, step_id)


def _give_changes_delay(project: Project, step: StepState, now: datetime) -> datetime | None:
    """Fair clocks: a step sent back is due again at the later of its deadline and the changes delay.

    Its holder reminders count again from now (those whose time passed while FNEP held it are skipped).
    """
    end = changes_delay_end(project, now)
    if step.due_at is None or end > step.due_at:
        step.due_at = end
        step.deadline_noted = False
    step.due_set_at = now
    return step.due_at


def _give_back_paused_days(project: Project, pause: Pause, now: datetime) -> float:
    """Fair clocks, at resume: open deadlines move by the whole days paused, except those anchored on a project
    date (the planned opening), which follow that date; the pause is kept for the clocks counted from before it."""
    calendar = work_calendar(project)
    days = calendar.days_between(pause.since, now)
    for step in project.steps:
        if step.status in OPEN_STEP and step.due_at is not None:
            definition = project.process.step(step.id)
            if definition is None or definition.due is None:
                step.due_at = calendar.shift_days(step.due_at, days)
            step.due_set_at = now
    project.pauses.append(PausedSpan(since=pause.since, until=now, days=days))
    return days


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
        if project.pause is not None:
            return  # decided during a pause (fair clocks): the next stage starts at resume
        _start_stage(project, now)


def _start_stage(project: Project, now: datetime) -> None:
    stage = project.process.stages[project.stage_index]
    _emit(project, now, EventKind.STAGE_STARTED, data={"stage": stage.id})
    for definition in stage.steps:
        _start_step(project, definition, now)


def _start_step(project: Project, definition: StepDefinition, now: datetime) -> None:
    step = project.find_step(definition.id)
    assert step is not None
    step.status = StepStatus.IN_PROGRESS
    step.started_at = now
    step.due_at = compute_due(definition, now, project.profile, project.process, project.clock_rules)
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
