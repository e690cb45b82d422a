"""The reliability figures: tests `report()` or `tally()` them; `make reliability` prints one table at the end.

A pytest plugin (`pytest -p tests.reliability.figures`). Besides what tests report, it counts the passes of
tests that live elsewhere (outages of the records database and the SMTP relay, history replay) and the
failed tests. Without the plugin, `report()` only prints (visible with `-s`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

#: Tests outside tests/reliability whose passing is a figure in itself: each pass counts one.
COUNTED = {
    "test_events_survive_a_database_outage_without_loss_or_duplicate": "outages survived: records database",
    "test_smtp_down_then_up_delivers_each_reminder_exactly_once": "outages survived: SMTP relay",
    # A crash after the reminders row is written; the window between the SMTP acceptance and the row is a
    # figure of its own, counted from the SMTP sink by its test (two copies today: see the README).
    "test_a_crash_after_the_reminder_was_recorded_sends_nothing_more_on_retry": (
        "crashes after send and record: retried, nothing resent"
    ),
    "test_history_replays_with_the_current_code": "committed histories replayed",
}
_figures: dict[str, object] = {}
_counts: Counter[str] = Counter()
_not_passed: set[str] = set()


def report(name: str, value: object) -> None:
    """Record one figure (the last value reported under a name wins)."""
    _figures[name] = value
    print(f"\nreliability: {name}: {value}")


def tally(name: str) -> None:
    """Count one more under `name` (e.g. one more hostile input handled)."""
    _counts[name] += 1
    _figures.setdefault(name, None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    label = COUNTED.get(report.nodeid.rsplit("::", 1)[-1].split("[", 1)[0])
    if label is None:
        return
    _figures.setdefault(label, None)
    if report.failed or report.skipped:
        _not_passed.add(label)
    elif report.when == "call":
        _counts[label] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _figures:
        return
    rows = {name: _counts[name] if value is None else value for name, value in _figures.items()}
    rows |= {name: f"{rows[name]} (some failed or were skipped)" for name in _not_passed}
    rows["tests failed"] = len(terminalreporter.stats.get("failed", [])) + len(terminalreporter.stats.get("error", []))
    terminalreporter.write_sep("=", "reliability figures")
    width = max(len(name) for name in rows)
    for name, value in rows.items():
        terminalreporter.write_line(f"{name:<{width}}  {value}")
