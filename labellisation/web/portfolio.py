"""The coordinator's pages: « Portefeuille » (table, filters, sort, pages, counts, CSV) and the actions.

Every rule is the API's: the list reads the store's portfolio with the API's region filter, the actions call the
API's route functions (labellisation/api/projects.py) after the same role and region checks as its dependencies
(labellisation/api/deps.py), and the words are the catalogue's. A form with a bad value is shown again with the
French error beside the field and what was typed kept, nothing sent; a command the workflow refuses is shown
with its one sentence. After a command: redirect, and the page says what was done (POST/redirect/GET).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from labellisation.api import projects
from labellisation.api.access import region_filter
from labellisation.api.commands import read_status
from labellisation.api.deps import ClientDep, SettingsDep, StoreDep, role, role_on_project
from labellisation.api.errors import ApiError
from labellisation.api.schemas import AbandonBody, DeadlineBody, EmptyBody, PauseBody, ProjectStart
from labellisation.catalogue import (
    STATE_LABELS,
    UnknownWord,
    days,
    format_moment,
    parse_stage,
    parse_state,
    stage_label,
)
from labellisation.exports import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Column,
    Kind,
    Table,
    attachment,
    csv_bytes,
    xlsx_bytes,
)
from labellisation.french_calendar import PARIS
from labellisation.path.state import ProjectState, StepStatus
from labellisation.people import PersonError, checked_access, invite
from labellisation.people import UserRole as PersonRole
from labellisation.process import ProcessDefinitionError, load_process, shipped_process_ids
from labellisation.records import portfolio as listing
from labellisation.records.portfolio import PortfolioFilter, PortfolioPage, PortfolioSort
from labellisation.regions import REGIONS, region_name
from labellisation.tokens import ApiUser, UserRole
from labellisation.web.deps import PostedFormDep, SignedInDep
from labellisation.web.errors import FrenchErrorsRoute, WebError, sentence
from labellisation.web.pages import HEADERS, page
from labellisation.web.sessions import SignedIn

router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)

#: Projects per page of « Portefeuille ».
PAGE_SIZE = 50
#: The sorts a person may choose: query value → label.
SORTS = {"echeance": "Prochaine échéance", "nom": "Nom", "retard": "Jours de retard"}
#: What the page says after a command (the query's `fait`): never text from the query itself.
DONE = {
    "demarre": "Le projet est démarré.",
    "echeance": "L'échéance est déplacée.",
    "pause": "Le projet est mis en pause.",
    "reprise": "Le projet a repris.",
    "abandon": "Le projet est abandonné.",
    "invite": "La personne est invitée : elle peut demander un lien de connexion avec son adresse e-mail.",
}
CSV_HEADERS = [
    "Identifiant", "Nom", "Région", "Phase", "État", "Prochaine échéance", "En retard", "Jours de retard",
]  # fmt: skip


async def _coordinator(person: SignedIn) -> ApiUser:
    """The person, or 403 (French page) unless a coordinator: the API's role check."""
    return await role(UserRole.COORDINATOR)(person.user)


async def _coordinator_of(person: SignedIn, project_id: str, client: ClientDep, store: StoreDep) -> ApiUser:
    """The API's check for a coordinator's command on a project: role, then the project's region."""
    return await role_on_project(UserRole.COORDINATOR)(person.user, project_id, client, store)


# ----------------------------------------------------------------------------------------------- the table


class Filters(BaseModel):
    """The GET form as typed (kept in the form), and its errors by field."""

    stage: str = ""
    region: str = ""
    state: str = ""
    overdue: bool = False
    sort: str = "echeance"
    page: int = 1


def _stages() -> list[tuple[str, str]]:
    """Every shipped process's stages, (id, label), once each, in order."""
    seen: dict[str, str] = {}
    for process_id in shipped_process_ids():
        for stage in load_process(process_id).stages:
            seen.setdefault(stage.id, stage.label)
    return list(seen.items())


def _stage_label(process_id: str, stage_id: str) -> str:
    try:
        return stage_label(load_process(process_id), stage_id)
    except ProcessDefinitionError:
        return stage_id


#: The page's sort names (French, in the query) → the store's sorts.
STORE_SORTS = {"echeance": PortfolioSort.DUE, "nom": PortfolioSort.NAME, "retard": PortfolioSort.OVERDUE}


def _store_filter(user: ApiUser, filters: Filters, now: datetime) -> tuple[PortfolioFilter, dict[str, str]]:
    """The filters as the store reads them, limited to the person's regions; and their French errors by field."""
    errors: dict[str, str] = {}
    stage_id = state = None
    if filters.stage:
        try:
            stage_id = parse_stage(filters.stage, [load_process(p) for p in shipped_process_ids()])
        except UnknownWord as error:
            errors["stage"] = _field_message(str(error), "Phase")
    if filters.state:
        try:
            state = parse_state(filters.state).value
        except UnknownWord as error:
            errors["state"] = _field_message(str(error), "État")
    try:
        region_slug, regions = region_filter(user, filters.region or None)
    except ApiError as error:
        if error.status != 422:
            raise
        errors["region"] = _field_message(error.message, "Région")
        region_slug, regions = None, None
    overdue_at = now if filters.overdue else None
    return PortfolioFilter(stage_id, region_slug, state, overdue_at, regions=regions), errors


def _overdue(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    due = row["next_due_at"]
    row["overdue"] = row["state"] == ProjectState.ACTIVE.value and due is not None and due < now
    row["days_overdue"] = (now - due).days if row["overdue"] else 0
    return row


def _describe(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A row's French words: region name, stage label, state, deadline, by how many days overdue."""
    _overdue(row, now)
    due: datetime | None = row["next_due_at"]
    row["region_fr"] = region_name(row["region"])
    row["stage_fr"] = _stage_label(row["process"], row["current_stage"])
    row["state_fr"] = STATE_LABELS[ProjectState(row["state"])]
    row["due_fr"] = format_moment(due, now, row["process"]) if due is not None else "—"
    row["overdue_fr"] = days(row["days_overdue"]) if row["overdue"] else ""
    return row


def _field_message(message: str, label: str) -> str:
    """The catalogue's sentence (`stage : « x » inconnu ; …`) with the field's French name."""
    _, _, rest = message.partition(" : ")
    return f"{label} : {rest or message}"


def _query(filters: Filters, **changes: Any) -> str:
    """The page's query string for a link (another page, the CSV), the filters kept."""
    values = {**filters.model_dump(), **changes}
    kept = {k: v for k, v in values.items() if v not in ("", False, None) and not (k == "page" and v == 1)}
    kept = {k: ("1" if v is True else v) for k, v in kept.items()}
    return urlencode(kept)


FilterQuery = Annotated[str, Query(max_length=200)]


def _filters(stage: str, region: str, state: str, overdue: str, sort: str, page_number: int) -> Filters:
    return Filters(
        stage=stage.strip(),
        region=region.strip(),
        state=state.strip(),
        overdue=overdue not in ("", "0"),
        sort=sort if sort in SORTS else "echeance",
        page=max(page_number, 1),
    )


@router.get("/portefeuille")
async def portfolio_page(
    person: SignedInDep,
    store: StoreDep,
    stage: FilterQuery = "",
    region: FilterQuery = "",
    state: FilterQuery = "",
    overdue: FilterQuery = "",
    sort: FilterQuery = "echeance",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    fait: FilterQuery = "",
) -> Response:
    user = await _coordinator(person)
    now = datetime.now(UTC)
    filters = _filters(stage, region, state, overdue, sort, page_number)
    found, errors = _store_filter(user, filters, now)
    listed = (
        PortfolioPage(rows=[], total=0, number=1, pages=1)
        if errors
        else await listing.portfolio_page(store.engine, found, STORE_SORTS[filters.sort], now, filters.page, PAGE_SIZE)
    )
    number, pages = listed.number, listed.pages
    counts = await listing.stage_counts(store.engine, region_filter(user, None)[1])
    stages = _stages()
    return page(
        "portefeuille.html.j2",
        status_code=422 if errors else 200,
        person=person,
        filters=filters,
        errors=errors,
        rows=[_describe(row, now) for row in listed.rows],
        total=listed.total,
        page_number=number,
        pages=pages,
        previous_query=_query(filters, page=number - 1) if number > 1 else None,
        next_query=_query(filters, page=number + 1) if number < pages else None,
        csv_query=_query(filters, page=1),
        sort_queries={key: _query(filters, sort=key, page=1) for key in SORTS},
        sorts=SORTS,
        counts=[(label, counts.get(stage_id, 0)) for stage_id, label in stages],
        stages=stages,
        regions=[(r.slug, r.name) for r in REGIONS if user.covers_region(r.slug)],
        states=[(s.value, label) for s, label in STATE_LABELS.items()],
        notice=DONE.get(fait),
    )


#: « Portefeuille » as a spreadsheet: the CSV's columns (kept as they were), the deadline a date, the days a number.
SPREADSHEET_COLUMNS = [
    Column(header, {"Prochaine échéance": Kind.DATE, "Jours de retard": Kind.INTEGER}.get(header, Kind.TEXT))
    for header in CSV_HEADERS
]


def download(content: bytes, filename: str) -> Response:
    """A file to save (CSV or XLSX, by its name), with the pages' security headers."""
    media_type = XLSX_MEDIA_TYPE if filename.endswith(".xlsx") else CSV_MEDIA_TYPE
    return Response(content, media_type=media_type, headers={**HEADERS, "Content-Disposition": attachment(filename)})


async def _portfolio_table(
    person: SignedIn, store: StoreDep, stage: str, region: str, state: str, overdue: str, sort: str
) -> tuple[Table, datetime]:
    """Every row of the current filter (not one page), as a table; a bad filter is the page's 422."""
    user = await _coordinator(person)
    now = datetime.now(UTC)
    filters = _filters(stage, region, state, overdue, sort, 1)
    found, errors = _store_filter(user, filters, now)
    if errors:
        raise WebError(422, " ".join(errors.values()))
    rows = await listing.portfolio_rows(store.engine, found, STORE_SORTS[filters.sort], now)
    table = Table("Portefeuille", SPREADSHEET_COLUMNS)
    for r in (_describe(row, now) for row in rows):
        table.rows.append(
            [
                r["project_id"], r["name"], r["region_fr"], r["stage_fr"], r["state_fr"], r["next_due_at"],
                "oui" if r["overdue"] else "non", r["days_overdue"] if r["overdue"] else None,
            ]
        )  # fmt: skip
    return table, now


def _file_name(now: datetime, extension: str) -> str:
    return f"portefeuille-{now.astimezone(ZoneInfo(PARIS)):%Y-%m-%d}.{extension}"


@router.get("/portefeuille.csv")
async def portfolio_csv(
    person: SignedInDep,
    store: StoreDep,
    stage: FilterQuery = "",
    region: FilterQuery = "",
    state: FilterQuery = "",
    overdue: FilterQuery = "",
    sort: FilterQuery = "echeance",
) -> Response:
    """Every row of the current filter (not one page), for a French spreadsheet: UTF-8 with BOM, `;`, dd/mm/yyyy
    (labellisation/exports.py)."""
    table, now = await _portfolio_table(person, store, stage, region, state, overdue, sort)
    return download(csv_bytes(table), _file_name(now, "csv"))


@router.get("/portefeuille.xlsx")
async def portfolio_xlsx(
    person: SignedInDep,
    store: StoreDep,
    stage: FilterQuery = "",
    region: FilterQuery = "",
    state: FilterQuery = "",
    overdue: FilterQuery = "",
    sort: FilterQuery = "echeance",
) -> Response:
    """The same rows and columns as the CSV, as an XLSX workbook (dates as dates, days as numbers)."""
    table, now = await _portfolio_table(person, store, stage, region, state, overdue, sort)
    return download(xlsx_bytes(table), _file_name(now, "xlsx"))


# ------------------------------------------------------------------------------------------------ the forms


def _errors_by_field(error: ValidationError, fields: dict[str, str], default: str) -> dict[str, str]:
    """Pydantic's errors as French sentences by form field (`holder.email` → `holder_email`)."""
    found: dict[str, str] = {}
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        name = "_".join(loc[:2]) if loc[:1] == ["holder"] else (loc[0] if loc else default)
        reason = str(item["msg"]).removeprefix("Value error, ")
        named, _, rest = reason.partition(" : ")
        if not loc and rest and named in fields:  # a rule across fields names its field: « region : … »
            name, reason = named, rest
        if name not in fields:
            name = default
        found.setdefault(name, sentence(_french(reason)))
    return found


def _french(reason: str) -> str:
    """Pydantic's English reasons a person may meet on these forms, in French."""
    if reason.startswith("Input should be a valid date") or ("date" in reason and "invalid" in reason):
        return "saisissez une date valide, par exemple 2027-09-01"
    if reason.startswith("String should have at least 1 character") or reason == "Field required":
        return "ce champ est obligatoire"
    if reason.startswith("String should match pattern"):
        return "minuscules, chiffres et tirets seulement (ex. edp-belfort)"
    if reason.startswith("List should have at least 1 item"):
        return "au moins une valeur"
    if reason.startswith("Input should be a valid integer"):
        return "saisissez un nombre entier"
    if reason.startswith("Input should be greater than") or reason.startswith("Input should be less than"):
        return "nombre hors des limites"
    if reason.startswith("value is not a valid email address"):
        return "saisissez une adresse valide, par exemple prenom.nom@exemple.fr"
    return reason


def _lines(text: str) -> list[str]:
    """A textarea's values: one per line (or separated by commas), blanks dropped."""
    return [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]


START_FIELDS = [
    "project_id", "name", "department", "region", "city", "academy", "trades", "diplomas", "capacity",
    "holder_name", "holder_email", "planned_opening", "process",
]  # fmt: skip


def _start_body(fields: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_id": fields["project_id"].strip(),
        "name": fields["name"].strip(),
        "department": fields["department"].strip(),
        "city": fields["city"].strip(),
        "trades": _lines(fields["trades"]),
        "diplomas": _lines(fields["diplomas"]),
        "holder": {"name": fields["holder_name"].strip(), "email": fields["holder_email"].strip()},
        "planned_opening": fields["planned_opening"].strip(),
    }
    for optional in ("region", "academy", "capacity", "process"):
        if fields[optional].strip():
            body[optional] = fields[optional].strip()
    return body


def _start_form(person: SignedIn, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    return page(
        "portefeuille_nouveau.html.j2",
        status_code=status,
        person=person,
        values=values,
        errors=errors,
        processes=shipped_process_ids(),
    )


@router.get("/portefeuille/nouveau")
async def start_page(person: SignedInDep, settings: SettingsDep) -> Response:
    await _coordinator(person)
    values = dict.fromkeys(START_FIELDS, "")
    values["process"] = settings.default_process
    return _start_form(person, values, {})


@router.post("/portefeuille/nouveau")
async def start(form: PostedFormDep, client: ClientDep, settings: SettingsDep, store: StoreDep) -> Response:
    """`ProjectStart` validates the form; the API's start route starts it (region, refusals, workflow)."""
    user = await _coordinator(form.person)
    values = {name: form.fields.get(name, "")[:5000] for name in START_FIELDS}
    try:
        body = ProjectStart.model_validate(_start_body(values))
    except ValidationError as error:
        return _start_form(form.person, values, _errors_by_field(error, values, "department"), 422)
    try:
        status = await projects.start_project(body, user, client, settings, store)
    except ApiError as error:
        if error.status == 403:
            raise
        return _start_form(form.person, values, {"form": sentence(error.message)}, error.status)
    return _redirect(f"/projets/{status.project_id}/actions?fait=demarre")


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


ProjectId = Annotated[str, Path(max_length=64)]


async def _actions_page(
    person: SignedIn,
    project_id: str,
    client: ClientDep,
    store: StoreDep,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_name: str = "",
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    await _coordinator_of(person, project_id, client, store)
    status = await read_status(client, store, project_id)
    now = datetime.now(UTC)
    open_steps = [s for s in status.steps if s.status not in (StepStatus.APPROVED, StepStatus.REJECTED)]
    current = next((s for s in open_steps if s.stage == status.current_stage), open_steps[0] if open_steps else None)
    return page(
        "portefeuille_actions.html.j2",
        status_code=status_code,
        person=person,
        project=status,
        state_fr=STATE_LABELS[status.state],
        region_fr=region_name(status.region),
        due_fr=format_moment(status.next_due_at, now, status.process) if status.next_due_at else "—",
        steps=[(s.id, s.label, format_moment(s.due_at, now, status.process) if s.due_at else "—") for s in open_steps],
        current_step=current.id if current else "",
        values=values or {},
        errors=errors or {},
        form_name=form_name,
        notice=notice,
    )


@router.get("/projets/{project_id}/actions")
async def actions_page(
    project_id: ProjectId, person: SignedInDep, client: ClientDep, store: StoreDep, fait: FilterQuery = ""
) -> Response:
    return await _actions_page(person, project_id, client, store, notice=DONE.get(fait))


async def _command(
    form_name: str,
    fields: list[str],
    project_id: str,
    posted: Any,
    client: ClientDep,
    store: StoreDep,
    build: Any,
    send: Any,
) -> Response:
    """Check the person, validate the body (errors beside the fields, nothing sent), send; a refusal shown."""
    person: SignedIn = posted.person
    user = await _coordinator_of(person, project_id, client, store)
    values = {name: posted.fields.get(name, "")[:5000] for name in fields}
    try:
        body = build(values)
    except ValidationError as error:
        errors = _errors_by_field(error, values, fields[0])
        return await _actions_page(person, project_id, client, store, values, errors, form_name, 422)
    try:
        await send(project_id, body, user, client, store)
    except ApiError as error:
        if error.status in (403, 404):
            raise
        refusal = {"form": sentence(error.message)}
        return await _actions_page(person, project_id, client, store, values, refusal, form_name, error.status)
    return _redirect(f"/projets/{project_id}/actions?fait={form_name}")


@router.post("/projets/{project_id}/actions/echeance")
async def move_deadline(project_id: ProjectId, form: PostedFormDep, client: ClientDep, store: StoreDep) -> Response:
    async def send(project_id: str, body: DeadlineBody, user: ApiUser, client: Any, store: Any) -> None:
        await projects.move_deadline(project_id, form.fields.get("step", ""), body, user, client, store)

    def build(values: dict[str, str]) -> DeadlineBody:
        return DeadlineBody.model_validate({"due_on": values["due_on"].strip(), "reason": values["reason"]})

    return await _command("echeance", ["due_on", "reason", "step"], project_id, form, client, store, build, send)


@router.post("/projets/{project_id}/actions/pause")
async def pause(project_id: ProjectId, form: PostedFormDep, client: ClientDep, store: StoreDep) -> Response:
    def build(values: dict[str, str]) -> PauseBody:
        return PauseBody.model_validate({"reason": values["reason"], "review_on": values["review_on"].strip()})

    return await _command(
        "pause", ["reason", "review_on"], project_id, form, client, store, build, projects.pause_project
    )


@router.post("/projets/{project_id}/actions/reprise")
async def resume(project_id: ProjectId, form: PostedFormDep, client: ClientDep, store: StoreDep) -> Response:
    async def send(project_id: str, body: EmptyBody, user: ApiUser, client: Any, store: Any) -> None:
        await projects.resume_project(project_id, user, client, store, body)

    return await _command("reprise", ["_"], project_id, form, client, store, lambda _values: EmptyBody(), send)


@router.post("/projets/{project_id}/actions/abandon")
async def abandon(project_id: ProjectId, form: PostedFormDep, client: ClientDep, store: StoreDep) -> Response:
    def build(values: dict[str, str]) -> AbandonBody:
        if values["confirm"] != "oui":
            raise ValidationError.from_exception_data(
                "AbandonBody", [{"type": "missing", "loc": ("confirm",), "input": values["confirm"]}]
            )
        return AbandonBody.model_validate({"reason": values["reason"]})

    return await _command(
        "abandon", ["reason", "confirm"], project_id, form, client, store, build, projects.abandon_project
    )


# ----------------------------------------------------------------------------------------------- invitation

INVITE_FIELDS = ["role", "name", "email", "regions", "projects"]
PERSON_FIELDS = {"role": "role", "name": "name", "email": "email", "region": "regions", "project": "projects"}


def _invite_form(
    person: SignedIn, values: dict[str, str], errors: dict[str, str], notice: str | None = None, status: int = 200
) -> Response:
    return page(
        "portefeuille_inviter.html.j2",
        status_code=status,
        person=person,
        values=values,
        errors=errors,
        notice=notice,
        roles=[("reviewer", "relecteur"), ("coordinator", "coordinateur"), ("holder", "porteur")],
    )


@router.get("/personnes/inviter")
async def invite_page(person: SignedInDep, fait: FilterQuery = "") -> Response:
    user = await _coordinator(person)
    values = dict.fromkeys(INVITE_FIELDS, "")
    values["role"] = "reviewer"
    values["regions"] = ", ".join(region_name(slug) for slug in user.regions)
    return _invite_form(person, values, {}, DONE.get(fait))


@router.post("/personnes/inviter")
async def invite_person(form: PostedFormDep, store: StoreDep) -> Response:
    """labellisation/people.py invites (its French errors by field); a coordinator limited to regions invites
    reviewers and coordinators of their regions only, holders of their regions' projects only."""
    user = await _coordinator(form.person)
    values = {name: form.fields.get(name, "")[:2000] for name in INVITE_FIELDS}
    regions, project_ids = _lines(values["regions"]), _lines(values["projects"])
    try:
        if user.regions:
            await _within_regions(user, values["role"], regions, project_ids, store)
        await invite(
            store, role=values["role"], name=values["name"], email=values["email"], regions=regions,
            projects=project_ids,
        )  # fmt: skip
    except PersonError as error:
        field = PERSON_FIELDS.get(error.field, "email")
        message = _for_the_page(str(error).removeprefix(f"{error.field} : "))
        return _invite_form(form.person, values, {field: sentence(message)}, status=422)
    return _redirect("/personnes/inviter?fait=invite")


#: The command line's hints in people.py's sentences, and what the form says instead.
CLI_HINTS = {" (labellisation users list)": "", " : --project ID": " : donnez son identifiant dans Projets"}


def _for_the_page(message: str) -> str:
    for hint, instead in CLI_HINTS.items():
        message = message.replace(hint, instead)
    return message


async def _within_regions(
    user: ApiUser, role_text: str, regions: list[str], project_ids: list[str], store: StoreDep
) -> None:
    try:
        person_role = PersonRole(role_text)
    except ValueError:
        return  # invite names the bad role
    slugs, ids = checked_access(person_role, regions, project_ids)
    if person_role is not PersonRole.HOLDER:
        if not slugs:
            raise PersonError(
                "region", "limité à vos régions, vous invitez une personne de l'une d'elles : donnez ses régions"
            )
        outside = [region_name(s) for s in slugs if not user.covers_region(s)]
        if outside:
            raise PersonError("region", f"hors de vos régions : {', '.join(outside)}")
    for project_id in ids:
        record = await store.project(project_id)
        if record is None or not user.covers_region(record.region):
            raise PersonError("project", f"le projet « {project_id} » est hors de vos régions")
