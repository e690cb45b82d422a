"""Who is signed in, for the web pages: dependencies that give the person or send them to /connexion.

A page says what it needs in its signature: `person: SignedInDep` (the session: person and CSRF token),
`user: WebUserDep` (the person as an `ApiUser`, the API's access rules apply as they are), `form:
PostedFormDep` for a form posted with a session (its CSRF token checked: 403 and nothing done otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from labellisation.api.deps import StoreDep
from labellisation.settings import Settings
from labellisation.tokens import ApiUser
from labellisation.web.pages import WHOLE_PAGE, page, read_form
from labellisation.web.ratelimit import RateLimiter
from labellisation.web.security import (
    COOKIE,
    CSRF_FIELD,
    clear_session_cookie,
    csrf_matches,
    session_secret,
    unsign,
)
from labellisation.web.sessions import SignedIn, find_session

#: Asking for a sign-in link: per address, per client (its IP address as the API process sees it).
PER_ADDRESS = (5, 15 * 60)
PER_CLIENT = (20, 15 * 60)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebState:
    """What the pages share in one API process (`app.state.web`); tests replace `clock`."""

    secret: bytes
    #: Secure cookies: the public address is https.
    secure: bool
    clock: Callable[[], datetime] = _utc_now
    per_address: RateLimiter = field(default_factory=lambda: RateLimiter(*PER_ADDRESS))
    per_client: RateLimiter = field(default_factory=lambda: RateLimiter(*PER_CLIENT))

    @classmethod
    def from_settings(cls, settings: Settings) -> WebState:
        return cls(secret=session_secret(settings), secure=settings.public_base_url.lower().startswith("https://"))


async def get_web(request: Request) -> WebState:  # async: FastAPI runs a plain `def` in its thread pool
    state: WebState = request.app.state.web
    return state


WebStateDep = Annotated[WebState, Depends(get_web)]


class SignInRequired(Exception):
    """No live session: the page sends the person to /connexion."""


class CsrfRefused(Exception):
    """A form posted with a session, without its CSRF token or with another: refused, nothing done."""


async def maybe_signed_in(request: Request, store: StoreDep, web: WebStateDep) -> SignedIn | None:
    session_id = unsign(request.cookies.get(COOKIE), web.secret)
    if session_id is None:
        return None
    return await find_session(store, session_id, web.clock())


MaybeSignedInDep = Annotated[SignedIn | None, Depends(maybe_signed_in)]


async def signed_in(person: MaybeSignedInDep) -> SignedIn:
    if person is None:
        raise SignInRequired
    return person


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


async def web_user(person: SignedInDep) -> ApiUser:
    return person.user


WebUserDep = Annotated[ApiUser, Depends(web_user)]


@dataclass(frozen=True)
class PostedForm:
    person: SignedIn
    fields: dict[str, str]


async def posted_form(request: Request, person: SignedInDep) -> PostedForm:
    fields = await read_form(request)
    if not csrf_matches(fields.get(CSRF_FIELD), person.csrf_token):
        raise CsrfRefused
    return PostedForm(person, fields)


PostedFormDep = Annotated[PostedForm, Depends(posted_form)]


#: The query parameter and form field that carry where to go back to after signing in.
NEXT_FIELD = "suivant"
MAX_NEXT = 2000


def local_path(text: str | None) -> str | None:
    """A path of this site to come back to after signing in (`/projets/x`, with its query), or None.

    Anything that could lead elsewhere is refused (no open redirect): an absolute URL, a scheme-relative
    `//host`, a backslash (browsers read `/\\host` as `//host`), a control character, or too long a text.
    """
    if not text or len(text) > MAX_NEXT or not text.startswith("/") or text.startswith("//"):
        return None
    if "\\" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return None
    return text


def with_next(url: str, next_path: str | None) -> str:
    """`url` with `?suivant=<next_path>` when there is a local path to come back to (and it is not home)."""
    path = local_path(next_path)
    if path is None or path == "/":
        return url
    return f"{url}?{NEXT_FIELD}={quote(path, safe='/')}"


async def sign_in_required_handler(request: Request, _error: Exception) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = with_next("/connexion", here if request.method == "GET" else None)
    response: Response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    if request.headers.get("HX-Request") == "true":  # htmx would follow the redirect and swap the sign-in form in
        response = Response(status_code=204, headers={"HX-Redirect": target, "Cache-Control": "no-store"})
    if COOKIE in request.cookies:  # ended, expired or forged: the browser may forget it
        clear_session_cookie(response, (await get_web(request)).secure)
    return response


async def csrf_refused_handler(_request: Request, _error: Exception) -> Response:
    return page("refus.html.j2", status_code=403, headers=WHOLE_PAGE)
