"""Sessions (issue #15, item 4): the cookie, idle and absolute expiry, sign-out, disabling, CSRF, the secret."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from labellisation.api.app import create_app
from labellisation.people import disable
from labellisation.records.store import RecordStore
from labellisation.records.tables import SessionRow, UserRow
from labellisation.settings import Settings, SettingsError
from labellisation.web.security import COOKIE, LOCAL_SECRET, check_secret, session_secret, sign
from tests.support.mailbox import Mailbox
from tests.web.conftest import Web, csrf_of, make_web


def session_cookie(response: httpx.Response) -> SimpleCookie:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}=")]
    cookie = SimpleCookie()
    cookie.load(header)
    return cookie


async def session_rows(web: Web) -> list[SessionRow]:
    async with web.store.sessions() as session:
        return list(await session.scalars(select(SessionRow)))


async def signed_in(web: Web, who: str = "coordinator") -> str:
    """Sign in with the fixture's client; the home page's CSRF token."""
    await web.sign_in(who)
    home = await web.http.get("/")
    assert home.status_code == 200
    return csrf_of(home.text)


async def is_signed_in(http: httpx.AsyncClient) -> bool:
    response = await http.get("/")
    assert response.status_code in (200, 303)
    return response.status_code == 200


async def test_the_cookie_is_signed_http_only_same_site_lax_and_secure_with_https(web: Web) -> None:
    await web.http.post("/connexion", data={"email": "claire@fnep.fr"})
    followed = await web.http.get(web.links()[-1])
    morsel = session_cookie(followed)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["secure"] is True
    assert morsel["path"] == "/"
    assert morsel["max-age"] == str(30 * 24 * 3600)
    session_id, _, signature = morsel.value.rpartition(".")
    assert len(session_id) == 43 and signature
    # Only the id's hash is stored, and the CSRF token is not the id.
    [row] = await session_rows(web)
    assert session_id not in (row.session_hash, row.csrf_token)


async def test_no_secure_flag_on_a_local_http_address(sqlite_store: RecordStore, mailbox: Mailbox) -> None:
    async for web in make_web(sqlite_store, mailbox, public_base_url="http://127.0.0.1:8000"):
        await web.http.post("/connexion", data={"email": "claire@fnep.fr"})
        [message] = web.mailbox.messages()
        body = message.get_body(("plain",))
        assert body is not None
        link = next(line for line in body.get_content().splitlines() if "/connexion/lien/" in line)
        assert link.startswith("http://127.0.0.1:8000/connexion/lien/")
        followed = await web.http.get(link.strip())
        morsel = session_cookie(followed)[COOKIE]
        assert morsel["secure"] == ""
        assert morsel["httponly"] is True
        assert morsel["samesite"].lower() == "lax"


async def test_a_cookie_not_signed_with_the_secret_is_refused(web: Web) -> None:
    await signed_in(web)
    value = web.http.cookies[COOKIE]
    session_id = value.rpartition(".")[0]
    async with web.browser() as forger:
        for forged in (session_id, f"{session_id}.AAAA", sign(session_id, b"another secret"), value[:-1] + "x"):
            forger.cookies.set(COOKIE, forged, domain="suivi.fnep.fr")
            assert not await is_signed_in(forger), forged
        forger.cookies.set(COOKIE, value, domain="suivi.fnep.fr")  # the genuine one, copied
        assert await is_signed_in(forger)


async def test_a_session_ends_after_12_idle_hours(web: Web) -> None:
    await signed_in(web)
    web.clock.advance(hours=11, minutes=59)
    assert await is_signed_in(web.http)  # and this visit counts
    web.clock.advance(hours=11, minutes=59)
    assert await is_signed_in(web.http)
    web.clock.advance(hours=12)
    response = await web.http.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion"
    assert f'{COOKIE}=""' in response.headers["set-cookie"]  # the browser may forget it
    [row] = await session_rows(web)
    assert row.ended_at == web.clock.now
    web.clock.advance(minutes=-1)  # ended is ended, even back within the idle time
    assert not await is_signed_in(web.http)


async def test_a_session_lasts_30_days_at_most(web: Web) -> None:
    await signed_in(web)
    for _ in range(65):  # a visit every 11 hours: never idle
        web.clock.advance(hours=11)
        assert await is_signed_in(web.http)
    web.clock.advance(hours=5)  # 30 days after the sign-in
    assert not await is_signed_in(web.http)


async def test_sign_out_ends_the_session(web: Web) -> None:
    csrf = await signed_in(web)
    cookie = web.http.cookies[COOKIE]
    response = await web.http.post("/deconnexion", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert "Vous êtes déconnecté." in response.text
    assert f'{COOKIE}=""' in response.headers["set-cookie"]
    [row] = await session_rows(web)
    assert row.ended_at == web.clock.now
    async with web.browser() as replay:  # the old cookie, kept by someone
        replay.cookies.set(COOKIE, cookie, domain="suivi.fnep.fr")
        assert not await is_signed_in(replay)


async def test_a_disabled_persons_session_is_refused(web: Web) -> None:
    await signed_in(web, "reviewer")
    await disable(web.store, "romain@fnep.fr", now=web.clock)
    assert not await is_signed_in(web.http)


async def test_an_inactive_person_is_refused_even_with_a_session_left_open(web: Web) -> None:
    await signed_in(web, "holder")
    async with web.store.sessions.begin() as session:  # disabled some other way than `users disable`
        await session.execute(update(UserRow).where(UserRow.email == "paul@edp-lyon.fr").values(active=False))
    assert not await is_signed_in(web.http)
    [row] = await session_rows(web)
    assert row.ended_at is not None


async def test_a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(web: Web) -> None:
    csrf = await signed_in(web)
    async with web.browser() as other:
        other_csrf = csrf_of((await (await web.sign_in("reviewer", other)).get("/")).text)
    assert other_csrf != csrf
    for data in ({}, {"csrf_token": ""}, {"csrf_token": csrf[:-1]}, {"csrf_token": other_csrf}):
        response = await web.http.post("/deconnexion", data=data)
        assert response.status_code == 403, data
        assert "Formulaire refusé" in response.text
        assert "Rien n'a été modifié." in response.text
        assert "set-cookie" not in response.headers
    assert all(row.ended_at is None for row in await session_rows(web))
    assert await is_signed_in(web.http)
    # The same token sent another way than the form's field (a JSON body) is no form.
    assert (await web.http.post("/deconnexion", json={"csrf_token": csrf})).status_code == 403
    # Asking for a link with a session is a form too: without the token, no e-mail goes.
    sent = len(web.mailbox.messages())
    refused = await web.http.post("/connexion", data={"email": "paul@edp-lyon.fr"})
    assert refused.status_code == 403
    assert len(web.mailbox.messages()) == sent
    assert (
        await web.http.post("/connexion", data={"email": "paul@edp-lyon.fr", "csrf_token": csrf})
    ).status_code == 200
    assert len(web.mailbox.messages()) == sent + 1
    # Right token: signed out.
    assert (await web.http.post("/deconnexion", data={"csrf_token": csrf})).status_code == 200
    assert not await is_signed_in(web.http)


async def test_pages_need_a_session(web: Web) -> None:
    response = await web.http.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion"
    out = await web.http.post("/deconnexion", data={})
    assert out.status_code == 303  # nothing to end


async def test_a_new_link_in_the_same_browser_ends_the_previous_session(web: Web) -> None:
    await signed_in(web, "coordinator")
    csrf = csrf_of((await web.http.get("/connexion")).text)
    await web.http.post("/connexion", data={"email": "romain@fnep.fr", "csrf_token": csrf})
    await web.http.get(web.links()[-1])
    assert "Connecté en tant que Romain Relecteur (relecteur)." in (await web.http.get("/")).text
    rows = await session_rows(web)
    assert sorted(row.ended_at is None for row in rows) == [False, True]


@pytest.mark.parametrize(
    ("url", "secret", "refused"),
    [
        ("https://suivi.fnep.fr", None, True),
        ("https://suivi.fnep.fr", "local-only-secret-key-for-a-laptop-xxxxxxxx", True),
        ("https://suivi.fnep.fr", "too-short", True),
        ("https://suivi.fnep.fr", "x" * 48, False),
        ("http://127.0.0.1:8000", None, False),
        ("http://localhost:8000", None, False),
    ],
)
def test_a_public_address_needs_a_real_secret(url: str, secret: str | None, refused: bool) -> None:
    settings = Settings(public_base_url=url, secret_key=SecretStr(secret) if secret else None)
    if refused:
        with pytest.raises(SettingsError, match="LABELLISATION_SECRET_KEY"):
            check_secret(settings)
    else:
        check_secret(settings)


async def test_the_served_app_refuses_to_start_on_a_public_address_without_a_secret() -> None:
    app = create_app(Settings(public_base_url="https://suivi.fnep.fr", secret_key=None))
    with pytest.raises(SettingsError, match="LABELLISATION_SECRET_KEY"):
        async with app.router.lifespan_context(app):
            pass


def test_an_empty_secret_is_no_secret() -> None:
    with pytest.raises(SettingsError):
        check_secret(Settings(public_base_url="https://suivi.fnep.fr", secret_key=SecretStr("")))
    assert session_secret(Settings(secret_key=SecretStr(""))) == LOCAL_SECRET  # `${SECRET_KEY:-}` on a laptop
