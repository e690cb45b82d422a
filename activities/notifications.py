"""Sending reminder and news e-mails, once each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import aiosmtplib
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from labellisation.contract import (
    ACTIVITY_SEND_DAILY_DIGESTS,
    ACTIVITY_SEND_NEWS,
    ACTIVITY_SEND_REMINDER,
    ACTIVITY_SEND_REMINDERS,
    ACTIVITY_SEND_REMINDERS_WITH_NEWS,
    DELIVERY_REFUSED,
)
from labellisation.french_calendar import is_working_day
from labellisation.mail.digest import (
    DailyDigestEmail,
    DailyDigestsSent,
    DigestPart,
    DigestProject,
    SendDailyDigests,
    digest_key,
)
from labellisation.mail.messages import (
    Recipient,
    RecipientRole,
    ReminderDigest,
    ReminderEmail,
    RenderedEmail,
    action_url,
)
from labellisation.mail.news import NewsEmail
from labellisation.mail.pool import SmtpPool
from labellisation.mail.recipients import region_slug, staff
from labellisation.mail.render import digest_parts, render, render_digest, render_news, render_reminders
from labellisation.mail.sender import (
    ATTEMPT_HEADER,
    build_message,
    message_id,
    permanent_refusal,
    send,
    sender_domain,
)
from labellisation.path.news import NewsSent, SendNews, SendRemindersWithNews
from labellisation.path.reminders import ReminderSent, Role, SendReminder, SendReminders
from labellisation.people import Person, person_by_id
from labellisation.records.digests import claim, digest_readers_unless_sent, keep_for_digest, people_waiting
from labellisation.records.store import RecordStore
from labellisation.records.tables import DigestItemRow
from labellisation.settings import Settings

#: Once the SMTP server accepted a message, how long its rows are tried again here while the records database is
#: unreachable, instead of failing the activity, whose retry would send the message again (README "Once"). Below
#: the sends' one-minute start-to-close timeout.
RECORD_AFTER_SEND = timedelta(seconds=40)


def _unreachable(error: Exception) -> bool:
    """The records database could not be reached or dropped the connection (not a refused statement)."""
    if isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


async def record_after_send(
    store: RecordStore, rows: list[tuple[str, str | None, str]], project_id: str, recipients: list[str], mid: str
) -> None:
    """Write the rows of a message the SMTP server accepted, trying again for RECORD_AFTER_SEND while the records
    database is unreachable (the insert ignores rows already there, so a retry after a lost answer is harmless)."""
    deadline = time.monotonic() + RECORD_AFTER_SEND.total_seconds()
    pause = 0.5
    while True:
        try:
            await store.record_reminders(rows, project_id, recipients, mid)
            return
        except Exception as error:
            if not _unreachable(error) or time.monotonic() + pause > deadline:
                raise
            activity.logger.warning(
                "records unreachable after the send: writing its rows again",
                extra={"key": rows[0][0], "error": type(error).__name__, "retry_in": pause},
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


class NotificationActivities:
    """Checks the reminders table before sending, writes the intent (`email_attempts`) and records after.

    A retry after the record sends nothing. The same table keeps the news e-mails (kind `news`), keyed by their
    news id. A retry that finds the intent of an earlier attempt but no record cannot know whether that attempt
    reached the SMTP server (a crash during the SMTP exchange or just after the server's acceptance look the
    same): it sends again, same Message-ID, its header `X-Labellisation-Attempt` counting attempts, logs it and
    counts it (`labellisation_emails_resent`). Nothing is lost; a copy may arrive twice (README "Once").
    """

    def __init__(self, store: RecordStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        #: SMTP connections kept open between sends, for this worker's activities.
        self.pool = SmtpPool(settings.smtp())

    async def _recipients(
        self, role: Role, holder: Recipient, region: str | None, department: str | None, project_id: str
    ) -> list[Recipient]:
        if role is Role.HOLDER:
            return [holder]
        slug = region_slug(region, department)
        return await staff(self.store, self.settings, RecipientRole(role.value), slug, project_id)

    async def _send_once(
        self,
        email: ReminderEmail | NewsEmail | ReminderDigest | DailyDigestEmail,
        rendered: Callable[[], RenderedEmail],
        rows: list[tuple[str, str | None, str]],
        report_refusals: bool,
    ) -> tuple[list[str], str, bool]:
        """Send `email` unless its rows (key, step, kind: one per reminder or news it carries, written together)
        say it went out, then write them: (addresses, Message-ID, whether it had already gone out). A reader who
        chose « Votre point du jour » gets it there instead (`_keep_for_digests`). A permanent refusal, when
        reported, ends it with a non-retryable `delivery_refused` error naming the refused addresses (the rows
        written if others got it)."""
        addresses = [r.email for r in email.to]
        mid = message_id(email.reminder_id, sender_domain(self.settings.mail_from))
        kind = str(email.kind)
        readers = await digest_readers_unless_sent(
            self.store, rows[0][0], [] if isinstance(email, DailyDigestEmail) else addresses
        )
        if readers is None:
            activity.logger.info("e-mail already sent", extra={"key": email.reminder_id})
            return addresses, mid, True
        if not isinstance(email, DailyDigestEmail):
            email = await self._keep_for_digests(email, rows[0][0], readers)
            if not email.to:  # every reader gets it in their daily digest
                await self.store.record_reminders(rows, email.project_id, [], mid)
                activity.logger.info("e-mail kept for daily digests", extra={"key": email.reminder_id})
                return addresses, mid, False
        attempt = await self.store.record_attempt(rows[0][0], email.project_id)
        message = build_message(email, rendered(), self.settings.mail_from)
        message[ATTEMPT_HEADER] = str(attempt)
        if attempt > 1:
            # An earlier attempt ended without its record: it may have reached the server (README "Once").
            activity.logger.warning("e-mail sent again", extra={"key": email.reminder_id, "attempt": attempt})
            activity.metric_meter().create_counter(
                "labellisation_emails_resent", "E-mails sent again after an attempt that ended without its record"
            ).add(1)
        try:
            # A run that cannot report a refusal would send the others a copy at every retry: it keeps the old rule.
            await send(message, self.settings.smtp(), self.pool, split_international=report_refusals)
        except aiosmtplib.SMTPException as error:
            refusal = permanent_refusal(error, [r.email for r in email.to]) if report_refusals else None
            if refusal is None:
                raise  # temporary: Temporal retries with backoff
            if refusal.delivered_to_others:
                accepted = [a for a in addresses if a not in refusal.refused]
                await record_after_send(self.store, rows, email.project_id, accepted, mid)
            activity.logger.warning(
                "e-mail refused for good", extra={"key": email.reminder_id, "reason": refusal.reason}
            )
            raise ApplicationError(
                f"adresse refusée par le serveur de messagerie : {', '.join(refusal.refused)} ({refusal.reason})",
                refusal.model_dump(),
                type=DELIVERY_REFUSED,
                non_retryable=True,
            ) from None
        activity.metric_meter().create_counter(
            "labellisation_reminders_sent", "Reminder and news e-mails sent, by kind"
        ).with_additional_attributes({"kind": kind}).add(1)
        await record_after_send(self.store, rows, email.project_id, addresses, mid)
        activity.logger.info("e-mail sent", extra={"key": email.reminder_id, "project_id": email.project_id})
        return addresses, mid, False

    async def _keep_for_digests(
        self, email: ReminderEmail | NewsEmail | ReminderDigest, key: str, readers: dict[str, int]
    ) -> ReminderEmail | NewsEmail | ReminderDigest:
        """Keep `email` for its `readers`, who chose « Votre point du jour » (lower-cased address to user id: one
        item each), and return it without them (its `to` may be left empty)."""
        if not readers:
            return email
        school = f"{email.school_name} ({email.city})"
        url = str(email.project_url)
        await keep_for_digest(self.store, key, readers.values(), email.project_id, school, url, digest_parts(email))
        return email.model_copy(update={"to": [r for r in email.to if r.email.lower() not in readers]})

    @activity.defn(name=ACTIVITY_SEND_DAILY_DIGESTS)
    async def send_daily_digests(self, request: SendDailyDigests) -> DailyDigestsSent:
        """« Votre point du jour » to each person with items waiting, once per person per day (its key:
        `digest:<user id>:<day>`). On a public holiday nothing goes out: the items wait for the next working
        morning. A refused address is logged and its items wait; a temporary failure is retried by Temporal,
        the digests already sent staying sent."""
        if not is_working_day(request.day, alsace_moselle=False):
            return DailyDigestsSent(day=request.day, sent=0, holiday=True)
        sent, refused = 0, 0
        failure: Exception | None = None
        for user_id in await people_waiting(self.store):
            person = await person_by_id(self.store, user_id)
            key = digest_key(user_id, request.day)
            if person is None or not person.active or await self.store.reminder_sent(key):
                continue
            items = await claim(self.store, user_id, key)
            if not items:
                continue
            email = self._digest_email(person, key, request.day, items)
            try:
                rows: list[tuple[str, str | None, str]] = [(key, None, "digest")]
                _to, _mid, already = await self._send_once(email, partial(render_digest, email), rows, True)
            except ApplicationError as error:  # refused for good: logged, the items wait
                activity.logger.warning("daily digest refused", extra={"key": key, "reason": str(error)})
                refused += 1
                continue
            except aiosmtplib.SMTPException as error:  # temporary: the others first, then Temporal retries
                failure = error
                continue
            sent += 0 if already else 1
        if failure is not None:
            raise failure
        return DailyDigestsSent(day=request.day, sent=sent, refused=refused)

    def _digest_email(self, person: Person, key: str, day: date, items: list[DigestItemRow]) -> DailyDigestEmail:
        projects: dict[str, DigestProject] = {}
        for item in items:
            parts = [DigestPart.model_validate(p) for p in item.parts]
            if item.project_id in projects:
                projects[item.project_id].parts.extend(parts)
            else:
                projects[item.project_id] = DigestProject(
                    project_id=item.project_id, school=item.school, url=item.url, parts=parts
                )
        role = {"reviewer": RecipientRole.REVIEWERS, "coordinator": RecipientRole.COORDINATOR}.get(
            person.role.value, RecipientRole.HOLDER
        )
        return DailyDigestEmail(
            reminder_id=key,
            to=[Recipient(role=role, email=person.email, name=person.name)],
            day=day,
            projects=list(projects.values()),
            preferences_url=self.settings.public_base_url.rstrip("/") + "/mes-e-mails",
        )

    def _reminder_email(self, request: SendReminder, recipients: list[Recipient]) -> ReminderEmail:
        reminder = request.reminder
        return ReminderEmail(
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

    async def _reminder_recipients(self, request: SendReminder) -> list[Recipient]:
        holder = Recipient(role=RecipientRole.HOLDER, email=request.holder_email, name=request.holder_name)
        return await self._recipients(
            request.reminder.to, holder, request.region, request.department, request.project_id
        )

    @activity.defn(name=ACTIVITY_SEND_REMINDER)
    async def send_reminder(self, request: SendReminder) -> ReminderSent:
        reminder = request.reminder
        email = self._reminder_email(request, await self._reminder_recipients(request))
        rows = [(reminder.reminder_id, reminder.step, reminder.kind.value)]
        to, mid, already = await self._send_once(email, lambda: render(email), rows, request.report_refusals)
        return ReminderSent(to=to, message_id=mid, already_sent=already)

    @activity.defn(name=ACTIVITY_SEND_REMINDERS)
    async def send_reminders(self, request: SendReminders) -> ReminderSent:
        """Reminders to the same reader about the same project at the same moment: one e-mail listing each, once
        (each reminder keeps its own row, all written together)."""
        return await self._send_listing(request.requests, None)

    @activity.defn(name=ACTIVITY_SEND_REMINDERS_WITH_NEWS)
    async def send_reminders_with_news(self, request: SendRemindersWithNews) -> ReminderSent:
        """Reminders and news due for the same reader about the same project at the same moment: one e-mail listing
        each (#17 item 3), once; the news keeps its row (its news id) beside the reminders'."""
        return await self._send_listing(request.requests, request.news)

    async def _send_listing(self, requests: list[SendReminder], news: SendNews | None) -> ReminderSent:
        first = requests[0]
        recipients = await self._reminder_recipients(first)
        reminders = [self._reminder_email(r, recipients) for r in requests]
        digest = ReminderDigest(
            reminder_id=f"reminders:{first.reminder.reminder_id}",
            to=recipients,
            project_id=first.project_id,
            school_name=first.school_name,
            city=first.city,
            reminders=reminders,
            news=news.items if news is not None else [],
            news_id=news.news_id if news is not None else None,
            project_url=reminders[0].project_url,
        )
        rows = [(r.reminder.reminder_id, r.reminder.step, r.reminder.kind.value) for r in requests]
        if news is not None:
            rows.append((news.news_id, None, "news"))
        to, mid, already = await self._send_once(digest, lambda: render_reminders(digest), rows, first.report_refusals)
        return ReminderSent(to=to, message_id=mid, already_sent=already)

    @activity.defn(name=ACTIVITY_SEND_NEWS)
    async def send_news(self, request: SendNews) -> NewsSent:
        """One news e-mail (labellisation/path/news.py) to its audience, once."""
        holder = Recipient(role=RecipientRole.HOLDER, email=request.holder_email, name=request.holder_name)
        recipients = await self._recipients(request.to, holder, request.region, request.department, request.project_id)
        email = NewsEmail(
            reminder_id=request.news_id,
            to=recipients,
            project_id=request.project_id,
            school_name=request.school_name,
            city=request.city,
            items=request.items,
            project_url=action_url(self.settings.public_base_url, recipients[0].role, request.project_id),
        )
        rows: list[tuple[str, str | None, str]] = [(request.news_id, None, "news")]
        to, mid, already = await self._send_once(email, lambda: render_news(email), rows, True)
        return NewsSent(to=to, message_id=mid, already_sent=already)
