"""Temporal's floor for the path simulation: N timers and M no-op activities, nothing else.

Own module: the sandbox re-imports workflow modules.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bare_noop")
async def noop() -> None:
    """An activity call that does nothing: the cost of scheduling and completing one."""


@workflow.defn(name="BarePathWorkflow")
class BarePathWorkflow:
    """Sleeps `timers` times, `seconds / timers` each, and spreads `activities` calls between the sleeps."""

    @workflow.run
    async def run(self, timers: int, seconds: float, activities: int) -> int:
        done = 0
        for timer in range(timers):
            await workflow.sleep(timedelta(seconds=seconds / max(timers, 1)))
            due = activities * (timer + 1) // max(timers, 1)  # activities called so far, evenly spread
            while done < due:
                await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
                done += 1
        while done < activities:  # no timer at all: the calls still happen
            await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
            done += 1
        return done
