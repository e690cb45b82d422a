"""The command line's API commands: the HTTP API from a terminal.

Tables for people (dates the French way, overdue in red), `--json` for
scripts. Exit codes: 0 done; 1 refused by the API (its message is shown as
is); 2 bad usage; 3 API unreachable or failing.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from labellisation.french_calendar import format_date_fr
from labellisation.path.transitions import STATE_LABELS, STATUS_LABELS

ApiUrl = Annotated[str, typer.Option("--api-url", envvar="LABELLISATION_API_URL", help="Adresse de l'API.")]
Token = Annotated[str, typer.Option("--token", envvar="LABELLISATION_TOKEN", help="Jeton d'accès.")]
Json = Annotated[bool, typer.Option("--json", help="Sortie JSON pour les scripts.")]

out = Console()
err = Console(stderr=True)

STATE_FR: dict[str, str] = {k.value: v for k, v in STATE_LABELS.items()}
STATUS_FR: dict[str, str] = {k.value: v for k, v in STATUS_LABELS.items()}


def request(api_url: str, token: str, method: str, path: str, body: Any = None, params: Any = None) -> Any:
    return _send(api_url, token, method, path, body, params).json()


def request_all_pages(api_url: str, token: str, path: str, params: dict[str, str]) -> list[Any]:
    """Every page of a paged list (`X-Next-After` says where the next one starts)."""
    items: list[Any] = []
    while True:
        response = _send(api_url, token, "GET", path, params=params)
        items += response.json()
        after = response.headers.get("X-Next-After")
        if not after:
            return items
        params = {**params, "after": after}


def _send(api_url: str, token: str, method: str, path: str, body: Any = None, params: Any = None) -> httpx.Response:
    try:
        response = httpx.request(
            method, api_url.rstrip("/") + path, json=body, params=params, timeout=60,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    except httpx.HTTPError as error:
        err.print(f"Erreur : API injoignable à {api_url} ({type(error).__name__})")
        raise typer.Exit(3) from None
    if response.status_code >= 500:
        err.print(f"Erreur : l'API a échoué ({response.status_code})")
        raise typer.Exit(3)
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        err.print(f"Refusé ({response.status_code}) : {detail}", markup=False)
        raise typer.Exit(1)
    return response


def _date(value: str | None) -> str:
    if not value:
        return "—"
    return format_date_fr(datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value))


def show(data: Any, as_json: bool, render: Any) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        render(data)


def render_status(status: dict[str, Any]) -> None:
    out.print(f"[bold]{status['name']}[/bold] ({status['project_id']}) — {STATE_FR[status['state']]}, "
              f"phase : {status['current_stage_label']}")  # fmt: skip
    table = Table("étape", "statut", "début", "échéance", "soumise", "décidée", "retard")
    for step in status["steps"]:
        late = step["days_overdue"]
        table.add_row(
            step["label"], STATUS_FR[step["status"]], _date(step["started_at"]), _date(step["due_at"]),
            _date(step["submitted_at"]), _date(step["decided_at"]),
            f"[red]{late} j[/red]" if late else "",
        )  # fmt: skip
    out.print(table)
    if status.get("next_reminder"):
        reminder = status["next_reminder"]
        out.print(f"Prochain rappel : {reminder['kind']} à {reminder['to']}, le {_date(reminder['at'])}")


def render_portfolio(items: list[dict[str, Any]]) -> None:
    table = Table("projet", "nom", "région", "état", "phase", "échéance")
    for item in items:
        due = _date(item["next_due_at"])
        table.add_row(item["project_id"], item["name"], item["region"], STATE_FR[item["state"]],
                      item["current_stage"], f"[red]{due}[/red]" if item["overdue"] else due)  # fmt: skip
    out.print(table)


def render_history(events: list[dict[str, Any]]) -> None:
    table = Table("date", "événement", "étape", "acteur", "commentaire")
    for e in events:
        table.add_row(_date(e["at"]), e["kind"], e["step"] or "", e["actor"] or "", e["comment"] or "")
    out.print(table)


def render_report(report: dict[str, Any]) -> None:
    out.print(f"[bold]{report['projects']} projets[/bold]")
    for title, key in (("par phase", "by_stage"), ("par région", "by_region"), ("par état", "by_state")):
        out.print(f"{title} : " + ", ".join(f"{k} {v}" for k, v in sorted(report[key].items())))
    for item in report["overdue"]:
        out.print(f"[red]en retard[/red] {item['project_id']} ({item['current_stage']}) : {item['days_overdue']} j")


projects_app = typer.Typer(help="Les projets d'école.", no_args_is_help=True)


@projects_app.command("start")
def projects_start(
    project_id: Annotated[str, typer.Option("--id", help="Identifiant, ex. edp-belfort.")],
    name: Annotated[str, typer.Option(help="Nom de l'école.")],
    region: Annotated[str, typer.Option()],
    department: Annotated[str, typer.Option()],
    city: Annotated[str, typer.Option()],
    trade: Annotated[list[str], typer.Option(help="Métier (répétable).")],
    holder_name: Annotated[str, typer.Option()],
    holder_email: Annotated[str, typer.Option()],
    planned_opening: Annotated[str, typer.Option(help="Date d'ouverture prévue, AAAA-MM-JJ.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    token: Token = "",
    diploma: Annotated[list[str] | None, typer.Option(help="Diplôme (répétable).")] = None,
    process: Annotated[str | None, typer.Option(help="fnep ou demo (défaut : celui du serveur).")] = None,
    as_json: Json = False,
) -> None:
    """Démarre un projet (coordinateur)."""
    body = {"project_id": project_id, "name": name, "region": region, "department": department, "city": city,
            "trades": trade, "diplomas": diploma or [], "holder": {"name": holder_name, "email": holder_email},
            "planned_opening": planned_opening, "process": process}  # fmt: skip
    show(request(api_url, token, "POST", "/projects", body), as_json, render_status)


@projects_app.command("list")
def projects_list(
    api_url: ApiUrl = "http://127.0.0.1:8000",
    token: Token = "",
    stage: str | None = None,
    region: str | None = None,
    state: str | None = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Seulement les projets en retard.")] = False,
    page_size: Annotated[
        int, typer.Option(min=1, max=1000, help="Projets par requête (toutes les pages sont lues).")
    ] = 500,
    as_json: Json = False,
) -> None:
    """Le portefeuille, avec filtres (toutes les pages)."""
    params = {k: v for k, v in {"stage": stage, "region": region, "state": state}.items() if v}
    params["limit"] = str(page_size)
    if overdue:
        params["overdue"] = "true"
    show(request_all_pages(api_url, token, "/projects", params), as_json, render_portfolio)


@projects_app.command("show")
def projects_show(project_id: str, api_url: ApiUrl = "http://127.0.0.1:8000", token: Token = "",
                  as_json: Json = False) -> None:  # fmt: skip
    """Où en est un projet."""
    show(request(api_url, token, "GET", f"/projects/{project_id}"), as_json, render_status)


@projects_app.command("history")
def projects_history(project_id: str, api_url: ApiUrl = "http://127.0.0.1:8000", token: Token = "",
                     as_json: Json = False) -> None:  # fmt: skip
    """Tous les événements d'un projet."""
    show(request(api_url, token, "GET", f"/projects/{project_id}/history"), as_json, render_history)


def _document(text: str) -> dict[str, str]:
    title, sep, url = text.rpartition("=")
    if not sep or not title:
        raise typer.BadParameter(f"document {text!r} : attendu TITRE=URL")
    return {"title": title, "url": url}


def submit(
    project_id: str,
    step: str,
    document: Annotated[list[str], typer.Option(help="TITRE=URL (répétable).")],
    comment: str = "",
    api_url: ApiUrl = "http://127.0.0.1:8000",
    token: Token = "",
    as_json: Json = False,
) -> None:
    """Le porteur soumet une étape."""
    body = {"documents": [_document(d) for d in document], "comment": comment}
    show(request(api_url, token, "POST", f"/projects/{project_id}/steps/{step}/submissions", body), as_json,
         render_status)  # fmt: skip


def decide(
    project_id: str,
    step: str,
    decision: Annotated[str, typer.Argument(help="approve, request_changes ou reject.")],
    comment: str = "",
    decision_id: Annotated[str | None, typer.Option(help="Rend une nouvelle tentative sans effet.")] = None,
    api_url: ApiUrl = "http://127.0.0.1:8000",
    token: Token = "",
    as_json: Json = False,
) -> None:
    """La FNEP décide d'une étape soumise."""
    body = {"decision": decision, "comment": comment, "decision_id": decision_id}
    show(request(api_url, token, "POST", f"/projects/{project_id}/steps/{step}/decisions", body), as_json,
         render_status)  # fmt: skip


def deadline(
    project_id: str,
    step: str,
    due_on: Annotated[str, typer.Argument(help="Nouvelle échéance, AAAA-MM-JJ.")],
    reason: Annotated[str, typer.Option(help="Pourquoi.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    token: Token = "",
    as_json: Json = False,
) -> None:
    """Déplace l'échéance d'une étape (coordinateur)."""
    body = {"due_on": due_on, "reason": reason}
    show(request(api_url, token, "PUT", f"/projects/{project_id}/steps/{step}/deadline", body), as_json,
         render_status)  # fmt: skip


def pause(
    project_id: str,
    reason: Annotated[str, typer.Option()],
    review_on: Annotated[str, typer.Option(help="Date de réexamen, AAAA-MM-JJ.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    token: Token = "",
    as_json: Json = False,
) -> None:
    """Met un projet en pause (coordinateur)."""
    body = {"reason": reason, "review_on": review_on}
    show(request(api_url, token, "POST", f"/projects/{project_id}/pause", body), as_json, render_status)


def resume(project_id: str, api_url: ApiUrl = "http://127.0.0.1:8000", token: Token = "",
           as_json: Json = False) -> None:  # fmt: skip
    """Reprend un projet en pause (coordinateur)."""
    show(request(api_url, token, "POST", f"/projects/{project_id}/resume", {}), as_json, render_status)


def abandon(
    project_id: str,
    reason: Annotated[str, typer.Option()],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    token: Token = "",
    as_json: Json = False,
) -> None:
    """Abandonne un projet ; son dossier est conservé (coordinateur)."""
    show(request(api_url, token, "POST", f"/projects/{project_id}/abandon", {"reason": reason}), as_json,
         render_status)  # fmt: skip


def report(api_url: ApiUrl = "http://127.0.0.1:8000", token: Token = "", as_json: Json = False) -> None:
    """Le portefeuille en chiffres (coordinateur)."""
    show(request(api_url, token, "GET", "/reports/portfolio"), as_json, render_report)


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
    for command in (submit, decide, deadline, pause, resume, abandon, report):
        app.command()(command)
