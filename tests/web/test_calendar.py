"""« Mon calendrier » (#19 item 5): each person subscribes to their deadlines at a secret URL; the feed parses with
`icalendar`, holds exactly the expected events, follows a moved deadline (same UID), and a revoked URL is 404.
On real workflow runs (the `api` fixture: time-skipping server, worker, records)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import httpx
from icalendar import Calendar

from labellisation.french_calendar import zone
from tests.support.api import DOCS, PROJECT, profile
from tests.web.conftest import csrf_of
from tests.web.test_project_page import Site, api_fixture, site

__all__ = ["api_fixture", "site"]
STEP = "opportunity_study"


async def feed_url(browser: httpx.AsyncClient) -> str:
    page = await browser.get("/mon-calendrier")
    assert page.status_code == 200 and "<h1>Mon calendrier</h1>" in page.text
    made = await browser.post("/mon-calendrier", data={"csrf_token": csrf_of(page.text), "action": "creer"})
    assert made.status_code == 200 and 'role="status"' in made.text
    found = re.search(r'value="(http[^"]+\.ics)"', made.text)
    assert found is not None, made.text
    return found[1]


async def events_of(browser: httpx.AsyncClient, url: str) -> list[tuple[str, str, date]]:
    """(UID, summary, day) of each event of the feed at `url`, parsed with `icalendar`."""
    answered = await browser.get(url.removeprefix("http://127.0.0.1:8000"))
    assert answered.status_code == 200, answered.text
    assert answered.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answered.content)
    return [(str(e["uid"]), str(e["summary"]), e.decoded("dtstart")) for e in calendar.walk("VEVENT")]


async def test_each_person_subscribes_to_their_deadlines_which_follow_a_move_and_a_revoked_url_is_404(
    site: Site,
) -> None:
    api = site.api
    assert (await api.call("coordinator", "POST", "/projects", profile(process="fnep"))).status_code == 201
    holder = await site.browser("holder", "Léa Porteuse", "lea@edp-belfort.fr", projects=[PROJECT])
    url = await feed_url(holder)
    [(uid, summary, day)] = await events_of(holder, url)
    assert summary == "École de Production de Belfort — échéance : Étude d'opportunité"
    status = (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).json()
    assert day == datetime.fromisoformat(status["steps"][0]["due_at"]).astimezone(zone()).date()  # Paris day

    moved_to = (await api.env.get_current_time()).date() + timedelta(days=180)  # ahead, whatever the date
    moved = await api.call("coordinator", "PUT", f"/projects/{PROJECT}/steps/{STEP}/deadline",
                           {"due_on": moved_to.isoformat(), "reason": "Étude élargie"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert await events_of(holder, url) == [(uid, summary, moved_to)]  # the same event, moved

    # the reviewer of the region: the submitted step's review due date; the coordinator: the deadline
    assert (await api.call("holder", "POST", f"/projects/{PROJECT}/steps/{STEP}/submissions", DOCS)).status_code == 200
    reviewer = await site.browser("reviewer", "Rita", "rita@fnep.fr", regions=["bourgogne-franche-comte"])
    elsewhere = await site.browser("reviewer", "Yves", "yves@fnep.fr", regions=["bretagne"])
    coordinator = await site.browser("coordinator", "Cora", "cora@fnep.fr", regions=["bourgogne-franche-comte"])
    review = (await api.call("coordinator", "GET", f"/projects/{PROJECT}")).json()["upcoming_reminders"]
    [pending] = [r for r in review if r["kind"] == "review_pending"]
    pending_day = datetime.fromisoformat(pending["at"]).astimezone(zone()).date()
    assert [(s, d) for _, s, d in await events_of(reviewer, await feed_url(reviewer))] == [
        ("École de Production de Belfort — à décider : Étude d'opportunité", pending_day)
    ]
    assert await events_of(elsewhere, await feed_url(elsewhere)) == []
    assert [d for _, _, d in await events_of(coordinator, await feed_url(coordinator))] == [moved_to]
    assert await events_of(holder, url) == [], "submitted: no longer the holder's to meet"

    # revoked: 404; a new URL replaces the old one
    page = await holder.get("/mon-calendrier")
    revoked = await holder.post("/mon-calendrier", data={"csrf_token": csrf_of(page.text), "action": "revoquer"})
    assert revoked.status_code == 200 and "révoqué" in revoked.text
    assert (await holder.get(url.removeprefix("http://127.0.0.1:8000"))).status_code == 404
    again = await feed_url(holder)
    assert again != url and (await holder.get(url.removeprefix("http://127.0.0.1:8000"))).status_code == 404
    assert (await holder.get("/calendrier/inconnu.ics")).status_code == 404
