"""Process definitions: the FNEP path as data, validated by pydantic.

A definition is copied whole into a project's workflow input when the project
starts, so editing a YAML file never changes a running project.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from labellisation.durations import validate_duration
from labellisation.errors import describe_validation_error
from labellisation.policy import ReminderPolicy

IsoDuration = Annotated[str, AfterValidator(validate_duration)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")]


def _known_timezone(name: str) -> str:
    """Refuse a zone the deadlines could not use, before a project starts with it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"fuseau horaire inconnu {name!r} (exemple : Europe/Paris)") from None
    return name


Timezone = Annotated[str, AfterValidator(_known_timezone)]


class Calendar(StrEnum):
    """How reminder times are placed: French working mornings, or as computed."""

    FR_WORKING_DAYS = "fr_working_days"
    NONE = "none"


class DateAnchor(StrEnum):
    """Project dates a deadline can be anchored on."""

    PLANNED_OPENING = "planned_opening"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AnchoredDue(_Strict):
    """A deadline fixed relative to a project date, not to the stage start."""

    anchor: DateAnchor
    offset: IsoDuration = "P0D"


class StepDefinition(_Strict):
    id: Identifier
    label: str = Field(min_length=1)
    duration: IsoDuration | None = None
    due: AnchoredDue | None = None
    #: The holder may submit only once a cohort's results are recorded.
    requires_cohort: bool = False

    @model_validator(mode="after")
    def _one_deadline_rule(self) -> StepDefinition:
        if (self.duration is None) == (self.due is None):
            raise ValueError("une étape a soit une durée (duration), soit une échéance ancrée (due)")
        return self


class StageDefinition(_Strict):
    id: Identifier
    label: str = Field(min_length=1)
    steps: list[StepDefinition] = Field(min_length=1)


class ProcessDefinition(_Strict):
    """A whole path: ordered stages of parallel steps, with their deadlines."""

    id: Identifier
    version: int = Field(ge=1)
    label: str = Field(min_length=1)
    timezone: Timezone = "Europe/Paris"
    calendar: Calendar
    reminders: ReminderPolicy = Field(default_factory=ReminderPolicy)
    stages: list[StageDefinition] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> ProcessDefinition:
        # A model validator's error has no location of its own: the message names the field.
        seen: dict[str, str] = {}
        for i, stage in enumerate(self.stages):
            for j, step in enumerate(stage.steps):
                where = f"stages.{i}.steps.{j}.id"
                if step.id in seen:
                    raise ValueError(
                        f"{where}: l'identifiant d'étape {step.id!r} apparaît deux fois (déjà en {seen[step.id]})"
                    )
                seen[step.id] = where
        stages_seen: dict[str, str] = {}
        for i, stage in enumerate(self.stages):
            where = f"stages.{i}.id"
            if stage.id in stages_seen:
                raise ValueError(
                    f"{where}: deux phases portent le même identifiant {stage.id!r} (déjà en {stages_seen[stage.id]})"
                )
            stages_seen[stage.id] = where
        return self

    def step(self, step_id: str) -> StepDefinition | None:
        for stage in self.stages:
            for step in stage.steps:
                if step.id == step_id:
                    return step
        return None

    def stage_index_of(self, step_id: str) -> int:
        for index, stage in enumerate(self.stages):
            if any(step.id == step_id for step in stage.steps):
                return index
        raise KeyError(step_id)


class ProcessDefinitionError(ValueError):
    """A definition file that cannot be used, with the file, field and reason."""


def parse_definition(data: Any, source: str) -> ProcessDefinition:
    try:
        return ProcessDefinition.model_validate(data)
    except ValidationError as error:
        raise ProcessDefinitionError(f"{source}: {describe_validation_error(error)}") from None


def load_definition_file(path: Path) -> ProcessDefinition:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProcessDefinitionError(f"{path}: illisible ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ProcessDefinitionError(f"{path}: illisible (pas en UTF-8, octet {error.start})") from None
    except yaml.YAMLError as error:
        raise ProcessDefinitionError(f"{path}: YAML invalide ({_describe_yaml_error(error)})") from None
    return parse_definition(data, str(path))


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    """One line with the line and column, instead of PyYAML's multi-line excerpt."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"ligne {mark.line + 1}, colonne {mark.column + 1} : {error.problem}"
    return str(error)


def shipped_process_ids() -> list[str]:
    folder = resources.files("labellisation") / "processes"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_process(process_id: str) -> ProcessDefinition:
    """Load a shipped definition (`fnep`, `demo`) by its id."""
    if process_id not in shipped_process_ids():
        known = ", ".join(shipped_process_ids())
        raise ProcessDefinitionError(f"processus inconnu {process_id!r} (connus : {known})")
    path = Path(str(resources.files("labellisation") / "processes" / f"{process_id}.yaml"))
    stat = path.stat()
    return _load_unchanged(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_unchanged(path: Path, _mtime_ns: int, _size: int) -> ProcessDefinition:
    """Parsed once per version of the file (definitions are frozen): every project start reads one."""
    return load_definition_file(path)
