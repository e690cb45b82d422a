"""Turning validation errors into one sentence a person can act on."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(error: ValidationError) -> str:
    """`field.path: reason; other.field: reason` without pydantic's boilerplate."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        reason = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {reason}" if where else reason)
    return "; ".join(parts)
