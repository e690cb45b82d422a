"""The `labellisation` command line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from labellisation.cli_api import register
from labellisation.cli_client import DEFAULT_API_URL, ApiUrl, Token, open_api_client
from labellisation.cli_people import register as register_people
from labellisation.cli_privacy import register as register_privacy
from labellisation.codec import new_key
from labellisation.devstack import DevOptions, DevStackError, run_dev
from labellisation.log_setup import configure_logging
from labellisation.process import shipped_process_ids
from labellisation.records.migrate import upgrade
from labellisation.settings import Settings, SettingsError, get_settings

app = typer.Typer(
    help="Le parcours de création des Écoles de Production, sur Temporal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

Port = Annotated[int, typer.Option(min=1, max=65535)]


def _settings() -> Settings:
    """The LABELLISATION_* settings, or a one-line error (exit 2) naming the bad variable."""
    try:
        return get_settings()
    except SettingsError as error:
        typer.echo(f"Erreur : {error}", err=True)
        raise typer.Exit(2) from None


def _check_process(value: str) -> str:
    known = shipped_process_ids()
    if value not in known:
        raise typer.BadParameter(f"processus inconnu {value!r} (connus : {', '.join(known)})")
    return value


@app.command()
def dev(
    process: Annotated[
        str, typer.Option(help="Processus par défaut des nouveaux projets (fnep, demo).", callback=_check_process)
    ] = "demo",
    data_dir: Annotated[Path, typer.Option(help="Dossier des données (SQLite, journaux, boîte d'envoi).")] = Path(
        ".data"
    ),
    api_port: Annotated[int, typer.Option(min=1, max=65535, help="Port de l'API HTTP.")] = 8000,
    temporal_port: Annotated[int, typer.Option(min=1, max=65535, help="Port gRPC de Temporal.")] = 7233,
    ui_port: Annotated[int, typer.Option(min=1, max=65535, help="Port de l'interface web Temporal.")] = 8233,
    smtp_port: Annotated[int, typer.Option(min=1, max=65535, help="Port du serveur SMTP de développement.")] = 1025,
) -> None:
    """Démarre toute la pile sur cette machine (Temporal, worker), au premier plan."""
    settings = _settings()
    configure_logging(settings.log_format, settings.log_level)
    options = DevOptions(
        process=process,
        data_dir=data_dir,
        api_port=api_port,
        temporal_port=temporal_port,
        ui_port=ui_port,
        smtp_port=smtp_port,
    )
    try:
        asyncio.run(run_dev(options))
    except DevStackError as error:
        typer.echo(f"Erreur : {error}", err=True)
        raise typer.Exit(1) from None


@app.command("payload-key")
def payload_key(key_id: Annotated[str, typer.Argument(help="Identifiant de la clé, par ex. prod-2027.")]) -> None:
    """Affiche une nouvelle clé de chiffrement des contenus Temporal (LABELLISATION_PAYLOAD_KEYS)."""
    if not key_id or ":" in key_id or "," in key_id or not key_id.isprintable():
        typer.echo("Erreur : identifiant de clé sans « : » ni « , »", err=True)
        raise typer.Exit(2)
    typer.echo(f"{key_id}:{new_key()}")


register(app)
register_people(app)
register_privacy(app)


db_app = typer.Typer(help="Base des dossiers (records).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Révision cible.")] = "head",
) -> None:
    """Migre la base des dossiers (LABELLISATION_DATABASE_URL) jusqu'à la révision donnée."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.records_url(), revision)
    except Exception as error:  # a user's URL or server problem: one sentence, no stack trace
        typer.echo(f"Erreur : migration impossible ({type(error).__name__}: {error})", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Base des dossiers à jour ({revision}).")


@app.callback()
def main(ctx: typer.Context, api_url: ApiUrl = DEFAULT_API_URL, token: Token = "") -> None:
    """Le parcours de création des Écoles de Production, sur Temporal."""
    # --api-url/--token serve the API commands (projects, submit, decide…), which also take them after their name.
    open_api_client(ctx, api_url, token)


if __name__ == "__main__":
    app()
