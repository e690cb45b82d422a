"""A few SMTP connections kept open between sends (#17 item 5).

Without it every e-mail opens its own connection (TCP, the greeting, EHLO, STARTTLS and login where set): about
3 ms on a local relay, more over TLS to a distant one, and relays limit connections per minute. The pool keeps
up to `size` connections, each used by one send at a time. A connection is checked with NOOP before it is
reused, and replaced when the relay has dropped it. (Skipping the NOOP for a connection used a moment before was
tried and dropped: a relay that answers `421` then closes, or a close over TLS, takes the event loop more than a
pass or two to show, and the send then fails on a dead connection, to be retried by Temporal seconds later.)
A connection a send failed on is closed, never reused: its state is unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from email.message import Message

import aiosmtplib
from aiosmtplib import SMTPResponse

from labellisation.mail.sender import SmtpSettings
from labellisation.mail.wire import prepare, send_over

#: Connections kept open, at most.
POOL_SIZE = 4
#: A connection idle longer than this is closed instead of checked (relays drop idle ones after a minute or so).
MAX_IDLE_SECONDS = 30.0


class SmtpPool:
    def __init__(self, settings: SmtpSettings, size: int = POOL_SIZE, max_idle: float = MAX_IDLE_SECONDS) -> None:
        self.settings = settings
        self._slots = asyncio.Semaphore(size)
        #: Open connections not in use, with when each was last used (monotonic seconds).
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._max_idle = max_idle

    async def send(self, message: Message) -> dict[str, SMTPResponse]:
        """Send over a pooled connection; the recipients refused while others were accepted (as `aiosmtplib.send`).
        Our compat32 messages go as `wire.prepare` writes them. Raises as `aiosmtplib.send` does; the connection
        is then closed."""
        prepared = prepare(message)  # before any connection: a message that is not ours raises here
        async with self._slots:
            smtp = await self._connection()
            try:
                refused = await send_over(smtp, message, prepared)
            except BaseException:
                await _close(smtp)
                raise
            self._idle.append((smtp, time.monotonic()))
            return refused

    async def close(self) -> None:
        while self._idle:
            smtp, _ = self._idle.pop()
            await _close(smtp)

    async def _connection(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp, used = self._idle.pop()
            if smtp.is_connected and time.monotonic() - used < self._max_idle:
                try:
                    await smtp.noop()
                    return smtp
                except (aiosmtplib.SMTPException, OSError):
                    pass  # dropped by the relay: open another
            await _close(smtp)
        s = self.settings
        smtp = aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.use_tls, start_tls=s.starttls, timeout=s.timeout)
        await smtp.connect()
        if s.username:
            await smtp.login(s.username, s.password.get_secret_value() if s.password else "")
        return smtp


async def _close(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        if smtp.is_connected:
            await smtp.quit()
    smtp.close()
