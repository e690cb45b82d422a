"""Temporal's floor for the Monday burst: a workflow that sleeps until one instant, then calls one no-op activity.

Own module: the sandbox re-imports workflow modules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from bench.bare_path import noop


@workflow.defn(name="BareBurstWorkflow")
class BareBurstWorkflow:
    """One timer until `until` (an aware ISO 8601 instant), then one no-op activity: one reminder, nothing else."""

    @workflow.run
    async def run(self, until: str) -> None:
        wait = datetime.fromisoformat(until) - workflow.now()
        if wait > timedelta(0):
            await workflow.sleep(wait)
        await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
