"""What a reminder e-mail says, before rendering.

Pure pydantic, with no import from the path model, so the workflow, the
notification activity and the path model can all share these names. The
kinds and roles are the words of DOMAIN.md ("Reminders and escalation").
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from labellisation.path.news import NewsItem


class ReminderKind(StrEnum):
    """Every reminder the path sends; the comment says to whom and when (defaults)."""

    #: Holder, 30 and 7 days before a step is due.
    BEFORE_DUE = "before_due"
    #: Holder, every 7 days once a step is overdue.
    OVERDUE = "overdue"
    #: Coordinator, at 21 days overdue.
    ESCALATION = "escalation"
    #: Coordinator, at 45 days overdue: a pause is advised.
    PAUSE_ADVISED = "pause_advised"
    #: Reviewers, a submission undecided after 10 working days.
    REVIEW_PENDING = "review_pending"
    #: Coordinator, a submission undecided after 20 working days.
    REVIEW_ESCALATION = "review_escalation"
    #: Holder, 14 days after changes were requested with nothing resubmitted.
    CHANGES_PENDING = "changes_pending"
    #: Coordinator, on a paused project's review date.
    PAUSE_REVIEW = "pause_review"


class RecipientRole(StrEnum):
    HOLDER = "holder"
    REVIEWERS = "reviewers"
    COORDINATOR = "coordinator"


#: Who each kind goes to with the default policy.
RECIPIENT_ROLE: dict[ReminderKind, RecipientRole] = {
    ReminderKind.BEFORE_DUE: RecipientRole.HOLDER,
    ReminderKind.OVERDUE: RecipientRole.HOLDER,
    ReminderKind.CHANGES_PENDING: RecipientRole.HOLDER,
    ReminderKind.REVIEW_PENDING: RecipientRole.REVIEWERS,
    ReminderKind.ESCALATION: RecipientRole.COORDINATOR,
    ReminderKind.PAUSE_ADVISED: RecipientRole.COORDINATOR,
    ReminderKind.REVIEW_ESCALATION: RecipientRole.COORDINATOR,
    ReminderKind.PAUSE_REVIEW: RecipientRole.COORDINATOR,
}

#: Kinds about a step's deadline: their e-mail states the due date.
DEADLINE_KINDS = frozenset(
    {ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE, ReminderKind.ESCALATION, ReminderKind.PAUSE_ADVISED}
)

# Addresses are checked loosely (the holder's was validated when the project
# started; reviewers' and coordinators' come from settings); what matters here
# is that nothing can smuggle a header line in.
EmailAddress = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+$")]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recipient(_Model):
    role: RecipientRole
    email: EmailAddress
    name: str | None = None


class ReminderEmail(_Model):
    """Everything one reminder e-mail says; `reminder_id` is its idempotency key."""

    reminder_id: str = Field(min_length=1)
    kind: ReminderKind
    to: list[Recipient] = Field(min_length=1)
    project_id: str
    school_name: str
    city: str
    #: None only for `pause_review`, which is about the whole project.
    step_id: str | None = None
    #: The step's French label, e.g. "Étude de faisabilité".
    step_label: str | None = None
    stage_label: str
    due_at: datetime | None = None
    #: How late the step is: whole days past the deadline, or with the fair clocks the days started since
    #: it (1 on the first late day), frozen while paused (labellisation/path/deadlines.py).
    days_overdue: int = Field(default=0, ge=0)
    #: Calendar days since the submission (review kinds) or the request for changes; with the fair clocks,
    #: the days the project ran since (its pauses left out).
    days_waiting: int = Field(default=0, ge=0)
    review_on: date | None = None
    pause_reason: str | None = None
    project_url: HttpUrl

    @model_validator(mode="after")
    def _says_what_its_kind_needs(self) -> ReminderEmail:
        # Checked here so a bad request fails with a sentence, not deep inside a template.
        if self.kind is ReminderKind.PAUSE_REVIEW:
            if self.review_on is None:
                raise ValueError("un rappel pause_review a besoin de review_on")
            return self
        if not self.step_label:
            raise ValueError(f"un rappel {self.kind.value} a besoin de step_label")
        if self.kind in DEADLINE_KINDS and self.due_at is None:
            raise ValueError(f"un rappel {self.kind.value} a besoin de due_at")
        return self


class ListingEmail(_Model):
    """An e-mail about one project listing several things (reminders, news): `reminder_id` is its key (its
    Message-ID, and for news its row)."""

    reminder_id: str = Field(min_length=1)
    to: list[Recipient] = Field(min_length=1)
    project_id: str
    school_name: str
    city: str
    project_url: HttpUrl
    #: The layout's project box names a step only in a single reminder.
    step_label: None = None
    stage_label: str = ""


class ReminderDigest(ListingEmail):
    """Several reminders to the same reader about the same project at the same moment: one e-mail listing each;
    each reminder keeps its own row."""

    kind: Literal["reminders"] = "reminders"
    reminders: list[ReminderEmail] = Field(min_length=1)
    #: The news due for the same reader at the same moment, after the reminders (#17 item 3), and its key.
    news: list[NewsItem] = Field(default_factory=list)
    news_id: str | None = None

    @model_validator(mode="after")
    def _several(self) -> ReminderDigest:
        if len(self.reminders) + len(self.news) < 2:
            raise ValueError("un e-mail groupé liste au moins deux rappels ou nouvelles")
        return self


#: The web page where each reader of a reminder acts (issue #16), and what its button says.
ACTION_PAGES: dict[RecipientRole, tuple[str, str]] = {
    RecipientRole.HOLDER: ("/mon-dossier/{project_id}", "Ouvrir mon dossier"),
    RecipientRole.REVIEWERS: ("/a-decider", "Voir les dossiers à décider"),
    RecipientRole.COORDINATOR: ("/projets/{project_id}", "Ouvrir la fiche du projet"),
}


def action_url(public_base_url: str, role: RecipientRole, project_id: str) -> str:
    """The page a reminder's reader acts on: the holder's « Mon dossier », the reviewers' « À décider », the
    coordinator's « Fiche projet ». Someone not signed in goes through sign-in and comes back to it."""
    path, _label = ACTION_PAGES[role]
    return public_base_url.rstrip("/") + path.format(project_id=project_id)


def action_label(role: RecipientRole) -> str:
    return ACTION_PAGES[role][1]


class RenderedEmail(_Model):
    """A reminder in French: subject, plain text and HTML."""

    subject: str
    text: str
    html: str
