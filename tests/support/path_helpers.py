"""Builders for pure-model tests."""

from __future__ import annotations

from datetime import UTC, datetime

from labellisation.path.commands import DecideStep, SubmitStep
from labellisation.path.state import Document, Project
from labellisation.path.transitions import Refusal, apply, start_project
from labellisation.process import load_process
from tests.support.profiles import make_profile

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DOC = Document(title="Dossier", url="https://docs.example.org/dossier.pdf")


def new_project(process: str = "fnep", now: datetime = T0) -> Project:
    return start_project(make_profile("edp-belfort"), load_process(process), now, "coordination")


def ok(result: Project | Refusal) -> Project:
    assert isinstance(result, Project), result
    return result


def submit(project: Project, step: str, now: datetime = T0) -> Project:
    return ok(apply(project, SubmitStep(actor="porteur", step=step, documents=[DOC]), now))


def approve(project: Project, step: str, now: datetime = T0, decision_id: str | None = None) -> Project:
    command = DecideStep(actor="fnep", step=step, decision="approve", decision_id=decision_id)
    return ok(apply(project, command, now))


def pass_step(project: Project, step: str, now: datetime = T0) -> Project:
    return approve(submit(project, step, now), step, now)
