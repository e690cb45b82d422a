"""The reminder schedule of the pure model, checked against dates worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from labellisation.path.commands import PauseProject, ResumeProject
from labellisation.path.reminders import next_reminder
from labellisation.path.state import Project
from labellisation.path.status import project_status
from labellisation.path.transitions import apply, mark_reminder_sent, start_project
from labellisation.process import load_process
from tests.support.path_helpers import approve, ok, submit
from tests.support.profiles import make_profile

PARIS = ZoneInfo("Europe/Paris")
Sent = tuple[str, str, str]  # kind, recipient role, local send time


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def start(at: datetime) -> Project:
    return start_project(make_profile("edp-rappels"), load_process("fnep"), at, "coordination")


def send_until(project: Project, end: datetime) -> tuple[Project, list[Sent]]:
    """Send every reminder due before `end`, in order, as the workflow would."""
    sent: list[Sent] = []
    while (reminder := next_reminder(project)) is not None and reminder.at < end:
        sent.append((reminder.kind.value, reminder.to.value, reminder.at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")))
        project = mark_reminder_sent(project, reminder.reminder_id, reminder.kind.value, reminder.step, [], reminder.at)
    return project, sent


# The opportunity study starts on Thursday 7 January 2027 at 07:00 and is due six
# months later, on Wednesday 7 July 2027 at 08:00 (summer time). Nobody submits.
STALLED = [
    ("before_due", "holder", "2027-06-07 09:00"),  # due - 30 days: Monday 7 June
    ("before_due", "holder", "2027-06-30 09:00"),  # due - 7 days
    ("overdue", "holder", "2027-07-15 09:00"),  # +7 days is 14 July, a holiday: next working morning
    ("overdue", "holder", "2027-07-21 09:00"),
    ("escalation", "coordinator", "2027-07-28 09:00"),  # 21 days overdue
    ("overdue", "holder", "2027-07-28 09:00"),
    ("overdue", "holder", "2027-08-04 09:00"),
    ("overdue", "holder", "2027-08-11 09:00"),
    ("overdue", "holder", "2027-08-18 09:00"),
    ("pause_advised", "coordinator", "2027-08-23 09:00"),  # 45 days is Saturday 21 August
    ("overdue", "holder", "2027-08-25 09:00"),
]


def test_a_stalled_step_gets_the_policys_reminders_on_working_mornings() -> None:
    _, sent = send_until(start(paris(2027, 1, 7, 7, 0)), paris(2027, 8, 26))
    assert sent == STALLED


def test_nothing_while_paused_but_the_review_date_then_reminders_resume() -> None:
    project, before = send_until(start(paris(2027, 1, 7, 7, 0)), paris(2027, 7, 16))
    assert before == STALLED[:3]
    project = ok(apply(project, PauseProject(actor="c", reason="Attente", review_on=date(2027, 8, 14)),
                       paris(2027, 7, 16, 10, 0)))  # fmt: skip
    project, paused = send_until(project, paris(2027, 8, 16, 10, 0))
    assert paused == [("pause_review", "coordinator", "2027-08-16 09:00")]  # 14 August is a Saturday
    project = ok(apply(project, ResumeProject(actor="c"), paris(2027, 8, 16, 10, 0)))
    # 31 days paused: due becomes Saturday 7 August 08:00; reminders count from the resume.
    _, after = send_until(project, paris(2027, 9, 22))
    assert after == [
        ("overdue", "holder", "2027-08-23 09:00"),  # +14 days, Saturday 21 August
        ("escalation", "coordinator", "2027-08-30 09:00"),  # +21 days, Saturday 28 August
        ("overdue", "holder", "2027-08-30 09:00"),
        ("overdue", "holder", "2027-09-06 09:00"),  # Saturday 4 September
        ("overdue", "holder", "2027-09-13 09:00"),
        ("overdue", "holder", "2027-09-20 09:00"),
        ("pause_advised", "coordinator", "2027-09-21 09:00"),  # +45 days
    ]


def test_a_submission_stops_the_holders_reminders_and_starts_the_reviewers() -> None:
    project = start(paris(2027, 10, 1, 9, 0))
    project = submit(project, "opportunity_study", paris(2027, 10, 22, 10, 0))  # a Friday
    _, sent = send_until(project, paris(2028, 1, 1))
    # 10 working days skip 1 November; 20 skip 11 November too; both then wait for the next morning.
    assert sent == [
        ("review_pending", "reviewers", "2027-11-09 09:00"),
        ("review_escalation", "coordinator", "2027-11-24 09:00"),
    ]
    decided = approve(project, "opportunity_study", paris(2027, 11, 3, 10, 0))
    _, after_decision = send_until(decided, paris(2027, 12, 1))
    assert [s for s in after_decision if s[0].startswith("review")] == []


def test_the_status_shows_the_next_reminder() -> None:
    project = start(paris(2027, 1, 7, 7, 0))
    status = project_status(project, paris(2027, 1, 8))
    assert status.next_reminder is not None
    assert (status.next_reminder.kind, status.next_reminder.to) == ("before_due", "holder")
    assert status.next_reminder.at == paris(2027, 6, 7, 9, 0)


def test_a_finished_project_gets_no_reminder() -> None:
    from labellisation.path.commands import AbandonProject

    project = ok(apply(start(paris(2027, 1, 7, 7, 0)), AbandonProject(actor="c", reason="Fin"), paris(2027, 2, 1)))
    assert next_reminder(project) is None
