"""Typed dependencies: the Temporal client, the records store, the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from labellisation.api.errors import ApiError
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.tokens import ApiUser, TokenCache, UserRole

_bearer = HTTPBearer(auto_error=False, description="Jeton créé par `labellisation token create`.")


def get_client(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


def get_store(request: Request) -> RecordStore:
    store: RecordStore = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ClientDep = Annotated[Client, Depends(get_client)]
StoreDep = Annotated[RecordStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_tokens(request: Request) -> TokenCache:
    tokens: TokenCache = request.app.state.tokens
    return tokens


async def current_user(
    tokens: Annotated[TokenCache, Depends(get_tokens)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiUser:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "jeton manquant : ajoutez l'en-tête Authorization: Bearer <jeton>")
    user = await tokens.authenticate(credentials.credentials)
    if user is None:
        raise ApiError(401, "jeton invalide")
    return user


UserDep = Annotated[ApiUser, Depends(current_user)]

ROLE_LABELS = {UserRole.COORDINATOR: "coordinateur", UserRole.REVIEWER: "relecteur", UserRole.HOLDER: "porteur"}


def require(user: ApiUser, *roles: UserRole, project_id: str | None = None) -> None:
    """403 unless the user has one of `roles` (and, for a holder, owns the project)."""
    if user.role not in roles:
        allowed = ", ".join(ROLE_LABELS[r] for r in roles)
        raise ApiError(403, f"action réservée au rôle : {allowed}")
    if project_id is not None and not user.may_see(project_id):
        raise ApiError(403, f"ce jeton ne donne pas accès au projet {project_id!r}")
