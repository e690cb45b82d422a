"""Hostile input: schemathesis against the running dev stack's OpenAPI schema, with every role's token.

No 5xx, every status documented, every response matching the schema. The requests are counted by the API
itself (its `/metrics`), round after round (a new seed each) until `LABELLISATION_FUZZ_REQUESTS` is reached:
1,000 by default (CI's `make test`, one round), 10,000 in `make reliability`.

Stateful too: schemathesis follows OpenAPI links (the ones it infers, and those `with_links` adds from a
started project to its steps), so a project made by `POST /projects` is then read, submitted, decided,
paused... For that, the copy of the schema it fuzzes says what the API refuses anyway (`narrowed`): with
the schema as served, nearly every generated project is refused (a department that does not exist, a
control character, an opening in year 87) and no link is ever followed.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability.figures import report
from tests.support.launcher import Launcher

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
#: API requests to send over the three roles (`make reliability` sets 10,000); CI's default is one round.
TARGET = int(os.environ.get("LABELLISATION_FUZZ_REQUESTS") or 1000)
#: Test cases per operation and role in one round: 10 give about 3,500 requests over the three roles (CI), 100
#: about 9,300 (most of the 3,500 are the coverage phase's, whatever the number); 125 should reach 10,000.
MAX_EXAMPLES = 10 if TARGET <= 1000 else math.ceil(TARGET / 80)
ROLES = ("LABELLISATION_COORDINATOR_TOKEN", "LABELLISATION_REVIEWER_TOKEN", "LABELLISATION_HOLDER_TOKEN")
#: A control character, which every text field refuses (#18 item 5).
CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
METRIC = re.compile(r'^labellisation_api_requests_total\{method="(\w+)",route="([^"]*)",status="(\d+)"\} (\S+)$', re.M)
LINKS = re.compile(r"API Links:\s+(\d+) covered / (\d+) selected")


def narrowed(schema: dict[str, Any], today: date) -> dict[str, Any]:
    """The schema, with the rules the API applies beyond it written into the request bodies (the responses
    keep the schema as served), so that generated projects can be started.

    Texts carry no control character (and a required one is not blank); a project's department is one that
    exists, its region is left to the department, its process is one of the stack's, its opening within the
    20 years allowed, its holder's address deliverable. Negative cases still break each of these rules.
    """
    components = schema["components"]["schemas"]

    def inlined(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inlined(components[node["$ref"].rsplit("/", 1)[-1]])
            copy = {key: inlined(value) for key, value in node.items()}
            if copy.get("type") == "string" and not {"pattern", "format", "enum", "const"} & copy.keys():
                required = copy.get("minLength", 0) >= 1
                copy["pattern"] = f"^[^\\s{CONTROL}][^{CONTROL}]*$" if required else f"^[^{CONTROL}]*$"
            return copy
        if isinstance(node, list):
            return [inlined(value) for value in node]
        return node

    for operations in schema["paths"].values():
        for operation in operations.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                content["schema"] = inlined(content["schema"])
    start = schema["paths"]["/projects"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    del start["properties"]["region"]
    start["properties"]["department"] = {"type": "string", "enum": ["90", "69", "75", "2A", "974"]}
    start["properties"]["process"] = {"type": "string", "enum": ["demo", "fnep"]}
    openings = [f"{today.year + n}-09-01" for n in (1, 2, 5)]
    start["properties"]["planned_opening"] = {"type": "string", "enum": openings}
    holder = start["properties"]["holder"]["properties"]
    holder["email"] = {"type": "string", "pattern": "^[a-z]{1,12}@edp-[a-z]{2,12}\\.fr$"}
    return schema


def with_links(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links from a project (started or read) to its first step's submission, decision and deadline;
    from the list of projects to the first one. Schemathesis adds the links it infers to these."""
    step = {"project_id": "$response.body#/project_id", "step": "$response.body#/steps/0/id"}
    to_steps = {
        name: {"operationId": operation_id, "parameters": step}
        for name, operation_id in (
            ("SubmitFirstStep", "submit_step_projects__project_id__steps__step__submissions_post"),
            ("DecideFirstStep", "decide_step_projects__project_id__steps__step__decisions_post"),
            ("MoveFirstDeadline", "move_deadline_projects__project_id__steps__step__deadline_put"),
        )
    }
    paths = schema["paths"]
    paths["/projects"]["post"]["responses"]["201"].setdefault("links", {}).update(to_steps)
    paths["/projects/{project_id}"]["get"]["responses"]["200"].setdefault("links", {}).update(to_steps)
    paths["/projects"]["get"]["responses"]["200"].setdefault("links", {})["ShowFirstProject"] = {
        "operationId": "show_project_projects__project_id__get",
        "parameters": {"project_id": "$response.body#/0/project_id"},
    }
    return schema


async def counted(http: httpx.AsyncClient, api: str) -> tuple[int, int]:
    """Requests the API has answered, and how many of them with a 5xx, by its own metrics (`/metrics` aside)."""
    text = (await http.get(f"{api}/metrics")).text
    rows = [(route, int(status), float(value)) for _, route, status, value in METRIC.findall(text)]
    answered = [(status, value) for route, status, value in rows if route != "/metrics"]
    return int(sum(v for _, v in answered)), int(sum(v for s, v in answered if s >= 500))


async def schemathesis(
    schema: Path, api: str, token: str, round_: int, tmp_path: Path
) -> tuple[int | None, dict[str, Any], str]:
    """One schemathesis run with `token`: its exit code, JSON report and output."""
    summary = tmp_path / f"{token[-8:]}-{round_}.json"
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", str(schema), "--url", api, "-H", f"Authorization: Bearer {token}",
        "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES), "--seed", str(2026 + round_),
        "--report", "json", "--report-json-path", str(summary),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await asyncio.wait_for(process.communicate(), 30 * MAX_EXAMPLES))[0].decode()
    assert summary.exists(), output[-3000:]
    return process.returncode, json.loads(summary.read_text()), output


@pytest.mark.timeout(max(300, TARGET // 10))
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
            "holder": {"name": "A", "email": "porteur@edp-lyon.fr"},
            "planned_opening": f"{datetime.now(UTC).year + 2}-09-01",  # ahead, whatever the date
        }  # fmt: skip
        coordinator = {"Authorization": f"Bearer {tokens['LABELLISATION_COORDINATOR_TOKEN']}"}
        async with httpx.AsyncClient(timeout=30) as http:
            created = await http.post(f"{api}/projects", json=project, headers=coordinator)
            assert created.status_code == 201, created.text
            served = (await http.get(f"{api}/openapi.json")).json()
            schema = tmp_path / "openapi.json"
            schema.write_text(json.dumps(with_links(narrowed(served, datetime.now(UTC).date()))))
            before, errors_before = await counted(http, api)
            runs: dict[tuple[int, str], tuple[int | None, dict[str, Any], str]] = {}
            requests = 0
            while requests < TARGET:
                round_ = len(runs) // len(ROLES)
                # The three roles at once: while one generates its cases, the stack answers another's.
                done = await asyncio.gather(*(schemathesis(schema, api, tokens[v], round_, tmp_path) for v in ROLES))
                runs |= {(round_, variable): run for variable, run in zip(ROLES, done, strict=True)}
                answered, server_errors = await counted(http, api)
                requests = answered - before
        server_errors -= errors_before
        # Each failed check schemathesis reports (5xx, undocumented status, body off its schema), and each case
        # that got no answer at all.
        found = sum(
            sum(f["count"] for f in run["failures"]) + run["test_cases"]["errored"] for _, run, _ in runs.values()
        )
        links = {
            variable.removeprefix("LABELLISATION_").removesuffix("_TOKEN").lower(): max(
                int(LINKS.findall(output)[-1][0]) if LINKS.findall(output) else 0
                for (_, name), (_, _, output) in runs.items()
                if name == variable
            )
            for variable in ROLES
        }
        rounds = math.ceil(len(runs) / len(ROLES))
        report(
            f"API requests fuzzed (schemathesis, coordinator, reviewer and holder tokens, {rounds} round(s); "
            "counted by the API)",
            f"{requests:,}",
        )
        report(
            "API links followed by the stateful phase, most in one round (coordinator, reviewer, holder)",
            ", ".join(str(n) for n in links.values()),
        )
        report("API server errors (5xx) counted by the API while fuzzing", server_errors)
        report("API fuzzing: server errors or schema violations found by schemathesis", found)
        for (round_, variable), (returncode, run, output) in runs.items():
            assert (returncode, run["failures"], run["errors"], run["test_cases"]["errored"]) == (0, [], [], 0), (
                round_,
                variable,
                run["failures"],
                output[-6000:],
            )
            # Every generated case went through the checks: none skipped, none left unchecked.
            assert run["test_cases"]["without_checks"] == 0, (variable, run["test_cases"])
            assert run["operations"]["errored"] == 0 and run["operations"]["tested"] >= 10, (
                variable,
                run["operations"],
            )
        assert server_errors == 0
        assert requests >= TARGET
        # The links work: the coordinator's started projects lead on to their other routes.
        assert links["coordinator"] > 0, links
    finally:
        launcher.interrupt()
        launcher.kill()
