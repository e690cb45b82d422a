"""The `digest_items` table: e-mails kept for the people who chose « Votre point du jour » (#17 item 3).

An item is claimed by a digest (its `digest_key`, written before the send: the intent) and counts as delivered
once the digest's row is in `reminders` (after the send). A claim whose digest never got its row (a crash, a
refusal before any recipient took it) is claimed again by the next digest: nothing kept is lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Result, and_, bindparam, literal, or_, select, update

from labellisation.mail.digest import DigestPart
from labellisation.records.store import RecordStore
from labellisation.records.tables import DigestItemRow, ReminderRow, UserRow

#: The check before every e-mail, built once: whether its row exists (`sent`), and the readers among `wanted`
#: (left-joined to a one-row select, so that a row comes back when there are none).
_SENT_OR_READERS = select(
    select(literal(1)).where(ReminderRow.reminder_id == bindparam("key")).scalar_subquery().label("sent"),
    UserRow.email,
    UserRow.id,
).select_from(
    select(literal(1).label("one"))
    .subquery()
    .outerjoin(
        UserRow,
        and_(
            UserRow.email.in_(bindparam("wanted", expanding=True)),
            UserRow.daily_digest.is_(True),
            UserRow.active.is_(True),
        ),
    )
)


async def digest_readers_unless_sent(
    store: RecordStore, email_key: str, addresses: Iterable[str]
) -> dict[str, int] | None:
    """None when the e-mail `email_key` went out already (its row is in `reminders`); else, among `addresses`, the
    active people who chose the daily digest: address (lower-cased) to user id. One statement, one round trip: this
    runs before every e-mail. Its rows: one per reader found (or a single row of NULLs), each saying whether the
    e-mail's row exists."""
    wanted = sorted({a.lower() for a in addresses})
    rows = await store.one_read(_SENT_OR_READERS, {"key": email_key, "wanted": wanted}, Result.all)
    if rows[0].sent is not None:
        return None
    return {email: user_id for _sent, email, user_id in rows if email is not None}


async def keep_for_digest(
    store: RecordStore,
    email_key: str,
    readers: Iterable[int],
    project_id: str,
    school: str,
    url: str,
    parts: list[DigestPart],
) -> None:
    """One item per reader for the e-mail `email_key`; kept once (a retry adds nothing)."""
    now = datetime.now(UTC)
    rows = [
        {
            "item_key": f"{email_key}|{user_id}", "user_id": user_id, "project_id": project_id, "school": school,
            "url": url, "parts": [p.model_dump() for p in parts], "created_at": now, "digest_key": None,
        }
        for user_id in readers
    ]  # fmt: skip
    if rows:
        async with store.sessions.begin() as session:
            await session.execute(store.insert_into(DigestItemRow).on_conflict_do_nothing(), rows)


def _not_delivered() -> ColumnElement[bool]:
    sent = select(ReminderRow.reminder_id).where(ReminderRow.kind == "digest")
    return or_(DigestItemRow.digest_key.is_(None), DigestItemRow.digest_key.not_in(sent))


async def people_waiting(store: RecordStore) -> list[int]:
    """The ids of the people with items no digest delivered yet, in order."""
    query = select(DigestItemRow.user_id).where(_not_delivered()).distinct().order_by(DigestItemRow.user_id)
    async with store.sessions() as session:
        return list((await session.scalars(query)).all())


async def claim(store: RecordStore, user_id: int, digest_key: str) -> list[DigestItemRow]:
    """Give `digest_key` every item of the person no digest delivered yet, then return all of that digest's items,
    oldest first (a retry of the same digest finds them again, with any item kept since)."""
    async with store.sessions.begin() as session:
        await session.execute(
            update(DigestItemRow)
            .where(DigestItemRow.user_id == user_id, _not_delivered())
            .values(digest_key=digest_key)
            .execution_options(synchronize_session=False)
        )
    query = (
        select(DigestItemRow)
        .where(DigestItemRow.digest_key == digest_key)
        .order_by(DigestItemRow.created_at, DigestItemRow.item_key)
    )
    async with store.sessions() as session:
        return list((await session.scalars(query)).all())
