"""The command line's API commands: the HTTP API from a terminal.

Tables for people (labellisation/cli_render.py), `--json` for scripts; the connection, options and input
checks are in labellisation/cli_client.py. Request bodies are the API's own models
(`labellisation.api.schemas`), so a field renamed there breaks this file at type-check time.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import typer

from labellisation.api.schemas import (
    AbandonBody,
    DeadlineBody,
    DecisionBody,
    Document,
    EmptyBody,
    Holder,
    MigrateBody,
    PauseBody,
    PlannedOpeningBody,
    ProfileBody,
    ProjectStart,
    SubmissionBody,
)
from labellisation.catalogue import UnknownWord, parse_stage, parse_state
from labellisation.cli_client import (
    ApiClient,
    ApiUrlAfter,
    Json,
    TokenAfter,
    api_command,
    body_part,
    checked_input,
)
from labellisation.cli_render import (
    render_history,
    render_path_report,
    render_portfolio,
    render_report,
    render_status,
    show,
)
from labellisation.path.state import Cohort, ProjectState
from labellisation.process import load_process, shipped_process_ids

projects_app = typer.Typer(help="Les projets d'école.", no_args_is_help=True)
START_OPTIONS = {"project_id": "--id", "trades": "--trade", "diplomas": "--diploma", "holder.name": "--holder-name",
                 "holder.email": "--holder-email"}  # fmt: skip


@projects_app.command("start")
@api_command
def projects_start(
    api: ApiClient,
    project_id: Annotated[str, typer.Option("--id", help="Identifiant, ex. edp-belfort.")],
    name: Annotated[str, typer.Option(help="Nom de l'école.")],
    department: Annotated[str, typer.Option(help="Département, ex. 69, 2A, 974 : il donne la région.")],
    city: Annotated[str, typer.Option()],
    trade: Annotated[list[str], typer.Option(help="Métier (répétable).")],
    holder_name: Annotated[str, typer.Option()],
    holder_email: Annotated[str, typer.Option()],
    planned_opening: Annotated[str, typer.Option(help="Date d'ouverture prévue, AAAA-MM-JJ.")],
    diploma: Annotated[list[str] | None, typer.Option(help="Diplôme (répétable).")] = None,
    process: Annotated[str | None, typer.Option(help="fnep ou demo (défaut : celui du serveur).")] = None,
    region: Annotated[str | None, typer.Option(help="Région (facultative) : celle du département.")] = None,
    as_json: Json = False,
) -> None:
    """Démarre un projet (coordinateur)."""
    holder = body_part(Holder.model_construct(name=holder_name, email=holder_email))
    with checked_input(START_OPTIONS):
        body = ProjectStart(project_id=project_id, name=name, region=region or "", department=department,
                            city=city, trades=trade, diplomas=diploma or [], holder=holder,
                            planned_opening=planned_opening, process=process)  # fmt: skip
    show(api.send("POST", "/projects", body), as_json, render_status)


@projects_app.command("list")
@api_command
def projects_list(
    api: ApiClient,
    stage: Annotated[str | None, typer.Option(help="Phase : identifiant ou nom (faisabilite, feasibility).")] = None,
    region: str | None = None,
    state: Annotated[str | None, typer.Option(help="État : actif, en pause, labellisé, rejeté, abandonné.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Seulement les projets en retard.")] = False,
    page_size: Annotated[
        int, typer.Option(min=1, max=1000, help="Projets par requête (toutes les pages sont lues).")
    ] = 500,
    as_json: Json = False,
) -> None:
    """Le portefeuille, avec filtres (toutes les pages)."""
    try:
        stage = parse_stage(stage, [load_process(id_) for id_ in shipped_process_ids()]) if stage else None
        state = parse_state(state).value if state else None
    except UnknownWord as unknown:
        typer.echo(f"Erreur : --{unknown}", err=True)
        raise typer.Exit(2) from None
    params = {k: v for k, v in {"stage": stage, "region": region, "state": state}.items() if v}
    params["limit"] = str(page_size)
    if overdue:
        params["overdue"] = "true"
    show(api.all_pages("/projects", params), as_json, render_portfolio)


@projects_app.command("show")
@api_command
def projects_show(api: ApiClient, project_id: str, as_json: Json = False) -> None:
    """Où en est un projet."""
    show(api.get(f"/projects/{project_id}"), as_json, render_status)


@projects_app.command("history")
@api_command
def projects_history(api: ApiClient, project_id: str, as_json: Json = False) -> None:
    """Tous les événements d'un projet."""
    show(api.get(f"/projects/{project_id}/history"), as_json, render_history)


def _document(text: str) -> tuple[str, str]:
    title, sep, url = text.rpartition("=")
    if not sep or not title:
        raise typer.BadParameter(f"document {text!r} : attendu TITRE=URL")
    return title, url


@api_command
def submit(
    api: ApiClient,
    project_id: str,
    step: str,
    document: Annotated[list[str], typer.Option(help="TITRE=URL (répétable).")],
    comment: str = "",
    as_json: Json = False,
) -> None:
    """Le porteur soumet une étape."""
    documents = [body_part(Document.model_construct(title=title, url=url)) for title, url in map(_document, document)]
    with checked_input({"documents": "--document"}):
        body = SubmissionBody(documents=documents, comment=comment)
    show(api.send("POST", f"/projects/{project_id}/steps/{step}/submissions", body), as_json, render_status)


@api_command
def decide(
    api: ApiClient,
    project_id: str,
    step: str,
    decision: Annotated[str, typer.Argument(help="approve, request_changes ou reject.")],
    comment: str = "",
    decision_id: Annotated[str | None, typer.Option(help="Rend une nouvelle tentative sans effet.")] = None,
    as_json: Json = False,
) -> None:
    """La FNEP décide d'une étape soumise."""
    with checked_input({"decision": "decision"}):  # the argument, as the help names it
        body = DecisionBody(decision=decision, comment=comment, decision_id=decision_id)
    show(api.send("POST", f"/projects/{project_id}/steps/{step}/decisions", body), as_json, render_status)


@api_command
def deadline(
    api: ApiClient,
    project_id: str,
    step: str,
    due_on: Annotated[str, typer.Argument(help="Nouvelle échéance, AAAA-MM-JJ.")],
    reason: Annotated[str, typer.Option(help="Pourquoi.")],
    as_json: Json = False,
) -> None:
    """Déplace l'échéance d'une étape (coordinateur)."""
    with checked_input({"due_on": "due_on"}):  # the argument, as the help names it
        body = DeadlineBody(due_on=due_on, reason=reason)
    show(api.send("PUT", f"/projects/{project_id}/steps/{step}/deadline", body), as_json, render_status)


@api_command
def pause(
    api: ApiClient,
    project_id: str,
    reason: Annotated[str, typer.Option()],
    review_on: Annotated[str, typer.Option(help="Date de réexamen, AAAA-MM-JJ.")],
    as_json: Json = False,
) -> None:
    """Met un projet en pause (coordinateur)."""
    with checked_input():
        body = PauseBody(reason=reason, review_on=review_on)
    show(api.send("POST", f"/projects/{project_id}/pause", body), as_json, render_status)


@api_command
def resume(api: ApiClient, project_id: str, as_json: Json = False) -> None:
    """Reprend un projet en pause (coordinateur)."""
    show(api.send("POST", f"/projects/{project_id}/resume", EmptyBody()), as_json, render_status)


@api_command
def abandon(
    api: ApiClient,
    project_id: str,
    reason: Annotated[str, typer.Option()],
    as_json: Json = False,
) -> None:
    """Abandonne un projet ; son dossier est conservé (coordinateur)."""
    with checked_input():
        body = AbandonBody(reason=reason)
    show(api.send("POST", f"/projects/{project_id}/abandon", body), as_json, render_status)


@api_command
def planned_opening(
    api: ApiClient,
    project_id: str,
    planned_opening: Annotated[str, typer.Argument(help="Nouvelle date d'ouverture prévue, AAAA-MM-JJ.")],
    reason: Annotated[str, typer.Option(help="Pourquoi.")],
    as_json: Json = False,
) -> None:
    """Change la date d'ouverture prévue ; les échéances fixées par elle suivent (coordinateur)."""
    with checked_input({"planned_opening": "planned_opening"}):  # the argument, as the help names it
        body = PlannedOpeningBody(planned_opening=planned_opening, reason=reason)
    show(api.send("PUT", f"/projects/{project_id}/planned-opening", body), as_json, render_status)


PROFILE_OPTIONS = {"trades": "--trade", "diplomas": "--diploma", "holder.name": "--holder-name",
                   "holder.email": "--holder-email"}  # fmt: skip


@api_command
def profile(
    api: ApiClient,
    project_id: str,
    reason: Annotated[str, typer.Option(help="Pourquoi.")],
    name: Annotated[str | None, typer.Option(help="Nom de l'école.")] = None,
    region: str | None = None,
    department: str | None = None,
    city: str | None = None,
    academy: str | None = None,
    trade: Annotated[list[str] | None, typer.Option(help="Métier (répétable ; remplace la liste).")] = None,
    diploma: Annotated[list[str] | None, typer.Option(help="Diplôme (répétable ; remplace la liste).")] = None,
    capacity: Annotated[int | None, typer.Option(help="Nombre de places.")] = None,
    holder_name: Annotated[str | None, typer.Option(help="Nouveau porteur : nom (avec --holder-email).")] = None,
    holder_email: Annotated[str | None, typer.Option(help="Nouveau porteur : e-mail (avec --holder-name).")] = None,
    as_json: Json = False,
) -> None:
    """Modifie le profil du projet : porteur, nom, ville, région… (coordinateur). La date d'ouverture se change
    avec `planned-opening`."""
    given = {"name": holder_name, "email": holder_email}  # both or none: a holder is a name and an address
    holder = {field: value for field, value in given.items() if value is not None} or None
    with checked_input(PROFILE_OPTIONS):
        body = ProfileBody(name=name, region=region, department=department, city=city, academy=academy,
                           trades=trade or None, diplomas=diploma or None, capacity=capacity, holder=holder,
                           reason=reason)  # fmt: skip
    show(api.send("PATCH", f"/projects/{project_id}/profile", body), as_json, render_status)


@api_command
def migrate(
    api: ApiClient,
    project_id: Annotated[str | None, typer.Argument(help="Le projet ; sans lui, --process.")] = None,
    process: Annotated[
        str | None, typer.Option(help="Tous les projets en cours (actifs ou en pause) de ce parcours : fnep, demo.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Montre ce qui changerait, sans rien changer.")] = False,
    reason: Annotated[str | None, typer.Option(help="Pourquoi (obligatoire sans --dry-run).")] = None,
    as_json: Json = False,
) -> None:
    """Passe un projet, ou tous ceux d'un parcours, à la version livrée de leur parcours (coordinateur).

    Chaque projet d'abord essayé à blanc : un projet refusé (une étape commencée disparaîtrait…) est laissé tel
    quel, avec la raison ; la sortie vaut 1 s'il y en a un.
    """
    if (project_id is None) == (process is None):
        typer.echo("Erreur : donnez un projet, ou --process pour tous les projets en cours d'un parcours", err=True)
        raise typer.Exit(2)
    body = None
    if not dry_run:
        if reason is None:
            typer.echo("Erreur : --reason est obligatoire (ou --dry-run pour voir ce qui changerait)", err=True)
            raise typer.Exit(2)
        with checked_input():
            body = MigrateBody(reason=reason)
    ids = [project_id] if project_id is not None else _running_projects(api, str(process))
    plans = [api.get(f"/projects/{id_}/migration") for id_ in ids]
    for plan in plans:
        plan["migrated"] = False
        if body is not None and plan["refusal"] is None:
            # The version the dry run saw: refused if another was shipped in between.
            to_version = body.model_copy(update={"process_version": plan["to_version"]})
            api.send("POST", f"/projects/{plan['project_id']}/migrate", to_version)
            plan["migrated"] = True
    show(plans, as_json, render_migrations)
    if any(plan["refusal"] is not None and not plan["up_to_date"] for plan in plans):
        raise typer.Exit(1)


def _running_projects(api: ApiClient, process: str) -> list[str]:
    """The portfolio's projects of `process` that still accept commands (active or paused)."""
    running = {ProjectState.ACTIVE.value, ProjectState.PAUSED.value}
    rows = api.all_pages("/projects", {"limit": "500"})
    return [row["project_id"] for row in rows if row["process"] == process and row["state"] in running]


def render_migrations(plans: list[dict[str, Any]]) -> None:
    """One paragraph per project: what moved (or would), why not, or already there; then the counts."""
    if not plans:
        typer.echo("Aucun projet en cours de ce parcours.")
        return
    for plan in plans:
        where = f"{plan['project_id']} : version {plan['from_version']} → {plan['to_version']}"
        if plan["up_to_date"]:
            typer.echo(f"{plan['project_id']} : à jour (version {plan['from_version']})")
        elif plan["refusal"] is not None:
            typer.echo(f"{where} refusé : {plan['refusal']}")
        else:
            typer.echo(f"{where} {'faite' if plan['migrated'] else 'possible'}")
            for change in plan["changes"][1:]:
                typer.echo(f"  - {change}")
    moved = sum(1 for p in plans if p["migrated"])
    possible = sum(1 for p in plans if p["refusal"] is None and not p["migrated"])
    refused = sum(1 for p in plans if p["refusal"] is not None and not p["up_to_date"])
    current = sum(1 for p in plans if p["up_to_date"])
    counts = [f"{moved} migrés"] if moved else []
    counts += [f"{possible} possibles"] if possible else []
    typer.echo(", ".join([*counts, f"{refused} refusés", f"{current} à jour"]))


report_app = typer.Typer(
    help="Le portefeuille en chiffres (coordinateur) ; « report path » : où les projets perdent du temps.",
)
#: `labellisation report --json path`: the group's --json, kept for the sub-command (ctx.meta is shared).
REPORT_JSON = "labellisation.report.json"


def _api(ctx: typer.Context, api_url: str | None, token: str | None) -> ApiClient:
    """The root callback's ApiClient, with the options given after the command (as `api_command` does)."""
    api = ctx.find_object(ApiClient)
    if api is None:
        raise RuntimeError("no ApiClient: the API commands run under the root callback (labellisation.cli.app)")
    api.use(api_url, token)
    return api


@report_app.callback(invoke_without_command=True)
def report(ctx: typer.Context, as_json: Json = False, api_url: ApiUrlAfter = None, token: TokenAfter = None) -> None:
    """Le portefeuille en chiffres (coordinateur) ; « report path » : où les projets perdent du temps."""
    # `labellisation report` alone is the portfolio report, as it has always been (the contract).
    api = _api(ctx, api_url, token)
    if ctx.invoked_subcommand is not None:
        ctx.meta[REPORT_JSON] = as_json
        return
    show(api.get("/reports/portfolio"), as_json, render_report)


#: The years `GET /reports/path` accepts.
YEARS = range(2000, 2101)


@report_app.command("path")
def report_path(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="Une région : nom ou identifiant (Bretagne, bretagne).")] = None,
    year: Annotated[int | None, typer.Option(help="L'année de démarrage des projets, ex. 2027.")] = None,
    process: Annotated[str | None, typer.Option(help="Le parcours : fnep ou demo (défaut : celui du serveur).")] = None,
    as_json: Json = False,
    api_url: ApiUrlAfter = None,
    token: TokenAfter = None,
) -> None:
    """Où les projets perdent du temps : jours par étape, délais, demandes de modifications, entonnoir."""
    if year is not None and year not in YEARS:
        typer.echo(f"Erreur : --year : une année entre {YEARS.start} et {YEARS.stop - 1} (« {year} »)", err=True)
        raise typer.Exit(2)
    params = {k: str(v) for k, v in {"region": region, "year": year, "process": process}.items() if v is not None}
    path = "/reports/path" + (f"?{urlencode(params)}" if params else "")
    api = _api(ctx, api_url, token)
    show(api.get(path), as_json or bool(ctx.meta.get(REPORT_JSON)), render_path_report)


cohort_app = typer.Typer(help="Les résultats des cohortes (à partir de l'amorçage).", no_args_is_help=True)


@cohort_app.command("record")
@api_command
def cohort_record(
    api: ApiClient,
    project_id: str,
    label: Annotated[str, typer.Option(help="Nom de la cohorte, ex. 2027-2029.")],
    enrolled: Annotated[int, typer.Option(min=0, help="Jeunes inscrits.")],
    dropouts: Annotated[int, typer.Option(min=0, help="Abandons en cours de formation.")],
    presented: Annotated[int, typer.Option(min=0, help="Présentés au diplôme.")],
    passed: Annotated[int, typer.Option(min=0, help="Diplômés.")],
    positive_exits: Annotated[int, typer.Option(min=0, help="Sorties positives à six mois.")],
    job_offers: Annotated[int, typer.Option(min=0, help="Offres d'emploi reçues.")],
    as_json: Json = False,
) -> None:
    """Enregistre les résultats d'une cohorte (coordinateur, ou porteur du projet)."""
    with checked_input():
        body = Cohort(label=label, enrolled=enrolled, dropouts=dropouts, presented=presented, passed=passed,
                      positive_exits=positive_exits, job_offers=job_offers)  # fmt: skip
    show(api.send("POST", f"/projects/{project_id}/cohorts", body), as_json, render_status)


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
    app.add_typer(cohort_app, name="cohort")
    for command in (submit, decide, deadline, pause, resume, abandon):
        app.command()(command)
    app.add_typer(report_app, name="report")
    app.command("planned-opening")(planned_opening)
    app.command("profile")(profile)
    app.command("migrate")(migrate)
