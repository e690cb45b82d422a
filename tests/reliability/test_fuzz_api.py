"""Hostile input: schemathesis against the running dev stack's OpenAPI schema, with every role's token.

No 5xx, every status documented, every response matching the schema; over 1,000 generated requests.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import httpx

from tests.reliability.figures import report
from tests.support.launcher import Launcher

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


async def test_schemathesis_finds_no_server_error_for_any_role(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path / "data")
    launcher.start()
    try:
        await launcher.client()
        await launcher.api_up()
        tokens = dict(re.findall(r"export (\w+)=(\S+)", (launcher.data_dir / "demo-tokens.env").read_text()))
        api = f"http://127.0.0.1:{launcher.api_port}"
        project = {
            "project_id": "demo-lyon", "name": "École de Production de Lyon", "region": "auvergne-rhone-alpes",
            "department": "69", "city": "Lyon", "trades": ["Usinage"],
            "holder": {"name": "A", "email": "porteur@edp-lyon.fr"}, "planned_opening": "2027-09-01",
        }  # fmt: skip
        coordinator = {"Authorization": f"Bearer {tokens['LABELLISATION_COORDINATOR_TOKEN']}"}
        async with httpx.AsyncClient() as http:
            created = await http.post(f"{api}/projects", json=project, headers=coordinator)
        assert created.status_code == 201
        runs = {}
        for variable in (
            "LABELLISATION_COORDINATOR_TOKEN",
            "LABELLISATION_REVIEWER_TOKEN",
            "LABELLISATION_HOLDER_TOKEN",
        ):
            summary = tmp_path / f"{variable}.json"
            process = await asyncio.create_subprocess_exec(
                str(SCHEMATHESIS), "run", f"{api}/openapi.json", "-H", f"Authorization: Bearer {tokens[variable]}",
                "--checks", CHECKS, "--max-examples", "10", "--seed", "2026",
                "--report", "json", "--report-json-path", str(summary),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            output = (await asyncio.wait_for(process.communicate(), 240))[0].decode()
            assert summary.exists(), output[-3000:]
            runs[variable] = (process.returncode, json.loads(summary.read_text()), output)
        cases = [run["test_cases"] for _, run, _ in runs.values()]
        generated = sum(c["generated"] for c in cases)
        # Each failed check schemathesis reports (5xx, undocumented status, body off its schema), and each case
        # that got no answer at all.
        found = sum(
            sum(f["count"] for f in run["failures"]) + run["test_cases"]["errored"] for _, run, _ in runs.values()
        )
        report("API requests fuzzed (schemathesis, 3 roles)", generated)
        report("fuzzing: server errors or schema violations", found)
        for variable, (returncode, run, output) in runs.items():
            assert (returncode, run["failures"], run["errors"], run["test_cases"]["errored"]) == (0, [], [], 0), (
                variable,
                output[-3000:],
            )
            # Every generated case went through the checks: none skipped, none left unchecked.
            assert run["test_cases"]["without_checks"] == 0, (variable, run["test_cases"])
            assert run["operations"]["errored"] == 0 and run["operations"]["tested"] >= 10, (
                variable,
                run["operations"],
            )
        assert generated >= 1000
    finally:
        launcher.interrupt()
        launcher.kill()
