"""The session cookie's signature and flags, the secret that signs it, and the CSRF check.

The cookie holds `<session id>.<HMAC-SHA256 of it>`: a cookie not signed with the secret is refused
before any query. The session id is random and stored only as a hash (sessions.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import Response

from labellisation.settings import Settings, SettingsError

COOKIE = "labellisation_session"
CSRF_FIELD = "csrf_token"
#: Without LABELLISATION_SECRET_KEY, a stack whose public address is this machine signs with this.
LOCAL_SECRET = b"local-only: labellisation dev stack, never for a public address"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MIN_SECRET = 32


def is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def check_secret(settings: Settings) -> None:
    """Refuse to serve a public address with no secret, a short one, or a `local-only` default."""
    if is_local(settings.public_base_url):
        return
    key = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if len(key) < MIN_SECRET or "local-only" in key:
        raise SettingsError(
            f"réglage invalide : LABELLISATION_SECRET_KEY : obligatoire ({MIN_SECRET} caractères au moins, "
            "pas une valeur local-only) quand LABELLISATION_PUBLIC_BASE_URL n'est pas une adresse locale ; "
            'par exemple : python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )


def session_secret(settings: Settings) -> bytes:
    """The key that signs cookies: the setting; else, on a local address, LOCAL_SECRET.

    A public address without a usable secret never reaches here in a served app (check_secret stops
    its start); an app built without starting (tests) gets a random key, valid for this process only.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():  # set, and not empty
        return settings.secret_key.get_secret_value().encode()
    return LOCAL_SECRET if is_local(settings.public_base_url) else secrets.token_bytes(32)


def _signature(value: str, secret: bytes) -> str:
    mac = hmac.new(secret, b"session:" + value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def sign(value: str, secret: bytes) -> str:
    return f"{value}.{_signature(value, secret)}"


def unsign(cookie: str | None, secret: bytes) -> str | None:
    """The value of a cookie signed with `secret`, or None."""
    if not cookie or len(cookie) > 256:
        return None
    value, _, signature = cookie.rpartition(".")
    if not value or not hmac.compare_digest(signature.encode(), _signature(value, secret).encode()):
        return None
    return value


def set_session_cookie(response: Response, session_id: str, secret: bytes, secure: bool, max_age: timedelta) -> None:
    response.set_cookie(
        COOKIE,
        sign(session_id, secret),
        max_age=int(max_age.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


def csrf_matches(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())
