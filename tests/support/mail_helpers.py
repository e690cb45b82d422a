"""A reminder e-mail as the notification activity would build it, for the mail tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from labellisation.mail.messages import Recipient, RecipientRole, ReminderEmail, ReminderKind
from labellisation.path.reminders import Kind, PlannedReminder, Role, SendReminder

PROJECT_URL = "https://suivi.fnep.fr/projects/edp-belfort"
PARIS = ZoneInfo("Europe/Paris")


def reminder(kind: ReminderKind = ReminderKind.OVERDUE, **changes: Any) -> ReminderEmail:
    """Belfort's feasibility study, due on 15 September 2026 (Paris time), 14 days late."""
    fields: dict[str, Any] = {
        "reminder_id": f"edp-belfort:feasibility_study:{kind.value}:2026-09-15T21:59:59+00:00",
        "kind": kind,
        "to": [Recipient(role=RecipientRole.HOLDER, email="porteur@edp-belfort.fr", name="Association EdP Belfort")],
        "project_id": "edp-belfort",
        "school_name": "École de Production de Belfort",
        "city": "Belfort",
        "step_id": "feasibility_study",
        "step_label": "Étude de faisabilité",
        "stage_label": "Étude de faisabilité",
        "due_at": datetime(2026, 9, 15, 21, 59, 59, tzinfo=UTC),  # 23:59:59 in Paris
        "days_overdue": 14,
        "days_waiting": 12,
        "review_on": date(2027, 5, 1),
        "pause_reason": "Attente du vote de la Région",
        "project_url": PROJECT_URL,
    }
    fields.update(changes)
    return ReminderEmail.model_validate(fields)


def read_eml(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def send_reminder_request(kind: Kind, to: Role, region: str | None, department: str | None = "69") -> SendReminder:
    """A reminder of Lyon's works, 30 days late, for `to`, as the workflow asks the activity to send it."""
    now = datetime(2027, 3, 1, 9, 0, tzinfo=PARIS)
    return SendReminder(
        reminder=PlannedReminder(
            reminder_id=f"edp-lyon:works:{kind.value}:{region}:{department}", kind=kind, to=to, step="works",
            nominal=now, at=now,
        ),
        project_id="edp-lyon", school_name="École de Production de Lyon", city="Lyon", holder_name="Porteur",
        holder_email="porteur@edp-lyon.fr", step_label="Locaux et travaux", stage_label="Mise en œuvre",
        due_at=now - timedelta(days=30), days_overdue=30, days_waiting=12, review_on=None, pause_reason=None,
        region=region, department=department,
    )  # fmt: skip
