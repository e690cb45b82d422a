"""Every route × every identity: the allowed ones get in, the others get 401 or 403."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import DOCS, PROJECT, Api, profile

EVERYONE = ("coordinator", "reviewer", "holder", "other_holder", None, "bad")
P = f"/projects/{PROJECT}"
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/projects", profile("edp-nouvelle"), {"coordinator"}),
    ("GET", "/projects", None, {"coordinator", "reviewer", "holder", "other_holder"}),
    ("GET", P, None, {"coordinator", "reviewer", "holder"}),
    ("GET", f"{P}/history", None, {"coordinator", "reviewer", "holder"}),
    ("POST", f"{P}/steps/opportunity_study/submissions", DOCS, {"holder"}),
    ("POST", f"{P}/steps/opportunity_study/decisions", {"decision": "approve"}, {"reviewer"}),
    ("PUT", f"{P}/steps/opportunity_study/deadline", {"due_on": "2099-01-31", "reason": "Décalage"}, {"coordinator"}),
    ("POST", f"{P}/pause", {"reason": "Attente", "review_on": "2099-01-31"}, {"coordinator"}),
    ("POST", f"{P}/resume", {}, {"coordinator"}),
    ("POST", f"{P}/abandon", {"reason": "Fin"}, {"coordinator"}),
    ("GET", "/reports/portfolio", None, {"coordinator"}),
    (
        "POST",
        f"{P}/cohorts",
        {
            "label": "2028-2030",
            "enrolled": 12,
            "dropouts": 0,
            "presented": 12,
            "passed": 11,
            "positive_exits": 12,
            "job_offers": 30,
        },
        {"coordinator", "holder"},
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
async def test_route_roles(api: Api, method: str, path: str, body: Any, allowed: set[str]) -> None:
    created = await api.call("coordinator", "POST", "/projects", profile())
    assert created.status_code == 201
    forbidden = [who for who in EVERYONE if who not in allowed]
    for who in forbidden:  # refused ones first: they must change nothing for the allowed ones after
        response = await api.call(who, method, path, body)
        expected = 401 if who in (None, "bad") else 403
        assert response.status_code == expected, (who, response.text)
        assert response.json()["detail"]
    for who in sorted(allowed):
        response = await api.call(who, method, path, body)
        # allowed in: the answer is the route's own (success, or a business 404/409), never 401/403/5xx
        assert response.status_code not in (401, 403), (who, response.text)
        assert response.status_code < 500, (who, response.text)


async def test_health_is_open_to_anyone(api: Api) -> None:
    assert (await api.call(None, "GET", "/health")).status_code == 200
