"""Reminders end to end: the workflow, a real SMTP server, the records database."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosmtplib
import holidays
import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.notifications import NotificationActivities
from labellisation.contract import Update
from labellisation.devstack import free_port
from labellisation.mail.sink import start_sink
from labellisation.path.commands import PauseProject, ResumeProject
from labellisation.path.reminders import Kind, PlannedReminder, Role, SendReminder
from labellisation.path.state import Event, EventKind
from labellisation.records.store import RecordStore
from labellisation.records.tables import EmailAttemptRow, ReminderRow
from tests.reliability.figures import report
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.office_hours import working_day
from tests.support.office_hours import working_morning_on_or_after as morning_on_or_after
from tests.support.profiles import make_profile

PARIS = ZoneInfo("Europe/Paris")
HOLDER = "porteur@edp-belfort.fr"


def morning_on_or_before(day: date) -> datetime:
    while not working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=PARIS)


def expected_for_stalled_step(started: datetime, end: datetime) -> list[tuple[str, str, datetime]]:
    """Every reminder the fnep policy sends for a step left alone from `started` until `end`, worked out by hand.

    With the fair clocks: due the end of the day six months after the start; 30 and 7 days before, on the
    last working morning on or before that day; once late, the first working morning after the due day,
    then on (or after) the due day + 7, + 14...; the coordinator's escalation at 21 days and pause advice
    at 45 days: the whole window, whatever the workflow did.
    """
    due_day = started.astimezone(PARIS).date() + relativedelta(months=6)
    expected = [(Kind.BEFORE_DUE, morning_on_or_before(due_day - timedelta(days=days))) for days in (30, 7)]
    expected += [(Kind.ESCALATION, morning_on_or_after(due_day + timedelta(days=21))),
                 (Kind.PAUSE_ADVISED, morning_on_or_after(due_day + timedelta(days=45)))]  # fmt: skip
    late = [morning_on_or_after(due_day + timedelta(days=1))]
    while due_day + timedelta(days=7 * len(late)) < end.astimezone(PARIS).date():
        late.append(morning_on_or_after(due_day + timedelta(days=7 * len(late))))
    expected += [(Kind.OVERDUE, at) for at in late]
    to = {Kind.BEFORE_DUE: HOLDER, Kind.OVERDUE: HOLDER}
    out = [(k.value, to.get(k, "coordination@fnep.fr"), at) for k, at in expected]
    return sorted((o for o in out if started <= o[2] < end), key=lambda o: (o[2], o[0]))


def sent_reminders(events: list[Event]) -> list[tuple[str, str, datetime]]:
    """(kind, first recipient, minute sent) of every reminder in `events`, in the expected list's order."""
    actual = [
        (e.data["kind"], e.data["to"][0], e.at.astimezone(PARIS).replace(second=0, microsecond=0))
        for e in events
        if e.kind is EventKind.REMINDER_SENT
    ]
    return sorted(actual, key=lambda o: (o[2], o[0]))


async def test_a_stalled_fnep_step_sends_the_policys_reminders_once_each_on_working_mornings(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        started = (await project.status()).steps[0].started_at
        assert started is not None
        await time_skipping_env.sleep(timedelta(days=6 * 31 + 50))
        end = await time_skipping_env.get_current_time()
        status = await project.status(include_history=True)
        await project.submit("opportunity_study")
        await time_skipping_env.sleep(timedelta(days=40))
        later = await project.status(include_history=True)
        await project.recorded(sqlite_store)

    # Every reminder the policy owes for the whole window slept through, on its working morning, and no other.
    sent = [e for e in status.history or [] if e.kind is EventKind.REMINDER_SENT]
    expected = expected_for_stalled_step(started, end)
    assert sent_reminders(status.history or []) == expected
    assert [k for k, _, _ in expected].count("overdue") >= 6  # the oracle covers the weeks past the deadline

    # Each went out once, to the right people, in French, and was recorded.
    messages = mailbox.reminders()
    ids = ["".join(str(m["X-Labellisation-Reminder-Id"]).split()) for m in messages]
    later_sent = [e for e in later.history or [] if e.kind is EventKind.REMINDER_SENT]
    assert sorted(ids) == sorted(e.data["reminder_id"] for e in later_sent)
    assert len(ids) == len(set(ids))
    overdue = next(m for m in messages if "en retard de" in str(m["Subject"]))
    assert HOLDER in str(overdue["To"])
    assert str(overdue["Subject"]).startswith("École de Production de Belfort — Étude d'opportunité : en retard de")
    for reminder_id in ids:
        assert await sqlite_store.reminder_sent(reminder_id)

    # After the submission: no more holder reminders, the reviewers are reminded instead.
    after = later_sent[len(sent) :]
    assert after and {e.data["kind"] for e in after} <= {"review_pending", "review_escalation", "overdue"}
    submitted_at = next(e.at for e in later.history or [] if e.kind is EventKind.STEP_SUBMITTED)
    assert all(e.data["kind"] != "overdue" or e.at < submitted_at + timedelta(minutes=1) for e in after)
    assert any(e.data["kind"] == "review_pending" and e.data["to"] == ["relecteurs@fnep.fr"] for e in after)


async def test_smtp_down_then_up_delivers_each_reminder_exactly_once(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    port = free_port()
    settings = mailbox.settings.model_copy(update={"smtp_port": port})
    outbox = mailbox.outbox.parent / "late-outbox"
    async with running(client, task_queue, sqlite_store, settings):
        relay = start_sink(mailbox.outbox.parent / "early-outbox", port)  # up while the project starts (its news)
        try:
            project = await ProjectDriver.start(client, task_queue, make_profile())
            for _ in range(200):  # the holder's first news (the first stage) went out
                if list((mailbox.outbox.parent / "early-outbox").glob("*.eml")):
                    break
                await asyncio.sleep(0.05)
            await project.quiet()
        finally:
            relay.stop()  # then the SMTP relay is down
        await time_skipping_env.sleep(timedelta(days=160))  # past the first reminder (due - 30 days)
        during = await project.status(include_history=True)
        sink = start_sink(outbox, port)
        try:
            await time_skipping_env.sleep(timedelta(days=3))  # past the longest retry interval
            after = await project.status(include_history=True)
        finally:
            sink.stop()
    assert not [e for e in during.history or [] if e.kind is EventKind.REMINDER_SENT]
    sent = [e for e in after.history or [] if e.kind is EventKind.REMINDER_SENT]
    assert [e.data["kind"] for e in sent] == ["before_due"]
    assert len(list(outbox.glob("*.eml"))) == 1


def overdue_request() -> SendReminder:
    now = datetime(2027, 3, 1, 9, 0, tzinfo=PARIS)
    return SendReminder(
        reminder=PlannedReminder(reminder_id="edp-x:works:overdue:1@2027-02-22", kind=Kind.OVERDUE,
                                 to=Role.HOLDER, step="works", nominal=now, at=now),
        project_id="edp-x", school_name="École de Production de Lyon", city="Lyon", holder_name="Porteur",
        holder_email=HOLDER, step_label="Locaux et travaux", stage_label="Mise en œuvre",
        due_at=now - timedelta(days=7), days_overdue=7, days_waiting=0, review_on=None, pause_reason=None,
    )  # fmt: skip


async def reminder_rows(store: RecordStore) -> int:
    async with store.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ReminderRow)) or 0)


class WorkerDied(Exception):
    """Stands for a worker that died: the activity ends there, nothing of it runs after."""


class DiesBeforeTheRow(RecordStore):
    """The records store of a worker that dies once the SMTP server has accepted the message, before the row."""

    async def record_reminders(self, *args: Any, **kwargs: Any) -> None:
        raise WorkerDied("the worker died between the SMTP server's acceptance and the reminders row")


class UnreachableAtFirst(RecordStore):
    """A records database that drops the connection twice when the rows of a sent message are written."""

    failures = 2

    async def record_reminders(self, *args: Any, **kwargs: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise OperationalError("INSERT INTO reminders", {}, ConnectionResetError("connection reset by peer"))
        await super().record_reminders(*args, **kwargs)


async def test_a_crash_after_the_reminder_was_recorded_sends_nothing_more_on_retry(
    sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    """The worker dies after sending and recording, before reporting to Temporal: Temporal retries the activity."""
    request = overdue_request()
    activities = NotificationActivities(sqlite_store, mailbox.settings)
    first = await ActivityEnvironment().run(activities.send_reminder, request)
    retry = await ActivityEnvironment().run(activities.send_reminder, request)
    assert (first.already_sent, retry.already_sent) == (False, True)
    assert first.message_id == retry.message_id
    assert len(mailbox.reminders()) == 1
    assert await reminder_rows(sqlite_store) == 1


async def test_a_crash_between_the_smtp_acceptance_and_the_record_sends_it_again_marked_as_a_second_attempt(
    sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    """The window no record can close: the message is out, its row is not written, Temporal retries.

    What the README promises ("Once"): the intent written before the first attempt tells the retry that an
    attempt ended without its record; the retry sends again (nothing is lost), same Message-ID, header
    `X-Labellisation-Attempt: 2`, and the intent row counts two attempts. The figure is counted from the sink.
    """
    request = overdue_request()
    key = request.reminder.reminder_id
    dying = NotificationActivities(DiesBeforeTheRow(sqlite_store.engine), mailbox.settings)
    with pytest.raises(WorkerDied):
        await ActivityEnvironment().run(dying.send_reminder, request)
    assert len(mailbox.reminders()) == 1, "the SMTP server accepted the message before the crash"
    assert not await sqlite_store.reminder_sent(key)
    assert await attempts_of(sqlite_store, key) == 1

    retry = await ActivityEnvironment().run(
        NotificationActivities(sqlite_store, mailbox.settings).send_reminder, request
    )
    messages = mailbox.reminders()
    report("crash between SMTP acceptance and record: messages delivered (same Message-ID)", len(messages))
    assert not retry.already_sent
    assert len(messages) == 2
    assert [str(m["Message-ID"]) for m in messages] == [retry.message_id] * 2
    assert [str(m["X-Labellisation-Attempt"]) for m in messages] == ["1", "2"]
    ids = {"".join(str(m["X-Labellisation-Reminder-Id"]).split()) for m in messages}
    assert ids == {key}
    assert await reminder_rows(sqlite_store) == 1
    assert await attempts_of(sqlite_store, key) == 2

    again = await ActivityEnvironment().run(
        NotificationActivities(sqlite_store, mailbox.settings).send_reminder, request
    )
    assert again.already_sent and len(mailbox.reminders()) == 2, "once recorded, never sent again"
    assert await attempts_of(sqlite_store, key) == 2


async def test_an_attempt_cut_before_the_smtp_acceptance_costs_no_copy(
    sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    """The relay is unreachable at the first attempt (its intent is written, nothing is accepted): the retry
    delivers one copy, marked as the second attempt."""
    request = overdue_request()
    unreachable = mailbox.settings.model_copy(update={"smtp_port": free_port()})
    with pytest.raises(aiosmtplib.SMTPException):
        await ActivityEnvironment().run(NotificationActivities(sqlite_store, unreachable).send_reminder, request)
    assert mailbox.reminders() == []
    retry = await ActivityEnvironment().run(
        NotificationActivities(sqlite_store, mailbox.settings).send_reminder, request
    )
    messages = mailbox.reminders()
    assert not retry.already_sent
    assert [str(m["X-Labellisation-Attempt"]) for m in messages] == ["2"]
    assert await attempts_of(sqlite_store, request.reminder.reminder_id) == 2


async def attempts_of(store: RecordStore, key: str) -> int | None:
    async with store.sessions() as session:
        return await session.scalar(select(EmailAttemptRow.attempts).where(EmailAttemptRow.email_key == key))


def every_ten_working_days(first: datetime, end: datetime) -> list[datetime]:
    """`first`, then every 10 working days (counted with the `holidays` package) before `end`."""
    out, day = [], first.date()
    while (at := datetime.combine(day, time(9), tzinfo=PARIS)) < end:
        out.append(at)
        for _ in range(10):
            day += timedelta(days=1)
            while not working_day(day):
                day += timedelta(days=1)
    return out


async def test_silent_while_paused_but_the_review_reminders_then_reminders_resume(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await time_skipping_env.sleep(timedelta(days=6 * 31 + 10))
        today = (await time_skipping_env.get_current_time()).date()
        await project.update(Update.PAUSE, PauseProject(actor="c", reason="Vote", review_on=today + timedelta(30)))
        paused_at = (await project.status(include_history=True)).history or []
        # 40 days from the review date to the resume: at least 20 working days whatever the holidays (with 30, a
        # start on 9 December 2027 put the third reminder after the resume: Assumption on 15 August 2028)
        await time_skipping_env.sleep(timedelta(days=70))
        await project.update(Update.RESUME, ResumeProject(actor="c"))
        resumed_at = (await project.status(include_history=True)).history or []
        await time_skipping_env.sleep(timedelta(days=30))
        final = (await project.status(include_history=True)).history or []

    def reminders(events: list[Event]) -> list[Event]:
        return [e for e in events if e.kind is EventKind.REMINDER_SENT]

    during = reminders(resumed_at)[len(reminders(paused_at)) :]
    # The review date's working morning, then every 10 working days until the resume.
    resume = next(e.at for e in resumed_at if e.kind is EventKind.PROJECT_RESUMED)
    expected = every_ten_working_days(morning_on_or_after(today + timedelta(30)), resume)
    assert len(expected) >= 3
    assert [(e.data["kind"], e.data["to"], e.at.astimezone(PARIS).replace(second=0, microsecond=0)) for e in during] \
        == [("pause_review", ["coordination@fnep.fr"], at) for at in expected]  # fmt: skip
    after = reminders(final)[len(reminders(resumed_at)) :]
    assert after and {e.data["kind"] for e in after} <= {"overdue", "escalation", "pause_advised"}
    for event in reminders(final):
        local = event.at.astimezone(PARIS)
        assert local.weekday() < 5 and local.date() not in holidays.country_holidays("FR", years=local.year)
        assert (local.hour, local.minute) == (9, 0)


async def test_reminders_due_at_the_same_moment_to_the_same_reader_go_out_as_one_email(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    """Works, equipment and recruitment (demo: 8 minutes each) are due together: the holder gets one e-mail listing
    the three reminders, each recorded once (#17 item 3)."""
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile(), process="demo")
        for step in ("opportunity_study", "association", "feasibility_study", "pre_labellisation"):
            await project.pass_step(step)
        await time_skipping_env.sleep(timedelta(minutes=7, seconds=30))  # past "due in 60 s", before the 2nd
        history = await project.handle.fetch_history()
        events = await project.recorded(sqlite_store)

    names = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert names.count("send_reminders") >= 1, names
    three = ("Locaux et travaux", "Équipements", "Recrutement des jeunes")
    together = [m for m in mailbox.reminders() if str(m["X-Labellisation-Kind"]) == "reminders"]
    first = together[0].get_body(("plain",))
    assert first is not None
    text = first.get_content()
    assert str(together[0]["Subject"]) == "École de Production de Belfort — 3 rappels", together[0]["Subject"]
    assert all(f"{label} : échéance le" in text for label in three), text
    # none of the three also went out alone
    alone = [str(m["Subject"]) for m in mailbox.reminders() if str(m["X-Labellisation-Kind"]) != "reminders"]
    assert not [s for s in alone if any(label in s for label in three)], alone
    sent = [e for e in events if e.kind is EventKind.REMINDER_SENT]
    for label, step in zip(three, ("works", "equipment", "recruitment"), strict=True):
        mine = [e for e in sent if e.step == step and e.data["kind"] == "before_due"]
        assert len(mine) == 1, (label, mine)
        assert await sqlite_store.reminder_sent(mine[0].data["reminder_id"])


async def test_records_unreachable_after_the_smtp_acceptance_are_waited_for_and_nothing_is_sent_twice(
    sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    """The records database drops out between the acceptance and the row (a burst during an outage): the activity
    writes the row again once it answers, rather than failing into a retry that would send the message again."""
    request = overdue_request()
    key = request.reminder.reminder_id
    flaky = UnreachableAtFirst(sqlite_store.engine)
    sent = await ActivityEnvironment().run(NotificationActivities(flaky, mailbox.settings).send_reminder, request)
    assert (flaky.failures, sent.already_sent) == (0, False)
    assert len(mailbox.reminders()) == 1
    assert await sqlite_store.reminder_sent(key)
    assert await attempts_of(sqlite_store, key) == 1
