"""Reminder times: which reminder goes out next, to whom, and when.

Pure: the workflow asks for the reminders due at `now`, runs the notification
activity for each, then marks it sent. A reminder id is derived from what it
is about (step, kind, the deadline or submission it counts from, its rank),
so it is the idempotency key of the e-mail and of its record.

Two sets of rules, chosen by the project's `clock_rules` (labellisation/path/clocks.py):
the first ones (`_holder_series`, `_changes_pending`, `_pause_review`), kept for the
projects started with them, and the fair clocks (`_fair_*`, README "Rules of the clocks").
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from labellisation.durations import Duration
from labellisation.french_calendar import add_working_days, is_working_day, next_send_time
from labellisation.path.clocks import fair, held_since, work_calendar
from labellisation.path.deadlines import days_overdue, step_days_overdue
from labellisation.path.state import AWAITING_HOLDER, Project, StepState, StepStatus
from labellisation.process import Calendar

#: Enough weekly overdue reminders for twenty years; a bound, not a policy.
_MAX_OVERDUE_RANK = 1100


class Role(StrEnum):
    HOLDER = "holder"
    REVIEWERS = "reviewers"
    COORDINATOR = "coordinator"


class Kind(StrEnum):
    BEFORE_DUE = "before_due"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    PAUSE_ADVISED = "pause_advised"
    REVIEW_PENDING = "review_pending"
    REVIEW_ESCALATION = "review_escalation"
    CHANGES_PENDING = "changes_pending"
    PAUSE_REVIEW = "pause_review"


ROLE_OF = {
    Kind.BEFORE_DUE: Role.HOLDER,
    Kind.OVERDUE: Role.HOLDER,
    Kind.CHANGES_PENDING: Role.HOLDER,
    Kind.ESCALATION: Role.COORDINATOR,
    Kind.PAUSE_ADVISED: Role.COORDINATOR,
    Kind.PAUSE_REVIEW: Role.COORDINATOR,
    Kind.REVIEW_PENDING: Role.REVIEWERS,
    Kind.REVIEW_ESCALATION: Role.COORDINATOR,
}


class PlannedReminder(BaseModel):
    reminder_id: str
    kind: Kind
    to: Role
    step: str | None
    #: When the policy says it is due (before the working-day rule).
    nominal: datetime
    #: When it goes out.
    at: datetime


def planned_reminders(project: Project) -> list[PlannedReminder]:
    """The next unsent reminder of every series, soonest first."""
    if project.finished:
        return []
    fair_clocks = fair(project)
    if project.pause is not None:
        return _fair_pause_reviews(project) if fair_clocks else _pause_review(project)
    found: list[PlannedReminder] = []
    for step in project.steps:
        if step.status in AWAITING_HOLDER and step.due_at is not None:
            found.extend(_fair_holder_series(project, step) if fair_clocks else _holder_series(project, step))
        if step.status is StepStatus.CHANGES_REQUESTED and step.decided_at is not None:
            found.extend(_fair_changes_pending(project, step) if fair_clocks else _changes_pending(project, step))
        if step.status is StepStatus.SUBMITTED and step.submitted_at is not None:
            found.extend(_review_series(project, step))
    return sorted(found, key=lambda r: (r.at, r.reminder_id))


def next_reminder(project: Project) -> PlannedReminder | None:
    planned = planned_reminders(project)
    return planned[0] if planned else None


# -- series ---------------------------------------------------------------------------


def _holder_series(project: Project, step: StepState) -> list[PlannedReminder]:
    assert step.due_at is not None
    policy = project.process.reminders
    due = step.due_at
    since = step.due_set_at or step.started_at or due
    anchor = due.isoformat()
    out: list[PlannedReminder] = []
    for offset in policy.before_due:
        nominal = Duration.parse(offset).negated().add_to(due)
        out.append(_make(project, Kind.BEFORE_DUE, step.id, nominal, f"{offset}@{anchor}"))
    every = Duration.parse(policy.overdue_every)
    nominal = due
    for rank in range(1, _MAX_OVERDUE_RANK):
        nominal = every.add_to(nominal)
        reminder = _make(project, Kind.OVERDUE, step.id, nominal, f"{rank}@{anchor}")
        if nominal >= since and reminder.reminder_id not in project.sent_reminders:
            out.append(reminder)
            break
    out.append(_make(project, Kind.ESCALATION, step.id, Duration.parse(policy.escalate_after).add_to(due), anchor))
    advised = Duration.parse(policy.pause_advised_after).add_to(due)
    out.append(_make(project, Kind.PAUSE_ADVISED, step.id, advised, anchor))
    return [r for r in out if r.nominal >= since and r.reminder_id not in project.sent_reminders]


def _changes_pending(project: Project, step: StepState) -> list[PlannedReminder]:
    assert step.decided_at is not None
    nominal = Duration.parse(project.process.reminders.changes_pending_after).add_to(step.decided_at)
    reminder = _make(project, Kind.CHANGES_PENDING, step.id, nominal, step.decided_at.isoformat())
    return [] if reminder.reminder_id in project.sent_reminders else [reminder]


def _review_series(project: Project, step: StepState) -> list[PlannedReminder]:
    """The reviewers' clock, from the submission; with the fair clocks, the pauses since are taken out."""
    assert step.submitted_at is not None
    policy = project.process.reminders
    calendar = work_calendar(project)
    out = []
    for kind, delay in (
        (Kind.REVIEW_PENDING, policy.review_reminder_after),
        (Kind.REVIEW_ESCALATION, policy.review_escalation_after),
    ):
        if fair(project):
            nominal = calendar.after(held_since(project, step.submitted_at), Duration.parse(delay))
            reminder = _fair(project, kind, step.id, nominal, calendar.next_send_time(nominal), step.submitted_at)
        else:
            nominal = _after_review_delay(project, step.submitted_at, delay)
            reminder = _make(project, kind, step.id, nominal, step.submitted_at.isoformat())
        if reminder.reminder_id not in project.sent_reminders:
            out.append(reminder)
    return out


def _pause_review(project: Project) -> list[PlannedReminder]:
    assert project.pause is not None
    zone = ZoneInfo(project.process.timezone)
    morning = datetime.combine(project.pause.review_on, project.process.reminders.send_at, tzinfo=zone)
    reminder = _make(project, Kind.PAUSE_REVIEW, None, morning, project.pause.since.isoformat())
    return [] if reminder.reminder_id in project.sent_reminders else [reminder]


def _after_review_delay(project: Project, start: datetime, delay: str) -> datetime:
    duration = Duration.parse(delay)
    if project.process.calendar is Calendar.FR_WORKING_DAYS and duration.days and not duration.seconds:
        shifted = add_working_days(start, duration.days, project.process.calendar, project.process.timezone)
        return Duration(years=duration.years, months=duration.months).add_to(shifted)
    return duration.add_to(start)


# -- the fair clocks (README, "Rules of the clocks") ----------------------------------------


def _fair_holder_series(project: Project, step: StepState) -> list[PlannedReminder]:
    """The holder's clock: before the deadline on the last working morning on or before each reminder's day
    (one whose time passed when the series started is skipped); once late, the first working morning after
    the due day, then every `overdue_every` counted from the due day; escalation and pause advice likewise."""
    assert step.due_at is not None
    policy, calendar = project.process.reminders, work_calendar(project)
    due = step.due_at
    since = step.due_set_at or step.started_at or due
    out: list[PlannedReminder] = []
    for offset in policy.before_due:
        nominal = calendar.shift(due, Duration.parse(offset).negated())
        out.append(_fair(project, Kind.BEFORE_DUE, step.id, nominal, calendar.on_or_before(nominal), due, offset))
    out.extend(_fair_first_unsent_overdue(project, step, since))
    for kind, delay in ((Kind.ESCALATION, policy.escalate_after), (Kind.PAUSE_ADVISED, policy.pause_advised_after)):
        nominal = calendar.shift(due, Duration.parse(delay))
        out.append(_fair(project, kind, step.id, nominal, calendar.on_or_after(nominal), due))
    return [r for r in out if r.at >= since and r.reminder_id not in project.sent_reminders]


def _fair_first_unsent_overdue(project: Project, step: StepState, since: datetime) -> list[PlannedReminder]:
    """The next overdue reminder: rank 0 the first late moment, rank n the due day + n × `overdue_every`.

    Two ranks that fall on the same morning (a short interval over a weekend) make one e-mail.
    """
    assert step.due_at is not None
    calendar, due = work_calendar(project), step.due_at
    every = Duration.parse(project.process.reminders.overdue_every)
    previous = None
    for rank in range(_MAX_OVERDUE_RANK):
        nominal = calendar.shift(due, _times(every, rank)) if rank else due + timedelta(seconds=1)
        at = calendar.on_or_after(nominal)
        if at == previous:
            continue
        previous = at
        reminder = _fair(project, Kind.OVERDUE, step.id, nominal, at, due, str(rank))
        if at >= since and reminder.reminder_id not in project.sent_reminders:
            return [reminder]
    return []


def _fair_changes_pending(project: Project, step: StepState) -> list[PlannedReminder]:
    """Changes awaited for `changes_pending_after` (pauses taken out), on that day's working morning;
    none when that day is not before the step's due day (the deadline's own reminders speak then)."""
    assert step.decided_at is not None
    calendar = work_calendar(project)
    delay = Duration.parse(project.process.reminders.changes_pending_after)
    nominal = calendar.shift(held_since(project, step.decided_at), delay)
    if step.due_at is not None and not calendar.earlier_day(nominal, step.due_at):
        return []
    reminder = _fair(project, Kind.CHANGES_PENDING, step.id, nominal, calendar.on_or_after(nominal), step.decided_at)
    return [] if reminder.reminder_id in project.sent_reminders else [reminder]


def _times(duration: Duration, count: int) -> Duration:
    return Duration(duration.negative, duration.years * count, duration.months * count, duration.days * count,
                    duration.seconds * count)  # fmt: skip


def _fair_pause_reviews(project: Project) -> list[PlannedReminder]:
    """The coordinator on the review date's working morning, then every `pause_review_every` until resume."""
    assert project.pause is not None
    calendar = work_calendar(project)
    every = Duration.parse(project.process.reminders.pause_review_every)
    nominal = calendar.morning(project.pause.review_on)
    at = calendar.next_send_time(nominal) if calendar.counts_days else nominal
    anchor = f"{project.pause.since.isoformat()}/{project.pause.review_on.isoformat()}"
    for rank in range(_MAX_OVERDUE_RANK):
        reminder = _fair(project, Kind.PAUSE_REVIEW, None, nominal, at, anchor, str(rank))
        if reminder.reminder_id not in project.sent_reminders:
            return [reminder]
        nominal = at = calendar.after(at, every)
    return []


def _fair(
    project: Project,
    kind: Kind,
    step: str | None,
    nominal: datetime,
    at: datetime,
    anchor: datetime | str,
    rank: str | None = None,
) -> PlannedReminder:
    """A reminder of the fair clocks: its id names the moment its series counts from, and its rank."""
    text = anchor.isoformat() if isinstance(anchor, datetime) else anchor
    reminder_id = (
        f"{project.profile.project_id}:{step or '-'}:{kind.value}:{text if rank is None else f'{rank}@{text}'}"
    )
    return PlannedReminder(reminder_id=reminder_id, kind=kind, to=ROLE_OF[kind], step=step, nominal=nominal, at=at)


def _make(project: Project, kind: Kind, step: str | None, nominal: datetime, anchor: str) -> PlannedReminder:
    process = project.process
    at = next_send_time(nominal, process.calendar, process.timezone, process.reminders.send_at)
    reminder_id = f"{project.profile.project_id}:{step or '-'}:{kind.value}:{anchor}"
    return PlannedReminder(reminder_id=reminder_id, kind=kind, to=ROLE_OF[kind], step=step, nominal=nominal, at=at)


class SendReminder(BaseModel):
    """The notification activity's input: the reminder and what its e-mail says."""

    reminder: PlannedReminder
    project_id: str
    school_name: str
    city: str
    holder_name: str
    holder_email: str
    step_label: str | None
    stage_label: str
    due_at: datetime | None
    days_overdue: int
    days_waiting: int
    review_on: date | None
    pause_reason: str | None
    #: Where the project is, to find its region's reviewers and coordinators (absent from runs before #17).
    region: str | None = None
    department: str | None = None
    #: Whether a permanent refusal (5xx) ends the send with a `delivery_refused` error instead of retrying: the
    #: runs that know how to record it ask for it (#17 item 4).
    report_refusals: bool = False


class SendReminders(BaseModel):
    """Reminders to the same reader about the same project, due at the same moment: the input of `send_reminders`,
    which sends them as one e-mail."""

    requests: list[SendReminder] = Field(min_length=2)


class ReminderSent(BaseModel):
    to: list[str]
    message_id: str
    already_sent: bool = False


def send_request(project: Project, reminder: PlannedReminder, now: datetime) -> SendReminder:
    step = project.find_step(reminder.step) if reminder.step else None
    definition = project.process.step(reminder.step) if reminder.step else None
    stage = project.process.stages[project.stage_index]
    since = None
    if step is not None:
        since = step.submitted_at if reminder.kind in (Kind.REVIEW_PENDING, Kind.REVIEW_ESCALATION) else step.decided_at
    if since is not None and fair(project):
        since = held_since(project, since)  # the days waited while the project ran
    return SendReminder(
        reminder=reminder,
        project_id=project.profile.project_id,
        school_name=project.profile.name,
        city=project.profile.city,
        holder_name=project.profile.holder.name,
        holder_email=str(project.profile.holder.email),
        step_label=definition.label if definition else None,
        stage_label=stage.label,
        due_at=step.due_at if step else None,
        days_overdue=(step_days_overdue(project, step, now) if fair(project) else days_overdue(step, now))
        if step
        else 0,
        days_waiting=(now - since).days if since else 0,
        review_on=project.pause.review_on if project.pause else None,
        pause_reason=project.pause.reason if project.pause else None,
        region=project.profile.region,
        department=project.profile.department,
    )


#: A reminder found due later than this after its moment is a catch-up (the worker was down, a timer fired late).
CATCH_UP_GRACE = timedelta(hours=1)
#: Catch-ups go out on working days between the morning send time and this hour; outside, the next morning.
OFFICE_CLOSES = time(18, 0)


def catch_up_moment(project: Project, reminder: PlannedReminder, now: datetime) -> datetime:
    """When `reminder` goes out, looked at `now`: its own moment, unless it is a catch-up (more than
    CATCH_UP_GRACE late) found outside office hours (before the send time or from 18:00, or on a day off): then
    the next working morning, not the middle of the night (#17 item 3). A process without a calendar (`demo`)
    sends at once."""
    if now - reminder.at <= CATCH_UP_GRACE:
        return reminder.at
    moment = office_moment(project, now)
    return reminder.at if moment == now else moment


def office_moment(project: Project, now: datetime) -> datetime:
    """`now` in office hours (a working day, from the morning send time to 18:00, the process's time zone) or for a
    process without a calendar (`demo`); otherwise the next working morning. News found at night waits for it."""
    calendar = work_calendar(project)
    if not calendar.counts_days:
        return now
    local = now.astimezone(ZoneInfo(calendar.timezone))
    if is_working_day(local.date(), calendar.alsace_moselle) and calendar.send_at <= local.time() < OFFICE_CLOSES:
        return now
    return calendar.next_send_time(now)
