"""`labellisation projects show`: the reminders to come and the calendar, in French, at 80 columns."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from labellisation import cli_render
from labellisation.path.clocks import FAIR_CLOCKS
from labellisation.path.commands import DecideStep, MoveDeadline
from labellisation.path.state import Project
from labellisation.path.status import project_status
from labellisation.path.transitions import apply, start_project
from labellisation.process import load_process
from tests.support.path_helpers import ok, pass_step, submit
from tests.support.profiles import make_profile

PARIS = ZoneInfo("Europe/Paris")


def fair_project(department: str = "90") -> Project:
    start = datetime(2027, 1, 4, 10, 0, tzinfo=PARIS)
    profile = make_profile("edp-belfort").model_copy(update={"department": department})
    return start_project(profile, load_process("fnep"), start, "coordination", clock_rules=FAIR_CLOCKS)


def shown(department: str = "90") -> str:
    """The issue's second example: due 16 July 2027, submitted 12 July, sent back 20 August (fair clocks)."""
    start = datetime(2027, 1, 4, 10, 0, tzinfo=PARIS)
    move = MoveDeadline(actor="c", step="opportunity_study", due_on=date(2027, 7, 16), reason="Calendrier")
    project = ok(apply(fair_project(department), move, start))
    project = submit(project, "opportunity_study", datetime(2027, 7, 12, 10, tzinfo=PARIS))
    changes = DecideStep(actor="fnep", step="opportunity_study", decision="request_changes", comment="À compléter")
    now = datetime(2027, 8, 20, 15, 0, tzinfo=PARIS)
    return rendered(ok(apply(project, changes, now)), now)


def rendered(project: Project, now: datetime) -> str:
    return rendered_status(project_status(project, now).model_dump(mode="json"))


def rendered_status(status: dict[str, object]) -> str:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    original, cli_render.out = cli_render.out, console
    try:
        cli_render.render_status(status)
    finally:
        cli_render.out = original
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


def test_projects_show_lists_the_reminders_to_come_in_french() -> None:
    output = shown()
    upcoming = output[output.index("Rappels à venir") :].splitlines()
    # The soonest three of the four series (--json gives them all), each on one line, the step's label cut.
    assert upcoming == [
        "Rappels à venir (3 sur 4, tous avec --json) :",
        "  • 27 août 2027 : rappel avant échéance, au porteur de projet — Étude d'opport…",
        "  • 6 septembre 2027 : relance pour retard, au porteur de projet — Étude d'oppo…",
        "  • 24 septembre 2027 : escalade à la coordination, à la coordination — Étude d…",
    ]
    assert "Calendrier" not in output  # the national calendar goes without saying
    assert max(len(line) for line in output.splitlines()) <= 80
    ids = ["before_due", "overdue", "escalation", "pause_advised", "holder", "coordinator", "opportunity_study"]
    assert [word for word in ids if word in output] == []


@pytest.mark.parametrize("department", ["67", "57"])
def test_an_alsace_moselle_project_shows_its_calendar(department: str) -> None:
    assert shown(department).splitlines()[-1] == "Calendrier : Alsace-Moselle (Vendredi saint et 26 décembre chômés)"


def test_in_the_implementation_three_of_thirty_reminders_with_their_steps() -> None:
    project, now = fair_project(), datetime(2027, 2, 1, 10, 0, tzinfo=PARIS)
    for step_id in ("opportunity_study", "association", "feasibility_study", "pre_labellisation"):
        project = pass_step(project, step_id, now)  # the six parallel steps of the implementation start
    output = rendered(project, now)
    # Funding (6 months: the end of 1 August 2027) is the first due: 30 days before is Friday 2 July,
    # 7 days before Sunday 25 July, so Friday 23 July; late from Monday 2 August.
    assert output.splitlines()[-4:] == [
        "Rappels à venir (3 sur 30, tous avec --json) :",
        "  • 2 juillet 2027 : rappel avant échéance, au porteur de projet — Financements",
        "  • 23 juillet 2027 : rappel avant échéance, au porteur de projet — Financements",
        "  • 2 août 2027 : relance pour retard, au porteur de projet — Financements",
    ]
    assert len(project_status(project, now).upcoming_reminders) == 30


def test_a_status_rebuilt_from_the_records_says_so() -> None:
    now = datetime(2027, 1, 4, 10, 0, tzinfo=PARIS)
    project = fair_project()
    status = project_status(project, now).model_copy(update={"source": "records"}).model_dump(mode="json")
    line = "Reconstitué des archives : le workflow n'existe plus, aucun rappel à venir."
    assert line in rendered_status(status).splitlines()
    assert "Reconstitué" not in rendered(project, now)  # a status from the workflow says nothing of the kind
