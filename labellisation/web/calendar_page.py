"""« Mon calendrier » (#19 item 5): a person's deadlines as a calendar feed to subscribe to, and the feed itself.

The page makes (or revokes) the person's secret feed URL and shows it once, with how to subscribe in Outlook,
Google and Apple calendars; `GET /calendrier/<secret>.ics` serves the feed (labellisation/calendar_feed.py) to
whoever holds the URL, 404 once revoked. The feed reads the projects' statuses as the pages do.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import Response

from labellisation.api.commands import read_status
from labellisation.api.deps import ClientDep, SettingsDep, StoreDep
from labellisation.calendar_feed import create_feed, feed_events, feed_owner, ics, revoke_feeds
from labellisation.path.status import ProjectStatus
from labellisation.people import person_by_id
from labellisation.records.store import RecordStore
from labellisation.tokens import UserRole
from labellisation.web.deps import PostedFormDep, SignedInDep
from labellisation.web.errors import FrenchErrorsRoute
from labellisation.web.pages import page

router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)
PATH = "/mon-calendrier"
#: A feed made: said once, with the URL (which is not stored).
MADE = "Votre lien de calendrier est prêt ; tout lien donné avant ne marche plus."
#: Statuses read at once for one feed.
READS_AT_ONCE = 8
NOT_FOUND = Response("calendrier inconnu ou révoqué\n", status_code=404, media_type="text/plain; charset=utf-8")


async def _project_ids(store: RecordStore, role: UserRole, projects: list[str], regions: list[str]) -> list[str]:
    if role is UserRole.HOLDER:
        return list(projects)
    rows = await store.portfolio(regions=regions or None)
    return [row["project_id"] for row in rows if row["state"] in ("active", "paused")]


@router.get("/calendrier/{secret}.ics")
async def calendar_feed(secret: str, client: ClientDep, store: StoreDep, settings: SettingsDep) -> Response:
    user_id = await feed_owner(store, secret) if len(secret) <= 100 else None
    person = await person_by_id(store, user_id) if user_id is not None else None
    if person is None or not person.active:
        return NOT_FOUND
    ids = await _project_ids(store, person.role, person.projects, person.regions)
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def read(project_id: str) -> ProjectStatus | BaseException:
        async with gate:
            try:
                return await read_status(client, store, project_id)
            except Exception as error:  # a project gone or unreadable: the others still show
                return error

    statuses = [s for s in await asyncio.gather(*(read(i) for i in ids)) if isinstance(s, ProjectStatus)]
    events = feed_events(person.role, statuses, settings.public_base_url)
    body = ics(person.name, events, datetime.now(UTC))
    headers = {"Cache-Control": "private, max-age=900", "Content-Disposition": 'inline; filename="echeances.ics"'}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


def _page(person: SignedInDep, url: str | None = None, notice: str | None = None) -> Response:
    return page("mon_calendrier.html.j2", person=person, url=url, notice=notice, here=PATH)


@router.get(PATH)
async def my_calendar(person: SignedInDep) -> Response:
    return _page(person)


@router.post(PATH)
async def make_calendar(form: PostedFormDep, store: StoreDep, settings: SettingsDep) -> Response:
    now = datetime.now(UTC)
    if form.fields.get("action") == "revoquer":
        await revoke_feeds(store, form.person.user_id, now)
        return _page(form.person, notice="Votre lien de calendrier est révoqué : il ne donne plus rien.")
    secret = await create_feed(store, form.person.user_id, now)
    url = f"{settings.public_base_url.rstrip('/')}/calendrier/{secret}.ics"
    return _page(
        form.person, url=url, notice="Votre lien de calendrier est prêt ; tout lien donné avant ne marche plus."
    )
