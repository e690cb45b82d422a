"""The command line's connection to the API: one `ApiClient`, its options, and input checked before sending.

The root callback makes one `ApiClient` (`--api-url`, `--token` or their environment variables) and keeps it
in the Typer context; every API command gets it as its first argument (`api_command`). Exit codes: 0 done;
1 refused, by the API (its message is shown as is) or before sending (invalid content, one line per option);
2 bad usage (a missing token); 3 API unreachable or failing.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console

DEFAULT_API_URL = "http://127.0.0.1:8000"
CONNECTION = "Connexion à l'API"
ApiUrl = Annotated[
    str, typer.Option("--api-url", envvar="LABELLISATION_API_URL", help="Adresse de l'API.", rich_help_panel=CONNECTION)
]
Token = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="LABELLISATION_TOKEN",
        show_default=False,
        rich_help_panel=CONNECTION,
        help="Jeton d'accès ; « - » : le lire sur l'entrée standard (invisible dans `ps`).",
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
        help="Jeton d'accès ; aussi avant la commande, ou LABELLISATION_TOKEN ; « - » : le lire sur l'entrée standard.",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Sortie JSON pour les scripts.")]

err = Console(stderr=True, soft_wrap=True)  # a message is one line, whatever the width
MISSING_TOKEN = (
    "Erreur : aucun jeton d'accès. Donnez-le avec --token <jeton> ou la variable LABELLISATION_TOKEN ; "
    "avec `make run`, après `source .data/demo-tokens.env` : "
    "LABELLISATION_TOKEN=$LABELLISATION_COORDINATOR_TOKEN (ou _REVIEWER_, _HOLDER_)."
)


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
        if self.token == "-":  # `--token -`: read from standard input, never visible in `ps`
            self.token = sys.stdin.readline().strip()
        if not self.token.strip():
            err.print(MISSING_TOKEN, markup=False)
            raise typer.Exit(2)
        if self._http is None:
            self._http = httpx.Client(timeout=60)
        try:
            response = self._http.request(
                method, self.url.rstrip("/") + path, json=body, params=params,
                headers={"Authorization": f"Bearer {self.token}"},
            )  # fmt: skip
        except httpx.LocalProtocolError:
            err.print("Erreur : jeton illisible (espace, retour à la ligne ou caractère non ASCII) : "
                      "recopiez-le tel que `labellisation token create` l'a affiché", markup=False)  # fmt: skip
            raise typer.Exit(2) from None
        except httpx.HTTPError as error:
            err.print(f"Erreur : API injoignable à {self.url} ({type(error).__name__})")
            raise typer.Exit(3) from None
        if response.status_code == 503:  # no worker answered: the API says what became of the command
            err.print(f"Erreur : {_detail(response)}", markup=False)
            raise typer.Exit(3)
        if response.status_code >= 500:
            err.print(f"Erreur : l'API a échoué ({response.status_code})")
            raise typer.Exit(3)
        if response.status_code >= 400:
            err.print(f"Refusé ({response.status_code}) : {_detail(response)}", markup=False)
            raise typer.Exit(1)
        return response


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text


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


def body_part(draft: BaseModel) -> dict[str, Any]:
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
