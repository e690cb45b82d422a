"""The sign-in e-mail: a single-use link to the web application, in French.

Its words are the template pair `sign_in_link.txt.j2` / `sign_in_link.html.j2` (the subject is the
`subject` block of the text one, as for reminders), rendered by the reminders' Jinja2 environment and
sent by the same `send` over the same SMTP settings.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pydantic import BaseModel, ConfigDict, Field

from labellisation.french_calendar import zone
from labellisation.mail.messages import EmailAddress, HttpUrl, RenderedEmail
from labellisation.mail.render import render_pair
from labellisation.mail.sender import _sender, mailbox

TEMPLATES = ("sign_in_link.txt.j2", "sign_in_link.html.j2")


class SignInEmail(BaseModel):
    """Everything the sign-in e-mail says."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress
    name: str
    link: HttpUrl
    expires_at: datetime
    minutes: int = Field(ge=1)

    @property
    def valid_until(self) -> str:
        """The end of the link's validity, Paris time: "14 h 05"."""
        local = self.expires_at.astimezone(zone())
        return f"{local.hour} h {local.minute:02d}"


def render_sign_in(email: SignInEmail) -> RenderedEmail:
    return render_pair(*TEMPLATES, email)


def build_sign_in_message(email: SignInEmail, rendered: RenderedEmail, mail_from: str) -> EmailMessage:
    """multipart/alternative (text, then HTML), as the reminders; a fresh Message-ID (each link is new)."""
    sender = _sender(mail_from)
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = mailbox(" ".join(email.name.split()), email.email)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["X-Labellisation-Kind"] = "sign_in_link"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = "fr"
    return message
