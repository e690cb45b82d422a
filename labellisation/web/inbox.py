"""« À décider »: the submitted steps of a reviewer's regions, oldest first, each with its decision form.

Where the submitted steps come from: the records projection lists the projects of the reviewer's regions
(`store.portfolio`, the API's region rule from `api/access.py`), then each open project's status is read
from its workflow (`read_status`, a query per project, a few at a time): for a reviewer's few dozen projects
that is fine; thousands would want the submitted steps in the records projection. The documents and the
holder's comment are the step's last `step_submitted` event (`project_events`, the API's history: records,
then the workflow's events not recorded yet): a second read, for the projects with a submitted step only.

A decision goes through the API's own route function (`decide_step`: its `DecideStep` and update id, so
a form posted twice with its decision id decides once), after the API's access rule for reviewers
(`role_on_project`). POST, then redirect (303) back with a confirmation.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import Client

from labellisation.api.access import region_filter
from labellisation.api.commands import project_events, read_status
from labellisation.api.deps import ClientDep, StoreDep, role_on_project
from labellisation.api.errors import ApiError
from labellisation.api.projects import decide_step
from labellisation.api.schemas import DecisionBody
from labellisation.catalogue import DECISION_LABELS, EVENT_LABELS, days
from labellisation.durations import Duration
from labellisation.french_calendar import format_date_fr, is_working_day, zone
from labellisation.log_setup import get_logger
from labellisation.path.commands import DecideStep, Decision
from labellisation.path.state import FINISHED, Document, EventKind, ProjectState, StepStatus
from labellisation.path.status import ProjectStatus
from labellisation.process import Calendar, ProcessDefinition, ProcessDefinitionError, load_process
from labellisation.records.store import RecordStore
from labellisation.regions import project_region, region_name
from labellisation.tokens import ApiUser, UserRole
from labellisation.web.deps import PostedFormDep, SignedInDep, WebState, WebStateDep
from labellisation.web.errors import FrenchErrorsRoute, WebError
from labellisation.web.pages import page
from labellisation.web.sessions import SignedIn

log = get_logger("labellisation.web")
router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)

#: Status queries in flight at once for one page.
PARALLEL_QUERIES = 8
DECISION_EVENTS = {
    Decision.APPROVE: EventKind.STEP_APPROVED,
    Decision.REQUEST_CHANGES: EventKind.CHANGES_REQUESTED,
    Decision.REJECT: EventKind.STEP_REJECTED,
}
COMMENT_REQUIRED = "Commentaire : obligatoire pour demander des modifications ou rejeter ; dites au porteur pourquoi."
COMMENT_TOO_LONG = "Commentaire : 5 000 caractères au plus."
DECISION_MISSING = "Décision : choisissez approuver, demander des modifications ou rejeter."


@dataclass
class DecisionForm:
    """A decision form as shown: its own decision id, what was typed, and the errors by field."""

    decision_id: str = field(default_factory=lambda: f"web-{secrets.token_hex(10)}")
    decision: str = ""
    comment: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None


@dataclass
class Waiting:
    """One submitted step awaiting a decision."""

    project_id: str
    project_name: str
    region: str
    step: str
    step_label: str
    submitted_at: datetime
    submitted_on: str
    waited: str
    delay: str
    late: str | None
    documents: list[Document]
    comment: str | None
    #: A paused project takes no decision (the workflow refuses it): shown without its form.
    paused: bool = False
    form: DecisionForm = field(default_factory=DecisionForm)

    @property
    def key(self) -> str:
        return f"{self.project_id}--{self.step}"


def _documents(data: dict[str, object]) -> list[Document]:
    """The documents of a `step_submitted` event's data."""
    listed = data.get("documents")
    return [Document.model_validate(d) for d in listed] if isinstance(listed, list) else []


def _process(process_id: str) -> ProcessDefinition | None:
    try:
        return load_process(process_id)
    except ProcessDefinitionError:
        return None


def _span(seconds: float) -> str:
    """An exact duration the short French way (the `demo` process counts seconds): « 1 min 05 s », « 40 s »."""
    whole = int(seconds)
    if whole >= 86400:
        return days(whole // 86400)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _working_days_between(start: datetime, end: datetime, timezone: str) -> int:
    """Working days after `start`'s local day, up to and including `end`'s."""
    first, last = start.astimezone(zone(timezone)).date(), end.astimezone(zone(timezone)).date()
    count, day = 0, first
    while day < last:
        day = day.fromordinal(day.toordinal() + 1)
        count += is_working_day(day)
    return count


def waiting_time(
    submitted_at: datetime, now: datetime, process: ProcessDefinition | None
) -> tuple[str, str, str | None]:
    """How long the step has waited, against the process's review delays (reminder, escalation), and whether late.

    With the working-day calendar (`fnep`: 10 and 20 working days) in working days; without one (`demo`)
    in exact time. A process not shipped any more: working days, against no delay.
    """
    if process is None:
        return f"{_working_days_between(submitted_at, now, 'Europe/Paris')} j. ouvrés", "", None
    policy = process.reminders
    remind, escalate = Duration.parse(policy.review_reminder_after), Duration.parse(policy.review_escalation_after)
    if process.calendar is Calendar.FR_WORKING_DAYS and not (remind.seconds or escalate.seconds):
        waited = _working_days_between(submitted_at, now, process.timezone)
        delay = f"délai : {remind.days} jours ouvrés, escalade à {escalate.days}"
        late = None
        if waited >= escalate.days:
            late = "escaladé à la coordination"
        elif waited >= remind.days:
            late = "délai dépassé"
        unit = "jour ouvré" if waited < 2 else "jours ouvrés"
        return f"{waited} {unit}", delay, late
    elapsed = (now - submitted_at).total_seconds()
    remind_at = (remind.add_to(submitted_at) - submitted_at).total_seconds()
    escalate_at = (escalate.add_to(submitted_at) - submitted_at).total_seconds()
    late = "escaladé à la coordination" if elapsed >= escalate_at else "délai dépassé" if elapsed >= remind_at else None
    return _span(elapsed), f"délai : {_span(remind_at)}, escalade à {_span(escalate_at)}", late


async def _status_or_none(client: Client, store: RecordStore, project_id: str, gate: asyncio.Semaphore) -> Any:
    async with gate:
        try:
            return await read_status(client, store, project_id)
        except Exception as error:  # one project not answering must not hide the others
            log.warning("inbox: status not read", project_id=project_id, reason=type(error).__name__)
            return None


async def waiting_steps(user: ApiUser, client: Client, store: RecordStore, now: datetime) -> tuple[list[Waiting], int]:
    """The submitted steps of the person's regions, oldest submission first; and how many projects did not answer."""
    _, regions = region_filter(user, None)
    rows = [r for r in await store.portfolio(regions=regions) if ProjectState(r["state"]) not in FINISHED]
    gate = asyncio.Semaphore(PARALLEL_QUERIES)
    statuses = await asyncio.gather(*(_status_or_none(client, store, r["project_id"], gate) for r in rows))
    silent = sum(1 for s in statuses if s is None)
    found: list[Waiting] = []
    for row, status in zip(rows, statuses, strict=True):
        if not isinstance(status, ProjectStatus):
            continue
        submitted = [s for s in status.steps if s.status is StepStatus.SUBMITTED and s.submitted_at is not None]
        if not submitted:
            continue
        events = await project_events(client, store, status.project_id)
        process = _process(status.process)
        region = project_region(row["region"], row["department"])
        for step in submitted:
            assert step.submitted_at is not None
            last = next((e for e in reversed(events) if e.kind is EventKind.STEP_SUBMITTED and e.step == step.id), None)
            documents = _documents(last.data if last else {})
            waited, delay, late = waiting_time(step.submitted_at, now, process)
            found.append(
                Waiting(
                    project_id=status.project_id,
                    project_name=status.name,
                    region=region_name(region.slug) if region is not None else row["region"],
                    step=step.id,
                    step_label=step.label,
                    submitted_at=step.submitted_at,
                    submitted_on=format_date_fr(step.submitted_at),
                    waited=waited,
                    delay=delay,
                    late=late,
                    documents=documents,
                    comment=last.comment if last else None,
                    paused=status.state is ProjectState.PAUSED,
                )
            )
    found.sort(key=lambda w: (w.submitted_at, w.project_id, w.step))
    return found, silent


def _sentence(text: str) -> str:
    """The workflow's reason with its full stop."""
    return text.strip().rstrip(".") + "."


def _confirmation(fields: dict[str, str | None]) -> str | None:
    """The sentence after a decision (POST/redirect/GET): « Étude d'opportunité (edp-lyon) : étape approuvée. »"""
    try:
        decision = Decision(fields.get("decision") or "")
    except ValueError:
        return None
    project, step = fields.get("projet") or "", fields.get("etape") or ""
    return f"Décision enregistrée — {step} ({project}) : {EVENT_LABELS[DECISION_EVENTS[decision]]}."


async def _inbox_page(
    person: SignedIn,
    web: WebState,
    client: Client,
    store: RecordStore,
    status_code: int = 200,
    notice: str | None = None,
    kept: tuple[str, DecisionForm] | None = None,
    problem: str | None = None,
) -> Response:
    if person.user.role is not UserRole.REVIEWER:
        raise WebError(
            403, "« À décider » est la page des relecteurs FNEP : les étapes soumises qui attendent leur décision."
        )
    items, silent = await waiting_steps(person.user, client, store, web.clock())
    if kept is not None:
        for item in items:
            if item.key == kept[0]:
                item.form = kept[1]
    return page(
        "inbox.html.j2",
        status_code=status_code,
        person=person,
        items=items,
        silent=silent,
        notice=notice,
        problem=problem,
        decisions=[(d.value, DECISION_LABELS[d]) for d in Decision],
    )


@router.get("/a-decider")
async def inbox(
    person: SignedInDep,
    web: WebStateDep,
    client: ClientDep,
    store: StoreDep,
    decision: str | None = Query(default=None, max_length=40),
    projet: str | None = Query(default=None, max_length=200),
    etape: str | None = Query(default=None, max_length=200),
) -> Response:
    notice = _confirmation({"decision": decision, "projet": projet, "etape": etape})
    return await _inbox_page(person, web, client, store, notice=notice)


def _form_errors(fields: dict[str, str], user: ApiUser, step: str) -> tuple[DecisionBody | None, dict[str, str]]:
    """The API's models on the posted fields: the body, or the French errors by field."""
    try:
        body = DecisionBody.model_validate(
            {
                "decision": fields.get("decision", ""),
                "comment": fields.get("comment", ""),
                "decision_id": fields.get("decision_id") or None,
            }
        )
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            where = str(problem["loc"][0]) if problem["loc"] else "decision"
            if where == "comment":
                errors["comment"] = COMMENT_TOO_LONG
            elif where == "decision_id":
                errors["decision"] = "Formulaire périmé : rechargez la page et décidez à nouveau."
            else:
                errors["decision"] = DECISION_MISSING
        return None, errors
    try:
        DecideStep(actor=user.actor, step=step, **body.model_dump())
    except ValidationError:
        return None, {"comment": COMMENT_REQUIRED}
    return body, {}


@router.post("/a-decider")
async def decide(form: PostedFormDep, web: WebStateDep, client: ClientDep, store: StoreDep) -> Response:
    person, fields = form.person, form.fields
    project_id, step = fields.get("project_id", ""), fields.get("step", "")
    typed = DecisionForm(
        decision_id=fields.get("decision_id", "")[:100] or DecisionForm().decision_id,
        decision=fields.get("decision", "")[:40],
        comment=fields.get("comment", "")[:5000],
    )
    key = f"{project_id}--{step}"
    body, errors = _form_errors(fields, person.user, step)
    if body is None:
        typed.errors = errors
        return await _inbox_page(person, web, client, store, status_code=422, kept=(key, typed))
    try:
        await role_on_project(UserRole.REVIEWER)(person.user, project_id, client, store)
        status = await decide_step(project_id, step, body, person.user, client, store)
    except ApiError as error:
        problem = f"Décision refusée : {_sentence(error.message)}"
        if error.status == 409:
            typed.refusal = problem
        return await _inbox_page(
            person, web, client, store, status_code=error.status, kept=(key, typed), problem=problem
        )
    label = next((s.label for s in status.steps if s.id == step), step)
    query = urlencode({"decision": body.decision.value, "projet": status.name, "etape": label})
    return RedirectResponse(f"/a-decider?{query}", status_code=303, headers={"Cache-Control": "no-store"})
