"""The web application's requests run on the event loop: nothing handed to FastAPI's thread pool, signing in
included."""

from __future__ import annotations

import pytest

from tests.support.thread_pool import count_thread_pool
from tests.web.conftest import Web


async def test_signing_in_and_the_pages_use_no_thread_of_the_pool(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    handed = count_thread_pool(monkeypatch)
    http = await web.sign_in("coordinator")
    pages = [await http.get(path) for path in ("/", "/portefeuille")]
    assert [p.status_code for p in pages] == [200, 200]
    assert "Portefeuille" in pages[1].text
    assert handed == []
