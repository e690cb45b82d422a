"""Commands people send to a project; each one is a workflow update.

Payload validation (types, sizes, required comments) happens here; whether a
command is possible *now* is the transitions' business.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from labellisation.path.state import Cohort, Document, Holder, ShortText
from labellisation.process import ProcessDefinition

Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
DecisionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]


class Decision(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Who sends it (name or e-mail); recorded on every event.
    actor: ShortText


class SubmitStep(_Command):
    step: str
    documents: list[Document] = Field(min_length=1, max_length=50)
    comment: Comment = ""


class DecideStep(_Command):
    step: str
    decision: Decision
    comment: Comment = ""
    decision_id: DecisionId | None = None

    @model_validator(mode="after")
    def _comment_when_not_approving(self) -> DecideStep:
        if self.decision is not Decision.APPROVE and not self.comment:
            raise ValueError("comment: un commentaire est obligatoire pour demander des modifications ou rejeter")
        return self


class MoveDeadline(_Command):
    step: str
    due_on: date
    reason: Reason


class PauseProject(_Command):
    reason: Reason
    review_on: date


class ResumeProject(_Command):
    pass


class AbandonProject(_Command):
    reason: Reason


class RecordCohort(_Command):
    cohort: Cohort

    @model_validator(mode="after")
    def _consistent_counts(self) -> RecordCohort:
        c = self.cohort
        if c.dropouts > c.enrolled:
            raise ValueError("cohort.dropouts: plus d'abandons que d'inscrits")
        if c.presented > c.enrolled - c.dropouts:
            raise ValueError("cohort.presented: plus de présentés que d'inscrits restants")
        if c.passed > c.presented:
            raise ValueError("cohort.passed: plus de reçus que de présentés")
        if c.positive_exits > c.enrolled:
            raise ValueError("cohort.positive_exits: plus de sorties positives que d'inscrits")
        return self


class ChangePlannedOpening(_Command):
    """The school will open on another date: every deadline anchored on it follows."""

    planned_opening: date
    reason: Reason


#: The profile fields a coordinator may change: all but the project's id and its planned opening.
PROFILE_FIELDS = ("name", "region", "department", "city", "academy", "trades", "diplomas", "capacity", "holder")
PLANNED_OPENING_ELSEWHERE = (
    "planned_opening : la date d'ouverture prévue se change à part, avec ses échéances "
    "(PUT /projects/{id}/planned-opening, `labellisation planned-opening`, update change_planned_opening)"
)


class ProfileChanges(BaseModel):
    """The profile fields to change, and why; a field left out (or null) keeps its value."""

    model_config = ConfigDict(extra="forbid")

    name: ShortText | None = None
    region: ShortText | None = None
    department: ShortText | None = None
    city: ShortText | None = None
    academy: ShortText | None = None
    trades: list[ShortText] | None = Field(default=None, min_length=1, max_length=20)
    diplomas: list[ShortText] | None = Field(default=None, max_length=20)
    capacity: int | None = Field(default=None, ge=1, le=500)
    #: The holder's name and e-mail, both: later e-mails go to this address.
    holder: Holder | None = None
    reason: Reason

    @model_validator(mode="before")
    @classmethod
    def _fixed_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "planned_opening" in data:
                raise ValueError(PLANNED_OPENING_ELSEWHERE)
            if "project_id" in data:
                raise ValueError("project_id : l'identifiant d'un projet ne change pas")
        return data

    @model_validator(mode="after")
    def _something_to_change(self) -> ProfileChanges:
        if not self.changes():
            raise ValueError(f"rien à changer : donnez au moins un champ du profil ({', '.join(PROFILE_FIELDS)})")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields given, by name."""
        return {name: getattr(self, name) for name in PROFILE_FIELDS if getattr(self, name) is not None}


class UpdateProfile(_Command, ProfileChanges):
    """The profile changes (holder's contact, name, region…); the history keeps the values before and after."""


class MigrateProject(_Command):
    """Move the project to another version of its process: `process` is that version's whole definition.

    The workflow reads no file: the sender (the API) loads the shipped definition and sends it.
    """

    process: ProcessDefinition
    reason: Reason


Command = (
    SubmitStep
    | DecideStep
    | MoveDeadline
    | PauseProject
    | ResumeProject
    | AbandonProject
    | RecordCohort
    | ChangePlannedOpening
    | UpdateProfile
    | MigrateProject
)
