"""Hostile input through the real HTTP API: huge bodies, broken JSON, SQL and template injection.

Each is refused in one sentence without a server error and changes nothing, or is stored literally: the
API gives back exactly the string sent, the tables are still there, and the reminder e-mails show it as
text (HTML-escaped in the HTML part, never rendered as a template).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import text

from tests.reliability.figures import tally
from tests.support.api import DOCS, PROJECT, Api, profile
from tests.support.mailbox import Mailbox

HOSTILE = [
    "'); DROP TABLE events; --",
    '" OR 1=1 --',
    "{{ 7*7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "<script>alert(1)</script>",
]
TABLES = {"projects", "events", "reminders", "api_tokens"}
SUBMIT = f"/projects/{PROJECT}/steps/opportunity_study/submissions"


async def tables(api: Api) -> set[str]:
    async with api.store.sessions() as session:
        return set(await session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))


async def created(api: Api) -> list[dict[str, Any]]:
    response = await api.call("coordinator", "POST", "/projects", profile())
    assert response.status_code == 201, response.text
    return await api.history()


async def chunks(size: int) -> AsyncIterator[bytes]:
    """A body streamed without Content-Length (chunked): the limit must count what arrives."""
    yield b'{"documents": [], "comment": "'
    for _ in range(size // 65536):
        yield b"x" * 65536
    yield b'"}'


def auth(api: Api, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens[who]}", "Content-Type": "application/json"}


OVERSIZED = 5 * 1024 * 1024
#: A valid submission padded with 5 MB of whitespace: still valid JSON, refused for its size alone.
PADDED = json.dumps(DOCS).encode() + b" " * OVERSIZED
LONG_COMMENT = b'{"documents": [], "comment": "' + b"x" * OVERSIZED + b'"}'


@pytest.mark.parametrize("kind", ["long-comment", "padded-valid", "chunked"])
async def test_an_oversized_body_is_refused_in_one_sentence_and_changes_nothing(api: Api, kind: str) -> None:
    before = await created(api)
    sized = {"long-comment": LONG_COMMENT, "padded-valid": PADDED}
    body: bytes | AsyncIterator[bytes] = chunks(OVERSIZED) if kind == "chunked" else sized[kind]
    response = await api.http.post(SUBMIT, content=body, headers=auth(api, "holder"))
    assert response.status_code == 413, response.text[:300]
    assert response.json() == {"detail": "corps de requête trop volumineux : 1 Mo au plus"}
    assert await api.history() == before
    tally("hostile input: 5 MB bodies refused (413)")


@pytest.mark.parametrize(
    "body", [b"{pas du json", b'{"documents": [', b"\xff\xfe\x00", b"", b"[1, 2]", b"null", b'"texte"'],
    ids=["garbage", "truncated", "not-utf8", "empty", "array", "null", "string"],
)  # fmt: skip
async def test_a_body_that_is_not_a_json_object_is_422(api: Api, body: bytes) -> None:
    before = await created(api)
    response = await api.http.post(SUBMIT, content=body, headers=auth(api, "holder"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("contenu invalide")
    assert await api.history() == before
    tally("hostile input: malformed bodies refused (422)")


def parts(message: EmailMessage) -> tuple[str, str]:
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_injection_strings_are_stored_and_mailed_literally(api: Api, mailbox: Mailbox, hostile: str) -> None:
    holder = {"name": hostile, "email": "porteur@edp-belfort.fr"}
    started = await api.call("coordinator", "POST", "/projects", profile(name=hostile, city=hostile, holder=holder))
    assert started.status_code == 201, started.text
    submission = {"documents": [{"title": hostile, "url": "https://docs.example.org/e.pdf"}], "comment": hostile}
    submitted = await api.call("holder", "POST", SUBMIT, submission)
    assert submitted.status_code == 200, submitted.text
    await api.env.sleep(timedelta(seconds=30))  # the demo process reminds reviewers after 20 s
    decision = {"decision": "request_changes", "comment": hostile}
    decided = await api.call("reviewer", "POST", f"/projects/{PROJECT}/steps/opportunity_study/decisions", decision)
    assert decided.status_code == 200, decided.text

    shown = (await api.call("holder", "GET", f"/projects/{PROJECT}")).json()
    assert shown["name"] == hostile
    listed = (await api.call("holder", "GET", "/projects")).json()
    assert [(p["name"], p["city"]) for p in listed] == [(hostile, hostile)]
    record = await api.store.project(PROJECT)
    assert record is not None and record.profile["holder"]["name"] == hostile
    history = await api.history()
    submitted_event = next(e for e in history if e["kind"] == "step_submitted")
    assert submitted_event["comment"] == hostile
    assert submitted_event["data"]["documents"][0]["title"] == hostile
    assert next(e for e in history if e["kind"] == "changes_requested")["comment"] == hostile
    assert await tables(api) >= TABLES

    messages = mailbox.messages()
    assert messages, "no reminder was sent"
    for message in messages:
        assert hostile in str(message["Subject"])
        plain, rich = parts(message)
        assert f"{hostile} ({hostile})" in plain  # the school and its city, as typed
        escaped = str(escape(hostile))  # what an HTML page must hold to show the string as typed
        assert escaped in rich
        assert escaped == hostile or hostile not in rich
    assert "&lt;script&gt;" in rich or "<" not in hostile
    tally("hostile input: injection strings stored and mailed literally")
