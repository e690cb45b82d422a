"""Recipients from people (#17 item 2): a reminder to the reviewers or the coordinators reaches the active people
of that role who cover the project's region (no region: every region), through the real SMTP sink; the settings'
address only when nobody matches, and that fallback is logged."""

from __future__ import annotations

from email.utils import getaddresses

import pytest
from structlog.testing import capture_logs
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from labellisation.path.reminders import Kind, Role, SendReminder
from labellisation.people import disable, invite
from labellisation.records.store import RecordStore
from tests.support.mail_helpers import send_reminder_request as request
from tests.support.mailbox import Mailbox


async def people(store: RecordStore) -> None:
    await invite(store, role="reviewer", name="Rhône", email="rhone@fnep.fr", regions=["auvergne-rhone-alpes"])
    await invite(store, role="reviewer", name="Nationale", email="nationale@fnep.fr")
    await invite(store, role="reviewer", name="Breizh", email="breizh@fnep.fr", regions=["bretagne"])
    await invite(store, role="reviewer", name="Partie", email="partie@fnep.fr", regions=["auvergne-rhone-alpes"])
    await disable(store, "partie@fnep.fr")
    await invite(store, role="coordinator", name="Occitane", email="oc@fnep.fr", regions=["occitanie"])
    await invite(store, role="holder", name="Autre porteur", email="autre@edp.fr", projects=["edp-autre"])


async def sent_to(store: RecordStore, mailbox: Mailbox, sending: SendReminder) -> list[str]:
    before = len(mailbox.messages())
    result = await ActivityEnvironment().run(NotificationActivities(store, mailbox.settings).send_reminder, sending)
    messages = mailbox.messages()
    assert len(messages) == before + 1  # one e-mail, every recipient in its To
    addresses = sorted(address for _name, address in getaddresses(messages[-1].get_all("To", [])))
    assert addresses == sorted(result.to)  # what the workflow records is who was written to
    return addresses


@pytest.mark.parametrize(
    ("region", "department"), [("auvergne-rhone-alpes", "69"), (None, "69"), ("Auvergne-Rhône-Alpes", None)]
)
async def test_reviewers_of_the_projects_region_and_the_national_ones(
    sqlite_store: RecordStore, mailbox: Mailbox, region: str | None, department: str | None
) -> None:
    await people(sqlite_store)
    # the region read as a slug, from the department alone, or from an old free text
    got = await sent_to(sqlite_store, mailbox, request(Kind.REVIEW_PENDING, Role.REVIEWERS, region, department))
    assert got == ["nationale@fnep.fr", "rhone@fnep.fr"]  # not Brittany's, not the disabled one


async def test_a_region_nobody_covers_falls_back_to_the_settings_address_and_says_so(
    sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    await people(sqlite_store)
    with capture_logs() as logs:
        got = await sent_to(sqlite_store, mailbox, request(Kind.ESCALATION, Role.COORDINATOR, "auvergne-rhone-alpes"))
    assert got == [mailbox.settings.coordinator_email]
    warned = [e for e in logs if e["event"].startswith("no person to write to")]
    assert len(warned) == 1 and warned[0]["region"] == "auvergne-rhone-alpes" and warned[0]["role"] == "coordinator"
    # the coordinator of Occitania gets Occitania's
    occitan = request(Kind.ESCALATION, Role.COORDINATOR, "occitanie", "31")
    assert await sent_to(sqlite_store, mailbox, occitan) == ["oc@fnep.fr"]


async def test_the_holder_is_the_projects_contact_whoever_the_people_are(
    sqlite_store: RecordStore, mailbox: Mailbox
) -> None:
    await people(sqlite_store)
    got = await sent_to(sqlite_store, mailbox, request(Kind.OVERDUE, Role.HOLDER, "auvergne-rhone-alpes"))
    assert got == ["porteur@edp-lyon.fr"]
