"""Writing accepted events to the records database."""

from __future__ import annotations

from temporalio import activity

from labellisation.contract import ACTIVITY_RECORD_EVENTS
from labellisation.records.schema import RecordedEvents, RecordEvents
from labellisation.records.store import RecordStore


class RecordsActivities:
    """A database outage raises, so Temporal retries with backoff; nothing is swallowed."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    @activity.defn(name=ACTIVITY_RECORD_EVENTS)
    async def record_events(self, request: RecordEvents) -> RecordedEvents:
        inserted = await self.store.record(request)
        activity.metric_meter().create_counter(
            "labellisation_events_recorded", "Events written to the records database"
        ).add(inserted)
        activity.logger.info("events recorded", extra={"project_id": request.project.project_id, "inserted": inserted})
        return RecordedEvents(inserted=inserted)
