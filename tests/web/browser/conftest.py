"""The browser suite's fixtures: the whole product as `make run` starts it, Debian's Chromium, a page per person.

One stack and one browser for the whole suite (starting them is most of its time), stopped when it ends; each
test opens its own pages.
Where no Chromium can be had the suite is not collected, and the run's summary says why in one line.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DEMO, Stack, chromium_missing, new_context
from tests.support.launcher import Launcher

# The machines that run the suite are shared: a page may take seconds to come under load (5 s by default).
expect.set_options(timeout=20_000)

MISSING = chromium_missing()
if MISSING is not None:
    # Not one test of the suite is collected; the run's summary says why, in one line.
    collect_ignore_glob = ["test_*.py"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MISSING is not None:
        terminalreporter.write_line(f"SKIPPED the browser suite (tests/web/browser): {MISSING}", yellow=True)


@pytest.fixture(scope="package")
def chromium() -> Path:
    """`/usr/bin/chromium` (the suite is not collected without it)."""
    if MISSING is not None:
        pytest.skip(f"browser suite skipped: {MISSING}")
    return CHROMIUM


@pytest.fixture(scope="package")
def stack(chromium: Path) -> Iterator[Stack]:
    """`labellisation dev --process demo` on free ports, in a data directory of its own (the demo people, their
    banner links, the SMTP sink writing `<data-dir>/outbox/*.eml`)."""
    with tempfile.TemporaryDirectory(prefix="browser-suite-") as data:
        launcher = Launcher(Path(data) / "data")
        try:
            yield Stack(launcher)
        finally:
            launcher.kill()


@pytest.fixture(scope="package")
async def running(stack: Stack) -> Stack:
    """The stack once its banner is printed and its API answers."""
    stack.launcher.start()
    await stack.launcher.client()
    stack.read_banner()
    await stack.wait_until_up()
    return stack


@pytest.fixture(scope="package")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="package")
async def signed_in(running: Stack, browser: Browser) -> AsyncIterator[dict[str, BrowserContext]]:
    """A browser profile per demo person, each signed in once through its banner link (a link serves once)."""
    contexts = {}
    try:
        for role in DEMO:
            context = await new_context(browser)
            page = await context.new_page()
            await page.goto(running.links[role])
            assert page.url == f"{running.base_url}/", page.url
            await page.close()
            contexts[role] = context
        yield contexts
    finally:
        for context in contexts.values():
            await context.close()


DEMO_PROJECT = "demo-lyon"
DOCUMENTS = [
    {"title": "Étude d'opportunité", "url": "https://docs.example.org/etude-opportunite.pdf"},
    {"title": "Lettres de soutien des entreprises", "url": "https://docs.example.org/soutiens.pdf"},
]


@pytest.fixture(scope="package")
async def submitted_project(running: Stack) -> str:
    """The demo project (`demo-lyon`, the demo holder's, in the demo reviewer's region) started by the coordinator
    through the API, its opportunity study submitted by the holder with two documents: something to decide."""
    opening = date.today() + timedelta(days=400)
    async with running.api("coordinator") as coordinator, running.api("holder") as holder:
        started = await coordinator.post(
            "/projects",
            json={
                "project_id": DEMO_PROJECT,
                "name": "École de Production de Lyon",
                "department": "69",
                "city": "Lyon",
                "trades": ["Usinage"],
                "diplomas": ["CAP Conducteur d'installations de production"],
                "holder": {"name": "Paul Porteur", "email": "porteur@edp-lyon.fr"},
                "planned_opening": opening.isoformat(),
            },
        )
        assert started.status_code == 201, started.text
        submitted = await holder.post(
            f"/projects/{DEMO_PROJECT}/steps/opportunity_study/submissions",
            json={"documents": DOCUMENTS, "comment": "Version finale, validée par le conseil d'administration."},
        )
        assert submitted.status_code in (200, 201), submitted.text
    return DEMO_PROJECT


PageFor = Callable[[str], Awaitable[Page]]


@pytest.fixture
async def page_for(signed_in: dict[str, BrowserContext]) -> AsyncIterator[PageFor]:
    """`await page_for("reviewer")`: a new page in that person's signed-in profile, closed after the test."""
    pages: list[Page] = []

    async def open_page(role: str) -> Page:
        page = await signed_in[role].new_page()
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        await page.close()


@pytest.fixture
async def anonymous(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh profile, signed in as no one."""
    context = await new_context(browser)
    try:
        yield context
    finally:
        await context.close()
