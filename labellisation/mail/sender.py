"""Building and sending reminder messages over SMTP (aiosmtplib)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formataddr, formatdate

import aiosmtplib
from pydantic import BaseModel, SecretStr

from labellisation.mail.messages import ReminderEmail, RenderedEmail


class SmtpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 1025
    starttls: bool = False
    use_tls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    mail_from: str = "labellisation@fnep.fr"
    timeout: float = 30


def message_id(reminder_id: str, domain: str) -> str:
    """Deterministic: the same reminder always carries the same Message-ID."""
    digest = hashlib.sha256(reminder_id.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def build_message(email: ReminderEmail, rendered: RenderedEmail, mail_from: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = formataddr(("Suivi FNEP", mail_from))
    message["To"] = ", ".join(formataddr((r.name or "", r.email)) for r in email.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(email.reminder_id, mail_from.rsplit("@", 1)[-1])
    message["X-Labellisation-Reminder-Id"] = email.reminder_id
    message["Content-Language"] = "fr"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


async def send(message: EmailMessage, settings: SmtpSettings) -> None:
    """Send or raise: an SMTP failure must reach Temporal, which retries."""
    await aiosmtplib.send(
        message,
        hostname=settings.host,
        port=settings.port,
        start_tls=settings.starttls,
        use_tls=settings.use_tls,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
        timeout=settings.timeout,
    )
