"""The dev SMTP sink: every message received becomes an `.eml` file in the outbox."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class OutboxHandler:
    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        outbox.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{hashlib.sha256(data).hexdigest()[:12]}.eml"
        temporary = self.outbox / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.outbox / name)
        return "250 Message accepted for delivery"


def start_sink(outbox: Path, port: int, host: str = "127.0.0.1") -> Controller:
    """Start the sink in a background thread; call `.stop()` to end it."""
    controller = Controller(OutboxHandler(outbox), hostname=host, port=port)
    controller.start()
    return controller
