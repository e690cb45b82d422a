"""The « Fiche projet » timeline as inline SVG, drawn on the server: pure (no I/O, the caller passes `now`).

One row per step: its planned window (started → due) as a light bar, what really happened (started →
decided, submitted, or today while it runs) as a darker bar, red with a text marker when overdue, and a
vertical line for today. The SVG carries a `<title>` and an `aria-label`; the page shows the same data
as a table beside it for those who do not see the drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from labellisation.catalogue import days
from labellisation.path.state import StepStatus
from labellisation.path.status import StepView

LABEL_WIDTH = 240
BAR_WIDTH = 480
WIDTH = LABEL_WIDTH + BAR_WIDTH + 100
ROW = 28
TOP = 24
#: Longer step labels are cut in the drawing (whole in its tooltips and in the table beside it).
LABEL_CHARS = 36


def short_label(label: str) -> str:
    """A step's label as it fits left of the bars: "Recrutement du directeur et des maît…"."""
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def actual_end(step: StepView, now: datetime) -> datetime | None:
    """Where the step's real bar stops: its decision, else its submission while it waits, else today."""
    if step.started_at is None:
        return None
    if step.decided_at is not None and step.status in (StepStatus.APPROVED, StepStatus.REJECTED):
        return step.decided_at
    if step.submitted_at is not None and step.status is StepStatus.SUBMITTED:
        return max(step.submitted_at, step.started_at)
    return max(now, step.started_at)


def _bounds(steps: Sequence[StepView], now: datetime) -> tuple[datetime, datetime]:
    moments = [now]
    for step in steps:
        moments += [m for m in (step.started_at, step.due_at, actual_end(step, now)) if m is not None]
    start, end = min(moments), max(moments)
    return start, end if end > start else start + timedelta(days=1)


def timeline_svg(steps: Sequence[StepView], now: datetime, title: str) -> Markup:
    """The timeline of `steps` (in path order) as of `now`; `title` names it for assistive technologies."""
    start, end = _bounds(steps, now)
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(LABEL_WIDTH + (moment - start).total_seconds() / span * BAR_WIDTH, 1)

    height = TOP + ROW * len(steps) + 8
    parts = [
        f'<svg class="frise" xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for row, step in enumerate(steps):
        y = TOP + ROW * row
        parts.append(f'<text class="frise-etape" x="0" y="{y + 17}">{escape(short_label(step.label))}</text>')
        if step.started_at is not None and step.due_at is not None:
            left, right = x(step.started_at), x(step.due_at)
            parts.append(
                f'<rect class="barre-prevue" x="{left}" y="{y + 4}" width="{max(round(right - left, 1), 1)}"'
                f' height="20"><title>Prévu : {escape(step.label)}</title></rect>'
            )
        finish = actual_end(step, now)
        if step.started_at is not None and finish is not None:
            late = step.days_overdue > 0
            left, right = x(step.started_at), x(finish)
            kind = "barre-reelle en-retard" if late else "barre-reelle"
            parts.append(
                f'<rect class="{kind}" x="{left}" y="{y + 9}" width="{max(round(right - left, 1), 1)}"'
                f' height="10"><title>Réel : {escape(step.label)}</title></rect>'
            )
            if late:
                marker = f"en retard de {days(step.days_overdue)}"
                parts.append(f'<text class="frise-retard" x="{round(right + 4, 1)}" y="{y + 17}">{marker}</text>')
    today = x(now)
    parts.append(f'<line class="aujourdhui" x1="{today}" y1="{TOP - 6}" x2="{today}" y2="{height}"/>')
    parts.append(f'<text class="frise-aujourdhui" x="{today}" y="{TOP - 10}" text-anchor="middle">aujourd\'hui</text>')
    parts.append("</svg>")
    return Markup("\n".join(parts))
