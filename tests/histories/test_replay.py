"""Committed histories of real runs replay against the current workflow code.

One folder per version of the workflow (`v1/`, `v2/`, ...): add a folder with
`.venv/bin/python -m tests.histories.generate vN` after a change that alters
the commands a workflow issues (behind `workflow.patched()`), and keep the old
folders until the last project of that version is done.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from labellisation.converter import data_converter
from labellisation.worker_app import WORKFLOWS, sandbox_runner
from tests.histories.careless_change import ChangedWithoutAPatch

HISTORIES = sorted(Path(__file__).parent.glob("v*/*.json"))
SCENARIOS = {"full_path", "changes_requested", "paused_and_resumed", "rejected", "continued_as_new"}
#: One history of each version: the oldest, and the newest (its projects start with the `started` update).
CONTROLS = [HISTORIES[0], max(HISTORIES, key=lambda p: (int(p.parent.name[1:]), p.stem))]


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"school-{path.stem}", path.read_text())


def test_the_representative_histories_of_every_version_are_committed() -> None:
    versions = {p.parent.name for p in HISTORIES}
    assert {"v1", "v2", "v3", "v4"} <= versions
    for version in versions:
        assert {p.stem for p in HISTORIES if p.parent.name == version} >= SCENARIOS, version


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
