"""The API's metrics on an internal port of their own (#18 item 4): `LABELLISATION_API_METRICS_PORT` serves them
there, and the site's port has no `/metrics` any more."""

from __future__ import annotations

import httpx
from temporalio.testing import WorkflowEnvironment

from labellisation.api.app import create_app
from labellisation.devstack import free_port
from labellisation.records.store import RecordStore
from tests.support.mailbox import Mailbox


async def test_metrics_move_to_their_own_port(
    time_skipping_env: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    port = free_port()
    settings = mailbox.settings.model_copy(
        update={"api_metrics_port": port, "public_base_url": "http://127.0.0.1:8000"}
    )
    app = create_app(settings, client=time_skipping_env.client, store=sqlite_store)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as site,
    ):
        assert (await site.get("/health")).status_code == 200
        on_site = await site.get("/metrics")
        async with httpx.AsyncClient() as internal:
            served = await internal.get(f"http://127.0.0.1:{port}/metrics")
    assert on_site.status_code == 404
    assert served.status_code == 200
    assert 'labellisation_api_requests_total{method="GET",route="/health",status="200"} 1.0' in served.text
    async with httpx.AsyncClient() as internal:  # the lifespan's end stops it
        try:
            await internal.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
            stopped = False
        except httpx.HTTPError:
            stopped = True
    assert stopped
