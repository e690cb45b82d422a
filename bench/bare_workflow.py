"""Temporal's floor for the benchmarks: trivial workflows (own module: the sandbox re-imports it)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from bench.bare_path import noop
    from labellisation.contract import SA_STAGE


@workflow.defn(name="BareUpdateWorkflow")
class BareUpdateWorkflow:
    """An update that changes a field and returns."""

    def __init__(self) -> None:
        self.count = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.count

    @workflow.update
    def bump(self, value: int) -> int:
        self.count += value
        return self.count

    @workflow.signal
    def finish(self) -> None:
        self.done = True


@workflow.defn(name="BareCommandsWorkflow")
class BareCommandsWorkflow:
    """An update that issues the commands ours issues on a decision, and no work of its own.

    The handler upserts a search attribute; the main loop then restarts its deadline timer and a
    recorder beside it calls one no-op activity, as SchoolCreationWorkflow restarts its deadline
    timer and records the decision's events.
    """

    def __init__(self) -> None:
        self.count = 0
        self.recorded = 0
        self.changed = False
        self.done = False

    @workflow.run
    async def run(self) -> int:
        recorder = asyncio.create_task(self._record())
        while not self.done:
            self.changed = False
            try:
                timeout = timedelta(days=30 + self.count)  # a new deadline after every update
                await workflow.wait_condition(lambda: self.changed or self.done, timeout=timeout)
            except TimeoutError:
                pass
        await workflow.wait_condition(lambda: self.recorded == self.count)
        recorder.cancel()
        return self.count

    async def _record(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self.recorded < self.count)
            target = self.count
            await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
            self.recorded = target

    @workflow.update
    def bump(self, value: int) -> int:
        self.count += value
        workflow.upsert_search_attributes([SA_STAGE.value_set(f"stage-{self.count}")])
        self.changed = True
        return self.count

    @workflow.signal
    def finish(self) -> None:
        self.done = True
