"""A demo path completes although the Temporal server itself is killed (SIGKILL) halfway and restarted.

The dev server runs on a SQLite file we own; it is killed while a reminder timer is pending and stays down
past that timer's due time, then restarts on the same file and port. The worker and the test's client are
the ones from before the crash: they reconnect by themselves. Afterwards every decision is there once, every
stage completed once, the event ids run without a gap, and each reminder went out at most once.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from labellisation.devstack import DevOptions, TemporalDevServer, free_port
from labellisation.path.state import EventKind
from labellisation.process import load_process
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import ReminderRow
from labellisation.search_attributes import register_search_attributes
from tests.reliability.figures import report
from tests.support.demo_path import approve_stages, start_demo
from tests.support.driver import running
from tests.support.event_counts import event_number, lost_or_duplicated
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

TASK_QUEUE = "labellisation"
#: The demo process reminds reviewers of a submission left undecided for 20 s; the server is down across it.
REVIEW_REMINDER = timedelta(seconds=20)


async def kill(server: TemporalDevServer) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    assert await server.process.wait() == -signal.SIGKILL


async def wait_for(store: RecordStore, project_id: str, kind: EventKind, step: str) -> None:
    for _ in range(600):  # bounded: a minute, generous on a loaded machine
        if any(e.kind is kind and e.step == step for e in await store.history(project_id)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} for {step} recorded")


async def reminder_rows(store: RecordStore, project_id: str) -> list[ReminderRow]:
    async with store.sessions() as session:
        return list(await session.scalars(select(ReminderRow).where(ReminderRow.project_id == project_id)))


async def test_a_path_survives_a_killed_temporal_server(tmp_path: Path, mailbox: Mailbox) -> None:
    options = DevOptions(data_dir=tmp_path / "temporal", temporal_port=free_port(), ui_port=free_port())
    server = TemporalDevServer(options)
    client = await server.start()
    await register_search_attributes(client)
    url = f"sqlite+aiosqlite:///{tmp_path}/records.db"
    await asyncio.to_thread(upgrade, url)
    store = RecordStore.from_url(url)
    profile = make_profile()
    stages = load_process("demo").stages
    kills = 0
    try:
        async with running(client, TASK_QUEUE, store, mailbox.settings):
            project = await start_demo(client, profile, TASK_QUEUE)
            await approve_stages(project, stages[:3])
            # Halfway: a submission waits for a decision, its reviewers' reminder timer runs.
            await project.submit("pre_labellisation")
            await wait_for(store, profile.project_id, EventKind.STEP_SUBMITTED, "pre_labellisation")
            await kill(server)
            kills += 1  # seen dead of SIGKILL
            # Down past the reminder's due time: the timer fires once the server is back.
            await asyncio.sleep(REVIEW_REMINDER.total_seconds() + 5)
            server = TemporalDevServer(options)
            await server.start()  # same SQLite file, same port; its own client is only the readiness probe
            await wait_for(store, profile.project_id, EventKind.REMINDER_SENT, "pre_labellisation")
            await project.decide("pre_labellisation", "approve", decision_id="kill-pre_labellisation")
            await approve_stages(project, stages[4:])
            outcome = await asyncio.wait_for(project.handle.result(), 60)
            history = await project.recorded(store)
            in_workflow = (await project.status(include_history=True)).history or []
        reminders = await reminder_rows(store, profile.project_id)
    finally:
        await store.close()
        await server.stop()

    approved = Counter(e.step for e in history if e.kind is EventKind.STEP_APPROVED)
    every_step = Counter(step.id for stage in stages for step in stage.steps)
    kinds = Counter(e.kind for e in history)
    delivered = Counter(str(m["Message-ID"]).strip() for m in mailbox.messages())
    # one row per reminder or news; the reminders sent together as one e-mail share its Message-ID
    rows = Counter({r.message_id.strip() for r in reminders})
    reminder_events = Counter(e.data["reminder_id"] for e in history if e.kind is EventKind.REMINDER_SENT)
    lost = lost_or_duplicated(history, in_workflow)
    report("Temporal server kills survived", kills if outcome.state.value == "completed" else 0)
    report("server kill: decisions recorded once each", sum(1 for step in every_step if approved[step] == 1))
    report("server kill: events lost or duplicated", lost)
    once = sum(1 for mid in rows if rows[mid] == delivered[mid] == 1)
    report("server kill: e-mails (reminders and news) delivered once each", once)

    assert kills == 1
    assert outcome.state.value == "completed"
    assert approved == every_step  # every decision, once
    assert kinds[EventKind.STAGE_COMPLETED] == len(stages)
    assert kinds[EventKind.PROJECT_COMPLETED] == 1
    assert lost == 0  # nothing lost, nothing twice
    assert [event_number(e) for e in history] == list(range(1, len(history) + 1))
    assert set(delivered.values()) <= {1}
    assert set(delivered) == set(rows) and set(rows.values()) == {1}
    # every e-mail (reminders and news) one row, one delivery; every reminder row one REMINDER_SENT event
    assert {r.reminder_id for r in reminders if r.kind != "news"} == set(reminder_events)
    assert set(reminder_events.values()) == {1}
    assert any(r.kind == "news" for r in reminders)
    assert any(r.step == "pre_labellisation" and r.kind == "review_pending" for r in reminders)
