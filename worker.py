"""The worker's entry point: settings, client, Worker(...).run()."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from labellisation.contract import DIGEST_SCHEDULE_ID
from labellisation.digest_schedule import ensure_digest_schedule
from labellisation.log_setup import configure_logging, get_logger
from labellisation.records.store import RecordStore
from labellisation.settings import SettingsError, get_settings
from labellisation.temporal import connect
from labellisation.worker_app import build_worker


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    log = get_logger("worker")
    client = await connect(
        settings.temporal_address, settings.temporal_namespace, settings.metrics_port, settings.payload_keys
    )
    store = RecordStore.from_url(settings.records_url())
    worker = build_worker(client, settings.task_queue, store=store, settings=settings)
    if await ensure_digest_schedule(client, settings.task_queue):
        log.info("schedule created", schedule_id=DIGEST_SCHEDULE_ID)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    async with worker:
        await stop.wait()
        log.info("worker stopping: finishing running tasks")
    await store.close()
    log.info("worker stopped")


def exit_before_finalization() -> None:
    """Leave with 0 once the worker has stopped, without the interpreter's finalization.

    Temporal core's Rust threads may still call into Python while the interpreter finalizes, which aborts the
    process (`PyGILState_Release: thread state … must be current`, exit -6; sdk-python issue #300): one SIGTERM
    in five here. Everything is done by then (tasks finished, records closed, logs written), so flush and go."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except SettingsError as error:
        sys.exit(f"Erreur : {error}")
    exit_before_finalization()
