"""Rendering reminder e-mails from Jinja2 templates, in French, HTML and plain text."""

from __future__ import annotations

import html
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from labellisation.calendar import format_date_fr
from labellisation.mail.messages import ReminderEmail, RenderedEmail
from labellisation.path.reminders import Kind

SUBJECTS = {
    Kind.BEFORE_DUE: "{school} — {step} : échéance le {due}",
    Kind.OVERDUE: "{school} — {step} : en retard de {late}",
    Kind.ESCALATION: "[Escalade] {school} — {step} : en retard de {late}",
    Kind.PAUSE_ADVISED: "[Pause conseillée] {school} — {step} : en retard de {late}",
    Kind.REVIEW_PENDING: "{school} — {step} : dossier en attente de décision depuis {waiting}",
    Kind.REVIEW_ESCALATION: "[Escalade] {school} — {step} : décision attendue depuis {waiting}",
    Kind.CHANGES_PENDING: "{school} — {step} : modifications attendues depuis {waiting}",
    Kind.PAUSE_REVIEW: "{school} — projet en pause : réexamen prévu le {review_on}",
}


def days_fr(count: int) -> str:
    return "1 jour" if count == 1 else f"{count} jours"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("labellisation.mail", "templates"),
        # Escaping is decided per template, and the shared macros live in `_body.j2`: escape
        # everything, and turn the plain-text rendering back into text with html.unescape.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date_fr"] = format_date_fr
    env.filters["days_fr"] = days_fr
    return env


def render(email: ReminderEmail) -> RenderedEmail:
    context = {"m": email, "kind": email.kind.value}
    subject = SUBJECTS[email.kind].format(
        school=email.school_name,
        step=email.step_label or email.stage_label,
        due=format_date_fr(email.due_at) if email.due_at else "",
        late=days_fr(email.days_overdue),
        waiting=days_fr(email.days_waiting),
        review_on=format_date_fr(email.review_on) if email.review_on else "",
    )
    env = _environment()
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=html.unescape(env.get_template("reminder.txt.j2").render(context)),
        html=env.get_template("reminder.html.j2").render(context),
    )
