"""`labellisation report path` (#19): where projects lose time, from a terminal, against the real API (a project
driven through three requests for changes); `labellisation report` alone still prints the portfolio."""

from __future__ import annotations

import json

from tests.api.test_cli import api_url, cli
from tests.api.test_cli_french import english_ids_in
from tests.support.api import DOCS, PROJECT, Api, profile

__all__ = ["api_url"]  # the fixture, used by every test here
STEP = "opportunity_study"


async def three_requests_for_changes(api: Api) -> None:
    assert (await api.call("coordinator", "POST", "/projects", profile())).status_code == 201
    for _ in range(3):
        assert (await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)).is_success
        changes = {"decision": "request_changes", "comment": "Chiffrer"}
        assert (await api.call("reviewer", "POST", f"/projects/{PROJECT}/steps/{STEP}/decisions", changes)).is_success
    await api.history()


async def test_report_path_prints_the_steps_the_slowest_and_the_funnel_in_french(api: Api, api_url: str) -> None:
    await three_requests_for_changes(api)
    code, out, err = await cli(api, api_url, "coordinator", "report", "path")
    assert code == 0, err
    assert "1 projet dans les chiffres" in out
    row = next(line for line in out.splitlines() if "Étude d'opportunité" in line and "│" in line)
    assert "3,0" in row and "100 %" in row  # three requests for changes; every review within 10 working days
    assert "Les étapes les plus lentes : 1. Étude d'opportunité" in out
    assert "Entonnoir" in out and "encore là" in out
    assert english_ids_in(out) == [], out

    code, out, err = await cli(api, api_url, "coordinator", "report", "path", "--region", "Bourgogne-Franche-Comté",
                               "--process", "demo", "--json")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["projects"] == 1
    assert [(s["step"], s["changes_per_project"]) for s in report["steps"]] == [(STEP, 3.0)]
    code, out, _ = await cli(api, api_url, "coordinator", "report", "--json", "path")  # --json before `path`
    assert code == 0 and json.loads(out)["steps"][0]["step"] == STEP

    code, out, _ = await cli(api, api_url, "coordinator", "report", "path", "--region", "bretagne")
    assert code == 0 and "0 projet dans les chiffres" in out and "Aucune étape commencée" in out
    code, out, _ = await cli(api, api_url, "coordinator", "report", "path", "--year", "2001", "--json")
    assert code == 0 and json.loads(out)["steps"] == []


async def test_report_path_refusals_are_the_apis_french_sentences(api: Api, api_url: str) -> None:
    code, out, err = await cli(api, api_url, "coordinator", "report", "path", "--region", "Atlantide")
    assert code == 1 and out == ""
    assert err.startswith("Refusé (422) : region") and "Atlantide" in err and "Traceback" not in err
    code, _, err = await cli(api, api_url, "coordinator", "report", "path", "--process", "inconnu")
    assert code == 1 and "Refusé (422) : process : parcours inconnu « inconnu »" in err
    code, _, err = await cli(api, api_url, "holder", "report", "path")
    assert code == 1 and err.startswith("Refusé (403)")
    code, out, err = await cli(api, api_url, "coordinator", "report", "path", "--year", "1999")
    assert code == 2 and "--year : une année entre 2000 et 2100" in err and "Traceback" not in err


async def test_report_alone_is_still_the_portfolio(api: Api, api_url: str) -> None:
    await three_requests_for_changes(api)
    code, out, err = await cli(api, api_url, "coordinator", "report")
    assert code == 0, err
    assert "1 projets" in out and "par état : actif 1" in out and "Entonnoir" not in out
    code, out, _ = await cli(api, api_url, "coordinator", "report", "--json")
    assert code == 0 and json.loads(out)["by_state"] == {"active": 1}
    code, out, _ = await cli(api, api_url, "coordinator", "report", "--token", api.tokens["bad"])
    assert code == 1  # the options after `report` still apply
    code, out, _ = await cli(api, api_url, "coordinator", "report", "--help")
    assert code == 0 and "path" in out and "--json" in out
