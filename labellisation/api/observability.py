"""Request ids, one log line per request, and Prometheus metrics of the API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from labellisation.logging import get_logger

log = get_logger("labellisation.api")


def instrument(app: FastAPI) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "labellisation_api_requests", "API requests by route and status", ["method", "route", "status"],
        registry=registry,
    )  # fmt: skip
    latency = Histogram(
        "labellisation_api_request_seconds", "API request latency by route", ["method", "route"], registry=registry
    )

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(
            request_id=request_id, project_id=request.path_params.get("project_id") if request.path_params else None
        )
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.clear_contextvars()
        route = getattr(request.scope.get("route"), "path", "unmatched")
        elapsed = time.perf_counter() - started
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(request.method, route).observe(elapsed)
        project_id = request.scope.get("path_params", {}).get("project_id")
        log.info(
            "request", method=request.method, route=route, status=response.status_code, request_id=request_id,
            project_id=project_id, step=request.scope.get("path_params", {}).get("step"),
            ms=round(elapsed * 1000, 1),
        )  # fmt: skip
        response.headers["X-Request-ID"] = request_id
        return response

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
