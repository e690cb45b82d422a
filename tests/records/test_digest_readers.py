"""The check before every e-mail (`digest_readers_unless_sent`): whether it went out already, and which of its
readers chose « Votre point du jour », in one statement, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from labellisation.people import disable, invite, set_daily_digest
from labellisation.records.digests import digest_readers_unless_sent
from labellisation.records.store import RecordStore


async def test_the_readers_who_chose_the_digest_until_the_email_is_recorded(store: RecordStore) -> None:
    tag = uuid.uuid4().hex[:8]  # the PostgreSQL database is shared by this module's tests
    daily, plain, gone = f"daily-{tag}@fnep.fr", f"plain-{tag}@fnep.fr", f"gone-{tag}@fnep.fr"
    for email in (daily, plain, gone):
        await invite(store, role="reviewer", name=email.split("@")[0], email=email)
    reader = await set_daily_digest(store, daily, True)
    await set_daily_digest(store, gone, True)
    await disable(store, gone)
    key = f"edp-belfort:news:{tag}"
    # the address as written anywhere (case), a person without the digest, one disabled, one unknown
    asked = [daily.upper(), plain, gone, f"nobody-{tag}@fnep.fr"]
    assert await digest_readers_unless_sent(store, key, asked) == {daily: reader.id}
    assert await digest_readers_unless_sent(store, key, [plain]) == {}
    assert await digest_readers_unless_sent(store, key, []) == {}

    await store.record_reminders([(key, None, "news")], "edp-belfort", [plain], "<m@fnep.fr>")
    assert await digest_readers_unless_sent(store, key, asked) is None  # sent: whoever reads it
    assert await digest_readers_unless_sent(store, key, []) is None
    assert await digest_readers_unless_sent(store, f"{key}:other", asked) == {daily: reader.id}
