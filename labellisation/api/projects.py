"""/projects: start, list, show, history, and every command on a project."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import pydantic_core
from fastapi import APIRouter, Query, Request, Response
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from labellisation.api.access import check_region, project_region_slug, region_filter
from labellisation.api.commands import (
    list_at_once,
    migration_plan,
    project_events,
    read_status,
    send_command,
    start_workflow,
)
from labellisation.api.deps import (
    ClientDep,
    CoordinatorDep,
    CoordinatorOfProjectDep,
    CoordinatorOrHolderOfProjectDep,
    HolderOfProjectDep,
    ProjectViewerDep,
    ReviewerOfProjectDep,
    SettingsDep,
    StoreDep,
    UserDep,
)
from labellisation.api.errors import REFUSAL_STATUS, ApiError
from labellisation.api.schemas import (
    ERRORS,
    AbandonBody,
    DeadlineBody,
    DecisionBody,
    EmptyBody,
    HistoryEvent,
    MigrateBody,
    PauseBody,
    PlannedOpeningBody,
    PortfolioItem,
    ProfileBody,
    ProjectStart,
    SubmissionBody,
)
from labellisation.catalogue import STATE_LABELS, UnknownWord, parse_stage, parse_state
from labellisation.contract import (
    SA_NAME,
    SA_REGION,
    SA_STAGE,
    SA_STATE,
    StartProject,
    Update,
)
from labellisation.overview import static_summary
from labellisation.path.commands import (
    AbandonProject,
    ChangePlannedOpening,
    DecideStep,
    MigrateProject,
    MoveDeadline,
    PauseProject,
    RecordCohort,
    ResumeProject,
    SubmitStep,
    UpdateProfile,
)
from labellisation.path.holder_view import holder_view
from labellisation.path.migration import MigrationPlan
from labellisation.path.state import Cohort, ProjectProfile, ProjectState
from labellisation.path.status import ProjectStatus
from labellisation.path.transitions import refuse_start
from labellisation.process import ProcessDefinition, ProcessDefinitionError, load_process, shipped_process_ids
from labellisation.regions import BY_SLUG, UnknownRegion, region_of_department
from labellisation.tokens import UserRole

router = APIRouter(prefix="/projects", tags=["projets"], responses=ERRORS)
#: Projects per page of `GET /projects`, by default and at most.
PAGE_SIZE, PAGE_MAX = 500, 1000


@router.post("", status_code=201, summary="Démarrer un projet d'école")
async def start_project(
    body: ProjectStart, user: CoordinatorDep, client: ClientDep, settings: SettingsDep, store: StoreDep
) -> ProjectStatus:
    process_id = body.process or settings.default_process
    try:
        process = load_process(process_id)
    except ProcessDefinitionError as error:
        raise ApiError(422, f"process : {error}") from None
    profile = ProjectProfile.model_validate(body.model_dump(exclude={"process"}))
    check_region(user, profile.region)  # the department's (ProjectStart): a limited coordinator's regions only
    refusal = refuse_start(profile, process, datetime.now(UTC))
    if refusal is not None:
        raise ApiError(REFUSAL_STATUS[refusal.code.value], refusal.message)
    first_stage = process.stages[0].id
    status = await start_workflow(
        client,
        StartProject(profile=profile, process_id=process_id, process=process, actor=user.actor),
        settings.task_queue,
        TypedSearchAttributes(
            [
                SearchAttributePair(SA_STAGE, first_stage),
                SearchAttributePair(SA_REGION, profile.region),
                SearchAttributePair(SA_STATE, ProjectState.ACTIVE.value),
                SearchAttributePair(SA_NAME, static_summary(profile)),
            ]
        ),
    )
    await list_at_once(store, profile, status)
    return status


_STATE_WORDS = ", ".join(f"{label} ({state.value})" for state, label in STATE_LABELS.items())


def _stage(text: str | None) -> str | None:
    """A stage id from its id or its French words, or 422 listing the valid ones."""
    try:
        return parse_stage(text, [load_process(p) for p in shipped_process_ids()]) if text is not None else None
    except UnknownWord as error:
        raise ApiError(422, str(error)) from None


def _state(text: str | None) -> ProjectState | None:
    """A project state from its id or its French word, or 422 listing the valid ones."""
    try:
        return parse_state(text) if text is not None else None
    except UnknownWord as error:
        raise ApiError(422, str(error)) from None


@router.get("", summary="Le portefeuille de projets", response_model=list[PortfolioItem])
async def list_projects(
    request: Request,
    user: UserDep,
    store: StoreDep,
    stage: Annotated[
        str | None,
        Query(
            description="Phase : son identifiant ou son libellé, accents et casse facultatifs, "
            "un mot distinctif suffit (ex. feasibility, « Étude de faisabilité », faisabilite)"
        ),
    ] = None,
    region: Annotated[
        str | None,
        Query(
            description="Région : son identifiant ou son nom, accents et casse facultatifs (ex. grand-est, "
            "« Grand Est »). Une région hors des vôtres (personne limitée à des régions) : 403"
        ),
    ] = None,
    state: Annotated[str | None, Query(description=f"État : son identifiant ou son libellé ({_STATE_WORDS})")] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="Projets par page")] = PAGE_SIZE,
    after: Annotated[
        str | None, Query(max_length=64, description="Page suivante : l'identifiant du dernier projet reçu")
    ] = None,
) -> Response:
    """Pages of projects by id; when more follow, `Link: <…>; rel="next"` and `X-Next-After` say where.

    Plain rows serialised at once: with thousands of projects, a model per row costs most of the time.
    A reviewer or coordinator limited to regions lists only those regions' projects.
    """
    stage_id, project_state = _stage(stage), _state(state)
    region_slug, regions = region_filter(user, region)
    now = datetime.now(UTC)
    rows = await store.portfolio(
        stage=stage_id,
        region=region_slug,
        state=project_state.value if project_state else None,
        overdue_at=now if overdue else None,
        project_ids=user.projects if user.role is UserRole.HOLDER else None,
        regions=regions,
        after=after,
        limit=limit + 1,
    )
    headers = {}
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]["project_id"]
        headers = {"Link": f'<{request.url.include_query_params(after=last)}>; rel="next"', "X-Next-After": last}
    for row in rows:
        due = row["next_due_at"]
        row["overdue"] = row["state"] == ProjectState.ACTIVE.value and due is not None and due < now
    return Response(pydantic_core.to_json(rows), media_type="application/json", headers=headers)


@router.get("/{project_id}", summary="Où en est le projet")
async def show_project(project_id: str, user: ProjectViewerDep, client: ClientDep, store: StoreDep) -> ProjectStatus:
    """The workflow's status; once Temporal has deleted the workflow (retention), the status rebuilt from the
    records database (`source: records`, no reminder planned)."""
    return await read_status(client, store, project_id)


@router.get("/{project_id}/history", summary="Tous les événements, du plus ancien au plus récent")
async def project_history(
    project_id: str, user: ProjectViewerDep, client: ClientDep, store: StoreDep
) -> list[HistoryEvent]:
    """The records database's events, then the workflow's not yet recorded there (they follow a command by a moment).
    A holder reads only the events meant for them (labellisation/path/holder_view.py)."""
    events = await project_events(client, store, project_id)
    if user.role is UserRole.HOLDER:
        events = holder_view(events, user.email)
    return [HistoryEvent(**e.model_dump()) for e in events]


@router.post("/{project_id}/steps/{step}/submissions", summary="Le porteur soumet une étape")
async def submit_step(
    project_id: str, step: str, body: SubmissionBody, user: HolderOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    command = SubmitStep(actor=user.actor, step=step, documents=body.documents, comment=body.comment)
    return await send_command(client, store, project_id, Update.SUBMIT, command)


@router.post("/{project_id}/steps/{step}/decisions", summary="La FNEP décide")
async def decide_step(
    project_id: str, step: str, body: DecisionBody, user: ReviewerOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    command = DecideStep(actor=user.actor, step=step, **body.model_dump())
    # Temporal answers a repeated update id with the first call's result without running the validator:
    # the id names the decision itself, so only a true retry is deduplicated there, and the same
    # decision_id reused for another decision reaches the model, which refuses it (409).
    update_id = f"decision-{body.decision_id}-{step}-{body.decision.value}" if body.decision_id else None
    return await send_command(client, store, project_id, Update.DECIDE, command, update_id)


@router.put("/{project_id}/steps/{step}/deadline", summary="Déplacer une échéance")
async def move_deadline(
    project_id: str, step: str, body: DeadlineBody, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    command = MoveDeadline(actor=user.actor, step=step, due_on=body.due_on, reason=body.reason)
    return await send_command(client, store, project_id, Update.MOVE_DEADLINE, command)


@router.post("/{project_id}/pause", summary="Mettre en pause")
async def pause_project(
    project_id: str, body: PauseBody, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    command = PauseProject(actor=user.actor, reason=body.reason, review_on=body.review_on)
    return await send_command(client, store, project_id, Update.PAUSE, command)


@router.post("/{project_id}/resume", summary="Reprendre")
async def resume_project(
    project_id: str, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep, body: EmptyBody | None = None
) -> ProjectStatus:
    return await send_command(client, store, project_id, Update.RESUME, ResumeProject(actor=user.actor))


@router.post("/{project_id}/abandon", summary="Abandonner")
async def abandon_project(
    project_id: str, body: AbandonBody, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    command = AbandonProject(actor=user.actor, reason=body.reason)
    return await send_command(client, store, project_id, Update.ABANDON, command)


@router.post("/{project_id}/cohorts", summary="Enregistrer les résultats d'une cohorte (amorçage)")
async def record_cohort(
    project_id: str, body: Cohort, user: CoordinatorOrHolderOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    return await send_command(
        client, store, project_id, Update.RECORD_COHORT, RecordCohort(actor=user.actor, cohort=body)
    )


@router.put("/{project_id}/planned-opening", summary="Changer la date d'ouverture prévue")
async def change_planned_opening(
    project_id: str, body: PlannedOpeningBody, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    """The deadlines anchored on it (the opening declaration, the opening) follow, for the steps to come."""
    command = ChangePlannedOpening(actor=user.actor, planned_opening=body.planned_opening, reason=body.reason)
    return await send_command(client, store, project_id, Update.CHANGE_PLANNED_OPENING, command)


@router.patch("/{project_id}/profile", summary="Modifier le profil du projet (porteur, nom, région…)")
async def update_profile(
    project_id: str, body: ProfileBody, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    """A region comes as its slug (ProfileBody); given alone, it must be the project's department's."""
    if body.region is not None:
        if body.department is None:
            expected = await _department_region(client, store, project_id)
            if body.region != expected:
                raise ApiError(
                    422,
                    f"contenu invalide : region : « {BY_SLUG[body.region].name} » n'est pas la région du "
                    f"département du projet, qui est en {BY_SLUG[expected].name} ({expected}) ; "
                    "pour changer de région, donnez son department",
                )
        check_region(user, body.region)  # a limited coordinator moves a project only within their regions
    command = UpdateProfile(actor=user.actor, **body.model_dump())
    return await send_command(client, store, project_id, Update.UPDATE_PROFILE, command)


async def _department_region(client: ClientDep, store: StoreDep, project_id: str) -> str:
    """The region slug of the project's department: what a region given alone must be."""
    record = await store.project(project_id)
    if record is None:  # started a moment ago (its region is its department's) or unknown
        slug = await project_region_slug(client, store, project_id)
        if slug is None:
            raise ApiError(404, f"projet inconnu : {project_id!r}")
        return slug
    try:
        return region_of_department(record.department).slug
    except UnknownRegion as error:  # an old project's text: its department is to be given with the region
        raise ApiError(422, f"contenu invalide : {error} ; donnez department avec region") from None


async def _shipped_process(client: ClientDep, store: StoreDep, project_id: str) -> ProcessDefinition:
    """The definition shipped today for the project's process: the version a migration moves to."""
    status = await read_status(client, store, project_id)
    try:
        return load_process(status.process)
    except ProcessDefinitionError as error:
        raise ApiError(409, f"le parcours du projet n'est pas livré : {error}") from None


@router.get("/{project_id}/migration", summary="Ce que changerait le passage à la version livrée de son parcours")
async def plan_migration(
    project_id: str, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep
) -> MigrationPlan:
    """The dry run of `POST /projects/{id}/migrate`: the changes, or the reason it would be refused."""
    return await migration_plan(client, store, project_id, await _shipped_process(client, store, project_id))


@router.post("/{project_id}/migrate", summary="Passer le projet à la version livrée de son parcours")
async def migrate_project(
    project_id: str, body: MigrateBody, user: CoordinatorOfProjectDep, client: ClientDep, store: StoreDep
) -> ProjectStatus:
    process = await _shipped_process(client, store, project_id)
    if body.process_version is not None and body.process_version != process.version:
        raise ApiError(
            409,
            f"process_version : la version livrée du parcours « {process.id} » est la {process.version}, "
            f"pas la {body.process_version}",
        )
    command = MigrateProject(actor=user.actor, process=process, reason=body.reason)
    return await send_command(client, store, project_id, Update.MIGRATE, command)
