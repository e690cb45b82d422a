"""People in the records database (SQLite and PostgreSQL): invitations checked field by field, disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from labellisation.people import (
    PersonError,
    UserRole,
    disable,
    enable,
    find_person,
    invite,
    list_people,
    update_person,
)
from labellisation.records.store import RecordStore
from labellisation.records.tables import SessionRow, SignInLinkRow, TokenRow, UserRow
from labellisation.tokens import ApiUser, TokenRefused, authenticate, create_token, list_tokens, revoke_token

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(store: RecordStore) -> RecordStore:
    """The records store without people (the PostgreSQL database is shared by the whole session)."""
    async with store.sessions.begin() as session:
        for table in (SessionRow, SignInLinkRow, TokenRow, UserRow):
            await session.execute(delete(table))
    return store


async def count(store: RecordStore, table: Any) -> int:
    async with store.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_an_invitation_stores_the_address_lower_cased_and_the_regions_as_slugs(store: RecordStore) -> None:
    person = await invite(
        store, role="reviewer", name="  Rita   Relectrice ", email="Rita.R@FNEP.fr",
        regions=["Grand Est", "bretagne", "grand-est"], now=lambda: T0,
    )  # fmt: skip
    assert (person.email, person.name, person.role) == ("rita.r@fnep.fr", "Rita Relectrice", UserRole.REVIEWER)
    assert person.regions == ["grand-est", "bretagne"] and person.projects == [] and person.active
    assert person.created_at == T0 and person.last_seen_at is None
    assert await find_person(store, "RITA.R@fnep.FR") == person
    assert [p.email for p in await list_people(store)] == ["rita.r@fnep.fr"]


BAD = [
    ({"regions": ["Narnia"]}, "region", "« Narnia » n'est pas une région"),
    ({"role": "holder"}, "project", "au moins un projet"),
    ({"role": "holder", "projects": ["edp-a"], "regions": ["corse"]}, "region", "aucune région"),
    ({"projects": ["edp-a"]}, "project", "seul un porteur"),
    ({"role": "coordinator", "projects": ["edp-a"]}, "project", "seul un porteur"),
    ({"role": "holder", "projects": ["Not An Id"]}, "project", "identifiant de projet"),
    ({"email": "rita-at-fnep.fr"}, "email", "adresse e-mail valide"),
    ({"email": "rita@"}, "email", "adresse e-mail valide"),
    ({"email": "RITA@fnep.fr"}, "email", "une personne a déjà l'adresse « rita@fnep.fr »"),
    ({"name": "   "}, "name", "le nom est vide"),
    ({"name": "x" * 201}, "name", "trop long"),
    ({"role": "admin"}, "role", "n'est pas un rôle"),
]


@pytest.mark.parametrize(("changes", "field", "words"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
async def test_bad_input_names_its_field_in_french_and_creates_nothing(
    store: RecordStore, changes: dict[str, Any], field: str, words: str
) -> None:
    await invite(store, role="reviewer", name="Rita", email="rita@fnep.fr")
    arguments: dict[str, Any] = {"role": "reviewer", "name": "Autre", "email": "autre@fnep.fr", **changes}
    with pytest.raises(PersonError) as raised:
        await invite(store, **arguments)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field} : ") and words in str(raised.value)
    assert await count(store, UserRow) == 1


async def test_an_old_style_token_for_a_reviewer_with_a_project_is_refused_and_creates_no_one(
    store: RecordStore,
) -> None:
    with pytest.raises(PersonError, match=r"^project : seul un porteur"):
        await create_token(store, ApiUser(role=UserRole.REVIEWER, name="R", email="r@fnep.fr", projects=["edp-a"]))
    assert (await count(store, UserRow), await count(store, TokenRow)) == (0, 0)


async def test_an_old_style_token_finds_its_person_whatever_the_case_and_adds_a_holders_project(
    store: RecordStore,
) -> None:
    first = await create_token(
        store, ApiUser(role=UserRole.HOLDER, name="Paul", email="paul@edp.fr", projects=["edp-a"])
    )
    second = await create_token(
        store, ApiUser(role=UserRole.HOLDER, name="Paul P.", email="PAUL@edp.fr", projects=["edp-b"])
    )
    for token in (first, second):
        user = await authenticate(store, token)
        assert user is not None and user.projects == ["edp-a", "edp-b"] and user.name == "Paul"
    with pytest.raises(PersonError, match=r"^role : paul@edp.fr est déjà porteur"):
        await create_token(store, ApiUser(role=UserRole.COORDINATOR, name="Paul", email="paul@edp.fr"))
    assert await count(store, UserRow) == 1


async def test_disabling_refuses_the_tokens_and_ends_the_sessions_enabling_lets_the_tokens_back(
    store: RecordStore,
) -> None:
    rita = await invite(store, role="reviewer", name="Rita", email="rita@fnep.fr")
    other = await invite(store, role="coordinator", name="Claire", email="claire@fnep.fr")
    token = await create_token(store, rita)
    async with store.sessions.begin() as session:
        for digest, user_id, ended in (("a" * 64, rita.id, None), ("b" * 64, rita.id, T0), ("c" * 64, other.id, None)):
            session.add(
                SessionRow(session_hash=digest, user_id=user_id, created_at=T0, last_seen_at=T0, ended_at=ended,
                           csrf_token="x" * 64)
            )  # fmt: skip

    assert not (await disable(store, "RITA@fnep.fr", now=lambda: T0 + timedelta(hours=1))).active
    with pytest.raises(TokenRefused, match="compte désactivé"):
        await authenticate(store, token)
    async with store.sessions() as session:
        endings = dict((await session.execute(select(SessionRow.session_hash, SessionRow.ended_at))).all())
    assert endings == {"a" * 64: T0 + timedelta(hours=1), "b" * 64: T0, "c" * 64: None}

    assert (await enable(store, "rita@fnep.fr")).active
    assert await authenticate(store, token) is not None
    with pytest.raises(PersonError, match=r"^email : aucune personne"):
        await disable(store, "nobody@fnep.fr")


async def test_a_person_can_be_changed_within_the_same_rules(store: RecordStore) -> None:
    await invite(store, role="reviewer", name="Rita", email="rita@fnep.fr")
    changed = await update_person(store, "rita@fnep.fr", regions=["Occitanie"])
    assert changed.regions == ["occitanie"]
    with pytest.raises(PersonError, match=r"^project : "):
        await update_person(store, "rita@fnep.fr", projects=["edp-a"])
    assert (await find_person(store, "rita@fnep.fr")) == changed


async def test_tokens_are_listed_without_their_secret_and_revoked_by_id_or_prefix(store: RecordStore) -> None:
    rita = await invite(store, role="reviewer", name="Rita", email="rita@fnep.fr")
    claire = await invite(store, role="coordinator", name="Claire", email="claire@fnep.fr")
    by_id = await create_token(store, rita, label="portable", now=lambda: T0)
    by_prefix = await create_token(store, rita, now=lambda: T0 + timedelta(seconds=1))
    whole = await create_token(store, claire, now=lambda: T0 + timedelta(seconds=2))

    listed = await list_tokens(store)
    assert [(t.email, t.label, t.prefix) for t in listed] == [
        ("rita@fnep.fr", "portable", by_id[:12]), ("rita@fnep.fr", None, by_prefix[:12]),
        ("claire@fnep.fr", None, whole[:12]),
    ]  # fmt: skip
    assert not any(token in repr(listed) for token in (by_id, by_prefix, whole))
    assert [t.email for t in await list_tokens(store, "Claire@FNEP.fr")] == ["claire@fnep.fr"]

    for key, token in ((listed[0].id, by_id), (by_prefix[:10], by_prefix), (whole, whole)):
        info, revoked_now = await revoke_token(store, key, now=lambda: T0 + timedelta(days=1))
        assert revoked_now and info.revoked_at == T0 + timedelta(days=1)
        with pytest.raises(TokenRefused, match="jeton révoqué"):
            await authenticate(store, token)
    _, revoked_now = await revoke_token(store, whole)
    assert not revoked_now  # already revoked: said, not an error

    for key, words in (("lab_", "donnez le jeton"), ("lab_nothing-like-it", "aucun jeton"), ("0000000", "aucun jeton")):
        with pytest.raises(PersonError, match=rf"^token : .*{words}"):
            await revoke_token(store, key)


async def test_a_token_expired_in_the_database_is_refused_and_its_use_is_noted_when_valid(store: RecordStore) -> None:
    rita = await invite(store, role="reviewer", name="Rita", email="rita@fnep.fr")
    token = await create_token(store, rita, expires_at=datetime.now(UTC) + timedelta(days=1))
    assert await authenticate(store, token) is not None
    seen = await find_person(store, "rita@fnep.fr")
    assert seen is not None and seen.last_seen_at is not None
    assert (await list_tokens(store))[0].last_used_at == seen.last_seen_at

    async with store.sessions.begin() as session:
        row = (await session.scalars(select(TokenRow))).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    with pytest.raises(TokenRefused, match="jeton expiré"):
        await authenticate(store, token)
    with pytest.raises(PersonError, match=r"^expires : "):
        await create_token(store, rita, expires_at=datetime.now(UTC) - timedelta(days=1))
