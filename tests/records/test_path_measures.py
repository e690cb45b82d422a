"""Path measures (#19): the clock rules on one project's events, and the store keeping them as events arrive,
batch after batch, on SQLite and PostgreSQL; the migration filling them from the events already recorded."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select

from labellisation.path.commands import DecideStep, PauseProject, ResumeProject
from labellisation.path.transitions import apply
from labellisation.process import load_process
from labellisation.records.migrate import downgrade, upgrade
from labellisation.records.path_measures import measure
from labellisation.records.path_report import path_report, path_report_of, report_events
from labellisation.records.schema import RecordEvents, project_record
from labellisation.records.store import RecordStore
from labellisation.records.tables import StageMeasureRow, StepMeasureRow
from tests.records.test_store import fresh_project
from tests.support.path_helpers import T0, approve, ok, submit
from tests.support.random_paths import walked

STEP = "opportunity_study"
STEPS = [s.id for stage in load_process("fnep").stages for s in stage.steps]
STAGES = [stage.id for stage in load_process("fnep").stages]
DAY = timedelta(days=1)


def at(day: float) -> datetime:
    return T0 + day * DAY


def test_a_pause_stops_the_holders_clock_and_the_reviews() -> None:
    project = fresh_project()
    project = ok(apply(project, PauseProject(actor="coordination", reason="Vote", review_on=at(60).date()), at(10)))
    project = ok(apply(project, ResumeProject(actor="coordination"), at(40)))
    project = submit(project, STEP, at(45))  # holder: 10 + 5 days
    project = ok(apply(project, PauseProject(actor="coordination", reason="Vote", review_on=at(90).date()), at(47)))
    project = ok(apply(project, ResumeProject(actor="coordination"), at(80)))
    project = approve(project, STEP, at(83))  # review: 2 + 3 days
    measured = measure((e.kind.value, e.step, e.at, e.data) for e in project.events).steps[STEP]
    assert (round(measured.holder, 6), round(measured.review, 6)) == (15.0, 5.0)
    assert measured.approved and measured.on_time and measured.submissions == 1


def test_a_request_for_changes_gives_the_clock_back_to_the_holder() -> None:
    project = submit(fresh_project(), STEP, at(4))
    decision = DecideStep(actor="fnep", step=STEP, decision="request_changes", comment="Chiffrer")
    project = ok(apply(project, decision, at(6)))
    project = approve(submit(project, STEP, at(13)), STEP, at(14))
    measured = measure((e.kind.value, e.step, e.at, e.data) for e in project.events)
    step = measured.steps[STEP]
    assert (round(step.holder, 6), round(step.review, 6), step.changes, step.submissions) == (11.0, 3.0, 1, 2)
    assert measured.stages[:2] == ["opportunity", "association"] and measured.ends == {"opportunity": "passed"}
    assert measured.start_year == T0.year


async def test_the_store_keeps_each_projects_measures_batch_after_batch(store: RecordStore) -> None:
    project = fresh_project("Normandie")  # the PostgreSQL database is the session's: a region of its own
    await store.record(RecordEvents(project=project_record(project), events=project.events))
    seen = len(project.events)
    project = submit(project, STEP, at(9))
    await store.record(RecordEvents(project=project_record(project), events=project.events[seen:]))  # one batch
    seen = len(project.events)
    project = approve(project, STEP, at(12))
    await store.record(RecordEvents(project=project_record(project), events=project.events[seen:]))
    await store.record(RecordEvents(project=project_record(project), events=project.events))  # a retry: no change
    report = await path_report_of(store, [STEP], [], ["normandie"], process="fnep")
    [study] = [s for s in report.steps if s.step == STEP]
    assert (study.projects, study.holder_days.median, study.review_days.median, study.on_time_rate) == (1, 9, 3, 1)
    assert [(r.region, r.approved) for r in report.on_time_by_region] == [("normandie", 1)]
    assert (await path_report_of(store, [STEP], [], None, process="fnep", year=T0.year + 1)).projects == 0
    assert (await path_report_of(store, [STEP], [], ["bretagne"], process="fnep")).projects == 0


async def test_the_migration_measures_the_projects_already_recorded(store: RecordStore, database_url: str) -> None:
    project = approve(submit(fresh_project("Corse"), STEP, at(7)), STEP, at(8))
    await store.record(RecordEvents(project=project_record(project), events=project.events))
    await asyncio.to_thread(downgrade, database_url, "0005_calendar_feeds")  # as an older version left it
    await asyncio.to_thread(upgrade, database_url)
    [study] = [s for s in (await path_report_of(store, [STEP], [], ["corse"])).steps if s.step == STEP]
    assert (study.projects, study.holder_days.median, study.review_days.median, study.on_time_rate) == (1, 7, 1, 1)


async def test_the_migration_writes_the_tables_as_they_stood_at_its_revision(
    store: RecordStore, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later version's `step_measures` may gain a column with a default (tables.py follows the latest revision):
    0006, run on a database an older version left, must write only the columns it creates."""
    project = approve(submit(fresh_project("Guadeloupe"), STEP, at(7)), STEP, at(8))
    await store.record(RecordEvents(project=project_record(project), events=project.events))
    await asyncio.to_thread(downgrade, database_url, "0005_calendar_feeds")
    columns = [Column(c.name, c.type, primary_key=c.primary_key) for c in StepMeasureRow.__table__.columns]
    later = Table("step_measures", MetaData(), *columns, Column("weeks_late", Integer, nullable=False, default=0))
    monkeypatch.setattr(StepMeasureRow, "__table__", later)
    await asyncio.to_thread(upgrade, database_url)
    monkeypatch.undo()
    [study] = [s for s in (await path_report_of(store, [STEP], [], ["guadeloupe"])).steps if s.step == STEP]
    assert (study.projects, study.holder_days.median, study.review_days.median, study.on_time_rate) == (1, 7, 1, 1)


async def test_sql_gives_the_figures_python_adds_up_from_the_events(store: RecordStore) -> None:
    rng = random.Random(7)
    projects = [walked(index, rng, rng.randrange(4, 40)) for index in range(60)]
    for project in projects:  # batch by batch, as the workflow records them
        for end in sorted({3, *rng.sample(range(4, len(project.events) + 1), 3), len(project.events)}):
            if end <= len(project.events):
                await store.record(RecordEvents(project=project_record(project), events=project.events[:end]))
    in_regions = sorted(
        {r["region"] for r in await store.portfolio(project_ids=[p.profile.project_id for p in projects])}
    )
    # PostgreSQL's database is the session's: both sides read every fnep project of these regions there.
    regions = {r["project_id"]: r["region"] for r in await store.portfolio(regions=in_regions)}
    every = await report_events(store, in_regions, None, "fnep")
    expected = path_report({p: measure(e) for p, e in every.items()}, STEPS, STAGES, regions)
    assert await path_report_of(store, STEPS, STAGES, in_regions, process="fnep") == expected
    assert expected.projects >= 60 and len(in_regions) == 6 and any(s.review_days.count > 4 for s in expected.steps)
    assert sum(f.started for f in expected.funnel) >= 60 and len(expected.on_time_by_region) == 6


async def measure_rows(store: RecordStore, project_id: str) -> list[dict[str, Any]]:
    """The project's step and stage measures as the tables hold them, its id left out."""
    found = []
    async with store.engine.connect() as connection:
        for table in (StepMeasureRow, StageMeasureRow):
            rows = await connection.execute(select(table).where(table.project_id == project_id))
            found += sorted(
                ({"table": table.__tablename__} | {k: v for k, v in row._mapping.items() if k != "project_id"}
                 for row in rows),
                key=repr,
            )  # fmt: skip
    return found


async def test_a_projects_first_batch_is_measured_as_the_events_read_back_would_be(store: RecordStore) -> None:
    # The same walk twice (same seed), two projects of the same region: one recorded in one first batch (measured
    # from the batch itself), the other first batch of one event then the rest (measured from the events read back).
    whole, split = (walked(index, random.Random(11), 30) for index in (9001, 9001 + 6))
    assert [e.kind for e in whole.events] == [e.kind for e in split.events] and len(whole.events) >= 20
    await store.record(RecordEvents(project=project_record(whole), events=whole.events))
    await store.record(RecordEvents(project=project_record(split), events=split.events[:1]))
    await store.record(RecordEvents(project=project_record(split), events=split.events[1:]))
    expected = await measure_rows(store, split.profile.project_id)
    assert len([r for r in expected if r["table"] == "step_measures"]) >= 3
    assert await measure_rows(store, whole.profile.project_id) == expected
