"""The command line's API commands: the HTTP API from a terminal.

Tables for people (labellisation/cli_render.py), `--json` for scripts; the connection, options and input
checks are in labellisation/cli_client.py. Request bodies are the API's own models
(`labellisation.api.schemas`), so a field renamed there breaks this file at type-check time.
"""

from __future__ import annotations

from typing import Annotated

import typer

from labellisation.api.schemas import (
    AbandonBody,
    DeadlineBody,
    DecisionBody,
    Document,
    EmptyBody,
    Holder,
    PauseBody,
    ProjectStart,
    SubmissionBody,
)
from labellisation.catalogue import UnknownWord, parse_stage, parse_state
from labellisation.cli_client import ApiClient, Json, api_command, body_part, checked_input
from labellisation.cli_render import render_history, render_portfolio, render_report, render_status, show
from labellisation.path.state import Cohort
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
    region: Annotated[str, typer.Option()],
    department: Annotated[str, typer.Option()],
    city: Annotated[str, typer.Option()],
    trade: Annotated[list[str], typer.Option(help="Métier (répétable).")],
    holder_name: Annotated[str, typer.Option()],
    holder_email: Annotated[str, typer.Option()],
    planned_opening: Annotated[str, typer.Option(help="Date d'ouverture prévue, AAAA-MM-JJ.")],
    diploma: Annotated[list[str] | None, typer.Option(help="Diplôme (répétable).")] = None,
    process: Annotated[str | None, typer.Option(help="fnep ou demo (défaut : celui du serveur).")] = None,
    as_json: Json = False,
) -> None:
    """Démarre un projet (coordinateur)."""
    holder = body_part(Holder.model_construct(name=holder_name, email=holder_email))
    with checked_input(START_OPTIONS):
        body = ProjectStart(project_id=project_id, name=name, region=region, department=department, city=city,
                            trades=trade, diplomas=diploma or [], holder=holder, planned_opening=planned_opening,
                            process=process)  # fmt: skip
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
def report(api: ApiClient, as_json: Json = False) -> None:
    """Le portefeuille en chiffres (coordinateur)."""
    show(api.get("/reports/portfolio"), as_json, render_report)


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
    for command in (submit, decide, deadline, pause, resume, abandon, report):
        app.command()(command)
