"""Every route × every identity: each allowed one gets the route's own success, the others get 401 or 403.

Each route gets a request it must accept (a setup brings the project where the command is valid: a submission
before a decision, a pause before a resume, the amorçage stage before a cohort), so an allowed identity gets
exactly the success status and a body showing the command took effect: a route answering 404 (or 409, or
anything else) to everyone fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from labellisation.api import projects
from labellisation.contract import Update, workflow_id
from labellisation.path.commands import PauseProject
from labellisation.process import ProcessDefinition, load_process
from tests.support.api import DOCS, PROJECT, Api, profile
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver

EVERYONE = ("coordinator", "reviewer", "holder", "other_holder", None, "bad")
P = f"/projects/{PROJECT}"
STEP = "opportunity_study"
Setup = Callable[[ProjectDriver], Awaitable[None]]
Check = Callable[[str, Any], bool]


def cohort(who: str | None) -> dict[str, Any]:
    """One cohort per identity: recording the same label twice is refused (409), whoever asks."""
    label = {"coordinator": "2028-2030", "holder": "2029-2031"}.get(str(who), "2030-2032")
    return {"label": label, "enrolled": 12, "dropouts": 0, "presented": 12, "passed": 11, "positive_exits": 12,
            "job_offers": 30}  # fmt: skip


def step(body: Any, step_id: str = STEP) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in body["steps"] if s["id"] == step_id)
    return found


async def submitted(project: ProjectDriver) -> None:
    await project.submit(STEP)


async def paused(project: ProjectDriver) -> None:
    await project.update(Update.PAUSE, PauseProject(actor="claire", reason="Attente", review_on=date(2099, 1, 31)))


async def in_seeding(project: ProjectDriver) -> None:
    """Every stage before amorçage approved: cohorts are recorded from then on."""
    stages = load_process("demo").stages
    await approve_stages(project, stages[: next(i for i, s in enumerate(stages) if s.id == "seeding")])


def demo_version_two(_: str) -> ProcessDefinition:
    """What the API loads as the shipped `demo` once FNEP ships its version 2 (for the migration)."""
    return load_process("demo").model_copy(update={"version": 2})


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    #: The request body, or a function of the identity asking.
    body: Any
    #: Each allowed identity and the exact status it gets; everyone else gets 401 (no or bad token) or 403.
    allowed: dict[str, int]
    #: What the answer of an allowed identity shows: (identity, JSON body) -> whether the command took effect.
    check: Check
    setup: Setup | None = None
    #: What the API loads as a shipped process, when the route needs another one than the files.
    shipped: Callable[[str], ProcessDefinition] | None = None

    def body_for(self, who: str | None) -> Any:
        return self.body(who) if callable(self.body) else self.body


ROUTES = [
    Route("POST", "/projects", profile("edp-nouvelle"), {"coordinator": 201},
          lambda _, b: b["project_id"] == "edp-nouvelle" and b["state"] == "active"),
    Route("GET", "/projects", None, dict.fromkeys(("coordinator", "reviewer", "holder", "other_holder"), 200),
          lambda _, b: isinstance(b, list)),
    Route("GET", P, None, dict.fromkeys(("coordinator", "reviewer", "holder"), 200),
          lambda _, b: b["project_id"] == PROJECT and step(b)["status"] == "in_progress"),
    Route("GET", f"{P}/history", None, dict.fromkeys(("coordinator", "reviewer", "holder"), 200),
          lambda _, b: isinstance(b, list)),
    Route("POST", f"{P}/steps/{STEP}/submissions", DOCS, {"holder": 200},
          lambda _, b: step(b)["status"] == "submitted"),
    Route("POST", f"{P}/steps/{STEP}/decisions", {"decision": "approve"}, {"reviewer": 200},
          lambda _, b: step(b)["status"] == "approved", submitted),
    Route("PUT", f"{P}/steps/{STEP}/deadline", {"due_on": "2040-01-31", "reason": "Décalage"}, {"coordinator": 200},
          lambda _, b: step(b)["due_at"].startswith("2040-01-31")),  # end of that day in Paris: 22:59:59 UTC
    Route("POST", f"{P}/pause", {"reason": "Attente", "review_on": "2099-01-31"}, {"coordinator": 200},
          lambda _, b: b["state"] == "paused" and b["pause"]["reason"] == "Attente"),
    Route("POST", f"{P}/resume", {}, {"coordinator": 200}, lambda _, b: b["state"] == "active", paused),
    Route("POST", f"{P}/abandon", {"reason": "Fin"}, {"coordinator": 200}, lambda _, b: b["state"] == "abandoned"),
    Route("GET", "/reports/portfolio", None, {"coordinator": 200}, lambda _, b: isinstance(b["projects"], int)),
    Route("POST", f"{P}/cohorts", cohort, {"coordinator": 200, "holder": 200},
          lambda who, b: cohort(who)["label"] in [c["label"] for c in b["cohorts"]], in_seeding),
    Route("PUT", f"{P}/planned-opening", {"planned_opening": "2029-03-15", "reason": "Travaux"}, {"coordinator": 200},
          lambda _, b: b["planned_opening"] == "2029-03-15"),
    Route("PATCH", f"{P}/profile", {"name": "École de Production du Territoire de Belfort", "reason": "Nom officiel"},
          {"coordinator": 200}, lambda _, b: b["name"] == "École de Production du Territoire de Belfort"),
    Route("GET", f"{P}/migration", None, {"coordinator": 200},
          lambda _, b: (b["project_id"], b["to_version"], b["refusal"]) == (PROJECT, 2, None),
          shipped=demo_version_two),
    Route("POST", f"{P}/migrate", {"reason": "Parcours 2027"}, {"coordinator": 200},
          lambda _, b: b["process_version"] == 2, shipped=demo_version_two),
]  # fmt: skip


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
async def test_route_roles(api: Api, route: Route, monkeypatch: pytest.MonkeyPatch) -> None:
    created = await api.call("coordinator", "POST", "/projects", profile())
    assert created.status_code == 201
    if route.shipped is not None:
        monkeypatch.setattr(projects, "load_process", route.shipped)
    if route.setup is not None:
        await route.setup(ProjectDriver(api.env.client.get_workflow_handle(workflow_id(PROJECT))))
    forbidden = [who for who in EVERYONE if who not in route.allowed]
    for who in forbidden:  # refused ones first: they must change nothing for the allowed ones after
        response = await api.call(who, route.method, route.path, route.body_for(who))
        expected = 401 if who in (None, "bad") else 403
        assert response.status_code == expected, (who, response.text)
        assert response.json()["detail"]
    for who, status in sorted(route.allowed.items()):
        response = await api.call(who, route.method, route.path, route.body_for(who))
        assert response.status_code == status, (who, response.text)
        assert route.check(who, response.json()), (who, response.text)


def test_every_identity_is_allowed_or_refused_somewhere() -> None:
    """The table covers each role on both sides: none is allowed everywhere, each is allowed somewhere."""
    for who in ("coordinator", "reviewer", "holder", "other_holder"):
        assert any(who in r.allowed for r in ROUTES) and any(who not in r.allowed for r in ROUTES), who


async def test_health_is_open_to_anyone(api: Api) -> None:
    assert (await api.call(None, "GET", "/health")).status_code == 200
