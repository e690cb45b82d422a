"""Five years of weekly reminders stay far inside Temporal's history and payload limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.path.state import EventKind
from labellisation.records.store import RecordStore
from tests.reliability.figures import report
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile
from tests.workflows.test_reminders import expected_for_stalled_step, sent_reminders

#: Temporal's hard limits per run, and the payload size it warns about.
HISTORY_EVENTS_LIMIT = 50_000
HISTORY_BYTES_LIMIT = 50 * 1024 * 1024
PAYLOAD_WARNING = 512 * 1024
RUN_EVENTS = 800


async def runs_of(client: Client, workflow_id: str) -> list[Any]:
    """Every run's history, newest first, following the continue-as-new chain back to the first."""
    histories = []
    handle = client.get_workflow_handle(workflow_id)
    while True:
        history = await handle.fetch_history()
        histories.append(history)
        previous = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous:
            return histories
        handle = client.get_workflow_handle(workflow_id, run_id=previous)


async def test_a_step_stalled_for_five_years_sends_every_weekly_reminder_once_within_limits(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str, time_skipping_env: WorkflowEnvironment
) -> None:
    profile = make_profile()
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, profile, max_history_events=RUN_EVENTS)
        started = (await project.status()).steps[0].started_at
        assert started is not None
        await time_skipping_env.sleep(timedelta(days=5 * 365))
        end = await time_skipping_env.get_current_time()
        recorded = await project.recorded(sqlite_store)
        histories = await runs_of(client, project.handle.id)

    # Every reminder the policy owes for the five years, to the last week, went out once, recorded once,
    # delivered once; the expected list is worked out from the rules, not from what was sent.
    sent = [e for e in recorded if e.kind is EventKind.REMINDER_SENT]
    expected = expected_for_stalled_step(started, end)
    assert sent_reminders(recorded) == expected
    assert expected[-1][2] > end - timedelta(days=14), "the oracle stops before the end of the window"
    delivered = ["".join(str(m["X-Labellisation-Reminder-Id"]).split()) for m in mailbox.reminders()]
    assert sorted(delivered) == sorted(e.data["reminder_id"] for e in sent)
    assert len(set(delivered)) == len(delivered)
    numbers = [int(e.event_id.rsplit("-", 1)[1]) for e in recorded]
    assert numbers == list(range(1, len(recorded) + 1)), "an event was lost or recorded twice"

    # Each run stays near the continue-as-new bound, far from Temporal's limits, with small payloads.
    assert len(histories) > 3, "five years of reminders should span several runs"
    sizes = [[event.ByteSize() for event in history.events] for history in histories]
    for run in sizes:
        assert len(run) < RUN_EVENTS + 100 < HISTORY_EVENTS_LIMIT
        assert sum(run) < HISTORY_BYTES_LIMIT / 10
        assert max(run) < PAYLOAD_WARNING / 4
        assert run[0] < 64 * 1024, "the state carried into a run grew with the history"
    report("five-year stalled step: reminders delivered once each", len(sent))
    report("five-year stalled step: runs (continue-as-new every 1,000 events)", len(histories))
    report(
        "five-year stalled step: largest run (events, KB); largest event (KB); carried state (KB)",
        f"{max(len(r) for r in sizes)}, {max(sum(r) for r in sizes) // 1024}; "
        f"{max(max(r) for r in sizes) // 1024}; {sizes[0][0] // 1024}",
    )
