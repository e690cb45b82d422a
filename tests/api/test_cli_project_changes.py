"""`labellisation planned-opening`, `profile` and `migrate` against a running API (real HTTP on a loopback port)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from labellisation.api import projects
from labellisation.contract import Update, workflow_id
from labellisation.path.commands import PauseProject
from labellisation.process import ProcessDefinition, load_process
from tests.api.test_cli import api_url, cli
from tests.support.api import Api, profile
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver

__all__ = ["api_url"]


async def start(api: Api, *project_ids: str) -> None:
    for project_id in project_ids:
        response = await api.call("coordinator", "POST", "/projects", profile(project_id))
        assert response.status_code == 201, response.text


async def test_the_planned_opening_moves_and_a_past_one_is_refused(api: Api, api_url: str) -> None:
    await start(api, "edp-belfort")
    code, out, err = await cli(api, api_url, "coordinator", "planned-opening", "edp-belfort", "2029-03-15",
                               "--reason", "Travaux retardés", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["planned_opening"] == "2029-03-15"
    code, out, err = await cli(api, api_url, "coordinator", "planned-opening", "edp-belfort", "2020-09-01",
                               "--reason", "Erreur")  # fmt: skip
    assert (code, out) == (1, "")
    assert "Refusé (422) : planned_opening : l'ouverture prévue (1er septembre 2020) est passée" in err
    code, _, err = await cli(api, api_url, "coordinator", "planned-opening", "edp-belfort", "15/03/2029",
                             "--reason", "x")  # fmt: skip
    assert code == 1 and "  planned_opening : date invalide, attendue AAAA-MM-JJ (« 15/03/2029 »)" in err
    history = await api.history("edp-belfort")
    assert [e["kind"] for e in history].count("planned_opening_changed") == 1


async def test_the_profile_changes_the_holder_both_name_and_address(api: Api, api_url: str) -> None:
    await start(api, "edp-belfort")
    code, _, err = await cli(api, api_url, "coordinator", "profile", "edp-belfort", "--holder-email",
                             "direction@edp90.fr", "--reason", "Association créée")  # fmt: skip
    assert code == 1 and "  --holder-name : obligatoire" in err  # nothing sent
    code, out, err = await cli(
        api, api_url, "coordinator", "profile", "edp-belfort", "--holder-name", "EdP du Territoire de Belfort",
        "--holder-email", "direction@edp90.fr", "--city", "Montbéliard", "--trade", "Usinage", "--trade", "Soudure",
        "--reason", "Association créée",
    )  # fmt: skip
    assert code == 0, err
    assert "Étude d'opportunité" in out  # the status, as `projects show` prints it
    event = (await api.history("edp-belfort"))[-1]
    assert event["kind"] == "profile_updated"
    assert event["data"]["after"] == {
        "city": "Montbéliard", "trades": ["Usinage", "Soudure"],
        "holder": {"name": "EdP du Territoire de Belfort", "email": "direction@edp90.fr"},
    }  # fmt: skip
    code, _, err = await cli(api, api_url, "coordinator", "profile", "edp-belfort", "--reason", "Rien")
    assert code == 1 and "rien à changer" in err


async def test_a_coordinator_moves_the_opening_and_sees_the_new_declaration_and_its_reminders(
    api: Api, api_url: str
) -> None:
    """The issue's "done when", on the `fnep` path: a project in its implementation stage, opening moved to
    15 March 2029. The declaration is due 15 December 2028 (three months before, end of the day); its
    reminders are in the status's upcoming reminders, worked out below."""
    response = await api.call("coordinator", "POST", "/projects", profile(process="fnep"))
    assert response.status_code == 201, response.text
    project = ProjectDriver(api.env.client.get_workflow_handle(workflow_id("edp-belfort")))
    await approve_stages(project, load_process("fnep").stages[:4])
    code, _, err = await cli(api, api_url, "coordinator", "planned-opening", "edp-belfort", "2029-03-15",
                             "--reason", "Travaux retardés")  # fmt: skip
    assert code == 0, err

    code, out, err = await cli(api, api_url, "coordinator", "projects", "show", "edp-belfort")
    assert code == 0, err
    declaration = next(line for line in out.splitlines() if "Déclaration d'ouverture" in line)
    assert "15 décembre 2028" in declaration
    code, out, _ = await cli(api, api_url, "coordinator", "projects", "show", "edp-belfort", "--json")
    status = json.loads(out)
    assert status["planned_opening"] == "2029-03-15"
    reminders = [(r["kind"], r["at"]) for r in status["upcoming_reminders"] if r["step"] == "opening_declaration"]
    assert reminders == [
        ("before_due", "2028-11-15T09:00:00+01:00"),  # 30 days before: Wednesday 15 November
        ("before_due", "2028-12-08T09:00:00+01:00"),  # 7 days before: Friday 8 December
        ("overdue", "2028-12-18T09:00:00+01:00"),  # the first working morning after Friday 15 December
        ("escalation", "2029-01-05T09:00:00+01:00"),  # the 21st day late, Friday 5 January
        ("pause_advised", "2029-01-29T09:00:00+01:00"),  # the 45th, Monday 29 January
    ]


def demo_version_two(_: str) -> ProcessDefinition:
    data: dict[str, Any] = load_process("demo").model_dump(mode="json")
    data["version"] = 2
    data["stages"][0]["steps"].append({"id": "insurance", "label": "Assurance des locaux", "duration": "PT3M"})
    return ProcessDefinition.model_validate(data)


async def test_every_project_of_a_process_dry_run_first_then_moved(
    api: Api, api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start(api, "edp-aaa", "edp-bbb", "edp-ccc")
    paused = ProjectDriver(api.env.client.get_workflow_handle(workflow_id("edp-bbb")))
    await paused.update(Update.PAUSE, PauseProject(actor="c", reason="Attente", review_on=date(2099, 1, 31)))
    assert (await api.call("coordinator", "POST", "/projects/edp-ccc/abandon", {"reason": "Fin"})).status_code == 200
    for project_id in ("edp-aaa", "edp-bbb", "edp-ccc"):
        await api.history(project_id)  # the portfolio reads the records database: let it catch up
    monkeypatch.setattr(projects, "load_process", demo_version_two)  # FNEP ships demo version 2

    code, out, err = await cli(api, api_url, "coordinator", "migrate", "--process", "demo", "--dry-run")
    assert code == 1, err  # one project would be refused
    assert out.splitlines() == [
        "edp-aaa : version 1 → 2 possible",
        "  - nouvelle étape « Assurance des locaux » (phase « Étude d'opportunité ») : elle commence maintenant",
        "edp-bbb : version 1 → 2 refusé : le projet est en pause : reprenez-le d'abord",
        "1 possibles, 1 refusés, 0 à jour",
    ]  # the abandoned project accepts nothing: not listed
    assert (await api.call("coordinator", "GET", "/projects/edp-aaa")).json()["process_version"] == 1

    code, out, err = await cli(api, api_url, "coordinator", "migrate", "--process", "demo", "--reason", "Parcours 2027")
    assert code == 1, err
    assert out.splitlines()[0] == "edp-aaa : version 1 → 2 faite"
    assert out.splitlines()[-1] == "1 migrés, 1 refusés, 0 à jour"
    status = (await api.call("coordinator", "GET", "/projects/edp-aaa")).json()
    assert status["process_version"] == 2 and [s["id"] for s in status["steps"]][:2] == [
        "opportunity_study",
        "insurance",
    ]
    assert (await api.call("coordinator", "GET", "/projects/edp-bbb")).json()["process_version"] == 1

    code, out, _ = await cli(api, api_url, "coordinator", "migrate", "edp-aaa", "--dry-run", "--json")
    assert code == 0 and [(p["up_to_date"], p["migrated"]) for p in json.loads(out)] == [(True, False)]
    code, out, _ = await cli(api, api_url, "coordinator", "migrate", "edp-aaa", "--reason", "Encore")
    assert (code, out) == (0, "edp-aaa : à jour (version 2)\n0 refusés, 1 à jour\n")


async def test_migrate_needs_one_project_or_a_process_and_a_reason(api: Api, api_url: str) -> None:
    code, _, err = await cli(api, api_url, "coordinator", "migrate", "--reason", "x")
    assert code == 2 and "donnez un projet, ou --process" in err
    code, _, err = await cli(api, api_url, "coordinator", "migrate", "edp-aaa", "--process", "demo", "--reason", "x")
    assert code == 2
    code, _, err = await cli(api, api_url, "coordinator", "migrate", "edp-aaa")
    assert code == 2 and "--reason est obligatoire" in err
