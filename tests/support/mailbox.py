"""A real SMTP server (the dev sink) and what it received."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from labellisation.settings import Settings


@dataclass
class Mailbox:
    """A real SMTP server (the dev sink) and what it received."""

    outbox: Path
    settings: Settings

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for path in sorted(self.outbox.glob("*.eml")):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    def reminders(self) -> list[EmailMessage]:
        """The reminder e-mails received (the news of events left out)."""
        return [m for m in self.messages() if m["X-Labellisation-Kind"] != "news"]

    def news(self) -> list[EmailMessage]:
        """The news e-mails received (labellisation/path/news.py)."""
        return [m for m in self.messages() if m["X-Labellisation-Kind"] == "news"]


async def until(condition: Callable[[], object], seconds: float = 10) -> None:
    """Wait (bounded) until `condition()` holds (a message arrived...); the assertions after say what was missing."""
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
