"""The web pages over the portfolio benchmark's projects, each against the JSON API's answer for the same data.

Run by the `portfolio` part (bench/portfolio_scale.py), over its projects and its API server:
- « Portefeuille » (`GET /portefeuille`, first page, 50 rows, sorted by next deadline, the counts by stage on top)
  against `GET /projects?limit=50` (the API's first page of 50);
- « Fiche projet » (`GET /projets/{id}`) of one project brought to EVENTS events (pauses and resumes through
  the API) against `GET /projects/{id}` and `GET /projects/{id}/history`, the two sent together (the page reads
  the same status query and the same events).

Each pair is measured interleaved (one page, one JSON answer, and so on), so that both meet the same noise.
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx

from bench.report import percentile
from labellisation.people import invite
from labellisation.records.store import RecordStore
from labellisation.web.sessions import create_sign_in_link

#: Events of the project whose « Fiche projet » is measured.
EVENTS = 300
REQUESTS = 200


@dataclass
class Pair:
    """One page and the JSON answer for the same data: what, and their latencies in seconds."""

    page: str
    json: str
    page_seconds: list[float]
    json_seconds: list[float]
    target_ms: int


async def signed_in(http: httpx.AsyncClient, store: RecordStore) -> None:
    """A coordinator of every region signed in on `http` (its cookie jar), through a real sign-in link."""
    now = datetime.now(UTC)
    person = await invite(store, role="coordinator", name="Coordination Bench", email="bench@fnep.fr", now=lambda: now)
    token = await create_sign_in_link(store, person.id, now)
    response = await http.get(f"/connexion/lien/{token}")
    if response.status_code != 303:
        raise RuntimeError(f"sign-in refused: {response.status_code} {response.text[:200]}")


async def grown(api: httpx.AsyncClient, project_id: str) -> int:
    """Pause and resume the project until it has at least EVENTS events; returns how many it has."""
    history = f"/projects/{project_id}/history"
    count = len((await api.get(history)).json())
    while count < EVENTS:
        pause = {"reason": "Attente du vote de la Région", "review_on": date(2027, 3, 1).isoformat()}
        (await api.post(f"/projects/{project_id}/pause", json=pause)).raise_for_status()
        (await api.post(f"/projects/{project_id}/resume", json={})).raise_for_status()
        count += 2
    for _ in range(600):  # the last events reach the records database a moment after the command
        count = len((await api.get(history)).json())
        if count >= EVENTS:
            break
        await asyncio.sleep(0.05)
    return count


async def _timed(call: Awaitable[object]) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


async def _checked(request: Awaitable[httpx.Response]) -> None:
    (await request).raise_for_status()


async def measure(base_url: str, api_token: str, store: RecordStore, project_id: str) -> tuple[list[Pair], int]:
    """The two pairs over the running API at `base_url`, and how many events the measured project has."""
    headers = {"Authorization": f"Bearer {api_token}"}
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=120) as browser,
        httpx.AsyncClient(base_url=base_url, timeout=120, headers=headers) as api,
    ):
        await signed_in(browser, store)
        events = await grown(api, project_id)
        portfolio = Pair("`GET /portefeuille` (first page, 50 rows)", "`GET /projects?limit=50`", [], [], 150)
        sheet = Pair(
            f"`GET /projets/{project_id}` ({events} events)",
            f"`GET /projects/{project_id}` and `…/history`, together",
            [],
            [],
            100,
        )
        for _ in range(REQUESTS):
            portfolio.page_seconds.append(await _timed(_checked(browser.get("/portefeuille"))))
            portfolio.json_seconds.append(await _timed(_checked(api.get("/projects", params={"limit": 50}))))
        for _ in range(REQUESTS):
            sheet.page_seconds.append(await _timed(_checked(browser.get(f"/projets/{project_id}"))))
            both = asyncio.gather(
                _checked(api.get(f"/projects/{project_id}")), _checked(api.get(f"/projects/{project_id}/history"))
            )
            sheet.json_seconds.append(await _timed(both))
    return [portfolio, sheet], events


def rows(pairs: list[Pair]) -> list[str]:
    """The table's rows: each page and its JSON counterpart, p50 and p95, the ratio of the p95s."""
    found = ["| request | p50 | p95 | target |", "| --- | --- | --- | --- |"]
    for pair in pairs:
        page95, json95 = percentile(pair.page_seconds, 0.95), percentile(pair.json_seconds, 0.95)
        found += [
            f"| {pair.page}, {len(pair.page_seconds)} requests | {percentile(pair.page_seconds, 0.5) * 1000:.0f} ms "
            f"| **{page95 * 1000:.0f} ms** | p95 ≤ {pair.target_ms} ms |",
            f"| {pair.json}, {len(pair.json_seconds)} requests | {percentile(pair.json_seconds, 0.5) * 1000:.0f} ms "
            f"| {json95 * 1000:.0f} ms (page / JSON: {page95 / json95:.2f}) | |",
        ]
    return found
