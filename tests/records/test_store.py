"""The records store on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.testing import ActivityEnvironment

from activities.records import RecordsActivities
from labellisation.path.commands import PauseProject
from labellisation.path.state import Project, ProjectState
from labellisation.path.transitions import apply, start_project
from labellisation.process import load_process
from labellisation.records.migrate import downgrade, upgrade
from labellisation.records.schema import RecordEvents, project_record
from labellisation.records.store import RecordStore
from labellisation.records.tables import Base
from tests.support.path_helpers import T0, pass_step
from tests.support.profiles import make_profile

TABLES = {
    "projects",
    "events",
    "step_measures",
    "stage_measures",
    "reminders",
    "api_tokens",
    "users",
    "sign_in_links",
    "sessions",
    "email_attempts",
    "digest_items",
    "calendar_feeds",
}


def fresh_project(region: str = "Bourgogne-Franche-Comté") -> Project:
    profile = make_profile(f"edp-{uuid.uuid4().hex[:8]}").model_copy(update={"region": region})
    return start_project(profile, load_process("fnep"), T0, "coordination")


def request_for(project: Project) -> RecordEvents:
    return RecordEvents(project=project_record(project), events=project.events)


async def test_history_round_trips_oldest_first(store: RecordStore, database_url: str) -> None:
    project = pass_step(fresh_project(), "opportunity_study", T0 + timedelta(days=3, microseconds=123456))
    project.events[-1].comment = "Validé à l'unanimité — « très bon dossier »"
    project.events[-1].data = {"décision": "approuvé", "pièces": [{"titre": "Étude d'opportunité", "pages": 42}]}
    assert await store.record(request_for(project)) == len(project.events)
    # No workflow anywhere: a fresh connection reads the record back from the database alone.
    reader = RecordStore.from_url(database_url)
    try:
        history = await reader.history(project.profile.project_id)
        record = await reader.project(project.profile.project_id)
    finally:
        await reader.close()
    assert history == project.events
    assert [e.event_id for e in history] == sorted(e.event_id for e in project.events)
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in history)
    # The portfolio's region is a slug, whatever text the workflow holds (a project started before regions were
    # checked); the profile keeps the text.
    assert record == project_record(project).model_copy(update={"region": "bourgogne-franche-comte"})
    assert record.profile["region"] == "Bourgogne-Franche-Comté"
    assert record.next_due_at is not None and record.next_due_at.tzinfo is not None


async def test_the_same_record_twice_writes_each_event_once(store: RecordStore) -> None:
    project = fresh_project()
    first = await store.record(request_for(project))
    second = await store.record(request_for(project))
    later = pass_step(project, "opportunity_study")
    third = await store.record(request_for(later))
    assert (first, second, third) == (3, 0, len(later.events) - 3)
    assert len(await store.history(project.profile.project_id)) == len(later.events)


async def test_an_older_projection_never_overwrites_a_newer_one(store: RecordStore) -> None:
    project = fresh_project()
    newer = pass_step(project, "opportunity_study", T0 + timedelta(days=1))
    await store.record(request_for(newer))
    await store.record(request_for(project))  # a late retry of an earlier batch
    record = await store.project(project.profile.project_id)
    assert record is not None and record.current_stage == "association"


async def test_a_project_introduced_at_its_start_is_listed_and_its_recorder_moves_it_on(store: RecordStore) -> None:
    project = fresh_project()
    assert await store.introduce(project_record(project)) is True
    listed = await store.portfolio(project_ids=[project.profile.project_id])
    assert [row["project_id"] for row in listed] == [project.profile.project_id]
    newer = pass_step(project, "opportunity_study", T0 + timedelta(days=1))
    await store.record(request_for(newer))  # the recorder's rows, events and all, over the introduced row
    record = await store.project(project.profile.project_id)
    assert record is not None and record.current_stage == "association"
    assert len(await store.history(project.profile.project_id)) == len(newer.events)


async def test_an_introduction_arriving_after_the_recorder_changes_nothing(store: RecordStore) -> None:
    project = fresh_project()
    newer = pass_step(project, "opportunity_study", T0 + timedelta(days=1))
    await store.record(request_for(newer))
    assert await store.introduce(project_record(project)) is False  # the start's answer, late
    record = await store.project(project.profile.project_id)
    assert record is not None and record.current_stage == "association"


async def test_portfolio_filters(store: RecordStore) -> None:
    north = fresh_project("Hauts-de-France")
    south = pass_step(fresh_project("Occitanie"), "opportunity_study")
    paused = apply(fresh_project("Occitanie"), PauseProject(actor="c", reason="x", review_on=T0.date()), T0)
    assert isinstance(paused, Project)
    for project in (north, south, paused):
        await store.record(request_for(project))
    ids = {p.profile.project_id: name for p, name in ((north, "north"), (south, "south"), (paused, "paused"))}

    async def names(**filters: object) -> set[str]:
        return {ids[r["project_id"]] for r in await store.portfolio(**filters) if r["project_id"] in ids}  # type: ignore[arg-type]

    assert await names(region="occitanie") == {"south", "paused"}
    assert await names(regions=["occitanie", "hauts-de-france"]) == {"north", "south", "paused"}
    assert await names(regions=["hauts-de-france", "bretagne"]) == {"north"}
    assert await names(regions=[]) == set()
    assert await names(stage="association") == {"south"}
    assert await names(state=ProjectState.PAUSED.value) == {"paused"}
    # north's six-month study is overdue in a year; south's association (2 months) too; a paused one never
    assert await names(overdue_at=T0 + timedelta(days=365)) == {"north", "south"}
    assert await names(overdue_at=T0 + timedelta(days=1)) == set()

    # The list's rows carry the same values as the project's record, datetimes aware.
    for row in await store.portfolio(project_ids=list(ids)):
        record = await store.project(row["project_id"])
        assert record is not None
        assert row["next_due_at"] == record.next_due_at and row["updated_at"] == record.updated_at
        assert row["next_due_at"] is None or row["next_due_at"].tzinfo is not None
        assert (row["state"], row["current_stage"], row["name"]) == (
            record.state.value,
            record.current_stage,
            record.name,
        )
    # Pages by project id.
    first = await store.portfolio(project_ids=list(ids), limit=2)
    rest = await store.portfolio(project_ids=list(ids), after=first[-1]["project_id"])
    assert [r["project_id"] for r in first + rest] == sorted(ids)


async def test_record_activity_twice_writes_one_row_per_event(store: RecordStore) -> None:
    project = fresh_project()
    activities = RecordsActivities(store)
    env = ActivityEnvironment()
    first = await env.run(activities.record_events, request_for(project))
    second = await env.run(activities.record_events, request_for(project))
    assert (first.inserted, second.inserted) == (3, 0)
    assert len(await store.history(project.profile.project_id)) == 3


async def test_a_batch_that_overlaps_the_recorded_events_adds_only_the_new_ones(store: RecordStore) -> None:
    project = fresh_project()
    record = project_record(project)
    assert await store.record(RecordEvents(project=record, events=project.events[:2])) == 2
    assert await store.record(RecordEvents(project=record, events=project.events)) == 1
    assert await store.record(RecordEvents(project=record, events=[])) == 0
    history = await store.history(project.profile.project_id)
    assert [e.event_id for e in history] == [e.event_id for e in project.events]


async def test_the_activity_raises_when_the_database_is_unreachable() -> None:
    down = RecordStore.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(OSError):
            await ActivityEnvironment().run(RecordsActivities(down).record_events, request_for(fresh_project()))
    finally:
        await down.close()


async def test_migrations_round_trip(database_url: str) -> None:
    async def tables() -> set[str]:
        engine = create_async_engine(database_url)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names - {"alembic_version"}

    await asyncio.to_thread(upgrade, database_url)
    assert await tables() == TABLES
    await asyncio.to_thread(downgrade, database_url, "base")
    assert await tables() == set()
    await asyncio.to_thread(upgrade, database_url)
    assert await tables() == TABLES


async def test_the_migrations_build_exactly_the_declared_tables(database_url: str) -> None:
    """A column added to tables.py without its migration fails here, not in production."""
    await asyncio.to_thread(upgrade, database_url)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            drift = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert drift == []


async def test_concurrent_attempts_of_the_same_batch_count_each_event_once(database_url: str) -> None:
    """A timed-out attempt still running while its retry writes: together they insert each event once."""
    await asyncio.to_thread(upgrade, database_url)
    project = pass_step(fresh_project(), "opportunity_study")
    stores = [RecordStore.from_url(database_url) for _ in range(4)]
    try:
        counts = await asyncio.gather(*(s.record(request_for(project)) for s in stores))
        assert sum(counts) == len(project.events)
        assert len(await stores[0].history(project.profile.project_id)) == len(project.events)
    finally:
        for s in stores:
            await s.close()
