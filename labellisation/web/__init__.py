"""The web application (French, server-rendered): pages on the API's FastAPI app, same process.

Today the sign-in by e-mail link and the session (routes.py, sessions.py, security.py); the pages of
the next issue go beside them. Templates in `templates/`, the vendored stylesheet in `static/`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from labellisation.settings import Settings
from labellisation.web.deps import (
    CsrfRefused,
    SignInRequired,
    WebState,
    csrf_refused_handler,
    sign_in_required_handler,
)
from labellisation.web.routes import router
from labellisation.web.security import check_secret
from labellisation.web.sessions import LINK_LIFETIME, sign_in_links_for

__all__ = ["LINK_LIFETIME", "check_secret", "install", "sign_in_links_for"]

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, settings: Settings) -> None:
    """The pages, their error pages and `/static` on `app`."""
    app.state.web = WebState.from_settings(settings)
    app.add_exception_handler(SignInRequired, sign_in_required_handler)
    app.add_exception_handler(CsrfRefused, csrf_refused_handler)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
