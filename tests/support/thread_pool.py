"""Counting what FastAPI hands to its thread pool: a plain `def` dependency or route runs there, a hand-off to
another thread and back on every request (about 0.1 ms of CPU each on these machines, more in latency)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
import pytest


def count_thread_pool(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of what FastAPI runs in its thread pool from now on, in order."""
    handed: list[str] = []

    def counting(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            handed.append(getattr(func, "__name__", repr(func)))
            return await original(func, *args, **kwargs)

        return run

    for module in (fastapi.dependencies.utils, fastapi.routing):
        monkeypatch.setattr(module, "run_in_threadpool", counting(module.run_in_threadpool))
    return handed
