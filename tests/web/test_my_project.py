"""« Mon dossier » (issue #16, item 4): the holder's « À faire », the submission form, the cohort form."""

from __future__ import annotations

import asyncio
import html
import re

import httpx

from tests.support.api import PROJECT, profile
from tests.web.conftest import csrf_of
from tests.web.test_inbox import Site, site, start_and_submit

__all__ = ["site"]

STEP = "opportunity_study"
ASKED = "Chiffrer le carnet de commandes"


async def holder_browser(site: Site) -> httpx.AsyncClient:
    return await site.browser("holder", "Paul Porteur", "paul@edp-belfort.fr", projects=[PROJECT])


async def changes_requested(site: Site) -> None:
    await start_and_submit(site, profile(), "holder")
    body = {"decision": "request_changes", "comment": ASKED, "decision_id": "fnep-1"}
    asked = await site.call("reviewer", "POST", f"/projects/{PROJECT}/steps/{STEP}/decisions", body)
    assert asked.status_code == 200, asked.text


def filled(page: str, rows: list[tuple[str, str]], comment: str = "", action: str = "deposer") -> dict[str, str]:
    fields = {"csrf_token": csrf_of(page), "rows": str(max(3, len(rows))), "comment": comment, "action": action}
    for i, (title, url) in enumerate(rows):
        fields[f"title_{i}"], fields[f"url_{i}"] = title, url
    return fields


async def test_the_holder_sees_what_to_do_with_the_request_for_changes(site: Site) -> None:
    await changes_requested(site)
    holder = await holder_browser(site)
    page = await holder.get("/mon-dossier")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert text.index("À faire") < text.index("Déposer : Étude d'opportunité")  # « À faire » first
    todo = text[text.index("À faire") : text.index("Déposer : ")]
    assert (
        "Étude d'opportunité" in todo and "à déposer" in todo and re.search(r"avant le \d{1,2}(er)? \w+ 20\d\d", todo)
    )
    assert "Modifications demandées par la FNEP le " in todo and f"« {ASKED} »" in todo
    assert text.count('name="title_') == 3  # three empty rows
    assert 'href="/mon-dossier"' in text  # the navigation
    # Its own project only; another role is not a holder.
    assert (await holder.get("/mon-dossier/edp-lyon")).status_code == 403
    reviewer = await site.browser("reviewer", "Victor Partout", "victor@fnep.fr")
    refused = await reviewer.get("/mon-dossier")
    assert refused.status_code == 403 and "« Mon dossier » est la page des porteurs de projet." in html.unescape(
        refused.text
    )


async def test_the_holder_submits_two_documents(site: Site) -> None:
    await changes_requested(site)
    holder = await holder_browser(site)
    page = (await holder.get(f"/mon-dossier/{PROJECT}")).text
    rows = [
        ("Étude v2", "https://docs.example.org/etude-v2.pdf"),
        ("", ""),
        ("Carnet", "https://docs.example.org/c.pdf"),
    ]
    sent = await holder.post(f"/mon-dossier/{PROJECT}/etapes/{STEP}", data=filled(page, rows, "Chiffré"))
    assert sent.status_code == 303, sent.text
    assert await site.step_status(STEP) == "submitted"
    last = (await site.events(kind="step_submitted"))[-1]
    assert last["data"]["documents"] == [
        {"title": "Étude v2", "url": "https://docs.example.org/etude-v2.pdf"},
        {"title": "Carnet", "url": "https://docs.example.org/c.pdf"},
    ]
    assert last["comment"] == "Chiffré"
    after = html.unescape((await holder.get(sent.headers["location"])).text)
    assert "Dossier déposé : Étude d'opportunité." in after
    assert "En attente de la décision de la FNEP" in after


async def test_a_bad_url_shows_the_french_error_with_what_was_typed_kept(site: Site) -> None:
    await changes_requested(site)
    holder = await holder_browser(site)
    page = (await holder.get(f"/mon-dossier/{PROJECT}")).text
    rows = [("Étude v2", "docs.example.org/etude v2.pdf"), ("Carnet", "https://docs.example.org/c.pdf")]
    refused = await holder.post(f"/mon-dossier/{PROJECT}/etapes/{STEP}", data=filled(page, rows, "Mon commentaire"))
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Adresse : une adresse web commençant par https:// ou http://" in text
    assert (
        'id="url-opportunity_study-0"' in text
        and 'aria-invalid="true" aria-describedby="url-erreur-opportunity_study-0"' in text
    )
    assert 'value="Étude v2"' in text and 'value="docs.example.org/etude v2.pdf"' in text
    assert 'value="https://docs.example.org/c.pdf"' in text and "Mon commentaire" in text
    assert len(await site.events(kind="step_submitted")) == 1  # nothing sent
    assert await site.step_status(STEP) == "changes_requested"
    # No document at all: said on the documents.
    empty = await holder.post(f"/mon-dossier/{PROJECT}/etapes/{STEP}", data=filled(page, []))
    assert empty.status_code == 422
    assert "Documents : ajoutez au moins un document" in html.unescape(empty.text)


async def test_add_a_row_shows_one_more_and_sends_nothing(site: Site) -> None:
    await changes_requested(site)
    holder = await holder_browser(site)
    page = (await holder.get(f"/mon-dossier/{PROJECT}")).text
    rows = [("Étude v2", "https://docs.example.org/e.pdf")]
    more = await holder.post(f"/mon-dossier/{PROJECT}/etapes/{STEP}", data=filled(page, rows, action="ajouter"))
    assert more.status_code == 200
    text = html.unescape(more.text)
    assert text.count('name="title_') == 4 and 'value="Étude v2"' in text
    assert len(await site.events(kind="step_submitted")) == 1


async def test_bad_cohort_results_are_shown_again_and_nothing_is_sent(site: Site) -> None:
    await changes_requested(site)
    holder = await holder_browser(site)
    page = (await holder.get(f"/mon-dossier/{PROJECT}")).text
    assert "Résultats d'une cohorte" not in page  # not during the opportunity study
    fields = {"csrf_token": csrf_of(page), "label": "2028-2029", "enrolled": "12", "dropouts": "20"}
    fields |= {"presented": "x", "passed": "0", "positive_exits": "0", "job_offers": "0"}
    refused = await holder.post(f"/mon-dossier/{PROJECT}/cohortes", data=fields)
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Présentés à l'examen : un nombre entier de 0 à 1 000." in text
    assert await site.events(kind="cohort_recorded") == []
    fields["presented"] = "0"
    again = html.unescape((await holder.post(f"/mon-dossier/{PROJECT}/cohortes", data=fields)).text)
    assert "Abandons : pas plus que d'inscrits." in again
    assert await site.events(kind="cohort_recorded") == []


async def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    await changes_requested(site)
    holder = await holder_browser(site)
    page = (await holder.get(f"/mon-dossier/{PROJECT}")).text
    fields = filled(page, [("Étude", "https://docs.example.org/e.pdf")])
    del fields["csrf_token"]
    refused = await holder.post(f"/mon-dossier/{PROJECT}/etapes/{STEP}", data=fields)
    assert refused.status_code == 403
    assert await site.step_status(STEP) == "changes_requested"


async def test_a_holder_of_two_projects_chooses_one(site: Site) -> None:
    await start_and_submit(site, profile(), "holder")
    for _ in range(100):  # the records get the project with its first events, a moment after its start
        if await site.store.project(PROJECT) is not None:
            break
        await asyncio.sleep(0.05)
    both = await site.browser("holder", "Réseau Est", "reseau@edp.fr", projects=[PROJECT, "edp-lyon"])
    listed = html.unescape((await both.get("/mon-dossier")).text)
    assert '<a href="/mon-dossier/edp-belfort">École de Production de Belfort</a>' in listed
    assert '<a href="/mon-dossier/edp-lyon">edp-lyon</a>' in listed  # not started yet: its id
    page = html.unescape((await both.get(f"/mon-dossier/{PROJECT}")).text)
    assert "Mon dossier : École de Production de Belfort" in page and "Tous mes dossiers" in page
    assert "En attente de la décision de la FNEP" in page and "Rien à déposer pour le moment." in page
    unknown = await both.get("/mon-dossier/edp-lyon")  # not started: the French 404 page
    assert unknown.status_code == 404 and "Page introuvable" in unknown.text
