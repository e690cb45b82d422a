"""What htmx needs from the server (#16: partial updates): the script served from here, an error page that
replaces the whole `main`, an ended session sent to sign-in as a whole page; a page without htmx unchanged."""

from __future__ import annotations

from tests.web.conftest import Web

HTMX = {"HX-Request": "true"}


async def test_the_pages_load_htmx_from_this_server_and_keep_nothing_in_the_browser(web: Web) -> None:
    await web.sign_in("coordinator")
    page = (await web.http.get("/portefeuille")).text
    assert '<script src="/static/htmx-2.0.11.min.js" defer></script>' in page
    assert '"historyCacheSize":0' in page and '"allowEval":false' in page
    script = await web.http.get("/static/htmx-2.0.11.min.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "htmx" in script.text[:200]


async def test_an_error_page_replaces_the_whole_main_not_the_part_asked_for(web: Web) -> None:
    await web.sign_in("reviewer")
    refused = await web.http.get("/portefeuille", headers=HTMX)  # a reviewer: 403
    assert refused.status_code == 403 and "Accès refusé" in refused.text
    assert (refused.headers["HX-Retarget"], refused.headers["HX-Reselect"]) == ("main", "main")
    assert refused.headers["HX-Reswap"] == "outerHTML"
    # a form shown again with its errors is swapped where it was asked: no such headers
    async with web.browser() as other:
        coordinator = await web.sign_in("coordinator", other)
        invalid = await coordinator.get("/portefeuille", params={"region": "Atlantide"}, headers=HTMX)
        assert invalid.status_code == 422 and 'id="e-region"' in invalid.text and "HX-Retarget" not in invalid.headers


async def test_an_ended_session_under_htmx_sends_the_whole_page_to_sign_in_and_back(web: Web) -> None:
    asked = await web.http.get("/portefeuille", params={"overdue": "1"}, headers=HTMX)
    assert asked.status_code == 204 and asked.text == ""
    assert asked.headers["HX-Redirect"] == "/connexion?suivant=/portefeuille%3Foverdue%3D1"
    plain = await web.http.get("/portefeuille", params={"overdue": "1"})  # without htmx: the redirect, as before
    assert plain.status_code == 303 and plain.headers["location"] == asked.headers["HX-Redirect"]
