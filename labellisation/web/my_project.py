"""« Mon dossier »: a holder's project, « À faire » first, then the submission form of each open step and the cohort
form during amorçage.

Everything a form posts is checked with the API's own models (`SubmissionBody`, `Cohort` and `RecordCohort`)
before anything is sent: a bad value shows the form again, the French error beside the field and what was typed
kept, and the workflow hears nothing. What is sent goes through the API's route functions (`submit_step`,
`record_cohort`) after the API's access rule (`role_on_project`): the same commands, the same refusals, shown as
the workflow's one-sentence reason. With JavaScript off, the documents are rows of title and address: three
empty ones, « Ajouter une ligne » shows the form again with one more, a row left empty is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import Client

from labellisation.api.commands import project_events, read_status
from labellisation.api.deps import ClientDep, StoreDep, role_on_project
from labellisation.api.errors import ApiError
from labellisation.api.projects import record_cohort, submit_step
from labellisation.api.schemas import SubmissionBody
from labellisation.catalogue import STATE_LABELS, format_moment
from labellisation.french_calendar import format_date_fr
from labellisation.path.commands import RecordCohort
from labellisation.path.holder_view import holder_view
from labellisation.path.state import AWAITING_HOLDER, Cohort, Event, EventKind, StepStatus
from labellisation.path.status import ProjectStatus, StepView
from labellisation.process import ProcessDefinitionError, load_process
from labellisation.records.store import RecordStore
from labellisation.tokens import UserRole
from labellisation.web.deps import PostedFormDep, SignedInDep, WebState, WebStateDep
from labellisation.web.errors import FrenchErrorsRoute, WebError
from labellisation.web.pages import page
from labellisation.web.sessions import SignedIn

router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)

ProjectId = Path(max_length=64)
#: Empty document rows shown at first; at most as many as a submission may have.
FIRST_ROWS, MAX_ROWS = 3, 50
COHORT_FIELDS = (
    ("enrolled", "Inscrits"),
    ("dropouts", "Abandons"),
    ("presented", "Présentés à l'examen"),
    ("passed", "Reçus"),
    ("positive_exits", "Sorties positives"),
    ("job_offers", "Offres d'emploi reçues"),
)
COHORT_LIMITS = {"job_offers": "100 000"}
URL_ERROR = "Adresse : une adresse web commençant par https:// ou http://, sans espace (2 000 caractères au plus)."
TITLE_ERROR = "Titre : obligatoire, 200 caractères au plus."
COMMENT_ERROR = "Commentaire : 5 000 caractères au plus."
NO_DOCUMENT = "Documents : ajoutez au moins un document, avec son titre et son adresse."
TOO_MANY = f"Documents : {MAX_ROWS} au plus."
LABEL_ERROR = "Nom de la cohorte : lettres, chiffres, espaces, / _ -, 40 caractères au plus (ex. 2028-2029)."
CONSISTENCY = {
    "cohort.dropouts": "Abandons : pas plus que d'inscrits.",
    "cohort.presented": "Présentés à l'examen : pas plus que d'inscrits restants (inscrits moins abandons).",
    "cohort.passed": "Reçus : pas plus que de présentés.",
    "cohort.positive_exits": "Sorties positives : pas plus que d'inscrits.",
}


@dataclass
class SubmissionForm:
    """One step's submission form as shown: the rows typed (title, address), the comment, the errors by field."""

    rows: list[tuple[str, str]] = field(default_factory=lambda: [("", "")] * FIRST_ROWS)
    comment: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class CohortForm:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Todo:
    """An open step awaiting the holder: what is expected, by when, what was asked."""

    step: str
    label: str
    due: str | None
    late: bool
    asked: str | None
    asked_on: str | None
    form: SubmissionForm


NOT_A_HOLDER = "« Mon dossier » est la page des porteurs de projet."


def _check_holder(person: SignedIn, project_id: str) -> None:
    """The French 403 page unless the person is a holder of this project (the API's rule, without a query)."""
    if person.user.role is not UserRole.HOLDER:
        raise WebError(403, NOT_A_HOLDER)
    if not person.user.may_see(project_id):
        raise WebError(403, f"Vous n'êtes pas porteur du projet « {project_id} ».")


def _cohort_time(status: ProjectStatus) -> bool:
    """During amorçage: the current stage has a step that waits on a cohort's results."""
    try:
        process = load_process(status.process)
    except ProcessDefinitionError:
        return False
    stage = next((s for s in process.stages if s.id == status.current_stage), None)
    return stage is not None and any(step.requires_cohort for step in stage.steps)


def _todo(step: StepView, events: list[Event], now: datetime, process_id: str, form: SubmissionForm) -> Todo:
    asked = asked_on = None
    if step.status is StepStatus.CHANGES_REQUESTED:
        request = next(
            (e for e in reversed(events) if e.kind is EventKind.CHANGES_REQUESTED and e.step == step.id), None
        )
        if request is not None:
            asked, asked_on = request.comment, format_date_fr(request.at)
    return Todo(
        step=step.id,
        label=step.label,
        due=format_moment(step.due_at, now, process_id) if step.due_at else None,
        late=step.days_overdue > 0,
        asked=asked,
        asked_on=asked_on,
        form=form,
    )


async def _project_page(
    person: SignedIn,
    web: WebState,
    client: Client,
    store: RecordStore,
    project_id: str,
    status_code: int = 200,
    notice: str | None = None,
    problem: str | None = None,
    forms: dict[str, SubmissionForm] | None = None,
    cohort: CohortForm | None = None,
    submitted: str | None = None,
) -> Response:
    """The page; `submitted`: the step just submitted (POST/redirect/GET), said in the confirmation."""
    now = web.clock()
    status = await read_status(client, store, project_id)  # an unknown project: the French 404 page
    events = holder_view(await project_events(client, store, project_id), person.user.email)
    forms = forms or {}
    label = next((s.label for s in status.steps if s.id == submitted), None)
    if label is not None:
        notice = f"Dossier déposé : {label}. La décision de la FNEP s'affichera ici."
    todo = [
        _todo(s, events, now, status.process, forms.get(s.id, SubmissionForm()))
        for s in status.steps
        if s.status in AWAITING_HOLDER
    ]
    waiting = [
        (s.label, format_date_fr(s.submitted_at) if s.submitted_at else "")
        for s in status.steps
        if s.status is StepStatus.SUBMITTED
    ]
    return page(
        "mon_dossier.html.j2",
        status_code=status_code,
        person=person,
        status=status,
        state=STATE_LABELS[status.state],
        todo=todo,
        waiting=waiting,
        notice=notice,
        problem=problem,
        cohort_time=_cohort_time(status) or cohort is not None,  # a cohort form posted comes back
        cohort=cohort or CohortForm(),
        cohort_fields=COHORT_FIELDS,
        several=len(person.user.projects) > 1,
    )


@router.get("/mon-dossier")
async def my_projects(person: SignedInDep, web: WebStateDep, client: ClientDep, store: StoreDep) -> Response:
    """The holder's project; with several, the list of them."""
    if person.user.role is not UserRole.HOLDER:
        raise WebError(403, NOT_A_HOLDER)
    if len(person.user.projects) == 1:
        return await _project_page(person, web, client, store, person.user.projects[0])
    records = [await store.project(project_id) for project_id in person.user.projects]
    projects = [(p, r.name if r is not None else p) for p, r in zip(person.user.projects, records, strict=True)]
    return page("mon_dossier_liste.html.j2", person=person, projects=projects)


@router.get("/mon-dossier/{project_id}")
async def my_project(
    person: SignedInDep,
    web: WebStateDep,
    client: ClientDep,
    store: StoreDep,
    project_id: str = ProjectId,
    depose: str | None = Query(default=None, max_length=200),
    cohorte: str | None = Query(default=None, max_length=40),
) -> Response:
    _check_holder(person, project_id)
    notice = f"Résultats de la cohorte {cohorte} enregistrés." if cohorte else None
    return await _project_page(person, web, client, store, project_id, notice=notice, submitted=depose)


def _rows(fields: dict[str, str]) -> list[tuple[str, str]]:
    try:
        count = int(fields.get("rows", str(FIRST_ROWS)))
    except ValueError:
        count = FIRST_ROWS
    count = max(1, min(count, MAX_ROWS))
    return [(fields.get(f"title_{i}", "")[:300], fields.get(f"url_{i}", "")[:2100]) for i in range(count)]


def submission_errors(form: SubmissionForm) -> tuple[SubmissionBody | None, dict[str, str]]:
    """The API's `SubmissionBody` on the rows typed (empty rows left out): the body, or the errors by field."""
    kept = [(i, t, u) for i, (t, u) in enumerate(form.rows) if t.strip() or u.strip()]
    data = {"documents": [{"title": t, "url": u.strip()} for _, t, u in kept], "comment": form.comment}
    try:
        return SubmissionBody.model_validate(data), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            loc = problem["loc"]
            if loc[:1] == ("comment",):
                errors["comment"] = COMMENT_ERROR
            elif len(loc) >= 3 and loc[0] == "documents" and isinstance(loc[1], int):
                row = kept[loc[1]][0]
                errors[f"{loc[2]}_{row}"] = URL_ERROR if loc[2] == "url" else TITLE_ERROR
            else:
                errors["documents"] = TOO_MANY if problem["type"] == "too_long" else NO_DOCUMENT
        return None, errors


@router.post("/mon-dossier/{project_id}/etapes/{step}")
async def submit(
    form: PostedFormDep,
    web: WebStateDep,
    client: ClientDep,
    store: StoreDep,
    project_id: str = ProjectId,
    step: str = Path(max_length=64),
) -> Response:
    person, fields = form.person, form.fields
    _check_holder(person, project_id)
    typed = SubmissionForm(rows=_rows(fields), comment=fields.get("comment", "")[:6000])
    if fields.get("action") == "ajouter":  # one more row, nothing sent
        if len(typed.rows) < MAX_ROWS:
            typed.rows.append(("", ""))
        return await _project_page(person, web, client, store, project_id, forms={step: typed})
    body, typed.errors = submission_errors(typed)
    if body is None:
        return await _project_page(person, web, client, store, project_id, status_code=422, forms={step: typed})
    try:
        await role_on_project(UserRole.HOLDER)(person.user, project_id, client, store)
        await submit_step(project_id, step, body, person.user, client, store)
    except ApiError as error:
        problem = f"Dépôt refusé : {error.message.strip().rstrip('.')}."
        return await _project_page(
            person, web, client, store, project_id, status_code=error.status, problem=problem, forms={step: typed}
        )
    return RedirectResponse(
        f"/mon-dossier/{project_id}?depose={quote(step)}", status_code=303, headers={"Cache-Control": "no-store"}
    )


def cohort_errors(values: dict[str, str], actor: str) -> tuple[Cohort | None, dict[str, str]]:
    """The API's `Cohort` and `RecordCohort` rules on the values typed: the cohort, or the errors by field."""
    labels = dict(COHORT_FIELDS)
    try:
        cohort = Cohort.model_validate({k: v.strip() for k, v in values.items()})
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "label"
            if name == "label":
                errors[name] = LABEL_ERROR
            else:
                errors[name] = f"{labels.get(name, name)} : un nombre entier de 0 à {COHORT_LIMITS.get(name, '1 000')}."
        return None, errors
    try:
        RecordCohort(actor=actor, cohort=cohort)
    except ValidationError as error:
        message = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        where = message.partition(":")[0]
        return None, {where.removeprefix("cohort."): CONSISTENCY.get(where, message)}
    return cohort, {}


@router.post("/mon-dossier/{project_id}/cohortes")
async def add_cohort(
    form: PostedFormDep, web: WebStateDep, client: ClientDep, store: StoreDep, project_id: str = ProjectId
) -> Response:
    person, fields = form.person, form.fields
    _check_holder(person, project_id)
    typed = CohortForm(values={name: fields.get(name, "")[:50] for name in ("label", *dict(COHORT_FIELDS))})
    cohort, typed.errors = cohort_errors(typed.values, person.user.actor)
    if cohort is None:
        return await _project_page(person, web, client, store, project_id, status_code=422, cohort=typed)
    try:
        await role_on_project(UserRole.HOLDER)(person.user, project_id, client, store)
        await record_cohort(project_id, cohort, person.user, client, store)
    except ApiError as error:
        problem = f"Résultats refusés : {error.message.strip().rstrip('.')}."
        return await _project_page(
            person, web, client, store, project_id, status_code=error.status, problem=problem, cohort=typed
        )
    return RedirectResponse(
        f"/mon-dossier/{project_id}?cohorte={quote(cohort.label)}",
        status_code=303,
        headers={"Cache-Control": "no-store"},
    )
