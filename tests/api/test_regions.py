"""Regions (issue #15): a project's region is its department's, kept as a slug; a reviewer or coordinator limited to
regions sees, lists, reports on and decides only the projects of those regions, on every route.

Region A is Bourgogne-Franche-Comté (PROJECT, Belfort, 90), region B Auvergne-Rhône-Alpes (OTHER, Lyon, 69). A
reviewer and a coordinator of region A get, on A, exactly what the role matrix (tests/api/test_roles.py) gives
their role; on B, 403 and nothing changes.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete

from labellisation.api import projects
from labellisation.contract import SA_REGION, workflow_id
from labellisation.records.tables import EventRow, ProjectRow, StageMeasureRow, StepMeasureRow
from labellisation.tokens import ApiUser, UserRole, create_token
from tests.api.test_roles import ROUTES
from tests.support.api import DOCS, OTHER, PROJECT, Api, profile
from tests.support.driver import ProjectDriver
from tests.support.profiles import make_profile

A, B = "bourgogne-franche-comte", "auvergne-rhone-alpes"
LYON = {"name": "École de Production de Lyon", "region": "Auvergne-Rhône-Alpes", "department": "69", "city": "Lyon",
        "holder": {"name": "Association EdP Lyon", "email": "porteur@edp-lyon.fr"}}  # fmt: skip
#: The people limited to region A, by the role whose row of the matrix they follow.
LIMITED = {"reviewer_a": "reviewer", "coordinator_a": "coordinator"}
OUTSIDE_B = f"le projet {OTHER!r} est hors de vos régions (Bourgogne-Franche-Comté)"
ON_PROJECT = [route for route in ROUTES if f"/projects/{PROJECT}" in route.path]


async def limited_people(api: Api) -> None:
    """A reviewer and a coordinator of region A, beside the fixture's people of every region."""
    people = {
        "reviewer_a": ApiUser(role=UserRole.REVIEWER, name="Rémi Régional", email="remi@fnep.fr", regions=[A]),
        "coordinator_a": ApiUser(role=UserRole.COORDINATOR, name="Cécile Comtoise", email="cecile@fnep.fr",
                                 regions=[A]),
    }  # fmt: skip
    for who, user in people.items():
        api.tokens[who] = await create_token(api.store, user)


async def two_projects(api: Api) -> None:
    for project_id, changes in ((PROJECT, {}), (OTHER, LYON)):
        created = await api.call("coordinator", "POST", "/projects", profile(project_id, **changes))
        assert created.status_code == 201, created.text
        await api.history(project_id)  # in the records


def driver(api: Api, project_id: str) -> ProjectDriver:
    return ProjectDriver(api.env.client.get_workflow_handle(workflow_id(project_id)))


async def snapshot(api: Api, project_id: str) -> tuple[Any, Any]:
    """The project's history and status (days overdue aside: they move with the clock), as a coordinator of
    every region sees them."""
    status = (await api.call("coordinator", "GET", f"/projects/{project_id}")).json()
    steps = [{k: v for k, v in s.items() if k != "days_overdue"} for s in status["steps"]]
    return await api.history(project_id), {k: v for k, v in status.items() if k != "steps"} | {"steps": steps}


async def ids(api: Api, who: str, query: str = "") -> list[str]:
    response = await api.call(who, "GET", f"/projects{query}")
    assert response.status_code == 200, response.text
    return [p["project_id"] for p in response.json()]


@pytest.mark.parametrize("route", ON_PROJECT, ids=[f"{r.method} {r.path}" for r in ON_PROJECT])
async def test_a_person_limited_to_region_a_reaches_a_project_of_a_only(
    api: Api, route: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await limited_people(api)
    await two_projects(api)
    if route.shipped is not None:
        monkeypatch.setattr(projects, "load_process", route.shipped)
    if route.setup is not None:  # both projects where the command is valid: B's 403 is its region's, never its state's
        for project_id in (PROJECT, OTHER):
            await route.setup(driver(api, project_id))
    before = await snapshot(api, OTHER)
    on_b = route.path.replace(f"/projects/{PROJECT}", f"/projects/{OTHER}")
    for who, role in LIMITED.items():
        response = await api.call(who, route.method, on_b, route.body_for(role))
        assert response.status_code == 403, (who, response.text)
        if role in route.allowed:  # their role may, their region may not
            assert response.json() == {"detail": OUTSIDE_B}, who
    assert await snapshot(api, OTHER) == before
    refused = [(who, role) for who, role in LIMITED.items() if role not in route.allowed]
    allowed = [(who, role) for who, role in LIMITED.items() if role in route.allowed]
    for who, role in refused + allowed:  # on A, exactly their role's row of the matrix
        response = await api.call(who, route.method, route.path, route.body_for(role))
        if role in route.allowed:
            assert response.status_code == route.allowed[role], (who, response.text)
            assert route.check(role, response.json()), (who, response.text)
        else:
            assert response.status_code == 403, (who, response.text)
            assert response.json()["detail"].startswith("action réservée au rôle"), (who, response.text)


async def test_lists_and_reports_count_only_their_regions(api: Api) -> None:
    await limited_people(api)
    await two_projects(api)
    path = f"/projects/{OTHER}/steps/opportunity_study"  # a step approved in B only: its median is B's
    assert (await api.call("other_holder", "POST", f"{path}/submissions", DOCS)).status_code == 200
    assert (await api.call("reviewer", "POST", f"{path}/decisions", {"decision": "approve"})).status_code == 200
    await api.history(OTHER)

    assert await ids(api, "coordinator") == [PROJECT, OTHER]
    assert await ids(api, "reviewer", "?region=Auvergne-Rhône-Alpes") == [OTHER]
    for who in LIMITED:
        assert await ids(api, who) == [PROJECT]
        assert await ids(api, who, "?region=Bourgogne-Franche-Comté") == [PROJECT]
        assert await ids(api, who, f"?region={A}&stage=opportunity") == [PROJECT]
        outside = await api.call(who, "GET", f"/projects?region={B}")
        assert (outside.status_code, outside.json()) == (
            403, {"detail": "la région Auvergne-Rhône-Alpes est hors de vos régions (Bourgogne-Franche-Comté)"},
        )  # fmt: skip
    unknown = await api.call("reviewer_a", "GET", "/projects?region=Rhône-Alpes")
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("region : « Rhône-Alpes » n'est pas une région ; régions : ")

    everything = (await api.call("coordinator", "GET", "/reports/portfolio")).json()
    assert (everything["projects"], everything["by_region"]) == (2, {A: 1, B: 1})
    assert "opportunity_study" in everything["median_days_per_step"]
    theirs = await api.call("coordinator_a", "GET", "/reports/portfolio")
    assert theirs.status_code == 200, theirs.text
    report = theirs.json()
    assert (report["projects"], report["by_region"], report["by_stage"]) == (1, {A: 1}, {"opportunity": 1})
    assert report["median_days_per_step"] == {}  # B's approval is not theirs to count
    assert (await api.call("reviewer_a", "GET", "/reports/portfolio")).status_code == 403  # coordinators only


async def test_a_coordinator_of_a_starts_and_moves_projects_within_a_only(api: Api) -> None:
    await limited_people(api)
    refused = await api.call("coordinator_a", "POST", "/projects", profile(OTHER, **LYON))
    assert (refused.status_code, refused.json()) == (
        403, {"detail": "la région Auvergne-Rhône-Alpes est hors de vos régions (Bourgogne-Franche-Comté)"},
    )  # fmt: skip
    assert (await api.call("coordinator", "GET", f"/projects/{OTHER}")).status_code == 404  # nothing started
    started = await api.call("coordinator_a", "POST", "/projects", profile())
    assert started.status_code == 201, started.text
    assert started.json()["region"] == A
    history = await api.history()
    moved = await api.call("coordinator_a", "PATCH", f"/projects/{PROJECT}/profile",
                           {"department": "69", "reason": "Déménagement"})  # fmt: skip
    assert (moved.status_code, moved.json()) == (
        403, {"detail": "la région Auvergne-Rhône-Alpes est hors de vos régions (Bourgogne-Franche-Comté)"},
    )  # fmt: skip
    assert await api.history() == history
    within = await api.call("coordinator_a", "PATCH", f"/projects/{PROJECT}/profile",
                            {"department": "25", "city": "Besançon", "reason": "Déménagement"})  # fmt: skip
    assert within.status_code == 200, within.text
    assert within.json()["region"] == A


async def test_a_new_project_s_region_is_its_department_s_slug_and_people_read_its_name(api: Api) -> None:
    without = profile()
    del without["region"]
    started = await api.call("coordinator", "POST", "/projects", without)
    assert started.status_code == 201, started.text
    assert started.json()["region"] == A
    lyon = await api.call("coordinator", "POST", "/projects", profile(OTHER, **(LYON | {"region": B})))
    assert lyon.status_code == 201, lyon.text
    handle = api.env.client.get_workflow_handle(workflow_id(PROJECT))
    description = await handle.describe()
    assert description.typed_search_attributes.get(SA_REGION) == A
    assert "**Région** : Bourgogne-Franche-Comté (90)" in (await description.static_details() or "")
    await api.history()
    record = await api.store.project(PROJECT)
    assert record is not None and (record.region, record.profile["region"]) == (A, A)
    moved = await api.call("coordinator", "PATCH", f"/projects/{PROJECT}/profile",
                           {"department": "67", "city": "Strasbourg", "reason": "Déménagement"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert moved.json()["region"] == "grand-est"  # the region follows the department
    await api.history()  # a region alone is checked against the department in the records
    same = await api.call("coordinator", "PATCH", f"/projects/{PROJECT}/profile",
                          {"region": "Grand Est", "reason": "Même région"})  # fmt: skip
    assert same.status_code == 200, same.text


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"region": "Rhône-Alpes", "department": "69"},
         "contenu invalide : region : « Rhône-Alpes » n'est pas une région ; régions : Auvergne-Rhône-Alpes "
         "(auvergne-rhone-alpes), Bourgogne-Franche-Comté (bourgogne-franche-comte), "),
        ({"region": "Grand Est"},
         "contenu invalide : region : « Grand Est » n'est pas la région du département 90, qui est en "
         "Bourgogne-Franche-Comté (bourgogne-franche-comte) ; sans region, le département la donne"),
        ({"department": "20"},
         "contenu invalide : department : « 20 » n'est pas un département français (01 à 95, 2A, 2B, 971 à 976)"),
        ({"department": "96", "region": None},
         "contenu invalide : department : « 96 » n'est pas un département français"),
    ],
    ids=["unknown region", "another department's region", "unknown department", "unknown department, no region"],
)  # fmt: skip
async def test_a_start_with_a_wrong_region_or_department_names_the_field_and_creates_nothing(
    api: Api, changes: dict[str, Any], detail: str
) -> None:
    body = {k: v for k, v in profile(**changes).items() if v is not None}
    response = await api.call("coordinator", "POST", "/projects", body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(detail)
    assert (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).status_code == 404
    assert await ids(api, "coordinator") == []


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"region": "Rhône-Alpes"}, "contenu invalide : region : « Rhône-Alpes » n'est pas une région ; régions : "),
        ({"region": "Grand Est"},
         "contenu invalide : region : « Grand Est » n'est pas la région du département du projet, qui est en "
         "Bourgogne-Franche-Comté (bourgogne-franche-comte) ; pour changer de région, donnez son department"),
        ({"region": "Occitanie", "department": "69"},
         "contenu invalide : region : « Occitanie » n'est pas la région du département 69, qui est en "
         "Auvergne-Rhône-Alpes (auvergne-rhone-alpes)"),
        ({"department": "975"}, "contenu invalide : department : « 975 » n'est pas un département français"),
    ],
    ids=["unknown region", "not the project's department's", "not the new department's", "unknown department"],
)  # fmt: skip
async def test_a_profile_change_with_a_wrong_region_or_department_names_the_field_and_changes_nothing(
    api: Api, changes: dict[str, Any], detail: str
) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    before = await snapshot(api, PROJECT)
    response = await api.call("coordinator", "PATCH", f"/projects/{PROJECT}/profile", changes | {"reason": "r"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(detail)
    assert await snapshot(api, PROJECT) == before


async def test_a_project_not_yet_in_the_records_is_placed_by_its_workflow(api: Api) -> None:
    await limited_people(api)
    await two_projects(api)
    async with api.store.sessions.begin() as session:  # as in the moment after a start, before its first record
        for table in (StepMeasureRow, StageMeasureRow, EventRow, ProjectRow):
            await session.execute(delete(table))
    assert (await api.call("reviewer_a", "GET", f"/projects/{PROJECT}")).status_code == 200
    response = await api.call("reviewer_a", "GET", f"/projects/{OTHER}")
    assert (response.status_code, response.json()) == (403, {"detail": OUTSIDE_B})
    unknown = await api.call("reviewer_a", "GET", "/projects/edp-inconnue")  # like a holder: nothing learnt
    assert unknown.status_code == 403
    assert (await api.call("reviewer", "GET", "/projects/edp-inconnue")).status_code == 404


async def test_old_projects_free_text_regions_are_read_robustly(api: Api, task_queue: str) -> None:
    """Projects started before regions were checked keep their text in their workflow: the portfolio reads it as a
    region or by the department; a text naming neither is seen by people of every region only."""
    await limited_people(api)
    api.tokens["reviewer_b"] = await create_token(
        api.store, ApiUser(role=UserRole.REVIEWER, name="Bruno Rhodanien", email="bruno@fnep.fr", regions=[B])
    )
    texts = {"edp-rhone": ("Rhône-Alpes", "69"), "edp-doubs": ("bourgogne franche comte", "25"),
             "edp-vague": ("Région lyonnaise", "Rhône")}  # fmt: skip
    for project_id, (region, department) in texts.items():
        old = make_profile(project_id).model_copy(update={"region": region, "department": department})
        project = await ProjectDriver.start(api.env.client, task_queue, old, process="demo")
        assert (await project.status()).region == region  # the workflow keeps its text
        await api.history(project_id)
    regions = {p["project_id"]: p["region"] for p in (await api.call("coordinator", "GET", "/projects")).json()}
    assert regions == {"edp-rhone": B, "edp-doubs": A, "edp-vague": "Région lyonnaise"}
    assert await ids(api, "reviewer_a") == ["edp-doubs"]
    assert await ids(api, "reviewer_b") == ["edp-rhone"]
    for who, project_id, status in (("reviewer_a", "edp-doubs", 200), ("reviewer_a", "edp-rhone", 403),
                                    ("reviewer_b", "edp-rhone", 200), ("reviewer_b", "edp-vague", 403),
                                    ("reviewer", "edp-vague", 200)):  # fmt: skip
        response = await api.call(who, "GET", f"/projects/{project_id}")
        assert response.status_code == status, (who, project_id, response.text)
    # Its department named, an old project's region becomes its slug (the history keeps the text before).
    fixed = await api.call("coordinator", "PATCH", "/projects/edp-vague/profile",
                           {"department": "69", "reason": "Département en code"})  # fmt: skip
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["region"] == B
    await api.history("edp-vague")  # the records follow a moment later
    assert (await api.call("reviewer_b", "GET", "/projects/edp-vague")).status_code == 200
