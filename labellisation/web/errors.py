"""The web pages' errors in French: a page per error (403, 404, 409…), never the API's JSON.

The pages' routers use `FrenchErrorsRoute`: an `ApiError` raised by the API's logic the page reuses
(access checks, commands, status reads) or a `WebError` raised by the page itself becomes the French
error page with the API's one sentence. The JSON API keeps its own handlers: this route class is on the
pages' routers only. Sign-in and CSRF refusals pass through to their own handlers (labellisation/web/deps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from labellisation.api.errors import ApiError, http_error_handler
from labellisation.web.pages import WHOLE_PAGE, page
from labellisation.web.security import COOKIE, unsign
from labellisation.web.sessions import SignedIn, find_session

#: The title of each error page; other statuses read « Action impossible ».
TITLES = {
    403: "Accès refusé",
    404: "Page introuvable",
    409: "Action impossible maintenant",
    422: "Demande invalide",
    429: "Trop de requêtes",
    503: "Service momentanément indisponible",
}
#: What the person can do next, below the sentence.
ADVICE = {
    403: "Cette page est réservée à d'autres personnes ou à d'autres régions que les vôtres.",
    404: "Le lien est peut-être incomplet, ou le projet n'existe pas.",
    409: "L'état du projet ne permet pas cette action pour le moment. Rien n'a été modifié.",
    429: "Patientez un moment avant de recharger la page. Rien n'a été modifié.",
    503: "Le moteur de suivi ne répond pas pour l'instant. Réessayez dans quelques minutes.",
}


class WebError(Exception):
    """A page's refusal: the status and one sentence in French."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _signed_in(request: Request) -> SignedIn | None:
    """The person of the request's session, for the frame (their name, sign-out, their pages); None without one.

    The error may come from anywhere in the page, its dependencies included: the session is read again here.
    """
    state = getattr(request.app.state, "web", None)
    store = getattr(request.app.state, "store", None)
    if state is None or store is None:
        return None
    session_id = unsign(request.cookies.get(COOKIE), state.secret)
    return await find_session(store, session_id, state.clock()) if session_id else None


async def error_page(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The French page for `status`, with its sentence; the person's name in the frame when signed in."""
    person = await _signed_in(request)
    return page(
        "erreur.html.j2",
        status_code=status,
        headers={**WHOLE_PAGE, **(headers or {})},
        person=person,
        status=status,
        title=TITLES.get(status, "Action impossible"),
        message=message,
        advice=ADVICE.get(status, ""),
    )


class FrenchErrorsRoute(APIRoute):
    """A page route whose `ApiError` and `WebError` are shown as French pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def french_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return await error_page(request, error.status, sentence(error.message), error.headers)
            except WebError as error:
                return await error_page(request, error.status, error.message)

        return french_errors


def sentence(message: str) -> str:
    """The API's sentence as a page shows it: a capital first letter and a full stop."""
    text = message.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def wants_a_page(request: Request) -> bool:
    """A browser asking for a page (GET or HEAD, HTML accepted), not a script asking the API."""
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


async def unknown_address_handler(request: Request, error: Exception) -> Response:
    """An address no route answers: the French 404 page for a browser; the API's JSON error for anyone else, and
    for every other status (a body too large, an unreadable body)."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code in (404, 405) and wants_a_page(request):
        return await error_page(request, 404, "Aucune page ne se trouve à cette adresse.")
    return await http_error_handler(request, error)
