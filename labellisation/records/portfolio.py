"""The portfolio as the database sorts, pages and counts it: one page of thousands of projects, never all of them.

The filters are those of `RecordStore.portfolio` (which reads every matching row, for the reports and the CSV);
`portfolio_page` adds the sort, the page and the count in SQL, and `stage_counts` counts projects per stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from labellisation.records.tables import ProjectRow

PORTFOLIO_COLUMNS = (
    ProjectRow.project_id, ProjectRow.name, ProjectRow.region, ProjectRow.department, ProjectRow.city,
    ProjectRow.process, ProjectRow.state, ProjectRow.current_stage, ProjectRow.next_due_at,
    ProjectRow.planned_opening, ProjectRow.updated_at,
)  # fmt: skip


class PortfolioSort(StrEnum):
    #: Next deadline first, projects without one last.
    DUE = "due"
    #: By name, case ignored (ASCII case only on SQLite).
    NAME = "name"
    #: Active projects past their deadline first, the longest overdue first; then as DUE.
    OVERDUE = "overdue"


@dataclass(frozen=True)
class PortfolioFilter:
    """Which projects: each field set narrows the list; None keeps every value."""

    stage: str | None = None
    #: One region's slug.
    region: str | None = None
    state: str | None = None
    #: Only the active projects whose next deadline is before this instant.
    overdue_at: datetime | None = None
    project_ids: Sequence[str] | None = None
    #: The regions of a person limited to regions (None: every one).
    regions: Sequence[str] | None = None


Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def filtered(query: Q, f: PortfolioFilter) -> Q:
    if f.stage is not None:
        query = query.where(ProjectRow.current_stage == f.stage)
    if f.region is not None:
        query = query.where(ProjectRow.region == f.region)
    if f.state is not None:
        query = query.where(ProjectRow.state == f.state)
    if f.overdue_at is not None:
        query = query.where(ProjectRow.next_due_at < f.overdue_at, ProjectRow.state == "active")
    if f.project_ids is not None:
        query = query.where(ProjectRow.project_id.in_(list(f.project_ids)))
    if f.regions is not None:
        query = query.where(ProjectRow.region.in_(list(f.regions)))
    return query


def _order(sort: PortfolioSort, now: datetime) -> list[Any]:
    # `IS NULL` first in the key puts the projects without a deadline last on SQLite and PostgreSQL alike.
    by_due = [ProjectRow.next_due_at.is_(None), ProjectRow.next_due_at, ProjectRow.project_id]
    if sort is PortfolioSort.NAME:
        return [func.lower(ProjectRow.name), ProjectRow.project_id]
    if sort is PortfolioSort.OVERDUE:
        late = and_(ProjectRow.state == "active", ProjectRow.next_due_at < now)
        return [case((late, 0), else_=1), *by_due]
    return by_due


async def rows_of(engine: AsyncEngine, query: Select[*tuple[Any, ...]]) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        result = await connection.execute(query)
        keys = list(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result.all()]  # 4x faster than .mappings()


async def portfolio_rows(
    engine: AsyncEngine,
    f: PortfolioFilter,
    sort: PortfolioSort,
    now: datetime,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The matching rows in the sort's order, `limit` of them from `offset` (None: all)."""
    query = filtered(select(*PORTFOLIO_COLUMNS), f).order_by(*_order(sort, now)).offset(offset)
    return await rows_of(engine, query if limit is None else query.limit(limit))


@dataclass(frozen=True)
class PortfolioPage:
    rows: list[dict[str, Any]]
    #: How many projects match in all.
    total: int
    #: This page's number (from 1), the last one when the number asked is past the end.
    number: int
    pages: int


async def portfolio_page(
    engine: AsyncEngine, f: PortfolioFilter, sort: PortfolioSort, now: datetime, number: int, size: int
) -> PortfolioPage:
    """Page `number` of the matching rows (`size` a page) in the sort's order, and how many match in all."""
    async with engine.connect() as connection:
        total = (await connection.execute(filtered(select(func.count()).select_from(ProjectRow), f))).scalar_one()
    pages = max(1, -(-total // size))
    number = min(max(number, 1), pages)  # a page number kept from a longer list: the last page
    return PortfolioPage(await portfolio_rows(engine, f, sort, now, (number - 1) * size, size), total, number, pages)


async def stage_counts(engine: AsyncEngine, regions: Sequence[str] | None) -> dict[str, int]:
    """How many projects are in each stage, of these regions (None: every one); stages with none are absent."""
    query = filtered(
        select(ProjectRow.current_stage, func.count()).group_by(ProjectRow.current_stage),
        PortfolioFilter(regions=regions),
    )
    async with engine.connect() as connection:
        return {stage: count for stage, count in (await connection.execute(query)).all()}
