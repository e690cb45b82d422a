"""`labellisation privacy …`: personal data (RGPD) of a person in the records database — export, anonymise.

Like `labellisation users …`, these commands write to the records database (LABELLISATION_DATABASE_URL)
directly. Bad input is one French line on stderr naming the option, exit 2; a refused anonymisation, exit 1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from labellisation.cli_people import _fail, _run
from labellisation.privacy import (
    Anonymisation,
    PrivacyRefused,
    anonymise,
    anonymise_plan,
    export_person,
    holders_past_retention,
)
from labellisation.records.store import RecordStore
from labellisation.settings import get_settings

privacy_app = typer.Typer(
    help="Données personnelles (RGPD) : tout ce qui est conservé sur une personne, ou son anonymisation.",
    no_args_is_help=True,
)

EmailOption = Annotated[str, typer.Option(help="Adresse de la personne (casse indifférente).")]


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")


@privacy_app.command("export")
def privacy_export(email: EmailOption) -> None:
    """Affiche en JSON tout ce qui est conservé sur une personne (jamais un jeton ni son empreinte)."""
    exported = _run(lambda store: export_person(store, email))
    typer.echo(json.dumps(exported, ensure_ascii=False, indent=2))


def _lines(changes: Anonymisation) -> list[str]:
    lines = [f"adresse remplacée par {changes.anonymous}, nom par « Personne anonymisée »"]
    if changes.user:
        lines.append("personne : anonymisée et désactivée")
    lines += [
        f"jetons révoqués : {changes.tokens}",
        f"sessions web fermées : {changes.sessions}",
        f"liens de connexion annulés : {changes.sign_in_links}",
        f"éléments du point du jour supprimés : {changes.digest_items}",
        f"projets (porteur) : {', '.join(changes.projects) or 'aucun'}",
        f"événements : {changes.events} (aucun supprimé : le parcours reste visible)",
        f"e-mails envoyés (destinataires) : {changes.reminders}",
    ]
    return [f"  - {line}" for line in lines]


@privacy_app.command("anonymise")
def privacy_anonymise(
    email: EmailOption,
    yes: Annotated[
        bool, typer.Option("--yes", help="Anonymise pour de bon ; sans lui, affiche ce qui changerait.")
    ] = False,
) -> None:
    """Anonymise une personne partout dans les données, en une transaction (sans --yes : ce qui changerait).

    Les événements restent : seuls l'adresse et le nom y sont remplacés. Refusé tant qu'elle porte un projet en
    cours ou en pause : changez d'abord son porteur.
    """

    async def work(store: RecordStore) -> tuple[Anonymisation, str | None]:
        if not yes:
            plan = await anonymise_plan(store, email)
            return plan, plan.refusal()
        try:
            return await anonymise(store, email, datetime.now(UTC)), None
        except PrivacyRefused as refused:
            return Anonymisation(email=email, anonymous=""), str(refused)

    changes, refusal = _run(work)
    if yes and refusal is not None:
        raise _fail(f"{refusal} ; rien n'a été modifié", 1)
    if not yes:
        typer.echo(f"Anonymisation de {changes.email} (rien n'est modifié sans --yes) :")
        typer.echo("\n".join(_lines(changes)))
        if refusal is not None:
            typer.echo(f"Elle serait refusée : {refusal}.")
        else:
            typer.echo(f"Pour anonymiser : labellisation privacy anonymise --email {changes.email} --yes")
        return
    typer.echo(f"{changes.email} anonymisée :")
    typer.echo("\n".join(_lines(changes)))


@privacy_app.command("purge")
def privacy_purge(
    yes: Annotated[
        bool, typer.Option("--yes", help="Anonymise pour de bon ; sans lui, affiche qui le serait.")
    ] = False,
) -> None:
    """Anonymise les porteurs des projets terminés depuis plus de LABELLISATION_PERSONAL_DATA_YEARS ans (5 par
    défaut) qui ne portent plus aucun projet en cours ; sans --yes, affiche qui le serait."""
    years = get_settings().personal_data_years

    async def work(store: RecordStore) -> list[str]:
        now = datetime.now(UTC)
        due = await holders_past_retention(store, now, years)
        if yes:
            for address in due:
                await anonymise(store, address, now)
        return due

    due = _run(work)
    verb = "anonymisés" if yes else "à anonymiser (rien n'est modifié sans --yes)"
    typer.echo(f"Porteurs de projets terminés depuis plus de {years} ans, {verb} : {len(due)}")
    for address in due:
        typer.echo(f"  - {address}")
