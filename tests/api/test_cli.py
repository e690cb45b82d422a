"""The `labellisation` command line against a running API (real HTTP on a loopback port)."""

from __future__ import annotations

import asyncio
import json
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
