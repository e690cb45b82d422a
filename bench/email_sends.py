"""The CPU of one e-mail (#20): where a news or reminder e-mail's milliseconds go, counted in CPU, not wall time.

    .venv/bin/python -m bench sends [--count 2000]

COUNT welcome e-mails (`send_news`, the holder told that the first stage starts, as a new `fnep` project's) run
one after the other through Temporal's `ActivityEnvironment` in this process, on a records database (a SQLite
file, then a fresh database on the local PostgreSQL) and an aiosmtpd sink in a process of its own (its CPU is
not counted). CPU is this process's (`time.process_time`: every thread, the SQLite threads included). Then the
MIME part alone: COUNT messages built, then flattened three ways, in turns by blocks so that each meets the same
noise: by aiosmtplib's own flattening (what `send_message` does) with the parts' boundary drawn at random, as
before #20's change, and with it derived from the Message-ID; and by ours (`labellisation/mail/wire.py`).
A benchmark, not a test: nothing is asserted; the sink's count is printed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

from aiosmtplib.email import flatten_message
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from bench.portfolio_scale import postgres_database
from bench.report import machine, write_section
from labellisation.devstack import free_port
from labellisation.mail.messages import Recipient, RecipientRole
from labellisation.mail.news import NewsEmail
from labellisation.mail.render import render_news
from labellisation.mail.sender import build_message
from labellisation.mail.wire import flatten
from labellisation.path.news import NewsItem, SendNews, StepDue
from labellisation.path.reminders import Role
from labellisation.path.state import EventKind
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.settings import Settings

DEFAULT_COUNT = 2000
#: Sends before the measure (imports, templates compiled, the pool's connection open).
WARM_UP = 50
#: Messages per block of the MIME comparison.
BLOCK = 250
AT = datetime(2026, 12, 7, 9, tzinfo=UTC)


def request(n: int) -> SendNews:
    """A new project's welcome: its holder told that the opportunity stage starts, with its two first steps."""
    item = NewsItem(
        event_id=f"event-{n}",
        kind=EventKind.STAGE_STARTED,
        at=AT,
        stage_label="Étude d'opportunité",
        steps=[StepDue(label="Étude d'opportunité", due_at=AT), StepDue(label="Création de l'association", due_at=AT)],
    )
    return SendNews(
        news_id=f"news:event-{n}:holder",
        to=Role.HOLDER,
        project_id=f"edp-{n}",
        school_name="École de Production de Saint-Étienne",
        city="Saint-Étienne",
        holder_name="Élise Martin",
        holder_email=f"porteur{n}@example.org",
        region="auvergne-rhone-alpes",
        department="42",
        items=[item],
    )


@dataclass
class Sends:
    database: str
    count: int
    cpu_ms: float
    wall_ms: float
    delivered: int


def start_sink_process(outbox: Path, port: int) -> subprocess.Popen[bytes]:
    """The dev sink in a process of its own, so that its CPU is not counted; returns once it listens."""
    code = (
        "import sys, time; from pathlib import Path; from labellisation.mail.sink import start_sink; "
        "start_sink(Path(sys.argv[1]), int(sys.argv[2])); print('up', flush=True); time.sleep(10**7)"
    )
    sink = subprocess.Popen([sys.executable, "-c", code, str(outbox), str(port)], stdout=subprocess.PIPE)
    assert sink.stdout is not None
    if sink.stdout.readline() != b"up\n":
        sink.kill()
        raise RuntimeError(f"the sink did not start on port {port}")
    return sink


async def sends(database: str, url: str, count: int, tmp: Path) -> Sends:
    await asyncio.to_thread(upgrade, url)
    store = RecordStore.from_url(url)
    port = free_port()
    outbox = tmp / f"outbox-{database}"
    sink = start_sink_process(outbox, port)
    settings = Settings(smtp_port=port, data_dir=tmp, public_base_url="https://suivi.fnep.fr")
    activities = NotificationActivities(store, settings)
    environment = ActivityEnvironment()
    try:
        for n in range(WARM_UP):
            await environment.run(activities.send_news, request(-1 - n))
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(count):
            await environment.run(activities.send_news, request(n))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await activities.pool.close()
        await store.close()
        sink.terminate()
        sink.wait()
    delivered = sum(1 for _ in outbox.glob("*.eml")) - WARM_UP
    return Sends(database, count, 1000 * cpu / count, 1000 * wall / count, delivered)


def mime(count: int) -> dict[str, float]:
    """CPU per message (ms) to build and flatten the welcome, with aiosmtplib's flattening and with ours."""
    email = NewsEmail(
        reminder_id="news:event-0:holder",
        to=[Recipient(role=RecipientRole.HOLDER, email="porteur@example.org", name="Élise Martin")],
        project_id="edp-0",
        school_name="École de Production de Saint-Étienne",
        city="Saint-Étienne",
        items=request(0).items,
        project_url="https://suivi.fnep.fr/projets/edp-0",
    )
    rendered = render_news(email)

    def built(drawn: bool) -> Message:
        message = build_message(email, rendered, "labellisation@fnep.fr")
        if drawn:  # as before #20: no boundary, `email.generator` draws one and searches the text for it
            message.del_param("boundary")
        return message

    ways: dict[str, tuple[bool, Callable[[Message], bytes]]] = {
        "drawn": (True, flatten_message),
        "aiosmtplib": (False, flatten_message),
        "ours": (False, flatten),
    }
    spent = dict.fromkeys(["build", *ways], 0.0)
    blocks = max(1, count // BLOCK)
    for _ in range(blocks):
        started = time.process_time()
        for _ in range(BLOCK):
            built(False)
        spent["build"] += time.process_time() - started
        for name, (drawn, flattened) in ways.items():
            messages = [built(drawn) for _ in range(BLOCK)]
            started = time.process_time()
            for message in messages:
                flattened(message)
            spent[name] += time.process_time() - started
    return {name: 1000 * seconds / (blocks * BLOCK) for name, seconds in spent.items()}


async def main(count: int = DEFAULT_COUNT) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sends-") as directory:
        tmp = Path(directory)
        runs = [await sends("sqlite", f"sqlite+aiosqlite:///{tmp}/records.db", count, tmp)]
        async with postgres_database() as (url, _version):
            runs.append(await sends("postgresql", url, count, tmp))
    report(runs, mime(count), count)


def report(runs: list[Sends], flattening: dict[str, float], count: int) -> None:
    rows = [
        f"| `send_news`, records on {r.database} | {r.count} | {r.cpu_ms:.2f} | {r.wall_ms:.2f} | {r.delivered} |"
        for r in runs
    ]
    method = (__doc__ or "").split("A benchmark", 1)[0].split("\n\n", 2)[2].strip()
    body = f"""{method}
Machine: {machine()}.

| e-mails | count | CPU per e-mail (ms) | wall per e-mail (ms) | in the sink |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}

| the welcome message | CPU per message (ms) |
| --- | --- |
| built (`build_message`) | {flattening["build"]:.3f} |
| flattened by aiosmtplib (`send_message`), its boundary drawn at random (as before) | {flattening["drawn"]:.3f} |
| flattened by aiosmtplib, its boundary from the Message-ID | {flattening["aiosmtplib"]:.3f} |
| flattened by `wire.flatten`, its boundary from the Message-ID (as now) | {flattening["ours"]:.3f} |
| **ratio, flattening as now to as before** | **{flattening["ours"] / flattening["drawn"]:.2f}** |
"""
    print(body)
    write_section("E-mail sends (#20)", body)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_COUNT))
