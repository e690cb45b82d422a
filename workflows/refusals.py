"""What a sender sees of a failed send or record: an e-mail the mail server refused for good (the activity's
`delivery_refused` error), and a local activity's cancellation told from its failure.

Workflow code (deterministic).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from labellisation.contract import DELIVERY_REFUSED


def delivery_refusal(error: ActivityError) -> tuple[list[str], str] | None:
    """(the addresses refused, the server's reply) when the send ended with `delivery_refused`; else None."""
    cause = error.cause
    if not isinstance(cause, ApplicationError) or cause.type != DELIVERY_REFUSED:
        return None
    details: Any = cause.details[0] if cause.details else {}
    refused = [str(a) for a in details.get("refused", [])] if isinstance(details, dict) else []
    reason = str(details.get("reason", cause.message)) if isinstance(details, dict) else cause.message
    return refused, reason


def cancelled(error: FailureError) -> bool:
    """Whether an activity's failure is its cancellation. A local activity's failure comes as the error itself when
    the activity raised it (an `ApplicationError`), wrapped in an `ActivityError` when it timed out or was
    cancelled; an activity's always wrapped."""
    cause = error.cause if isinstance(error, ActivityError) else None
    return isinstance(error, CancelledError) or isinstance(cause, CancelledError)
