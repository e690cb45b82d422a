"""The SMTP connection pool (#17 item 5): sends share a connection; one the relay dropped, or one a send failed on,
is replaced; every message arrives once. Against real aiosmtpd servers that count the sessions they open."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtplib import SMTPRecipientsRefused

from labellisation.devstack import free_port
from labellisation.mail.pool import SmtpPool
from labellisation.mail.sender import SmtpSettings
from labellisation.mail.sink import OutboxHandler


class CountingHandler(OutboxHandler):
    """The dev sink's handler (it refuses refuse.example), counting the sessions (EHLO) it was opened."""

    def __init__(self, outbox: Path) -> None:
        super().__init__(outbox)
        self.sessions = 0
        self.noops = 0

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        self.noops += 1
        return "250 OK"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses


def serve(handler: CountingHandler, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def message(to: str, n: int) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "labellisation@fnep.fr"
    m["To"] = to
    m["Subject"] = f"message {n}"
    m["Message-ID"] = f"<{n}@fnep.fr>"
    m.set_content(f"corps {n}")
    return m


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


async def test_sends_share_one_connection(tmp_path: Path, port: int) -> None:
    handler = CountingHandler(tmp_path / "outbox")
    relay = serve(handler, port)
    pool = SmtpPool(SmtpSettings(port=port, timeout=5))
    try:
        for n in range(3):
            assert await pool.send(message("a@x.fr", n)) == {}
    finally:
        await pool.close()
        relay.stop()
    assert handler.sessions == 1  # one connection for three e-mails
    assert handler.noops == 2  # each reuse checked first
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3


async def test_a_connection_the_relay_dropped_is_replaced(tmp_path: Path, port: int) -> None:
    first, second = CountingHandler(tmp_path / "one"), CountingHandler(tmp_path / "two")
    relay = serve(first, port)
    pool = SmtpPool(SmtpSettings(port=port, timeout=5))
    try:
        await pool.send(message("a@x.fr", 1))
        relay.stop()  # the relay restarts: the pooled connection is dead
        relay = serve(second, port)
        await pool.send(message("a@x.fr", 2))
    finally:
        await pool.close()
        relay.stop()
    assert (first.sessions, second.sessions) == (1, 1)
    assert len(list((tmp_path / "one").glob("*.eml"))) == len(list((tmp_path / "two").glob("*.eml"))) == 1


async def test_a_connection_a_send_failed_on_is_not_reused(tmp_path: Path, port: int) -> None:
    handler = CountingHandler(tmp_path / "outbox")
    relay = serve(handler, port)
    pool = SmtpPool(SmtpSettings(port=port, timeout=5))
    try:
        with pytest.raises(SMTPRecipientsRefused):
            await pool.send(message("porteur@refuse.example", 1))
        await pool.send(message("a@x.fr", 2))
    finally:
        await pool.close()
        relay.stop()
    assert handler.sessions == 2
    [delivered] = list((tmp_path / "outbox").glob("*.eml"))
    assert b"message 2" in delivered.read_bytes()
