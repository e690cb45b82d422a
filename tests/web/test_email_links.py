"""E-mail links (#16 item 5): each reminder leads its reader to the page where they act; someone not signed in
goes through sign-in and comes back (`?suivant=`, a local path only: no open redirect)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from labellisation.mail.messages import RecipientRole, action_url
from labellisation.mail.render import render
from labellisation.path.reminders import Kind, PlannedReminder, Role, SendReminder
from labellisation.records.store import RecordStore
from labellisation.web.deps import local_path
from tests.support.mail_helpers import body, reminder
from tests.support.mailbox import Mailbox
from tests.web.conftest import PUBLIC, Web

PARIS = ZoneInfo("Europe/Paris")
LINK = re.compile(r"https://suivi\.fnep\.fr/connexion/lien/\S+")


def links(web: Web) -> list[str]:
    """The sign-in links received, whole (with their `?suivant=`), from the plain-text parts."""
    return [found for message in web.mailbox.messages() for found in LINK.findall(body(message, "plain"))]


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (RecipientRole.HOLDER, "https://suivi.fnep.fr/mon-dossier/edp-belfort"),
        (RecipientRole.REVIEWERS, "https://suivi.fnep.fr/a-decider"),
        (RecipientRole.COORDINATOR, "https://suivi.fnep.fr/projets/edp-belfort"),
    ],
)
def test_each_reader_is_sent_to_the_page_where_they_act(role: RecipientRole, url: str) -> None:
    assert action_url("https://suivi.fnep.fr/", role, "edp-belfort") == url


def test_the_button_says_where_it_leads() -> None:
    rendered = render(reminder(project_url="https://suivi.fnep.fr/mon-dossier/edp-belfort"))
    assert '<a href="https://suivi.fnep.fr/mon-dossier/edp-belfort"' in rendered.html
    assert "Ouvrir mon dossier</a>" in rendered.html
    assert "Ouvrir mon dossier : https://suivi.fnep.fr/mon-dossier/edp-belfort" in rendered.text
    assert "/projects/" not in rendered.text + rendered.html


def request(kind: Kind, to: Role) -> SendReminder:
    now = datetime(2027, 3, 1, 9, 0, tzinfo=PARIS)
    return SendReminder(
        reminder=PlannedReminder(
            reminder_id=f"edp-x:works:{kind.value}:1", kind=kind, to=to, step="works", nominal=now, at=now
        ),
        project_id="edp-x", school_name="École de Production de Lyon", city="Lyon", holder_name="Porteur",
        holder_email="porteur@edp-x.fr", step_label="Locaux et travaux", stage_label="Mise en œuvre",
        due_at=now - timedelta(days=7), days_overdue=7, days_waiting=12, review_on=now.date(), pause_reason="Vote",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "to", "path"),
    [
        (Kind.BEFORE_DUE, Role.HOLDER, "/mon-dossier/edp-x"),
        (Kind.OVERDUE, Role.HOLDER, "/mon-dossier/edp-x"),
        (Kind.CHANGES_PENDING, Role.HOLDER, "/mon-dossier/edp-x"),
        (Kind.REVIEW_PENDING, Role.REVIEWERS, "/a-decider"),
        (Kind.ESCALATION, Role.COORDINATOR, "/projets/edp-x"),
        (Kind.PAUSE_ADVISED, Role.COORDINATOR, "/projets/edp-x"),
        (Kind.REVIEW_ESCALATION, Role.COORDINATOR, "/projets/edp-x"),
        (Kind.PAUSE_REVIEW, Role.COORDINATOR, "/projets/edp-x"),
    ],
)
async def test_every_reminder_sent_links_to_its_readers_page(
    sqlite_store: RecordStore, mailbox: Mailbox, kind: Kind, to: Role, path: str
) -> None:
    settings = mailbox.settings.model_copy(update={"public_base_url": PUBLIC})
    await ActivityEnvironment().run(NotificationActivities(sqlite_store, settings).send_reminder, request(kind, to))
    [message] = mailbox.messages()
    for part in (body(message, "plain"), body(message, "html")):
        assert f"{PUBLIC}{path}" in part
        assert "/projects/" not in part


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/projets/x", "/projets/x"),
        ("/portefeuille?etat=actif&page=2", "/portefeuille?etat=actif&page=2"),
        ("https://evil.example", None),
        ("//evil.example/projets/x", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("projets/x", None),
        ("/projets/x\r\nSet-Cookie: a=b", None),
        ("", None),
        (None, None),
        ("/" + "a" * 2000, None),
    ],
)
def test_only_a_local_path_is_kept(given: str | None, kept: str | None) -> None:
    assert local_path(given) == kept


async def test_an_unsigned_visit_goes_through_sign_in_and_comes_back(web: Web) -> None:
    visit = await web.http.get("/projets/x")
    assert visit.status_code == 303
    assert visit.headers["location"] == "/connexion?suivant=/projets/x"
    asked = await web.http.get(visit.headers["location"])
    assert asked.status_code == 200
    assert '<input type="hidden" name="suivant" value="/projets/x">' in asked.text
    sent = await web.http.post("/connexion", data={"email": "claire@fnep.fr", "suivant": "/projets/x"})
    assert sent.status_code == 200
    [link] = links(web)
    assert link.endswith("?suivant=/projets/x")
    followed = await web.http.get(link)
    assert followed.status_code == 303
    assert followed.headers["location"] == "/projets/x"
    assert (await web.http.get("/")).status_code == 200  # signed in


async def test_a_foreign_suivant_is_ignored_everywhere(web: Web) -> None:
    asked = await web.http.get("/connexion", params={"suivant": "https://evil.example"})
    assert "evil" not in asked.text
    await web.http.post("/connexion", data={"email": "claire@fnep.fr", "suivant": "https://evil.example"})
    [link] = links(web)
    assert "suivant" not in link
    followed = await web.http.get(link, params={"suivant": "https://evil.example"})
    assert followed.status_code == 303
    assert followed.headers["location"] == "/"


async def test_a_bad_address_keeps_where_to_come_back(web: Web) -> None:
    answer = await web.http.post("/connexion", data={"email": "pas une adresse", "suivant": "/a-decider"})
    assert answer.status_code == 422
    assert '<input type="hidden" name="suivant" value="/a-decider">' in answer.text


async def test_a_used_link_offers_a_new_one_for_the_same_page(web: Web) -> None:
    await web.http.post("/connexion", data={"email": "claire@fnep.fr", "suivant": "/projets/x"})
    [link] = links(web)
    assert (await web.http.get(link)).headers["location"] == "/projets/x"
    again = await web.browser().get(link)
    assert again.status_code == 410
    assert '<input type="hidden" name="suivant" value="/projets/x">' in again.text


async def test_a_posted_form_without_session_goes_to_sign_in_without_coming_back(web: Web) -> None:
    answer = await web.http.post("/deconnexion", data={})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/connexion"
