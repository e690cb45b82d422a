"""Sending reminder e-mails, once each."""

from __future__ import annotations

from temporalio import activity

from labellisation.contract import ACTIVITY_SEND_REMINDER
from labellisation.mail.messages import Recipient, RecipientRole, ReminderEmail, action_url
from labellisation.mail.recipients import region_slug, staff
from labellisation.mail.render import render
from labellisation.mail.sender import build_message, message_id, send
from labellisation.path.reminders import ReminderSent, Role, SendReminder
from labellisation.records.store import RecordStore
from labellisation.settings import Settings


class NotificationActivities:
    """Checks the reminders table before sending and records after, so a retry after the record sends nothing.

    The one window left is a crash after the SMTP server accepted the message
    and before the row is written: the retry sends it again with the same
    Message-ID, which most servers and clients do not deduplicate
    (tests/workflows/test_reminders.py counts the two copies).
    """

    def __init__(self, store: RecordStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    async def _recipients(self, request: SendReminder) -> list[Recipient]:
        role = request.reminder.to
        if role is Role.HOLDER:
            return [Recipient(role=role, email=request.holder_email, name=request.holder_name)]
        region = region_slug(request.region, request.department)
        return await staff(self.store, self.settings, RecipientRole(role.value), region, request.project_id)

    @activity.defn(name=ACTIVITY_SEND_REMINDER)
    async def send_reminder(self, request: SendReminder) -> ReminderSent:
        reminder = request.reminder
        recipients = await self._recipients(request)
        addresses = [r.email for r in recipients]
        mid = message_id(reminder.reminder_id, self.settings.mail_from.rsplit("@", 1)[-1])
        if await self.store.reminder_sent(reminder.reminder_id):
            activity.logger.info("reminder already sent", extra={"reminder_id": reminder.reminder_id})
            return ReminderSent(to=addresses, message_id=mid, already_sent=True)
        email = ReminderEmail(
            reminder_id=reminder.reminder_id,
            kind=reminder.kind,
            to=recipients,
            project_id=request.project_id,
            school_name=request.school_name,
            city=request.city,
            step_id=reminder.step,
            step_label=request.step_label,
            stage_label=request.stage_label,
            due_at=request.due_at,
            days_overdue=request.days_overdue,
            days_waiting=request.days_waiting,
            review_on=request.review_on,
            pause_reason=request.pause_reason,
            project_url=action_url(self.settings.public_base_url, recipients[0].role, request.project_id),
        )
        message = build_message(email, render(email), self.settings.mail_from)
        await send(message, self.settings.smtp())
        activity.metric_meter().create_counter(
            "labellisation_reminders_sent", "Reminder e-mails sent, by kind"
        ).with_additional_attributes({"kind": reminder.kind.value}).add(1)
        await self.store.record_reminder(
            reminder.reminder_id, request.project_id, reminder.step, reminder.kind.value, addresses, mid
        )
        activity.logger.info(
            "reminder sent", extra={"reminder_id": reminder.reminder_id, "project_id": request.project_id}
        )
        return ReminderSent(to=addresses, message_id=mid)
