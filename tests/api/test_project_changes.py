"""The coordinator changes a running project: its planned opening, its profile, the version of its process.

Over the real API, worker and time-skipping Temporal server (the `api` fixture, `demo` process: the
opening declaration is due three minutes before the end of the opening day, in Paris).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from labellisation.api import projects
from labellisation.contract import SA_REGION, workflow_id
from labellisation.process import ProcessDefinition, load_process
from tests.support.api import PROJECT, Api, profile
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver

P = f"/projects/{PROJECT}"


async def start(api: Api) -> ProjectDriver:
    response = await api.call("coordinator", "POST", "/projects", profile())
    assert response.status_code == 201, response.text
    return ProjectDriver(api.env.client.get_workflow_handle(workflow_id(PROJECT)))


def step(status: dict[str, Any], step_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in status["steps"] if s["id"] == step_id)
    return found


def due(status: dict[str, Any], step_id: str) -> datetime:
    return datetime.fromisoformat(step(status, step_id)["due_at"]).astimezone(UTC)


async def test_moving_the_opening_moves_the_declaration_and_is_in_the_history(api: Api) -> None:
    project = await start(api)
    await approve_stages(project, load_process("demo").stages[:4])  # into the implementation stage
    before = due((await api.call("coordinator", "GET", P)).json(), "opening_declaration")
    assert before == datetime(2028, 9, 1, 21, 56, 59, tzinfo=UTC)  # 1 September 2028, 23:56:59 in Paris (summer)

    body = {"planned_opening": "2029-03-15", "reason": "Travaux des locaux retardés"}
    response = await api.call("coordinator", "PUT", f"{P}/planned-opening", body)
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["planned_opening"] == "2029-03-15"
    moved = datetime(2029, 3, 15, 22, 56, 59, tzinfo=UTC)  # 15 March 2029, 23:56:59 in Paris (winter)
    assert due(status, "opening_declaration") == moved
    assert due((await api.call("holder", "GET", P)).json(), "opening_declaration") == moved
    event = (await api.history())[-1]
    assert (event["kind"], event["comment"], event["actor"]) == (
        "planned_opening_changed", "Travaux des locaux retardés", "Claire Coordination <claire@fnep.fr>",
    )  # fmt: skip
    assert event["data"]["previous_planned_opening"] == "2028-09-01"
    assert event["data"]["deadlines"]["opening_declaration"]["due_at"] == "2029-03-15T23:56:59+01:00"
    listed = (await api.call("coordinator", "GET", "/projects")).json()
    assert [p["planned_opening"] for p in listed] == ["2029-03-15"]


async def test_an_opening_already_past_is_refused_with_the_reason(api: Api) -> None:
    await start(api)
    response = await api.call("coordinator", "PUT", f"{P}/planned-opening", {"planned_opening": "2020-09-01",
                                                                              "reason": "Erreur"})  # fmt: skip
    assert response.status_code == 422
    assert response.json() == {"detail": "planned_opening : l'ouverture prévue (1er septembre 2020) est passée"}
    missing = await api.call("coordinator", "PUT", f"{P}/planned-opening", {"planned_opening": "2029-03-15"})
    assert missing.status_code == 422 and "reason" in missing.json()["detail"]


async def test_a_new_holder_and_region_are_kept_with_the_old_ones_in_the_history(api: Api) -> None:
    project = await start(api)
    body = {
        "holder": {"name": "Association EdP du Territoire de Belfort", "email": "direction@edp90.fr"},
        "region": "Grand Est",  # with its department: a region is the department's (its slug kept)
        "department": "67",
        "reason": "L'association porteuse est créée",
    }
    response = await api.call("coordinator", "PATCH", f"{P}/profile", body)
    assert response.status_code == 200, response.text
    assert response.json()["region"] == "grand-est"
    event = (await api.history())[-1]
    assert event["kind"] == "profile_updated" and event["comment"] == "L'association porteuse est créée"
    assert event["data"] == {
        "before": {"region": "bourgogne-franche-comte", "department": "90",
                   "holder": {"name": "Association EdP Belfort", "email": "porteur@edp-belfort.fr"}},
        "after": {"region": "grand-est", "department": "67", "holder": body["holder"]},
    }  # fmt: skip
    record = await api.store.project(PROJECT)
    assert record is not None and record.holder_email == "direction@edp90.fr" and record.region == "grand-est"
    assert [p["project_id"] for p in (await api.call("coordinator", "GET", "/projects?region=Grand Est")).json()] == [
        PROJECT
    ]
    description = await project.handle.describe()
    assert description.typed_search_attributes.get(SA_REGION) == "grand-est"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"planned_opening": "2029-03-15", "reason": "r"},
         "contenu invalide : planned_opening : la date d'ouverture prévue se change à part, avec ses échéances "
         "(PUT /projects/{id}/planned-opening, `labellisation planned-opening`, update change_planned_opening)"),
        ({"project_id": "edp-autre", "reason": "r"},
         "contenu invalide : project_id : l'identifiant d'un projet ne change pas"),
        ({"reason": "r"}, "contenu invalide : rien à changer : donnez au moins un champ du profil (name, region, "
                          "department, city, academy, trades, diplomas, capacity, holder)"),
        ({"city": "Montbéliard"}, "contenu invalide : reason: Field required"),
        ({"holder": {"email": "direction@edp90.fr"}, "reason": "r"}, "contenu invalide : holder.name: Field required"),
    ],
    ids=["planned opening", "project id", "nothing", "no reason", "holder without a name"],
)  # fmt: skip
async def test_a_profile_change_that_cannot_be_made_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], detail: str
) -> None:
    await start(api)
    response = await api.call("coordinator", "PATCH", f"{P}/profile", body)
    assert (response.status_code, response.json()) == (422, {"detail": detail})


def demo(version: int, edit: Any = None) -> ProcessDefinition:
    data = load_process("demo").model_dump(mode="json")
    data["version"] = version
    if edit is not None:
        edit(data)
    return ProcessDefinition.model_validate(data)


def with_insurance(data: dict[str, Any]) -> None:
    opportunity = next(s for s in data["stages"] if s["id"] == "opportunity")
    opportunity["steps"].append({"id": "insurance", "label": "Assurance des locaux", "duration": "PT3M"})


def without_the_study(data: dict[str, Any]) -> None:
    data["stages"] = [s for s in data["stages"] if s["id"] != "opportunity"]


async def test_a_dry_run_then_the_migration_to_the_shipped_version(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    await start(api)
    up_to_date = (await api.call("coordinator", "GET", f"{P}/migration")).json()
    assert up_to_date["up_to_date"] and up_to_date["refusal"] == "le projet suit déjà la version 1 du parcours « demo »"

    monkeypatch.setattr(projects, "load_process", lambda _: demo(2, with_insurance))  # FNEP ships version 2
    plan = await api.call("coordinator", "GET", f"{P}/migration")
    assert plan.status_code == 200, plan.text
    assert plan.json() | {"changes": []} == {
        "project_id": PROJECT, "process": "demo", "from_version": 1, "to_version": 2, "changes": [],
        "added": ["insurance"], "removed": [], "starting": ["insurance"], "refusal": None, "refusal_code": None,
        "up_to_date": False,
    }  # fmt: skip
    assert plan.json()["changes"][1] == (
        "nouvelle étape « Assurance des locaux » (phase « Étude d'opportunité ») : elle commence maintenant"
    )
    assert [e["kind"] for e in await api.history()][-1] == "step_started"  # the dry run changed nothing

    stale = await api.call("coordinator", "POST", f"{P}/migrate", {"reason": "Parcours 2027", "process_version": 3})
    assert (stale.status_code, stale.json()["detail"]) == (
        409, "process_version : la version livrée du parcours « demo » est la 2, pas la 3",
    )  # fmt: skip
    response = await api.call("coordinator", "POST", f"{P}/migrate", {"reason": "Parcours 2027", "process_version": 2})
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["process_version"] == 2
    assert step(status, "insurance")["status"] == "in_progress" and step(status, "insurance")["label"] == (
        "Assurance des locaux"
    )
    events = await api.history()
    assert [e["kind"] for e in events[-2:]] == ["project_migrated", "step_started"]
    assert events[-2]["data"]["to_version"] == 2 and events[-2]["comment"] == "Parcours 2027"
    assert (await api.store.project(PROJECT)).process_version == 2  # type: ignore[union-attr]
    again = await api.call("coordinator", "POST", f"{P}/migrate", {"reason": "Parcours 2027"})
    assert again.status_code == 409
    assert again.json() == {"detail": "le projet suit déjà la version 2 du parcours « demo »"}


async def test_a_migration_that_would_lose_a_step_is_refused_and_the_dry_run_says_why(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start(api)
    monkeypatch.setattr(projects, "load_process", lambda _: demo(2, without_the_study))
    why = "l'étape « Étude d'opportunité » (en cours) disparaîtrait de la version 2 : " + (
        "un projet ne perd pas une étape commencée ou décidée"
    )
    plan = (await api.call("coordinator", "GET", f"{P}/migration")).json()
    assert (plan["refusal"], plan["refusal_code"], plan["up_to_date"]) == (why, "conflict", False)
    response = await api.call("coordinator", "POST", f"{P}/migrate", {"reason": "Parcours 2027"})
    assert (response.status_code, response.json()) == (409, {"detail": why})
    assert (await api.call("coordinator", "GET", P)).json()["process_version"] == 1


async def test_commands_on_an_unknown_project_are_404(api: Api) -> None:
    for method, path, body in [
        ("PUT", "/projects/edp-inconnue/planned-opening", {"planned_opening": "2029-03-15", "reason": "r"}),
        ("PATCH", "/projects/edp-inconnue/profile", {"city": "Belfort", "reason": "r"}),
        ("GET", "/projects/edp-inconnue/migration", None),
        ("POST", "/projects/edp-inconnue/migrate", {"reason": "r"}),
    ]:
        response = await api.call("coordinator", method, path, body)
        assert (response.status_code, response.json()) == (404, {"detail": "projet inconnu : 'edp-inconnue'"}), path
