"""Our compat32 messages on the wire (#20): the bytes `wire.flatten` writes are the bytes aiosmtplib's own
flattening writes, and the pool delivers them as they are."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from aiosmtplib.email import flatten_message
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from labellisation.devstack import free_port
from labellisation.mail.messages import Recipient, RecipientRole, ReminderDigest, ReminderKind
from labellisation.mail.pool import SmtpPool
from labellisation.mail.render import render, render_reminders
from labellisation.mail.sender import SmtpSettings, build_message
from labellisation.mail.sink import OutboxHandler
from labellisation.mail.wire import _POLICY, flatten
from tests.support.mail_helpers import body, read_eml, reminder

FROM = "Suivi FNEP <suivi@fnep.fr>"
BELFORT = "porteur@edp-belfort.fr"


def messages() -> list[Message]:
    """Every shape our compat32 messages take: accented and long names, several recipients, every kind, a
    grouped e-mail with its long header of reminder ids, a long accented subject."""
    many = [
        Recipient(role=RecipientRole.REVIEWERS, email=f"relecteur{n}@fnep.fr", name=f"Relecteur n°{n} Hélène")
        for n in range(6)
    ]
    emails = [reminder(kind) for kind in ReminderKind]
    emails.append(reminder(to=many))
    emails.append(reminder(school_name="École de Production de Saint-Étienne-du-Rouvray et de la vallée de la Seine"))
    built = [build_message(e, render(e), FROM) for e in emails]
    reminders = [reminder(kind) for kind in (ReminderKind.OVERDUE, ReminderKind.BEFORE_DUE)]
    digest = ReminderDigest(
        reminder_id=f"reminders:{reminders[0].reminder_id}",
        to=many,
        project_id="edp-belfort",
        school_name="École de Production de Belfort",
        city="Belfort",
        reminders=reminders,
        project_url=reminders[0].project_url,
    )
    built.append(build_message(digest, render_reminders(digest), FROM))
    for message in built:
        message["X-Labellisation-Attempt"] = "2"
    return built


@pytest.mark.parametrize("message", messages())
def test_the_bytes_are_the_ones_aiosmtplib_writes(message: Message) -> None:
    assert flatten(message) == flatten_message(message)


@settings(max_examples=3000, deadline=None)
@given(
    name=st.sampled_from(["Subject", "To", "Date", "X-Labellisation-Reminder-Ids"]),
    value=st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=100),
)
def test_any_ascii_header_is_folded_as_compat32_folds_it(name: str, value: str) -> None:
    assume("".join(value.splitlines()) == value)  # a line break: build_message refuses it before any folding
    assert _POLICY.fold_binary(name, value) == compat32.fold_binary(name, value)


def test_a_body_that_holds_the_boundary_keeps_its_two_parts() -> None:
    email = reminder()
    first = build_message(email, render(email), FROM)
    boundary = first.get_boundary()
    assert boundary is not None and boundary.startswith("==")
    text = f"Bonjour,\n--{boundary}\n--{boundary}--\n"
    message = build_message(email, render(email).model_copy(update={"text": text}), FROM)
    assert message.get_boundary() == boundary  # from the Message-ID: the same at every attempt
    raw = flatten(message)
    assert raw.count(f"\n--{boundary}\n".encode()) == 2  # before each part, and nowhere in the text
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert body(parsed, "plain") == text


def test_a_message_with_bcc_is_refused() -> None:
    message = build_message(reminder(), render(reminder()), FROM)
    message["Bcc"] = "cache@example.org"
    with pytest.raises(ValueError, match="Bcc"):
        flatten(message)


class OptionsHandler(OutboxHandler):
    """The dev sink's handler, keeping each message's MAIL FROM options."""

    def __init__(self, outbox: Path) -> None:
        super().__init__(outbox)
        self.mail_options: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.mail_options.append(list(envelope.mail_options))
        return await super().handle_DATA(server, session, envelope)


async def test_the_pool_delivers_the_bytes_as_written_and_7_bit(tmp_path: Path) -> None:
    handler = OptionsHandler(tmp_path / "outbox")
    relay = Controller(handler, hostname="127.0.0.1", port=free_port())
    relay.start()
    pool = SmtpPool(SmtpSettings(port=relay.port, timeout=10))
    many = [
        Recipient(role=RecipientRole.HOLDER, email=BELFORT, name="Élise"),
        *[Recipient(role=RecipientRole.REVIEWERS, email=f"r{n}@fnep.fr", name="Relecteur") for n in range(2)],
    ]
    email = reminder(to=many)
    message = build_message(email, render(email), FROM)
    try:
        assert await pool.send(message) == {}
    finally:
        await pool.close()
        relay.stop()
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    raw = path.read_bytes()
    assert raw.endswith(flatten(message).replace(b"\n", b"\r\n"))
    assert raw.isascii()
    [options] = handler.mail_options
    # 7-bit throughout: no BODY=8BITMIME, no SMTPUTF8 (aiosmtplib announces the SIZE)
    assert [o for o in options if not o.startswith("SIZE=")] == []
    received = read_eml(path)
    assert received["X-Sink-Envelope-From"] == "<suivi@fnep.fr>"
    assert received["X-Sink-Envelope-To"] == f"{BELFORT}, r0@fnep.fr, r1@fnep.fr"
    assert "Belfort" in body(received, "plain")


async def test_an_international_address_still_goes_with_smtputf8(tmp_path: Path) -> None:
    handler = OptionsHandler(tmp_path / "outbox")
    relay = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=True)
    relay.start()
    pool = SmtpPool(SmtpSettings(port=relay.port, timeout=10))
    email = reminder(to=[Recipient(role=RecipientRole.HOLDER, email="josé@edp-belfort.fr", name="José")])
    try:
        assert await pool.send(build_message(email, render(email), FROM)) == {}
    finally:
        await pool.close()
        relay.stop()
    [options] = handler.mail_options
    assert "SMTPUTF8" in options
    [path] = list((tmp_path / "outbox").glob("*.eml"))
    assert read_eml(path)["X-Sink-Envelope-To"] == "josé@edp-belfort.fr"


_PIECES = st.sampled_from(["a", "é", " ", "=", "==", "-", "--", "From ", "<p>", "&", "\n", "\t", "€", "3D"])


@settings(max_examples=300, deadline=None)
@given(text=st.lists(_PIECES, max_size=60).map("".join), html=st.lists(_PIECES, max_size=60).map("".join))
def test_no_text_of_either_part_can_end_the_parts(text: str, html: str) -> None:
    # The boundary comes from the Message-ID and starts with "==", which quoted-printable never writes: whatever
    # the texts hold, the message has its two parts, each as written.
    email = reminder()
    rendered = render(email).model_copy(update={"text": text, "html": html})
    message = build_message(email, rendered, FROM)
    raw = flatten(message)
    boundary = message.get_boundary()
    assert boundary is not None and boundary.startswith("==")
    delimiters = [line for line in raw.split(b"\n") if line.startswith(f"--{boundary}".encode())]
    assert len(delimiters) == 3  # before each part, and the closing one
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    assert [body(parsed, "plain"), body(parsed, "html")] == [text, html]
