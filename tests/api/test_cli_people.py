"""`labellisation users …` and `labellisation token …` as an operator runs them (subprocesses, a SQLite file)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labellisation.records.store import RecordStore
from labellisation.tokens import TokenRefused, authenticate

LAUNCHER = Path(sys.executable).parent / "labellisation"


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.url = f"sqlite+aiosqlite:///{data_dir}/records.db"
        self.env = {**os.environ, "LABELLISATION_DATABASE_URL": self.url, "LABELLISATION_DATA_DIR": str(data_dir),
                    "COLUMNS": "200"}  # fmt: skip

    def __call__(self, *args: str) -> tuple[int, str, str]:
        done = subprocess.run([str(LAUNCHER), *args], env=self.env, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr

    def authenticate(self, token: str) -> str:
        async def check() -> str:
            store = RecordStore.from_url(self.url)
            try:
                user = await authenticate(store, token)
                return f"{user.role.value} {user.email} {user.projects} {user.regions}" if user else "inconnu"
            except TokenRefused as refused:
                return str(refused)
            finally:
                await store.close()

        return asyncio.run(check())


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_invite_then_a_token_that_can_end_listed_without_its_secret_then_revoked(cli: Cli) -> None:
    code, out, _ = cli("users", "invite", "--role", "reviewer", "--name", "Rita Relectrice", "--email",
                       "Rita@FNEP.fr", "--region", "Grand Est", "--region", "bretagne")  # fmt: skip
    assert code == 0, out
    assert "Rita Relectrice <rita@fnep.fr>, relecteur (régions : Grand Est, Bretagne)" in out
    assert "labellisation token create --email rita@fnep.fr" in out

    code, out, err = cli("token", "create", "--email", "RITA@fnep.fr", "--expires-in", "P30D", "--label", "portable")
    token = out.strip()
    assert code == 0 and token.startswith("lab_") and "\n" not in token, err
    assert "valable jusqu'au" in err
    assert cli.authenticate(token) == "reviewer rita@fnep.fr [] ['grand-est', 'bretagne']"

    code, out, _ = cli("token", "list")
    assert code == 0 and "portable" in out and "Rita Relectrice <rita@fnep.fr>" in out and "valide" in out
    assert token not in out and token[:12] in out
    code, out, _ = cli("token", "list", "--email", "rita@fnep.fr", "--json")
    [listed] = json.loads(out)
    assert listed["state"] == "valide" and listed["expires_at"] is not None and token not in out

    code, out, _ = cli("token", "revoke", listed["id"])
    assert code == 0 and "révoqué" in out
    assert cli.authenticate(token) == "jeton révoqué"
    code, out, _ = cli("token", "revoke", token)
    assert code == 0 and "déjà révoqué" in out


def test_disable_refuses_the_tokens_and_users_list_says_so(cli: Cli) -> None:
    cli("users", "invite", "--role", "coordinator", "--name", "Claire", "--email", "claire@fnep.fr")
    token = cli("token", "create", "--email", "claire@fnep.fr")[1].strip()
    code, out, _ = cli("users", "disable", "CLAIRE@fnep.fr")
    assert code == 0 and "désactivée" in out
    assert cli.authenticate(token) == "compte désactivé"
    code, out, _ = cli("users", "list")
    assert code == 0 and "claire@fnep.fr" in out and "désactivée" in out and "toutes" in out
    code, _, err = cli("users", "disable", "nobody@fnep.fr")
    assert code == 2 and err.startswith("Erreur : EMAIL : aucune personne")


def test_digest_on_then_off_and_users_list_says_so(cli: Cli) -> None:
    cli("users", "invite", "--role", "holder", "--name", "Paul", "--email", "paul@edp.fr", "--project", "edp-a")
    code, out, _ = cli("users", "list", "--json")
    assert [p["daily_digest"] for p in json.loads(out)] == [False]
    code, out, err = cli("users", "digest", "PAUL@edp.fr", "--on")
    assert (code, out) == (0, "paul@edp.fr : « Votre point du jour » chaque matin ouvré.\n"), err
    code, out, _ = cli("users", "list")
    assert code == 0 and "point du jour" in out
    [row] = [line for line in out.splitlines() if "paul@edp.fr" in line]
    assert [cell.strip() for cell in row.split("│")][5:7] == ["active", "oui"]
    assert [p["daily_digest"] for p in json.loads(cli("users", "list", "--json")[1])] == [True]
    code, out, _ = cli("users", "digest", "paul@edp.fr", "--off")
    assert (code, out) == (0, "paul@edp.fr : chaque e-mail dès qu'il part.\n")
    assert [p["daily_digest"] for p in json.loads(cli("users", "list", "--json")[1])] == [False]
    code, out, err = cli("users", "digest", "paul@edp.fr")  # on or off: it must be said
    assert code == 2 and "--on" in err


def test_the_old_token_create_creates_or_finds_the_person_and_refuses_a_project_off_holders(cli: Cli) -> None:
    code, out, err = cli("token", "create", "--role", "holder", "--name", "Paul", "--email", "Paul@edp.fr",
                         "--project", "edp-a")  # fmt: skip
    assert code == 0, err
    assert cli.authenticate(out.strip()) == "holder paul@edp.fr ['edp-a'] []"
    code, out, _ = cli("token", "create", "--role", "holder", "--name", "Paul", "--email", "paul@edp.fr",
                       "--project", "edp-b")  # fmt: skip
    assert cli.authenticate(out.strip()) == "holder paul@edp.fr ['edp-a', 'edp-b'] []"

    code, out, err = cli("token", "create", "--role", "reviewer", "--name", "R", "--email", "r@fnep.fr",
                         "--project", "edp-a")  # fmt: skip
    assert (code, out) == (2, "")
    assert err.startswith("Erreur : --project : seul un porteur est lié à des projets")
    code, out, _ = cli("users", "list", "--json")
    assert [p["email"] for p in json.loads(out)] == ["paul@edp.fr"]  # nobody created by the refusal


BAD_INPUT = [
    (
        ["users", "invite", "--role", "reviewer", "--name", "X", "--email", "x@fnep.fr", "--region", "Narnia"],
        "--region : « Narnia » n'est pas une région ; régions : Auvergne-Rhône-Alpes",
    ),
    (
        ["users", "invite", "--role", "holder", "--name", "X", "--email", "x@fnep.fr"],
        "--project : un porteur est lié à au moins un projet",
    ),
    (
        ["users", "invite", "--role", "reviewer", "--name", "X", "--email", "x-at-fnep.fr"],
        "--email : « x-at-fnep.fr » n'est pas une adresse e-mail valide",
    ),
    (["token", "create", "--email", "x@fnep.fr"], "--email : aucune personne n'a l'adresse « x@fnep.fr »"),
    (["token", "create", "--email", "x@fnep.fr", "--expires-in", "P1X"], "--expires-in : 'P1X' n'est pas"),
    (
        ["token", "create", "--email", "x@fnep.fr", "--expires-on", "2020-01-01"],
        "--expires-on : le 01/01/2020 est déjà passé",
    ),
    (["token", "create", "--email", "x@fnep.fr", "--name", "X"], "--role : --name et --project vont avec --role"),
    (["token", "revoke", "zz"], "TOKEN : « zz » : donnez le jeton"),
    (["users", "digest", "x@fnep.fr", "--on"], "EMAIL : aucune personne n'a l'adresse « x@fnep.fr »"),
]


def test_bad_input_is_one_french_line_naming_the_option_and_writes_nothing(cli: Cli) -> None:
    """One subprocess per case (each starts the whole CLI), then one look at what was written: nothing."""
    for args, message in BAD_INPUT:
        code, out, err = cli(*args)
        assert (code, out) == (2, ""), (args, err)
        assert err.startswith(f"Erreur : {message}") and err.count("\n") == 1 and "Traceback" not in err, err
    assert json.loads(cli("users", "list", "--json")[1]) == []
    assert json.loads(cli("token", "list", "--json")[1]) == []
