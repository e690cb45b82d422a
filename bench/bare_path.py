"""Temporal's floor for the path simulation: N timers, M no-op activities and L no-op local activities, nothing else.

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
    """Sleeps `timers` times, `seconds / timers` each, and spreads `activities` calls and `local` local activity
    calls between the sleeps."""

    @workflow.run
    async def run(self, timers: int, seconds: float, activities: int, local: int = 0) -> int:
        done = 0
        for timer in range(timers):
            await workflow.sleep(timedelta(seconds=seconds / max(timers, 1)))
            done += await _calls(activities, local, timer + 1, timers, done)
        return done + await _calls(activities, local, 1, 1, done)  # no timer at all: the calls still happen


async def _calls(activities: int, local: int, share: int, shares: int, done: int) -> int:
    """The calls due after `share` of `shares` timers (evenly spread), those `done` before left out: how many made."""
    made = 0
    total = activities + local
    while done + made < total * share // max(shares, 1):
        n = done + made
        if n * local // max(total, 1) < (n + 1) * local // max(total, 1):  # local calls spread among the others
            await workflow.execute_local_activity(noop, start_to_close_timeout=timedelta(seconds=30))
        else:
            await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
        made += 1
    return made
