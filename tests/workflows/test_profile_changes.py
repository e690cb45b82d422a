"""A changed profile reaches the e-mails: after the holder's contact changes, the next reminder goes to the new one.

On the time-skipping server, with a real SMTP server (the dev sink) and the records database: the `fnep`
opportunity study is due six months after the start and its holder is reminded 30 and 7 days before.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import SA_REGION, Update
from labellisation.path.commands import UpdateProfile
from labellisation.path.state import EventKind, Holder
from labellisation.records.store import RecordStore
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

OLD = "porteur@edp-belfort.fr"
NEW = Holder(name="Association École de Production du Territoire de Belfort", email="direction@edp90.fr")


async def test_the_next_holder_reminder_goes_to_the_new_contact(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        due = (await project.status()).steps[0].due_at
        assert due is not None
        # Between the two reminders: the one 30 days before is out, to the holder given at the start.
        await time_skipping_env.sleep(due - timedelta(days=20) - await time_skipping_env.get_current_time())
        first = mailbox.reminders()
        change = UpdateProfile(actor="coordination", reason="L'association est créée", holder=NEW, region="Grand Est")
        status = await project.update(Update.UPDATE_PROFILE, change)
        assert status.region == "Grand Est"
        await time_skipping_env.sleep(due - timedelta(days=1) - await time_skipping_env.get_current_time())
        history = (await project.status(include_history=True)).history or []
        region = (await project.handle.describe()).typed_search_attributes.get(SA_REGION)
        await project.recorded(sqlite_store)

    assert [addressee(m) for m in first] == [("Association EdP Belfort", OLD)]
    later = mailbox.reminders()[len(first) :]
    assert [addressee(m) for m in later] == [(NEW.name, NEW.email)]
    sent = [e for e in history if e.kind is EventKind.REMINDER_SENT]
    assert [(e.data["kind"], e.data["to"]) for e in sent] == [("before_due", [OLD]), ("before_due", [NEW.email])]
    updated = next(e for e in history if e.kind is EventKind.PROFILE_UPDATED)
    assert (updated.data["before"]["holder"]["email"], updated.data["after"]["holder"]["email"]) == (OLD, NEW.email)
    assert region == "Grand Est"  # the portfolio's search attribute follows the region
    record = await sqlite_store.project(status.project_id)
    # The records' portfolio keeps the region's slug (labellisation/regions.py), whatever text the workflow holds.
    assert record is not None and (record.holder_email, record.region) == (NEW.email, "grand-est")


def addressee(message: EmailMessage) -> tuple[str, str]:
    (address,) = message["To"].addresses
    return address.display_name, address.addr_spec
