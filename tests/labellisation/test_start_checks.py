"""A project cannot start with an opening already past, or so near that its opening declaration is late.

Dates counted by hand: the `fnep` opening declaration is due three months before the planned opening,
at the end of that day in Paris; `demo` anchors it three minutes before the end of the opening day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from labellisation.path.transitions import RefusalCode, refuse_start
from labellisation.process import load_process
from tests.support.profiles import make_profile

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 2 December 2026, 10:00 in Paris


def test_a_planned_opening_in_the_past_is_refused_naming_the_field_and_the_date() -> None:
    refusal = refuse_start(make_profile(planned_opening=date(2020, 9, 1)), load_process("fnep"), NOW)
    assert refusal is not None
    assert refusal.code is RefusalCode.INVALID
    assert refusal.message == "planned_opening : l'ouverture prévue (1er septembre 2020) est passée"


def test_an_opening_whose_declaration_date_is_past_is_refused() -> None:
    # Opening 1 March 2027: the declaration was due 1 December 2026, yesterday.
    refusal = refuse_start(make_profile(planned_opening=date(2027, 3, 1)), load_process("fnep"), NOW)
    assert refusal is not None
    assert refusal.message.startswith("planned_opening : avec une ouverture le 1er mars 2027, l'étape « Déclaration")
    assert "1er décembre 2026" in refusal.message


def test_an_opening_whose_declaration_is_due_today_still_starts() -> None:
    # Opening 2 March 2027: declaration due 2 December 2026 at 23:59:59 in Paris, later today.
    assert refuse_start(make_profile(planned_opening=date(2027, 3, 2)), load_process("fnep"), NOW) is None


def test_a_far_opening_starts() -> None:
    assert refuse_start(make_profile(planned_opening=date(2028, 9, 1)), load_process("fnep"), NOW) is None


def test_in_demo_an_opening_today_starts_and_yesterday_is_refused() -> None:
    demo = load_process("demo")
    assert refuse_start(make_profile(planned_opening=date(2026, 12, 2)), demo, NOW) is None
    assert refuse_start(make_profile(planned_opening=date(2026, 12, 1)), demo, NOW) is not None


def test_a_deadline_moved_beyond_twenty_years_is_refused_instead_of_overflowing_the_reminders() -> None:
    from labellisation.path.commands import MoveDeadline
    from labellisation.path.transitions import Refusal, apply, start_project

    project = start_project(make_profile(planned_opening=date(2028, 9, 1)), load_process("fnep"), NOW, "c")
    far = MoveDeadline(actor="c", step="opportunity_study", due_on=date(9999, 12, 31), reason="plus tard")
    refused = apply(project, far, NOW)
    assert isinstance(refused, Refusal) and refused.code is RefusalCode.INVALID
    assert refused.message == "due_on : la nouvelle échéance (9999-12-31) est à plus de 20 ans"
    near = MoveDeadline(actor="c", step="opportunity_study", due_on=date(2030, 1, 31), reason="plus tard")
    assert not isinstance(apply(project, near, NOW), Refusal)
