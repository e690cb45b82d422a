"""The web pages' errors in French (#16 item 6): a page per error, while the JSON API keeps its JSON errors."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from labellisation.api.errors import ApiError
from labellisation.web.errors import FrenchErrorsRoute, WebError, sentence
from tests.web.conftest import Web


def test_the_api_sentence_becomes_a_french_sentence() -> None:
    assert sentence("le projet n'est pas en pause") == "Le projet n'est pas en pause."
    assert sentence("Déjà fini.") == "Déjà fini."


async def test_403_is_a_french_page_on_the_web_and_json_on_the_api(web: Web) -> None:
    reviewer = await web.sign_in("reviewer")
    page = await reviewer.get("/portefeuille")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in page.text and "Accès refusé" in page.text and "Erreur 403" in page.text
    assert "Action réservée au rôle : coordinateur." in page.text
    assert "Romain Relecteur" in page.text and "Se déconnecter" in page.text  # the frame knows who it is
    api = await web.http.get("/projects")  # no token: the API's JSON, whatever the session
    assert api.status_code == 401 and api.json()["detail"].startswith("jeton manquant")


async def test_a_422_filter_stays_on_the_page_and_an_unknown_csv_filter_is_a_french_page(web: Web) -> None:
    await web.sign_in("coordinator")
    page = await web.http.get("/portefeuille", params={"region": "Atlantide"})
    assert page.status_code == 422 and 'value="Atlantide"' in page.text and 'id="e-region"' in page.text
    csv = await web.http.get("/portefeuille.csv", params={"region": "Atlantide"})
    assert csv.status_code == 422 and "Demande invalide" in csv.text and "Région :" in csv.text


async def test_not_signed_in_goes_to_sign_in(web: Web) -> None:
    response = await web.http.get("/portefeuille")
    assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


async def test_the_route_class_turns_api_and_page_errors_into_french_pages() -> None:
    router = APIRouter(route_class=FrenchErrorsRoute)

    @router.get("/conflit")
    async def conflict() -> None:
        raise ApiError(409, "le projet est en pause")

    @router.get("/absent")
    async def missing() -> None:
        raise WebError(404, "Ce projet n'existe pas.")

    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        conflict_page = await http.get("/conflit")
        assert conflict_page.status_code == 409
        assert "Action impossible maintenant" in conflict_page.text and "Le projet est en pause." in conflict_page.text
        assert "Rien n&#39;a été modifié" in conflict_page.text or "Rien n'a été modifié" in conflict_page.text
        missing_page = await http.get("/absent")
        assert missing_page.status_code == 404 and "Page introuvable" in missing_page.text


async def test_an_unknown_address_is_the_french_404_page_for_a_browser_and_json_for_a_script(web: Web) -> None:
    await web.sign_in("coordinator")
    browser = await web.http.get("/portefeuile", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 404 and browser.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in browser.text and "Aucune page ne se trouve à cette adresse." in browser.text
    assert "Claire Coordination" in browser.text  # the frame still knows who is signed in
    script = await web.http.get("/portefeuile", headers={"Accept": "application/json"})
    assert script.status_code == 404 and script.json() == {"detail": "Not Found"}
    posted = await web.http.post("/portefeuile", headers={"Accept": "text/html"})  # not a page asked for
    assert posted.status_code in (404, 405) and posted.headers["content-type"] == "application/json"
