"""`labellisation users …` and `labellisation token …`: people and their API tokens, in the records database.

These commands are the operator's: they write to the records database (LABELLISATION_DATABASE_URL) directly,
not through the API. Bad input is one French line on stderr naming the option, exit 2, and nothing written.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from labellisation.catalogue import ROLE_LABELS
from labellisation.people import (
    Person,
    PersonError,
    UserRole,
    disable,
    enable,
    find_person,
    invite,
    list_people,
    normalise_email,
    set_daily_digest,
)
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.regions import BY_SLUG
from labellisation.settings import SettingsError, get_settings
from labellisation.text_safety import for_terminal
from labellisation.tokens import ApiUser, TokenInfo, create_token, expiry, list_tokens, revoke_token

T = TypeVar("T")
PARIS = ZoneInfo("Europe/Paris")
out = Console()

users_app = typer.Typer(
    help="Les personnes : invitations, liste, désactivation, « Votre point du jour ».", no_args_is_help=True
)
token_app = typer.Typer(help="Jetons d'accès à l'API : création, liste, révocation.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Sortie JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(token_app, name="token")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"Erreur : {message}", err=True)
    return typer.Exit(code)


def _refused(error: PersonError, arguments: tuple[str, ...] = ()) -> typer.Exit:
    """A PersonError as the command line names its option (`--email : « x » n'est pas…`) or argument (`EMAIL : …`)."""
    where = error.field.upper() if error.field in arguments else f"--{error.field}"
    return _fail(f"{where} : {error.detail}")


def _run(work: Callable[[RecordStore], Awaitable[T]], arguments: tuple[str, ...] = ()) -> T:
    """Run `work` on the records database (migrated first, as the API and worker do), PersonError → exit 2."""
    try:
        settings = get_settings()
    except SettingsError as error:
        raise _fail(str(error)) from None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.records_url()

    async def run() -> T:
        await asyncio.to_thread(upgrade, url)
        store = RecordStore.from_url(url)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except PersonError as error:
        raise _refused(error, arguments) from None


def _moment(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if value is not None else "—"


def _regions(slugs: list[str]) -> str:
    return ", ".join(BY_SLUG[s].name if s in BY_SLUG else s for s in slugs) or "toutes"


def _digest(person: Person) -> str:
    """How the person receives their reminders and news, in French."""
    return "« Votre point du jour » chaque matin ouvré" if person.daily_digest else "chaque e-mail dès qu'il part"


def _person_line(person: Person) -> str:
    role = ROLE_LABELS[person.role.value]
    scope = ", ".join(person.projects) if person.role is UserRole.HOLDER else f"régions : {_regions(person.regions)}"
    return f"{person.name} <{person.email}>, {role} ({scope})"


@users_app.command("invite")
def users_invite(
    role: Annotated[UserRole, typer.Option(help="coordinator, reviewer ou holder.")],
    name: Annotated[str, typer.Option(help="Nom de la personne.")],
    email: Annotated[str, typer.Option(help="Son adresse (unique, casse indifférente).")],
    region: Annotated[
        list[str] | None,
        typer.Option(help="Région d'un coordinateur ou relecteur : identifiant ou nom (répétable ; aucune : toutes)."),
    ] = None,
    project: Annotated[list[str] | None, typer.Option(help="Projet d'un porteur (répétable, au moins un).")] = None,
) -> None:
    """Invite une personne : la crée, active, avec son rôle et ses régions ou ses projets."""
    person = _run(
        lambda store: invite(store, role=role, name=name, email=email, regions=region or [], projects=project or [])
    )
    typer.echo(f"Personne invitée : {_person_line(person)}.")
    typer.echo(
        f"Pour lui donner un jeton d'API : labellisation token create --email {person.email} [--expires-in P90D]"
    )


def _person_json(person: Person) -> dict[str, Any]:
    return person.model_dump(mode="json")


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """Les personnes, par rôle puis par nom."""
    people = _run(list_people)
    if as_json:
        typer.echo(json.dumps([_person_json(p) for p in people], ensure_ascii=False, indent=2))
        return
    if not people:
        typer.echo("Aucune personne : labellisation users invite --role … --name … --email …")
        return
    table = Table("adresse", "nom", "rôle", "régions ou projets", "état", "point du jour", "invitée le", "vue le")
    for p in people:
        scope = ", ".join(p.projects) if p.role is UserRole.HOLDER else _regions(p.regions)
        table.add_row(
            for_terminal(p.email), for_terminal(p.name), ROLE_LABELS[p.role.value], for_terminal(scope),
            "active" if p.active else "désactivée", "oui" if p.daily_digest else "non", _moment(p.created_at),
            _moment(p.last_seen_at),
        )  # fmt: skip
    out.print(table)


@users_app.command("disable")
def users_disable(email: Annotated[str, typer.Argument(help="Adresse de la personne.")]) -> None:
    """Désactive une personne : ses jetons sont refusés dès la requête suivante, ses sessions web sont fermées."""
    person = _run(lambda store: disable(store, email), arguments=("email",))
    typer.echo(
        f"{person.name} <{person.email}> désactivée : ses jetons sont refusés dès la prochaine requête "
        "(« compte désactivé »), ses sessions web sont fermées."
    )


@users_app.command("enable")
def users_enable(email: Annotated[str, typer.Argument(help="Adresse de la personne.")]) -> None:
    """Réactive une personne désactivée (ses jetons non révoqués et non expirés valent de nouveau)."""
    person = _run(lambda store: enable(store, email), arguments=("email",))
    typer.echo(f"{person.name} <{person.email}> de nouveau active.")


@users_app.command("digest")
def users_digest(
    email: Annotated[str, typer.Argument(help="Adresse de la personne.")],
    daily: Annotated[
        bool,
        typer.Option(
            "--on/--off",
            help="--on : un seul e-mail chaque jour ouvré à 9 h (« Votre point du jour »), pour tous ses projets ; "
            "--off : chaque e-mail dès qu'il part.",
        ),
    ],
) -> None:
    """Choisit comment une personne reçoit ses rappels et nouvelles : chaque e-mail, ou « Votre point du jour ».

    Rien n'est perdu : avec --off, ce qui attendait le point du jour part dans le prochain.
    """
    person = _run(lambda store: set_daily_digest(store, email, daily), arguments=("email",))
    typer.echo(f"{person.email} : {_digest(person)}.")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="Adresse de la personne (invitée avec `users invite`).")],
    expires_in: Annotated[
        str | None, typer.Option(help="Durée de validité, ISO 8601 (P30D, P6M) ; par défaut aucune fin.")
    ] = None,
    expires_on: Annotated[
        str | None, typer.Option(help="Dernier jour de validité, AAAA-MM-JJ (heure de Paris).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="Libellé, pour le reconnaître dans `token list`.")] = None,
    role: Annotated[
        UserRole | None, typer.Option(help="Ancienne forme : rôle de la personne, créée si elle n'existe pas.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Ancienne forme, avec --role : nom de la personne.")] = None,
    project: Annotated[
        list[str] | None, typer.Option(help="Ancienne forme, avec --role holder : projet du porteur (répétable).")
    ] = None,
) -> None:
    """Crée un jeton pour une personne et l'affiche une seule fois (seule son empreinte est conservée).

    `--role --name --email [--project]` (l'ancienne forme) crée la personne si besoin.
    """
    if role is None and (name is not None or project):
        raise _fail("--role : --name et --project vont avec --role (ancienne forme) ; sinon --email seul suffit")
    if role is not None and name is None:
        raise _fail("--name : le nom de la personne est requis avec --role")

    async def create(store: RecordStore) -> tuple[str, Person | None, datetime | None]:
        ends = expiry(expires_in, expires_on)
        owner: ApiUser | Person
        if role is None:
            found = await find_person(store, email)
            if found is None:
                raise PersonError(
                    "email",
                    f"aucune personne n'a l'adresse « {email} » : invitez-la d'abord (labellisation users invite)",
                )
            owner = found
        else:
            owner = _compat_user(role, name or "", email, project or [])
        token = await create_token(store, owner, expires_at=ends, label=label)
        return token, await find_person(store, email), ends

    token, person, ends = _run(create)
    typer.echo(token)
    whose = f"{person.name} <{person.email}>" if person else email
    until = f"valable jusqu'au {_moment(ends)}" if ends else "sans fin (révocable : labellisation token revoke)"
    typer.echo(f"Jeton de {whose}, {until} ; il n'est affiché qu'une fois.", err=True)


def _compat_user(role: UserRole, name: str, email: str, projects: list[str]) -> ApiUser:
    """The old `--role --name --email [--project]`: checked as an invitation would be (PersonError)."""
    return ApiUser(role=role, name=name, email=normalise_email(email), projects=projects)


def _token_json(info: TokenInfo, now: datetime) -> dict[str, Any]:
    return {**info.model_dump(mode="json"), "state": info.state(now)}


@token_app.command("list")
def token_list(
    email: Annotated[str | None, typer.Option(help="Les jetons de cette personne seulement.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Les jetons (jamais le jeton lui-même) : id, début, libellé, personne, dates, état, dernier usage."""
    tokens = _run(lambda store: list_tokens(store, email))
    now = datetime.now(UTC)
    if as_json:
        typer.echo(json.dumps([_token_json(t, now) for t in tokens], ensure_ascii=False, indent=2))
        return
    if not tokens:
        typer.echo("Aucun jeton.")
        return
    table = Table("id", "début", "libellé", "personne", "rôle", "créé le", "expire le", "état", "dernier usage")
    for t in tokens:
        state = t.state(now)
        if t.revoked_at is not None:
            state = f"révoqué le {_moment(t.revoked_at)}"
        table.add_row(
            t.id, f"{t.prefix}…" if t.prefix else "—", for_terminal(t.label or "—"),
            for_terminal(f"{t.name} <{t.email}>"),
            ROLE_LABELS[t.role.value], _moment(t.created_at), _moment(t.expires_at), state, _moment(t.last_used_at),
        )  # fmt: skip
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="Le jeton, son début (lab_…) ou son id (colonne id de `token list`).")],
) -> None:
    """Révoque un jeton : refusé (« jeton révoqué ») dès la requête suivante, par chaque processus de l'API."""
    info, revoked_now = _run(lambda store: revoke_token(store, token), arguments=("token",))
    whose = f"{info.name} <{info.email}>"
    if revoked_now:
        typer.echo(f"Jeton {info.id} de {whose} révoqué : il est refusé dès la prochaine requête.")
    else:
        typer.echo(f"Jeton {info.id} de {whose} déjà révoqué le {_moment(info.revoked_at)}.")
