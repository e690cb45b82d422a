"""The FastAPI application: one Temporal client and one records store, opened in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import start_http_server
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from labellisation import web
from labellisation.api import codec_server, projects, reports
from labellisation.api.errors import (
    ApiError,
    api_error_handler,
    http_error_handler,
    model_error_handler,
    validation_error_handler,
)
from labellisation.api.observability import instrument
from labellisation.api.rate_limits import RateLimits
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.temporal import connect
from labellisation.tokens import TokenCache
from labellisation.web import project_page

DESCRIPTION = """Le parcours de création et de labellisation des Écoles de Production.

Chaque projet d'école est un workflow Temporal : le porteur soumet chaque étape,
les relecteurs de la FNEP décident, les coordinateurs déplacent les échéances,
mettent en pause et suivent le portefeuille. Authentification : `Authorization:
Bearer <jeton>` (jetons créés par `labellisation token create`).
"""

#: Well above the largest valid body (50 documents with 2,000-character URLs, a 5,000-character comment).
MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = "corps de requête trop volumineux : 1 Mo au plus"


class BodySizeLimit:
    """413 for a body over MAX_BODY_BYTES, whether announced (Content-Length) or streamed, before it is all read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if scope["type"] == "http" and length.isdigit() and int(length) > MAX_BODY_BYTES:
            await JSONResponse({"detail": TOO_LARGE}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:  # the route's error handler turns it into the same 413
                raise StarletteHTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counting, send)


def create_app(settings: Settings, client: Client | None = None, store: RecordStore | None = None) -> FastAPI:
    """An app; pass `client`/`store` to share them (tests, dev launcher), else they are opened here."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        web.check_secret(settings)  # a served app: a public address needs its own secret
        app.state.settings = settings
        app.state.client = client or await connect(
            settings.temporal_address, settings.temporal_namespace, payload_keys=settings.payload_keys
        )
        app.state.store = store or RecordStore.from_url(settings.records_url())
        app.state.tokens = TokenCache(app.state.store)
        metrics_server = None
        if settings.api_metrics_port is not None:  # the metrics on a port of their own, never the site's
            metrics_server, _ = start_http_server(settings.api_metrics_port, registry=registry)
        try:
            yield
        finally:
            if metrics_server is not None:
                metrics_server.shutdown()
            if own_store:
                await app.state.store.close()

    app = FastAPI(title="Labellisation des Écoles de Production", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    if client is not None and store is not None:  # shared parts: usable without running the lifespan
        app.state.settings, app.state.client, app.state.store = settings, client, store
        app.state.tokens = TokenCache(store)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(ValidationError, model_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RateLimits, limit=settings.api_rate_limit)
    registry = instrument(app, separate_port=settings.api_metrics_port is not None)
    app.include_router(projects.router)
    app.include_router(reports.router)
    app.include_router(codec_server.router)
    web.install(app, settings)
    app.include_router(project_page.router)
    return app
