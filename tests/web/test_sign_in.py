"""Sign-in by e-mail link (issue #15, item 4): the link, what asking for one tells, the limits, the e-mail."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from email import policy
from email.parser import Parser

from sqlalchemy import select

from labellisation.people import disable, invite
from labellisation.records.tables import SessionRow, SignInLinkRow
from labellisation.web.sessions import LINK_LIFETIME, create_sign_in_link, use_sign_in_link
from tests.web.conftest import PUBLIC, T0, Web

SENT = "Si cette adresse est connue, un lien de connexion vient de lui être envoyé."


async def sessions(web: Web) -> list[SessionRow]:
    async with web.store.sessions() as session:
        return list(await session.scalars(select(SessionRow)))


async def test_the_sign_in_page_is_a_french_form_that_works_without_javascript(web: Web) -> None:
    response = await web.http.get("/connexion")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html
    assert '<form method="post" action="/connexion"' in html
    assert 'type="email" id="email" name="email"' in html
    # JavaScript only from this server (htmx, for partial updates elsewhere), never inline: the form needs none
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/htmx-2.0.11.min.js" defer>']
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    style = await web.http.get("/static/style.css")
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")


async def test_a_link_opens_a_session_once(web: Web) -> None:
    response = await web.http.post("/connexion", data={"email": "claire@fnep.fr"})
    assert response.status_code == 200
    assert SENT in response.text
    [message] = web.mailbox.messages()
    assert message["To"].addresses[0].addr_spec == "claire@fnep.fr"  # the address as stored, lower-cased
    assert message["Subject"] == "Votre lien de connexion au suivi des Écoles de Production"
    [link] = web.links()

    followed = await web.http.get(link)
    assert followed.status_code == 303
    assert followed.headers["location"] == "/"
    home = await web.http.get("/")
    assert home.status_code == 200
    assert "Connecté en tant que Claire Coordination (coordinateur)." in home.text

    async with web.browser() as other:
        again = await other.get(link)
        assert again.status_code == 410
        assert "Ce lien de connexion n'est plus valable" in again.text
        assert '<form method="post" action="/connexion"' in again.text  # offers a new link
        assert "set-cookie" not in again.headers
        assert (await other.get("/")).status_code == 303
    assert len(await sessions(web)) == 1


async def test_a_link_expires_after_15_minutes(web: Web) -> None:
    user_id = web.people["reviewer"].id
    late = await create_sign_in_link(web.store, user_id, T0)
    in_time = await create_sign_in_link(web.store, user_id, T0)
    assert await use_sign_in_link(web.store, late, T0 + LINK_LIFETIME) is None
    person = await use_sign_in_link(web.store, in_time, T0 + LINK_LIFETIME - timedelta(seconds=1))
    assert person is not None
    assert person.email == "romain@fnep.fr"

    # Through the pages: the e-mail's link, followed 15 minutes after it was sent.
    await web.http.post("/connexion", data={"email": "romain@fnep.fr"})
    [link] = web.links()
    web.clock.advance(minutes=15)
    followed = await web.http.get(link)
    assert followed.status_code == 410
    assert "set-cookie" not in followed.headers
    assert await sessions(web) == []


async def test_a_link_cannot_be_guessed_from_another(web: Web) -> None:
    for _ in range(2):
        await web.http.post("/connexion", data={"email": "paul@edp-lyon.fr"})
    first, second = (link.rsplit("/", 1)[1] for link in web.links())
    assert len(first) == len(second) == 43  # 32 random bytes
    assert first != second
    assert sum(a == b for a, b in zip(first, second, strict=True)) < 10  # independent: ~0.7 equal positions
    async with web.store.sessions() as session:
        stored = {row.link_hash for row in await session.scalars(select(SignInLinkRow))}
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in (first, second)}  # only the hashes

    async with web.browser() as intruder:
        swapped = first[:-1] + ("A" if first[-1] != "A" else "B")
        for guess in (swapped, first[:-1], first + "A", first.upper(), hashlib.sha256(first.encode()).hexdigest()):
            response = await intruder.get(f"/connexion/lien/{guess}")
            assert response.status_code == 410, guess
        assert (await intruder.get("/")).status_code == 303
    # The guesses used nothing up: both links still work.
    assert (await web.http.get(f"{PUBLIC}/connexion/lien/{first}")).status_code == 303
    assert (await web.http.get(f"{PUBLIC}/connexion/lien/{second}")).status_code == 303


async def test_asking_for_a_link_never_tells_whether_an_address_is_known(web: Web) -> None:
    await disable(web.store, "paul@edp-lyon.fr")
    answers = [
        await web.http.post("/connexion", data={"email": address})
        for address in ("inconnu@exemple.fr", "paul@edp-lyon.fr", "CLAIRE@fnep.fr", "personne@fnep.fr")
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert len({tuple(sorted((k, v) for k, v in a.headers.items() if k != "x-request-id")) for a in answers}) == 1
    assert SENT in answers[0].text
    # Only the known, active person got an e-mail: not the unknown addresses, not the disabled holder.
    assert [m["To"].addresses[0].addr_spec for m in web.mailbox.messages()] == ["claire@fnep.fr"]


async def test_an_address_beyond_ascii_gets_its_link(web: Web) -> None:
    await invite(web.store, role="holder", name="José Porteur", email="josé@edp-lyon.fr", projects=["demo-lyon"])
    assert (await web.http.post("/connexion", data={"email": "josé@edp-lyon.fr"})).status_code == 200
    [path] = web.mailbox.outbox.glob("*.eml")
    received = Parser(policy=policy.default).parsestr(path.read_bytes().decode("utf-8"))  # SMTPUTF8: raw UTF-8
    assert received["X-Sink-Envelope-To"] == "josé@edp-lyon.fr"
    assert received["To"].addresses[0].addr_spec == "josé@edp-lyon.fr"
    text = received.get_body(("plain",))
    assert text is not None and "/connexion/lien/" in text.get_content()


async def test_a_malformed_address_is_refused_naming_the_field(web: Web) -> None:
    response = await web.http.post("/connexion", data={"email": "claire-at-fnep"})
    assert response.status_code == 422
    assert "Adresse e-mail : saisissez une adresse valide" in response.text
    assert 'value="claire-at-fnep"' in response.text
    empty = await web.http.post("/connexion", data={})
    assert empty.status_code == 422
    assert web.mailbox.messages() == []


async def test_asking_too_often_is_answered_429_per_address_and_per_client(web: Web) -> None:
    for _ in range(5):
        assert (await web.http.post("/connexion", data={"email": "claire@fnep.fr"})).status_code == 200
    refused = await web.http.post("/connexion", data={"email": "Claire@fnep.fr"})  # the same address, any case
    assert refused.status_code == 429
    assert "Trop de demandes de lien de connexion" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert len(web.mailbox.messages()) == 5
    # Unknown addresses are limited alike (the 429 tells nothing either).
    for _ in range(5):
        await web.http.post("/connexion", data={"email": "inconnu@exemple.fr"})
    assert (await web.http.post("/connexion", data={"email": "inconnu@exemple.fr"})).status_code == 429
    # Per client: 20 requests in 15 minutes, whatever the addresses (12 made above, refused ones included).
    answers = [(await web.http.post("/connexion", data={"email": f"x{i}@exemple.fr"})).status_code for i in range(9)]
    assert answers == [200] * 8 + [429]
    # The window slides: a quarter of an hour later, both limits allow again.
    limiters = (web.state.per_address, web.state.per_client)
    for limiter in limiters:
        limiter.clock = lambda: 15 * 60 + 1_000_000.0
    assert (await web.http.post("/connexion", data={"email": "claire@fnep.fr"})).status_code == 200


async def test_the_e_mail_is_french_text_and_html_with_the_link(web: Web) -> None:
    await web.http.post("/connexion", data={"email": "paul@edp-lyon.fr"})
    [message] = web.mailbox.messages()
    [link] = web.links()
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().startswith("Bonjour Paul Porteur,\r\n")  # the subject is no line of the text
    assert "valable 15 minutes, jusqu'à 10 h 15 (heure de Paris)" in text.get_content()  # 9:15 UTC, winter
    assert f'href="{link}"' in html.get_content()
    assert message["From"].addresses[0].addr_spec == "labellisation@fnep.fr"
    assert message["Auto-Submitted"] == "auto-generated"
