"""The API's requests run on the event loop: nothing handed to FastAPI's thread pool (its dependencies are all
`async def`)."""

from __future__ import annotations

import pytest

from tests.api.test_api import start
from tests.support.api import DOCS, PROJECT, Api
from tests.support.thread_pool import count_thread_pool

P = f"/projects/{PROJECT}"


async def test_a_project_s_commands_and_reads_use_no_thread_of_the_pool(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed = count_thread_pool(monkeypatch)
    await start(api)
    submitted = await api.call("holder", "POST", f"{P}/steps/opportunity_study/submissions", DOCS)
    decided = await api.call(
        "reviewer", "POST", f"{P}/steps/opportunity_study/decisions", {"decision": "approve", "comment": "OK"}
    )
    reads = [await api.call("coordinator", "GET", path) for path in (P, "/projects", f"{P}/history")]
    assert [r.status_code for r in (submitted, decided, *reads)] == [200, 200, 200, 200, 200]
    assert decided.json()["current_stage"] == "association"
    assert handed == []
