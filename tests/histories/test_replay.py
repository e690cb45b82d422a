"""Committed histories of real runs replay against the current workflow code.

Regenerate them with `.venv/bin/python -m tests.histories.generate` only when
a change is meant to be incompatible (and then keep the old branch with
`workflow.patched()` until the last old project is done).
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

HISTORIES = sorted(Path(__file__).parent.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"school-{path.stem}", path.read_text())


def test_the_representative_histories_are_committed() -> None:
    assert {p.stem for p in HISTORIES} == {
        "full_path", "changes_requested", "paused_and_resumed", "rejected", "continued_as_new",
    }  # fmt: skip


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_with_the_current_code(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=sandbox_runner())
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.stem}: {result.replay_failure}"


async def test_a_non_deterministic_change_is_caught() -> None:
    replayer = Replayer(workflows=[ChangedWithoutAPatch], data_converter=data_converter,
                        workflow_runner=sandbox_runner())  # fmt: skip
    result = await replayer.replay_workflow(load(HISTORIES[0]), raise_on_replay_failure=False)
    assert isinstance(result.replay_failure, NondeterminismError)
