"""The fair clocks on the time-skipping server: a new project follows them, with real e-mails in the sink.

The issue's second example end to end: a step submitted four days before its deadline waits five weeks for
FNEP, which then asks for changes. The holder gets no burst of overdue e-mails: the step is due again 14
days later, the "7 days before" reminder and then the overdue ones go out on the mornings the rules give,
worked out here with the `holidays` package, not with the product's calendar.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.path.clocks import FAIR_CLOCKS
from labellisation.path.state import Event, EventKind
from labellisation.records.store import RecordStore
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.office_hours import working_morning_on_or_after as morning_on_or_after
from tests.support.profiles import make_profile
from tests.workflows.test_reminders import HOLDER, morning_on_or_before
from workflows.school_creation import PATCH_FAIR_CLOCKS

PARIS = ZoneInfo("Europe/Paris")
STUDY = "opportunity_study"


def reminders_after(events: list[Event], moment: datetime) -> list[tuple[str, datetime]]:
    """(kind, minute sent) of the reminders sent after `moment`."""
    return [
        (e.data["kind"], e.at.astimezone(PARIS).replace(second=0, microsecond=0))
        for e in events
        if e.kind is EventKind.REMINDER_SENT and e.at > moment
    ]


def reminder_mails(mailbox: Mailbox, kind: str) -> list[EmailMessage]:
    return [
        m for m in mailbox.messages() if f":{STUDY}:{kind}:" in "".join(str(m["X-Labellisation-Reminder-Id"]).split())
    ]


async def test_a_late_request_for_changes_gives_the_holder_the_changes_delay_and_no_overdue_burst(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    env = time_skipping_env
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        status = await project.status()
        study = next(s for s in status.steps if s.id == STUDY)
        assert status.clock_rules == FAIR_CLOCKS and status.calendar == "fr_working_days"
        assert study.due_at is not None and study.started_at is not None
        due = study.due_at.astimezone(PARIS)
        # Six months from the start, to the end of that day.
        assert due.date() == study.started_at.astimezone(PARIS).date() + relativedelta(months=6)
        assert due.time() == time(23, 59, 59)

        # Submitted four days before the deadline; FNEP asks for changes five weeks later.
        await env.sleep(due - timedelta(days=4) - await env.get_current_time())
        await project.submit(STUDY)
        await env.sleep(timedelta(days=35))
        sent_back = await project.decide(STUDY, "request_changes", comment="Chiffrer les besoins")
        decided_at = await env.get_current_time()
        await env.sleep(timedelta(hours=1))
        right_after = await project.status(include_history=True, as_of=await env.get_current_time())

        again = next(s for s in sent_back.steps if s.id == STUDY)
        assert again.due_at is not None
        due_day = decided_at.astimezone(PARIS).date() + timedelta(days=14)
        assert again.due_at.astimezone(PARIS) == datetime.combine(due_day, time(23, 59, 59), tzinfo=PARIS)
        assert again.days_overdue == 0
        # No overdue burst, no escalation: nothing went out to the holder or the coordinator.
        assert reminders_after(right_after.history or [], decided_at) == []
        assert [(r.kind, r.at) for r in sent_back.upcoming_reminders][:2] == [
            ("before_due", morning_on_or_before(due_day - timedelta(days=7))),
            ("overdue", morning_on_or_after(due_day + timedelta(days=1))),
        ]

        await env.sleep(datetime.combine(due_day + timedelta(days=10), time(12), tzinfo=PARIS)
                        - await env.get_current_time())  # fmt: skip
        later = await project.status(include_history=True, as_of=await env.get_current_time())
        await project.recorded(sqlite_store)
        history = await project.handle.fetch_history()

    first_late = morning_on_or_after(due_day + timedelta(days=1))
    assert reminders_after(later.history or [], decided_at) == [
        ("before_due", morning_on_or_before(due_day - timedelta(days=7))),
        ("overdue", first_late),
        ("overdue", morning_on_or_after(due_day + timedelta(days=7))),
    ]
    # The e-mails, in the SMTP sink, to the holder: the late one says the started days, counted by hand.
    late_mails = reminder_mails(mailbox, "overdue")
    assert len(late_mails) == 2 and all(HOLDER in str(m["To"]) for m in late_mails)
    late_days = (first_late.date() - due_day).days
    expected = "en retard d'un jour" if late_days == 1 else f"en retard de {late_days} jours"
    assert expected in str(late_mails[0]["Subject"]), late_mails[0]["Subject"]
    before = ["".join(str(m["X-Labellisation-Reminder-Id"]).split()) for m in reminder_mails(mailbox, "before_due")]
    assert [i for i in before if i.endswith(f"P7D@{again.due_at.isoformat()}")], before
    assert not reminder_mails(mailbox, "escalation")
    # A new project records the patch that gave it the fair clocks.
    markers = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert any(PATCH_FAIR_CLOCKS.encode() in e.marker_recorded_event_attributes.SerializeToString() for e in markers)
