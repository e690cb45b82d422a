"""How a sender tells a failed send's kinds apart (workflows/refusals.py): a local activity's cancellation comes
wrapped in an `ActivityError`, like an activity's, and must not pass for a failure to send or record (the recorder
would then schedule the batch again instead of stopping)."""

from __future__ import annotations

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    FailureError,
    RetryState,
    TimeoutError,
    TimeoutType,
)

from workflows.refusals import cancelled


def wrapped(cause: FailureError) -> ActivityError:
    """What the workflow sees when a (local) activity timed out or was cancelled: the reason as the cause."""
    error = ActivityError(
        "activity failed", scheduled_event_id=5, started_event_id=6, identity="worker", activity_type="record_events",
        activity_id="1", retry_state=RetryState.NON_RETRYABLE_FAILURE,
    )  # fmt: skip
    error.__cause__ = cause
    return error


def test_a_cancellation_is_one_wrapped_or_not() -> None:
    assert cancelled(wrapped(CancelledError()))
    assert cancelled(CancelledError())


def test_a_timeout_or_an_error_of_the_activity_is_not_one() -> None:
    assert not cancelled(
        wrapped(TimeoutError("timed out", type=TimeoutType.SCHEDULE_TO_CLOSE, last_heartbeat_details=[]))
    )
    assert not cancelled(ApplicationError("connection reset by peer"))
    assert not cancelled(wrapped(ApplicationError("connection reset by peer")))
