"""Migration 0003_people from the 0002 schema: every token keeps working, as its person; region texts become slugs."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from labellisation.records.migrate import MIGRATIONS, downgrade, upgrade
from labellisation.records.store import RecordStore
from labellisation.records.tables import UtcDateTime
from labellisation.tokens import UserRole, authenticate, hash_token

OLD_TOKENS = sa.table(
    "api_tokens",
    sa.column("token_hash", sa.String),
    sa.column("role", sa.String),
    sa.column("name", sa.String),
    sa.column("email", sa.String),
    sa.column("projects", sa.JSON),
    sa.column("created_at", UtcDateTime()),
)
PROJECTS = sa.table(
    "projects",
    *(sa.column(name, sa.String) for name in ("project_id", "name", "region", "department", "city", "academy")),
    *(sa.column(name, sa.String) for name in ("process", "state", "current_stage", "planned_opening")),
    sa.column("process_version", sa.Integer),
    sa.column("holder_email", sa.String),
    sa.column("next_due_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
    sa.column("profile", sa.JSON),
)
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

#: token → (role, name, email, projects) as written by `token create` before people existed, oldest first.
OLD = {
    "lab_coordinator": ("coordinator", "Claire Coordination", "Claire@FNEP.fr", []),
    "lab_reviewer": ("reviewer", "Romain Relecteur", "romain@fnep.fr", ["edp-ignored"]),  # --project was ignored
    "lab_holder_a": ("holder", "Paul Porteur", "paul@edp.fr", ["edp-a"]),
    "lab_holder_b": ("holder", "Paul P.", "PAUL@edp.fr", ["edp-b"]),  # the same person, another case
    "lab_both_first": ("coordinator", "Mia Multiple", "mia@fnep.fr", []),
    "lab_both_then": ("holder", "Mia Multiple", "mia@fnep.fr", ["edp-c"]),
}
#: project id → (region text, department, the slug expected after the migration)
REGION_TEXTS = {
    "edp-belfort": ("Bourgogne-Franche-Comté", "90", "bourgogne-franche-comte"),
    "edp-lyon": ("auvergne rhone alpes", "69", "auvergne-rhone-alpes"),
    "edp-villeurbanne": ("Pays lyonnais", "69", "auvergne-rhone-alpes"),  # no region: the department's
    "edp-paris": ("ile-de-france", "75", "ile-de-france"),  # a slug already
    "edp-nowhere": ("Atlantide", "99", "Atlantide"),  # neither: left as it was
}


def project_row(project_id: str, region: str, department: str) -> dict[str, Any]:
    return {
        "project_id": project_id, "name": project_id, "region": region, "department": department, "city": "Ville",
        "academy": None, "process": "demo", "state": "active", "current_stage": "s", "planned_opening": "2028-09-01",
        "process_version": 1, "holder_email": "porteur@edp.fr", "next_due_at": None, "updated_at": T0, "profile": {},
    }  # fmt: skip


async def write_0002_rows(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                OLD_TOKENS.insert(),
                [
                    {"token_hash": hash_token(token), "role": role, "name": name, "email": email,
                     "projects": {"ids": projects}, "created_at": T0 + timedelta(minutes=i)}
                    for i, (token, (role, name, email, projects)) in enumerate(OLD.items())
                ],
            )  # fmt: skip
            await connection.execute(
                PROJECTS.insert(), [project_row(p, text, dep) for p, (text, dep, _) in REGION_TEXTS.items()]
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def at_0002(database_url: str) -> AsyncIterator[str]:
    """The database at 0002, empty (the PostgreSQL one is shared by the session), and empty at head afterwards."""
    await asyncio.to_thread(downgrade, database_url, "base")
    await asyncio.to_thread(upgrade, database_url, "0002")
    yield database_url
    await asyncio.to_thread(downgrade, database_url, "base")
    await asyncio.to_thread(upgrade, database_url)


async def read(database_url: str, query: str) -> list[Any]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(sa.text(query))).all())
    finally:
        await engine.dispose()


async def test_every_0002_token_works_after_the_upgrade_as_its_person(at_0002: str) -> None:
    database_url = at_0002
    await write_0002_rows(database_url)
    await asyncio.to_thread(upgrade, database_url)

    store = RecordStore.from_url(database_url)
    try:
        users = {token: await authenticate(store, token) for token in OLD}
    finally:
        await store.close()
    assert all(user is not None for user in users.values()), users
    seen = {token: (u.role, u.name, str(u.email), u.projects, u.regions) for token, u in users.items() if u}
    assert seen == {
        "lab_coordinator": (UserRole.COORDINATOR, "Claire Coordination", "claire@fnep.fr", [], []),
        "lab_reviewer": (UserRole.REVIEWER, "Romain Relecteur", "romain@fnep.fr", [], []),
        "lab_holder_a": (UserRole.HOLDER, "Paul Porteur", "paul@edp.fr", ["edp-a", "edp-b"], []),
        "lab_holder_b": (UserRole.HOLDER, "Paul Porteur", "paul@edp.fr", ["edp-a", "edp-b"], []),
        # One e-mail, two roles: the first kept; the other token says so in its label.
        "lab_both_first": (UserRole.COORDINATOR, "Mia Multiple", "mia@fnep.fr", [], []),
        "lab_both_then": (UserRole.COORDINATOR, "Mia Multiple", "mia@fnep.fr", [], []),
    }

    people = await read(database_url, "SELECT email, role, active FROM users ORDER BY email")
    assert [tuple(p) for p in people] == [
        ("claire@fnep.fr", "coordinator", True), ("mia@fnep.fr", "coordinator", True),
        ("paul@edp.fr", "holder", True), ("romain@fnep.fr", "reviewer", True),
    ]  # fmt: skip
    labels = dict(await read(database_url, "SELECT token_hash, label FROM api_tokens"))
    assert labels[hash_token("lab_both_then")] == "migré : jeton « holder », personne « coordinator »"
    assert labels[hash_token("lab_coordinator")] is None

    regions = dict(await read(database_url, "SELECT project_id, region FROM projects"))
    assert regions == {project: slug for project, (_, _, slug) in REGION_TEXTS.items()}


async def test_the_downgrade_gives_the_tokens_their_columns_back_and_the_upgrade_again_keeps_them(
    at_0002: str,
) -> None:
    database_url = at_0002
    await write_0002_rows(database_url)
    await asyncio.to_thread(upgrade, database_url)
    await asyncio.to_thread(downgrade, database_url, "0002")

    rows = await read(database_url, "SELECT token_hash, role, email, projects FROM api_tokens")
    assert len(rows) == len(OLD)
    by_hash = {row[0]: row for row in rows}
    assert by_hash[hash_token("lab_holder_b")][1:3] == ("holder", "paul@edp.fr")
    regions = dict(await read(database_url, "SELECT project_id, region FROM projects"))
    assert regions["edp-belfort"] == "Bourgogne-Franche-Comté"

    await asyncio.to_thread(upgrade, database_url)
    store = RecordStore.from_url(database_url)
    try:
        for token in OLD:
            assert await authenticate(store, token) is not None, token
    finally:
        await store.close()


@pytest.mark.parametrize("text", ["Grand Est", "grand-est", "GRAND EST"])
def test_the_region_text_is_read_as_a_region_first(text: str) -> None:
    spec = importlib.util.spec_from_file_location("people_migration", MIGRATIONS / "versions" / "0003_people.py")
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.region_slug(text, "69") == "grand-est"
    assert migration.region_slug("Lyonnais", "69") == "auvergne-rhone-alpes"
    assert migration.region_slug("Lyonnais", "99") is None
