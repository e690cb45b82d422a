"""Who an e-mail about a project goes to: the holder of its profile, or the people of its region.

Reviewers and coordinators come from the people (labellisation/people.py): the active ones of that role whose
regions include the project's, or who have no region (they cover every region). The global addresses of the
settings (`LABELLISATION_REVIEWERS_EMAIL`, `LABELLISATION_COORDINATOR_EMAIL`) are only the fallback when no
person matches, and that fallback is logged: somebody should be invited.
"""

from __future__ import annotations

from labellisation.log_setup import get_logger
from labellisation.mail.messages import Recipient, RecipientRole
from labellisation.people import Person, UserRole, active_of_role
from labellisation.records.store import RecordStore
from labellisation.regions import project_region
from labellisation.settings import Settings

log = get_logger("labellisation.mail")

#: The people's role for each role an e-mail is addressed to (the holder is the project's, not a person's).
PEOPLE_ROLE = {RecipientRole.REVIEWERS: UserRole.REVIEWER, RecipientRole.COORDINATOR: UserRole.COORDINATOR}
#: The name shown beside a fallback address.
FALLBACK_NAMES = {RecipientRole.REVIEWERS: "Relecteurs FNEP", RecipientRole.COORDINATOR: "Coordination FNEP"}


def region_slug(region: str | None, department: str | None) -> str | None:
    """The project's region as people's regions name it (a slug); None when neither names one."""
    found = project_region(region, department)
    return found.slug if found is not None else None


def covers(person: Person, role: UserRole, region: str | None) -> bool:
    """An active person of `role` whose regions include `region` (none: every region)."""
    return person.active and person.role is role and (not person.regions or region in person.regions)


async def staff(
    store: RecordStore, settings: Settings, role: RecipientRole, region: str | None, project_id: str
) -> list[Recipient]:
    """The reviewers or the coordinators of the region, each once, by name; else the settings' address."""
    people_role = PEOPLE_ROLE[role]
    # The regions are checked here (`covers`): a JSON list, which the two databases query differently.
    found = [p for p in await active_of_role(store, people_role) if covers(p, people_role, region)]
    if found:
        return [Recipient(role=role, email=p.email, name=p.name) for p in found]
    fallback = settings.reviewers_email if role is RecipientRole.REVIEWERS else settings.coordinator_email
    log.warning(
        "no person to write to: the settings' address instead",
        role=role.value,
        region=region,
        project_id=project_id,
        fallback=fallback,
    )
    return [Recipient(role=role, email=fallback, name=FALLBACK_NAMES[role])]
