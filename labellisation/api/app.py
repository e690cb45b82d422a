"""The FastAPI application: one Temporal client and one records store, opened in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import Client

from labellisation.api import projects, reports
from labellisation.api.errors import (
    ApiError,
    api_error_handler,
    http_error_handler,
    model_error_handler,
    validation_error_handler,
)
from labellisation.api.observability import instrument
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.temporal import connect

DESCRIPTION = """Le parcours de création et de labellisation des Écoles de Production.

Chaque projet d'école est un workflow Temporal : le porteur soumet chaque étape,
les relecteurs de la FNEP décident, les coordinateurs déplacent les échéances,
mettent en pause et suivent le portefeuille. Authentification : `Authorization:
Bearer <jeton>` (jetons créés par `labellisation token create`).
"""


def create_app(settings: Settings, client: Client | None = None, store: RecordStore | None = None) -> FastAPI:
    """An app; pass `client`/`store` to share them (tests, dev launcher), else they are opened here."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        app.state.settings = settings
        app.state.client = client or await connect(settings.temporal_address, settings.temporal_namespace)
        app.state.store = store or RecordStore.from_url(settings.records_url())
        try:
            yield
        finally:
            if own_store:
                await app.state.store.close()

    app = FastAPI(title="Labellisation des Écoles de Production", description=DESCRIPTION, lifespan=lifespan)
    if client is not None and store is not None:  # shared parts: usable without running the lifespan
        app.state.settings, app.state.client, app.state.store = settings, client, store
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(ValidationError, model_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    instrument(app)
    app.include_router(projects.router)
    app.include_router(reports.router)
    return app
