"""Personal data (#18 item 6): `export_person` and `anonymise` on SQLite and PostgreSQL, and `labellisation privacy`."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from labellisation.mail.digest import DigestPart
from labellisation.path.commands import AbandonProject
from labellisation.path.state import Holder, Project
from labellisation.path.transitions import apply, start_project
from labellisation.people import PersonError, find_person, invite
from labellisation.privacy import (
    ANONYMOUS_NAME,
    PrivacyRefused,
    Rewrite,
    anonymise,
    anonymise_plan,
    anonymous_address,
    export_person,
    holders_past_retention,
)
from labellisation.process import load_process
from labellisation.records.digests import keep_for_digest
from labellisation.records.rebuilt import status_from_records
from labellisation.records.store import RecordStore
from labellisation.records.tables import Base, EventRow, ProjectRow
from labellisation.tokens import TokenRefused, authenticate, create_token
from labellisation.web.sessions import create_sign_in_link, open_session
from tests.api.test_cli_people import Cli
from tests.records.test_store import request_for
from tests.support.path_helpers import T0, ok, pass_step
from tests.support.profiles import make_profile

ADDRESS = "paul.porteur@edp-belfort.fr"
NAME = "Paul Porteur"
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def holder_project(address: str = ADDRESS, name: str = NAME) -> Project:
    """A started project whose holder is `address` (as written: mixed case), with events that name it."""
    profile = make_profile(f"edp-{uuid.uuid4().hex[:8]}").model_copy(
        update={"holder": Holder(name=name, email=address.title())}
    )
    project = pass_step(start_project(profile, load_process("fnep"), T0, "coordination"), "opportunity_study")
    mixed = address.upper()
    project.events[1].actor = f"{name} <{mixed}>"
    project.events[2].comment = f"Dossier transmis par {address.title()} hier."
    project.events[3].data = {
        **project.events[3].data,
        "to": [mixed, "claire@fnep.fr"],
        "before": {"holder": {"name": name, "email": address.capitalize()}},
        address.upper(): "une clé",
    }
    project.events[4].actor = name.upper()  # the name alone: still the person
    return project


def finished(project: Project) -> Project:
    return ok(
        apply(project, AbandonProject(actor="Claire <claire@fnep.fr>", reason="Fin du projet"), T0 + timedelta(1))
    )


@pytest.fixture
def who() -> tuple[str, str]:
    """A person's address and name of their own: the PostgreSQL database is shared by the session's tests."""
    unique = uuid.uuid4().hex[:6]
    return f"paul.porteur.{unique}@edp-belfort.fr", f"Paul Porteur {unique}"


async def held_data(store: RecordStore, project: Project, address: str, name: str) -> tuple[int, str]:
    """The person, their token, session, sign-in link, digest item and a reminder sent to them; (user id, token)."""
    project_id = project.profile.project_id
    person = await invite(store, role="holder", name=name, email=address.upper(), projects=[project_id])
    token = await create_token(store, person, label="portable")
    await open_session(store, person.id, NOW)
    await create_sign_in_link(store, person.id, NOW)
    await keep_for_digest(
        store, "news-1", [person.id], project_id, "École", "https://x", [DigestPart(title="t", body="b")]
    )
    await store.record(request_for(project))
    await store.record_reminders(
        [(f"reminder-{project_id}", "opportunity_study", "reminder")], project_id, [address.title(), "claire@fnep.fr"],
        "<m1@fnep.fr>",
    )  # fmt: skip
    return person.id, token


async def every_row(store: RecordStore) -> str:
    """Every row of every table, as lower-cased text."""
    async with store.engine.connect() as connection:
        texts = [str((await connection.execute(select(table))).all()) for table in Base.metadata.sorted_tables]
    return "\n".join(texts).lower()


async def events(store: RecordStore) -> list[tuple[str, str, dict[str, Any]]]:
    async with store.sessions() as session:
        rows = await session.scalars(select(EventRow).order_by(EventRow.event_id))
        return [(r.event_id, r.kind, r.data) for r in rows]


async def test_export_lists_everything_held_and_no_secret(store: RecordStore, who: tuple[str, str]) -> None:
    address, name = who
    project = holder_project(address, name)
    await held_data(store, project, address, name)
    exported = await export_person(store, f"  {address.upper()} ")
    assert exported["person"]["name"] == name and exported["person"]["email"] == address
    [token] = exported["tokens"]
    assert token["label"] == "portable" and token["prefix"].startswith("lab_") and token["revoked_at"] is None
    assert set(token) == {"prefix", "label", "created_at", "expires_at", "revoked_at", "last_used_at"}
    assert len(exported["sessions"]) == 1 and len(exported["sign_in_links"]) == 1 and len(exported["digest_items"]) == 1
    [held] = exported["projects"]
    assert held["project_id"] == project.profile.project_id and held["holder"]["name"] == name
    assert [e["event_id"] for e in exported["events"]] == [e.event_id for e in project.events[1:4]]
    assert [r["key"] for r in exported["reminders"]] == [f"reminder-{project.profile.project_id}"]
    text = json.dumps(exported)
    assert "hash" not in text and "csrf" not in text
    json.dumps(exported, ensure_ascii=False, indent=2)  # JSON as it is


async def test_an_address_held_only_in_records_is_exported_and_an_unknown_one_refused(store: RecordStore) -> None:
    project = holder_project("solo@edp.fr", "Solène")
    await store.record(request_for(project))
    exported = await export_person(store, "SOLO@edp.fr")
    assert exported["person"] is None and exported["tokens"] == []
    assert [p["project_id"] for p in exported["projects"]] == [project.profile.project_id]
    with pytest.raises(PersonError) as refused:
        await export_person(store, "personne@nulle-part.fr")
    assert refused.value.field == "email"


async def test_anonymise_is_refused_while_the_project_is_under_way_then_anonymises_everything(
    store: RecordStore, who: tuple[str, str]
) -> None:
    address, name = who
    project = holder_project(address, name)
    user_id, token = await held_data(store, project, address, name)
    before = await export_person(store, address)
    plan = await anonymise_plan(store, address)
    assert plan.refusal() is not None and project.profile.project_id in (plan.refusal() or "")
    with pytest.raises(PrivacyRefused, match="est en cours : changez d'abord son porteur"):
        await anonymise(store, address, NOW)
    assert await export_person(store, address) == before  # nothing changed

    done = finished(project)
    await store.record(request_for(done))
    path_before = [(e, k) for e, k, _ in await events(store)]
    plan = await anonymise_plan(store, address)
    assert plan.refusal() is None and await export_person(store, address) == before | {
        "projects": [before["projects"][0] | {"state": "abandoned"}],
    }
    summary = await anonymise(store, address.title(), NOW)
    assert summary == plan
    assert (summary.user, summary.tokens, summary.sessions, summary.sign_in_links, summary.digest_items) == (
        True, 1, 1, 1, 1,
    )  # fmt: skip
    assert (summary.projects, summary.events, summary.reminders) == ([project.profile.project_id], 4, 1)

    with pytest.raises(PersonError):
        await export_person(store, address)
    everything = await every_row(store)
    assert address not in everything and name.lower() not in everything
    anonymous = anonymous_address(address)
    assert anonymous in everything and ANONYMOUS_NAME.lower() in everything

    after = await events(store)
    assert [(e, k) for e, k, _ in after] == path_before  # no event deleted: the path still shows
    stamped = [e for e, _, data in after if data.get("anonymised") == NOW.date().isoformat()]
    assert stamped == [e.event_id for e in project.events[1:5]]
    record = await store.project(project.profile.project_id)
    assert record is not None and record.holder_email == anonymous
    assert record.profile["holder"] == {"name": ANONYMOUS_NAME, "email": anonymous}
    status = status_from_records(record, await store.history(record.project_id), load_process("fnep"), NOW)
    assert status.state == "abandoned" and any(s.decided_at for s in status.steps)

    person = await find_person(store, anonymous)
    assert person is not None and person.id == user_id and (person.name, person.active) == (ANONYMOUS_NAME, False)
    with pytest.raises(TokenRefused, match="jeton révoqué"):
        await authenticate(store, token)
    exported = await export_person(store, anonymous)
    assert exported["digest_items"] == [] and all(s["ended_at"] for s in exported["sessions"])
    assert all(link["used_at"] for link in exported["sign_in_links"])


def test_the_rewrite_finds_the_address_alone_in_any_case_at_any_depth() -> None:
    rewrite = Rewrite("paul@edp.fr", ("Paul Martin",))
    anonymous = anonymous_address("PAUL@edp.fr")
    assert anonymous.startswith("anonyme-") and len(anonymous.split("@")[0]) == len("anonyme-") + 10
    assert not rewrite.mentions("jean-paul@edp.fr, paul@edp.fr.com, paul@edp.frite")
    assert rewrite.text("À Paul@EDP.fr. Et jean-paul@edp.fr") == f"À {anonymous}. Et jean-paul@edp.fr"
    assert rewrite.json({"a": [{"b": "PAUL@edp.fr"}], "paul@edp.fr": 1, "n": 2}) == {
        "a": [{"b": anonymous}], anonymous: 1, "n": 2,
    }  # fmt: skip
    assert rewrite.json({"name": "P. Martin", "email": "Paul@edp.fr"}) == {"name": ANONYMOUS_NAME, "email": anonymous}
    assert rewrite.json({"name": "École", "holder": {"email": "x@y.fr"}}) == {
        "name": "École",
        "holder": {"email": "x@y.fr"},
    }
    assert rewrite.actor("Paulo M <paul@EDP.fr>") == f"{ANONYMOUS_NAME} <{anonymous}>"
    assert rewrite.actor("paul martin") == ANONYMOUS_NAME
    assert rewrite.actor("Paul Martinez <pm@edp.fr>") == "Paul Martinez <pm@edp.fr>"


# The command line, as an operator runs it (subprocesses on a SQLite file, as tests/api/test_cli_people.py).


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def _record(cli: Cli, project: Project) -> None:
    async def write() -> None:
        store = RecordStore.from_url(cli.url)
        try:
            await store.record(request_for(project))
        finally:
            await store.close()

    asyncio.run(write())


def test_privacy_commands(cli: Cli) -> None:
    code, _, err = cli("users", "invite", "--role", "holder", "--name", NAME, "--email", ADDRESS, "--project", "edp-x")
    assert code == 0, err
    project = holder_project()
    _record(cli, project)

    code, out, err = cli("privacy", "export", "--email", ADDRESS.upper())
    assert code == 0, err
    exported = json.loads(out)
    assert exported["person"]["name"] == NAME and len(exported["events"]) == 3 and "É" in out  # UTF-8, not \u00c9

    code, out, err = cli("privacy", "anonymise", "--email", ADDRESS)
    assert code == 0, err
    assert "rien n'est modifié sans --yes" in out and "Elle serait refusée : le projet" in out
    assert json.loads(cli("privacy", "export", "--email", ADDRESS)[1]) == exported

    code, out, err = cli("privacy", "anonymise", "--email", ADDRESS, "--yes")
    assert (code, out) == (1, "")
    assert err.startswith(f"Erreur : le projet {project.profile.project_id} est en cours : changez d'abord son porteur")
    assert json.loads(cli("privacy", "export", "--email", ADDRESS)[1]) == exported

    _record(cli, finished(project))
    code, out, err = cli("privacy", "anonymise", "--email", ADDRESS, "--yes")
    assert code == 0, err
    assert f"{ADDRESS} anonymisée" in out and "événements : 4" in out and anonymous_address(ADDRESS) in out
    code, out, err = cli("privacy", "export", "--email", ADDRESS)
    assert (code, out) == (2, "") and err.startswith("Erreur : --email : rien n'est conservé sur")

    for command in ("export", "anonymise"):
        code, out, err = cli("privacy", command, "--email", "inconnu@fnep.fr")
        assert (code, out) == (2, "") and err == "Erreur : --email : rien n'est conservé sur « inconnu@fnep.fr » " \
            "(ni personne, ni projet, ni trace)\n"  # fmt: skip
    code, _, err = cli("privacy", "export", "--email", "pas-une-adresse")
    assert code == 2 and err.startswith("Erreur : --email : « pas-une-adresse » n'est pas une adresse e-mail valide")


async def test_the_retention_rule_names_the_holders_of_projects_finished_long_ago(store: RecordStore) -> None:
    """Finished more than 5 years ago and holding nothing under way: due; finished lately, or holding a running
    project too: not yet. Anonymising them leaves nobody due."""
    old, recent, busy = (f"{who}.{uuid.uuid4().hex[:6]}@edp.fr" for who in ("ancien", "recent", "occupe"))
    long_ago = finished(holder_project(old, "Ancien Porteur"))
    lately = finished(holder_project(recent, "Récent Porteur"))
    busy_old, busy_running = finished(holder_project(busy, "Porteur Occupé")), holder_project(busy, "Porteur Occupé")
    for project in (long_ago, lately, busy_old, busy_running):
        await store.record(request_for(project))
    now = T0 + timedelta(days=6 * 365)
    async with store.sessions.begin() as session:  # what their finishing left, dated as the test needs
        for project, when in ((long_ago, now - timedelta(days=5 * 366 + 1)), (lately, now - timedelta(days=300)),
                              (busy_old, now - timedelta(days=5 * 366 + 1))):  # fmt: skip
            await session.execute(
                update(ProjectRow).where(ProjectRow.project_id == project.profile.project_id).values(updated_at=when)
            )
    due = await holders_past_retention(store, now, 5)
    assert old.lower() in due and recent.lower() not in due and busy.lower() not in due
    await anonymise(store, old, now)
    assert old.lower() not in await holders_past_retention(store, now, 5)
    assert old.lower() not in await every_row(store)
