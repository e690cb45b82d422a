"""What a person reads in the terminal: French words only (ids with --json), French numbers, 80 columns,
options that accept the words the output shows, a clear word on a missing token, and cohorts from the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

from labellisation.contract import workflow_id
from labellisation.path.state import EventKind, ProjectState, StepStatus
from labellisation.process import load_process
from tests.api.test_cli import api_url, cli
from tests.support.api import DOCS, PROJECT, Api, profile
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver

CLI = Path(sys.executable).parent / "labellisation"
__all__ = ["api_url"]  # the fixture, used by every test here

#: Ids a person must never read outside --json.
ENGLISH_IDS = sorted(
    {*EventKind, *ProjectState, *StepStatus, "before_due", "review_pending", "holder", "reviewers", "coordinator"}
    | {stage.id for stage in load_process("fnep").stages if stage.id not in ("association", "labellisation")}
    | {step.id for stage in load_process("fnep").stages for step in stage.steps if "_" in step.id}
)


def english_ids_in(text: str) -> list[str]:
    return [word for word in ENGLISH_IDS if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


async def run(api_url_: str, token: str | None, *args: str, columns: int = 200) -> tuple[int, str, str]:
    env = {"LABELLISATION_API_URL": api_url_, "COLUMNS": str(columns)}
    if "PYTHONPATH" in os.environ:  # a test run on another checkout runs that checkout's CLI too
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if token is not None:
        env["LABELLISATION_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        str(CLI), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_missing_token_is_named_with_how_to_give_it(api: Api, api_url: str) -> None:
    code, out, err = await run(api_url, None, "projects", "show", PROJECT)
    assert code == 2 and out == ""
    assert "aucun jeton d'accès" in err and "--token" in err and "LABELLISATION_TOKEN" in err
    assert "injoignable" not in err
    code, _, err = await run(api_url, "", "projects", "list")  # `LABELLISATION_TOKEN=` with nothing after
    assert code == 2 and "aucun jeton d'accès" in err


async def test_show_history_list_and_report_speak_french_only(api: Api, api_url: str) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    await api.call("holder", "POST", f"/projects/{PROJECT}/steps/opportunity_study/submissions", DOCS)
    await api.call(
        "reviewer", "POST", f"/projects/{PROJECT}/steps/opportunity_study/decisions", {"decision": "approve"}
    )
    await api.history()  # every event recorded
    outputs = {}
    for who, args in {
        "show": ("coordinator", ["projects", "show", PROJECT]),
        "history": ("coordinator", ["projects", "history", PROJECT]),
        "list": ("coordinator", ["projects", "list"]),
        "report": ("coordinator", ["report"]),
    }.items():
        code, out, err = await cli(api, api_url, args[0], *args[1])
        assert code == 0, err
        outputs[who] = out
    for name, out in outputs.items():
        assert english_ids_in(out) == [], (name, out)
    assert "étape approuvée" in outputs["history"]
    assert "phase commencée : Association porteuse" in outputs["history"]
    assert "Étude d'opportunité" in outputs["history"]
    assert "Association porteuse" in outputs["list"] and "actif" in outputs["list"]
    assert "par état : actif 1" in outputs["report"]
    assert "Prochain rappel : rappel avant échéance, au porteur de projet, le " in outputs["show"]
    # The demo process counts in minutes: its deadlines are shown with their time.
    assert re.search(r"\d{4} à \d{1,2} h \d\d", outputs["show"])

    code, out, _ = await cli(api, api_url, "coordinator", "projects", "history", PROJECT, "--json")
    assert code == 0 and "step_approved" in [event["kind"] for event in json.loads(out)]


async def test_filters_take_the_ids_and_the_french_words_and_refuse_others_with_the_list(
    api: Api, api_url: str
) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    await api.history()
    for args in (["--state", "actif"], ["--state", "active"], ["--stage", "opportunite"], ["--stage", "opportunity"]):
        code, out, err = await cli(api, api_url, "coordinator", "projects", "list", *args, "--json")
        assert code == 0, err
        assert [item["project_id"] for item in json.loads(out)] == [PROJECT], args
    code, out, err = await cli(api, api_url, "coordinator", "projects", "list", "--stage", "faisabilite", "--json")
    assert code == 0 and json.loads(out) == []  # understood (feasibility), and nobody is there yet
    code, out, err = await cli(api, api_url, "coordinator", "projects", "list", "--state", "fini")
    assert code == 2 and out == ""
    assert "--state : « fini » inconnu ; valeurs possibles : actif (active), en pause (paused)" in err
    code, _, err = await cli(api, api_url, "coordinator", "projects", "list", "--stage", "cantine")
    assert code == 2 and "Étude de faisabilité (feasibility)" in err


async def test_the_status_stays_readable_at_80_columns(api: Api, api_url: str) -> None:
    body = profile(process="fnep")
    assert (await api.call("coordinator", "POST", "/projects", body)).status_code == 201
    project = ProjectDriver(api.env.client.get_workflow_handle(workflow_id(PROJECT)))
    stages = load_process("fnep").stages
    await approve_stages(project, stages[:4])  # into implementation: six parallel steps with long labels
    code, out, err = await run(api_url, api.tokens["coordinator"], "projects", "show", PROJECT, columns=80)
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    steps = sum(len(stage.steps) for stage in stages)
    # One line per step, a second only for the longest labels: not the 45 lines of the 7-column table. How many
    # labels wrap depends on the dates' width (« 10 décembre 2028 » wraps a third one: 26 lines on a start in
    # April 2028, LABELLISATION_TEST_START_DATE), so the bound leaves room for that.
    assert len(lines) <= steps + 15, out
    assert "Recrutement du directeur" in out and "en cours" in out


async def test_a_cohort_is_recorded_from_the_terminal(api: Api, api_url: str) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    project = ProjectDriver(api.env.client.get_workflow_handle(workflow_id(PROJECT)))
    stages = load_process("demo").stages
    await approve_stages(project, stages[: next(i for i, s in enumerate(stages) if s.id == "seeding")])
    args = ["cohort", "record", PROJECT, "--label", "2027-2029", "--enrolled", "12", "--dropouts", "1",
            "--presented", "11", "--passed", "10", "--positive-exits", "10", "--job-offers", "55"]  # fmt: skip
    code, out, err = await cli(api, api_url, "holder", *args, "--json")
    assert code == 0, err
    assert json.loads(out)["current_stage"] == "seeding"
    history = await api.history()
    recorded = [e for e in history if e["kind"] == EventKind.COHORT_RECORDED.value]
    assert [e["data"]["passed"] for e in recorded] == [10]
    code, _, err = await cli(api, api_url, "holder", *args)  # the same cohort again: the workflow refuses it
    assert code == 1 and "la cohorte « 2027-2029 » est déjà enregistrée" in err
