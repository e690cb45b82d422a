"""Per-token and per-client request limits (#18 item 4): past `api_rate_limit` requests in a minute, 429 with
`Retry-After`, in French, and nothing done.

The key is the caller: its bearer token (hashed), else its web session cookie (hashed), else its address (behind a
proxy, the one uvicorn trusts: README "Sign-in"). Counted in memory per API process, with the sign-in pages'
sliding window (labellisation/web/ratelimit.py); `/health`, `/metrics` and the static files are not counted.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from labellisation.web.errors import error_page, sentence, wants_a_page
from labellisation.web.ratelimit import RateLimiter

WINDOW_SECONDS = 60
UNCOUNTED = ("/health", "/metrics", "/static/")
TOO_MANY = "trop de requêtes : {limit} par minute au plus ; réessayez dans {seconds} s"


def caller_key(scope: Scope) -> str:
    headers = dict(scope.get("headers", []))
    authorization = headers.get(b"authorization", b"")
    if authorization:
        return "token:" + hashlib.sha256(authorization).hexdigest()[:32]
    cookie = headers.get(b"cookie", b"")
    if cookie:
        return "session:" + hashlib.sha256(cookie).hexdigest()[:32]
    client = scope.get("client")
    return f"client:{client[0] if client else '?'}"


class RateLimits:
    """An ASGI middleware: `limit` requests per minute per caller; 0 turns it off."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.limiter = RateLimiter(limit, WINDOW_SECONDS) if limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if self.limiter is None or scope["type"] != "http" or path.startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        key = caller_key(scope)
        if not self.limiter.allows(key):
            seconds = self.limiter.retry_after(key)
            detail = TOO_MANY.format(limit=self.limit, seconds=seconds)
            headers = {"Retry-After": str(seconds)}
            request = Request(scope)
            if wants_a_page(request):  # a browser: the French page
                response: Response = await error_page(request, 429, sentence(detail), headers)
            else:
                response = JSONResponse({"detail": detail}, status_code=429, headers=headers)
            await response(scope, receive, send)
            return
        self.limiter.hit(key)
        await self.app(scope, receive, send)
