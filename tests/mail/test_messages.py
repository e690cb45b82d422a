"""The reminder e-mail model: the kinds of DOMAIN.md, and requests that cannot be rendered refused early."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from labellisation.mail.messages import RECIPIENT_ROLE, RecipientRole, ReminderEmail, ReminderKind
from labellisation.mail.render import render
from labellisation.path.reminders import ROLE_OF, Kind, Role
from tests.support.mail_helpers import reminder


def test_the_kinds_are_exactly_those_of_the_domain() -> None:
    assert [kind.value for kind in ReminderKind] == [
        "before_due",
        "overdue",
        "escalation",
        "pause_advised",
        "review_pending",
        "review_escalation",
        "changes_pending",
        "pause_review",
    ]
    assert {role.value for role in RecipientRole} == {"holder", "reviewers", "coordinator"}


def test_the_path_model_uses_the_same_names() -> None:
    # Two enums until the path model imports these ones: they must not drift apart.
    assert {k.value for k in Kind} == {k.value for k in ReminderKind}
    assert {r.value for r in Role} == {r.value for r in RecipientRole}
    assert {k.value: r.value for k, r in ROLE_OF.items()} == {k.value: r.value for k, r in RECIPIENT_ROLE.items()}
    fields = reminder().model_dump() | {"kind": Kind.OVERDUE, "to": [{"role": Role.HOLDER, "email": "a@b.fr"}]}
    email = ReminderEmail.model_validate(fields)
    assert email.kind is ReminderKind.OVERDUE
    assert email.to[0].role is RecipientRole.HOLDER


@pytest.mark.parametrize(
    ("changes", "loc", "error_type", "message"),
    [
        ({"due_at": None}, (), "value_error", "Value error, un rappel overdue a besoin de due_at"),
        ({"step_label": None}, (), "value_error", "Value error, un rappel overdue a besoin de step_label"),
        (
            {"kind": ReminderKind.PAUSE_REVIEW, "review_on": None},
            (),
            "value_error",
            "Value error, un rappel pause_review a besoin de review_on",
        ),
        ({"to": []}, ("to",), "too_short", "List should have at least 1 item after validation, not 0"),
        (
            {"project_url": "javascript:alert(1)"},
            ("project_url",),
            "string_pattern_mismatch",
            "String should match pattern '^https?://\\S+$'",
        ),
        ({"days_overdue": -1}, ("days_overdue",), "greater_than_equal", "Input should be greater than or equal to 0"),
        (
            {"to": [{"role": "holder", "email": "a@b.fr\r\nBcc: x@y.fr"}]},
            ("to", 0, "email"),
            "string_pattern_mismatch",
            "String should match pattern '^[^@\\s<>,;]+@[^@\\s<>,;]+$'",
        ),
        (
            {"to": [{"role": "partner", "email": "a@b.fr"}]},
            ("to", 0, "role"),
            "enum",
            "Input should be 'holder', 'reviewers' or 'coordinator'",
        ),
    ],
    ids=[
        "due_at",
        "step_label",
        "review_on",
        "no_recipient",
        "project_url",
        "days_overdue",
        "header_injection",
        "role",
    ],
)
def test_a_reminder_that_cannot_be_written_is_refused(
    changes: dict[str, Any], loc: tuple[str | int, ...], error_type: str, message: str
) -> None:
    """Exactly one error each: the field (or, for the kind's rules, the whole model), its type, its sentence."""
    with pytest.raises(ValidationError) as refused:
        reminder(**changes)
    assert [(e["loc"], e["type"], e["msg"]) for e in refused.value.errors()] == [(loc, error_type, message)]


def test_a_pause_review_needs_no_step() -> None:
    """Accepted without step, due date or lateness, and written about the pause alone."""
    email = reminder(ReminderKind.PAUSE_REVIEW, step_id=None, step_label=None, due_at=None, days_overdue=0)
    rendered = render(email)
    assert rendered.subject == "École de Production de Belfort — projet en pause : réexamen prévu le 1er mai 2027"
    assert "« Attente du vote de la Région »" in rendered.text
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "None" not in part
        assert "Étude de faisabilité" not in part  # nothing about a step


def test_a_review_reminder_needs_no_due_date() -> None:
    """Accepted without a due date, and written from the waiting time instead."""
    email = reminder(ReminderKind.REVIEW_PENDING, due_at=None)
    rendered = render(email)
    assert rendered.subject == (
        "École de Production de Belfort — Étude de faisabilité : dossier en attente de décision depuis 12 jours"
    )
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "None" not in part
        assert "échéance" not in part and "15 septembre 2026" not in part  # no due date invented
