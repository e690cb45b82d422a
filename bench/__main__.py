"""All the benchmarks, or the parts named: `python -m bench [decision|path|portfolio|monday|sends ...] [--count N]`.

Each part prints its table and rewrites its own section of BENCHMARKS.md.
`--count` replaces the default count of every part run (decisions, projects
of the path, portfolio projects).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from bench import (
    cold_restart,
    decision_latency,
    email_sends,
    monday_burst,
    new_projects,
    path_analytics,
    path_simulation,
    portfolio_scale,
)

PARTS: dict[str, tuple[Callable[[int], Awaitable[None]], int]] = {
    "decision": (decision_latency.main, decision_latency.DEFAULT_COUNT),
    "path": (path_simulation.main, path_simulation.DEFAULT_COUNT),
    "portfolio": (portfolio_scale.main, portfolio_scale.DEFAULT_COUNT),
    "analytics": (path_analytics.main, path_analytics.DEFAULT_COUNT),
    "newprojects": (new_projects.main, new_projects.DEFAULT_COUNT),
    "cold": (cold_restart.main, cold_restart.DEFAULT_COUNT),
    "monday": (monday_burst.main, monday_burst.DEFAULT_COUNT),
    "sends": (email_sends.main, email_sends.DEFAULT_COUNT),
}


async def run(names: list[str], count: int | None) -> None:
    for name in names:
        main, default = PARTS[name]
        started = time.perf_counter()
        print(f"== {name}")
        await main(default if count is None else count)
        print(f"== {name}: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="part", help=f"{', '.join(PARTS)} (default: all, in this order)")
    parser.add_argument("--count", type=int, default=None)
    arguments = parser.parse_args()
    if unknown := set(arguments.parts) - set(PARTS):
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}: choose among {', '.join(PARTS)}")
    asyncio.run(run(arguments.parts or list(PARTS), arguments.count))
