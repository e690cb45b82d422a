"""Revoking a token or disabling a person holds at the next request, in every API process (no cache window).

Two apps built by `create_app` on the same records database, each with its own connection pool, stand for two
API processes: the second has just accepted a token when the first's database revokes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import update
from temporalio.client import Client

from labellisation.api.app import create_app
from labellisation.people import disable, enable, invite
from labellisation.records.migrate import upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import TokenRow
from labellisation.settings import Settings
from labellisation.tokens import create_token, list_tokens, revoke_token


class Processes:
    def __init__(self, stores: list[RecordStore], clients: list[httpx.AsyncClient]) -> None:
        self.stores, self.clients = stores, clients

    async def statuses(self, token: str) -> list[tuple[int, Any]]:
        """GET /projects through each process, in turn: (status, detail or list)."""
        answers = []
        for http in self.clients:
            response = await http.get("/projects", headers={"Authorization": f"Bearer {token}"})
            body = response.json()
            answers.append((response.status_code, body.get("detail") if isinstance(body, dict) else body))
        return answers


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    url = f"sqlite+aiosqlite:///{tmp_path}/records.db"
    await asyncio.to_thread(upgrade, url)
    stores = [RecordStore.from_url(url) for _ in range(2)]
    settings = Settings(data_dir=tmp_path)
    apps = [create_app(settings, client=cast(Client, object()), store=store) for store in stores]  # no Temporal
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") for app in apps]
    try:
        yield Processes(stores, clients)
    finally:
        for http in clients:
            await http.aclose()
        for store in stores:
            await store.close()


OK: tuple[int, Any] = (200, [])


async def test_a_revoked_token_is_refused_at_once_by_the_process_that_had_just_accepted_it(
    processes: Processes,
) -> None:
    first, second = processes.stores
    rita = await invite(first, role="reviewer", name="Rita", email="rita@fnep.fr", regions=["grand-est"])
    token, kept = await create_token(first, rita), await create_token(first, rita)
    assert await processes.statuses(token) == [OK, OK]

    await revoke_token(first, token[:12])
    assert await processes.statuses(token) == [(401, "jeton révoqué")] * 2
    assert await processes.statuses(kept) == [OK, OK]  # only that token
    assert [t.revoked_at is not None for t in await list_tokens(second)] == [True, False]


async def test_a_disabled_person_is_refused_at_once_in_every_process_and_let_back_when_enabled(
    processes: Processes,
) -> None:
    first, _ = processes.stores
    claire = await invite(first, role="coordinator", name="Claire", email="claire@fnep.fr")
    paul = await invite(first, role="holder", name="Paul", email="paul@edp.fr", projects=["edp-a"])
    tokens = [await create_token(first, claire), await create_token(first, claire)]
    holder = await create_token(first, paul)
    for token in [*tokens, holder]:
        assert await processes.statuses(token) == [OK, OK]

    await disable(first, "Claire@fnep.fr")
    for token in tokens:
        assert await processes.statuses(token) == [(401, "compte désactivé")] * 2
    assert await processes.statuses(holder) == [OK, OK]

    await enable(first, "claire@fnep.fr")
    assert await processes.statuses(tokens[0]) == [OK, OK]


async def test_a_token_past_its_expiry_is_refused_and_a_bad_one_stays_invalid(processes: Processes) -> None:
    first, _ = processes.stores
    rita = await invite(first, role="reviewer", name="Rita", email="rita@fnep.fr")
    token = await create_token(first, rita, expires_at=datetime.now(UTC) + timedelta(days=30))
    assert await processes.statuses(token) == [OK, OK]
    async with first.sessions.begin() as session:
        await session.execute(update(TokenRow).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert await processes.statuses(token) == [(401, "jeton expiré")] * 2
    assert await processes.statuses("lab_" + "x" * 43) == [(401, "jeton invalide")] * 2
