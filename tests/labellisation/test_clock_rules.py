"""The rules of the clocks (README, issue #14), on the pure model, with dates worked out by hand.

Every expected date below was counted on a 2026-2028 calendar (Europe/Paris; 2027: Easter Sunday 28 March,
so Good Friday 26 March and Easter Monday 29 March; 14 July a Wednesday). Each of the issue's five examples
is played twice: with clock rules 1, the rules of the projects started before the fair clocks (kept for
them: the issue's wrong dates, pinned here), and with the fair clocks (2), which new projects get.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from labellisation.path.clocks import FAIR_CLOCKS, FIRST_CLOCK_RULES
from labellisation.path.commands import (
    AbandonProject,
    DecideStep,
    MoveDeadline,
    PauseProject,
    ResumeProject,
)
from labellisation.path.deadlines import next_wakeup
from labellisation.path.reminders import next_reminder, send_request
from labellisation.path.state import EventKind, Project, ProjectState, StepState, StepStatus
from labellisation.path.status import project_status
from labellisation.path.transitions import Refusal, apply, mark_reminder_sent, note_deadlines, start_project
from labellisation.process import load_process
from tests.support.path_helpers import ok, pass_step, submit
from tests.support.profiles import make_profile

PARIS = ZoneInfo("Europe/Paris")
OLD, FAIR = FIRST_CLOCK_RULES, FAIR_CLOCKS
Sent = tuple[str, str]  # kind, local send time


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def start(at: datetime, rules: int, department: str = "90", process: str = "fnep") -> Project:
    profile = make_profile("edp-horloges").model_copy(update={"department": department})
    return start_project(profile, load_process(process), at, "coordination", clock_rules=rules)


def step(project: Project, step_id: str = "opportunity_study") -> StepState:
    found = project.find_step(step_id)
    assert found is not None
    return found


def local(moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")


def send_until(project: Project, end: datetime) -> tuple[Project, list[Sent]]:
    """Send every reminder due before `end`, in order, as the workflow would (each at its time)."""
    sent: list[Sent] = []
    while (reminder := next_reminder(project)) is not None and reminder.at < end:
        sent.append((reminder.kind.value, reminder.at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")))
        project = mark_reminder_sent(project, reminder.reminder_id, reminder.kind.value, reminder.step, [], reminder.at)
    return project, sent


def move(project: Project, due_on: date, now: datetime) -> Project:
    command = MoveDeadline(actor="coordination", step="opportunity_study", due_on=due_on, reason="Calendrier")
    return ok(apply(project, command, now))


def request_changes(project: Project, now: datetime, step_id: str = "opportunity_study") -> Project:
    command = DecideStep(actor="fnep", step=step_id, decision="request_changes", comment="À compléter")
    return ok(apply(project, command, now))


def pause(project: Project, now: datetime, review_on: date, reason: str = "Vote du budget") -> Project:
    return ok(apply(project, PauseProject(actor="coordination", reason=reason, review_on=review_on), now))


def resume(project: Project, now: datetime) -> Project:
    return ok(apply(project, ResumeProject(actor="coordination"), now))


def overdue(project: Project, now: datetime, step_id: str = "opportunity_study") -> int:
    return next(view.days_overdue for view in project_status(project, now).steps if view.id == step_id)


# -- example 1: a due Friday 16 July 2027 (rules 3 and 4) -----------------------------------------------


def due_16_july(rules: int) -> Project:
    """Started Monday 4 January 2027; the coordinator gives the study until Friday 16 July 2027."""
    return move(start(paris(2027, 1, 4, 10, 0), rules), date(2027, 7, 16), paris(2027, 1, 4, 10, 0))


def test_example_1_with_the_first_rules_every_reminder_before_the_deadline_is_late() -> None:
    _, sent = send_until(due_16_july(OLD), paris(2027, 7, 16))
    # "7 days before" nominally Friday 9 July 23:59:59, sent the next working morning: 4 days before the
    # deadline (14 July, a Wednesday, is a holiday); "30 days before" on Thursday 17 June, 29 days before.
    assert sent == [("before_due", "2027-06-17 09:00"), ("before_due", "2027-07-12 09:00")]


@pytest.mark.parametrize("how", ["moved", "from a duration"])
def test_example_1_before_due_reminders_go_out_on_or_before_their_day(how: str) -> None:
    # Or six months from Saturday 16 January 2027 at 11:00: the end of Friday 16 July.
    project = due_16_july(FAIR) if how == "moved" else start(paris(2027, 1, 16, 11, 0), FAIR)
    assert local(step(project).due_at) == "2027-07-16 23:59:59"
    _, sent = send_until(project, paris(2027, 9, 1))
    assert sent == [
        ("before_due", "2027-06-16 09:00"),  # 30 days before: Wednesday 16 June
        ("before_due", "2027-07-09 09:00"),  # 7 days before: Friday 9 July, a working day
        ("overdue", "2027-07-19 09:00"),  # the first working morning after the due day (17 July a Saturday)
        ("overdue", "2027-07-23 09:00"),  # due day + 7
        ("overdue", "2027-07-30 09:00"),  # + 14
        ("escalation", "2027-08-06 09:00"),  # + 21
        ("overdue", "2027-08-06 09:00"),  # + 21 (rank 3)
        ("overdue", "2027-08-13 09:00"),
        ("overdue", "2027-08-20 09:00"),
        ("overdue", "2027-08-27 09:00"),
        ("pause_advised", "2027-08-30 09:00"),  # + 45: Monday 30 August
    ]


def test_a_before_due_reminder_on_a_day_off_goes_out_the_working_day_before() -> None:
    # Due Wednesday 21 July 2027: "7 days before" is Wednesday 14 July, the fête nationale: Tuesday 13 July.
    project = move(start(paris(2027, 1, 4, 10, 0), FAIR), date(2027, 7, 21), paris(2027, 1, 4, 10, 0))
    _, sent = send_until(project, paris(2027, 7, 21))
    assert sent == [("before_due", "2027-06-21 09:00"), ("before_due", "2027-07-13 09:00")]


def test_a_reminder_whose_time_passed_when_its_series_starts_is_skipped() -> None:
    # On Friday 9 July 2027 at 10:00 the deadline becomes Friday 16 July: its "7 days before" reminder
    # was due at 09:00 that morning, its "30 days before" one in June. Neither is sent late.
    moved_at = paris(2027, 7, 9, 10, 0)
    fair = move(start(paris(2027, 1, 4, 10, 0), FAIR), date(2027, 7, 16), moved_at)
    _, sent = send_until(fair, paris(2027, 7, 20))
    assert sent == [("overdue", "2027-07-19 09:00")]
    # The first rules sent the "7 days before" one on Monday 12 July, 4 days before.
    old = move(start(paris(2027, 1, 4, 10, 0), OLD), date(2027, 7, 16), moved_at)
    _, sent = send_until(old, paris(2027, 7, 20))
    assert sent == [("before_due", "2027-07-12 09:00")]


# -- example 2: changes requested five weeks after a submission (rules 1, 2 and 10) ------------------


def submitted_then_sent_back(rules: int) -> tuple[Project, list[Sent]]:
    """Due Friday 16 July 2027, submitted Monday 12 July 10:00, changes requested Friday 20 August 15:00."""
    project, _ = send_until(due_16_july(rules), paris(2027, 7, 12, 10, 0))
    project = submit(project, "opportunity_study", paris(2027, 7, 12, 10, 0))
    project, review = send_until(project, paris(2027, 8, 20, 15, 0))
    # FNEP's clock ran while it held the step: 10 working days after Monday 12 July 10:00 (14 July off) is
    # Tuesday 27 July 10:00, sent the next morning; 20 working days is Tuesday 10 August 10:00.
    assert review == [("review_pending", "2027-07-28 09:00"), ("review_escalation", "2027-08-11 09:00")]
    return request_changes(project, paris(2027, 8, 20, 15, 0)), review


def test_example_2_with_the_first_rules_the_holder_is_blamed_for_the_review() -> None:
    project, _ = submitted_then_sent_back(OLD)
    assert overdue(project, paris(2027, 8, 20, 15, 0)) == 34
    _, at_once = send_until(project, paris(2027, 8, 20, 15, 1))
    assert at_once == [
        ("overdue", "2027-07-26 09:00"),
        ("overdue", "2027-08-02 09:00"),
        ("escalation", "2027-08-09 09:00"),
        ("overdue", "2027-08-09 09:00"),
        ("overdue", "2027-08-16 09:00"),
    ]


def test_example_2_after_a_request_for_changes_the_holder_has_the_changes_delay() -> None:
    project, _ = submitted_then_sent_back(FAIR)
    now = paris(2027, 8, 20, 15, 0)
    # Due again at the later of 16 July and 20 August + 14 days: the end of Friday 3 September.
    assert local(step(project).due_at) == "2027-09-03 23:59:59"
    assert project.events[-1].kind is EventKind.CHANGES_REQUESTED
    assert project.events[-1].data["due_at"] == "2027-09-03T23:59:59+02:00"
    status = project_status(project, now)
    assert overdue(project, now) == 0
    assert status.next_due_at == paris(2027, 9, 3, 23, 59, 59)
    # What will go out (rule 10): every series' next reminder, soonest first. "30 days before" (4 August)
    # had passed when the holder got the step back; "changes pending" (3 September) is the due day itself.
    upcoming = [(r.kind, local(r.at), r.step, r.to) for r in status.upcoming_reminders]
    assert upcoming == [
        ("before_due", "2027-08-27 09:00:00", "opportunity_study", "holder"),  # Friday 27 August
        ("overdue", "2027-09-06 09:00:00", "opportunity_study", "holder"),  # Saturday 4 September: Monday 6
        ("escalation", "2027-09-24 09:00:00", "opportunity_study", "coordinator"),  # + 21 days
        ("pause_advised", "2027-10-18 09:00:00", "opportunity_study", "coordinator"),  # + 45 days
    ]
    assert status.next_reminder is not None
    assert (status.next_reminder.kind, status.next_reminder.at) == ("before_due", paris(2027, 8, 27, 9, 0))
    _, sent = send_until(project, paris(2027, 9, 11))
    assert sent == [("before_due", "2027-08-27 09:00"), ("overdue", "2027-09-06 09:00"),
                    ("overdue", "2027-09-10 09:00")]  # fmt: skip
    assert overdue(project, paris(2027, 9, 6, 9, 0)) == 3  # Saturday 4, Sunday 5, Monday 6


def test_a_request_for_changes_keeps_a_later_deadline() -> None:
    # Submitted early (1 February), sent back on 8 February: the deadline (4 July) is later than 22 February.
    project = submit(start(paris(2027, 1, 4, 10, 0), FAIR), "opportunity_study", paris(2027, 2, 1, 10, 0))
    project = request_changes(project, paris(2027, 2, 8, 10, 0))
    assert local(step(project).due_at) == "2027-07-04 23:59:59"
    _, sent = send_until(project, paris(2027, 6, 7))
    # The holder is told on the 14th day (22 February, a Monday) that changes are awaited; then the
    # deadline's own reminders: 4 June (30 days before 4 July, a Friday).
    assert sent == [("changes_pending", "2027-02-22 09:00"), ("before_due", "2027-06-04 09:00")]


def test_no_holder_clock_while_fnep_holds_the_step() -> None:
    project = submit(due_16_july(FAIR), "opportunity_study", paris(2027, 7, 12, 10, 0))
    for moment in (paris(2027, 7, 20), paris(2027, 12, 1)):
        status = project_status(project, moment)
        assert overdue(project, moment) == 0
        assert {r.kind for r in status.upcoming_reminders} <= {"review_pending", "review_escalation"}


# -- example 3: a review and a request for changes across a pause (rules 1 and 8) -----------------------


def submitted_and_paused(rules: int, changes: bool, department: str = "90") -> Project:
    """Started Monday 5 October 2026 (due the end of 5 April 2027), submitted Monday 4 January 2027 10:00,
    (sent back at 15:00,) paused Tuesday 5 January 10:00 until Monday 15 March 10:00: 69 days."""
    project, _ = send_until(start(paris(2026, 10, 5, 10, 0), rules, department), paris(2027, 1, 4, 10, 0))
    project = submit(project, "opportunity_study", paris(2027, 1, 4, 10, 0))
    if changes:
        project = request_changes(project, paris(2027, 1, 4, 15, 0))
    project = pause(project, paris(2027, 1, 5, 10, 0), review_on=date(2027, 3, 1))
    project, paused = send_until(project, paris(2027, 3, 15, 10, 0))
    if rules == FAIR:  # review date Monday 1 March, then every 10 working days: Monday 15 March
        assert paused == [("pause_review", "2027-03-01 09:00"), ("pause_review", "2027-03-15 09:00")]
    else:
        assert paused == [("pause_review", "2027-03-01 09:00")]
    return resume(project, paris(2027, 3, 15, 10, 0))


def test_example_3_with_the_first_rules_the_review_reminders_burst_at_resume() -> None:
    _, at_resume = send_until(submitted_and_paused(OLD, changes=False), paris(2027, 3, 15, 10, 1))
    assert at_resume == [("review_pending", "2027-01-19 09:00"), ("review_escalation", "2027-02-02 09:00")]
    _, at_resume = send_until(submitted_and_paused(OLD, changes=True), paris(2027, 3, 15, 10, 1))
    assert at_resume == [("changes_pending", "2027-01-19 09:00")]  # the paused weeks counted


def test_example_3_paused_time_counts_for_nobody() -> None:
    project = submitted_and_paused(FAIR, changes=False)
    # One working day counted before the pause; the clock's start moves 69 days, to Sunday 14 March 10:00.
    # 10 working days later is Friday 26 March 10:00; the next working morning is Tuesday 30 March
    # (Easter Monday 29 March). 20 working days: Monday 12 April 10:00, sent on Tuesday 13 April.
    assert local(step(project).due_at) == "2027-06-13 23:59:59"  # 5 April + 69 days, still the end of a day
    project, sent = send_until(project, paris(2027, 4, 20))
    assert sent == [("review_pending", "2027-03-30 09:00"), ("review_escalation", "2027-04-13 09:00")]


def test_example_3_changes_pending_does_not_count_the_paused_weeks() -> None:
    project = submitted_and_paused(FAIR, changes=True)
    assert local(step(project).due_at) == "2027-06-13 23:59:59"  # the later deadline kept, moved 69 days
    # Sent back Monday 4 January 15:00: with the 69 days given back, 14 days later is Sunday 28 March
    # (Easter); Monday 29 is Easter Monday: Tuesday 30 March.
    project, sent = send_until(project, paris(2027, 4, 20))
    assert sent == [("changes_pending", "2027-03-30 09:00")]


# -- example 4: the opening declaration stays anchored on the planned opening (rules 5 and 6) ---------


def in_implementation_then_paused(rules: int) -> Project:
    """Planned opening 1 September 2028; the implementation starts Tuesday 1 December 2026 10:00;
    paused Tuesday 5 January 2027 09:00 until Monday 15 March 2027 15:30."""
    project = start(paris(2026, 1, 5, 10, 0), rules)
    for step_id, at in (("opportunity_study", paris(2026, 6, 15, 10, 0)), ("association", paris(2026, 8, 10, 10, 0)),
                        ("feasibility_study", paris(2026, 10, 1, 10, 0)),
                        ("pre_labellisation", paris(2026, 12, 1, 10, 0))):  # fmt: skip
        project = pass_step(project, step_id, at)
    assert local(step(project, "opening_declaration").due_at) == "2028-06-01 23:59:59"
    project = pause(project, paris(2027, 1, 5, 9, 0), review_on=date(2027, 3, 15))
    return resume(project, paris(2027, 3, 15, 15, 30))


def test_example_4_with_the_first_rules_a_pause_moved_the_legal_declaration() -> None:
    project = in_implementation_then_paused(OLD)
    # 69 days 6 h 30 min later: 22 days before an unchanged opening, the legal three months lost.
    assert local(step(project, "opening_declaration").due_at) == "2028-08-10 06:29:59"
    assert local(step(project, "works").due_at) == "2027-10-09 16:30:00"  # 1 August 10:00 + 69 d 6 h 30


def test_example_4_anchored_deadlines_follow_the_planned_opening_not_pauses() -> None:
    project = in_implementation_then_paused(FAIR)
    assert local(step(project, "opening_declaration").due_at) == "2028-06-01 23:59:59"  # three months before
    # The others end a day (works: 8 months from 1 December 2026, 1 August 2027) and move 69 whole days.
    assert local(step(project, "works").due_at) == "2027-10-09 23:59:59"
    assert local(step(project, "funding").due_at) == "2027-08-09 23:59:59"  # 1 June + 69 days
    assert project.events[-1].kind is EventKind.PROJECT_RESUMED
    assert project.events[-1].data["paused_days"] == 69


# -- example 5: days overdue, finished projects, deadlines from durations (rules 4 and 5) --------------


def test_example_5_with_the_first_rules() -> None:
    project = start(paris(2027, 1, 4, 11, 0), OLD)
    assert local(step(project).due_at) == "2027-07-04 11:00:00"  # a Sunday at 11:00, the start instant
    assert overdue(project, paris(2027, 7, 5, 8, 0)) == 0  # the first late day
    abandoned = ok(apply(project, AbandonProject(actor="c", reason="Dissolution"), paris(2027, 7, 20, 10, 0)))
    # Still counting a year later: 382 days (2028 has a 29 February) less one hour.
    assert overdue(abandoned, paris(2028, 7, 20, 10, 0)) == 381
    paused = pause(project, paris(2027, 2, 1, 9, 0), review_on=date(2027, 2, 3))
    assert local(step(resume(paused, paris(2027, 2, 3, 16, 0))).due_at) == "2027-07-06 18:00:00"  # + 2 d 7 h


def test_example_5_days_overdue_count_started_days_and_stop_with_the_project() -> None:
    project = start(paris(2027, 1, 4, 11, 0), FAIR)
    assert local(step(project).due_at) == "2027-07-04 23:59:59"  # the end of the day six months later
    assert overdue(project, paris(2027, 7, 4, 23, 59, 59)) == 0
    assert overdue(project, paris(2027, 7, 5, 0, 0, 0)) == 1  # the first late day
    assert overdue(project, paris(2027, 7, 5, 23, 59, 59)) == 1
    assert overdue(project, paris(2027, 7, 6, 8, 0)) == 2
    assert overdue(project, paris(2027, 10, 31, 23, 0)) == 119  # across the October clock change: dates
    abandoned = ok(apply(project, AbandonProject(actor="c", reason="Dissolution"), paris(2027, 7, 20, 10, 0)))
    assert overdue(abandoned, paris(2028, 7, 20, 10, 0)) == 16  # 5 to 20 July, frozen at the abandon
    paused = pause(project, paris(2027, 7, 10, 9, 0), review_on=date(2027, 8, 1))
    assert overdue(paused, paris(2027, 8, 30)) == 6  # 5 to 10 July, frozen while paused
    resumed = resume(paused, paris(2027, 8, 30, 16, 0))  # 51 days later: due the end of 24 August
    assert local(step(resumed).due_at) == "2027-08-24 23:59:59"
    assert overdue(resumed, paris(2027, 8, 30, 16, 0)) == 6


def test_a_deadline_passes_after_its_last_second() -> None:
    project = start(paris(2027, 1, 4, 11, 0), FAIR)
    due = paris(2027, 7, 4, 23, 59, 59)
    assert next_wakeup(project) == paris(2027, 7, 5)  # the workflow wakes when the step is late
    assert note_deadlines(project, due) is project
    noted = note_deadlines(project, paris(2027, 7, 5))
    assert (noted.events[-1].kind, noted.events[-1].at) == (EventKind.DEADLINE_PASSED, paris(2027, 7, 5))
    old = start(paris(2027, 1, 4, 11, 0), OLD)
    assert next_wakeup(old) == paris(2027, 7, 4, 11, 0)
    assert note_deadlines(old, paris(2027, 7, 4, 11, 0)).events[-1].kind is EventKind.DEADLINE_PASSED


def test_resume_shifts_open_deadlines_by_whole_days() -> None:
    project = pause(start(paris(2027, 1, 4, 11, 0), FAIR), paris(2027, 2, 1, 9, 0), review_on=date(2027, 2, 3))
    resumed = resume(project, paris(2027, 2, 3, 16, 0))  # Monday 09:00 to Wednesday 16:00: two days
    assert local(step(resumed).due_at) == "2027-07-06 23:59:59"
    same_day = resume(pause(start(paris(2027, 1, 4, 11, 0), FAIR), paris(2027, 2, 1, 9, 0), date(2027, 2, 3)),
                      paris(2027, 2, 1, 18, 0))  # fmt: skip
    assert local(step(same_day).due_at) == "2027-07-04 23:59:59"  # paused and resumed the same day: none


def test_without_a_calendar_deadlines_stay_exact_instants() -> None:
    project = start(paris(2027, 1, 4, 11, 0), FAIR, process="demo")  # `demo`: a month lasts a minute
    assert local(step(project).due_at) == "2027-01-04 11:06:00"
    assert project_status(project, paris(2027, 1, 4, 11, 0)).calendar == "none"


# -- rule 8: pauses are extended, repeat their review, and decisions wait for nobody ------------------


def test_pausing_a_paused_project_extends_the_pause() -> None:
    project = pause(start(paris(2027, 1, 4, 10, 0), FAIR), paris(2027, 1, 5, 10, 0), review_on=date(2027, 3, 1))
    project, sent = send_until(project, paris(2027, 3, 2))
    assert sent == [("pause_review", "2027-03-01 09:00")]
    extended = pause(project, paris(2027, 3, 2, 10, 0), review_on=date(2027, 3, 15), reason="Vote reporté")
    assert extended.pause is not None
    assert (extended.pause.since, extended.pause.reason) == (paris(2027, 1, 5, 10, 0), "Vote reporté")
    assert extended.events[-1].kind is EventKind.PROJECT_PAUSED
    assert extended.events[-1].data == {"review_on": "2027-03-15", "previous_review_on": "2027-03-01"}
    # The new review date, then every 10 working days: Easter Monday 29 March skipped, Tuesday 30 March.
    _, sent = send_until(extended, paris(2027, 4, 14))
    assert sent == [("pause_review", "2027-03-15 09:00"), ("pause_review", "2027-03-30 09:00"),
                    ("pause_review", "2027-04-13 09:00")]  # fmt: skip


def test_with_the_first_rules_a_paused_project_cannot_be_paused_again() -> None:
    project = pause(start(paris(2027, 1, 4, 10, 0), OLD), paris(2027, 1, 5, 10, 0), review_on=date(2027, 3, 1))
    refusal = apply(project, PauseProject(actor="c", reason="Encore", review_on=date(2027, 4, 1)), paris(2027, 3, 2))
    assert isinstance(refusal, Refusal)
    assert refusal.message == "le projet est en pause : reprenez-le d'abord"


def test_a_step_submitted_before_the_pause_is_decided_during_it_and_the_next_stage_starts_at_resume() -> None:
    project = submit(start(paris(2027, 1, 4, 10, 0), FAIR), "opportunity_study", paris(2027, 1, 4, 10, 0))
    project = pause(project, paris(2027, 1, 5, 10, 0), review_on=date(2027, 3, 1))
    decided = ok(apply(project, DecideStep(actor="fnep", step="opportunity_study", decision="approve"),
                       paris(2027, 1, 20, 10, 0)))  # fmt: skip
    assert decided.state is ProjectState.PAUSED
    assert step(decided).status is StepStatus.APPROVED
    assert decided.current_stage_id() == "association"
    assert step(decided, "association").status is StepStatus.NOT_STARTED
    assert [e.kind for e in decided.events[-2:]] == [EventKind.STEP_APPROVED, EventKind.STAGE_COMPLETED]
    resumed = resume(decided, paris(2027, 3, 15, 10, 0))
    association = step(resumed, "association")
    assert (association.status, association.started_at) == (StepStatus.IN_PROGRESS, paris(2027, 3, 15, 10, 0))
    assert local(association.due_at) == "2027-05-15 23:59:59"  # two months from the resume
    assert [e.kind for e in resumed.events[-3:]] == [
        EventKind.PROJECT_RESUMED, EventKind.STAGE_STARTED, EventKind.STEP_STARTED]  # fmt: skip
    # Only a submitted step: nothing else is accepted while paused.
    refusal = apply(decided, DecideStep(actor="fnep", step="association", decision="approve"), paris(2027, 2, 1))
    assert isinstance(refusal, Refusal) and refusal.message == "le projet est en pause : reprenez-le d'abord"


def test_changes_requested_during_a_pause_give_the_delay_from_the_resume() -> None:
    project = move(start(paris(2027, 1, 4, 10, 0), FAIR), date(2027, 1, 15), paris(2027, 1, 4, 10, 0))
    project = submit(project, "opportunity_study", paris(2027, 1, 11, 10, 0))
    project = pause(project, paris(2027, 1, 12, 10, 0), review_on=date(2027, 3, 1))
    project = request_changes(project, paris(2027, 2, 10, 10, 0))
    resumed = resume(project, paris(2027, 3, 15, 10, 0))  # 62 days after 12 January
    # Due again the end of 12 January + 14 days, moved 62 days: 14 days after the resume, Monday 29 March.
    assert local(step(resumed).due_at) == "2027-03-29 23:59:59"
    assert overdue(resumed, paris(2027, 3, 15, 10, 0)) == 0


# -- rule 9: the calendar follows the project's department -------------------------------------------------


@pytest.mark.parametrize("department", ["57", "67", "68", "Bas-Rhin", "moselle"])
def test_alsace_moselle_projects_also_rest_on_good_friday_and_26_december(department: str) -> None:
    project = submitted_and_paused(FAIR, changes=False, department=department)
    assert project_status(project, paris(2027, 3, 15, 10, 0)).calendar == "fr_working_days_alsace_moselle"
    # As in example 3, with Good Friday (26 March) not counted: the 10th working day is Tuesday 30 March.
    _, sent = send_until(project, paris(2027, 4, 20))
    assert sent == [("review_pending", "2027-03-31 09:00"), ("review_escalation", "2027-04-14 09:00")]
    # Due Tuesday 2 January 2029: "7 days before" is Tuesday 26 December 2028, a holiday there.
    moved = move(start(paris(2028, 1, 3, 10, 0), FAIR, department), date(2029, 1, 2), paris(2028, 1, 3, 10, 0))
    _, sent = send_until(moved, paris(2029, 1, 2))
    assert sent[-1] == ("before_due", "2028-12-22 09:00")


def test_elsewhere_and_for_projects_of_the_first_rules_the_national_calendar() -> None:
    moved = move(start(paris(2028, 1, 3, 10, 0), FAIR), date(2029, 1, 2), paris(2028, 1, 3, 10, 0))
    _, sent = send_until(moved, paris(2029, 1, 2))
    assert sent[-1] == ("before_due", "2028-12-26 09:00")
    assert project_status(moved, paris(2028, 1, 3)).calendar == "fr_working_days"
    old = start(paris(2028, 1, 3, 10, 0), OLD, department="67")
    assert project_status(old, paris(2028, 1, 3)).calendar == "fr_working_days"
    assert project_status(old, paris(2028, 1, 3)).clock_rules == OLD


# -- the version is the project's ------------------------------------------------------------------------


def test_the_clock_rules_are_kept_in_the_project_and_default_to_the_first_ones() -> None:
    fair = start(paris(2027, 1, 4, 10, 0), FAIR)
    assert fair.clock_rules == FAIR
    assert fair.events[0].data["clock_rules"] == FAIR
    assert project_status(fair, paris(2027, 1, 4)).clock_rules == FAIR
    old = start(paris(2027, 1, 4, 10, 0), OLD)
    assert "clock_rules" not in old.events[0].data  # the first rules' start event, byte for byte
    payload = old.model_dump(mode="json")
    del payload["clock_rules"], payload["pauses"]  # a project carried by a run from before the fair clocks
    assert Project.model_validate(payload).clock_rules == OLD
    assert Project.model_validate(fair.model_dump(mode="json")) == fair


def test_days_waiting_for_the_review_reminder_exclude_the_pause() -> None:
    project = submitted_and_paused(FAIR, changes=False)
    reminder = next_reminder(project)
    assert reminder is not None and reminder.kind.value == "review_pending"
    assert send_request(project, reminder, reminder.at).days_waiting == 15  # from Sunday 14 March 10:00
    assert send_request(project, reminder, reminder.at + timedelta(days=1)).days_waiting == 16
