"""Errors: one sentence each, and the mapping from the workflow's refusals."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from labellisation.errors import describe_validation_error

REFUSAL_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


async def api_error_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    return JSONResponse({"detail": error.message}, status_code=error.status, headers={**headers, **error.headers})


async def validation_error_handler(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if p != "body")
        reason = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {reason}" if where else reason)
    return JSONResponse({"detail": "contenu invalide : " + "; ".join(parts)}, status_code=422)


async def model_error_handler(_request: Request, error: Exception) -> JSONResponse:
    """A command built from a valid body can still break a rule across fields: 422, never 500."""
    assert isinstance(error, ValidationError)
    return JSONResponse({"detail": "contenu invalide : " + describe_validation_error(error)}, status_code=422)


async def http_error_handler(_request: Request, error: Exception) -> JSONResponse:
    """A body that cannot even be parsed is an invalid body too (422), said in one sentence."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:
        return JSONResponse({"detail": "contenu invalide : corps de requête illisible (JSON attendu)"}, status_code=422)
    return JSONResponse({"detail": str(error.detail)}, status_code=error.status_code, headers=error.headers)
