"""A compat32 message as the bytes sent over SMTP, for less CPU than `aiosmtplib.send_message` spends (#20).

`send_message` flattens with the compat32 policy, which passes every header, however short, through
`email.header.Header` to fold it: about 0.3 ms of CPU an e-mail for the twenty short ASCII headers ours carry
(`make bench BENCH=sends`).
`flatten` writes a header that fits on one line (ASCII, at most `max_line_length` with its name, no line break)
as it is, which is what compat32 writes for it too (checked in tests/mail/test_wire.py), and leaves every other
header to compat32. Our compat32 messages are 7-bit throughout (headers ASCII or RFC 2047-encoded, bodies
quoted-printable: labellisation/mail/sender.py), so they go without `BODY=8BITMIME`.

`EmailMessage` (an address beyond ASCII, a name folded over several encoded words) still goes through
`send_message`, which chooses SMTPUTF8 for it; so does every message sent without the pool (a sign-in link).
"""

from __future__ import annotations

import io
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.policy import Compat32
from typing import NamedTuple

import aiosmtplib
from aiosmtplib import SMTPResponse
from aiosmtplib.email import extract_recipients, extract_sender


class _OneLineAsIs(Compat32):
    """compat32, writing a header that needs no folding nor encoding as it is."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if (
            isinstance(value, str)  # a Header object is folded by compat32
            and value.isascii()
            and self.max_line_length is not None
            and len(name) + 2 + len(value) <= self.max_line_length
            and "".join(value.splitlines()) == value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_POLICY = _OneLineAsIs()


def flatten(message: Message) -> bytes:
    """The message's bytes, as compat32 writes them (a message with Bcc is not ours: refused)."""
    if message.get("Bcc") is not None or message.get("Resent-Bcc") is not None:
        raise ValueError("un e-mail du suivi n'a pas de Bcc")
    with io.BytesIO() as out:
        BytesGenerator(out, policy=_POLICY).flatten(message)
        return out.getvalue()


class Prepared(NamedTuple):
    """A compat32 message as it goes: its envelope and its bytes."""

    sender: str
    recipients: list[str]
    data: bytes


def prepare(message: Message) -> Prepared | None:
    """The envelope and bytes of a compat32 message; None for an `EmailMessage` (sent by `send_message`). Raises
    ValueError for a message that is not ours to send (no sender or recipients, a Bcc)."""
    if isinstance(message, EmailMessage):
        return None
    sender, recipients = _envelope(message)
    return Prepared(sender, recipients, flatten(message))


async def send_over(smtp: aiosmtplib.SMTP, message: Message, prepared: Prepared | None) -> dict[str, SMTPResponse]:
    """Send over an open connection, `prepared` as `prepare` made it; the recipients refused while others were
    accepted (as `send_message`)."""
    if prepared is None:
        refused, _ = await smtp.send_message(message)
    else:
        refused, _ = await smtp.sendmail(prepared.sender, prepared.recipients, prepared.data)
    return refused


def _envelope(message: Message) -> tuple[str, list[str]]:
    sender = extract_sender(message)
    recipients = extract_recipients(message)
    if sender is None or not recipients:
        raise ValueError("un e-mail du suivi a un expéditeur (From) et des destinataires (To)")
    return sender, recipients
