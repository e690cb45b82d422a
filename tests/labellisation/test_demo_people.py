"""`make run`'s demo people: a coordinator of every region, a reviewer of the demo project's region, its holder."""

from __future__ import annotations

from labellisation.people import UserRole, list_people, update_person
from labellisation.records.store import RecordStore
from labellisation.regions import region_of_department
from labellisation.tokens import DEMO_PROJECT, DEMO_REGION, authenticate, create_demo_tokens, list_tokens


async def test_the_demo_people_and_their_tokens_are_made_once_and_kept(sqlite_store: RecordStore) -> None:
    tokens = await create_demo_tokens(sqlite_store)
    assert tokens is not None
    assert list(tokens) == [
        "LABELLISATION_COORDINATOR_TOKEN", "LABELLISATION_REVIEWER_TOKEN", "LABELLISATION_HOLDER_TOKEN",
    ]  # fmt: skip
    users = {variable: await authenticate(sqlite_store, token) for variable, token in tokens.items()}
    seen = {v: (u.role, u.regions, u.projects) for v, u in users.items() if u is not None}
    assert seen == {
        "LABELLISATION_COORDINATOR_TOKEN": (UserRole.COORDINATOR, [], []),
        "LABELLISATION_REVIEWER_TOKEN": (UserRole.REVIEWER, ["auvergne-rhone-alpes"], []),
        "LABELLISATION_HOLDER_TOKEN": (UserRole.HOLDER, [], ["demo-lyon"]),
    }
    assert region_of_department("69").slug == DEMO_REGION and DEMO_PROJECT == "demo-lyon"  # Lyon

    # A restart: the same people, no new token, the first ones still good.
    assert await create_demo_tokens(sqlite_store) is None
    assert len(await list_people(sqlite_store)) == 3 and len(await list_tokens(sqlite_store)) == 3
    assert all([await authenticate(sqlite_store, token) for token in tokens.values()])


async def test_a_demo_person_changed_or_migrated_without_a_region_is_brought_back_to_the_demo(
    sqlite_store: RecordStore,
) -> None:
    tokens = await create_demo_tokens(sqlite_store)
    assert tokens is not None
    await update_person(sqlite_store, "relecteurs@fnep.fr", regions=[])  # as migrated from a token of before #15
    assert await create_demo_tokens(sqlite_store) is None
    reviewer = await authenticate(sqlite_store, tokens["LABELLISATION_REVIEWER_TOKEN"])
    assert reviewer is not None and reviewer.regions == [DEMO_REGION]
