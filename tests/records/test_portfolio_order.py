"""The portfolio sorted, paged and counted by the database (SQLite and PostgreSQL), as « Portefeuille » shows it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from labellisation.path.state import ProjectState
from labellisation.records.portfolio import PortfolioFilter, PortfolioSort, portfolio_page, portfolio_rows, stage_counts
from labellisation.records.schema import RecordEvents
from labellisation.records.store import RecordStore
from tests.records.test_store import fresh_project, request_for
from tests.support.path_helpers import T0

NOW = T0 + timedelta(days=100)
ACTIVE, PAUSED = ProjectState.ACTIVE, ProjectState.PAUSED
#: name, state, stage, next deadline in days from NOW (None: none), region slug
PROJECTS = [
    ("delta", ACTIVE, "association", -30, "occitanie"),
    ("Alpha", ACTIVE, "opportunity", 10, "occitanie"),
    ("charlie", PAUSED, "opportunity", -60, "occitanie"),  # past its date but paused: not overdue
    ("bravo", ACTIVE, "opportunity", None, "occitanie"),
    ("echo", ACTIVE, "association", -5, "bretagne"),
    ("Foxtrot", ACTIVE, "opportunity", 3, "occitanie"),
]


async def recorded(store: RecordStore) -> dict[str, str]:
    """The six projects recorded with a shared random prefix; project id → name."""
    prefix = uuid.uuid4().hex[:6]
    ids = {}
    for name, state, stage, due_in, region in PROJECTS:
        base = request_for(fresh_project()).project
        record = base.model_copy(
            update={
                "project_id": f"{prefix}-{name.lower()}",
                "name": name,
                "state": state,
                "current_stage": stage,
                "next_due_at": None if due_in is None else NOW + timedelta(days=due_in),
                "region": region,
            }
        )
        await store.record(RecordEvents(project=record, events=[]))
        ids[record.project_id] = name
    return ids


async def names(store: RecordStore, ids: dict[str, str], sort: PortfolioSort, **filters: object) -> list[str]:
    f = PortfolioFilter(project_ids=list(ids), **filters)  # type: ignore[arg-type]
    return [ids[r["project_id"]] for r in await portfolio_rows(store.engine, f, sort, NOW)]


async def test_each_sort_orders_the_projects_as_the_page_promises(store: RecordStore) -> None:
    ids = await recorded(store)
    # next deadline first, none last (a paused project's past date is still its date)
    assert await names(store, ids, PortfolioSort.DUE) == ["charlie", "delta", "echo", "Foxtrot", "Alpha", "bravo"]
    # by name, whatever the case
    assert await names(store, ids, PortfolioSort.NAME) == ["Alpha", "bravo", "charlie", "delta", "echo", "Foxtrot"]
    # the active overdue ones first, the longest overdue first; then the rest as by deadline
    assert await names(store, ids, PortfolioSort.OVERDUE) == ["delta", "echo", "charlie", "Foxtrot", "Alpha", "bravo"]
    # filters still apply under a sort
    assert await names(store, ids, PortfolioSort.NAME, region="bretagne") == ["echo"]
    assert await names(store, ids, PortfolioSort.DUE, overdue_at=NOW) == ["delta", "echo"]


async def test_pages_count_every_match_and_a_page_past_the_end_is_the_last(store: RecordStore) -> None:
    ids = await recorded(store)
    f = PortfolioFilter(project_ids=list(ids))
    first = await portfolio_page(store.engine, f, PortfolioSort.NAME, NOW, number=1, size=4)
    assert (first.total, first.number, first.pages) == (6, 1, 2)
    assert [ids[r["project_id"]] for r in first.rows] == ["Alpha", "bravo", "charlie", "delta"]
    past = await portfolio_page(store.engine, f, PortfolioSort.NAME, NOW, number=9, size=4)
    assert (past.number, [ids[r["project_id"]] for r in past.rows]) == (2, ["echo", "Foxtrot"])
    empty = await portfolio_page(store.engine, PortfolioFilter(project_ids=[]), PortfolioSort.DUE, NOW, 3, 4)
    assert (empty.rows, empty.total, empty.number, empty.pages) == ([], 0, 1, 1)


async def test_stage_counts_of_a_persons_regions(store: RecordStore) -> None:
    ids = await recorded(store)
    mine = {r["project_id"] for r in await store.portfolio(regions=["bretagne"])}
    counts = await stage_counts(store.engine, ["bretagne"])
    # other tests record Breton projects in this database too: the counts are those of every Breton project
    expected: dict[str, int] = {}
    for row in await store.portfolio(project_ids=list(mine)):
        expected[row["current_stage"]] = expected.get(row["current_stage"], 0) + 1
    assert counts == expected and counts.get("association", 0) >= 1
    everywhere = await stage_counts(store.engine, None)
    assert everywhere["opportunity"] >= 4 and sum(everywhere.values()) >= len(ids)
    assert await stage_counts(store.engine, []) == {}
