"""The reminder e-mail model: the kinds of DOMAIN.md, and requests that cannot be rendered refused early."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from labellisation.mail.messages import RECIPIENT_ROLE, RecipientRole, ReminderEmail, ReminderKind
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
    ("changes", "error"),
    [
        ({"due_at": None}, "due_at"),
        ({"step_label": None}, "step_label"),
        ({"kind": ReminderKind.PAUSE_REVIEW, "review_on": None}, "review_on"),
        ({"to": []}, "to"),
        ({"project_url": "javascript:alert(1)"}, "project_url"),
        ({"days_overdue": -1}, "days_overdue"),
        ({"to": [{"role": "holder", "email": "a@b.fr\r\nBcc: x@y.fr"}]}, "email"),
        ({"to": [{"role": "partner", "email": "a@b.fr"}]}, "role"),
    ],
)
def test_a_reminder_that_cannot_be_written_is_refused(changes: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        reminder(**changes)


def test_a_pause_review_needs_no_step() -> None:
    email = reminder(ReminderKind.PAUSE_REVIEW, step_id=None, step_label=None, due_at=None, days_overdue=0)
    assert email.review_on is not None


def test_a_review_reminder_needs_no_due_date() -> None:
    assert reminder(ReminderKind.REVIEW_PENDING, due_at=None).due_at is None
