"""« Mes e-mails » (#17): every signed-in person chooses each e-mail as it comes or « Votre point du jour »."""

from __future__ import annotations

import re

import pytest

from labellisation.people import find_person
from tests.web.conftest import Web, csrf_of

PAGE = "/mes-e-mails"


def checked(html: str) -> list[str]:
    """The values of the checked radio buttons of the page."""
    return re.findall(r'<input type="radio" name="frequence" value="([a-z]+)" checked>', html)


async def digest_of(web: Web, who: str) -> bool:
    person = await find_person(web.store, web.people[who].email)
    assert person is not None
    return person.daily_digest


@pytest.mark.parametrize("who", ["holder", "reviewer", "coordinator"])
async def test_every_person_sees_their_choice_each_email_by_default(web: Web, who: str) -> None:
    await web.sign_in(who)
    response = await web.http.get(PAGE)
    assert response.status_code == 200, response.text
    html = response.text
    assert "<h1>Mes e-mails</h1>" in html and "<legend>Recevoir mes e-mails</legend>" in html
    assert "Chaque e-mail dès qu&#39;il part" in html
    assert "Un seul e-mail par jour ouvré, « Votre point du jour », à 9 h" in html
    assert "9 h (heure de Paris)" in html and "Rien n'est perdu" in html
    assert checked(html) == ["chaque"]
    assert 'role="status"' not in html
    # The header's one nav leads here, marked as the current page; the home page says where it is.
    assert html.count("<nav") == 1 and '<a href="/mes-e-mails" aria-current="page">Mes e-mails</a>' in html
    home = (await web.http.get("/")).text
    assert '<a href="/mes-e-mails">Mes e-mails</a>' in home and '<a href="/mes-e-mails">« Mes e-mails »</a>' in home


async def test_choose_the_daily_digest_then_each_email_again(web: Web) -> None:
    await web.sign_in("holder")
    csrf = csrf_of((await web.http.get(PAGE)).text)
    chosen = await web.http.post(PAGE, data={"csrf_token": csrf, "frequence": "quotidien"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/mes-e-mails?fait=1"
    assert await digest_of(web, "holder") is True
    shown = await web.http.get(chosen.headers["location"])
    assert shown.status_code == 200
    assert '<p class="info" role="status">Votre choix est enregistré : « Votre point du jour »' in shown.text
    assert checked(shown.text) == ["quotidien"]
    # The others' choices are theirs.
    assert await digest_of(web, "reviewer") is False

    back = await web.http.post(PAGE, data={"csrf_token": csrf, "frequence": "chaque"}, follow_redirects=True)
    assert back.status_code == 200
    assert "Votre choix est enregistré : chaque e-mail dès qu&#39;il part." in back.text
    assert checked(back.text) == ["chaque"]
    assert await digest_of(web, "holder") is False


@pytest.mark.parametrize("value", ["", "hebdomadaire", "QUOTIDIEN"])
async def test_a_value_the_form_does_not_offer_changes_nothing(web: Web, value: str) -> None:
    await web.sign_in("reviewer")
    csrf = csrf_of((await web.http.get(PAGE)).text)
    refused = await web.http.post(PAGE, data={"csrf_token": csrf, "frequence": value})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    html = refused.text
    assert 'role="alert"' in html and "Votre choix n'a pas changé." in html
    assert '<p class="erreur" id="e-frequence">Recevoir mes e-mails : choisissez' in html
    assert '<fieldset aria-describedby="e-frequence">' in html
    assert checked(html) == ["chaque"] and 'role="status"' not in html
    assert await digest_of(web, "reviewer") is False
    missing = await web.http.post(PAGE, data={"csrf_token": csrf})
    assert missing.status_code == 422
    assert await digest_of(web, "reviewer") is False


async def test_a_form_without_its_csrf_token_changes_nothing(web: Web) -> None:
    await web.sign_in("coordinator")
    csrf = csrf_of((await web.http.get(PAGE)).text)
    refused = await web.http.post(PAGE, data={"frequence": "quotidien"})
    assert refused.status_code == 403 and "Formulaire refusé" in refused.text
    forged = await web.http.post(PAGE, data={"csrf_token": "x" * len(csrf), "frequence": "quotidien"})
    assert forged.status_code == 403
    assert await digest_of(web, "coordinator") is False


async def test_not_signed_in_leads_to_the_sign_in_page(web: Web) -> None:
    page = await web.http.get(PAGE)
    assert page.status_code == 303 and page.headers["location"] == "/connexion?suivant=/mes-e-mails"
    posted = await web.http.post(PAGE, data={"csrf_token": "x" * 43, "frequence": "quotidien"})
    assert posted.status_code == 303 and posted.headers["location"] == "/connexion"
    assert await digest_of(web, "coordinator") is False
