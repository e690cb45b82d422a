"""A decision id reused for another decision is refused everywhere, on the real dev stack (`make run`).

Temporal deduplicates updates by id: a decision id turned into the update id alone would make the second,
different decision answer the first one's result (200, nothing decided). Through the HTTP API, the CLI
and the signal, the second decision must be refused and change nothing.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from labellisation.contract import SIGNAL_DECIDE, workflow_id
from labellisation.path.commands import DecideStep
from tests.support.launcher import Launcher

CLI = Path(sys.executable).parent / "labellisation"
PROJECT = "demo-lyon"  # the demo holder token is bound to it
STEP = "opportunity_study"
BODY = {
    "project_id": PROJECT, "name": "École de Production de Lyon", "region": "Auvergne-Rhône-Alpes",
    "department": "69", "city": "Lyon", "trades": ["Usinage"],
    "holder": {"name": "Association EdP Lyon", "email": "porteur@edp-lyon.fr"}, "planned_opening": "2029-09-01",
}  # fmt: skip
SUBMISSION = {"documents": [{"title": "Étude", "url": "https://docs.example.org/etude.pdf"}], "comment": "v1"}


class Stack:
    def __init__(self, launcher: Launcher, tokens: dict[str, str]) -> None:
        self.launcher = launcher
        self.tokens = tokens
        self.url = f"http://127.0.0.1:{launcher.api_port}"

    async def call(self, who: str, method: str, path: str, json: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[f'LABELLISATION_{who.upper()}_TOKEN']}"}
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as http:
            return await http.request(method, path, json=json, headers=headers)

    async def cli(self, who: str, *args: str) -> tuple[int, str]:
        env = {
            "LABELLISATION_API_URL": self.url,
            "LABELLISATION_TOKEN": self.tokens[f"LABELLISATION_{who.upper()}_TOKEN"],
            "COLUMNS": "200",
        }
        process = await asyncio.create_subprocess_exec(
            str(CLI), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode() + err.decode()

    async def kinds(self) -> list[str]:
        response = await self.call("coordinator", "GET", f"/projects/{PROJECT}/history")
        return [event["kind"] for event in response.json()]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    launcher = Launcher(tmp_path / "data")
    launcher.start()
    try:
        await launcher.client()
        tokens = dict(re.findall(r"export (\w+)=(\S+)", (launcher.data_dir / "demo-tokens.env").read_text()))
        yield Stack(launcher, tokens)
    finally:
        launcher.interrupt()
        launcher.kill()


async def test_a_decision_id_reused_for_another_decision_is_refused_by_api_cli_and_signal(stack: Stack) -> None:
    assert (await stack.call("coordinator", "POST", "/projects", BODY)).status_code == 201
    submitted = await stack.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", SUBMISSION)
    assert submitted.status_code == 200
    decisions = f"/projects/{PROJECT}/steps/{STEP}/decisions"
    changes = {"decision": "request_changes", "comment": "Chiffres à sourcer", "decision_id": "lyon-003"}
    first = await stack.call("reviewer", "POST", decisions, changes)
    assert first.status_code == 200
    assert first.json()["steps"][0]["status"] == "changes_requested"

    # The same call again is a retry: same answer, nothing new recorded.
    again = await stack.call("reviewer", "POST", decisions, changes)
    assert again.status_code == 200
    assert again.json()["steps"][0]["status"] == "changes_requested"

    # Another decision under the same id: 409 through the API, with the reason.
    other = await stack.call("reviewer", "POST", decisions, {"decision": "approve", "decision_id": "lyon-003"})
    assert other.status_code == 409
    assert "decision_id 'lyon-003' a déjà servi pour une autre décision" in other.json()["detail"]
    assert "demander des modifications" in other.json()["detail"]

    # Through the CLI: exit code 1 (refused by the API) and the same sentence.
    code, output = await stack.cli("reviewer", "decide", PROJECT, STEP, "approve", "--decision-id", "lyon-003")
    assert code == 1, output
    assert "a déjà servi pour une autre décision" in output

    # As a signal: refused and kept as such in the history; the step is still waiting for the holder.
    client = await stack.launcher.client_only()
    handle = client.get_workflow_handle(workflow_id(PROJECT))
    await handle.signal(
        SIGNAL_DECIDE, DecideStep(actor="relecteur@fnep.fr", step=STEP, decision="approve", decision_id="lyon-003")
    )
    for _ in range(100):
        kinds = await stack.kinds()
        if "signal_refused" in kinds:
            break
        await asyncio.sleep(0.1)
    assert kinds.count("signal_refused") == 1
    assert kinds.count("changes_requested") == 1
    assert "step_approved" not in kinds
    shown = await stack.call("coordinator", "GET", f"/projects/{PROJECT}")
    assert shown.json()["steps"][0]["status"] == "changes_requested"
    assert shown.json()["current_stage"] == "opportunity"
