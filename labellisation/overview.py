"""What Temporal's UI shows of a project, in French: who the school is, and where it stands. Pure.

Two texts: the static summary and details, given once by whoever starts the workflow (the API,
`tests/histories/generate.py`), and the current details, which the workflow keeps up to date with
`workflow.set_current_details` (workflows/ui_details.py: no command, nothing in the history, so old
histories replay).
"""

from __future__ import annotations

import json
from datetime import datetime

from labellisation.catalogue import (
    ADDRESSEE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    format_moment,
    stage_label,
    step_label,
)
from labellisation.french_calendar import format_date_fr
from labellisation.path.deadlines import next_deadline
from labellisation.path.reminders import Role
from labellisation.path.state import AWAITING_HOLDER, OPEN_STEP, Project, ProjectProfile, StepState
from labellisation.regions import region_name

#: Temporal bounds a summary payload to 400 bytes as sent, JSON with its metadata (`limit.userMetadataSummarySize`;
#: server 1.32, the dev server's, does not yet enforce it on starts). The UI shows one line: a longer summary is
#: cut to this many bytes of JSON, so that no server refuses a start for a long name.
SUMMARY_BUDGET = 300
ELLIPSIS = "…"
#: Whose move it is on an open step: "la suite revient au porteur de projet" (or "aux relecteurs FNEP").
AWAITS = "la suite revient"


def _json_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode())


def static_summary(profile: ProjectProfile) -> str:
    """One line naming the project in Temporal's UI: « École de Production de Lyon — Lyon », cut if too long."""
    text = f"{profile.name} — {profile.city}"
    if _json_size(text) <= SUMMARY_BUDGET:
        return text
    while _json_size(text + ELLIPSIS) > SUMMARY_BUDGET:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def static_details(profile: ProjectProfile, process_id: str) -> str:
    """What does not change for the project's life, in Temporal's Markdown (well under its 20 kB)."""
    lines = [
        f"**Région** : {region_name(profile.region)} ({profile.department})",
        f"**Métiers** : {', '.join(profile.trades)}",
        f"**Porteur** : {profile.holder.name}",
        f"**Ouverture prévue** : {format_date_fr(profile.planned_opening)}",
        f"**Parcours** : {process_id}",
    ]
    return "\n\n".join(lines)


def _step_line(project: Project, step: StepState, now: datetime) -> str:
    awaited = Role.HOLDER if step.status in AWAITING_HOLDER else Role.REVIEWERS
    line = (
        f"- {step_label(project.process, step.id)} : {STATUS_LABELS[step.status]}, {AWAITS} {ADDRESSEE_LABELS[awaited]}"
    )
    if step.status in AWAITING_HOLDER and step.due_at is not None and project.pause is None:
        line += f", échéance : {_deadline(project, step.due_at, now)}"
    return line


def _deadline(project: Project, due: datetime, now: datetime) -> str:
    """« 5 juillet 2026 », « 5 janvier 2026 à 10 h 06 » (near, or a process counted in minutes), « … (dépassée) »."""
    moment = format_moment(due, now, project.process.id, project.process.timezone)
    return f"{moment} (dépassée)" if due <= now else moment


def current_details(project: Project, now: datetime) -> str:
    """Where the project stands, in Temporal's Markdown: its stage, each open step and whom it awaits
    (the porteur de projet or the relecteurs FNEP), and the next deadline. `now` decides whether a deadline
    is shown with its time (near, or a process counted in minutes) and whether it has passed."""
    stages = project.process.stages
    stage = stage_label(project.process, project.current_stage_id())
    state = f"projet {STATE_LABELS[project.state]}"
    if project.pause is not None:
        state += f", réexamen le {format_date_fr(project.pause.review_on)}"
    paragraphs = [f"**Phase {project.stage_index + 1} sur {len(stages)} : {stage}** — {state}"]
    open_steps = [_step_line(project, step, now) for step in project.steps if step.status in OPEN_STEP]
    if open_steps and not project.finished:
        paragraphs.append("Étapes ouvertes :\n" + "\n".join(open_steps))
    due = next_deadline(project)
    paragraphs.append(f"Prochaine échéance : {_deadline(project, due, now) if due is not None else 'aucune'}")
    return "\n\n".join(paragraphs)
