"""`labellisation dev` (the whole embedded stack, as `make run` starts it) in a subprocess, on ports of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from temporalio.client import Client

from labellisation.devstack import free_port
from labellisation.temporal import connect

LAUNCHER = Path(sys.executable).parent / "labellisation"


class Launcher:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.temporal_port = free_port()
        self.ui_port = free_port()
        self.smtp_port = free_port()
        self.api_port = free_port()
        self.output: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        command = [
            str(LAUNCHER), "dev", "--process", "demo", "--data-dir", str(self.data_dir),
            "--temporal-port", str(self.temporal_port), "--ui-port", str(self.ui_port),
            "--smtp-port", str(self.smtp_port), "--api-port", str(self.api_port),
        ]  # fmt: skip
        # No request limit: the fuzzer and the browser suite send hundreds of requests a minute from one caller
        # (the limits have their own test, tests/api/test_rate_limits.py).
        env = {**os.environ, "LABELLISATION_LOG_FORMAT": "json", "LABELLISATION_API_RATE_LIMIT": "0"}
        # A session of its own: `kill()` can reach the Temporal dev server the launcher started, too.
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
        )

    async def client(self) -> Client:
        """Connect once the banner says the stack is up."""
        assert self.process is not None and self.process.stdout is not None
        for _ in range(120):
            line = await asyncio.to_thread(self.process.stdout.readline)
            self.output.append(line)
            if "Ctrl-C" in line:
                # Keep reading: a full pipe would block the launcher's logging, and with it the stack.
                threading.Thread(target=self._drain, daemon=True).start()
                return await connect(f"127.0.0.1:{self.temporal_port}")
            if not line and self.process.poll() is not None:
                break
        raise AssertionError(f"the launcher did not start (exit {self.process.poll()}): {''.join(self.output)[-2000:]}")

    async def api_up(self) -> None:
        """Wait (bounded) until the API accepts connections: under load it may lag the banner by a moment."""
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.api_port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return
        raise AssertionError(f"the API never listened on {self.api_port}")

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            del self.output[:-200]

    def interrupt(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """Stop the stack whatever state it is in: Ctrl-C first (it stops its Temporal server), then SIGKILL to
        the launcher's whole process group, so no dev server outlives the test."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    async def client_only(self) -> Client:
        """A Temporal client for a stack already started (after `client()` read its banner)."""
        return await connect(f"127.0.0.1:{self.temporal_port}")
