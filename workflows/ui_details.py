"""Keeps what Temporal's UI shows of a project up to date (texts in labellisation/overview.py).

`workflow.set_current_details` issues no command and writes nothing to the history: old histories replay.
Deterministic: time is `workflow.now()`.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from labellisation.overview import current_details
    from labellisation.path.state import Project


class DetailsPublisher:
    """Keeps the workflow's current details in step with the project; sets them only when they change."""

    def __init__(self) -> None:
        self._published: str | None = None

    def publish(self, project: Project) -> None:
        details = current_details(project, workflow.now())
        if details != self._published:
            self._published = details
            workflow.set_current_details(details)
