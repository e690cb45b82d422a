"""Every page as a browser shows it: no serious or critical axe-core violation, at desktop and at phone width (with
nothing wider than the phone's screen), and a screenshot of each.

The screenshots go to the test's temporary directory; with `SCREENSHOTS=docs/screenshots` they are written there
instead, as the README shows them:

    SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/web/browser
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.support.browser import Stack, axe_violations, check, new_context, screenshots_dir, sign_in_as
from tests.web.browser.conftest import PageFor
from tests.web.browser.test_flow import invite, until_shown

Opener = Callable[[Stack, BrowserContext, PageFor], Awaitable[Page]]


async def sign_in_page(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    page = await anonymous.new_page()
    await page.goto(f"{stack.base_url}/connexion")
    return page


async def sign_in_error(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    page = await sign_in_page(stack, anonymous, page_for)
    await page.get_by_label("Adresse e-mail").fill("claire.fnep.fr")
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await expect(page.get_by_role("alert")).to_contain_text("Adresse e-mail : saisissez une adresse valide")
    return page


async def link_sent(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    page = await sign_in_page(stack, anonymous, page_for)
    await page.get_by_label("Adresse e-mail").fill("personne@exemple.fr")  # nobody: no e-mail goes out
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    return page


async def invalid_link(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    page = await anonymous.new_page()
    await page.goto(f"{stack.base_url}/connexion/lien/{'A' * 43}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien de connexion n'est plus valable")
    return page


async def home(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/")
    await expect(page.get_by_text("Connecté en tant que Claire Coordination")).to_be_visible()
    return page


async def form_refused(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    page = await page_for("reviewer")
    await page.goto(f"{stack.base_url}/")
    await page.locator("form[action='/deconnexion'] input[name='csrf_token']").evaluate("field => field.remove()")
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Formulaire refusé")
    return page


async def to_decide(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« À décider », the demo reviewer's, with the demo project's opportunity study waiting (two documents)."""
    page = await page_for("reviewer")
    await page.goto(f"{stack.base_url}/a-decider")
    await expect(page.get_by_role("heading", level=1)).to_have_text("À décider")
    await expect(page.get_by_role("link", name="Lettres de soutien des entreprises")).to_be_visible()
    return page


async def portfolio(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« Portefeuille », the demo coordinator's, with the demo project in it."""
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/portefeuille")
    await expect(page.get_by_role("link", name="École de Production de Lyon", exact=True)).to_be_visible()
    return page


async def my_file(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« Mon dossier », the demo holder's, the opportunity study waiting for the FNEP."""
    page = await page_for("holder")
    await page.goto(f"{stack.base_url}/mon-dossier/demo-lyon")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier : École de Production de Lyon")
    return page


async def new_project(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """The coordinator's form to start a project."""
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/portefeuille/nouveau")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


async def invite_person(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """The coordinator's form to invite a person."""
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/personnes/inviter")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


async def my_emails(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« Mes e-mails », the holder's: each e-mail as it comes or « Votre point du jour » (only looked at: the demo
    holder's choice stays as it is)."""
    page = await page_for("holder")
    await page.goto(f"{stack.base_url}/mes-e-mails")
    await expect(page.get_by_role("group", name="Recevoir mes e-mails")).to_be_visible()
    return page


async def my_calendar(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« Mon calendrier », the coordinator's, with a new subscription URL shown (and its instructions)."""
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/mon-calendrier")
    await page.get_by_role("button", name="Créer mon lien d'abonnement").click()
    await expect(page.get_by_label("Votre lien d'abonnement")).to_have_value(re.compile(r"/calendrier/.+\.ics$"))
    return page


PILOTED = "demo-givors"


async def pilotage(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« Pilotage », the coordinator's: projects at risk, days per step, the funnel, the on-time rate by region, as
    charts and tables; with a project of its own whose holder (invited, signed in by e-mail) submitted the study and
    the reviewer approved it, so that the charts have something to draw."""
    holder_address = "porteur@edp-givors.fr"
    async with stack.api("coordinator") as coordinator:
        started = await coordinator.post(
            "/projects",
            json={
                "project_id": PILOTED, "name": "École de Production de Givors", "department": "69", "city": "Givors",
                "trades": ["Usinage"], "holder": {"name": "Association EdP Givors", "email": holder_address},
                "planned_opening": (date.today() + timedelta(days=400)).isoformat(),
            },
        )  # fmt: skip
        assert started.status_code == 201, started.text
    page = await page_for("coordinator")
    await invite(page, stack, "porteur", "Association EdP Givors", holder_address, projects=PILOTED)
    assert anonymous.browser is not None
    holder_profile = await new_context(anonymous.browser)
    try:
        holder = await holder_profile.new_page()
        await sign_in_as(holder, stack, holder_address)
        await holder.goto(f"{stack.base_url}/mon-dossier/{PILOTED}")
        await holder.get_by_label("Titre du document 1", exact=True).fill("Étude d'opportunité")
        await holder.get_by_label("Adresse du document 1", exact=True).fill("https://docs.example.org/givors.pdf")
        await holder.get_by_role("button", name="Déposer le dossier").click()
        await expect(holder.get_by_role("status")).to_contain_text("Dossier déposé")
    finally:
        await holder_profile.close()
    async with stack.api("reviewer") as reviewer:
        approved = await reviewer.post(
            f"/projects/{PILOTED}/steps/opportunity_study/decisions", json={"decision": "approve", "comment": "Bien"}
        )
        assert approved.status_code == 200, approved.text
    await page.goto(f"{stack.base_url}/pilotage")
    await until_shown(page, page.get_by_role("img", name=re.compile("^Étapes approuvées à l'heure par région")))
    await expect(page.get_by_role("img", name=re.compile("^Jours par étape en boîtes à moustaches"))).to_be_visible()
    await expect(page.get_by_role("rowheader", name="Auvergne-Rhône-Alpes")).to_be_visible()
    return page


async def not_found(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """The French 404 page: a project nobody started."""
    page = await page_for("coordinator")
    response = await page.goto(f"{stack.base_url}/projets/projet-inconnu")
    assert response is not None and response.status == 404
    return page


async def forbidden(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """The French 403 page: a holder on « Portefeuille »."""
    page = await page_for("holder")
    response = await page.goto(f"{stack.base_url}/portefeuille")
    assert response is not None and response.status == 403
    return page


async def project_actions(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """The coordinator's actions on the demo project (move a deadline, pause, resume, abandon)."""
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/projets/demo-lyon/actions")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


async def project_page(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« Fiche projet » of the demo project, as its coordinator sees it (timeline, steps, reminders, history)."""
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/projets/demo-lyon")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


async def undelivered(stack: Stack, anonymous: BrowserContext, page_for: PageFor) -> Page:
    """« Fiche projet » of a project whose holder's address the mail server refuses (the dev sink refuses every
    address at refuse.example): the box « E-mails non distribués » on top."""
    async with stack.api("coordinator") as coordinator:
        started = await coordinator.post(
            "/projects",
            json={
                "project_id": "demo-adresse-refusee", "name": "École de Production de Vénissieux", "department": "69",
                "city": "Vénissieux", "trades": ["Usinage"],
                "holder": {"name": "Association EdP Vénissieux", "email": "porteur@refuse.example"},
                "planned_opening": (date.today() + timedelta(days=400)).isoformat(),
            },
        )  # fmt: skip
        assert started.status_code == 201, started.text
    page = await page_for("coordinator")
    await page.goto(f"{stack.base_url}/projets/demo-adresse-refusee")
    box = page.get_by_role("region", name="E-mails non distribués")
    for _ in range(40):  # the welcome e-mail is refused a moment after the start
        if await box.count():
            break
        await asyncio.sleep(0.5)
        await page.reload()
    await expect(box).to_contain_text("porteur@refuse.example")
    return page


#: Each page by the name of its screenshots (`docs/screenshots/<name>-desktop.png`, `<name>-phone.png`).
PAGES: dict[str, Opener] = {
    "connexion": sign_in_page,
    "connexion-erreur": sign_in_error,
    "lien-envoye": link_sent,
    "lien-invalide": invalid_link,
    "accueil": home,
    "formulaire-refuse": form_refused,
    "nouveau-projet": new_project,
    "inviter": invite_person,
    "mes-e-mails": my_emails,
    "mon-calendrier": my_calendar,
    "pilotage": pilotage,
    "erreur-404": not_found,
    "erreur-403": forbidden,
    "fiche-projet-adresse-refusee": undelivered,
}
#: The pages that show a project: the demo project, submitted, first.
PROJECT_PAGES: dict[str, Opener] = {
    "a-decider": to_decide,
    "portefeuille": portfolio,
    "mon-dossier": my_file,
    "actions": project_actions,
    "fiche-projet": project_page,
}


@pytest.mark.parametrize("name", PAGES)
async def test_page_is_accessible_at_desktop_and_phone_width(
    name: str, running: Stack, anonymous: BrowserContext, page_for: PageFor, tmp_path: Path
) -> None:
    await check(name, await PAGES[name](running, anonymous, page_for), screenshots_dir(tmp_path))


@pytest.mark.parametrize("name", PROJECT_PAGES)
async def test_project_page_is_accessible_at_desktop_and_phone_width(
    name: str, running: Stack, submitted_project: str, anonymous: BrowserContext, page_for: PageFor, tmp_path: Path
) -> None:
    await check(name, await PROJECT_PAGES[name](running, anonymous, page_for), screenshots_dir(tmp_path))


async def test_the_accessibility_check_catches_what_it_must(anonymous: BrowserContext) -> None:
    """The check itself: axe-core (bundled, offline) runs and reports a page's serious and critical faults."""
    page = await anonymous.new_page()
    await page.set_content(
        "<html><head><title>Mauvaise page</title></head><body><img src='x.png'>"
        "<p style='color:#ddd;background:#fff'>Pâle</p><input type='text'></body></html>"
    )
    found = {violation["id"] for violation in await axe_violations(page)}
    assert {"html-has-lang", "image-alt", "label", "color-contrast"} <= found, found
