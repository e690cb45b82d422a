"""Typed dependencies: the Temporal client, the records store, the current user and who may call a route.

A route says who may call it in its signature (`user: CoordinatorDep`, `user: HolderOfProjectDep`…);
its body checks nothing more. 401: no or bad token; 403: wrong role, or a holder on another project
(read from the path parameter `project_id`), or a reviewer or coordinator limited to regions on a project
of another region (labellisation/api/access.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from labellisation.api.access import check_project_region
from labellisation.api.errors import ApiError
from labellisation.catalogue import ROLE_LABELS
from labellisation.records.store import RecordStore
from labellisation.settings import Settings
from labellisation.tokens import ApiUser, TokenCache, TokenRefused, UserRole

_bearer = HTTPBearer(auto_error=False, description="Jeton créé par `labellisation token create`.")


# The dependencies are `async def`, even those that only read the app's state: FastAPI runs a plain `def`
# dependency in its thread pool, a hand-off to another thread and back on every request.


async def get_client(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


async def get_store(request: Request) -> RecordStore:
    store: RecordStore = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ClientDep = Annotated[Client, Depends(get_client)]
StoreDep = Annotated[RecordStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_tokens(request: Request) -> TokenCache:
    tokens: TokenCache = request.app.state.tokens
    return tokens


async def current_user(
    tokens: Annotated[TokenCache, Depends(get_tokens)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiUser:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "jeton manquant : ajoutez l'en-tête Authorization: Bearer <jeton>")
    try:
        user = await tokens.authenticate(credentials.credentials)
    except TokenRefused as refused:  # revoked, expired, or the person disabled: checked on every request
        raise ApiError(401, str(refused)) from None
    if user is None:
        raise ApiError(401, "jeton invalide")
    return user


UserDep = Annotated[ApiUser, Depends(current_user)]
"""Anyone with a valid token (every role): a route that filters by who asks, or checks nothing more."""


def _check_role(user: ApiUser, roles: tuple[UserRole, ...]) -> ApiUser:
    if user.role not in roles:
        allowed = ", ".join(ROLE_LABELS[r.value] for r in roles)
        raise ApiError(403, f"action réservée au rôle : {allowed}")
    return user


def role(*roles: UserRole) -> Callable[[ApiUser], Awaitable[ApiUser]]:
    """A dependency: the user, or 403 unless they have one of `roles`."""

    async def dependency(user: UserDep) -> ApiUser:  # async: no thread hop
        return _check_role(user, roles)

    return dependency


def role_on_project(*roles: UserRole) -> Callable[[ApiUser, str, Client, RecordStore], Awaitable[ApiUser]]:
    """A dependency: the user, or 403 unless they have one of `roles` and, a holder, own the path's `project_id`,
    a reviewer or coordinator limited to regions, the project is in one of them."""

    async def dependency(
        user: UserDep, project_id: Annotated[str, Path()], client: ClientDep, store: StoreDep
    ) -> ApiUser:
        _check_role(user, roles)
        if not user.may_see(project_id):
            raise ApiError(403, f"ce jeton ne donne pas accès au projet {project_id!r}")
        await check_project_region(user, client, store, project_id)
        return user

    return dependency


CoordinatorDep = Annotated[ApiUser, Depends(role(UserRole.COORDINATOR))]
ReviewerDep = Annotated[ApiUser, Depends(role(UserRole.REVIEWER))]
ProjectViewerDep = Annotated[ApiUser, Depends(role_on_project(*UserRole))]
"""Every role; a holder only on its own projects, a person limited to regions only on those regions' projects."""
CoordinatorOfProjectDep = Annotated[ApiUser, Depends(role_on_project(UserRole.COORDINATOR))]
ReviewerOfProjectDep = Annotated[ApiUser, Depends(role_on_project(UserRole.REVIEWER))]
HolderOfProjectDep = Annotated[ApiUser, Depends(role_on_project(UserRole.HOLDER))]
CoordinatorOrHolderOfProjectDep = Annotated[ApiUser, Depends(role_on_project(UserRole.COORDINATOR, UserRole.HOLDER))]
