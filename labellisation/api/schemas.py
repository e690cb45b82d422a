"""Request and response bodies of the HTTP API, with examples in the domain's terms."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from labellisation.path.commands import Comment, Decision, DecisionId, ProfileChanges, Reason
from labellisation.path.state import Document as Document  # parts of the request bodies, for their clients (CLI)
from labellisation.path.state import EventKind, ProjectProfile, ProjectState
from labellisation.path.state import Holder as Holder
from labellisation.regions import region_from_text, region_of_profile
from labellisation.text_safety import refuse_control_characters


def _plain(data: Any) -> Any:
    """No control character in what people send (#18 item 5): the field is named, nothing is applied."""
    refuse_control_characters(data)
    return data


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _no_control_characters = model_validator(mode="before")(_plain)


def _start_schema(schema: dict[str, Any]) -> None:
    """`region` may be left out (the department gives it); an example in the domain's terms."""
    schema["required"] = [name for name in schema.get("required", []) if name != "region"]
    schema["examples"] = [
        {
            "project_id": "edp-belfort",
            "name": "École de Production de Belfort",
            "region": "bourgogne-franche-comte",
            "department": "90",
            "city": "Belfort",
            "trades": ["Usinage", "Chaudronnerie"],
            "diplomas": ["CAP Conducteur d'installations de production"],
            "holder": {"name": "Association EdP Belfort", "email": "porteur@edp-belfort.fr"},
            "planned_opening": "2029-09-01",
            "process": "fnep",
        }
    ]


class ProjectStart(ProjectProfile):
    _no_control_characters = model_validator(mode="before")(_plain)

    """A project profile, and the process to follow (default: the server's).

    The region is the department's, kept as its slug (`bourgogne-franche-comte`): `region` may be left out,
    and one given (slug or French name) must be the department's.
    """

    process: str | None = Field(default=None, examples=["fnep"])

    @model_validator(mode="before")
    @classmethod
    def _region_of_department(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("department"), str):
            region = data.get("region")
            if region is None or isinstance(region, str):
                data = {**data, "region": region_of_profile(data["department"], region).slug}
        return data

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=_start_schema,
    )


class SubmissionBody(_Body):
    documents: list[Document] = Field(min_length=1, max_length=50)
    comment: Comment = ""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "documents": [{"title": "Étude de faisabilité v2", "url": "https://docs.example.org/faisa.pdf"}],
                    "comment": "Budget sur trois ans en annexe",
                }
            ]
        },
    )


class DecisionBody(_Body):
    decision: Decision
    comment: Comment = ""
    decision_id: DecisionId | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "request_changes", "comment": "Chiffrer le carnet de commandes", "decision_id": "fnep-42"}
            ]
        },
    )


class DeadlineBody(_Body):
    due_on: date
    reason: Reason

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"due_on": "2028-06-30", "reason": "Étude élargie au bassin"}]}
    )


class PauseBody(_Body):
    reason: Reason
    review_on: date

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Attente du vote de la Région", "review_on": "2028-03-01"}]},
    )


class AbandonBody(_Body):
    reason: Reason


class PlannedOpeningBody(_Body):
    planned_opening: date
    reason: Reason

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"planned_opening": "2029-03-02", "reason": "Travaux des locaux retardés"}]},
    )


class ProfileBody(ProfileChanges):
    """The profile fields to change (a field left out or null keeps its value), and why.

    Not the project id, and not the planned opening: `PUT /projects/{id}/planned-opening` changes it with
    its deadlines. A new department brings its region (a `region` given with it must be the department's); a
    `region` alone is read as one of the 18 (its slug sent), and the API checks it is the project's department's.
    """

    _no_control_characters = model_validator(mode="before")(_plain)

    @model_validator(mode="before")
    @classmethod
    def _region_of_department(cls, data: Any) -> Any:
        if isinstance(data, dict):
            department, region = data.get("department"), data.get("region")
            if isinstance(department, str) and (region is None or isinstance(region, str)):
                data = {**data, "region": region_of_profile(department, region).slug}
            elif department is None and isinstance(region, str):
                data = {**data, "region": region_from_text(region).slug}
        return data

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "holder": {"name": "Association EdP du Territoire de Belfort", "email": "direction@edp90.fr"},
                    "reason": "L'association porteuse est créée",
                }
            ]
        },
    )


class MigrateBody(_Body):
    reason: Reason
    #: The version the caller expects to move to (the dry run's `to_version`): refused if the shipped one differs.
    process_version: int | None = Field(default=None, ge=1)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Parcours FNEP 2027", "process_version": 2}]},
    )


class EmptyBody(_Body):
    pass


class PortfolioItem(BaseModel):
    project_id: str
    name: str
    region: str
    department: str
    city: str
    process: str
    state: ProjectState
    current_stage: str
    next_due_at: datetime | None
    overdue: bool
    planned_opening: date
    updated_at: datetime


class HistoryEvent(BaseModel):
    event_id: str
    at: datetime
    kind: EventKind
    step: str | None
    actor: str | None
    comment: str | None
    data: dict[str, object]


class OverdueProject(BaseModel):
    project_id: str
    name: str
    current_stage: str
    next_due_at: datetime
    days_overdue: int


class PortfolioReport(BaseModel):
    projects: int
    by_stage: dict[str, int]
    by_region: dict[str, int]
    by_state: dict[str, int]
    overdue: list[OverdueProject]
    median_days_per_step: dict[str, float]


class Health(BaseModel):
    temporal: str
    database: str


class ErrorBody(BaseModel):
    """Every error: what was wrong, in one sentence."""

    detail: str


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Jeton manquant ou invalide"},
    403: {"model": ErrorBody, "description": "Rôle ou projet non autorisé"},
    404: {"model": ErrorBody, "description": "Projet ou étape inconnu"},
    409: {
        "model": ErrorBody,
        "description": "Impossible maintenant (étape pas en cours, déjà décidée, projet en pause ou terminé…)",
    },
    413: {"model": ErrorBody, "description": "Corps de requête trop volumineux (1 Mo au plus)"},
    422: {"model": ErrorBody, "description": "Contenu invalide : le champ et la raison"},
}
