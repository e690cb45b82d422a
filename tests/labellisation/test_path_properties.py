"""Property tests: random command sequences never break the rules of the path.

A Hypothesis state machine starts a fnep project at a random stage, then sends
random actions (submit, approve, request changes, reject, move a deadline,
pause, resume, abandon, record a cohort, on random steps, some unknown) with
time passing by random amounts, through `apply` and `note_deadlines`. After
every single command it checks that:

- a stage's steps start only once every step of every earlier stage is approved;
- an approved or rejected step never changes again (nothing is decided twice);
- a finished project (completed, rejected, abandoned) refuses every command
  and stays exactly as it was;
- a pause followed by a resume never moves a deadline backwards (open steps
  move forward by exactly the paused time; with the fair clocks by the whole
  days paused, and deadlines anchored on the planned opening do not move);
- with the fair clocks (half of the runs): no holder clock runs while FNEP
  holds a step (no holder reminder planned for it, no day overdue), nothing
  is counted while paused (only the pause review is planned, days overdue are
  frozen and the same after the resume), and a step sent back for changes is
  not overdue before the changes delay;
- event ids strictly increase, without gaps or duplicates, and the history
  only ever grows at its end; a passed deadline is noted once;
- a refusal never changes the project it was given (nor does an acceptance:
  transitions work on a copy).

Starting at a random stage keeps runs short, which keeps Hypothesis fast both
when searching and when shrinking a failure to a small example.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from labellisation.path.clocks import FAIR_CLOCKS, FIRST_CLOCK_RULES, clocks_stopped_at
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
from labellisation.path.deadlines import changes_delay_end
from labellisation.path.reminders import ROLE_OF, Kind, Role, planned_reminders
from labellisation.path.state import (
    AWAITING_HOLDER,
    OPEN_STEP,
    Cohort,
    EventKind,
    Project,
    ProjectState,
    StepStatus,
)
from labellisation.path.status import project_status
from labellisation.path.transitions import Refusal, RefusalCode, apply, note_deadlines, start_project
from tests.support.path_helpers import DOC, T0, new_project
from tests.support.profiles import make_profile

STARTED = new_project()
FNEP = STARTED.process
CLOCK_RULES = (FIRST_CLOCK_RULES, FAIR_CLOCKS)
PARIS = ZoneInfo(FNEP.timezone)
STEP_IDS = [step.id for stage in FNEP.stages for step in stage.steps]
DECIDED = frozenset({StepStatus.APPROVED, StepStatus.REJECTED})
END_OF_DAY = time(23, 59, 59)

#: How often each kind of action is drawn. `advance` is the holder submitting and FNEP approving at once;
#: `abandon` always succeeds, so it is rare enough for a run to reach the label now and then.
WEIGHTS = {
    "advance": 30,
    "submit": 10,
    "approve": 8,
    "request_changes": 8,
    "move": 8,
    "resume": 8,
    "pause": 4,
    "reject": 6,
    "cohort": 4,
    "abandon": 1,
}
KINDS = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
#: Below this, `pick` aims at one of the open steps; from it on, at any step of the path or an unknown one.
AIM_ANYWHERE = 40


@dataclass(frozen=True)
class Action:
    kind: str
    #: Which step the action is about (see AIM_ANYWHERE).
    pick: int
    #: Time passing before the action.
    wait: timedelta
    #: Days from today (Paris) for a new deadline or a pause's review date; some are in the past.
    days: int = 30
    decision_id: str | None = None
    cohort: str = "2029"


ACTION = st.builds(
    Action,
    kind=st.sampled_from(KINDS),
    pick=st.integers(0, AIM_ANYWHERE + 15),
    wait=st.integers(0, 150 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
    days=st.integers(-5, 400),
    decision_id=st.sampled_from([None, None, "d-1", "d-2", "d-3"]),
    cohort=st.sampled_from(["2029", "2030", "2031"]),
)


def _cohort(label: str) -> RecordCohort:
    counts = {"enrolled": 12, "dropouts": 1, "presented": 11, "passed": 9, "positive_exits": 10, "job_offers": 30}
    return RecordCohort(actor="direction", cohort=Cohort(label=label, **counts))


def _walked_to(stage_index: int, rules: int) -> tuple[Project, datetime]:
    """A project whose first `stage_index` stages were approved, twenty days apart, and the time then."""
    project, now = start_project(make_profile("edp-belfort"), FNEP, T0, "coordination", rules), T0
    for stage in FNEP.stages[:stage_index]:
        for definition in stage.steps:
            now += timedelta(days=20)
            commands: list[Command] = [SubmitStep(actor="porteur", step=definition.id, documents=[DOC])]
            if definition.requires_cohort:
                commands.insert(0, _cohort("2028"))
            commands.append(DecideStep(actor="fnep", step=definition.id, decision=Decision.APPROVE))
            for command in commands:
                result = apply(project, command, now)
                assert isinstance(result, Project), result
                project = result
    assert project.stage_index == stage_index
    return project, now


#: One project at the start of each stage, for each clock rules; runs share them, as `Run` checks that no
#: transition changes its input.
STARTS = {rules: [_walked_to(index, rules) for index in range(len(FNEP.stages))] for rules in CLOCK_RULES}


def _target(project: Project, pick: int) -> str:
    open_steps = [s.id for s in project.steps if s.status in OPEN_STEP]
    if pick < AIM_ANYWHERE and open_steps:
        return open_steps[pick % len(open_steps)]
    candidates = [*STEP_IDS, "inconnue"]
    return candidates[pick % len(candidates)]


def _commands(project: Project, action: Action, now: datetime) -> list[Command]:
    """What the action sends; `advance` is several commands, as a holder and FNEP would send them."""
    step = _target(project, action.pick)
    submit = SubmitStep(actor="porteur", step=step, documents=[DOC])
    if action.kind == "advance":
        found, definition = project.find_step(step), FNEP.step(step)
        commands: list[Command] = []
        if definition is not None and definition.requires_cohort and not project.cohorts:
            commands.append(_cohort(action.cohort))
        if found is not None and found.status is not StepStatus.SUBMITTED:
            commands.append(submit)
        return [*commands, DecideStep(actor="fnep", step=step, decision=Decision.APPROVE)]
    decision_id = action.decision_id
    later = now.astimezone(PARIS).date() + timedelta(days=action.days)
    single: dict[str, Command] = {
        "submit": submit,
        "approve": DecideStep(actor="fnep", step=step, decision=Decision.APPROVE, decision_id=decision_id),
        "request_changes": DecideStep(
            actor="fnep", step=step, decision=Decision.REQUEST_CHANGES, comment="À compléter", decision_id=decision_id
        ),
        "reject": DecideStep(actor="fnep", step=step, decision=Decision.REJECT, comment="Non", decision_id=decision_id),
        "move": MoveDeadline(actor="coordination", step=step, due_on=later, reason="Décalage"),
        "pause": PauseProject(actor="coordination", reason="Attente", review_on=later),
        "resume": ResumeProject(actor="coordination"),
        "abandon": AbandonProject(actor="coordination", reason="Fin"),
        "cohort": _cohort(action.cohort),
    }
    return [single[action.kind]]


# -- the invariants --------------------------------------------------------------------


def _status(project: Project, step_id: str) -> StepStatus:
    step = project.find_step(step_id)
    assert step is not None, step_id
    return step.status


def check_invariants(before: Project, after: Project) -> None:
    """What must hold between a project and the next one, whatever happened in between."""
    # A stage starts only when every earlier stage is entirely approved; the current stage is the last started.
    started = [
        index
        for index, stage in enumerate(after.process.stages)
        if any(_status(after, s.id) is not StepStatus.NOT_STARTED for s in stage.steps)
    ]
    assert started == list(range(len(started))), f"stages started out of order: {started}"
    if after.stage_index != started[-1]:  # fair clocks: a stage completed during a pause, the next one waits
        assert after.clock_rules == FAIR_CLOCKS and after.pause is not None, "a stage started out of turn"
        assert after.stage_index == started[-1] + 1
    for stage in after.process.stages[: after.stage_index]:
        for s in stage.steps:
            assert _status(after, s.id) is StepStatus.APPROVED, f"{s.id} not approved before a later stage started"

    # Nothing decided changes again.
    for old in before.steps:
        if old.status in DECIDED:
            new = after.find_step(old.id)
            assert new is not None
            assert (new.status, new.decided_at, new.due_at) == (old.status, old.decided_at, old.due_at), old.id
    decided = [e.step for e in after.events if e.kind in (EventKind.STEP_APPROVED, EventKind.STEP_REJECTED)]
    assert len(decided) == len(set(decided)), "a step was decided twice"

    # The history only grows, at its end, with ids 1, 2, 3... and times that never go back.
    assert after.events[: len(before.events)] == before.events, "the history was rewritten"
    prefix = f"{after.profile.project_id}-"
    assert all(e.event_id.startswith(prefix) for e in after.events)
    numbers = [int(e.event_id.removeprefix(prefix)) for e in after.events]
    assert numbers == list(range(1, len(numbers) + 1)), "event ids are not 1, 2, 3... without gaps or repeats"
    assert after.next_event_number == len(numbers) + 1
    moments = [e.at for e in after.events]
    assert moments == sorted(moments), "an event is dated before an earlier one"

    # The first graduates are submitted only once a cohort's results are recorded.
    for stage in after.process.stages:
        for definition in stage.steps:
            step = after.find_step(definition.id)
            assert step is not None
            if definition.requires_cohort and step.submissions:
                assert after.cohorts, f"{definition.id} submitted without a cohort"

    # The project's state agrees with its steps.
    if after.state is ProjectState.COMPLETED:
        assert all(s.status is StepStatus.APPROVED for s in after.steps)
        assert after.events[-1].kind is EventKind.PROJECT_COMPLETED
    rejected = [s.id for s in after.steps if s.status is StepStatus.REJECTED]
    assert len(rejected) == (1 if after.state is ProjectState.REJECTED else 0), rejected
    if after.state is ProjectState.PAUSED:
        assert after.pause is not None
    if after.state is ProjectState.ACTIVE:
        assert after.pause is None
    if before.finished:
        assert after is before, "a finished project changed"


#: The reminders that measure the holder (a holder clock), whoever receives them.
HOLDER_CLOCK = {Kind.BEFORE_DUE, Kind.OVERDUE, Kind.CHANGES_PENDING, Kind.ESCALATION, Kind.PAUSE_ADVISED}
assert {kind for kind, role in ROLE_OF.items() if role is Role.HOLDER} <= HOLDER_CLOCK


def _overdue(project: Project, now: datetime) -> dict[str, int]:
    return {view.id: view.days_overdue for view in project_status(project, now).steps}


def check_clocks(project: Project, now: datetime) -> None:
    """Who holds the clock, at `now`."""
    overdue = _overdue(project, now)
    planned = planned_reminders(project)
    for step in project.steps:  # no holder clock while FNEP holds the step (every clock rules)
        if step.status is StepStatus.SUBMITTED:
            assert overdue[step.id] == 0, f"{step.id} overdue while FNEP holds it"
            assert not [r for r in planned if r.step == step.id and r.kind in HOLDER_CLOCK], step.id
    if project.pause is not None:  # nothing but the pause review while paused
        assert {r.kind for r in planned} <= {Kind.PAUSE_REVIEW}, planned
    if project.clock_rules < FAIR_CLOCKS:
        return
    for step in project.steps:  # every deadline ends a day
        if step.due_at is not None:
            assert step.due_at.astimezone(PARIS).time() == END_OF_DAY, (step.id, step.due_at)
    stopped = clocks_stopped_at(project)
    if stopped is not None:  # nothing counted while paused or once finished
        assert overdue == _overdue(project, stopped)
        assert overdue == _overdue(project, now + timedelta(days=400))


@dataclass
class Run:
    """One project driven by actions, checked after every command."""

    project: Project
    now: datetime
    #: Every step's deadline when the project was paused, to compare at resume.
    dues_at_pause: dict[str, datetime | None] | None = None
    #: Every step's days overdue and status when the project was paused (fair clocks), to compare at resume.
    overdue_at_pause: dict[str, tuple[int, StepStatus]] | None = None
    #: (step, deadline) of every DEADLINE_PASSED event so far.
    noted: set[tuple[str | None, object]] = field(default_factory=set)
    commands: int = 0
    refusals: int = 0

    def wait(self, duration: timedelta) -> None:
        self.now += duration
        before = self.project
        dump = before.model_dump()
        after = note_deadlines(before, self.now)
        assert before.model_dump() == dump, "note_deadlines changed the project it was given"
        check_invariants(before, after)
        if before.pause is not None or before.finished:
            assert after is before, "a deadline noted on a paused or finished project"
        for e in after.events[len(before.events) :]:
            assert e.kind is EventKind.DEADLINE_PASSED
            step = after.find_step(e.step or "")
            assert step is not None and step.status in AWAITING_HOLDER and step.due_at is not None
            assert step.due_at <= self.now and e.data["due_at"] == step.due_at.isoformat()
            key = (e.step, e.data["due_at"])
            assert key not in self.noted, f"deadline {key} noted twice"
            self.noted.add(key)
        assert note_deadlines(after, self.now) is after, "a deadline noted twice at the same moment"
        check_clocks(after, self.now)
        self.project = after

    def send(self, command: Command) -> None:
        before = self.project
        dump = before.model_dump()
        result = apply(before, command, self.now)
        self.commands += 1
        assert before.model_dump() == dump, "apply changed the project it was given"
        if isinstance(result, Refusal):
            self.refusals += 1
            assert result.code in set(RefusalCode) and result.message
            if before.finished and result.code is not RefusalCode.NOT_FOUND:
                assert "terminé" in result.message or "decision_id" in result.message, result.message
            return
        if result is before:  # only a retried decision comes back as the very same project
            assert isinstance(command, DecideStep) and command.decision_id in before.decisions
            return
        assert not before.finished, f"a finished project accepted {type(command).__name__}"
        assert result.updated_at == self.now
        check_invariants(before, result)
        check_clocks(result, self.now)
        self._check_pause(before, result, command)
        self._check_changes_delay(before, result, command)
        if isinstance(command, MoveDeadline):  # to the end of the given day in Paris, never into the past
            moved = result.find_step(command.step)
            assert moved is not None and moved.due_at is not None and moved.due_at > self.now
            assert moved.due_at.astimezone(PARIS).replace(tzinfo=None) == datetime.combine(command.due_on, END_OF_DAY)
        self.project = result

    def act(self, action: Action) -> None:
        self.wait(action.wait)
        for command in _commands(self.project, action, self.now):
            self.send(command)

    def _check_pause(self, before: Project, after: Project, command: Command) -> None:
        if after.clock_rules >= FAIR_CLOCKS:
            self._check_fair_pause(before, after, command)
        elif isinstance(command, PauseProject):
            assert before.pause is None and after.pause is not None
            self.dues_at_pause = {s.id: s.due_at for s in after.steps}
        elif isinstance(command, ResumeProject):
            assert self.dues_at_pause is not None and before.pause is not None
            paused_for = self.now - before.pause.since
            for s in after.steps:
                old = self.dues_at_pause[s.id]
                if old is None:
                    assert s.due_at is None, s.id
                    continue
                assert s.due_at is not None and s.due_at >= old, f"resume moved {s.id}'s deadline backwards"
                assert s.due_at == (old + paused_for if s.status in OPEN_STEP else old), s.id
            self.dues_at_pause = None
        elif before.pause is not None:
            assert isinstance(command, AbandonProject), f"{type(command).__name__} accepted while paused"
            self.dues_at_pause = None

    def _check_fair_pause(self, before: Project, after: Project, command: Command) -> None:
        """Fair clocks: a pause can be extended and decisions go on; resume gives back whole days, except to
        deadlines anchored on the planned opening, and the days overdue are what they were at the pause."""
        if isinstance(command, PauseProject):
            assert after.pause is not None
            if before.pause is not None:  # extended: same start, same deadlines
                assert after.pause.since == before.pause.since
                assert [s.due_at for s in after.steps] == [s.due_at for s in before.steps]
            else:
                overdue = _overdue(after, self.now)
                assert overdue == _overdue(before, self.now), "pausing changed a count"
                self.overdue_at_pause = {s.id: (overdue[s.id], s.status) for s in after.steps}
        elif isinstance(command, ResumeProject):
            assert before.pause is not None and self.overdue_at_pause is not None
            days = timedelta(
                days=(self.now.astimezone(PARIS).date() - before.pause.since.astimezone(PARIS).date()).days
            )
            for old, new in zip(before.steps, after.steps, strict=True):
                if old.due_at is None or old.status not in OPEN_STEP:
                    assert new.due_at == old.due_at or old.status is StepStatus.NOT_STARTED, old.id
                    continue
                definition = FNEP.step(old.id)
                assert definition is not None
                expected = old.due_at if definition.due is not None else old.due_at.astimezone(PARIS) + days
                assert new.due_at == expected, f"resume moved {old.id} from {old.due_at} to {new.due_at}"
            overdue = _overdue(after, self.now)
            for step in after.steps:
                count, status = self.overdue_at_pause[step.id]
                if step.status is status:
                    assert overdue[step.id] == count, f"{step.id} counted paused days"
            self.overdue_at_pause = None
        elif before.pause is not None:
            allowed = isinstance(command, AbandonProject) or (
                isinstance(command, DecideStep) and (held := before.find_step(command.step)) is not None
                and held.status is StepStatus.SUBMITTED
            )  # fmt: skip
            assert allowed, f"{type(command).__name__} accepted while paused"

    @staticmethod
    def _check_changes_delay(before: Project, after: Project, command: Command) -> None:
        """After a request for changes the step is not overdue before the changes delay (fair clocks)."""
        if not isinstance(command, DecideStep) or command.decision is not Decision.REQUEST_CHANGES:
            return
        if after.clock_rules < FAIR_CLOCKS or before.decisions.keys() != after.decisions.keys() - {command.decision_id}:
            return
        old, new = before.find_step(command.step), after.find_step(command.step)
        assert old is not None and new is not None and new.due_at is not None
        assert new.due_at >= changes_delay_end(after, after.updated_at)
        assert old.due_at is None or new.due_at >= old.due_at
        assert _overdue(after, after.updated_at)[new.id] == 0


def play(actions: list[Action], start: int = 0, rules: int = FIRST_CLOCK_RULES) -> Run:
    project, now = STARTS[rules][start]
    run = Run(project, now)
    for action in actions:
        run.act(action)
    return run


class RandomPath(RuleBasedStateMachine):
    """One project per example, started at a random stage; each step waits, then acts."""

    run: Run

    @initialize(start=st.integers(0, len(FNEP.stages) - 1), rules=st.sampled_from(CLOCK_RULES))
    def start(self, start: int, rules: int) -> None:
        project, now = STARTS[rules][start]
        check_invariants(project, project)
        self.run = Run(project, now)

    @rule(action=ACTION)
    def act(self, action: Action) -> None:
        self.run.act(action)

    def teardown(self) -> None:
        if hasattr(self, "run"):
            event(f"ended {self.run.project.state.value}")
            event(f"clock rules {self.run.project.clock_rules}")


TestRandomPath = RandomPath.TestCase
TestRandomPath.settings = settings(
    max_examples=200,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,  # the same examples on every machine: CI cannot turn red by chance
    report_multiple_bugs=False,
    # No explain phase: on this model it takes minutes to say which steps of a failing example matter.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)


# -- the actions reach every ending, and after it everything is refused ---------------------

EVERY_KIND = [Action(kind, pick, timedelta(days=1), decision_id="d-1") for kind in WEIGHTS for pick in (0, 50)]


def test_advancing_walks_the_whole_path_and_then_everything_is_refused() -> None:
    run = play([Action("advance", 0, timedelta(days=30))] * len(STEP_IDS))
    assert run.project.state is ProjectState.COMPLETED
    commands, refusals = run.commands, run.refusals
    for action in EVERY_KIND:
        run.act(action)
    assert run.commands - commands >= len(EVERY_KIND)
    assert run.refusals - refusals == run.commands - commands


def test_rejected_and_abandoned_projects_refuse_everything() -> None:
    submit = Action("submit", 0, timedelta(days=3))
    for ending, state in (("reject", ProjectState.REJECTED), ("abandon", ProjectState.ABANDONED)):
        run = play([submit, Action(ending, 0, timedelta(0))], start=4)
        assert run.project.state is state
        commands, refusals = run.commands, run.refusals
        for action in EVERY_KIND:
            run.act(action)
        assert run.refusals - refusals == run.commands - commands
