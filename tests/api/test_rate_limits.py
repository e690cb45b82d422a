"""Per-caller request limits (#18 item 4): the 101st request in a minute answers 429 with `Retry-After`, in
French (JSON for scripts, the French page for a browser), and other callers go on."""

from __future__ import annotations

import httpx

from labellisation.api.app import create_app
from labellisation.records.store import RecordStore
from labellisation.tokens import ApiUser, UserRole, create_token
from tests.support.api import Api
from tests.support.mailbox import Mailbox


async def test_the_101st_request_of_a_caller_in_a_minute_answers_429(
    api: Api, sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    settings = mailbox.settings.model_copy(update={"api_rate_limit": 100})
    app = create_app(settings, client=api.env.client, store=sqlite_store)
    other = await create_token(sqlite_store, ApiUser(role=UserRole.COORDINATOR, name="Olga", email="olga@fnep.fr"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        mine = {"Authorization": f"Bearer {api.tokens['coordinator']}"}
        answers = [(await http.get("/projects", headers=mine)).status_code for _ in range(100)]
        assert answers == [200] * 100
        refused = await http.get("/projects", headers=mine)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["detail"].startswith("trop de requêtes : 100 par minute au plus")
        assert (await http.get("/projects", headers={"Authorization": f"Bearer {other}"})).status_code == 200
        assert (await http.get("/health")).status_code in (200, 503)  # not counted, never refused

        page = {"Accept": "text/html"}  # a browser without a session: counted by its address
        assert {(await http.get("/connexion", headers=page)).status_code for _ in range(100)} == {200}
        too_many = await http.get("/connexion", headers=page)
        assert too_many.status_code == 429 and "Retry-After" in too_many.headers
        assert too_many.headers["content-type"].startswith("text/html") and "Trop de requêtes" in too_many.text
