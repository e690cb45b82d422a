"""Alembic environment: async engines, URL given by labellisation.records.migrate."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from labellisation.records.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.attributes["database_url"])
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Persistent in the file: readers (API) and the writer (worker) no longer block each other.
            await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            await connection.commit()
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run_async())
