"""Our compat32 messages on the wire (#20): the bytes `wire.flatten` writes are the bytes aiosmtplib's own
flattening writes, and the pool delivers them as they are."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

import pytest
from aiosmtplib.email import flatten_message
from hypothesis import given, settings
from hypothesis import strategies as st

from labellisation.devstack import free_port
from labellisation.mail.messages import Recipient, RecipientRole, ReminderDigest, ReminderKind
from labellisation.mail.pool import SmtpPool
from labellisation.mail.render import render, render_reminders
from labellisation.mail.sender import SmtpSettings, build_message
from labellisation.mail.sink import start_sink
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
    if "".join(value.splitlines()) != value:
        return  # a line break: build_message refuses it before any folding
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


async def test_the_pool_delivers_the_bytes_as_written(tmp_path: Path) -> None:
    port = free_port()
    sink = start_sink(tmp_path / "outbox", port)
    pool = SmtpPool(SmtpSettings(port=port, timeout=10))
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
        sink.stop()
    [path] = sink.messages()
    raw = path.read_bytes()
    assert raw.endswith(flatten(message).replace(b"\n", b"\r\n"))
    received = read_eml(path)
    assert received["X-Sink-Envelope-From"] == "<suivi@fnep.fr>"
    assert received["X-Sink-Envelope-To"] == f"{BELFORT}, r0@fnep.fr, r1@fnep.fr"
    assert "Belfort" in body(received, "plain")
