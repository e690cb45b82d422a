"""French reminder e-mails: content, headers, and delivery to a real SMTP server."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from aiosmtplib import SMTPException

from labellisation.mail.messages import Recipient, ReminderEmail
from labellisation.mail.render import render
from labellisation.mail.sender import SmtpSettings, build_message, send
from labellisation.path.reminders import Kind, Role
from tests.conftest import Mailbox, free_port


def reminder(kind: Kind = Kind.OVERDUE, **changes: object) -> ReminderEmail:
    base = ReminderEmail(
        reminder_id=f"edp-belfort:feasibility_study:{kind.value}:1",
        kind=kind,
        to=[Recipient(role=Role.HOLDER, email="porteur@edp-belfort.fr", name="Association EdP Belfort")],
        project_id="edp-belfort",
        school_name="École de Production de Belfort",
        city="Belfort",
        step_id="feasibility_study",
        step_label="Étude de faisabilité",
        stage_label="Étude de faisabilité",
        due_at=datetime(2026, 9, 15, 21, 59, 59, tzinfo=UTC),  # 23:59:59 in Paris
        days_overdue=14,
        days_waiting=12,
        review_on=date(2027, 5, 1),
        pause_reason="Attente du vote de la Région",
        project_url="https://suivi.fnep.fr/projects/edp-belfort",
    )
    return base.model_copy(update=changes)


def test_an_overdue_reminder_says_what_when_how_late_and_what_to_do() -> None:
    rendered = render(reminder())
    assert rendered.subject == "École de Production de Belfort — Étude de faisabilité : en retard de 14 jours"
    for part in (rendered.text, rendered.html):
        assert "Étude de faisabilité" in part
        assert "15 septembre 2026" in part
        assert "en retard de 14 jours" in part
        assert "déposer le dossier" in part
        assert "https://suivi.fnep.fr/projects/edp-belfort" in part


@pytest.mark.parametrize(
    ("kind", "subject_part", "body_part"),
    [
        (Kind.BEFORE_DUE, "échéance le 15 septembre 2026", "arrive à échéance le 15 septembre 2026"),
        (Kind.ESCALATION, "[Escalade]", "malgré les relances"),
        (Kind.PAUSE_ADVISED, "[Pause conseillée]", "mise en pause du projet est conseillée"),
        (Kind.REVIEW_PENDING, "en attente de décision depuis 12 jours", "approuver, de demander des modifications"),
        (Kind.REVIEW_ESCALATION, "décision attendue depuis 12 jours", "attend toujours une décision"),
        (Kind.CHANGES_PENDING, "modifications attendues depuis 12 jours", "aucun dossier n'a été soumis"),
        (Kind.PAUSE_REVIEW, "réexamen prévu le 1er mai 2027", "Attente du vote de la Région"),
    ],
)
def test_each_kind_has_its_own_french_wording(kind: Kind, subject_part: str, body_part: str) -> None:
    rendered = render(reminder(kind))
    assert subject_part in rendered.subject
    assert body_part in rendered.text
    assert body_part in rendered.html


def test_names_are_escaped_in_html_and_kept_in_text() -> None:
    rendered = render(reminder(school_name="<script>alert(1)</script> & Cie"))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Cie" in rendered.html
    assert "<script>alert(1)</script> & Cie" in rendered.text


def test_the_message_id_is_derived_from_the_reminder_id() -> None:
    email = reminder()
    one = build_message(email, render(email), "suivi@fnep.fr")
    again = build_message(email, render(email), "suivi@fnep.fr")
    other = build_message(reminder(reminder_id="autre"), render(email), "suivi@fnep.fr")
    assert one["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert str(one["Message-ID"]).endswith("@fnep.fr>")
    assert one["X-Labellisation-Reminder-Id"] == email.reminder_id


async def test_a_real_smtp_server_receives_the_french_message(mailbox: Mailbox) -> None:
    email = reminder()
    await send(build_message(email, render(email), "suivi@fnep.fr"), mailbox.settings.smtp())
    [received] = mailbox.messages()
    assert received["Subject"] == "École de Production de Belfort — Étude de faisabilité : en retard de 14 jours"
    assert "porteur@edp-belfort.fr" in received["To"]
    assert "suivi@fnep.fr" in received["From"]
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None and "en retard de 14 jours" in text.get_content()
    assert html is not None and "<a href=" in html.get_content()


async def test_sending_to_a_closed_port_raises() -> None:
    email = reminder()
    with pytest.raises((SMTPException, OSError)):
        await send(build_message(email, render(email), "suivi@fnep.fr"), SmtpSettings(port=free_port(), timeout=5))
