"""Moving a running project to another version of its process: what would change, or why it cannot.

Pure: `plan_migration` reads the project and the new definition and says, in French, what moving would
change (steps added, removed, starting now, rules changed) or why it is refused. The `migrate` transition
applies the same plan; the workflow's `migration_plan` query answers a dry run with it.

The rules: the definition is the same process (`id`) at a later version; a step already started or decided
keeps its stage and comes before or in the current stage (a project never loses a step it worked on, and
never goes back to one); a step not started may vanish or move among the stages to come; a new step of a
stage already passed is refused, one of the current stage starts at once. Open steps keep their deadlines
(a deadline given to the holder does not move by itself: move it with `move_deadline` if the new rule
should apply); the new durations and reminder policy hold for what comes next.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from labellisation.catalogue import STATE_LABELS, STATUS_LABELS
from labellisation.french_calendar import format_date_fr
from labellisation.path.state import Project, ProjectState, StepStatus
from labellisation.process import ProcessDefinition, StepDefinition


class MigrationPlan(BaseModel):
    """What moving a project to `to_version` changes; `refusal` says why it cannot be done."""

    project_id: str
    process: str
    from_version: int
    to_version: int
    #: One French sentence per change, in the order of the new definition.
    changes: list[str] = Field(default_factory=list)
    #: Step ids: new in the definition, gone from it, and those that start with the migration.
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    starting: list[str] = Field(default_factory=list)
    #: Why it is refused (None: it can be done), and the refusal's code (`conflict` or `invalid`).
    refusal: str | None = None
    refusal_code: str | None = None
    #: Already at that version (or a later one): nothing to do.
    up_to_date: bool = False


def plan_migration(project: Project, new: ProcessDefinition) -> MigrationPlan:
    old = project.process
    plan = MigrationPlan(
        project_id=project.profile.project_id, process=old.id, from_version=old.version, to_version=new.version
    )
    refusal = _refusal(project, new)
    if refusal is not None:
        plan.refusal_code, plan.refusal = refusal
        plan.up_to_date = new.id == old.id and new.version <= old.version
        return plan
    old_stage_of = {step.id: stage.id for stage in old.stages for step in stage.steps}
    current = _index(new, project.current_stage_id())
    plan.changes.append(f"parcours « {new.id} » : version {old.version} → {new.version}")
    for index, stage in enumerate(new.stages):
        for step in stage.steps:
            state = project.find_step(step.id)
            if state is None:
                plan.added.append(step.id)
                starts = index == current
                plan.changes.append(
                    f"nouvelle étape « {step.label} » (phase « {stage.label} »)"
                    + (" : elle commence maintenant" if starts else "")
                )
                if starts:
                    plan.starting.append(step.id)
                continue
            plan.changes.extend(_step_changes(project, old, step, stage.label, old_stage_of[step.id] != stage.id))
            if state.status is StepStatus.NOT_STARTED and index == current:
                plan.starting.append(step.id)
                plan.changes.append(f"« {step.label} » entre dans la phase en cours : elle commence maintenant")
    for stage in old.stages:
        for step in stage.steps:
            if new.step(step.id) is None:
                plan.removed.append(step.id)
                plan.changes.append(f"étape « {step.label} » retirée (pas commencée)")
    if old.reminders != new.reminders:
        plan.changes.append("politique de rappels changée : les rappels à venir suivent la nouvelle")
    if (old.calendar, old.timezone) != (new.calendar, new.timezone):
        before, after = f"{old.calendar.value} ({old.timezone})", f"{new.calendar.value} ({new.timezone})"
        plan.changes.append(f"calendrier : {before} → {after}")
    return plan


def _refusal(project: Project, new: ProcessDefinition) -> tuple[str, str] | None:
    """(code, message) when the project cannot move to `new`; None when it can."""
    old = project.process
    if new.id != old.id:
        return "invalid", f"process : la définition « {new.id} » n'est pas le parcours du projet (« {old.id} »)"
    if project.finished:
        return "conflict", f"le projet est terminé ({STATE_LABELS[project.state]}) : il n'accepte plus de commande"
    if project.state is ProjectState.PAUSED:
        return "conflict", "le projet est en pause : reprenez-le d'abord"
    if new.version == old.version:
        return "conflict", f"le projet suit déjà la version {old.version} du parcours « {old.id} »"
    if new.version < old.version:
        return "conflict", f"le projet suit la version {old.version}, plus récente que la version {new.version}"
    current_id = project.current_stage_id()
    current = _index(new, current_id) if any(s.id == current_id for s in new.stages) else None
    for state in project.steps:
        label = _label(old, state.id)
        moved_to = new.step(state.id)
        if state.status is StepStatus.NOT_STARTED:
            if moved_to is not None and current is not None and new.stage_index_of(state.id) < current:
                return "conflict", f"l'étape « {label} » passerait dans une phase déjà passée"
            continue
        status = STATUS_LABELS[state.status]
        if moved_to is None:
            return "conflict", (
                f"l'étape « {label} » ({status}) disparaîtrait de la version {new.version} : "
                "un projet ne perd pas une étape commencée ou décidée"
            )
        new_stage = new.stages[new.stage_index_of(state.id)]
        if new_stage.id != state.stage:
            return "conflict", f"l'étape « {label} » ({status}) changerait de phase (vers « {new_stage.label} »)"
        if current is not None and new.stage_index_of(state.id) > current:
            return "conflict", f"l'étape « {label} » ({status}) serait dans une phase à venir (« {new_stage.label} »)"
    assert current is not None  # the current stage's steps are started: they kept it
    for stage in new.stages[:current]:
        for step in stage.steps:
            if project.find_step(step.id) is None:
                return "conflict", (
                    f"la nouvelle étape « {step.label} » appartient à la phase « {stage.label} », déjà passée"
                )
    return None


def _step_changes(
    project: Project, old: ProcessDefinition, step: StepDefinition, stage_label: str, moved: bool
) -> list[str]:
    before = old.step(step.id)
    assert before is not None
    changes = []
    if before.label != step.label:
        changes.append(f"étape « {before.label} » renommée « {step.label} »")
    if moved:
        changes.append(f"« {step.label} » passe dans la phase « {stage_label} »")
    if (before.duration, before.due) != (step.duration, step.due):
        state = project.find_step(step.id)
        kept = ""
        if state is not None and state.status is not StepStatus.NOT_STARTED and state.due_at is not None:
            kept = f" ; l'échéance en cours reste le {format_date_fr(state.due_at, old.timezone)}"
        changes.append(f"« {step.label} » : échéance {_rule(before)} → {_rule(step)}{kept}")
    if before.requires_cohort != step.requires_cohort:
        changes.append(f"« {step.label} » : résultats de cohorte {'exigés' if step.requires_cohort else 'plus exigés'}")
    return changes


def _rule(step: StepDefinition) -> str:
    if step.due is not None:
        return f"{step.due.anchor.value} {step.due.offset}"
    return str(step.duration)


def _label(process: ProcessDefinition, step_id: str) -> str:
    step = process.step(step_id)
    return step.label if step is not None else step_id


def _index(process: ProcessDefinition, stage_id: str) -> int:
    return next(i for i, stage in enumerate(process.stages) if stage.id == stage_id)
