"""Committed histories of real runs replay against the current workflow code.

One folder per version of the workflow (`v1/`, `v2/`, ...): add a folder with
`.venv/bin/python -m tests.histories.generate vN` after a change that alters
the commands a workflow issues (behind `workflow.patched()`), and keep the old
folders until the last project of that version is done.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from labellisation.converter import data_converter
from labellisation.worker_app import WORKFLOWS, sandbox_runner
from tests.histories.careless_change import ChangedWithoutAPatch
from workflows.news_sender import PATCH_NEWS, PATCH_NEWS_MORNINGS
from workflows.recorder import PATCH_SENT_RECORDED_INLINE
from workflows.reminder_sender import PATCH_CATCH_UP, PATCH_REMINDERS_MERGED
from workflows.school_creation import PATCH_FAIR_CLOCKS

HISTORIES = sorted(Path(__file__).parent.glob("v*/*.json"))
SCENARIOS = {"full_path", "changes_requested", "paused_and_resumed", "rejected", "continued_as_new"}
#: Scenarios added with a version, and every later version's histories hold them too.
SCENARIOS_SINCE = {5: {"changed_while_paused"}, 8: {"news_in_the_morning"}}
#: One history of each version: the oldest, and the newest (its projects start with the `started` update).
CONTROLS = [HISTORIES[0], max(HISTORIES, key=lambda p: (int(p.parent.name[1:]), p.stem))]


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"school-{path.stem}", path.read_text())


def test_the_representative_histories_of_every_version_are_committed() -> None:
    versions = {p.parent.name for p in HISTORIES}
    assert {"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"} <= versions
    for version in versions:
        added = {name for since, names in SCENARIOS_SINCE.items() if int(version[1:]) >= since for name in names}
        assert {p.stem for p in HISTORIES if p.parent.name == version} >= SCENARIOS | added, version


def patches(path: Path) -> set[str]:
    return {
        json.loads(event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for event in load(path).events
        if event.marker_recorded_event_attributes.marker_name == "core_patch"  # not a local activity's (v9 on)
    }


def version(path: Path) -> int:
    return int(path.parent.name[1:])


def test_projects_get_the_fair_clocks_from_v5_on() -> None:
    """The v5 projects were built with the patch `fair-clocks` (their clocks follow rules 2); older ones not."""
    for path in HISTORIES:
        if path.stem.endswith("_last_run"):
            continue  # a continued run carries its project: the patch was recorded by the first run
        assert (PATCH_FAIR_CLOCKS in patches(path)) is (version(path) >= 5), path


def test_projects_send_news_from_v6_on() -> None:
    """The v6 runs took the patch `news-emails` and scheduled `send_news`; older runs neither."""
    for path in HISTORIES:
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in load(path).events
            if e.HasField("activity_task_scheduled_event_attributes")
        ]
        assert (PATCH_NEWS in patches(path)) is (version(path) >= 6), path
        if not path.stem.endswith("_last_run"):  # a run continued near its end may have no news left to send
            assert ("send_news" in scheduled) is (version(path) >= 6), path


def test_runs_merge_reminders_to_the_same_reader_from_v7_on() -> None:
    """The v7 runs took the patch `reminders-merged`; older runs not (their reminders go out one e-mail each)."""
    for path in HISTORIES:
        if version(path) >= 3:  # the patch is asked for only where `reminders-together` holds
            assert (PATCH_REMINDERS_MERGED in patches(path)) is (version(path) >= 7), path
        # and from v7 on, a late reminder found at night waits for the next working morning
        assert (PATCH_CATCH_UP in patches(path)) is (version(path) >= 7), path


def test_news_waits_for_the_morning_and_rides_with_reminders_from_v8_on() -> None:
    """The v8 runs took the patch `news-mornings`; in `news_in_the_morning` the news found at 21:00 went out the
    next morning in the holder's reminder e-mail (`send_reminders_with_news`)."""
    for path in HISTORIES:
        assert (PATCH_NEWS_MORNINGS in patches(path)) is (version(path) >= 8), path
    morning = next(p for p in HISTORIES if p.parent.name == "v8" and p.stem == "news_in_the_morning")
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in load(morning).events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert "send_reminders_with_news" in scheduled


def test_a_sent_reminders_event_is_recorded_inline_from_v9_on() -> None:
    """The v9 runs took the patch `sent-recorded-inline` and recorded some batches by a local activity (a marker),
    not by an activity task; older runs recorded every batch by an activity."""
    for path in HISTORIES:
        assert (PATCH_SENT_RECORDED_INLINE in patches(path)) is (version(path) >= 9), path
        markers = [
            e.marker_recorded_event_attributes.marker_name
            for e in load(path).events
            if e.HasField("marker_recorded_event_attributes")
        ]
        if path.stem == "full_path":  # its reminders went out
            assert ("core_local_activity" in markers) is (version(path) >= 9), path


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}-{p.stem}" for p in HISTORIES])
async def test_history_replays_with_the_current_code(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.stem}: {result.replay_failure}"


@pytest.mark.parametrize("path", CONTROLS, ids=[f"{p.parent.name}-{p.stem}" for p in CONTROLS])
async def test_a_non_deterministic_change_is_caught(path: Path) -> None:
    replayer = Replayer(workflows=[ChangedWithoutAPatch], data_converter=data_converter,
                        workflow_runner=sandbox_runner())  # fmt: skip
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, NondeterminismError)
