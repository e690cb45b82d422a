"""The dev SMTP sink: every message received becomes an `.eml` file in the outbox.

`labellisation dev` and the tests point the worker at it instead of a relay.
It runs aiosmtpd's `Controller`, i.e. its own event loop in a background
thread, so the same `start_sink(...)` / `.stop()` works from synchronous
tests and from the launcher's event loop (both calls return in milliseconds).

Files are named `<UTC time>-<sequence>-<Message-ID hash>.eml`: sorting the
names sorts the messages by arrival, and the sequence keeps two messages
received within the same microsecond apart. Each file is written under a
temporary dot-name and renamed, so a reader never sees half a message.
Every address at `refuse.example` is refused for good (550), so that a bounce can be tried on `make run`.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import threading
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

#: The dev sink refuses for good (550) every address at this domain (reserved, RFC 2606), so that a refused
#: address can be tried on `make run`: e.g. `porteur@refuse.example`.
REFUSED_DOMAIN = "refuse.example"


class OutboxHandler:
    """aiosmtpd handler: accept every recipient but those at REFUSED_DOMAIN, write each message to `outbox`."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        outbox.mkdir(parents=True, exist_ok=True)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    def file_name(self, data: bytes, received_at: datetime) -> str:
        message_id = BytesHeaderParser().parsebytes(data).get("Message-ID")
        key = str(message_id).strip().encode() if message_id else data
        with self._lock:
            sequence = next(self._sequence)
        stamp = received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{stamp}-{sequence:06d}-{hashlib.sha256(key).hexdigest()[:16]}.eml"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str, options: Any) -> str:
        if address.lower().rstrip(">").endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 Adresse inconnue : boite aux lettres inexistante"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        # The envelope is what a relay acts on (Bcc recipients appear only there): keep it.
        recipients = ", ".join(str(r) for r in envelope.rcpt_tos)
        header = f"X-Sink-Envelope-From: <{envelope.mail_from or ''}>\r\nX-Sink-Envelope-To: {recipients}\r\n"
        name = self.file_name(data, datetime.now(UTC))
        temporary = self.outbox / f".{name}.tmp"
        temporary.write_bytes(header.encode("utf-8") + data)
        os.replace(temporary, self.outbox / name)
        return "250 Message accepted for delivery"


class OutboxSink(Controller):
    """A running sink: an aiosmtpd `Controller` that knows its outbox.

    `.stop()` it (a second call does nothing), or use it as a context manager.
    """

    def __init__(self, outbox: Path, host: str, port: int, smtputf8: bool = True) -> None:
        # SMTPUTF8, as production relays (Postfix, Exim) offer it: addresses beyond ASCII (josé@…) come through.
        # Without it (`smtputf8=False`), the sink is a relay that cannot carry them.
        super().__init__(OutboxHandler(outbox), hostname=host, port=port, enable_SMTPUTF8=smtputf8)
        self.outbox = outbox
        self.host = host
        self._running = False

    def start(self) -> None:
        super().start()
        self._running = True

    def stop(self, no_assert: bool = False) -> None:
        if self._running:
            self._running = False
            super().stop(no_assert)

    def messages(self) -> list[Path]:
        """The `.eml` files received so far, oldest first."""
        return sorted(self.outbox.glob("*.eml"))

    def __enter__(self) -> OutboxSink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _check_bindable(host: str, port: int) -> None:
    # aiosmtpd reports a bind error only after its whole ready timeout (5 s): fail at once instead.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server does
        probe.bind((host, port))


def start_sink(outbox: Path, port: int, host: str = "127.0.0.1", smtputf8: bool = True) -> OutboxSink:
    """Listen on `host:port` and store every message under `outbox` (created if needed); `smtputf8=False` for a
    relay that cannot carry addresses beyond ASCII.

    Raises OSError at once if the port cannot be bound.
    """
    _check_bindable(host, port)
    sink = OutboxSink(outbox, host, port, smtputf8)
    sink.start()
    return sink
