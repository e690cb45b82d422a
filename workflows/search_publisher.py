"""The search-attribute publisher: what the portfolio and Temporal's UI filter on.

Workflow code (deterministic).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from labellisation.contract import SA_NEXT_DUE_AT, SA_REGION, SA_STAGE, SA_STATE
    from labellisation.path.deadlines import next_deadline
    from labellisation.path.state import Project

_UNSET = object()


class SearchPublisher:
    """Owns the values last upserted, so each upsert carries only what changed since."""

    def __init__(self) -> None:
        self._published: dict[str, object] = {}

    def publish(self, project: Project) -> None:
        """Upsert the search attributes that changed since the last upsert."""
        updates: list[SearchAttributeUpdate[Any]] = []
        keywords = {
            SA_STAGE: project.current_stage_id(),
            SA_REGION: project.profile.region,
            SA_STATE: project.state.value,
        }
        for key, value in keywords.items():
            if self._published.get(key.name, _UNSET) != value:
                self._published[key.name] = value
                updates.append(key.value_set(value))
        due = next_deadline(project)
        if self._published.get(SA_NEXT_DUE_AT.name, _UNSET) != due:
            self._published[SA_NEXT_DUE_AT.name] = due
            updates.append(SA_NEXT_DUE_AT.value_unset() if due is None else SA_NEXT_DUE_AT.value_set(due))
        if updates:
            workflow.upsert_search_attributes(updates)
