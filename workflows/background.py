"""The project's background tasks (recorder, reminders, news), watched by the main loop.

Workflow code (deterministic). Each task loops until cancelled (or returns at once when its
patch is off), so one that ends on an error met one its own code did not expect: a bug, or an
activity failing for good. Left alone it would end quietly, and the project would go on for years
without records, reminders or news. Instead the main loop raises `BackgroundTaskEnded`: not a
Temporal failure, so the workflow task fails and is retried (visible in Temporal's UI and the
worker's log) until a fixed worker carries it on; the project's workflow is never failed by it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class BackgroundTaskEnded(RuntimeError):
    """A background task of the project stopped while it should still run."""


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks[name] = asyncio.create_task(coroutine)

    def ended(self) -> bool:
        """Whether a task stopped on an error (a wait condition: cheap, raises nothing)."""
        return any(_error(task) is not None for task in self._tasks.values())

    def check(self) -> None:
        """Raise `BackgroundTaskEnded` from the first task that stopped on an error, with that error as the cause."""
        for name, task in self._tasks.items():
            error = _error(task)
            if error is not None:
                raise BackgroundTaskEnded(f"the project's {name} stopped: {_causes(error)}") from error

    def cancel(self) -> None:
        """Once the project settled, before it closes or continues as new."""
        for task in self._tasks.values():
            task.cancel()


def _error(task: asyncio.Task[None]) -> BaseException | None:
    """What a task stopped on; None while it runs, once cancelled, or when it returned (in a run from before
    its patch, a sender returns at once)."""
    if not task.done() or task.cancelled():
        return None
    return task.exception()


def _causes(error: BaseException) -> str:
    """The error and its causes, outermost first (an activity's failure names its own error only as a cause)."""
    chain: list[str] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 5:
        chain.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return " <- ".join(chain)
