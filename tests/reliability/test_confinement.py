"""Tokens are checked by their hash only, and a holder can never see or change another project."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from labellisation.api.app import create_app
from labellisation.records.tables import TokenRow
from labellisation.settings import Settings
from tests.api.test_roles import ROUTES
from tests.reliability.figures import report, tally
from tests.support.api import DOCS, OTHER, PROJECT, Api, profile

#: Every route on one project, from the role matrix: (method, path, body).
ON_PROJECT = [
    (route.method, route.path, route.body_for("other_holder"))
    for route in ROUTES
    if f"/projects/{PROJECT}" in route.path
]


async def stored_hash(api: Api, who: str) -> str:
    async with api.store.sessions() as session:
        hashes = list(await session.scalars(select(TokenRow.token_hash)))
    digest = hashlib.sha256(api.tokens[who].encode()).hexdigest()
    assert digest in hashes  # only the hash is stored...
    assert api.tokens[who] not in hashes  # ...never the token itself
    return digest


async def test_only_the_exact_token_gets_in_never_a_neighbour_nor_the_stored_hash(api: Api) -> None:
    token = api.tokens["holder"]
    digest = await stored_hash(api, "holder")
    neighbours = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:5] + ("x" if token[5] != "x" else "y") + token[6:],
        token + "=",
        digest,
    ]
    assert token not in neighbours
    for candidate in neighbours:
        api.tokens["candidate"] = candidate
        response = await api.call("candidate", "GET", "/projects")
        assert response.status_code == 401, candidate
        assert response.json() == {"detail": "jeton invalide"}
    assert (await api.call("holder", "GET", "/projects")).status_code == 200
    report("near-miss tokens refused (one char off, the stored hash)", len(neighbours))


def test_the_matrix_covers_every_route_on_a_project() -> None:
    paths = create_app(Settings()).openapi()["paths"]
    routes = {(method.upper(), path) for path, item in paths.items() if "{project_id}" in path for method in item}
    covered = {
        (method, path.replace(PROJECT, "{project_id}").replace("opportunity_study", "{step}"))
        for method, path, _ in ON_PROJECT
    }
    assert routes == covered


async def snapshot(api: Api) -> tuple[Any, Any]:
    status = (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).json()
    return await api.history(PROJECT), {k: v for k, v in status.items() if k != "steps"} | {
        "steps": [{k: v for k, v in s.items() if k != "days_overdue"} for s in status["steps"]]
    }


@pytest.mark.parametrize(("method", "path", "body"), ON_PROJECT, ids=[f"{m} {p}" for m, p, _ in ON_PROJECT])
async def test_a_holder_cannot_touch_another_project(api: Api, method: str, path: str, body: Any) -> None:
    for project_id in (PROJECT, OTHER):
        created = await api.call("coordinator", "POST", "/projects", profile(project_id))
        assert created.status_code == 201, created.text
    submitted = await api.call("holder", "POST", f"/projects/{PROJECT}/steps/opportunity_study/submissions", DOCS)
    assert submitted.status_code == 200, submitted.text
    before = await snapshot(api)
    response = await api.call("other_holder", method, path, body)
    assert response.status_code == 403, response.text
    assert list(response.json()) == ["detail"]  # one sentence, nothing of B
    assert await snapshot(api) == before
    listed = await api.call("other_holder", "GET", f"/projects?region={profile()['region']}")
    assert [p["project_id"] for p in listed.json()] == [OTHER]
    assert [p["project_id"] for p in (await api.call("other_holder", "GET", "/projects")).json()] == [OTHER]
    tally("routes on another project refused to a holder (403, nothing changed)")
