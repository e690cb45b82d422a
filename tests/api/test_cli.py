"""The `labellisation` command line against a running API (real HTTP on a loopback port)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from labellisation.devstack import _EmbeddedServer, free_port
from tests.support.api import Api, profile

CLI = Path(sys.executable).parent / "labellisation"


@pytest.fixture
async def api_url(api: Api) -> AsyncIterator[str]:
    app = api.http._transport.app  # type: ignore[attr-defined]
    port = free_port()
    server = _EmbeddedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # bounded wait for uvicorn's startup flag
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def cli(api: Api, url: str, who: str, *args: str) -> tuple[int, str, str]:
    env = {"LABELLISATION_API_URL": url, "LABELLISATION_TOKEN": api.tokens[who], "COLUMNS": "200"}
    if "PYTHONPATH" in os.environ:  # a test run on another checkout runs that checkout's CLI too
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    process = await asyncio.create_subprocess_exec(
        str(CLI), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_start_list_show_decide_with_json_output(api: Api, api_url: str) -> None:
    p = profile()
    code, out, _ = await cli(
        api, api_url, "coordinator", "projects", "start", "--id", p["project_id"], "--name", p["name"],
        "--region", p["region"], "--department", "90", "--city", "Belfort", "--trade", "Usinage",
        "--holder-name", "Association EdP Belfort", "--holder-email", "porteur@edp-belfort.fr",
        "--planned-opening", "2028-09-01", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["current_stage"] == "opportunity"

    code, out, _ = await cli(api, api_url, "holder", "submit", p["project_id"], "opportunity_study",
                             "--document", "Étude d'opportunité=https://docs.example.org/e.pdf", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["steps"][0]["status"] == "submitted"
    code, out, _ = await cli(api, api_url, "reviewer", "decide", p["project_id"], "opportunity_study", "approve",
                             "--decision-id", "cli-1", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["current_stage"] == "association"

    code, out, _ = await cli(api, api_url, "coordinator", "projects", "list", "--stage", "association", "--json")
    listed: list[dict[str, Any]] = json.loads(out)
    assert code == 0 and [i["project_id"] for i in listed] == [p["project_id"]]
    code, out, _ = await cli(api, api_url, "coordinator", "projects", "list", "--stage", "opportunity", "--json")
    assert code == 0 and json.loads(out) == []

    code, out, _ = await cli(api, api_url, "holder", "projects", "show", p["project_id"])
    assert code == 0
    assert "Association porteuse" in out and "approuvée" in out


async def test_the_list_reads_every_page(api: Api, api_url: str) -> None:
    ids = ["edp-aaa", "edp-bbb", "edp-ccc"]
    for project_id in ids:
        response = await api.call("coordinator", "POST", "/projects", profile(project_id))
        assert response.status_code == 201, response.text
    for _ in range(100):  # the portfolio reads the records database: let it catch up
        code, out, _ = await cli(api, api_url, "coordinator", "projects", "list", "--page-size", "2", "--json")
        if code == 0 and len(json.loads(out)) == len(ids):
            break
        await asyncio.sleep(0.1)
    assert code == 0 and [i["project_id"] for i in json.loads(out)] == ids


async def test_a_refusal_shows_the_apis_message_and_exits_1(api: Api, api_url: str) -> None:
    await api.call("coordinator", "POST", "/projects", profile())
    code, out, err = await cli(api, api_url, "holder", "decide", "edp-belfort", "opportunity_study", "approve")
    assert code == 1
    assert "Refusé (403) : action réservée au rôle : relecteur" in err
    assert out == ""


async def test_an_unreachable_api_exits_3(api: Api) -> None:
    code, _, err = await cli(api, f"http://127.0.0.1:{free_port()}", "coordinator", "projects", "list")
    assert code == 3
    assert "API injoignable" in err


async def test_api_url_and_token_before_or_after_the_command_win_over_the_environment(api: Api, api_url: str) -> None:
    """The root callback reads them once (options or environment); given after the command, as scripts always did,
    they win; the environment here points at nothing with a bad token, so only the options can succeed."""
    await api.call("coordinator", "POST", "/projects", profile())
    nowhere = f"http://127.0.0.1:{free_port()}"
    good = ["--api-url", api_url, "--token", api.tokens["coordinator"]]
    for args in (
        [*good, "projects", "list", "--json"],  # before the command: the callback's options
        ["projects", "list", "--json", *good],  # after it: the form scripts have always used
        ["--token", api.tokens["bad"], "--api-url", api_url, "projects", "show", "edp-belfort", "--json",
         "--token", api.tokens["coordinator"]],  # both: the one after the command wins
    ):  # fmt: skip
        code, out, err = await cli(api, nowhere, "bad", *args)
        assert code == 0, (args, err)
        assert "edp-belfort" in out
    code, _, err = await cli(api, nowhere, "coordinator", "report")  # the environment alone: its (bad) address
    assert code == 3 and f"API injoignable à {nowhere}" in err
    code, _, err = await cli(api, api_url, "bad", "report")  # ...and its token
    assert code == 1 and "Refusé (401) : jeton invalide" in err


async def test_bad_input_is_refused_before_sending_with_one_french_line_per_option(api: Api, api_url: str) -> None:
    code, out, err = await cli(
        api, api_url, "coordinator", "projects", "start", "--id", "Pas Un Id", "--name", "École",
        "--region", "Grand Est", "--department", "67", "--city", "Strasbourg", "--trade", "Usinage",
        "--holder-name", "A", "--holder-email", "pas-une-adresse", "--planned-opening", "2028-13-45",
    )  # fmt: skip
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == "Erreur : contenu invalide, rien n'a été envoyé"
    assert sorted(lines[1:]) == [
        "  --holder-email : adresse e-mail invalide (« pas-une-adresse »)",
        "  --id : forme invalide (attendue : ^[a-z0-9][a-z0-9-]{2,63}$) (« Pas Un Id »)",
        "  --planned-opening : date invalide, attendue AAAA-MM-JJ (« 2028-13-45 »)",
    ]
    assert (await api.call("coordinator", "GET", "/projects")).json() == []  # nothing reached the API

    code, _, err = await cli(api, api_url, "reviewer", "decide", "edp-belfort", "opportunity_study", "peut-être")
    assert code == 1
    assert "  decision : valeurs possibles : 'approve', 'request_changes' ou 'reject' (« peut-être »)" in err
    code, _, err = await cli(api, api_url, "holder", "submit", "edp-belfort", "opportunity_study",
                             "--document", "Étude=ftp://docs.example.org/e.pdf")  # fmt: skip
    assert code == 1 and "  --document : forme invalide" in err and "Traceback" not in err
