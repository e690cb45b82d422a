"""The `api` fixture (tests/support/api.py)."""

from tests.support.api import api

__all__ = ["api"]
