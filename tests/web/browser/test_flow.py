"""The issue's path through the pages, as its three people live it in a browser: the holder submits two documents,
the reviewer asks for changes, the holder sees the request and submits again, the reviewer approves, the coordinator
sees the project in its next stage in « Portefeuille » and exports it as CSV; a reviewer of another region sees
none of it. No terminal: the coordinator starts the project and invites its holder (and that other reviewer) with
« Portefeuille »'s forms, and each person signs in from the e-mail in the SMTP sink."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, expect

from tests.support.browser import Stack, check, new_context, screenshots_dir, sign_in_as
from tests.web.browser.conftest import PageFor

PROJECT = "demo-villeurbanne"
NAME = "École de Production de Villeurbanne"
HOLDER = "porteur@edp-villeurbanne.fr"
OTHER_REVIEWER = "relectrice@fnep-bretagne.fr"
ASKED = "Ajoutez le budget prévisionnel sur trois ans."


async def start_project(page: Page, stack: Stack) -> None:
    """The coordinator starts the project with « Portefeuille »'s form."""
    await page.goto(f"{stack.base_url}/portefeuille")
    await page.get_by_role("link", name="Démarrer un projet").click()
    form = page.locator("form", has=page.get_by_role("button", name="Démarrer le projet"))
    await form.get_by_label("Identifiant du projet").fill(PROJECT)
    await form.get_by_label("Nom de l'école").fill(NAME)
    await form.get_by_label("Département").fill("69")
    await form.get_by_label("Ville").fill("Villeurbanne")
    await form.get_by_label("Métiers").fill("Chaudronnerie")
    await form.get_by_label("Porteur : nom").fill("Association EdP Villeurbanne")
    await form.get_by_label("Porteur : adresse e-mail").fill(HOLDER)
    await form.get_by_label("Ouverture prévue").fill((date.today() + timedelta(days=400)).isoformat())
    await form.get_by_role("button", name="Démarrer le projet").click()
    await expect(page.get_by_role("status")).to_have_text("Le projet est démarré.")


async def invite(page: Page, stack: Stack, role: str, name: str, email: str, **also: str) -> None:
    """The coordinator invites a person with « Inviter une personne » (`also`: regions, projects)."""
    await page.goto(f"{stack.base_url}/portefeuille")
    await page.get_by_role("link", name="Inviter une personne").click()
    await page.get_by_label("Rôle").select_option(label=role)
    await page.get_by_label("Nom", exact=True).fill(name)
    await page.get_by_label("Adresse e-mail").fill(email)
    if "regions" in also:
        await page.get_by_label("Régions").fill(also["regions"])
    if "projects" in also:
        await page.get_by_label("Projets").fill(also["projects"])
    await page.get_by_role("button", name="Inviter").click()
    await expect(page.get_by_role("status")).to_contain_text("La personne est invitée")


async def submit(page: Page, stack: Stack, documents: list[tuple[str, str]], comment: str) -> None:
    await page.goto(f"{stack.base_url}/mon-dossier/{PROJECT}")
    form = page.locator("section", has=page.get_by_role("heading", name="Déposer : Étude d'opportunité"))
    for i, (title, url) in enumerate(documents, start=1):
        await form.get_by_label(f"Titre du document {i}", exact=True).fill(title)
        await form.get_by_label(f"Adresse du document {i}", exact=True).fill(url)
    await form.get_by_label("Commentaire pour la FNEP").fill(comment)
    await form.get_by_role("button", name="Déposer le dossier").click()
    await expect(page.get_by_role("status")).to_contain_text("Dossier déposé : Étude d'opportunité")


def waiting_step(page: Page) -> Locator:
    return page.locator("section", has=page.get_by_role("heading", name=f"Étude d'opportunité — {NAME}"))


async def decide(page: Page, stack: Stack, decision: str, comment: str = "") -> None:
    """Decide in « À décider »: the list is swapped in place (htmx), the confirmation focused, the step gone."""
    await page.goto(f"{stack.base_url}/a-decider")
    step = waiting_step(page)
    await expect(step).to_be_visible()
    await page.evaluate("window.__samePage = true")
    await step.get_by_role("radio", name=decision).check()
    if comment:
        await step.get_by_role("textbox", name=re.compile("^Commentaire")).fill(comment)
    await step.get_by_role("button", name="Enregistrer la décision").click()
    await expect(page.get_by_role("status")).to_be_focused()
    await expect(waiting_step(page)).to_have_count(0)
    assert await page.evaluate("window.__samePage === true")  # not a new page: the list only


async def decide_without_the_comment(page: Page, stack: Stack) -> None:
    """Ask for changes without saying which: the error beside the field, in place, and nothing decided."""
    await page.goto(f"{stack.base_url}/a-decider")
    step = waiting_step(page)
    await page.evaluate("window.__samePage = true")
    await step.get_by_role("radio", name="Demander des modifications").check()
    await step.get_by_role("button", name="Enregistrer la décision").click()
    await expect(step.get_by_role("alert")).to_contain_text("obligatoire pour demander des modifications")
    await expect(step.get_by_role("radio", name="Demander des modifications")).to_be_checked()
    assert await page.evaluate("window.__samePage === true")


async def until_shown(page: Page, locator: Locator, seconds: float = 20) -> None:
    """Reload until `locator` is there (the records follow the workflow a moment later)."""
    for _ in range(int(seconds * 2)):
        if await locator.count():
            return
        await asyncio.sleep(0.5)
        await page.reload()
    await expect(locator).to_be_visible()


async def test_submit_ask_for_changes_resubmit_approve_then_the_portfolio_and_its_csv(
    running: Stack, browser: Browser, page_for: PageFor, tmp_path: Path
) -> None:
    coordinator = await page_for("coordinator")
    await start_project(coordinator, running)
    await invite(coordinator, running, "porteur", "Association EdP Villeurbanne", HOLDER, projects=PROJECT)
    await invite(coordinator, running, "relecteur", "Rose Relectrice", OTHER_REVIEWER, regions="bretagne")
    holder_profile = await new_context(browser)
    other_profile = await new_context(browser)
    try:
        holder = await holder_profile.new_page()
        await sign_in_as(holder, running, HOLDER)
        await expect(holder.get_by_text("Connecté en tant que Association EdP Villeurbanne")).to_be_visible()
        documents = [
            ("Étude d'opportunité", "https://docs.example.org/villeurbanne/etude.pdf"),
            ("Lettres de soutien", "https://docs.example.org/villeurbanne/soutiens.pdf"),
        ]
        await submit(holder, running, documents, "Première version.")

        reviewer = await page_for("reviewer")
        await reviewer.goto(f"{running.base_url}/a-decider")
        step = waiting_step(reviewer)
        await expect(step.get_by_role("link", name="Lettres de soutien")).to_be_visible()
        await expect(step).to_contain_text("Première version.")
        await decide_without_the_comment(reviewer, running)
        await decide(reviewer, running, "Demander des modifications", ASKED)

        # A reviewer of another region sees none of it.
        other = await other_profile.new_page()
        await sign_in_as(other, running, OTHER_REVIEWER)
        await other.goto(f"{running.base_url}/a-decider")
        await expect(other.get_by_role("heading", level=1)).to_have_text("À décider")
        await expect(other.get_by_text(NAME)).to_have_count(0)
        refused = await other.goto(f"{running.base_url}/projets/{PROJECT}")
        assert refused is not None and refused.status == 403
        await expect(other.get_by_text(NAME)).to_have_count(0)

        await holder.goto(f"{running.base_url}/mon-dossier/{PROJECT}")
        await until_shown(holder, holder.get_by_text(ASKED))
        # « Mon dossier » as the holder finds it then: the request in « À faire », the form to submit again.
        await check("mon-dossier-modifications", holder, screenshots_dir(tmp_path))
        await submit(holder, running, [*documents, ("Budget prévisionnel", "https://docs.example.org/budget.pdf")], "")

        await decide(reviewer, running, "Approuver")

        await coordinator.goto(f"{running.base_url}/portefeuille")
        row = coordinator.get_by_role("row", name=re.compile(NAME))
        await until_shown(coordinator, row.filter(has_text="Association porteuse"))
        async with coordinator.expect_download() as waiting:
            await coordinator.get_by_role("link", name="Exporter en CSV").click()
        download = await waiting.value
        path = await download.path()
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for a French spreadsheet
        lines = raw.decode("utf-8-sig").splitlines()
        assert ";" in lines[0]
        ours = [line for line in lines if NAME in line]
        assert len(ours) == 1 and "Association porteuse" in ours[0], lines
    finally:
        await holder_profile.close()
        await other_profile.close()
