"""« Mes e-mails »: every signed-in person chooses how their reminders and news reach them (#17).

Each e-mail as it comes (the default), or « Votre point du jour »: one e-mail each working morning at 9:00 (Paris)
gathering what all their projects sent them. The choice is `users.daily_digest`, written by
labellisation/people.py. A value the form does not offer shows the page again with the French error, nothing
written; after a choice: redirect, and the page says what is now chosen (POST/redirect/GET).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from labellisation.api.deps import StoreDep
from labellisation.people import person_by_id, set_daily_digest
from labellisation.web.deps import PostedFormDep, SignedInDep, SignInRequired
from labellisation.web.errors import FrenchErrorsRoute
from labellisation.web.pages import page
from labellisation.web.sessions import SignedIn

router = APIRouter(include_in_schema=False, route_class=FrenchErrorsRoute)

PATH = "/mes-e-mails"
FIELD = "frequence"
EACH, DAILY = "chaque", "quotidien"
#: The form's values → their labels, the default first.
CHOICES = {
    EACH: "Chaque e-mail dès qu'il part",
    DAILY: "Un seul e-mail par jour ouvré, « Votre point du jour », à 9 h",
}
#: What the confirmation says is now chosen.
CHOSEN = {
    EACH: "chaque e-mail dès qu'il part.",
    DAILY: "« Votre point du jour », un seul e-mail chaque jour ouvré à 9 h.",
}
CHOICE_ERROR = (
    "Recevoir mes e-mails : choisissez « Chaque e-mail dès qu'il part » ou « Un seul e-mail par jour ouvré »."
)


def _choice(daily_digest: bool) -> str:
    return DAILY if daily_digest else EACH


async def _current(store: StoreDep, person: SignedIn) -> str:
    found = await person_by_id(store, person.user_id)
    if found is None:  # the session's person is gone: sign in again
        raise SignInRequired
    return _choice(found.daily_digest)


def _page(person: SignedIn, chosen: str, error: str | None = None, notice: str | None = None) -> Response:
    return page(
        "mes_e_mails.html.j2",
        status_code=422 if error else 200,
        person=person,
        choices=CHOICES,
        chosen=chosen,
        error=error,
        notice=notice,
        here=PATH,
    )


@router.get(PATH)
async def my_emails(person: SignedInDep, store: StoreDep, fait: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The person's choice; after one (`?fait=1`), a sentence saying what is now chosen, read from the store."""
    chosen = await _current(store, person)
    notice = f"Votre choix est enregistré : {CHOSEN[chosen]}" if fait else None
    return _page(person, chosen, notice=notice)


@router.post(PATH)
async def choose(form: PostedFormDep, store: StoreDep) -> Response:
    choice = form.fields.get(FIELD, "")
    if choice not in CHOICES:
        return _page(form.person, await _current(store, form.person), error=CHOICE_ERROR)
    await set_daily_digest(store, form.person.user.email, choice == DAILY)
    return RedirectResponse(f"{PATH}?fait=1", status_code=303, headers={"Cache-Control": "no-store"})
