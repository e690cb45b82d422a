"""The records store: writes events idempotently, reads histories and the portfolio."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import Connection, CursorResult, Result, bindparam, delete, event, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from labellisation.path.state import Event
from labellisation.records.path_measures import MEASURED_KINDS, ProjectMeasures, measure
from labellisation.records.portfolio import PORTFOLIO_COLUMNS, PortfolioFilter, filtered, rows_of
from labellisation.records.schema import ProjectRecord, RecordEvents
from labellisation.records.sqlite_thread import SqliteThread, run_in, sqlite_pragmas
from labellisation.records.tables import (
    EmailAttemptRow,
    EventRow,
    ProjectRow,
    ReminderRow,
    StageMeasureRow,
    StepMeasureRow,
)
from labellisation.regions import project_region

T = TypeVar("T")


def default_database_url(data_dir: Any) -> str:
    return f"sqlite+aiosqlite:///{data_dir}/records.db"


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """On checkout from the pool: a connection the server closed (a restart, a terminated backend, a proxy that cut
    it) is replaced by a new one, as SQLAlchemy's "pessimistic disconnect handling" describes. The driver knows
    once the socket told it, so this costs no round trip; the pool's own pre-ping costs three on asyncpg (BEGIN,
    a query, ROLLBACK) at every checkout, about a third of the records' round trips of a reminder (BENCHMARKS.md).
    A connection that dies unseen (no word from its socket) fails its statement and SQLAlchemy discards the pool's
    connections: an activity is retried by Temporal, an API request fails once (where a pre-ping would have
    caught it, at three round trips on every checkout)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database server closed this connection")


def _project_values(record: ProjectRecord) -> dict[str, Any]:
    """The projection's row. Its `region` is a slug (labellisation/regions.py), as the portfolio filters on: a
    project started before regions were checked keeps its text in its workflow, read here as its region or its
    department's (the text itself when neither names one)."""
    values = record.model_dump(mode="python")
    region = project_region(record.region, record.department)
    values["region"] = region.slug if region is not None else record.region
    values["state"] = record.state.value
    values["planned_opening"] = record.planned_opening.isoformat()
    return values


class RecordStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        #: For one statement alone (a read, an upsert), atomic by itself: with asyncpg in autocommit, which spares
        #: the BEGIN and the COMMIT (or ROLLBACK) a transaction costs, two round trips; the same pool. (asyncpg
        #: runs a statement's several rows as one implicit transaction; another driver may not, so it keeps the
        #: engine itself, as SQLite does, whose pysqlite sends no BEGIN before a read anyway.)
        self.statements = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.driver == "asyncpg" else engine
        )

    @property
    def sqlite_thread(self) -> SqliteThread | None:
        """On a SQLite file, where what runs for every batch, e-mail and request goes whole (records/sqlite_thread.py);
        None elsewhere."""
        return SqliteThread.beside(self.engine)

    @classmethod
    def from_url(cls, url: str) -> RecordStore:
        driver = make_url(url).get_driver_name()
        # A local file has no connection a server could drop; asyncpg says when the server closed one; another
        # driver's connections are pinged by the pool.
        engine = create_async_engine(url, pool_pre_ping=driver not in ("aiosqlite", "asyncpg"))
        if driver == "aiosqlite":
            event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        elif driver == "asyncpg":
            event.listen(engine.sync_engine, "checkout", _replace_if_closed)
        return cls(engine)

    async def close(self) -> None:
        try:
            await SqliteThread.close_beside(self.engine)
        finally:
            await self.engine.dispose()

    def insert_into(self, table: Any) -> Any:
        """An INSERT of this database's dialect (with `on_conflict_do_nothing` / `_do_update`)."""
        return self._insert(table)

    def _insert(self, table: Any) -> Any:
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        return dialect.insert(table)

    async def one_statement(self, statement: Any, values: Any, answer: Callable[[Any], T]) -> T:
        """Run one statement alone, atomic by itself, and read its result with `answer` (`Result.first`,
        `Result.all`, `Result.scalar_one`...; never the result itself, closed after) where it ran: in autocommit on
        asyncpg (no BEGIN, no COMMIT: two round trips fewer), in one hand-off to the SQLite thread on a file. For
        what runs for every batch, e-mail or request."""
        return await run_in(self.statements, _answered, statement, values, answer)

    async def one_read(self, statement: Any, values: Any, answer: Callable[[Any], T]) -> T:
        """`one_statement` for a read: on a SQLite file it goes to the reading thread, so it never waits behind a
        write waiting for the file's lock."""
        return await run_in(self.statements, _answered, statement, values, answer, reads=True)

    async def ping(self) -> None:
        """Both ways to the database answer: the engine's pool and, on a SQLite file, the reading thread."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        if self.sqlite_thread is not None:
            await self.one_read(text("SELECT 1"), {}, Result.first)

    async def record(self, request: RecordEvents) -> int:
        """Upsert the projection and append the new events, in one transaction; idempotent.

        The upsert comes first on purpose: it locks the project's row (PostgreSQL, even when the
        `updated_at` guard skips the update; SQLite takes its single write lock), so two attempts of
        the same batch run one after the other and the count of new events is exact for each.
        """
        return await run_in(self.engine, self._record_batch, request)

    def _record_batch(self, connection: Connection, request: RecordEvents) -> int:
        # Core, not the ORM: this runs for every event batch
        projection = _project_values(request.project)
        connection.execute(self._project_upsert, projection)
        if not request.events:
            return 0
        now = datetime.now(UTC)
        rows = [_event_row(request.project.project_id, e, now) for e in request.events]
        # One statement: the events already there are skipped, the new ones answered.
        inserted = set(connection.execute(self._event_insert, rows).scalars())
        new = [e for e in request.events if e.event_id in inserted]
        if any(e.kind.value in MEASURED_KINDS for e in new):
            if len(new) == len(rows) and rows[0]["seq"] == 1:
                _measure_first(connection, projection, rows)
            else:
                _measure(connection, request.project.project_id)
        return len(new)

    async def introduce(self, project: ProjectRecord) -> bool:
        """Write a just-started project's row unless the recorder wrote one already (which is never older): the
        portfolio lists a project from the moment its start is answered. Whether the row was written."""
        insert = self._insert(ProjectRow).on_conflict_do_nothing(index_elements=[ProjectRow.project_id])
        return await self.one_statement(insert, _project_values(project), _changed)

    @cached_property
    def _event_insert(self) -> Any:
        return self._insert(EventRow).on_conflict_do_nothing().returning(EventRow.event_id)

    @cached_property
    def reminder_found(self) -> Any:
        """The `reminders` row of an e-mail key (bind `key`): whether it went out. Built once: it runs before every
        e-mail."""
        return select(ReminderRow.reminder_id).where(ReminderRow.reminder_id == bindparam("key"))

    @cached_property
    def _project_upsert(self) -> Any:
        """Built once, values bound at execution: `.values(**row)` per batch cost more than the write."""
        insert = self._insert(ProjectRow)
        return insert.on_conflict_do_update(
            index_elements=[ProjectRow.project_id],
            set_={k: insert.excluded[k] for k in ProjectRecord.model_fields if k != "project_id"},
            where=ProjectRow.updated_at <= insert.excluded.updated_at,
        )

    async def history(self, project_id: str) -> list[Event]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(EventRow).where(EventRow.project_id == project_id).order_by(EventRow.seq)
            )
            return [_event(row) for row in rows]

    async def project(self, project_id: str) -> ProjectRecord | None:
        async with self.sessions() as session:
            row = await session.get(ProjectRow, project_id)
            return _record(row) if row is not None else None

    async def portfolio(
        self,
        stage: str | None = None,
        region: str | None = None,
        state: str | None = None,
        overdue_at: datetime | None = None,
        project_ids: Sequence[str] | None = None,
        regions: Sequence[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The portfolio's list columns as plain rows (no ORM objects, no profile), by project id.

        `after` and `limit` page through it: the projects whose id comes after `after`, at most `limit`.
        `region` is one region's slug; `regions` those of a person limited to regions (None: every one).
        """
        f = PortfolioFilter(stage, region, state, overdue_at, project_ids, regions)
        query = filtered(select(*PORTFOLIO_COLUMNS), f).order_by(ProjectRow.project_id)
        if after is not None:
            query = query.where(ProjectRow.project_id > after)
        if limit is not None:
            query = query.limit(limit)
        return await rows_of(self.engine, query)

    async def step_durations(self, regions: Sequence[str] | None = None) -> dict[str, list[float]]:
        """Days from start to approval of every approved step, per step id; of these regions' projects only."""
        query = select(EventRow.project_id, EventRow.step, EventRow.kind, EventRow.at).where(
            EventRow.kind.in_(["step_started", "step_approved"])
        )
        if regions is not None:
            in_regions = select(ProjectRow.project_id).where(ProjectRow.region.in_(list(regions)))
            query = query.where(EventRow.project_id.in_(in_regions))
        started: dict[tuple[str, str | None], datetime] = {}
        durations: dict[str, list[float]] = {}
        async with self.sessions() as session:
            for project_id, step, kind, at in (await session.execute(query.order_by(EventRow.seq))).all():
                if kind == "step_started":
                    started[(project_id, step)] = at
                elif step is not None and (project_id, step) in started:
                    days = (at - started[(project_id, step)]).total_seconds() / 86400
                    durations.setdefault(step, []).append(days)
        return durations

    async def reminder_sent(self, reminder_id: str) -> bool:
        return await self.one_read(self.reminder_found, {"key": reminder_id}, Result.first) is not None

    async def record_attempt(self, email_key: str, project_id: str | None) -> int:
        """Write the intent to send `email_key` before the send (#17 item 5): the attempt's number, 1 the first time.

        A number above 1 with no `reminders` row means an earlier attempt ended without its record: it may or may
        not have reached the SMTP server."""
        now = datetime.now(UTC)
        values = {"email_key": email_key, "project_id": project_id, "attempts": 1, "first_at": now, "last_at": now}
        # One statement: the upsert answers the count.
        return int(await self.one_statement(self._attempt_upsert, values, Result.scalar_one))

    @cached_property
    def _attempt_upsert(self) -> Any:
        """Built once, values bound at execution (it runs before every e-mail)."""
        insert = self._insert(EmailAttemptRow)
        return insert.on_conflict_do_update(
            index_elements=["email_key"],
            set_={"attempts": EmailAttemptRow.attempts + 1, "last_at": insert.excluded.last_at},
        ).returning(EmailAttemptRow.attempts)

    async def record_reminder(
        self, reminder_id: str, project_id: str, step: str | None, kind: str, recipients: list[str], message_id: str
    ) -> None:
        await self.record_reminders([(reminder_id, step, kind)], project_id, recipients, message_id)

    async def record_reminders(
        self, keys: list[tuple[str, str | None, str]], project_id: str, recipients: list[str], message_id: str
    ) -> None:
        """The rows of the e-mails (reminder id or news id, step, kind) sent in one message, in one transaction."""
        now = datetime.now(UTC)
        rows = [
            {
                "reminder_id": key, "project_id": project_id, "step": step, "kind": kind,
                "recipients": ", ".join(recipients), "message_id": message_id, "sent_at": now,
            }
            for key, step, kind in keys
        ]  # fmt: skip
        # One statement, all its rows or none (asyncpg runs a batch of rows as one implicit transaction).
        await self.one_statement(self._reminder_insert, rows, _changed)

    @cached_property
    def _reminder_insert(self) -> Any:
        return self._insert(ReminderRow).on_conflict_do_nothing()


def _answered(connection: Connection, statement: Any, values: Any, answer: Callable[[Any], T]) -> T:
    result = connection.execute(statement, values)
    try:
        return answer(result)
    finally:  # no cursor left open on the connection once it is back in the pool
        result.close()


def _changed(result: CursorResult[Any]) -> bool:
    return bool(result.rowcount)


def _measure(connection: Connection, project_id: str) -> None:
    """Rewrite the project's path measures from its events (a few dozen rows), in the recording transaction."""
    query = (
        select(EventRow.kind, EventRow.step, EventRow.at, EventRow.data)
        .where(EventRow.project_id == project_id, EventRow.kind.in_(sorted(MEASURED_KINDS)))
        .order_by(EventRow.seq)
    )
    measured = measure((kind, step, at, data) for kind, step, at, data in connection.execute(query))
    where = connection.execute(
        select(ProjectRow.process, ProjectRow.region).where(ProjectRow.project_id == project_id)
    ).one()
    for table in (StepMeasureRow, StageMeasureRow):
        connection.execute(delete(table).where(table.project_id == project_id))
    _write_measures(connection, project_id, measured, {"process": where.process, "region": where.region})


def _measure_first(connection: Connection, projection: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """A project's first batch, all of it new (every new project's first record): the database holds no other
    event of the project, so no measures either, and the projection just written is this batch's. The measures
    come from the batch itself: two statements fewer reading, two fewer deleting."""
    measured = measure((r["kind"], r["step"], r["at"], r["data"]) for r in rows if r["kind"] in MEASURED_KINDS)
    copied = {"process": projection["process"], "region": projection["region"]}
    _write_measures(connection, projection["project_id"], measured, copied)


def _write_measures(connection: Connection, project_id: str, measured: ProjectMeasures, copied: dict[str, Any]) -> None:
    for table, rows in ((StepMeasureRow, [r | copied for r in measured.step_rows(project_id)]),
                        (StageMeasureRow, [r | copied for r in measured.stage_rows(project_id)])):  # fmt: skip
        if rows:
            connection.execute(insert(table), rows)


def _event_row(project_id: str, e: Event, now: datetime) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "project_id": project_id,
        "seq": int(e.event_id.rsplit("-", 1)[1]),
        "at": e.at,
        "kind": e.kind.value,
        "step": e.step,
        "actor": e.actor,
        "comment": e.comment,
        "data": e.data,
        "recorded_at": now,
    }


def _event(row: EventRow) -> Event:
    return Event(
        event_id=row.event_id, at=row.at, kind=row.kind, step=row.step, actor=row.actor,
        comment=row.comment, data=row.data,
    )  # fmt: skip


def _record(row: ProjectRow) -> ProjectRecord:
    return ProjectRecord(
        project_id=row.project_id, name=row.name, region=row.region, department=row.department, city=row.city,
        academy=row.academy, process=row.process, process_version=row.process_version,
        state=row.state, current_stage=row.current_stage, next_due_at=row.next_due_at,
        planned_opening=date.fromisoformat(row.planned_opening), holder_email=row.holder_email,
        updated_at=row.updated_at, profile=row.profile,
    )  # fmt: skip
