"""Counting, from what was observed, how far the records database is from the workflow's own events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from labellisation.path.state import Event


def event_number(event: Event) -> int:
    """`<project>-000042` -> 42: a project's events are numbered from 1 without a gap."""
    return int(event.event_id.rsplit("-", 1)[1])


def lost_or_duplicated(recorded: Sequence[Event], workflow: Sequence[Event]) -> int:
    """Events lost or duplicated between the workflow and the records database, counted.

    Expected: every number from 1 to the workflow's last event (earlier runs' events live in the database
    alone), and each of the workflow's events exactly as it holds it. Counted: each expected event missing
    or different in `recorded`, each extra copy of an event, and each recorded event nobody expected.
    """
    if not workflow:
        return len(recorded)
    prefix = workflow[-1].event_id.rsplit("-", 1)[0]
    width = len(workflow[-1].event_id.rsplit("-", 1)[1])
    expected = {f"{prefix}-{n:0{width}d}" for n in range(1, event_number(workflow[-1]) + 1)}
    copies = Counter(e.event_id for e in recorded)
    by_id = {e.event_id: e for e in recorded}
    lost = len(expected - set(copies)) + sum(1 for e in workflow if e.event_id in by_id and by_id[e.event_id] != e)
    duplicated = sum(count - 1 for count in copies.values())
    unexpected = len(set(copies) - expected)
    return lost + duplicated + unexpected
