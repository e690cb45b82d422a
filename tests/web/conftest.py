"""The web pages over the app as the API serves them (httpx, no browser), a real SMTP sink, a movable clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.client import Client

from labellisation.api.app import create_app
from labellisation.people import Person, invite
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.web.deps import WebState
from tests.support.mailbox import Mailbox

PUBLIC = "https://suivi.fnep.fr"
SECRET = SecretStr("test-secret-key-with-at-least-32-characters")
T0 = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
LINK = re.compile(r"https://suivi\.fnep\.fr/connexion/lien/[A-Za-z0-9_-]+")


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Web:
    """The app, a browser-like client (keeps cookies), the people, the clock and the mailbox."""

    app: FastAPI
    http: httpx.AsyncClient
    store: RecordStore
    mailbox: Mailbox
    clock: Clock
    people: dict[str, Person]

    @property
    def state(self) -> WebState:
        return cast(WebState, self.app.state.web)

    def browser(self) -> httpx.AsyncClient:
        """Another browser: its own cookies, the same app."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=PUBLIC)

    def links(self) -> list[str]:
        """Every sign-in link the SMTP sink received, oldest first (from the plain-text parts)."""
        found = []
        for message in self.mailbox.messages():
            part = message.get_body(("plain",))
            assert part is not None
            found += LINK.findall(part.get_content())
        return found

    async def sign_in(self, who: str = "coordinator", http: httpx.AsyncClient | None = None) -> httpx.AsyncClient:
        """Ask for a link as `who`, follow it: `http` (default the fixture's client) holds the session."""
        http = http or self.http
        before = len(self.links())
        response = await http.post("/connexion", data={"email": self.people[who].email})
        assert response.status_code == 200, response.text
        links = self.links()
        assert len(links) == before + 1
        followed = await http.get(links[-1])
        assert followed.status_code == 303, followed.text
        assert followed.headers["location"] == "/"
        return http


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match[1]


async def make_web(store: RecordStore, mailbox: Mailbox, **settings: Any) -> AsyncIterator[Web]:
    clock = Clock()
    config: Settings = mailbox.settings.model_copy(update={"secret_key": SECRET, **settings})
    app = create_app(config, client=cast(Client, object()), store=store)  # the pages need no Temporal
    app.state.web.clock = clock
    people = {
        "coordinator": await invite(
            store, role="coordinator", name="Claire Coordination", email="Claire@FNEP.fr", now=clock
        ),
        "reviewer": await invite(
            store, role="reviewer", name="Romain Relecteur", email="romain@fnep.fr",
            regions=["auvergne-rhone-alpes"], now=clock,
        ),
        "holder": await invite(
            store, role="holder", name="Paul Porteur", email="paul@edp-lyon.fr", projects=["demo-lyon"], now=clock
        ),
    }  # fmt: skip
    base = str(config.public_base_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as http:
        yield Web(app, http, store, mailbox, clock, people)


@pytest.fixture
async def web(sqlite_store: RecordStore, mailbox: Mailbox) -> AsyncIterator[Web]:
    async for made in make_web(sqlite_store, mailbox):
        yield made
