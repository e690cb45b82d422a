"""The API as a module-level ASGI app for uvicorn (production: `uvicorn labellisation.api.main:app`)."""

from __future__ import annotations

from labellisation.api.app import create_app
from labellisation.log_setup import configure_logging
from labellisation.settings import get_settings

settings = get_settings()
configure_logging(settings.log_format, settings.log_level)
app = create_app(settings)
