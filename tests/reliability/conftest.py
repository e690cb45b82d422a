"""The HTTP API fixture of tests/api, shared with the hostile-input and confinement tests."""

from tests.support.api import api

__all__ = ["api"]
