"""One e-mail per person per project per morning (#17 item 3): news found outside office hours waits for the next
working morning, and news due with reminders to the same reader goes out in their e-mail, listing each.

A small process of its own: one stage of three steps due in 14 days on French working days, the holder reminded
7 days before, so the three reminders fall on the same morning; then an opening fixed by the planned opening.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import WORKFLOW_NAME, ProjectOutcome, StartProject, Update, workflow_id
from labellisation.path.commands import ChangePlannedOpening
from labellisation.path.state import EventKind
from labellisation.people import invite
from labellisation.process import parse_definition
from labellisation.records.store import RecordStore
from labellisation.records.tables import ReminderRow
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox, until
from tests.support.office_hours import PARIS, working_day
from tests.support.profiles import make_profile

COORDINATOR = "camille@fnep.fr"
STEPS = {"works": "Locaux et travaux", "equipment": "Équipements", "recruitment": "Recrutement des jeunes"}
PROCESS = parse_definition(
    {
        "id": "matins",
        "version": 1,
        "label": "Parcours d'essai",
        "calendar": "fr_working_days",
        "reminders": {"before_due": ["P7D"]},
        "stages": [
            {
                "id": "implementation",
                "label": "Mise en œuvre",
                "steps": [{"id": step, "label": label, "duration": "P14D"} for step, label in STEPS.items()],
            },
            {  # so the planned opening may still change
                "id": "opening",
                "label": "Ouverture",
                "steps": [{"id": "opening", "label": "Ouverture de l'école", "due": {"anchor": "planned_opening"}}],
            },
        ],
    },
    "test",
)


async def start(client: Client, task_queue: str) -> ProjectDriver:
    profile = make_profile()
    request = StartProject(profile=profile, process_id=PROCESS.id, process=PROCESS)
    handle = await client.start_workflow(
        WORKFLOW_NAME, request, id=workflow_id(profile.project_id), task_queue=task_queue, result_type=ProjectOutcome
    )
    return ProjectDriver(handle)


def kinds(messages: list[Any]) -> list[str]:
    return [str(m["X-Labellisation-Kind"]) for m in messages]


def plain(message: Any) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def test_three_reminders_and_a_news_item_due_the_same_morning_reach_the_holder_as_one_email(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    """The planned opening changes on the evening before the morning the three steps' reminders are due: the
    holder gets nothing that evening, then one e-mail at 09:00 listing four items; the coordinator gets the news
    at 09:00 too, alone (they have no reminder that morning)."""
    await invite(sqlite_store, role="coordinator", name="Camille", email=COORDINATOR, regions=[])
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await start(client, task_queue)
        await until(mailbox.messages)  # the welcome (the stage's steps), in office hours: at once
        assert kinds(mailbox.messages()) == ["news"]
        status = await project.status()
        morning = {r.at for r in status.upcoming_reminders if r.kind == "before_due"}
        assert len(morning) == 1, status.upcoming_reminders  # the three steps' reminders share their morning
        at = morning.pop().astimezone(PARIS)
        assert at.time() == time(9) and working_day(at.date())
        evening = at - timedelta(hours=12)  # 21:00 the day before
        await time_skipping_env.sleep(evening - await time_skipping_env.get_current_time())
        opening = ChangePlannedOpening(actor=COORDINATOR, planned_opening=date(2030, 9, 1), reason="Travaux")
        await project.update(Update.CHANGE_PLANNED_OPENING, opening)
        await time_skipping_env.sleep(timedelta(hours=11, minutes=50))  # 08:50: still nothing
        at_night = kinds(mailbox.messages())
        await time_skipping_env.sleep(timedelta(minutes=20))  # 09:10
        await project.quiet()
        history = (await project.status(include_history=True)).history or []

    assert at_night == ["news"], "nothing between 21:00 and the morning"
    holder = str(make_profile().holder.email)
    mornings = mailbox.messages()[1:]
    to_holder = [m for m in mornings if holder in str(m["To"])]
    assert len(to_holder) == 1, [str(m["Subject"]) for m in to_holder]
    [email] = to_holder
    assert str(email["Subject"]) == "École de Production de Belfort — 3 rappels et 1 nouvelle"
    text = plain(email)
    assert "3 rappels et 1 nouvelle concernent le projet" in text
    numbered = [line for line in text.splitlines() if line[:3] in {"1. ", "2. ", "3. ", "4. "}]
    assert len(numbered) == 4, text
    assert all(any(label in line for line in numbered[:3]) for label in STEPS.values()), numbered
    assert numbered[3] == "4. Date d'ouverture prévue modifiée", numbered
    assert "L'ouverture de l'école est désormais prévue le 1er septembre 2030." in text, text
    [to_coordinator] = [m for m in mornings if COORDINATOR in str(m["To"])]
    assert kinds([to_coordinator]) == ["news"]
    assert str(to_coordinator["Subject"]).endswith("Date d'ouverture prévue modifiée")
    # each reminder recorded once, at 09:00; the news once (its row beside the reminders')
    reminders = [e for e in history if e.kind is EventKind.REMINDER_SENT]
    assert sorted(e.step or "" for e in reminders) == sorted(STEPS)
    assert {e.at.astimezone(PARIS).replace(second=0, microsecond=0) for e in reminders} == {at}
    header = "".join(str(email["X-Labellisation-Reminder-Ids"]).split())
    async with sqlite_store.sessions() as session:
        news_rows = (await session.scalars(select(ReminderRow).where(ReminderRow.kind == "news"))).all()
    carried = [row for row in news_rows if row.message_id == str(email["Message-ID"])]
    assert len(carried) == 1 and carried[0].reminder_id.endswith(":holder"), [r.reminder_id for r in news_rows]
    assert all(e.data["reminder_id"] in header for e in reminders)
