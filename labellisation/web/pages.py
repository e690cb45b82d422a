"""Rendering the pages: Jinja2 templates in `templates/` (autoescaped), HTML responses with safe headers."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.background import BackgroundTask

from labellisation.catalogue import ROLE_LABELS

#: Pages carry CSRF tokens and people's names: never cached, never framed, forms posted here only.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
#: An error page replaces the page's whole `main` where htmx asked for a part of it (a list, a form): htmx reads
#: these headers, a browser without JavaScript ignores them.
WHOLE_PAGE = {"HX-Retarget": "main", "HX-Reselect": "main", "HX-Reswap": "outerHTML"}
#: More fields than any of our forms has is not one of our forms.
MAX_FIELDS = 100


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("labellisation.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["role_fr"] = lambda role: ROLE_LABELS.get(str(role), str(role))
    return env


def page(
    name: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    background: BackgroundTask | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page `name` with `context`; `person` (a SignedIn or None) and `csrf_token` default to None."""
    context.setdefault("person", None)
    context.setdefault("csrf_token", context["person"].csrf_token if context["person"] else None)
    html = _environment().get_template(name).render(context)
    return HTMLResponse(html, status_code=status_code, headers={**HEADERS, **(headers or {})}, background=background)


async def read_form(request: Request) -> dict[str, str]:
    """An HTML form's fields (application/x-www-form-urlencoded), the first value of each; {} for any other body.

    The standard library's parser instead of python-multipart: our forms post short text fields only
    (no file), and the body is already capped at 1 MB by the app's BodySizeLimit.
    """
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:  # more fields than MAX_FIELDS
        return {}
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields
