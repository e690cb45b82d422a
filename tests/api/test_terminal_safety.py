"""Text people typed cannot act on a terminal (#18 item 5): the API refuses control characters (the field named,
nothing applied), and `projects history` prints any already stored (and Rich markup) as typed."""

from __future__ import annotations

import asyncio
import json
import os

from labellisation.contract import Update, workflow_id
from labellisation.path.commands import PauseProject
from tests.api.test_cli import api_url
from tests.api.test_cli_french import CLI, run
from tests.support.api import PROJECT, Api, profile
from tests.support.driver import ProjectDriver

__all__ = ["api_url"]

#: Rich markup that crashed `projects history` ([/x] closes nothing), an ANSI colour, an OSC-8 hidden link, a bell.
HOSTILE = "Vote [/x] reporté \x1b[31mROUGE\x1b[0m \x1b]8;;https://evil.example\x07lien\x1b]8;;\x07 \x07fin"


async def test_the_api_refuses_control_characters_and_changes_nothing(api: Api) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    before = (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).json()
    paused = await api.call("coordinator", "POST", f"/projects/{PROJECT}/pause",
                            {"reason": HOSTILE, "review_on": "2030-01-15"})  # fmt: skip
    assert paused.status_code == 422
    assert paused.json()["detail"] == "contenu invalide : reason : caractère de contrôle interdit (U+001B)"
    started = await api.call("coordinator", "POST", "/projects", profile("edp-lyon", name="EdP\u202eLyon"))
    assert started.status_code == 422 and "name : caractère de contrôle interdit (U+202E)" in started.text
    holder = {"name": "Asso\x1b[2J", "email": "a@b.fr"}
    changed = await api.call("coordinator", "PATCH", f"/projects/{PROJECT}/profile",
                             {"holder": holder, "reason": "Nouveau contact"})  # fmt: skip
    assert changed.status_code == 422 and "holder.name : caractère de contrôle interdit" in changed.text
    after = (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).json()
    assert after["state"] == before["state"] == "active"
    assert (await api.call("coordinator", "GET", "/projects/edp-lyon")).status_code == 404
    # a line break and a tab are text, not control: still accepted
    ok = await api.call("coordinator", "POST", f"/projects/{PROJECT}/pause",
                        {"reason": "Vote reporté\n\tà janvier", "review_on": "2030-01-15"})  # fmt: skip
    assert ok.status_code == 200, ok.text


async def test_projects_history_prints_markup_and_escapes_as_typed(api: Api, api_url: str) -> None:
    """A reason stored before the API refused such text (sent straight to the workflow here) prints literally."""
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    project = ProjectDriver(api.env.client.get_workflow_handle(workflow_id(PROJECT)))
    await project.update(Update.PAUSE, PauseProject(actor="Claire [bold]", reason=HOSTILE, review_on="2030-01-15"))
    await api.history()
    code, out, err = await run(api_url, api.tokens["coordinator"], "projects", "history", PROJECT, columns=400)
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert "Vote [/x] reporté \\x1b[31mROUGE\\x1b[0m" in out, out
    assert "\\x1b]8;;https://evil.example\\x07lien" in out
    assert "Claire [bold]" in out


async def test_a_token_read_from_standard_input_never_shows_in_the_command_line(api: Api, api_url: str) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    env = {"LABELLISATION_API_URL": api_url, "COLUMNS": "200"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    args = [str(CLI), "projects", "show", PROJECT, "--json", "--token", "-"]
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(f"{api.tokens['coordinator']}\n".encode()), 60)
    assert process.returncode == 0, err.decode()
    assert json.loads(out)["project_id"] == PROJECT
    assert api.tokens["coordinator"] not in " ".join(args)
