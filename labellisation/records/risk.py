"""Delay risk (#19 item 3): an explainable indicator per project under way, each point with its French reason.

No black box: the score is the sum of these points, each shown with its reason (README "Delay risk"):
- the current deadline passed: 1 point per started week of lateness, at most 10;
- requests for changes in the current stage: 2 points each after the first;
- no activity (a submission, a decision, a command; not a reminder) for more than 30 days: 1 point per started
  fortnight beyond, at most 6;
- paused: 3 points; each earlier pause: 1 more;
- the planned opening passed while the project has not opened: 5 points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel

from labellisation.catalogue import days
from labellisation.path.state import EventKind
from labellisation.records.path_report import Event, report_events
from labellisation.records.store import RecordStore

#: Events that are not the project's own activity.
NOT_ACTIVITY = frozenset({"reminder_sent", "deadline_passed", "delivery_failed", "signal_refused"})
#: The events the risk reads (reminders, the most numerous, are not among them), of the projects it judges.
RISK_KINDS = sorted(kind.value for kind in EventKind if kind.value not in NOT_ACTIVITY)
RISK_STATES = ("active", "paused")


class Reason(BaseModel):
    points: int
    reason: str


class ProjectRisk(BaseModel):
    project_id: str
    name: str
    region: str
    current_stage: str
    state: str
    score: int
    reasons: list[Reason]


def risk(row: dict[str, object], events: list[Event], now: datetime) -> ProjectRisk:
    """The risk of the project of portfolio `row` (its columns) with its `events`, oldest first, at `now`."""
    reasons: list[Reason] = []
    due = row.get("next_due_at")
    if isinstance(due, datetime) and due < now:
        late = (now - due).days
        reasons.append(Reason(points=min(10, max(1, math.ceil(late / 7))), reason=f"échéance dépassée de {days(late)}"))
    stage_start = max((i for i, e in enumerate(events) if e[0] == "stage_started"), default=0)
    changes = sum(1 for e in events[stage_start:] if e[0] == "changes_requested")
    if changes > 1:
        reasons.append(Reason(points=2 * (changes - 1), reason=f"{changes} demandes de modifications dans la phase"))
    activity = [e[2] for e in events if e[0] not in NOT_ACTIVITY]
    if activity:
        idle = (now - activity[-1]).days
        if idle > 30:
            points = min(6, math.ceil((idle - 30) / 15))
            reasons.append(Reason(points=points, reason=f"aucune activité depuis {days(idle)}"))
    pauses = sum(1 for e in events if e[0] == "project_paused")
    if row.get("state") == "paused":
        extra = f" (et {pauses - 1} pause{'s' if pauses > 2 else ''} avant)" if pauses > 1 else ""
        reasons.append(Reason(points=3 + max(0, pauses - 1), reason=f"en pause{extra}"))
    opening = row.get("planned_opening")
    if (
        isinstance(opening, str)
        and date.fromisoformat(opening) < now.date()
        and row.get("current_stage") not in ("seeding", "labellisation")
    ):
        reasons.append(Reason(points=5, reason=f"ouverture prévue le {opening} dépassée"))
    return ProjectRisk(
        project_id=str(row["project_id"]), name=str(row["name"]), region=str(row["region"]),
        current_stage=str(row["current_stage"]), state=str(row["state"]),
        score=sum(r.points for r in reasons), reasons=reasons,
    )  # fmt: skip


async def risks_of(store: RecordStore, regions: Sequence[str] | None, now: datetime) -> list[ProjectRisk]:
    """Every project under way of `regions` (None: all) with a risk above zero at `now`, highest first."""
    rows = [r for r in await store.portfolio(regions=regions) if r["state"] in RISK_STATES]
    events = await report_events(store, regions, None, None, kinds=RISK_KINDS, states=RISK_STATES)
    found = [risk(r, events.get(r["project_id"], []), now) for r in rows]
    return sorted((f for f in found if f.score > 0), key=lambda f: (-f.score, f.project_id))
