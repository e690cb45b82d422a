"""Project profiles for tests of the model, the workflow and the records."""

from __future__ import annotations

import uuid
from datetime import date

from labellisation.path.state import ProjectProfile


def make_profile(project_id: str | None = None, planned_opening: date = date(2028, 9, 1)) -> ProjectProfile:
    return ProjectProfile(
        project_id=project_id or f"edp-{uuid.uuid4().hex[:10]}",
        name="École de Production de Belfort",
        region="Bourgogne-Franche-Comté",
        department="90",
        city="Belfort",
        academy="Besançon",
        trades=["Usinage", "Chaudronnerie"],
        diplomas=["CAP Conducteur d'installations de production"],
        capacity=12,
        holder={"name": "Association EdP Belfort", "email": "porteur@edp-belfort.fr"},
        planned_opening=planned_opening,
    )
