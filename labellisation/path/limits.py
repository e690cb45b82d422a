"""Bounds that keep a project inside Temporal's limits for years.

Temporal refuses any single payload over 2 MB (and warns from 512 KB), and a
run's history over 50,000 events or 50 MB. A project lives four years or more,
so every payload the workflow builds is bounded here, in the pure model:

- a submission (documents and comment) is at most `MAX_SUBMISSION_BYTES` of
  JSON, so a step's state and its event stay small whatever a holder sends;
- a batch of events for the records database is at most `RECORD_BATCH_EVENTS`
  events and `RECORD_BATCH_BYTES` of JSON (at least one event, which the
  submission bound keeps small);
- the state carried through continue-as-new holds only the events the records
  database does not hold yet: the official history lives there, not in the
  workflow.
"""

from __future__ import annotations

from labellisation.path.commands import Command, SubmitStep
from labellisation.path.state import Event, Project

#: One submission's documents and comment, as JSON.
MAX_SUBMISSION_BYTES = 32 * 1024
RECORD_BATCH_EVENTS = 200
#: Cohorts one project may record (one per school year: thirty years), so its carried state stays bounded (#18).
MAX_COHORTS = 30
RECORD_BATCH_BYTES = 256 * 1024


def _json_size(model: Event | Command) -> int:
    return len(model.model_dump_json().encode())


def oversized(command: Command) -> str | None:
    """Why a command's payload is too large to keep for years, or None."""
    if isinstance(command, SubmitStep):
        size = _json_size(command)
        if size > MAX_SUBMISSION_BYTES:
            return (
                f"documents: la soumission pèse {size // 1024} Ko, au-delà de {MAX_SUBMISSION_BYTES // 1024} Ko : "
                "raccourcissez le commentaire ou les titres et adresses des documents"
            )
    return None


def record_batch_end(events: list[Event], start: int) -> int:
    """End (exclusive) of the next batch of events to record from `start`: bounded in count and in bytes."""
    end = start
    size = 0
    while end < len(events) and end - start < RECORD_BATCH_EVENTS:
        size += _json_size(events[end])
        if end > start and size > RECORD_BATCH_BYTES:
            break
        end += 1
    return end


def without_recorded_events(project: Project, recorded: int) -> Project:
    """The state to carry into a new run: the events already in the records database are dropped."""
    return project.model_copy(update={"events": project.events[recorded:]})
