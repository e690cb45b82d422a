"""Projects walked at random in the pure model (seeded): the path analytics' test and benchmark data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from labellisation.path.commands import DecideStep, PauseProject, ResumeProject, SubmitStep
from labellisation.path.state import Document, Project
from labellisation.path.transitions import Refusal, apply, start_project
from labellisation.process import load_process
from tests.support.profiles import make_profile

PROCESS = load_process("fnep")
REGIONS = ["Occitanie", "Hauts-de-France", "Bretagne", "Grand Est", "Normandie", "Auvergne-Rhône-Alpes"]
DOC = Document(title="Dossier", url="https://docs.example.org/dossier.pdf")


def walked(index: int, rng: random.Random, events: int) -> Project:
    """One `fnep` project walked with random waits, requests for changes and pauses until it has `events` events
    (or its path ends)."""
    now = datetime(2024, 1, 8, 9, tzinfo=UTC) + timedelta(days=rng.randrange(3 * 365))
    profile = make_profile(f"edp-bench-{index:05d}").model_copy(update={"region": REGIONS[index % len(REGIONS)]})
    project = start_project(profile, PROCESS, now, "coordination")
    while len(project.events) < events:
        now += timedelta(days=rng.uniform(0.5, 40))
        command: Any
        roll = rng.random()
        if project.state.value == "paused":
            command = ResumeProject(actor="coordination")
        elif roll < 0.04:
            command = PauseProject(actor="coordination", reason="Attente", review_on=(now + timedelta(days=60)).date())
        else:
            current = next((s for s in project.steps if s.status.value in ("in_progress",
                            "changes_requested", "submitted")), None)  # fmt: skip
            if current is None:
                break
            if current.status.value == "submitted":
                decision = "request_changes" if roll < 0.3 else "approve"
                command = DecideStep(actor="fnep", step=current.id, decision=decision, comment="À reprendre")
            else:
                command = SubmitStep(actor="porteur", step=current.id, documents=[DOC])
        result = apply(project, command, now)
        if isinstance(result, Refusal):
            raise RuntimeError(f"{project.profile.project_id}: {result}")
        project = result
    return project
