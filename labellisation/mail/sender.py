"""Building reminder and news messages and sending them over SMTP (aiosmtplib).

The notification activity checks its records before sending, so a retry after
the record sends nothing. The Message-ID is derived from the reminder id: if a
crash lands between the SMTP server's acceptance and that record, the retry
sends a second copy with the same Message-ID (its `X-Labellisation-Attempt`
header says 2), which most servers and clients do not deduplicate.
"""

from __future__ import annotations

import copy
import hashlib
import re
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formataddr, formatdate, parseaddr
from typing import TYPE_CHECKING

import aiosmtplib
from aiosmtplib import SMTPResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from labellisation.mail.digest import DailyDigestEmail
from labellisation.mail.messages import ReminderDigest, ReminderEmail, RenderedEmail
from labellisation.mail.news import NewsEmail

if TYPE_CHECKING:
    from labellisation.mail.pool import SmtpPool

#: The From display name when `mail_from` is a bare address.
SENDER_NAME = "Suivi FNEP"
REMINDER_ID_HEADER = "X-Labellisation-Reminder-Id"
REMINDER_IDS_HEADER = "X-Labellisation-Reminder-Ids"
#: Which attempt at sending this e-mail the message is (1, then 2 after an attempt that ended without its record).
ATTEMPT_HEADER = "X-Labellisation-Attempt"


class SmtpSettings(BaseModel):
    """Where and how to send; the defaults reach the dev sink of `labellisation dev`."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=1025, ge=1, le=65535)
    #: Upgrade a plain connection with STARTTLS (submission, port 587).
    starttls: bool = False
    #: Implicit TLS from the first byte (port 465).
    use_tls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    #: The sender: "suivi@fnep.fr" or "Suivi FNEP <suivi@fnep.fr>".
    mail_from: str = "labellisation@fnep.fr"
    #: Seconds for connecting and for each SMTP command.
    timeout: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpSettings:
        if self.starttls and self.use_tls:
            raise ValueError("choisissez STARTTLS ou TLS implicite, pas les deux")
        return self


def message_id(reminder_id: str, domain: str) -> str:
    """Deterministic: the same reminder always carries the same Message-ID."""
    digest = hashlib.sha256(reminder_id.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def mailbox(name: str, address: str) -> Address:
    """A To mailbox, built from its parts: parsing `addr_spec` refuses a local part beyond ASCII (josé@…), which
    SMTPUTF8 carries as it is."""
    return Address(name, *address.rsplit("@", 1))


def sender_domain(mail_from: str) -> str:
    """The domain of our sender address ("Suivi FNEP <suivi@fnep.fr>": fnep.fr), the Message-ID's by default."""
    return _sender(mail_from).domain


def _sender(mail_from: str) -> Address:
    name, address = parseaddr(mail_from)
    if "@" not in address:
        raise ValueError(f"adresse d'expéditeur invalide : {mail_from!r}")
    username, _, domain = address.rpartition("@")
    return Address(display_name=name or SENDER_NAME, username=username, domain=domain)


def build_message(
    email: ReminderEmail | NewsEmail | ReminderDigest | DailyDigestEmail,
    rendered: RenderedEmail,
    mail_from: str,
    domain: str | None = None,
) -> Message:
    """The MIME message: multipart/alternative (plain text, then HTML), UTF-8 throughout.

    `domain` is the right-hand side of the Message-ID; by default the sender's domain. Headers with accents are
    RFC 2047-encoded, and both parts are quoted-printable, so any relay (8BITMIME or not) takes them. Built with
    `email.mime` (compat32): a quarter of the CPU of `EmailMessage`, whose policy parses every header as it is
    set, for the same content on the wire (headers in another order). `EmailMessage` builds the rare others:
    an address beyond ASCII (an internationalised mailbox) needs SMTPUTF8, which compat32 cannot write, and a
    name too long for one encoded word must be folded into several, which compat32's `formataddr` does not do.
    """
    sender = _sender(mail_from)
    # A line break in a name becomes a space: no header can be smuggled in through a name.
    to = [(" ".join((r.name or "").split()), r.email) for r in email.to]
    fields = {
        "Date": formatdate(usegmt=True),
        "Message-ID": message_id(email.reminder_id, domain or sender.domain),
        REMINDER_ID_HEADER: email.reminder_id,
    }
    if isinstance(email, ReminderDigest):  # the reminders (and news) it carries, each with its own row
        carried = [r.reminder_id for r in email.reminders] + ([email.news_id] if email.news_id else [])
        fields[REMINDER_IDS_HEADER] = ", ".join(carried)
    fields["X-Labellisation-Kind"] = str(email.kind)
    if email.project_id:  # a daily digest is about several
        fields["X-Labellisation-Project"] = email.project_id
    # RFC 3834: no out-of-office replies to a robot.
    fields["Auto-Submitted"] = "auto-generated"
    fields["Content-Language"] = "fr"
    # Any line break Python knows (\v, \f, \x1c to \x1e, \x85, \u2028 too), as `EmailMessage` refused them.
    if any("".join(v.splitlines()) != v for v in (rendered.subject, *fields.values())):
        raise ValueError("un en-tête d'e-mail ne peut contenir de saut de ligne")
    mailboxes = [(sender.display_name, sender.addr_spec), *to]
    if all(address.isascii() and _one_word(name) for name, address in mailboxes):
        return _compat_message(rendered, mailboxes[0], to, fields)
    return _policy_message(rendered, sender, to, fields)


#: UTF-8 with quoted-printable bodies (email.charset's default for UTF-8 is base64).
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
#: A line of a body that starts as an mbox separator would.
_FROM_LINE = re.compile(r"^From ", re.MULTILINE)
#: RFC 2047: an encoded word is at most 75 characters.
_MAX_ENCODED_WORD = 75


def _one_word(name: str) -> bool:
    """Whether `formataddr` writes this display name as it should: as it is, or as one encoded word."""
    return name.isascii() or len(_UTF8_QP.header_encode(name)) <= _MAX_ENCODED_WORD


def _boundary(mid: str) -> str:
    """The parts' boundary, from the Message-ID: `email.generator` would otherwise draw one at random and search
    the whole text for it with a regular expression compiled for it (about 0.1 ms an e-mail). Both parts
    are quoted-printable, which never writes "==": no line of theirs can be a boundary that starts with it."""
    return "=" * 15 + hashlib.sha256(mid.encode("ascii")).hexdigest()[:32] + "=="


def _compat_message(
    rendered: RenderedEmail, sender: tuple[str, str], to: list[tuple[str, str]], fields: dict[str, str]
) -> Message:
    message = MIMEMultipart("alternative", boundary=_boundary(fields["Message-ID"]))
    message["From"] = formataddr(sender, charset="utf-8")
    message["To"] = ", ".join(formataddr(recipient, charset="utf-8") for recipient in to)
    for name, value in {"Subject": rendered.subject, **fields}.items():
        # Encoded words of at most 75 characters, the header's name counted on the first line.
        message[name] = value if value.isascii() else Header(value, "utf-8", header_name=name).encode(maxlinelen=74)
    for content, subtype in ((rendered.text, "plain"), (rendered.html, "html")):
        part = MIMENonMultipart("text", subtype, charset="utf-8")
        part.set_payload(content, _UTF8_QP)
        # aiosmtplib writes compat32 with `mangle_from_` (a line starting "From " would arrive as ">From "):
        # such a line's F goes quoted-printable, which decodes to the same text.
        part.set_payload(_FROM_LINE.sub("=46rom ", str(part.get_payload())))
        message.attach(part)
    return message


def _policy_message(
    rendered: RenderedEmail, sender: Address, to: list[tuple[str, str]], fields: dict[str, str]
) -> Message:
    message = EmailMessage()
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the parts: set_content() drops the Content-* headers already there.
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = [mailbox(name, address) for name, address in to]
    for name, value in fields.items():
        message[name] = value
    return message


async def send(
    message: Message, settings: SmtpSettings, pool: SmtpPool | None = None, split_international: bool = True
) -> None:
    """Send or raise: an SMTP failure must reach Temporal, which retries the activity.

    Envelope sender and recipients come from the From and To headers. A
    recipient refused while others were accepted raises too, so no refusal
    goes unnoticed (the retry may then reach the accepted ones a second time,
    with the same Message-ID).

    A relay without SMTPUTF8 cannot carry an address beyond ASCII (josé@…): the
    message then goes to the others alone (the To header naming only them), and
    those addresses are refused for good as RFC 6531 says (553 5.6.7), instead
    of the whole message failing again at every retry. Not when our own sender
    address is beyond ASCII (ours to fix: retried), nor with
    `split_international=False`, for a caller that would retry the others'
    copy as a temporary failure (a run started before `news-emails`).
    """
    try:
        refused = await _deliver(message, settings, pool)
    except aiosmtplib.SMTPNotSupported:
        unsupported, others = _beyond_ascii(message) if split_international else ([], None)
        if not unsupported:
            raise  # our own sender address beyond ASCII (ours to fix), or a caller that cannot report: retried
        if others is None:
            raise aiosmtplib.SMTPRecipientsRefused(unsupported) from None
        try:
            refused = await _deliver(others, settings, pool)
        except aiosmtplib.SMTPRecipientsRefused as error:  # every other one refused too
            raise aiosmtplib.SMTPRecipientsRefused([*error.recipients, *unsupported]) from None
        raise PartlyRefused([*_refusals(refused), *unsupported]) from None
    if refused:
        raise PartlyRefused(_refusals(refused))


#: RFC 6531's reply for an address beyond ASCII that a relay without SMTPUTF8 cannot carry.
NO_SMTPUTF8 = (553, "5.6.7 Le serveur de messagerie n'accepte pas les adresses accentuées (pas de SMTPUTF8)")


def _beyond_ascii(message: Message) -> tuple[list[aiosmtplib.SMTPRecipientRefused], Message | None]:
    """The recipients beyond ASCII, refused as a relay without SMTPUTF8 would; and the message to the others
    alone (None when there are none)."""
    senders = list(getattr(message["From"], "addresses", ()))
    if any(not a.addr_spec.isascii() for a in senders):
        return [], None  # the relay refuses our sender, not these recipients
    addresses = list(getattr(message["To"], "addresses", ()))
    unsupported = [
        aiosmtplib.SMTPRecipientRefused(*NO_SMTPUTF8, a.addr_spec) for a in addresses if not a.addr_spec.isascii()
    ]
    kept = [a for a in addresses if a.addr_spec.isascii()]
    if not unsupported or not kept:
        return unsupported, None
    others = copy.deepcopy(message)
    del others["To"]
    others["To"] = ", ".join(str(a) for a in kept)
    return unsupported, others


async def _deliver(message: Message, settings: SmtpSettings, pool: SmtpPool | None) -> dict[str, SMTPResponse]:
    """The recipients refused while others were accepted; raises when none was accepted or the send failed."""
    if pool is not None:  # a connection kept open between sends (labellisation/mail/pool.py)
        return await pool.send(message)
    refused, _ = await aiosmtplib.send(
        message,
        hostname=settings.host,
        port=settings.port,
        start_tls=settings.starttls,
        use_tls=settings.use_tls,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
        timeout=settings.timeout,
    )
    return refused


def _refusals(refused: dict[str, SMTPResponse]) -> list[aiosmtplib.SMTPRecipientRefused]:
    return [aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, rcpt) for rcpt, reply in refused.items()]


class PartlyRefused(aiosmtplib.SMTPRecipientsRefused):
    """Some recipients refused, the others accepted: the message went out to them."""


class Refusal(BaseModel):
    """A permanent refusal (an SMTP 5xx reply): sending again would be refused again."""

    #: The addresses refused.
    refused: list[str]
    #: The server's reply, e.g. "550 5.1.1 Boîte inconnue".
    reason: str
    #: Whether the other recipients got the message.
    delivered_to_others: bool


def permanent_refusal(error: Exception, recipients: list[str]) -> Refusal | None:
    """What a send's error says, when the message or its recipients are refused for good (5xx to RCPT TO or to
    DATA); None for anything worth retrying: a 4xx reply, the server unreachable, a timeout, and what is ours to
    fix rather than the recipient's (our login or sender address refused), which must not mark addresses bad."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        if not error.recipients or any(r.code < 500 for r in error.recipients):
            return None  # a temporary refusal among them: the retry may reach it (and meet the others again)
        first = error.recipients[0]
        return Refusal(
            refused=[r.recipient for r in error.recipients],
            reason=" ".join(f"{first.code} {first.message}".split())[:300],
            delivered_to_others=isinstance(error, PartlyRefused),
        )
    if isinstance(error, aiosmtplib.SMTPRecipientRefused) and error.code >= 500:
        reason = " ".join(f"{error.code} {error.message}".split())[:300]
        return Refusal(refused=[error.recipient], reason=reason, delivered_to_others=False)
    if isinstance(error, aiosmtplib.SMTPDataError) and error.code >= 500:
        reason = " ".join(f"{error.code} {error.message}".split())[:300]
        return Refusal(refused=recipients, reason=reason, delivered_to_others=False)
    return None
