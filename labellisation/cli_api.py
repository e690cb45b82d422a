"""The command line's API commands: the HTTP API from a terminal.

Tables for people (dates the French way, overdue in red), `--json` for
scripts. Exit codes: 0 done; 1 refused, by the API (its message is shown as
is) or before sending (invalid content, one line per option); 2 bad usage;
3 API unreachable or failing.

The root callback makes one `ApiClient` (`--api-url`, `--token` or their
environment variables) and keeps it in the Typer context; every command gets
it as its first argument (`api_command`). Request bodies are the API's own
models (`labellisation.api.schemas`), so a field renamed there breaks this
file at type-check time.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

import httpx
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

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
from labellisation.french_calendar import format_date_fr
from labellisation.path.transitions import STATE_LABELS, STATUS_LABELS

DEFAULT_API_URL = "http://127.0.0.1:8000"
CONNECTION = "Connexion à l'API"
ApiUrl = Annotated[
    str, typer.Option("--api-url", envvar="LABELLISATION_API_URL", help="Adresse de l'API.", rich_help_panel=CONNECTION)
]
Token = Annotated[
    str,
    typer.Option(
        "--token", envvar="LABELLISATION_TOKEN", help="Jeton d'accès.", show_default=False, rich_help_panel=CONNECTION
    ),
]
#: The same options after the command, as scripts have always written them: they win over those before it.
ApiUrlAfter = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help=f"Adresse de l'API ; aussi avant la commande, ou LABELLISATION_API_URL (défaut : {DEFAULT_API_URL}).",
        rich_help_panel=CONNECTION,
    ),
]
TokenAfter = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Jeton d'accès ; aussi avant la commande, ou LABELLISATION_TOKEN.",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Sortie JSON pour les scripts.")]

out = Console()
err = Console(stderr=True)

STATE_FR: dict[str, str] = {k.value: v for k, v in STATE_LABELS.items()}
STATUS_FR: dict[str, str] = {k.value: v for k, v in STATUS_LABELS.items()}


class ApiClient:
    """The HTTP API for one command line: its address, the token, one connection, and failures as exit codes."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self._http: httpx.Client | None = None

    def use(self, url: str | None, token: str | None) -> None:
        """Options given after the command replace those given before it (or by the environment)."""
        self.url = url if url is not None else self.url
        self.token = token if token is not None else self.token

    def get(self, path: str) -> Any:
        return self._send("GET", path).json()

    def send(self, method: str, path: str, body: BaseModel) -> Any:
        return self._send(method, path, body.model_dump(mode="json", exclude_none=True)).json()

    def all_pages(self, path: str, params: dict[str, str]) -> list[Any]:
        """Every page of a paged list (`X-Next-After` says where the next one starts)."""
        items: list[Any] = []
        while True:
            response = self._send("GET", path, params=params)
            items += response.json()
            after = response.headers.get("X-Next-After")
            if not after:
                return items
            params = {**params, "after": after}

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def _send(self, method: str, path: str, body: Any = None, params: Any = None) -> httpx.Response:
        if self._http is None:
            self._http = httpx.Client(timeout=60)
        try:
            response = self._http.request(
                method, self.url.rstrip("/") + path, json=body, params=params,
                headers={"Authorization": f"Bearer {self.token}"},
            )  # fmt: skip
        except httpx.HTTPError as error:
            err.print(f"Erreur : API injoignable à {self.url} ({type(error).__name__})")
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


def open_api_client(ctx: typer.Context, api_url: str, token: str) -> None:
    """For the root callback: the one ApiClient of this command line, in `ctx.obj` (no connection yet)."""
    api = ApiClient(api_url, token)
    ctx.obj = api
    ctx.call_on_close(api.close)


def api_command(func: Callable[..., None]) -> Callable[..., None]:
    """`func(api, ...)` as a Typer command: `api` is the callback's ApiClient.

    The command also takes `--api-url`/`--token` after its name (`labellisation projects list --token T`,
    the form scripts have always used); they apply to that same client.
    """
    signature = inspect.signature(func, eval_str=True)
    own = list(signature.parameters.values())[1:]  # all but `api`
    keyword = inspect.Parameter.KEYWORD_ONLY
    added = [
        inspect.Parameter("ctx", keyword, annotation=typer.Context),
        inspect.Parameter("api_url", keyword, annotation=ApiUrlAfter, default=None),
        inspect.Parameter("token", keyword, annotation=TokenAfter, default=None),
    ]

    @functools.wraps(func)
    def command(ctx: typer.Context, api_url: str | None, token: str | None, **options: Any) -> None:
        api = ctx.find_object(ApiClient)
        if api is None:
            raise RuntimeError("no ApiClient: the API commands run under the root callback (labellisation.cli.app)")
        api.use(api_url, token)
        func(api, **options)

    command.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    return command


#: French for pydantic's error types, from the error's context.
_REASONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda _: "obligatoire",
    "string_too_short": lambda c: (
        "ne peut pas être vide" if c["min_length"] == 1 else f"{c['min_length']} caractères au moins"
    ),
    "string_too_long": lambda c: f"{c['max_length']} caractères au plus",
    "string_pattern_mismatch": lambda c: f"forme invalide (attendue : {c['pattern']})",
    "too_short": lambda c: f"{c['min_length']} au moins",
    "too_long": lambda c: f"{c['max_length']} au plus",
    "enum": lambda c: "valeurs possibles : " + str(c["expected"]).replace(" or ", " ou "),
}


def _reason(item: Any) -> str:
    kind, context = item["type"], item.get("ctx") or {}
    if kind in _REASONS:
        return _REASONS[kind](context)
    if kind.startswith("date_"):
        return "date invalide, attendue AAAA-MM-JJ"
    if "email address" in item["msg"]:
        return "adresse e-mail invalide"
    return str(item["msg"]).removeprefix("Value error, ")


def _part(draft: BaseModel) -> dict[str, Any]:
    """A part of a body (`Holder.model_construct(...)`: its field names checked by mypy), validated with the body.

    Validated in the same pass as the body, every bad field is reported at once, by its full path (`holder.email`).
    """
    return draft.model_dump()


def _option(loc: tuple[int | str, ...], names: dict[str, str]) -> str:
    """The option (or argument) a user typed for a body field: `names` by the field's path without list indices
    (`holder.email`) or its first part (`documents`), else `--field-name`; "" for the body as a whole."""
    path = [str(part) for part in loc if not isinstance(part, int)]
    if not path:
        return ""
    return names.get(".".join(path)) or names.get(path[0]) or "--" + path[0].replace("_", "-")


@contextmanager
def checked_input(names: dict[str, str] | None = None) -> Iterator[None]:
    """Bodies built inside are checked before sending: a ValidationError becomes one French line per option, exit 1
    (as when the API refused the same content)."""
    try:
        yield
    except ValidationError as error:
        lines = ["Erreur : contenu invalide, rien n'a été envoyé"]
        for item in error.errors():
            name, given = _option(item["loc"], names or {}), item["input"]
            shown = f" (« {given} »)" if isinstance(given, str) and given.strip() and len(given) <= 80 else ""
            lines.append(f"  {name} : {_reason(item)}{shown}" if name else f"  {_reason(item)}")
        typer.echo("\n".join(lines), err=True)
        raise typer.Exit(1) from None


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
    holder = _part(Holder.model_construct(name=holder_name, email=holder_email))
    with checked_input(START_OPTIONS):
        body = ProjectStart(project_id=project_id, name=name, region=region, department=department, city=city,
                            trades=trade, diplomas=diploma or [], holder=holder, planned_opening=planned_opening,
                            process=process)  # fmt: skip
    show(api.send("POST", "/projects", body), as_json, render_status)


@projects_app.command("list")
@api_command
def projects_list(
    api: ApiClient,
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
    documents = [_part(Document.model_construct(title=title, url=url)) for title, url in map(_document, document)]
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


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
    for command in (submit, decide, deadline, pause, resume, abandon, report):
        app.command()(command)
