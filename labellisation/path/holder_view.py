"""What a holder sees of their project's history (#18 item 4): the events meant for them; and of the reminders to
come, theirs only (not the reviewers' reminders nor the coordinators' escalations).

Pure. Left out: the reminders sent to the reviewers and the coordinators (review reminders, escalations, pause
advice), refused signals, and the refused e-mails of other people; on every event another person sent, the actor's
address is taken out (a reviewer's name stays, their address does not).
"""

from __future__ import annotations

import re

from labellisation.path.reminders import ROLE_OF, Kind, Role
from labellisation.path.state import Event, EventKind
from labellisation.path.status import UpcomingReminder

_ADDRESS = re.compile(r"\s*<[^<>]*@[^<>]*>")


def _for_holder(event: Event) -> bool:
    if event.kind is EventKind.SIGNAL_REFUSED:
        return False
    if event.kind is EventKind.REMINDER_SENT:
        kind = str(event.data.get("kind"))
        return kind in Kind.__members__.values() and ROLE_OF[Kind(kind)] is Role.HOLDER
    if event.kind is EventKind.DELIVERY_FAILED:
        return event.data.get("audience") == Role.HOLDER.value
    return True


def holder_view(events: list[Event], holder_email: str) -> list[Event]:
    """`events` as the holder `holder_email` may read them, oldest first."""
    mine = holder_email.lower()
    shown: list[Event] = []
    for event in filter(_for_holder, events):
        actor = event.actor
        if actor and mine not in actor.lower():
            name = _ADDRESS.sub("", actor).strip()
            event = event.model_copy(update={"actor": "FNEP" if not name or "@" in name else name})
        shown.append(event)
    return shown


def holder_reminders(reminders: list[UpcomingReminder]) -> list[UpcomingReminder]:
    """The reminders to come that go to the holder."""
    return [r for r in reminders if r.to == Role.HOLDER.value]
