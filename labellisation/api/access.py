"""Regions and access: a reviewer or coordinator limited to regions reaches only the projects of those regions.

A project's region is read from the records projection (a slug; an old project's text read as its region or its
department's); a project not yet there, just started, from its workflow's status. The routes get this through
their dependency (labellisation/api/deps.py); the start route checks the body's department.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from labellisation.api.errors import ApiError
from labellisation.contract import QUERY_STATUS, workflow_id
from labellisation.path.status import ProjectStatus, StatusRequest
from labellisation.records.store import RecordStore
from labellisation.regions import UnknownRegion, project_region, region_from_text, region_name
from labellisation.tokens import ApiUser, UserRole


def limited(user: ApiUser) -> bool:
    """Whether the person sees only some regions' projects (a holder sees its projects, whatever their region)."""
    return user.role is not UserRole.HOLDER and bool(user.regions)


def _their_regions(user: ApiUser) -> str:
    return ", ".join(region_name(slug) for slug in user.regions)


async def project_region_slug(client: Client, store: RecordStore, project_id: str) -> str | None:
    """The project's region slug; None for a project found nowhere or whose texts name no region."""
    record = await store.project(project_id)
    if record is not None:
        region = project_region(record.region, record.department)
    else:  # started a moment ago: the records get it with its first events
        handle = client.get_workflow_handle(workflow_id(project_id))
        try:
            status = await handle.query(QUERY_STATUS, StatusRequest(), result_type=ProjectStatus)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            return None
        region = project_region(status.region, None)
    return region.slug if region is not None else None


async def check_project_region(user: ApiUser, client: Client, store: RecordStore, project_id: str) -> None:
    """403 unless the project is in the person's regions. A project they cannot place (unknown, or an old text
    naming no region) is refused alike: like a holder, a limited person learns nothing of projects outside."""
    if not limited(user):
        return
    slug = await project_region_slug(client, store, project_id)
    if slug is None or not user.covers_region(slug):
        raise ApiError(403, f"le projet {project_id!r} est hors de vos régions ({_their_regions(user)})")


def check_region(user: ApiUser, slug: str) -> None:
    """403 unless a region (a new project's, a project's new one, a list's filter) is in the person's regions."""
    if not user.covers_region(slug):
        raise ApiError(403, f"la région {region_name(slug)} est hors de vos régions ({_their_regions(user)})")


def region_filter(user: ApiUser, text: str | None) -> tuple[str | None, list[str] | None]:
    """A list's `region` filter as a slug (422 listing the regions if it names none; 403 outside the person's
    regions), and the regions a limited person's list is confined to (None: every region)."""
    slug = None
    if text is not None:
        try:
            slug = region_from_text(text).slug
        except UnknownRegion as error:
            raise ApiError(422, str(error)) from None
        check_region(user, slug)
    return slug, list(user.regions) if limited(user) else None
