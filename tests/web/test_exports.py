"""« Pilotage » and « Portefeuille » as files (#19 item 6): the coordinator downloads the figures of a project driven
through real workflow runs (the `api` fixture), as CSV for a French spreadsheet and as XLSX read back with openpyxl;
holders are refused, another region's coordinator does not see the project."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from labellisation.contract import Update, workflow_id
from labellisation.path.commands import RecordCohort
from labellisation.path.state import Cohort
from labellisation.process import load_process
from labellisation.web.pages import _environment
from tests.support.api import DOCS, PROJECT, profile
from tests.support.demo_path import approve_stages
from tests.support.driver import ProjectDriver
from tests.web.test_project_page import Site, api_fixture, site

__all__ = ["api_fixture", "site"]
STEP = "opportunity_study"
REGION = "bourgogne-franche-comte"
FILES = ["/pilotage/etapes.csv", "/pilotage/etapes.xlsx", "/pilotage/entonnoir.csv", "/pilotage/cohortes.csv",
         "/pilotage/cohortes.xlsx", "/portefeuille.xlsx"]  # fmt: skip


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in response.content
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def sheets(response: httpx.Response) -> dict[str, Worksheet]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(io.BytesIO(response.content))
    return {name: book[name] for name in book.sheetnames}


def by_header(sheet: Worksheet, first: str) -> dict[str, Any]:
    """The row whose first cell is `first`, by header."""
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == first)
    return {str(h): c for h, c in zip(headers, row, strict=True)}


async def three_requests_for_changes(site: Site) -> None:
    api = site.api
    assert (await api.call("coordinator", "POST", "/projects", profile(process="fnep"))).status_code == 201
    for _ in range(3):
        assert (await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)).is_success
        changes = {"decision": "request_changes", "comment": "Chiffrer"}
        assert (await api.call("reviewer", "POST", f"/projects/{PROJECT}/steps/{STEP}/decisions", changes)).is_success
    await api.history()


async def test_the_coordinator_downloads_the_figures_per_step_and_the_funnel(site: Site) -> None:
    await three_requests_for_changes(site)
    coordinator = await site.browser("coordinator", "Cora", "cora@fnep.fr", regions=[REGION])

    answered = await coordinator.get("/pilotage/etapes.csv")
    assert answered.headers["content-disposition"].startswith('attachment; filename="etapes-fnep-')
    rows = csv_rows(answered)
    header = rows[0]
    assert header[:3] == ["Étape", "Projets", "Porteur : médiane (jours)"]
    study = dict(zip(header, next(r for r in rows if r[0] == "Étude d'opportunité"), strict=True))
    assert study["Projets"] == "1"
    assert study["Demandes de modifications par projet"] == "3,0"
    assert study["Relecture sous 10 jours ouvrés (%)"] == "100,0"  # three decisions the same day
    assert study["Dans les délais (%)"] == ""  # not approved yet: no rate
    assert study["Rang parmi les plus lentes"] == "1"
    assert "," in study["Porteur : médiane (jours)"]  # a decimal comma
    assert len(rows) == 2  # only the step a project reached

    workbook = sheets(await coordinator.get("/pilotage/etapes.xlsx"))
    assert list(workbook) == ["Étapes", "Entonnoir"]
    steps = workbook["Étapes"]
    assert steps.freeze_panes == "B2" and steps["A1"].font.bold
    cells = by_header(steps, "Étude d'opportunité")
    changes = cells["Demandes de modifications par projet"]
    assert changes.value == 3.0 and changes.number_format == "0.0"
    within = cells["Relecture sous 10 jours ouvrés (%)"]
    assert within.value == 1.0 and within.number_format == "0.0%"
    funnel = by_header(workbook["Entonnoir"], "Étude d'opportunité")  # the stage
    assert funnel["Projets entrés"].value == 1 and funnel["Encore dans la phase"].value == 1

    funnel_rows = csv_rows(await coordinator.get("/pilotage/entonnoir.csv"))
    assert funnel_rows[0] == ["Phase", "Projets entrés", "Encore dans la phase", "Passés à la suite", "Abandonnés",
                              "Rejetés"]  # fmt: skip
    assert funnel_rows[1] == ["Étude d'opportunité", "1", "1", "0", "0", "0"]
    assert all(row[1] == "0" for row in funnel_rows[2:])  # no project went further

    filtered = csv_rows(await coordinator.get("/pilotage/etapes.csv", params={"year": "2001"}))
    assert filtered[1:] == []  # no project started that year
    assert (await coordinator.get("/pilotage/etapes.xlsx", params={"year": "1999"})).status_code == 422
    links = re.findall(r'href="([^"]+)"', _environment().get_template("_pilotage_exports.html.j2").render())
    assert sorted(links) == sorted(FILES[:-1])  # the partial « Pilotage » includes: every file, once
    for link in links:
        assert (await coordinator.get(link)).status_code == 200, link
    filtered_links = _environment().get_template("_pilotage_exports.html.j2").render(export_query="year=2001")
    assert 'href="/pilotage/etapes.xlsx?year=2001"' in filtered_links

    bad = await coordinator.get("/pilotage/etapes.csv", params={"region": "Atlantide"})
    assert bad.status_code == 422 and "Atlantide" in bad.text and "<html" in bad.text  # the French page


async def test_holders_are_refused_and_other_regions_do_not_see_the_project(site: Site) -> None:
    await three_requests_for_changes(site)
    holder = await site.browser("holder", "Léa", "lea@edp-belfort.fr", projects=[PROJECT])
    for path in FILES:
        assert (await holder.get(path)).status_code == 403, path
    elsewhere = await site.browser("coordinator", "Bob", "bob@fnep.fr", regions=["bretagne"])
    assert csv_rows(await elsewhere.get("/pilotage/etapes.csv"))[1:] == []
    assert all(r[1:] == ["0"] * 5 for r in csv_rows(await elsewhere.get("/pilotage/entonnoir.csv"))[1:])
    assert sheets(await elsewhere.get("/pilotage/etapes.xlsx"))["Étapes"].max_row == 1  # the header alone
    portfolio = sheets(await elsewhere.get("/portefeuille.xlsx"))["Portefeuille"]
    assert "École de Production de Belfort" not in [c.value for c in portfolio["B"]]


async def test_the_portfolio_xlsx_holds_the_project_with_the_csv_columns(site: Site) -> None:
    await three_requests_for_changes(site)
    coordinator = await site.browser("coordinator", "Cora", "cora@fnep.fr", regions=[REGION])
    answered = await coordinator.get("/portefeuille.xlsx", params={"region": "Bourgogne-Franche-Comté"})
    assert answered.headers["content-disposition"].startswith('attachment; filename="portefeuille-')
    sheet = sheets(answered)["Portefeuille"]
    csv_header = csv_rows(await coordinator.get("/portefeuille.csv"))[0]
    assert [c.value for c in sheet[1]] == csv_header
    row = by_header(sheet, PROJECT)
    assert row["Nom"].value == "École de Production de Belfort"
    assert row["Région"].value == "Bourgogne-Franche-Comté"
    assert row["Phase"].value == "Étude d'opportunité" and row["État"].value == "actif"
    due = row["Prochaine échéance"]
    assert due.is_date and due.number_format == "dd/mm/yyyy"
    assert (await coordinator.get("/portefeuille.xlsx", params={"region": "Bretagne"})).status_code == 403
    html = (await coordinator.get("/portefeuille")).text
    assert '<a href="/portefeuille.xlsx?sort=echeance">Exporter en XLSX (Excel)</a>' in html


async def test_the_cohorts_file_holds_each_school_the_network_and_the_references_with_a_name_kept_as_text(
    site: Site,
) -> None:
    api = site.api
    hostile = '=HYPERLINK("https://pirate.example";"École")'
    assert (await api.call("coordinator", "POST", "/projects", profile(name=hostile))).status_code == 201
    project = ProjectDriver(api.env.client.get_workflow_handle(workflow_id(PROJECT)))
    stages = load_process("demo").stages
    await approve_stages(project, stages[: next(i for i, s in enumerate(stages) if s.id == "seeding")])
    weak = Cohort(label="2027-2029", enrolled=10, dropouts=0, presented=10, passed=6, positive_exits=5, job_offers=20)
    await project.update(Update.RECORD_COHORT, RecordCohort(actor="direction", cohort=weak))
    await api.history()
    coordinator = await site.browser("coordinator", "Cora", "cora@fnep.fr")

    rows = csv_rows(await coordinator.get("/pilotage/cohortes.csv"))
    header = rows[0]
    school = dict(zip(header, rows[1], strict=True))
    assert school["École"] == "'" + hostile and school["Identifiant"] == PROJECT
    assert school["Réussite au diplôme (%)"] == "60,0" and school["Offres d'emploi par jeune"] == "2,0"
    assert "réussite au diplôme 60 % contre 93 % pour le réseau" in school["À signaler"]
    network = dict(zip(header, rows[2], strict=True))
    assert network["École"] == "Réseau" and network["Inscrits"] == "10"
    references = dict(zip(header, rows[3], strict=True))
    assert references["École"] == "Références du réseau" and references["Réussite au diplôme (%)"] == "93,0"
    assert references["Source"] == site.app.state.settings.network_references_source

    sheet = sheets(await coordinator.get("/pilotage/cohortes.xlsx"))["Cohortes"]
    assert sheet["A2"].value == "'" + hostile and sheet["A2"].data_type == "s"  # text, never a formula
    success = by_header(sheet, "Réseau")["Réussite au diplôme (%)"]
    assert success.value == 0.6 and success.number_format == "0.0%"
