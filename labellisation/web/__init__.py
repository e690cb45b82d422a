"""The web application (French, server-rendered): pages on the API's FastAPI app, same process.

The sign-in by e-mail link and the session (routes.py, sessions.py, security.py), « À décider » (inbox.py),
« Portefeuille » (portfolio.py), « Fiche projet » (project_page.py), « Mon dossier » (my_project.py) and the
French error pages (errors.py). Templates in `templates/`; the vendored stylesheet and htmx in `static/`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from labellisation.settings import Settings
from labellisation.web.deps import (
    CsrfRefused,
    SignInRequired,
    WebState,
    csrf_refused_handler,
    sign_in_required_handler,
)
from labellisation.web.errors import unknown_address_handler
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
    # Replaces the API's handler of the same errors: it still answers them, but a browser's unknown address
    # gets the French 404 page.
    app.add_exception_handler(StarletteHTTPException, unknown_address_handler)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
