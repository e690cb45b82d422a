"""The HTTP API as its users use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from labellisation.api.app import create_app
from labellisation.contract import Update
from labellisation.converter import data_converter
from labellisation.path.status import ProjectStatus
from labellisation.process import load_process
from labellisation.settings import Settings
from tests.support.api import DOCS, OTHER, PROJECT, Api, profile

APPROVE = {"decision": "approve", "comment": "", "decision_id": None}


async def start(api: Api, project_id: str = PROJECT, **changes: Any) -> dict[str, Any]:
    response = await api.call("coordinator", "POST", "/projects", profile(project_id, **changes))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def passes(api: Api, step: str, project_id: str = PROJECT) -> dict[str, Any]:
    who = "holder" if project_id == PROJECT else "other_holder"
    submitted = await api.call(who, "POST", f"/projects/{project_id}/steps/{step}/submissions", DOCS)
    assert submitted.status_code == 200, submitted.text
    decided = await api.call("reviewer", "POST", f"/projects/{project_id}/steps/{step}/decisions", APPROVE)
    assert decided.status_code == 200, decided.text
    body: dict[str, Any] = decided.json()
    return body


async def test_the_whole_demo_path_through_the_api_then_its_history_after_the_end(api: Api) -> None:
    status = await start(api)
    assert status["state"] == "active" and status["current_stage"] == "opportunity"
    for stage in load_process("demo").stages:
        if stage.id == "seeding":
            cohort = {"label": "2028-2030", "enrolled": 12, "dropouts": 0, "presented": 12, "passed": 11,
                      "positive_exits": 12, "job_offers": 30}  # fmt: skip
            recorded = await api.call("holder", "POST", f"/projects/{PROJECT}/cohorts", cohort)
            assert recorded.status_code == 200, recorded.text
            assert recorded.json()["cohorts"][0]["passed"] == 11
        for step in stage.steps:
            status = await passes(api, step.id)
    assert status["state"] == "completed"
    await api.env.client.get_workflow_handle(f"school-{PROJECT}").result()
    events = await api.history()
    as_holder = await api.call("holder", "GET", f"/projects/{PROJECT}/history")
    # the holder reads the same path, without the others' addresses nor what was sent to them
    # (tests/api/test_holder_history.py)
    assert as_holder.status_code == 200
    assert [e["event_id"] for e in as_holder.json()] == [
        e["event_id"] for e in events
        if not (e["kind"] == "reminder_sent" and e["data"]["kind"] not in ("before_due", "overdue", "changes_pending"))
    ]  # fmt: skip
    assert "claire@fnep.fr" not in as_holder.text
    assert events[0]["kind"] == "project_started"
    assert events[0]["actor"] == "Claire Coordination <claire@fnep.fr>"
    assert events[-1]["kind"] == "project_completed"
    approvals = [e for e in events if e["kind"] == "step_approved"]
    assert len(approvals) == 13
    assert {e["actor"] for e in approvals} == {"Romain Relecteur <romain@fnep.fr>"}
    submitted = [e for e in events if e["kind"] == "step_submitted"]
    assert {e["actor"] for e in submitted} == {"Paul Porteur <paul@edp-belfort.fr>"}


async def test_the_201_is_the_status_the_workflow_built_answering_the_update_sent_with_the_start(api: Api) -> None:
    status = await start(api)
    history = await api.env.client.get_workflow_handle(f"school-{PROJECT}").fetch_history()
    accepted = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert accepted == [Update.STARTED]
    completed = next(
        e.workflow_execution_update_completed_event_attributes
        for e in history.events
        if e.HasField("workflow_execution_update_completed_event_attributes")
    )
    [built] = await data_converter.decode(completed.outcome.success.payloads, [ProjectStatus])
    assert ProjectStatus.model_validate(status) == built


async def test_a_retried_decision_returns_the_same_status_and_records_one_event(api: Api) -> None:
    await start(api)
    await api.call("holder", "POST", f"/projects/{PROJECT}/steps/opportunity_study/submissions", DOCS)
    body = {"decision": "approve", "comment": "Très bon dossier", "decision_id": "fnep-2026-17"}
    path = f"/projects/{PROJECT}/steps/opportunity_study/decisions"
    first = await api.call("reviewer", "POST", path, body)
    second = await api.call("reviewer", "POST", path, body)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    history = await api.history()
    assert [e["kind"] for e in history].count("step_approved") == 1


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "fragment"),
    [
        (None, "GET", f"/projects/{PROJECT}", None, 401, "jeton manquant"),
        ("bad", "GET", f"/projects/{PROJECT}", None, 401, "jeton invalide"),
        ("holder", "POST", "/projects", profile("edp-autre"), 403, "coordinateur"),
        ("other_holder", "GET", f"/projects/{PROJECT}", None, 403, "accès au projet"),
        ("coordinator", "GET", "/projects/edp-inconnu", None, 404, "projet inconnu"),
        ("holder", "POST", f"/projects/{PROJECT}/steps/etape-x/submissions", DOCS, 404, "étape inconnue"),
        ("reviewer", "POST", f"/projects/{PROJECT}/steps/opportunity_study/decisions", APPROVE, 409,
         "n'a pas été soumise"),
        ("coordinator", "POST", "/projects", profile(PROJECT), 409, "existe déjà"),
        ("reviewer", "POST", f"/projects/{PROJECT}/steps/opportunity_study/decisions",
         {"decision": "reject"}, 422, "comment"),
        ("holder", "POST", f"/projects/{PROJECT}/steps/opportunity_study/submissions",
         {"documents": [{"title": "x", "url": "javascript:alert(1)"}]}, 422, "documents.0.url"),
        ("holder", "POST", f"/projects/{PROJECT}/steps/opportunity_study/submissions",
         {"documents": [{"title": "x", "url": "https://x.fr"}] * 51}, 422, "documents"),
        ("holder", "POST", f"/projects/{PROJECT}/steps/opportunity_study/submissions",
         {**DOCS, "comment": "x" * 5001}, 422, "comment"),
        ("holder", "POST", f"/projects/{PROJECT}/steps/opportunity_study/submissions",
         {"documents": [{"title": "T" * 200, "url": "https://x.fr/" + "a" * 1000}] * 50}, 422,
         "documents: la soumission pèse"),
        ("coordinator", "POST", "/projects", profile("Mauvais Id"), 422, "project_id"),
        ("coordinator", "POST", "/projects", profile("edp-x", process="inconnu"), 422, "processus inconnu"),
        ("coordinator", "POST", f"/projects/{PROJECT}/pause", {"reason": "x"}, 422, "review_on"),
    ],
)  # fmt: skip
async def test_contract_errors_say_what_was_wrong(
    api: Api, who: str | None, method: str, path: str, body: Any, status: int, fragment: str
) -> None:
    await start(api)
    before = await api.history()
    response = await api.call(who, method, path, body)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and fragment in detail
    assert await api.history() == before


async def test_a_finished_project_is_409(api: Api) -> None:
    await start(api)
    abandoned = await api.call("coordinator", "POST", f"/projects/{PROJECT}/abandon", {"reason": "Porteur dissous"})
    assert abandoned.json()["state"] == "abandoned"
    await api.env.client.get_workflow_handle(f"school-{PROJECT}").result()
    response = await api.call("coordinator", "POST", f"/projects/{PROJECT}/resume", {})
    assert response.status_code == 409
    assert "terminé" in response.json()["detail"]


async def test_portfolio_filters_and_a_holder_sees_only_its_projects(api: Api) -> None:
    await start(api)
    await start(
        api, OTHER, region="Auvergne-Rhône-Alpes", department="69", city="Lyon", name="École de Production de Lyon"
    )
    await passes(api, "opportunity_study", OTHER)
    for project_id in (PROJECT, OTHER):  # the portfolio reads the records database: let it catch up
        await api.history(project_id)

    async def ids(who: str, query: str = "") -> list[str]:
        response = await api.call(who, "GET", f"/projects{query}")
        assert response.status_code == 200, response.text
        return [p["project_id"] for p in response.json()]

    assert await ids("coordinator") == [PROJECT, OTHER]
    assert await ids("reviewer", "?stage=association") == [OTHER]
    assert await ids("coordinator", "?region=Bourgogne-Franche-Comté") == [PROJECT]
    assert await ids("coordinator", "?state=active") == [PROJECT, OTHER]
    assert await ids("coordinator", "?overdue=true") == []
    assert await ids("holder") == [PROJECT]
    assert await ids("other_holder") == [OTHER]
    # Pages by project id: the next one is named by Link and X-Next-After; the last names none.
    first = await api.call("coordinator", "GET", "/projects?state=active&limit=1")
    assert [p["project_id"] for p in first.json()] == [PROJECT]
    assert first.headers["X-Next-After"] == PROJECT
    link = httpx.URL(first.headers["Link"].removeprefix("<").split(">;")[0])
    assert first.headers["Link"].endswith('>; rel="next"') and link.params["state"] == "active"
    second = await api.call("coordinator", "GET", link.raw_path.decode())
    assert [p["project_id"] for p in second.json()] == [OTHER]
    assert "X-Next-After" not in second.headers and "Link" not in second.headers
    too_many = await api.call("coordinator", "GET", "/projects?limit=1001")
    assert too_many.status_code == 422 and "limit" in too_many.json()["detail"]
    report = (await api.call("coordinator", "GET", "/reports/portfolio")).json()
    assert report["projects"] == 2
    assert report["by_stage"] == {"opportunity": 1, "association": 1}
    assert "opportunity_study" in report["median_days_per_step"]


async def test_health_says_both_parts_are_reachable(api: Api) -> None:
    response = await api.call(None, "GET", "/health")
    assert response.status_code == 200
    assert response.json() == {"temporal": "ok", "database": "ok"}


async def test_requests_carry_an_id_and_are_counted_by_route_and_status(api: Api) -> None:
    await start(api)
    response = await api.http.get(f"/projects/{PROJECT}", headers={
        "Authorization": f"Bearer {api.tokens['reviewer']}", "X-Request-ID": "req-42"})  # fmt: skip
    assert response.headers["X-Request-ID"] == "req-42"
    assert (await api.call(None, "GET", f"/projects/{PROJECT}")).headers["X-Request-ID"]
    metrics = (await api.http.get("/metrics")).text
    assert 'labellisation_api_requests_total{method="GET",route="/projects/{project_id}",status="200"} 1.0' in metrics
    assert 'route="/projects/{project_id}",status="401"} 1.0' in metrics
    assert 'labellisation_api_requests_total{method="POST",route="/projects",status="201"} 1.0' in metrics


async def test_invented_methods_and_request_ids_cannot_grow_the_metrics_or_the_logs(api: Api) -> None:
    """#18 item 4: a method nobody uses is counted as `other`, one series for all; a request id that is not a
    plain one (letters, digits, dashes, at most 64) is replaced by ours."""
    await api.http.request("INVENTED", "/projects")
    await api.http.get("/metrics")  # its own series exist from here
    before = (await api.http.get("/metrics")).text.count("\n")
    for n in range(50):
        await api.http.request(f"INVENTED{n}", "/projects")
    metrics = (await api.http.get("/metrics")).text
    assert "INVENTED" not in metrics
    assert 'labellisation_api_requests_total{method="other",route="/projects",status="405"} 51.0' in metrics
    assert metrics.count("\n") == before  # fifty more invented methods, not one more line
    for hostile in ("x" * 65, "a b", "evil\u00e9", "<script>"):
        answered = await api.http.get("/health", headers={b"X-Request-ID": hostile.encode("utf-8")})
        kept = answered.headers["X-Request-ID"]
        assert kept != hostile and len(kept) == 32 and kept.isalnum()
    assert (await api.http.get("/health", headers={"X-Request-ID": "ok-" + "9" * 61})).headers["X-Request-ID"] == (
        "ok-" + "9" * 61
    )


async def test_a_body_that_is_not_json_is_422_in_one_sentence(api: Api) -> None:
    await start(api)
    response = await api.http.post(
        f"/projects/{PROJECT}/pause", content=b"{pas du json",
        headers={"Authorization": f"Bearer {api.tokens['coordinator']}", "Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "contenu invalide" in response.json()["detail"]


async def test_a_planned_opening_in_the_past_is_422_and_starts_nothing(api: Api) -> None:
    response = await api.call("coordinator", "POST", "/projects", profile(planned_opening="2020-09-01"))
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": "planned_opening : l'ouverture prévue (1er septembre 2020) est passée"}
    assert (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).status_code == 404


async def test_an_opening_whose_declaration_date_is_past_is_422_and_starts_nothing(api: Api) -> None:
    # Opening in two months: its declaration to the rectorat was due a month ago (fnep: three months before).
    opening = (datetime.now(UTC) + timedelta(days=60)).date()
    response = await api.call("coordinator", "POST", "/projects", profile(planned_opening=str(opening), process="fnep"))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith("planned_opening : avec une ouverture le ") and "Déclaration" in detail
    assert (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).status_code == 404
    assert (await start(api, planned_opening=str(opening + timedelta(days=60)), process="fnep"))["state"] == "active"


async def test_portfolio_filters_take_the_ids_and_the_french_words_and_refuse_anything_else(api: Api) -> None:
    await start(api)
    await start(
        api, OTHER, region="Auvergne-Rhône-Alpes", department="69", city="Lyon", name="École de Production de Lyon"
    )
    await passes(api, "opportunity_study", OTHER)
    await passes(api, "association", OTHER)
    review_on = (await api.env.get_current_time() + timedelta(days=90)).date()  # ahead, whatever the date
    paused = await api.call("coordinator", "POST", f"/projects/{PROJECT}/pause",
                            {"reason": "Attente du vote de la Région", "review_on": str(review_on)})  # fmt: skip
    assert paused.status_code == 200, paused.text
    for project_id in (PROJECT, OTHER):
        await api.history(project_id)

    async def ids(query: str) -> list[str]:
        response = await api.call("coordinator", "GET", f"/projects?{query}")
        assert response.status_code == 200, response.text
        return [p["project_id"] for p in response.json()]

    assert await ids("state=active") == await ids("state=actif") == await ids("state=ACTIF") == [OTHER]
    assert await ids("state=paused") == await ids("state=en%20pause") == [PROJECT]
    assert await ids("stage=feasibility") == await ids("stage=faisabilite") == [OTHER]
    assert await ids("stage=%C3%89tude%20de%20faisabilit%C3%A9") == [OTHER]
    assert await ids("stage=opportunite&state=en%20pause") == [PROJECT]
    for query, start_of_detail, valid in [
        ("stage=cantine", "stage : « cantine » inconnu ; valeurs possibles : ", "Étude de faisabilité (feasibility)"),
        ("state=fini", "state : « fini » inconnu ; valeurs possibles : ", "actif (active), en pause (paused)"),
    ]:
        response = await api.call("reviewer", "GET", f"/projects?{query}")
        assert response.status_code == 422, response.text
        assert list(response.json()) == ["detail"]
        assert response.json()["detail"].startswith(start_of_detail) and valid in response.json()["detail"]


def test_the_portfolio_filters_are_documented_as_words() -> None:
    parameters = create_app(Settings()).openapi()["paths"]["/projects"]["get"]["parameters"]
    described = {p["name"]: p for p in parameters}
    for name, example in (("state", "en pause (paused)"), ("stage", "faisabilite")):
        assert {"type": "string"} in described[name]["schema"]["anyOf"]
        assert example in described[name]["description"]
