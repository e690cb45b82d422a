"""« Fiche projet » (`GET /projets/{project_id}`): where a project stands, for everyone who may see it.

The same access as `GET /projects/{id}` (a holder its own projects, a person limited to regions those regions'
projects), the same status (`read_status`) and the same events as `GET /projects/{id}/history`
(`project_events`); the French words from the catalogue; a refusal is the pages' French error page
(labellisation/web/errors.py). `history_sentence` and `timeline.timeline_svg` are pure.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from labellisation.api.access import check_project_region
from labellisation.api.commands import project_events, read_status
from labellisation.api.deps import ClientDep, StoreDep
from labellisation.api.errors import ApiError
from labellisation.catalogue import (
    ADDRESSEE_LABELS,
    EVENT_LABELS,
    REMINDER_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    days,
    format_moment,
)
from labellisation.french_calendar import format_date_fr
from labellisation.path.holder_view import holder_reminders, holder_view
from labellisation.path.reminders import Kind as ReminderKind
from labellisation.path.reminders import Role as RecipientRole
from labellisation.path.state import Event, EventKind
from labellisation.path.status import ProjectStatus, StepView, UpcomingReminder
from labellisation.people import PROJECT_ID_PATTERN
from labellisation.process import ProcessDefinitionError, load_process
from labellisation.regions import project_region, region_name
from labellisation.tokens import UserRole
from labellisation.web.deps import SignedInDep, WebStateDep
from labellisation.web.errors import FrenchErrorsRoute
from labellisation.web.pages import page
from labellisation.web.timeline import timeline_svg

router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)


def actor_name(actor: str | None) -> str | None:
    """How a sentence names who acted: "Paul Porteur <paul@x.fr>" is "Paul Porteur"."""
    if not actor:
        return None
    name = actor.split("<", 1)[0].strip()
    return name or actor.strip("<> ")


def history_sentence(event: Event, step_labels: dict[str, str], stage_labels: dict[str, str]) -> str:
    """One event in plain French: « Dossier soumis par Paul Porteur le 3 mars 2027 (étape « … ») »."""
    when = f"le {format_date_fr(event.at)}"
    who = actor_name(event.actor)
    by = f" par {who}" if who else ""
    step = f"« {step_labels.get(event.step, event.step)} »" if event.step else ""
    stage_id = str(event.data.get("stage", ""))
    stage = f"« {stage_labels.get(stage_id, stage_id)} »"
    match event.kind:
        case EventKind.PROJECT_STARTED:
            return f"Projet démarré{by} {when}"
        case EventKind.STAGE_STARTED:
            return f"Phase {stage} commencée {when}"
        case EventKind.STAGE_COMPLETED:
            return f"Phase {stage} terminée {when}"
        case EventKind.STEP_STARTED:
            return f"Étape {step} commencée {when}"
        case EventKind.STEP_SUBMITTED:
            return f"Dossier soumis{by} {when} (étape {step})"
        case EventKind.STEP_APPROVED:
            return f"Étape {step} approuvée{by} {when}"
        case EventKind.CHANGES_REQUESTED:
            return f"Modifications demandées{by} {when} (étape {step})"
        case EventKind.STEP_REJECTED:
            return f"Étape {step} rejetée{by} {when}"
        case EventKind.DEADLINE_MOVED:
            due = event.data.get("due_at")
            to = f" au {format_date_fr(datetime.fromisoformat(due))}" if isinstance(due, str) else ""
            return f"Échéance de l'étape {step} déplacée{to}{by} {when}"
        case EventKind.DEADLINE_PASSED:
            return f"Échéance de l'étape {step} dépassée {when}"
        case EventKind.REMINDER_SENT:
            kind, to_role = event.data.get("kind"), event.data.get("to")
            label = REMINDER_LABELS.get(ReminderKind(kind), str(kind)) if kind in set(ReminderKind) else "rappel"
            to = f" {ADDRESSEE_LABELS[RecipientRole(to_role)]}" if to_role in set(RecipientRole) else ""
            about = f" (étape {step})" if step else ""
            return f"Rappel envoyé{to} {when} : {label}{about}"
        case EventKind.DELIVERY_FAILED:
            refused = ", ".join(str(a) for a in event.data.get("refused", []))
            return f"E-mail non distribué à {refused} {when} : adresse refusée ({event.data.get('reason', '')})"
        case EventKind.COHORT_RECORDED:
            return f"Résultats de la cohorte {event.data.get('label', '')} enregistrés{by} {when}"
        case _:
            label = EVENT_LABELS.get(event.kind, str(event.kind))
            about = f" (étape {step})" if step else ""
            return f"{label[:1].upper()}{label[1:]}{by} {when}{about}"


def reminder_sentence(reminder: UpcomingReminder, step_labels: dict[str, str], now: datetime, process: str) -> str:
    """« Le 1er juillet 2027, au porteur de projet : rappel avant échéance (étape « … ») »."""
    known = reminder.kind in set(ReminderKind)
    kind = REMINDER_LABELS[ReminderKind(reminder.kind)] if known else reminder.kind
    to = ADDRESSEE_LABELS[RecipientRole(reminder.to)] if reminder.to in set(RecipientRole) else reminder.to
    about = f" (étape « {step_labels.get(reminder.step, reminder.step)} »)" if reminder.step else ""
    return f"Le {format_moment(reminder.at, now, process)}, {to} : {kind}{about}"


@dataclass
class StepCard:
    """A step as the page shows it: its status, dates, last documents and every comment on it."""

    view: StepView
    status: str
    started: str | None
    due: str | None
    submitted: str | None
    decided: str | None
    late: str | None
    documents: list[dict[str, Any]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def step_cards(status: ProjectStatus, events: list[Event], now: datetime) -> list[StepCard]:
    def moment(value: datetime | None) -> str | None:
        return format_moment(value, now, status.process) if value is not None else None

    cards = {
        s.id: StepCard(
            view=s,
            status=STATUS_LABELS[s.status],
            started=moment(s.started_at),
            due=moment(s.due_at),
            submitted=moment(s.submitted_at),
            decided=moment(s.decided_at),
            late=f"en retard de {days(s.days_overdue)}" if s.days_overdue > 0 else None,
        )
        for s in status.steps
    }
    for event in events:
        card = cards.get(event.step or "")
        if card is None:
            continue
        if event.kind is EventKind.STEP_SUBMITTED:
            card.documents = [d for d in event.data.get("documents", []) if isinstance(d, dict)]
        if event.comment:
            who = actor_name(event.actor) or "?"
            card.comments.append(f"{who}, le {format_date_fr(event.at)} : {event.comment}")
    return list(cards.values())


def _stage_labels(status: ProjectStatus) -> dict[str, str]:
    labels = {status.current_stage: status.current_stage_label}
    try:
        process = load_process(status.process)
    except ProcessDefinitionError:
        return labels
    return {stage.id: stage.label for stage in process.stages} | labels


@router.get("/projets/{project_id}")
async def project_page(
    project_id: str,
    person: SignedInDep,
    client: ClientDep,
    store: StoreDep,
    web: WebStateDep,
) -> Response:
    """403 and 404 as the French error pages (labellisation/web/errors.py), with the API's sentence."""
    user = person.user
    if re.fullmatch(PROJECT_ID_PATTERN, project_id) is None:  # no project has such an id: not even asked
        raise ApiError(404, f"projet inconnu : {project_id[:80]!r}")
    if not user.may_see(project_id):
        raise ApiError(403, f"vous n'avez pas accès au projet {project_id!r}")
    await check_project_region(user, client, store, project_id)
    read, listed = await asyncio.gather(
        read_status(client, store, project_id), project_events(client, store, project_id), return_exceptions=True
    )
    for outcome in (read, listed):  # both answer 404 for an unknown project; any other error is raised as it is
        if isinstance(outcome, BaseException):
            raise outcome
    assert isinstance(read, ProjectStatus) and isinstance(listed, list)
    status, events = read, listed
    reminders = status.upcoming_reminders
    if user.role is UserRole.HOLDER:  # the events and reminders meant for them (labellisation/path/holder_view.py)
        events, reminders = holder_view(events, user.email), holder_reminders(reminders)
    now = web.clock()
    step_labels = {s.id: s.label for s in status.steps}
    stage_labels = _stage_labels(status)
    region = project_region(status.region, None)
    stages: dict[str, list[StepCard]] = {}
    for card in step_cards(status, events, now):
        stages.setdefault(card.view.stage, []).append(card)
    return page(
        "fiche_projet.html.j2",
        person=person,
        status=status,
        state=STATE_LABELS[status.state],
        region=region_name(region.slug) if region is not None else status.region,
        planned_opening=format_date_fr(status.planned_opening),
        stages=[(stage_labels.get(stage, stage), cards) for stage, cards in stages.items()],
        timeline=timeline_svg(status.steps, now, f"Frise des étapes du projet {status.name}"),
        reminders=[reminder_sentence(r, step_labels, now, status.process) for r in reminders],
        history=[(history_sentence(e, step_labels, stage_labels), e.comment) for e in events],
        undelivered=[
            history_sentence(e, step_labels, stage_labels) for e in events if e.kind is EventKind.DELIVERY_FAILED
        ],
    )
