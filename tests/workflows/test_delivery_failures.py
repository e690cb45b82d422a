"""A holder's address the mail server refuses for good (#17 item 4), end to end: the workflow, the people, the dev
SMTP sink (which refuses every address at refuse.example with a 550).

The refusal is recorded (`delivery_failed`, to whom and the server's reply), the region's coordinator is told,
nothing is retried, and the project's other e-mails go on: the reviewer hears of the submission and gets the
review reminder; the next decision is accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.devstack import free_port
from labellisation.mail.sink import start_sink
from labellisation.path.state import EventKind, Holder
from labellisation.people import invite
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox, until
from tests.support.office_hours import sleep_into_office_hours
from tests.support.profiles import make_profile

REFUSED = "porteur@refuse.example"
REVIEWER = "relectrice@fnep-bfc.fr"
COORDINATOR = "coordination@fnep-bfc.fr"


def addressed_to(mailbox: Mailbox, address: str) -> list[str]:
    """The kinds of the e-mails `address` received (`news`, `review_pending`...), oldest first."""
    return [str(m["X-Labellisation-Kind"]) for m in mailbox.messages() if address in str(m["To"])]


async def invite_coordinator(store: RecordStore) -> None:
    await invite(store, role="coordinator", name="Camille", email=COORDINATOR, regions=["bourgogne-franche-comte"])


async def test_a_refused_holder_address_is_recorded_told_and_blocks_nothing(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    await invite(sqlite_store, role="reviewer", name="Rose", email=REVIEWER, regions=["bourgogne-franche-comte"])
    await invite_coordinator(sqlite_store)
    profile = make_profile().model_copy(update={"holder": Holder(name="Association EdP Belfort", email=REFUSED)})
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, profile)
        await until(lambda: addressed_to(mailbox, COORDINATOR))  # told of the refused welcome
        await project.submit("opportunity_study")
        await until(lambda: addressed_to(mailbox, REVIEWER))
        # Past 10 working days (the reviewer is reminded), and in office hours: a decision on a holiday or a weekend
        # would have its news (the second refusal) held until the next working morning.
        await sleep_into_office_hours(time_skipping_env, timedelta(days=16))
        await project.decide("opportunity_study", "approve")  # the project goes on
        await project.quiet()  # nothing left retrying
        status = await project.status(include_history=True)

    history = status.history or []
    failed = [e for e in history if e.kind is EventKind.DELIVERY_FAILED]
    # the welcome (first stage) and the approval with the next stage: each refused once, never retried
    assert len(failed) == 2 and [e.data["first"] for e in failed] == [True, False]
    for event in failed:
        assert event.data["refused"] == [REFUSED] and event.data["audience"] == "holder"
        assert event.data["reason"].startswith("550 5.1.1") and event.data["key"].startswith("news:")
    assert status.current_stage == "association"
    assert addressed_to(mailbox, REFUSED) == []  # the sink took nothing for it
    assert addressed_to(mailbox, REVIEWER) == ["news", "review_pending"]
    # the coordinator is told once of that address, not of every e-mail it refuses
    told = [m for m in mailbox.news() if COORDINATOR in str(m["To"])]
    assert len(told) == 1 and str(told[0]["Subject"]).endswith("E-mail non distribué")
    plain = told[0].get_body(("plain",))
    assert plain is not None and REFUSED in plain.get_content() and "550 5.1.1" in plain.get_content()


async def test_a_holder_reminder_refused_for_good_is_recorded_once_and_not_retried(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    profile = make_profile().model_copy(update={"holder": Holder(name="Association EdP Belfort", email=REFUSED)})
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, profile)
        await time_skipping_env.sleep(timedelta(days=6 * 31 - 20))  # past the reminder 30 days before the due date
        await project.quiet()
        status = await project.status(include_history=True)
    failed = [e for e in status.history or [] if e.kind is EventKind.DELIVERY_FAILED]
    reminders = [e for e in failed if e.data["kind"] == "before_due"]
    assert len(reminders) == 1 and reminders[0].step == "opportunity_study"
    assert reminders[0].data["refused"] == [REFUSED] and ":before_due:" in reminders[0].data["key"]
    assert not [e for e in status.history or [] if e.kind is EventKind.REMINDER_SENT]  # it never went out
    # the next in the series is still planned: a refusal ends that e-mail, not the holder's reminders
    assert status.next_reminder is not None and status.next_reminder.kind == "before_due"


@pytest.fixture
def plain_relay(tmp_path: Path) -> Iterator[Mailbox]:
    """The dev sink without SMTPUTF8: a relay that cannot carry an address beyond ASCII."""
    port = free_port()
    sink = start_sink(tmp_path / "outbox", port, smtputf8=False)
    settings = Settings(smtp_port=port, data_dir=tmp_path, public_base_url="https://suivi.fnep.fr")
    try:
        yield Mailbox(tmp_path / "outbox", settings)
    finally:
        sink.stop()


async def test_an_accented_address_on_a_relay_without_smtputf8_is_refused_told_and_not_retried(
    client: Client, sqlite_store: RecordStore, plain_relay: Mailbox, task_queue: str
) -> None:
    """Before, the send failed before a byte went out and was retried for ever: the holder got nothing, and
    nobody heard of it."""
    holder = "josé@edp-belfort.fr"
    await invite_coordinator(sqlite_store)
    profile = make_profile().model_copy(update={"holder": Holder(name="José Martin", email=holder)})
    async with running(client, task_queue, sqlite_store, plain_relay.settings):
        project = await ProjectDriver.start(client, task_queue, profile)
        await until(lambda: addressed_to(plain_relay, COORDINATOR))  # told of the refused welcome
        await project.quiet()  # nothing left retrying
        status = await project.status(include_history=True)
    [failed] = [e for e in status.history or [] if e.kind is EventKind.DELIVERY_FAILED]
    assert failed.data["refused"] == [holder] and failed.data["audience"] == "holder"
    assert failed.data["reason"].startswith("553 5.6.7") and "SMTPUTF8" in failed.data["reason"]
    [told] = [m for m in plain_relay.news() if COORDINATOR in str(m["To"])]
    plain = told.get_body(("plain",))
    assert plain is not None and holder in plain.get_content() and "553 5.6.7" in plain.get_content()
