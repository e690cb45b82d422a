"""Commands people send to a project; each one is a workflow update.

Payload validation (types, sizes, required comments) happens here; whether a
command is possible *now* is the transitions' business.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from labellisation.path.state import Cohort, Document, ShortText

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


Command = SubmitStep | DecideStep | MoveDeadline | PauseProject | ResumeProject | AbandonProject | RecordCohort
