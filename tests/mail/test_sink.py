"""The dev SMTP sink: one `.eml` file per message, named in arrival order, written atomically."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import aiosmtplib
import pytest

from labellisation.devstack import free_port
from labellisation.mail.sink import start_sink
from tests.support.mail_helpers import read_eml

NAME = re.compile(r"^\d{8}T\d{12}Z-\d{6}-[0-9a-f]{16}\.eml$")


def plain(subject: str, message_id: str = "<meme@fnep.fr>") -> str:
    return (
        f"From: suivi@fnep.fr\r\nTo: porteur@edp-belfort.fr\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n\r\nCorps du message.\r\n"
    )


async def test_every_message_gets_its_own_file_in_arrival_order(tmp_path: Path) -> None:
    port = free_port()
    with start_sink(tmp_path / "outbox", port) as sink:
        for number in range(5):  # the same Message-ID each time: still five files
            await aiosmtplib.send(
                plain(f"message {number}"),
                sender="suivi@fnep.fr",
                recipients=["porteur@edp-belfort.fr"],
                hostname="127.0.0.1",
                port=port,
            )
        paths = sink.messages()
    assert [read_eml(path)["Subject"] for path in paths] == [f"message {n}" for n in range(5)]
    assert all(NAME.match(path.name) for path in paths), [p.name for p in paths]
    assert len({path.name.rsplit("-", 1)[1] for path in paths}) == 1  # hash of the one Message-ID
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [p.name for p in paths]  # no leftovers


async def test_different_message_ids_hash_differently(tmp_path: Path) -> None:
    port = free_port()
    with start_sink(tmp_path / "outbox", port) as sink:
        for mid in ("<a@fnep.fr>", "<b@fnep.fr>"):
            await aiosmtplib.send(
                plain("x", mid), sender="s@fnep.fr", recipients=["r@fnep.fr"], hostname="127.0.0.1", port=port
            )
        first, second = sink.messages()
    assert first.name.rsplit("-", 1)[1] != second.name.rsplit("-", 1)[1]


def test_the_outbox_is_created_and_the_port_released(tmp_path: Path) -> None:
    outbox = tmp_path / "deep" / "outbox"
    port = free_port()
    sink = start_sink(outbox, port)
    assert outbox.is_dir()
    sink.stop()
    sink.stop()  # harmless
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_a_busy_port_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(OSError):
            start_sink(tmp_path / "outbox", port)
        assert time.monotonic() - started < 1
