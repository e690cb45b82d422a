"""Hostile input on the web forms: every POST form of the pages, fuzzed by hypothesis as each role.

Each example posts one form as a signed-in coordinator, reviewer or holder (« Se déconnecter » in a session of
its own, so that it ends only that one): texts with Unicode and control characters, huge values, fields missing or
repeated, numbers and dates that are none, other encodings of the body; the right CSRF token mostly, so that
the handler's own checks are reached, and sometimes none or a wrong one. Whatever is posted: never a 5xx, the
answer is a French page or a local redirect (or the API's JSON 413 for a body over 1 MB, refused before any
route), and a refused form (4xx) changes nothing: the project's history, the people and their choices stay
as they were, and no project is started under the id typed.

The app as the API serves it (httpx in process) over the time-skipping Temporal server with a worker.
`LABELLISATION_FUZZ_FORM_POSTS` sets how many posts to reach: 150 by default (CI's `make test`), 3,000 in
`make reliability` (each post is checked against the project's history, hence fewer than the API's requests).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.routing import BaseRoute
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from labellisation.api.app import create_app
from labellisation.api.commands import project_events
from labellisation.api.errors import ApiError
from labellisation.people import Person, invite, list_people
from labellisation.records.store import RecordStore
from labellisation.web.my_project import COHORT_FIELDS
from labellisation.web.portfolio import INVITE_FIELDS, START_FIELDS
from labellisation.web.routes import router
from labellisation.web.security import COOKIE, sign
from labellisation.web.sessions import find_session, open_session
from tests.reliability.figures import report
from tests.support.driver import running
from tests.support.mailbox import Mailbox

PROJECT = "edp-belfort"
SECRET = SecretStr("test-secret-key-with-at-least-32-characters")
ROLES = ("coordinator", "reviewer", "holder")
#: Form posts to reach over every form and role (`make reliability` sets 10,000).
TARGET = int(os.environ.get("LABELLISATION_FUZZ_FORM_POSTS") or 150)
STEP = "opportunity_study"  # the demo process's first step

#: Every POST form of the pages (`grep -rn "@router.post" labellisation/web`): its path, with `{project_id}` and
#: `{step}` filled per example, and the fields its handler reads.
FORMS: dict[str, tuple[str, ...]] = {
    "/connexion": ("email", "suivant"),
    "/deconnexion": (),
    "/a-decider": ("project_id", "step", "decision", "comment", "decision_id"),
    "/mes-e-mails": ("frequence",),
    "/mon-calendrier": ("action",),
    "/mon-dossier/{project_id}/etapes/{step}": (
        "rows", "title_0", "url_0", "title_1", "url_1", "title_2", "url_2", "comment", "action",
    ),
    "/mon-dossier/{project_id}/cohortes": ("label", *dict(COHORT_FIELDS)),
    "/portefeuille/nouveau": tuple(START_FIELDS),
    "/projets/{project_id}/actions/echeance": ("step", "due_on", "reason"),
    "/projets/{project_id}/actions/pause": ("reason", "review_on"),
    "/projets/{project_id}/actions/reprise": (),
    "/projets/{project_id}/actions/abandon": ("reason", "confirm"),
    "/personnes/inviter": tuple(INVITE_FIELDS),
}  # fmt: skip
#: A form each handler accepts from the role it is for: examples start from it, some fields replaced, or not.
VALID: dict[str, dict[str, str]] = {
    "/connexion": {"email": "claire@fnep.fr"},
    "/deconnexion": {},
    "/a-decider": {"project_id": PROJECT, "step": STEP, "decision": "approve", "comment": "Dossier complet"},
    "/mes-e-mails": {"frequence": "quotidien"},
    "/mon-calendrier": {"action": "revoquer"},
    "/mon-dossier/{project_id}/etapes/{step}": {
        "rows": "1", "title_0": "Étude", "url_0": "https://docs.example.org/etude.pdf", "comment": "Version finale",
    },
    "/mon-dossier/{project_id}/cohortes": {
        "label": "2028-2029", "enrolled": "12", "dropouts": "1", "presented": "10", "passed": "9",
        "positive_exits": "9", "job_offers": "5",
    },
    "/portefeuille/nouveau": {
        "project_id": "edp-autre", "name": "École de Production de Dole", "department": "39", "city": "Dole",
        "trades": "Usinage", "holder_name": "Association EdP Dole", "holder_email": "porteur@edp-dole.fr",
        "planned_opening": "2029-09-01", "process": "demo",
    },
    "/projets/{project_id}/actions/echeance": {"step": STEP, "due_on": "2029-06-30", "reason": "Étude élargie"},
    "/projets/{project_id}/actions/pause": {"reason": "Attente du vote de la Région", "review_on": "2029-01-15"},
    "/projets/{project_id}/actions/reprise": {},
    "/projets/{project_id}/actions/abandon": {"reason": "Plus de financement", "confirm": "oui"},
    "/personnes/inviter": {
        "role": "reviewer", "name": "Rémi Relecteur", "email": "remi@fnep.fr", "regions": "Grand Est",
    },
}  # fmt: skip
#: Values a handler accepts, so that some examples get through (and the next ones meet a changed project).
PLAUSIBLE = (
    PROJECT, "edp-autre", "opportunity_study", "approve", "request_changes", "chaque", "quotidien", "revoquer",
    "ajouter", "3", "50", "0", "12", "Étude", "https://docs.example.org/etude.pdf", "90", "Belfort",
    "Bourgogne-Franche-Comté", "Usinage\nChaudronnerie", "porteur@edp-belfort.fr", "remi@fnep.fr", "reviewer",
    "holder", "Grand Est", "2029-09-01", "2029-01-15", "demo", "oui", "Attente du vote de la Région", "/",
)  # fmt: skip
HOSTILE = (
    "", " ", "\x00", "\r\n", "\u202e", "\ufeff", "'); DROP TABLE events; --", "{{ 7*7 }}", "{% raw %}",
    "<script>alert(1)</script>", "-1", "1e309", "NaN", "9" * 5000, "2029-02-31", "0000-00-00", "//evil.example",
    "https://evil.example/", "javascript:alert(1)", "../../etc/passwd", "%00", "é" * 3000,
)  # fmt: skip
#: No lone surrogate: a browser cannot encode one either.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
VALUE = st.one_of(TEXT, st.sampled_from(PLAUSIBLE), st.sampled_from(HOSTILE), st.integers().map(str))
#: A path segment, any text that still leads to the form's route: no `/` (an address no route answers gets the
#: API's JSON 404, as any address but a browser's GET does), no `.` nor `..` (the client would resolve them).
SEGMENT = TEXT.filter(lambda text: text not in ("", ".", "..") and "/" not in text)
#: The project and the step in the path: the real ones mostly, else another or any text.
PATH_VALUES = st.tuples(
    st.one_of(st.just(PROJECT), st.just(PROJECT), st.sampled_from(["edp-inconnue", STEP]), SEGMENT),
    st.one_of(st.just(STEP), st.just(STEP), SEGMENT),
)
#: How the body goes: as a form mostly; or with a field twice, as JSON, as multipart, too large.
ENCODINGS = ("form",) * 12 + ("repeated", "json", "multipart", "huge")
#: The CSRF token: the right one mostly (the handler's validation is what is fuzzed), else none or another.
CSRF = ("right",) * 8 + ("missing", "wrong")


@dataclass
class Figures:
    posts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    refused_unchanged: int = 0


@dataclass
class Site:
    http: httpx.AsyncClient
    store: RecordStore
    client: Client
    people: dict[str, Person]
    #: Each role's session: its id and CSRF token.
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)
    figures: Figures = field(default_factory=Figures)

    async def signed_in(self, role: str, fresh: bool = False) -> str:
        """A session for `role` (a new one if `fresh`, or if it ended): its cookie set on the client, its CSRF
        token returned."""
        now = datetime.now(UTC)
        kept = self.sessions.get(role)
        if kept is not None and not fresh and await find_session(self.store, kept[0], now) is not None:
            self.http.cookies.clear()
            self.http.cookies.set(COOKIE, sign(kept[0], SECRET.get_secret_value().encode()))
            return kept[1]
        session_id = await open_session(self.store, self.people[role].id, now)
        found = await find_session(self.store, session_id, now)
        assert found is not None
        self.sessions[role] = (session_id, found.csrf_token)
        self.http.cookies.clear()
        self.http.cookies.set(COOKIE, sign(session_id, SECRET.get_secret_value().encode()))
        return found.csrf_token

    async def events(self, project_id: str) -> dict[str, str] | None:
        """The project's history as the API shows it (each event's actor by its id), None for no such project."""
        try:
            return {e.event_id: e.actor or "" for e in await project_events(self.client, self.store, project_id)}
        except ApiError:
            return None

    async def state(self, fields: dict[str, Any]) -> State:
        """What a refused form must leave as it was: the project's history, the people, the project typed."""
        typed = fields.get("project_id")
        other = await self.events(typed) if isinstance(typed, str) and 3 <= len(typed) <= 64 else None
        # Every request of a session moves its person's `last_seen_at`: the rest of each person must stay.
        people = [p.model_dump(exclude={"last_seen_at"}) for p in await list_people(self.store)]
        return State(await self.events(PROJECT), people, other)


@dataclass(frozen=True)
class State:
    project: dict[str, str] | None
    people: list[dict[str, Any]]
    typed: dict[str, str] | None

    def unchanged_by(self, after: State, email: str) -> bool:
        """The same people, the same projects, and no event in them by `email` since (the workflow may add its
        own meanwhile: the events of an earlier command's activities, a reminder)."""

        def new_by_them(before: dict[str, str] | None, now: dict[str, str] | None) -> bool:
            if before is None or now is None:
                return (before is None) != (now is None)
            return any(email in now[event] for event in now.keys() - before.keys())

        return (
            self.people == after.people
            and not new_by_them(self.project, after.project)
            and not new_by_them(self.typed, after.typed)
        )


def bodies(form: str) -> st.SearchStrategy[dict[str, Any]]:
    """The fields, each present or missing, plus now and then one the form does not have; or the valid form with
    some fields replaced or left out (so that the handler's deeper checks, and the workflow, are reached)."""
    generated = st.fixed_dictionaries({}, optional={name: VALUE for name in (*FORMS[form], "inconnu")})
    changes = st.fixed_dictionaries({}, optional={name: st.none() | VALUE for name in FORMS[form]})
    valid = changes.map(lambda c: {k: v for k, v in (VALID[form] | c).items() if v is not None})
    return st.one_of(generated, valid, st.just(VALID[form]))


def request_of(path: str, fields: dict[str, Any], encoding: str) -> dict[str, Any]:
    """httpx's arguments for posting `fields` to `path` as `encoding` says."""
    if encoding == "repeated":
        pairs = [(k, v) for k, value in fields.items() for v in (value, value[::-1])]
        return {"content": "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs).encode(), "headers": FORM_TYPE}
    if encoding == "json":
        return {"json": fields}
    if encoding == "multipart":
        return {"files": {k: (None, v) for k, v in fields.items()} or {"vide": (None, "")}}
    if encoding == "huge":
        return {"data": {**fields, "comment": "x" * (1024 * 1024 + 1)}}
    return {"data": fields}


FORM_TYPE = {"content-type": "application/x-www-form-urlencoded"}
LANG_FR = re.compile(r'<html[^>]*\blang="fr"')


async def post(site: Site, role: str, form: str, path_values: tuple[str, str], case: dict[str, Any]) -> None:
    """Post one example and check the answer; a refused one must have changed nothing."""
    csrf = await site.signed_in(role, fresh=form == "/deconnexion")  # « Se déconnecter » ends only its own
    fields = dict(case["fields"])
    if case["csrf"] == "right":
        fields["csrf_token"] = csrf
    elif case["csrf"] == "wrong":
        fields["csrf_token"] = csrf[::-1]
    project_id, step = (quote(v, safe="") for v in path_values)
    path = form.format(project_id=project_id, step=step)
    before = await site.state(fields)
    response = await site.http.post(path, **request_of(path, fields, case["encoding"]))
    site.figures.posts += 1
    site.figures.statuses[response.status_code] += 1
    said = (role, form, path_values, case, response.status_code, response.headers, response.text[:2000])
    assert response.status_code < 500, said
    if 300 <= response.status_code < 400:
        assert response.headers["location"].startswith("/") and not response.headers["location"].startswith("//")
    elif response.status_code == 413:  # refused by the app before any route: the API's error, in French
        assert response.json() == {"detail": "corps de requête trop volumineux : 1 Mo au plus"}, said
    else:
        assert response.headers["content-type"].startswith("text/html"), said
        assert LANG_FR.search(response.text) and "<h1" in response.text, said
    if case["csrf"] != "right" and form != "/connexion":  # a signed-in form without its token: refused
        assert response.status_code in (403, 413), said
    if response.status_code >= 400:
        after = await site.state(fields)
        assert before.unchanged_by(after, site.people[role].email), (said, before, after)
        site.figures.refused_unchanged += 1


def fuzz(site: Site, loop: asyncio.AbstractEventLoop, role: str, form: str, examples: int) -> None:
    """Hypothesis, in a thread of its own; each example is posted on the test's event loop."""
    case = st.fixed_dictionaries(
        {"fields": bodies(form), "encoding": st.sampled_from(ENCODINGS), "csrf": st.sampled_from(CSRF)}
    )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @seed(zlib.crc32(f"{role} {form}".encode()))  # the same examples at each run, others for each form and role
    @given(case=case, values=PATH_VALUES)
    def one(case: dict[str, Any], values: tuple[str, str]) -> None:
        asyncio.run_coroutine_threadsafe(post(site, role, form, values, case), loop).result(timeout=120)

    one()


def posts_of(routes: list[BaseRoute]) -> Iterator[str]:
    """The paths of the POST routes, in the routers included too (FastAPI keeps those apart, included lazily)."""
    for route in routes:
        if isinstance(route, APIRoute) and "POST" in (route.methods or ()):
            yield route.path
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from posts_of(included.routes)


@pytest.fixture
async def site(
    time_skipping_env: WorkflowEnvironment, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> AsyncIterator[Site]:
    config = mailbox.settings.model_copy(
        update={"task_queue": task_queue, "default_process": "demo", "secret_key": SECRET}
    )
    app = create_app(config, client=time_skipping_env.client, store=sqlite_store)
    people = {
        "coordinator": await invite(
            sqlite_store, role="coordinator", name="Claire Coordination", email="claire@fnep.fr"
        ),
        "reviewer": await invite(
            sqlite_store, role="reviewer", name="Romain Relecteur", email="romain@fnep.fr",
            regions=["bourgogne-franche-comte"],
        ),
        "holder": await invite(
            sqlite_store, role="holder", name="Paul Porteur", email="porteur@edp-belfort.fr", projects=[PROJECT]
        ),
    }  # fmt: skip
    async with (
        running(time_skipping_env.client, task_queue, sqlite_store, config),
        # An exception the app lets out is a 500 here, as a server would answer, not an error of the client.
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=config.public_base_url
        ) as http,
    ):
        made = Site(http, sqlite_store, time_skipping_env.client, people)
        csrf = await made.signed_in("coordinator")
        start = {
            "csrf_token": csrf, "project_id": PROJECT, "name": "École de Production de Belfort", "department": "90",
            "city": "Belfort", "trades": "Usinage", "holder_name": "Association EdP Belfort",
            "holder_email": "porteur@edp-belfort.fr", "planned_opening": "2029-09-01", "process": "demo",
        }  # fmt: skip
        started = await http.post("/portefeuille/nouveau", data=start)
        assert started.status_code == 303, started.text
        page = await http.get(f"/projets/{PROJECT}/actions")
        assert f'<option value="{STEP}" selected' in page.text, page.text
        yield made


@pytest.mark.timeout(max(300, TARGET // 5))
async def test_every_web_form_as_every_role_never_fails_and_a_refusal_changes_nothing(site: Site) -> None:
    assert set(posts_of(router.routes)) == set(FORMS), "a form to add to FORMS (or one gone)"
    examples = math.ceil(TARGET / (len(FORMS) * len(ROLES)))
    loop = asyncio.get_running_loop()
    # The form whose success ends the project's life comes last: the others meet the project still open.
    for form in sorted(FORMS, key=lambda form: form.endswith("/abandon")):
        for role in ROLES:
            await asyncio.to_thread(fuzz, site, loop, role, form, examples)
    figures = site.figures
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(figures.statuses.items()))
    report(f"web form posts fuzzed (hypothesis, {len(FORMS)} forms × {len(ROLES)} roles)", f"{figures.posts:,}")
    report("web form posts answered with a 5xx", sum(n for s, n in figures.statuses.items() if s >= 500))
    report("web form posts refused (4xx), checked to have changed nothing", f"{figures.refused_unchanged:,}")
    report("web form posts by answer (status: posts)", statuses)
    assert figures.posts >= TARGET
    # The fuzz reaches past the CSRF check and the handlers' validation: some forms were accepted (303).
    assert figures.statuses[303] > 0 and figures.statuses[422] > 0, figures.statuses
