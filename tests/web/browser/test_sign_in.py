"""Sign-in in a real browser: from the e-mail in the SMTP sink to the home page; a form without its CSRF token."""

from __future__ import annotations

import re

from playwright.async_api import Browser, BrowserContext, expect

from tests.support.browser import DEMO, Stack, sign_in_by_mail


async def test_sign_in_from_the_email_in_the_sink(running: Stack, browser: Browser, anonymous: BrowserContext) -> None:
    page = await anonymous.new_page()
    name, label, address = DEMO["coordinator"]
    already = running.mails_to(address)
    await page.goto(f"{running.base_url}/")
    assert page.url == f"{running.base_url}/connexion"  # not signed in: sent to sign-in
    await page.get_by_label("Adresse e-mail").fill(address)
    await page.get_by_role("button", name="Recevoir un lien de connexion").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Si cette adresse est connue, un lien de connexion vient de lui être envoyé."
    )
    link = await running.sign_in_link_mailed_to(address, already)
    await page.goto(link)
    assert page.url == f"{running.base_url}/"
    await expect(page.get_by_text(f"Connecté en tant que {name} ({label}).")).to_be_visible()

    # The link served once: opened again (in another profile) it opens nothing.
    other = await browser.new_context()
    try:
        again = await other.new_page()
        response = await again.goto(link)
        assert response is not None and response.status == 410
        await expect(again.get_by_role("heading", level=1)).to_have_text("Ce lien de connexion n'est plus valable")
    finally:
        await other.close()


async def test_a_form_replayed_without_its_csrf_token_changes_nothing(
    running: Stack, anonymous: BrowserContext
) -> None:
    page = await anonymous.new_page()
    await sign_in_by_mail(page, running, "holder")
    name, label, _ = DEMO["holder"]
    await expect(page.get_by_text(f"Connecté en tant que {name} ({label}).")).to_be_visible()

    # The sign-out form, replayed from the page without its hidden token: refused, the session goes on.
    await page.locator("form[action='/deconnexion'] input[name='csrf_token']").evaluate("field => field.remove()")
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Formulaire refusé")
    await page.goto(f"{running.base_url}/")
    await expect(page.get_by_text(f"Connecté en tant que {name} ({label}).")).to_be_visible()

    # And with another session's token (a form from elsewhere): refused too.
    response = await page.request.post(
        f"{running.base_url}/deconnexion",
        form={"csrf_token": "x" * 43},
        headers={"Origin": running.base_url},
    )
    assert response.status == 403
    assert "Formulaire refusé" in await response.text()
    await page.goto(f"{running.base_url}/")
    await expect(page.get_by_text(f"Connecté en tant que {name} ({label}).")).to_be_visible()

    # With its token, the same form signs out.
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté.")
    await page.goto(f"{running.base_url}/")
    assert re.search(r"/connexion$", page.url)
