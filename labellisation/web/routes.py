"""The sign-in pages: ask for a link, follow it, sign out; and the home page of a signed-in person."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import EmailStr, TypeAdapter, ValidationError
from starlette.background import BackgroundTask

from labellisation.api.deps import SettingsDep, StoreDep
from labellisation.log_setup import get_logger
from labellisation.mail.sender import send
from labellisation.mail.sign_in import SignInEmail, build_sign_in_message, render_sign_in
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.web import calendar_page, exports, inbox, my_project, pilotage, preferences
from labellisation.web.deps import (
    NEXT_FIELD,
    CsrfRefused,
    MaybeSignedInDep,
    PostedFormDep,
    SignedInDep,
    WebStateDep,
    local_path,
    with_next,
)
from labellisation.web.pages import HEADERS, WHOLE_PAGE, page, read_form
from labellisation.web.portfolio import router as portfolio_router
from labellisation.web.security import CSRF_FIELD, clear_session_cookie, csrf_matches, set_session_cookie
from labellisation.web.sessions import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    create_sign_in_link,
    end_session,
    find_active_person,
    open_session,
    sign_in_url,
    use_sign_in_link,
)

log = get_logger("labellisation.web")
router = APIRouter(include_in_schema=False)
router.include_router(portfolio_router)

_address = TypeAdapter(EmailStr)
LINK_MINUTES = int(LINK_LIFETIME.total_seconds() // 60)


def valid_address(text: str) -> str | None:
    """The address lower-cased (as `users` stores it), or None when it is not an e-mail address."""
    if not text or len(text) > 320:
        return None
    try:
        return str(_address.validate_python(text.strip())).lower()
    except ValidationError:
        return None


async def send_sign_in_link(
    store: RecordStore, settings: Settings, address: str, now: datetime, next_path: str | None = None
) -> None:
    """After the answer has gone: a link for an active known person, nothing for anyone else; the link carries
    `next_path`, the page to come back to once signed in.

    Run in the background so that the answer takes as long whether the address is known or not.
    A failure is logged (the person can ask again); the address itself is never logged.
    """
    try:
        row = await find_active_person(store, address)
        if row is None:
            log.info("sign-in link asked: no active person with this address")
            return
        token = await create_sign_in_link(store, row.id, now)
        email = SignInEmail(
            email=row.email,
            name=row.name,
            link=with_next(sign_in_url(settings.public_base_url, token), next_path),
            expires_at=now + LINK_LIFETIME,
            minutes=LINK_MINUTES,
        )
        await send(build_sign_in_message(email, render_sign_in(email), settings.mail_from), settings.smtp())
        log.info("sign-in link sent", user_id=row.id)
    except Exception:
        log.exception("sign-in link not sent")


def _too_many(retry_after: int) -> Response:
    return page("trop_de_demandes.html.j2", status_code=429, headers={**WHOLE_PAGE, "Retry-After": str(retry_after)})


@router.get("/connexion")
async def sign_in_page(person: MaybeSignedInDep, suivant: str | None = None) -> Response:
    return page("connexion.html.j2", person=person, email="", error=None, notice=None, suivant=local_path(suivant))


@router.post("/connexion")
async def ask_for_link(
    request: Request, store: StoreDep, settings: SettingsDep, web: WebStateDep, person: MaybeSignedInDep
) -> Response:
    """Always the same answer, known address or not; 429 past the limits, 422 for what is no address."""
    fields = await read_form(request)
    if person is not None and not csrf_matches(fields.get(CSRF_FIELD), person.csrf_token):
        raise CsrfRefused
    client = request.client.host if request.client else "inconnu"
    if not web.per_client.allows(client):
        return _too_many(web.per_client.retry_after(client))
    web.per_client.hit(client)
    typed = fields.get("email", "")
    next_path = local_path(fields.get(NEXT_FIELD))
    address = valid_address(typed)
    if address is None:
        error = "Adresse e-mail : saisissez une adresse valide, par exemple prenom.nom@exemple.fr."
        return page(
            "connexion.html.j2", status_code=422, person=person, email=typed[:320], error=error, notice=None,
            suivant=next_path,
        )  # fmt: skip
    if not web.per_address.allows(address):
        return _too_many(web.per_address.retry_after(address))
    web.per_address.hit(address)
    task = BackgroundTask(send_sign_in_link, store, settings, address, web.clock(), next_path)
    return page("lien_envoye.html.j2", person=person, minutes=LINK_MINUTES, background=task)


@router.get("/connexion/lien/{token}")
async def follow_link(
    token: Annotated[str, Path(max_length=1000)],
    store: StoreDep,
    settings: SettingsDep,
    web: WebStateDep,
    person: MaybeSignedInDep,
    suivant: str | None = None,
) -> Response:
    """A good link opens a session and leads to `suivant` (a local path) or home; any other shows why not and
    offers a new one."""
    now = web.clock()
    row = await use_sign_in_link(store, token, now)
    if row is None:
        return page(
            "lien_invalide.html.j2",
            status_code=410,
            headers={"Referrer-Policy": "no-referrer"},
            person=person,
            minutes=LINK_MINUTES,
            email="",
            suivant=local_path(suivant),
        )
    if person is not None:  # someone else's session in this browser, or an older one: it ends here
        await end_session(store, person.session_hash, now)
    session_id = await open_session(store, row.id, now)
    response = RedirectResponse(
        local_path(suivant) or "/", status_code=303, headers={**HEADERS, "Referrer-Policy": "no-referrer"}
    )
    set_session_cookie(response, session_id, web.secret, web.secure, SESSION_LIFETIME)
    log.info("session opened", user_id=row.id)
    return response


@router.get("/")
async def home(person: SignedInDep) -> Response:
    return page("accueil.html.j2", person=person)


@router.post("/deconnexion")
async def sign_out(form: PostedFormDep, store: StoreDep, web: WebStateDep) -> Response:
    await end_session(store, form.person.session_hash, web.clock())
    response = page("connexion.html.j2", email="", error=None, notice="Vous êtes déconnecté.")
    clear_session_cookie(response, web.secure)
    return response


router.include_router(inbox.router)  # « À décider »
router.include_router(my_project.router)  # « Mon dossier »
router.include_router(calendar_page.router)  # « Mon calendrier » and the feeds
router.include_router(pilotage.router)  # « Pilotage »
router.include_router(exports.router)  # « Pilotage » as CSV and XLSX files
router.include_router(preferences.router)  # « Mes e-mails »
