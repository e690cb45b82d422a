"""Request ids, one log line per request, and Prometheus metrics of the API."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labellisation.log_setup import get_logger

log = get_logger("labellisation.api")


#: The HTTP methods the metrics name; any other is counted as `other`.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: A request id a caller may give (`X-Request-ID`); anything else is replaced by one of ours.
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def instrument(app: FastAPI, separate_port: bool = False) -> CollectorRegistry:
    """Request ids, logs and metrics for `app`; its metrics at `/metrics`, unless they get a port of their own
    (`separate_port`: the caller serves the registry returned, on the internal network)."""
    registry = CollectorRegistry()
    requests = Counter(
        "labellisation_api_requests", "API requests by route and status", ["method", "route", "status"],
        registry=registry,
    )  # fmt: skip
    latency = Histogram(
        "labellisation_api_request_seconds", "API request latency by route", ["method", "route"], registry=registry
    )
    app.add_middleware(Observe, requests=requests, latency=latency)
    if separate_port:
        return registry

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry


class Observe:
    """Request id, metrics and one log line per request, as plain ASGI middleware.

    (Starlette's `@app.middleware("http")` runs every request in a task of its own with memory
    streams between the two: a cost on every call, in the decision's round trip too.)
    """

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        # A caller's id is kept only when it is a plain one: it goes into logs and a response header.
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            structlog.contextvars.clear_contextvars()
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            params = scope.get("path_params", {})
            # Known methods only: an invented one would add a series to /metrics at every request.
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(elapsed)
            log.info(
                "request", method=method, route=route, status=status, request_id=request_id,
                project_id=params.get("project_id"), step=params.get("step"), ms=round(elapsed * 1000, 1),
            )  # fmt: skip
