"""The Message-ID an e-mail goes with is the one its record keeps, whatever form the sender address takes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from labellisation.path.reminders import Kind, Role
from labellisation.records.store import RecordStore
from labellisation.records.tables import ReminderRow
from tests.support.mail_helpers import send_reminder_request as request
from tests.support.mailbox import Mailbox


@pytest.mark.parametrize("mail_from", ["suivi@fnep.fr", "Suivi FNEP <suivi@fnep.fr>"])
async def test_the_record_keeps_the_message_id_the_e_mail_went_with(
    sqlite_store: RecordStore, mailbox: Mailbox, mail_from: str
) -> None:
    settings = mailbox.settings.model_copy(update={"mail_from": mail_from})
    sending = request(Kind.OVERDUE, Role.HOLDER, "auvergne-rhone-alpes")
    result = await ActivityEnvironment().run(NotificationActivities(sqlite_store, settings).send_reminder, sending)
    [message] = mailbox.messages()
    assert message["Message-ID"].endswith("@fnep.fr>")
    assert result.message_id == message["Message-ID"]
    async with sqlite_store.engine.connect() as connection:
        recorded = await connection.scalar(
            select(ReminderRow.message_id).where(ReminderRow.reminder_id == sending.reminder.reminder_id)
        )
    assert recorded == message["Message-ID"]
