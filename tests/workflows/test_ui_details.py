"""What Temporal's UI shows of a project: its static summary (name and city) and its current details (where it stands).

The renderings are pure and checked against hand-written text; the end-to-end tests run `POST /projects` on the
real dev server (the server of `make run`), then read what its UI reads: the description and the metadata query.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from labellisation.contract import SA_NAME, StartProject, workflow_id
from labellisation.converter import data_converter
from labellisation.overview import SUMMARY_BUDGET, current_details, static_details, static_summary
from labellisation.path.commands import DecideStep, PauseProject
from labellisation.path.transitions import apply, note_deadlines
from tests.support.api import DOCS, OTHER, Api, api, profile
from tests.support.path_helpers import T0, new_project, ok, pass_step, submit
from tests.support.profiles import make_profile
from tests.support.servers import start_dev_server

__all__ = ["api"]  # the API over the dev server below

LYON = {"name": "École de Production de Lyon", "city": "Lyon", "region": "Auvergne-Rhône-Alpes", "department": "69"}
APPROVE = {"decision": "approve", "comment": "", "decision_id": None}


# -- the renderings ----------------------------------------------------------------------------


def test_the_summary_is_the_schools_name_and_city() -> None:
    assert static_summary(make_profile()) == "École de Production de Belfort — Belfort"


def test_a_summary_too_long_for_the_server_is_cut_with_an_ellipsis() -> None:
    """Temporal bounds a summary payload to 400 bytes (`limit.userMetadataSummarySize`)."""
    longest = make_profile().model_copy(update={"name": "É" * 200, "city": "É" * 200})
    summary = static_summary(longest)
    assert summary == "É" * ((SUMMARY_BUDGET - 2 - 3) // 2) + "…"  # JSON's quotes, the ellipsis's 3 bytes
    assert data_converter.payload_converter.to_payloads([summary])[0].ByteSize() < 400


def test_the_static_details_say_who_the_school_is() -> None:
    start = StartProject(profile=make_profile(), process_id="fnep")
    assert static_details(start.profile, start.process_id) == (
        "**Région** : Bourgogne-Franche-Comté (90)\n\n"
        "**Métiers** : Usinage, Chaudronnerie\n\n"
        "**Porteur** : Association EdP Belfort\n\n"
        "**Ouverture prévue** : 1er septembre 2028\n\n"
        "**Parcours** : fnep"
    )


def test_a_new_project_awaits_its_holder_until_its_first_deadline() -> None:
    assert current_details(new_project(), T0) == (
        "**Phase 1 sur 8 : Étude d'opportunité** — projet actif\n\n"
        "Étapes ouvertes :\n"
        "- Étude d'opportunité : en cours, la suite revient au porteur de projet, échéance : 5 juillet 2026\n\n"
        "Prochaine échéance : 5 juillet 2026"
    )


def test_each_open_step_says_whom_it_awaits_and_passed_deadlines_say_so() -> None:
    project = new_project()
    for step in ("opportunity_study", "association", "feasibility_study", "pre_labellisation"):
        project = pass_step(project, step)
    later = T0 + timedelta(days=215)  # 8 August 2026: funding (6 months) and staffing (7 months) are overdue
    project = note_deadlines(submit(project, "works"), later)
    assert current_details(project, later) == (
        "**Phase 5 sur 8 : Mise en œuvre** — projet actif\n\n"
        "Étapes ouvertes :\n"
        "- Locaux et travaux : soumise, la suite revient aux relecteurs FNEP\n"
        "- Équipements : en cours, la suite revient au porteur de projet, échéance : 5 septembre 2026\n"
        "- Financements : en cours, la suite revient au porteur de projet, échéance : 5 juillet 2026 (dépassée)\n"
        "- Recrutement du directeur et des maîtres professionnels : en cours, la suite revient au porteur de projet, "
        "échéance : 5 août 2026 (dépassée)\n"
        "- Recrutement des jeunes : en cours, la suite revient au porteur de projet, échéance : 5 septembre 2026\n"
        "- Déclaration d'ouverture au rectorat : en cours, la suite revient au porteur de projet, "
        "échéance : 1er juin 2028\n\n"
        "Prochaine échéance : 5 juillet 2026 (dépassée)"
    )


def test_a_demo_deadline_is_shown_with_its_time_and_a_pause_suspends_it() -> None:
    project = new_project("demo")  # 5 January 2026, 10:00 in Paris; the study is due 6 minutes later
    assert current_details(project, T0) == (
        "**Phase 1 sur 8 : Étude d'opportunité** — projet actif\n\n"
        "Étapes ouvertes :\n"
        "- Étude d'opportunité : en cours, la suite revient au porteur de projet, "
        "échéance : 5 janvier 2026 à 10 h 06\n\n"
        "Prochaine échéance : 5 janvier 2026 à 10 h 06"
    )
    paused = ok(apply(project, PauseProject(actor="c", reason="Attente", review_on=date(2026, 1, 7)), T0))
    assert current_details(paused, T0) == (
        "**Phase 1 sur 8 : Étude d'opportunité** — projet en pause, réexamen le 7 janvier 2026\n\n"
        "Étapes ouvertes :\n"
        "- Étude d'opportunité : en cours, la suite revient au porteur de projet\n\n"
        "Prochaine échéance : aucune"
    )


def test_a_finished_project_has_no_open_step_and_no_deadline() -> None:
    refusal = DecideStep(actor="f", step="opportunity_study", decision="reject", comment="Besoin non démontré")
    rejected = ok(apply(submit(new_project(), "opportunity_study"), refusal, T0))
    assert current_details(rejected, T0) == (
        "**Phase 1 sur 8 : Étude d'opportunité** — projet rejeté\n\nProchaine échéance : aucune"
    )


# -- on the dev server, through POST /projects -------------------------------------------------------


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Here the `api` fixture runs over the real dev server, the one whose UI `make run` opens."""
    async with await start_dev_server() as env:
        yield env


async def current(handle: WorkflowHandle[Any, Any]) -> str:
    """The current details, as the UI reads them: the SDK's built-in metadata query."""
    metadata: WorkflowMetadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


async def listed(api: Api, query: str) -> list[str]:
    """The workflow ids the visibility query finds, once it finds any (visibility follows a start by a moment)."""
    for _ in range(100):
        found = [w.id async for w in api.env.client.list_workflows(query)]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


async def test_the_ui_lists_the_school_by_name_and_city_and_follows_its_stage(api: Api) -> None:
    assert not api.env.supports_time_skipping  # the dev server
    started = await api.call("coordinator", "POST", "/projects", profile(OTHER, **LYON))
    assert started.status_code == 201, started.text
    handle = api.env.client.get_workflow_handle(workflow_id(OTHER))
    description = await handle.describe()
    assert await description.static_summary() == "École de Production de Lyon — Lyon"
    # the list's column and filter (the UI's list shows search attributes, not the summary)
    assert description.typed_search_attributes.get(SA_NAME) == "École de Production de Lyon — Lyon"
    assert await listed(api, 'SchoolName STARTS_WITH "École de Production de Ly"') == [workflow_id(OTHER)]
    assert "**Région** : Auvergne-Rhône-Alpes (69)" in (await description.static_details() or "")
    details = await current(handle)
    assert details.startswith("**Phase 1 sur 8 : Étude d'opportunité** — projet actif"), details
    assert "- Étude d'opportunité : en cours, la suite revient au porteur de projet, échéance : " in details, details

    path = f"/projects/{OTHER}/steps/opportunity_study"
    submitted = await api.call("other_holder", "POST", f"{path}/submissions", DOCS)
    assert submitted.status_code == 200, submitted.text
    assert "- Étude d'opportunité : soumise, la suite revient aux relecteurs FNEP" in await current(handle)
    decided = await api.call("reviewer", "POST", f"{path}/decisions", APPROVE)
    assert decided.status_code == 200, decided.text
    details = await current(handle)
    assert details.startswith("**Phase 2 sur 8 : Association porteuse** — projet actif"), details
    assert "- Création de l'association porteuse : en cours, la suite revient au porteur de projet" in details, details


async def test_a_school_with_the_longest_name_and_city_still_starts(api: Api) -> None:
    """Its summary is cut to stay within Temporal's 400 bytes (which server 1.32 does not enforce yet)."""
    started = await api.call("coordinator", "POST", "/projects", profile(OTHER, name="É" * 200, city="É" * 200))
    assert started.status_code == 201, started.text
    description = await api.env.client.get_workflow_handle(workflow_id(OTHER)).describe()
    summary = await description.static_summary()
    assert summary is not None and summary.startswith("ÉÉÉ") and summary.endswith("…")
