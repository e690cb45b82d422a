"""htmx in a real browser: « Portefeuille »'s filters and sorts swap the list in place (the page is not reloaded,
the address follows), a bad filter is shown beside its field in place, an ended session sends the person to
sign-in and back; and with JavaScript off the same form works as a plain form."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Browser, Page, expect

from tests.support.browser import DEMO, Stack, new_context, sign_in_as
from tests.web.browser.conftest import PageFor

#: Set on the page's window: still there after an action, the page was not loaded again.
MARK = "window.__samePage"


async def mark(page: Page) -> None:
    await page.evaluate(f"{MARK} = true")


async def still_the_same_page(page: Page) -> bool:
    return bool(await page.evaluate(f"{MARK} === true"))


async def settled(page: Page) -> None:
    """Until htmx has swapped the list in and wired its new form (no `htmx-…` class left on it): an action before
    then would meet the old form, or a new one not yet listened to."""
    await expect(page.locator("#resultats")).not_to_have_class(re.compile(r"htmx-"))


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


async def test_filters_and_sorts_swap_the_list_in_place_and_the_address_follows(
    running: Stack, page_for: PageFor
) -> None:
    page = await page_for("coordinator")
    await page.goto(f"{running.base_url}/portefeuille")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Portefeuille")
    await mark(page)

    await page.get_by_label("En retard seulement").check()  # a change is enough: no button to press
    await expect(page).to_have_url(re.compile(r"overdue=1"))
    await expect(page.get_by_label("En retard seulement")).to_be_checked()
    await settled(page)
    assert await still_the_same_page(page)

    await page.get_by_label("Trier par").select_option(label="Nom")
    await expect(page).to_have_url(re.compile(r"sort=nom"))
    assert query(page)["overdue"] == ["1"]  # the other filter kept
    await settled(page)
    assert await still_the_same_page(page)

    # A bad value: the French error beside the field, what was typed kept, still in place.
    await page.get_by_label("Phase", exact=True).fill("phase imaginaire")
    await page.get_by_role("button", name="Filtrer").click()
    await expect(page.locator("#e-stage")).to_contain_text("Phase :")
    await expect(page.get_by_label("Phase", exact=True)).to_have_value("phase imaginaire")
    await expect(page.get_by_label("Phase", exact=True)).to_have_attribute("aria-invalid", "true")
    assert await still_the_same_page(page)
    assert await page.title() == "Portefeuille — Suivi des Écoles de Production"

    # The address is the page: opened afresh, it shows the same filters.
    await page.goto(f"{running.base_url}/portefeuille?overdue=1&sort=nom")
    await expect(page.get_by_label("En retard seulement")).to_be_checked()
    await expect(page.get_by_label("Trier par")).to_have_value("nom")


async def test_an_ended_session_sends_the_person_to_sign_in_and_back(running: Stack, browser: Browser) -> None:
    context = await new_context(browser)
    try:
        page = await context.new_page()
        await sign_in_as(page, running, DEMO["coordinator"][2])
        await page.goto(f"{running.base_url}/portefeuille")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Portefeuille")
        await context.clear_cookies()  # the session ended (signed out elsewhere, expired)
        await page.get_by_label("En retard seulement").click()  # not check(): the page is gone before it is checked
        # the whole page goes to sign-in, not a sign-in form swapped into the list
        await expect(page).to_have_url(re.compile(r"/connexion\?suivant="))
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Connexion")
        back = urlsplit(query(page)["suivant"][0])
        assert back.path == "/portefeuille" and parse_qs(back.query)["overdue"] == ["1"]
    finally:
        await context.close()


async def test_with_javascript_off_the_filters_are_a_plain_form(running: Stack, browser: Browser) -> None:
    context = await browser.new_context(java_script_enabled=False, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        page = await context.new_page()
        await sign_in_as(page, running, DEMO["coordinator"][2])
        await page.goto(f"{running.base_url}/portefeuille")
        await page.get_by_label("En retard seulement").check()
        assert "overdue" not in query(page)  # nothing happens until the form is sent
        await page.get_by_role("button", name="Filtrer").click()
        await expect(page).to_have_url(re.compile(r"overdue=1"))
        await expect(page.get_by_label("En retard seulement")).to_be_checked()
        await page.get_by_label("Trier par").select_option(label="Nom")
        assert "sort=nom" not in page.url
        await page.get_by_role("button", name="Filtrer").click()
        await expect(page).to_have_url(re.compile(r"sort=nom"))
        assert query(page)["overdue"] == ["1"]
    finally:
        await context.close()
