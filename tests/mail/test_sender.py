"""Building the MIME message and sending it to a real SMTP server (the dev sink, or a refusing one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, Parser
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPDataError,
    SMTPException,
    SMTPNotSupported,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
)
from aiosmtplib.email import flatten_message
from pydantic import ValidationError

from labellisation.devstack import free_port
from labellisation.mail.messages import Recipient, RecipientRole, ReminderKind
from labellisation.mail.pool import SmtpPool
from labellisation.mail.render import render
from labellisation.mail.sender import (
    REMINDER_ID_HEADER,
    SmtpSettings,
    build_message,
    message_id,
    permanent_refusal,
    send,
)
from labellisation.mail.sink import OutboxSink, start_sink
from tests.support.mail_helpers import PROJECT_URL, body, read_eml, reminder

SUBJECT = "École de Production de Belfort — Étude de faisabilité : en retard de 14 jours"
FROM = "suivi@fnep.fr"


def built(**changes: Any) -> Message:
    email = reminder(**changes)
    return build_message(email, render(email), FROM)


def reparsed(message: Message, utf8: bool = False) -> EmailMessage:
    """What a receiver sees: the bytes aiosmtplib puts on the wire (SMTPUTF8 for an international address), parsed
    back."""
    raw = flatten_message(message, utf8=utf8)
    parsed = (
        Parser(policy=policy.default).parsestr(raw.decode().replace("\r\n", "\n"))
        if utf8
        else BytesParser(policy=policy.default).parsebytes(raw)
    )
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- build_message ---------------------------------------------------------------------------


def test_the_headers_say_who_to_whom_and_what_in_french() -> None:
    message = reparsed(built())
    assert message["Subject"] == SUBJECT
    assert getaddresses([str(message["From"])]) == [("Suivi FNEP", FROM)]
    assert getaddresses([str(message["To"])]) == [("Association EdP Belfort", "porteur@edp-belfort.fr")]
    assert message["Content-Language"] == "fr"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Labellisation-Kind"] == "overdue"
    assert message["X-Labellisation-Project"] == "edp-belfort"
    assert message["Date"] is not None


def test_accents_travel_encoded_and_come_back_intact() -> None:
    raw = flatten_message(built())
    assert raw.isascii()  # RFC 2047 headers, quoted-printable bodies: any relay takes them
    assert b"=?utf-8?" in raw
    message = reparsed(built())
    assert message["Subject"] == SUBJECT
    assert "devait être remise le 15 septembre 2026" in body(message, "plain")


def test_text_then_html_alternatives_in_utf8() -> None:
    message = reparsed(built())
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert "en retard de 14 jours" in body(message, "plain")
    assert f'<a href="{PROJECT_URL}"' in body(message, "html")


def test_the_message_id_is_derived_from_the_reminder_id() -> None:
    one, again = built(), built()
    other = built(reminder_id="edp-belfort:feasibility_study:overdue:autre")
    assert one["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert one["Message-ID"] == message_id(reminder().reminder_id, "fnep.fr")
    assert str(one["Message-ID"]).endswith("@fnep.fr>")
    assert len(str(one["Message-ID"]).split("@")[0]) == 33  # "<" and 32 hex digits
    assert reparsed(one)["Message-ID"] == one["Message-ID"]
    assert "".join(str(reparsed(one)[REMINDER_ID_HEADER]).split()) == reminder().reminder_id


def test_the_message_id_domain_can_be_given() -> None:
    email = reminder()
    message = build_message(email, render(email), FROM, domain="labellisation.fnep.fr")
    assert str(message["Message-ID"]).endswith("@labellisation.fnep.fr>")


def test_a_sender_with_a_display_name_keeps_it() -> None:
    email = reminder()
    message = reparsed(build_message(email, render(email), "Fédération (suivi) <suivi@fnep.fr>"))
    assert getaddresses([str(message["From"])]) == [("Fédération (suivi)", FROM)]
    assert str(message["Message-ID"]).endswith("@fnep.fr>")


def test_several_recipients_and_accented_names() -> None:
    to = [
        Recipient(role=RecipientRole.COORDINATOR, email="coordination@fnep.fr", name="Hélène Coordinatrice"),
        Recipient(role=RecipientRole.COORDINATOR, email="delegue@fnep.fr"),
    ]
    message = reparsed(built(kind=ReminderKind.ESCALATION, to=to))
    assert getaddresses([str(message["To"])]) == [
        ("Hélène Coordinatrice", "coordination@fnep.fr"),
        ("", "delegue@fnep.fr"),
    ]


def test_a_line_break_in_a_name_adds_no_header() -> None:
    to = [Recipient(role=RecipientRole.HOLDER, email="porteur@edp-belfort.fr", name="EdP\r\nBcc: tous@example.org")]
    message = reparsed(built(to=to))
    assert message["Bcc"] is None
    assert getaddresses([str(message["To"])]) == [("EdP Bcc: tous@example.org", "porteur@edp-belfort.fr")]


def test_an_international_address_gets_the_same_message() -> None:
    # An address beyond ASCII needs SMTPUTF8, which the fast compat32 build cannot write: the message is built
    # another way, and must read the same.
    plain = reparsed(built())
    to = [Recipient(role=RecipientRole.HOLDER, email="josé@edp-belfort.fr", name="Association EdP Belfort")]
    international = reparsed(built(to=to), utf8=True)
    assert getaddresses([str(international["To"])]) == [("Association EdP Belfort", "josé@edp-belfort.fr")]
    for header in ("Subject", "From", "X-Labellisation-Kind", "X-Labellisation-Project", "Message-ID",
                   "Auto-Submitted", "Content-Language"):  # fmt: skip
        # (stripped: Python's SMTPUTF8 folding may start a long subject on its continuation line)
        assert str(international[header]).strip() == plain[header], header
    assert "".join(str(international[REMINDER_ID_HEADER]).split()) == reminder().reminder_id
    for subtype in ("plain", "html"):
        assert body(international, subtype) == body(plain, subtype)


@pytest.mark.parametrize("address", ["porteur@edp-belfort.fr", "josé@edp-belfort.fr"])
def test_a_long_accented_name_is_folded_into_short_lines(address: str) -> None:
    name = "Association pour la création de l'École de Production de Saint-Étienne-du-Rouvray"
    message = built(to=[Recipient(role=RecipientRole.HOLDER, email=address, name=name)])
    utf8 = not address.isascii()
    # 78 characters a line as RFC 5322 advises; raw UTF-8 (SMTPUTF8) is folded by Python between words only,
    # within its 998 octets.
    assert max(len(line) for line in flatten_message(message, utf8=utf8).splitlines()) <= (998 if utf8 else 78)
    [mailbox] = reparsed(message, utf8=utf8)["To"].addresses
    assert mailbox.addr_spec == address
    # Python's parser keeps the folding space between two encoded words of a name (RFC 2047 drops it).
    assert mailbox.display_name.replace(" ", "") == name.replace(" ", "")


def test_accented_subjects_keep_to_the_lengths_of_rfc_2047() -> None:
    email = reminder()
    long = "Rappel : « Étude de faisabilité » de l'École de Production de Saint-Étienne-du-Rouvray — " * 3
    for subject in (SUBJECT, long.strip()):
        message = build_message(email, render(email).model_copy(update={"subject": subject}), FROM)
        raw = flatten_message(message)
        header = raw.split(b"\nDate:")[0].split(b"Subject:")[1]
        assert max(len(word) for word in re.findall(rb"=\?[^?]+\?[bqBQ]\?[^?]*\?=", header)) <= 75
        assert max(len(line) for line in raw.splitlines()) <= 78
        assert reparsed(message)["Subject"] == subject.strip()


async def test_a_body_line_starting_with_from_arrives_as_written(sink: OutboxSink) -> None:
    email = reminder()
    text = "Bonjour,\n\nFrom now on, le dossier est à déposer en ligne.\n"
    html = "<p>Bonjour,</p>\nFrom now on, <b>le dossier</b> est à déposer en ligne.\n"
    rendered = render(email).model_copy(update={"text": text, "html": html})
    await send(build_message(email, rendered, FROM), SmtpSettings(port=sink.port, timeout=10))
    [path] = sink.messages()
    received = read_eml(path)
    assert "\nFrom now on, le dossier" in body(received, "plain")
    assert "\nFrom now on, <b>le dossier</b>" in body(received, "html")
    assert b">From" not in path.read_bytes()


@pytest.mark.parametrize("address", ["porteur@edp-belfort.fr", "josé@edp-belfort.fr"])
@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028"])
def test_a_line_break_in_a_subject_is_refused(address: str, line_break: str) -> None:
    email = reminder(to=[Recipient(role=RecipientRole.HOLDER, email=address)])
    rendered = render(email).model_copy(update={"subject": f"Relance{line_break}Bcc : tous@example.org"})
    with pytest.raises(ValueError, match="saut de ligne"):
        build_message(email, rendered, FROM)


def test_settings_refuse_two_tls_modes() -> None:
    with pytest.raises(ValidationError, match="STARTTLS"):
        SmtpSettings(starttls=True, use_tls=True)


# --- send, to real servers --------------------------------------------------------------------


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[OutboxSink]:
    with start_sink(tmp_path / "outbox", free_port()) as handle:
        yield handle


async def test_a_real_smtp_server_receives_the_french_message(sink: OutboxSink) -> None:
    email = reminder()
    await send(build_message(email, render(email), FROM), SmtpSettings(port=sink.port, timeout=10))
    [path] = sink.messages()
    received = read_eml(path)
    assert received["Subject"] == SUBJECT
    assert getaddresses([str(received["To"])]) == [("Association EdP Belfort", "porteur@edp-belfort.fr")]
    assert received["X-Sink-Envelope-To"] == "porteur@edp-belfort.fr"
    assert received["X-Sink-Envelope-From"] == f"<{FROM}>"
    assert received["Message-ID"] == message_id(email.reminder_id, "fnep.fr")
    text, html = body(received, "plain"), body(received, "html")
    assert "L'étape « Étude de faisabilité » de votre projet École de Production de Belfort" in text
    assert "devait être remise le 15 septembre 2026 : elle est à ce jour en retard de 14 jours" in text
    assert PROJECT_URL in text
    assert f'<a href="{PROJECT_URL}"' in html


async def test_an_international_address_is_delivered(sink: OutboxSink) -> None:
    email = reminder(to=[Recipient(role=RecipientRole.HOLDER, email="josé@edp-belfort.fr", name="José")])
    await send(build_message(email, render(email), FROM), SmtpSettings(port=sink.port, timeout=10))
    [path] = sink.messages()
    received = Parser(policy=policy.default).parsestr(path.read_bytes().decode("utf-8"))
    assert received["X-Sink-Envelope-To"] == "josé@edp-belfort.fr"
    assert getaddresses([str(received["To"])]) == [("José", "josé@edp-belfort.fr")]
    assert str(received["Subject"]).strip() == SUBJECT


async def test_every_recipient_gets_it(sink: OutboxSink) -> None:
    to = [
        Recipient(role=RecipientRole.REVIEWERS, email="relecteurs@fnep.fr", name="Relecteurs FNEP"),
        Recipient(role=RecipientRole.REVIEWERS, email="direction@fnep.fr"),
    ]
    email = reminder(ReminderKind.REVIEW_PENDING, to=to)
    await send(build_message(email, render(email), FROM), SmtpSettings(port=sink.port, timeout=10))
    [path] = sink.messages()
    assert read_eml(path)["X-Sink-Envelope-To"] == "relecteurs@fnep.fr, direction@fnep.fr"


async def test_sending_to_a_closed_port_raises() -> None:
    with pytest.raises((SMTPException, OSError)):
        await send(built(), SmtpSettings(port=free_port(), timeout=5))


class _Refusing:
    """A server that refuses every recipient at refuse.example."""

    def __init__(self) -> None:
        self.delivered: list[list[str]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.endswith("@refuse.example"):
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.delivered.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def refusing() -> Iterator[tuple[_Refusing, int]]:
    handler, port = _Refusing(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


async def test_a_refused_recipient_raises(refusing: tuple[_Refusing, int]) -> None:
    handler, port = refusing
    to = [Recipient(role=RecipientRole.HOLDER, email="porteur@refuse.example")]
    with pytest.raises(SMTPRecipientsRefused):
        await send(built(to=to), SmtpSettings(port=port, timeout=5))
    assert handler.delivered == []


async def test_one_refused_recipient_among_several_raises_too(refusing: tuple[_Refusing, int]) -> None:
    handler, port = refusing
    to = [
        Recipient(role=RecipientRole.COORDINATOR, email="coordination@fnep.fr"),
        Recipient(role=RecipientRole.COORDINATOR, email="parti@refuse.example"),
    ]
    with pytest.raises(SMTPRecipientsRefused) as raised:
        await send(built(kind=ReminderKind.ESCALATION, to=to), SmtpSettings(port=port, timeout=5))
    assert [r.recipient for r in raised.value.recipients] == ["parti@refuse.example"]
    assert handler.delivered == [["coordination@fnep.fr"]]
    # a refusal for good, the others having got it: the activity records it as sent to them
    refusal = permanent_refusal(raised.value, [r.email for r in to])
    assert refusal is not None and refusal.refused == ["parti@refuse.example"] and refusal.delivered_to_others


# --- a relay without SMTPUTF8 ------------------------------------------------------------------------

JOSE = "josé@fnep.fr"


@pytest.fixture
def plain_relay(tmp_path: Path) -> Iterator[OutboxSink]:
    """The dev sink without SMTPUTF8: a relay that cannot carry an address beyond ASCII."""
    with start_sink(tmp_path / "outbox", free_port(), smtputf8=False) as handle:
        yield handle


@pytest.mark.parametrize("pooled", [False, True], ids=["one connection", "pool"])
async def test_without_smtputf8_the_others_get_it_and_the_accented_address_is_refused_for_good(
    plain_relay: OutboxSink, pooled: bool
) -> None:
    to = [
        Recipient(role=RecipientRole.COORDINATOR, email="coordination@fnep.fr", name="Camille"),
        Recipient(role=RecipientRole.COORDINATOR, email=JOSE, name="José"),
    ]
    settings = SmtpSettings(port=plain_relay.port, timeout=5)
    pool = SmtpPool(settings) if pooled else None
    try:
        with pytest.raises(SMTPRecipientsRefused) as raised:
            await send(built(kind=ReminderKind.ESCALATION, to=to), settings, pool)
    finally:
        if pool is not None:
            await pool.close()
    [path] = plain_relay.messages()
    received = read_eml(path)
    assert received["X-Sink-Envelope-To"] == "coordination@fnep.fr"
    assert getaddresses([str(received["To"])]) == [("Camille", "coordination@fnep.fr")]
    assert str(received["Subject"]).startswith("[Escalade] École de Production de Belfort")
    refusal = permanent_refusal(raised.value, [r.email for r in to])
    assert refusal is not None and refusal.refused == [JOSE] and refusal.delivered_to_others
    assert refusal.reason.startswith("553 5.6.7 ") and "SMTPUTF8" in refusal.reason


async def test_without_smtputf8_an_accented_address_alone_is_refused_and_nothing_sent(
    plain_relay: OutboxSink,
) -> None:
    to = [Recipient(role=RecipientRole.HOLDER, email=JOSE)]
    with pytest.raises(SMTPRecipientsRefused) as raised:
        await send(built(to=to), SmtpSettings(port=plain_relay.port, timeout=5))
    assert plain_relay.messages() == []
    refusal = permanent_refusal(raised.value, [JOSE])
    assert refusal is not None and refusal.refused == [JOSE] and not refusal.delivered_to_others


async def test_without_smtputf8_both_kinds_of_refusal_are_named() -> None:
    handler, port = _Refusing(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    to = [
        Recipient(role=RecipientRole.COORDINATOR, email="coordination@fnep.fr"),
        Recipient(role=RecipientRole.COORDINATOR, email="parti@refuse.example"),
        Recipient(role=RecipientRole.COORDINATOR, email=JOSE),
    ]
    try:
        with pytest.raises(SMTPRecipientsRefused) as raised:
            await send(built(kind=ReminderKind.ESCALATION, to=to), SmtpSettings(port=port, timeout=5))
    finally:
        controller.stop()
    assert handler.delivered == [["coordination@fnep.fr"]]
    refusal = permanent_refusal(raised.value, [r.email for r in to])
    assert refusal is not None and refusal.delivered_to_others
    assert sorted(refusal.refused) == sorted(["parti@refuse.example", JOSE])


@pytest.mark.parametrize("holder", ["porteur@edp-belfort.fr", JOSE])
async def test_without_smtputf8_an_accented_sender_is_ours_to_fix_and_retried(
    plain_relay: OutboxSink, holder: str
) -> None:
    email = reminder(to=[Recipient(role=RecipientRole.HOLDER, email=holder)])
    message = build_message(email, render(email), "suivé@fnep.fr")
    with pytest.raises(SMTPNotSupported) as raised:
        await send(message, SmtpSettings(port=plain_relay.port, timeout=5))
    assert permanent_refusal(raised.value, [holder]) is None  # no address marked bad, even an accented one
    assert plain_relay.messages() == []


async def test_without_smtputf8_a_caller_that_cannot_report_keeps_the_old_rule(plain_relay: OutboxSink) -> None:
    """A run started before `news-emails` retries a partial refusal as temporary: the others would get a copy at
    every retry, so nothing goes out (as before) until the relay carries the accented address."""
    to = [Recipient(role=RecipientRole.COORDINATOR, email="coordination@fnep.fr"),
          Recipient(role=RecipientRole.COORDINATOR, email=JOSE)]  # fmt: skip
    with pytest.raises(SMTPNotSupported):
        await send(built(kind=ReminderKind.ESCALATION, to=to), SmtpSettings(port=plain_relay.port, timeout=5),
                   split_international=False)  # fmt: skip
    assert plain_relay.messages() == []


async def test_a_refusal_for_good_is_told_apart_from_one_worth_retrying(refusing: tuple[_Refusing, int]) -> None:
    _handler, port = refusing
    to = [Recipient(role=RecipientRole.HOLDER, email="porteur@refuse.example")]
    with pytest.raises(SMTPRecipientsRefused) as raised:
        await send(built(to=to), SmtpSettings(port=port, timeout=5))
    refusal = permanent_refusal(raised.value, ["porteur@refuse.example"])
    assert refusal is not None and refusal.refused == ["porteur@refuse.example"]
    assert refusal.reason.startswith("550 ") and not refusal.delivered_to_others
    # a temporary refusal, the relay unreachable, our own login or sender refused: retry, never mark an address bad
    for error in (
        SMTPRecipientsRefused([SMTPRecipientRefused(450, "4.2.1 Mailbox busy", "a@x.fr")]),
        SMTPConnectError("Connection refused"),
        SMTPAuthenticationError(535, "5.7.8 Authentication failed"),
        SMTPSenderRefused(550, "5.7.1 Sender refused", "labellisation@fnep.fr"),
    ):
        assert permanent_refusal(error, ["a@x.fr"]) is None, error
    assert permanent_refusal(SMTPDataError(554, "5.6.0 Message refused"), ["a@x.fr"]) is not None
