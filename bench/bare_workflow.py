"""Temporal's floor for the benchmarks: a trivial workflow (own module: the sandbox re-imports it)."""

from __future__ import annotations

from temporalio import workflow


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
