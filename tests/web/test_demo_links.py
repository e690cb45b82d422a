"""`make run` (issue #15, item 5): a sign-in link per demo person in the banner, fresh at every start."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.launcher import Launcher

DEMO = {
    "Claire Coordination": "coordinateur",
    "Romain Relecteur": "relecteur",
    "Paul Porteur": "porteur",
}


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    started = Launcher(tmp_path / "data")
    yield started
    started.kill()


async def api_up(http: httpx.AsyncClient) -> None:
    """The banner comes as the API starts: wait until it answers (bounded)."""
    for _ in range(100):
        try:
            await http.get("/connexion")
            return
        except httpx.ConnectError:
            await asyncio.sleep(0.1)
    raise AssertionError("the API does not answer")


def banner_links(launcher: Launcher) -> dict[str, str]:
    """Each demo person's link, by name, from the banner's lines `Name (rôle)  http://…/connexion/lien/…`."""
    found = {}
    for line in launcher.output:
        match = re.match(r"^\s+(.+?) \((\w+)\)\s+(http://127\.0\.0\.1:\d+/connexion/lien/[A-Za-z0-9_-]{43})$", line)
        if match:
            assert DEMO[match[1]] == match[2]
            found[match[1]] = match[3]
    return found


async def test_make_run_prints_a_sign_in_link_for_each_demo_person(launcher: Launcher) -> None:
    launcher.start()
    await launcher.client()
    banner = "".join(launcher.output)
    assert "chacun sert une fois, pendant 15 minutes" in banner
    assert "nouveaux à chaque démarrage" in banner
    links = banner_links(launcher)
    assert set(links) == set(DEMO)
    api = f"http://127.0.0.1:{launcher.api_port}"
    browsers = {name: httpx.AsyncClient(base_url=api) for name in DEMO}
    try:
        await api_up(browsers["Paul Porteur"])
        for name, link in links.items():
            followed = await browsers[name].get(link)
            assert followed.status_code == 303, followed.text
            home = await browsers[name].get("/")
            assert f"Connecté en tant que {name} ({DEMO[name]})." in home.text
            assert (await browsers[name].get(link)).status_code == 410  # once

        assert launcher.interrupt() == 0
        launcher.output.clear()
        launcher.start()
        await launcher.client()
        await api_up(browsers["Paul Porteur"])
        again = banner_links(launcher)
        assert set(again) == set(DEMO)
        assert not set(again.values()) & set(links.values())  # fresh links
        # The people and the sessions outlive the restart (the same records, the same secret-key file).
        for name, browser in browsers.items():
            assert f"Connecté en tant que {name}" in (await browser.get("/")).text
        assert (launcher.data_dir / "secret-key").stat().st_mode & 0o777 == 0o600
        assert launcher.interrupt() == 0
    finally:
        for browser in browsers.values():
            await browser.aclose()
