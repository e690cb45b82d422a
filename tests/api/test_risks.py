"""`GET /reports/risks` (#19 item 3): an explainable delay risk per project under way, on real workflow runs."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from tests.support.api import DOCS, OTHER, PROJECT, Api, profile

STEP = "opportunity_study"


async def moment(api: Api) -> str:
    """The time-skipping server's now (the workflows' clock), for `as_of`."""
    return quote((await api.env.get_current_time()).isoformat())


async def test_the_riskiest_project_comes_first_with_each_reason(api: Api) -> None:
    for project in (PROJECT, OTHER):
        assert (await api.call("coordinator", "POST", "/projects", profile(project, process="fnep"))).status_code == 201
    for _ in range(3):  # Belfort: three requests for changes
        assert (
            await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)
        ).status_code == 200
        changes = {"decision": "request_changes", "comment": "Chiffrer les besoins"}
        decided = await api.call("reviewer", "POST", f"/projects/{PROJECT}/steps/{STEP}/decisions", changes)
        assert decided.status_code == 200, decided.text
    await api.history(PROJECT)
    await api.history(OTHER)
    fresh = await api.call("coordinator", "GET", f"/reports/risks?as_of={await moment(api)}")
    assert fresh.status_code == 200
    [belfort] = fresh.json()
    assert belfort["project_id"] == PROJECT and belfort["score"] == 4
    assert belfort["reasons"] == [{"points": 4, "reason": "3 demandes de modifications dans la phase"}]

    # 45 days later with nothing done: both idle (15 days past the 30: 1 point); Belfort still ahead
    await api.env.sleep(timedelta(days=45))
    later = (await api.call("coordinator", "GET", f"/reports/risks?as_of={await moment(api)}")).json()
    assert [r["project_id"] for r in later] == [PROJECT, OTHER]
    assert later[1]["reasons"] == [{"points": 1, "reason": "aucune activité depuis 45 jours"}]
    assert (await api.call("reviewer", "GET", "/reports/risks")).status_code == 403
