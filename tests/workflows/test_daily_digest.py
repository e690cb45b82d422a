"""« Votre point du jour » (#17 item 3): a person who chose it gets one e-mail a working morning across all their
projects instead of each e-mail; the others still get theirs at once. Real SMTP sink, real records database,
the digest workflow on the time-skipping server; the schedule on the dev server."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.notifications import NotificationActivities
from labellisation.contract import DIGEST_SCHEDULE_ID, WORKFLOW_DAILY_DIGEST
from labellisation.digest_schedule import ensure_digest_schedule
from labellisation.mail.digest import DailyDigestsSent, SendDailyDigests
from labellisation.people import invite, set_daily_digest
from labellisation.records.store import RecordStore
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox, until
from tests.support.office_hours import working_morning_on_or_after
from tests.support.profiles import make_profile
from tests.support.servers import start_dev_server
from tests.workflows.test_reminders import DiesBeforeTheRow, WorkerDied

DIGEST_READER = "rose@fnep.fr"
AT_ONCE = "yann@fnep.fr"


def to(message: EmailMessage) -> str:
    return str(message["To"])


def digests(mailbox: Mailbox) -> list[EmailMessage]:
    return [m for m in mailbox.messages() if str(m["X-Labellisation-Kind"]) == "digest"]


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def two_reviewers(store: RecordStore) -> None:
    await invite(store, role="reviewer", name="Rose Relectrice", email=DIGEST_READER, regions=[])
    await invite(store, role="reviewer", name="Yann Relecteur", email=AT_ONCE, regions=[])
    await set_daily_digest(store, DIGEST_READER, True)


async def one_submission_kept(store: RecordStore, mailbox: Mailbox, client: Client, task_queue: str) -> None:
    """A submission whose news the digest reader's digest keeps (the other reviewer got it at once)."""
    await two_reviewers(store)
    async with running(client, task_queue, store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        await project.submit("opportunity_study")
        await until(lambda: [m for m in mailbox.news() if AT_ONCE in to(m)])
        await project.quiet()


async def run_digest(client: Client, task_queue: str) -> DailyDigestsSent:
    result: DailyDigestsSent = await client.execute_workflow(
        WORKFLOW_DAILY_DIGEST, id=f"digest-{uuid.uuid4().hex[:6]}", task_queue=task_queue, result_type=DailyDigestsSent
    )
    return result


async def test_a_person_who_chose_the_digest_gets_one_email_a_morning_for_all_their_projects(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    await two_reviewers(sqlite_store)
    lyon = make_profile().model_copy(update={"name": "École de Production de Lyon", "city": "Lyon"})
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        for profile in (make_profile(), lyon):
            project = await ProjectDriver.start(client, task_queue, profile)
            await project.submit("opportunity_study")
        await until(lambda: len([m for m in mailbox.news() if AT_ONCE in to(m)]) == 2)
        at_once = [m for m in mailbox.messages() if DIGEST_READER in to(m)]
        with time_skipping_env.auto_time_skipping_disabled():  # the reviewers' reminders stay days away
            first = await run_digest(client, task_queue)
            again = await run_digest(client, task_queue)  # the same morning: nothing more
    # the next working morning (the workers stopped: no clock moves on), nothing new waits
    activities = NotificationActivities(sqlite_store, mailbox.settings)
    following = working_morning_on_or_after(first.day + timedelta(days=1)).date()
    next_day = await ActivityEnvironment().run(activities.send_daily_digests, SendDailyDigests(day=following))

    assert at_once == [], "kept for the digest, not sent as it came"
    assert (first.sent, again.sent, next_day.sent) == (1, 0, 0)
    [digest] = digests(mailbox)
    assert to(digest) == f"Rose Relectrice <{DIGEST_READER}>"
    assert str(digest["Subject"]) == "Votre point du jour : 2 messages sur 2 projets"
    text = plain(digest)
    lines = text.splitlines()
    assert lines[0] == "Bonjour Rose Relectrice,"
    for school in ("École de Production de Belfort (Belfort)", "École de Production de Lyon (Lyon)"):
        assert school in lines, text
    assert text.count("1. Dossier déposé : Étude d'opportunité") == 2, text
    assert text.count("Ouvrir : https://suivi.fnep.fr/a-decider") == 2
    assert "https://suivi.fnep.fr/mes-e-mails" in text
    # besides: the two holders' welcomes and the other reviewer's two news, each as it came
    assert len(mailbox.messages()) == 2 + 2 + 1


async def test_on_a_public_holiday_nothing_goes_out_and_the_items_wait(
    sqlite_store: RecordStore, mailbox: Mailbox, client: Client, task_queue: str
) -> None:
    await one_submission_kept(sqlite_store, mailbox, client, task_queue)
    activities = NotificationActivities(sqlite_store, mailbox.settings)
    holiday = await ActivityEnvironment().run(activities.send_daily_digests, SendDailyDigests(day=date(2027, 7, 14)))
    assert holiday.holiday and holiday.sent == 0 and digests(mailbox) == []
    after = await ActivityEnvironment().run(activities.send_daily_digests, SendDailyDigests(day=date(2027, 7, 15)))
    assert after.sent == 1 and len(digests(mailbox)) == 1


async def test_a_digest_cut_before_its_record_is_sent_again_with_its_items_and_none_lost(
    sqlite_store: RecordStore, mailbox: Mailbox, client: Client, task_queue: str
) -> None:
    """The worker dies after the SMTP server accepted the digest, before its row: the retry sends it again (the
    README's "Sent once": at least once), marked as a second attempt; the next morning sends nothing of it."""
    await one_submission_kept(sqlite_store, mailbox, client, task_queue)
    day = SendDailyDigests(day=date(2027, 3, 2))
    dying = NotificationActivities(DiesBeforeTheRow(sqlite_store.engine), mailbox.settings)
    with pytest.raises(WorkerDied):
        await ActivityEnvironment().run(dying.send_daily_digests, day)
    activities = NotificationActivities(sqlite_store, mailbox.settings)
    retry = await ActivityEnvironment().run(activities.send_daily_digests, day)
    following = await ActivityEnvironment().run(activities.send_daily_digests, SendDailyDigests(day=date(2027, 3, 3)))
    sent = digests(mailbox)
    assert retry.sent == 1 and following.sent == 0
    assert [str(m["X-Labellisation-Attempt"]) for m in sent] == ["1", "2"]
    assert len({str(m["Message-ID"]) for m in sent}) == 1
    assert all("Dossier déposé : Étude d'opportunité" in plain(m) for m in sent)


async def test_the_worker_creates_the_morning_schedule_once(tmp_path: Any) -> None:
    async with await start_dev_server() as env:
        created = await ensure_digest_schedule(env.client, "labellisation")
        again = await ensure_digest_schedule(env.client, "labellisation")
        description = await env.client.get_schedule_handle(DIGEST_SCHEDULE_ID).describe()
    assert (created, again) == (True, False)
    spec = description.schedule.spec
    assert spec.time_zone_name == "Europe/Paris"
    [calendar] = spec.calendars
    assert [(r.start, r.end) for r in calendar.hour] == [(9, 9)]
    assert [(r.start, r.end) for r in calendar.minute] == [(0, 0)]
    assert [(r.start, r.end) for r in calendar.day_of_week] == [(1, 5)]
