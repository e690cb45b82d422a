"""« Votre point du jour » (#17 item 3): the e-mails kept for a person who chose one e-mail a working morning,
gathered by project in one message.

A reminder or news e-mail to such a person is not sent to them: the notification activity keeps it in
`digest_items` (its title and sentences, `DigestPart`), one item per person per e-mail. Each working morning the
`send_daily_digests` activity (started by the Temporal Schedule `point-du-jour`) sends each of them one
`DailyDigestEmail` listing what waits, by project.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from labellisation.mail.messages import Recipient


class DigestPart(BaseModel):
    """One reminder or news item as the digest tells it: its title and its plain-text sentences."""

    title: str
    body: str


class DigestProject(BaseModel):
    """What waits about one project: its school (name and city), the page where the reader acts, the parts."""

    project_id: str
    school: str
    url: str
    parts: list[DigestPart] = Field(min_length=1)


class DailyDigestEmail(BaseModel):
    """One person's « Votre point du jour »: `reminder_id` is its key (`digest:<user id>:<day>`)."""

    model_config = ConfigDict(extra="forbid")

    reminder_id: str = Field(min_length=1)
    kind: Literal["digest"] = "digest"
    to: list[Recipient] = Field(min_length=1, max_length=1)
    #: Across projects: the header and the rows name none.
    project_id: str = ""
    day: date
    projects: list[DigestProject] = Field(min_length=1)
    #: « Mes e-mails », where the reader changes their choice.
    preferences_url: str

    @property
    def count(self) -> int:
        return sum(len(p.parts) for p in self.projects)


class SendDailyDigests(BaseModel):
    """The input of `send_daily_digests`: the working morning it is for (Paris)."""

    day: date


class DailyDigestsSent(BaseModel):
    day: date
    #: Digests that went out (one per person); refused for good (their items wait).
    sent: int = 0
    refused: int = 0
    #: A public holiday: nothing went out, everything waits for the next working morning.
    holiday: bool = False


def digest_key(user_id: int, day: date) -> str:
    return f"digest:{user_id}:{day.isoformat()}"


def subject(email: DailyDigestEmail) -> str:
    count, projects = email.count, len(email.projects)
    items = f"{count} message{'s' if count > 1 else ''}"
    return f"Votre point du jour : {items} sur {projects} projet{'s' if projects > 1 else ''}"
