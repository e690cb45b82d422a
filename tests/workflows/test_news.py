"""News of events end to end (#17 item 1): the workflow, the people in the records database, a real SMTP server.

A project in Bourgogne-Franche-Comté: its reviewer hears of the submission at once, the reviewer of Brittany
does not; the holder hears of each decision and of the new stage (one e-mail for what one decision did); the
holder and the region's coordinator hear of a pause. Each e-mail once, with its French text and its link.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import getaddresses

from temporalio.client import Client

from labellisation.contract import Update
from labellisation.path.commands import PauseProject
from labellisation.people import invite
from labellisation.records.store import RecordStore
from tests.support.driver import ProjectDriver, running
from tests.support.mailbox import Mailbox
from tests.support.profiles import make_profile

HOLDER = "porteur@edp-belfort.fr"
REVIEWER = "relectrice@fnep-bfc.fr"
COORDINATOR = "coordination@fnep-bfc.fr"
ELSEWHERE = "relecteur@fnep-bretagne.fr"
ASKED = "Ajoutez les lettres de soutien des entreprises du bassin."


def to(message: EmailMessage) -> list[str]:
    return sorted(address for _name, address in getaddresses(message.get_all("To", [])))


def text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def news_to(mailbox: Mailbox, address: str, count: int) -> list[EmailMessage]:
    """The news e-mails to `address`, once there are `count` (bounded wait: a send follows the command)."""
    for _ in range(200):
        found = [m for m in mailbox.news() if address in to(m)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    return [m for m in mailbox.news() if address in to(m)]


async def people(store: RecordStore) -> None:
    await invite(store, role="reviewer", name="Rose Relectrice", email=REVIEWER, regions=["bourgogne-franche-comte"])
    await invite(store, role="reviewer", name="Yann Relecteur", email=ELSEWHERE, regions=["bretagne"])
    await invite(
        store, role="coordinator", name="Camille Coord", email=COORDINATOR, regions=["bourgogne-franche-comte"]
    )


async def test_each_person_hears_of_what_concerns_them_once(
    client: Client, sqlite_store: RecordStore, mailbox: Mailbox, task_queue: str
) -> None:
    await people(sqlite_store)
    async with running(client, task_queue, sqlite_store, mailbox.settings):
        project = await ProjectDriver.start(client, task_queue, make_profile())
        [welcome] = await news_to(mailbox, HOLDER, 1)
        assert str(welcome["Subject"]) == "École de Production de Belfort — Nouvelle phase : Étude d'opportunité"
        assert "- Étude d'opportunité : échéance le " in text(welcome)

        await project.submit("opportunity_study")
        [submitted] = await news_to(mailbox, REVIEWER, 1)
        assert to(submitted) == [REVIEWER]  # the region's reviewer only
        assert str(submitted["Subject"]) == "École de Production de Belfort — Dossier déposé : Étude d'opportunité"
        body = text(submitted)
        assert "Le porteur de projet a déposé le dossier « Étude d'opportunité » le " in body
        assert "/a-decider" in body  # where the reviewer acts

        await project.decide("opportunity_study", "request_changes", comment=ASKED)
        [_, changes] = await news_to(mailbox, HOLDER, 2)
        assert str(changes["Subject"]).endswith("Modifications demandées : Étude d'opportunité")
        assert f"« {ASKED} »" in text(changes) and "Déposez le dossier complété d'ici le " in text(changes)
        assert f"/mon-dossier/{project.handle.id.removeprefix('school-')}" in text(changes)

        await project.submit("opportunity_study")
        await project.decide("opportunity_study", "approve")
        [*_, approved] = await news_to(mailbox, HOLDER, 3)
        # one e-mail for what the approval did: the step approved, the next stage started
        assert str(approved["Subject"]) == "École de Production de Belfort — 2 nouvelles du projet"
        body = text(approved)
        assert body.index("Étape approuvée : Étude d'opportunité") < body.index("Nouvelle phase : Association")

        pause = PauseProject(
            actor="coordination", reason="Attente du vote de la Région", review_on=make_profile().planned_opening
        )
        await project.update(Update.PAUSE, pause)
        [*_, paused] = await news_to(mailbox, HOLDER, 4)
        [coordinator_news] = await news_to(mailbox, COORDINATOR, 1)
        assert str(paused["Subject"]).endswith("Projet mis en pause")
        assert "« Attente du vote de la Région »" in text(coordinator_news)
        assert "/projets/" in text(coordinator_news)
        await project.recorded(sqlite_store)

    news = mailbox.news()
    assert [m for m in news if ELSEWHERE in to(m)] == []  # Brittany hears nothing of Burgundy
    keys = ["".join(str(m["X-Labellisation-Reminder-Id"]).split()) for m in news]
    assert len(keys) == len(set(keys)) == 7  # holder 4, reviewer 2 (two submissions), coordinator 1
    assert len({str(m["Message-ID"]) for m in news}) == 7
