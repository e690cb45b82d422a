"""Reminder e-mails in French: what, when, how late, what to do, where; escaped in HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib import resources

import pytest
from pydantic import ValidationError

from labellisation.mail.messages import ReminderDigest, ReminderKind
from labellisation.mail.render import render, render_reminders, template_names
from labellisation.path.news import NewsItem
from labellisation.path.state import EventKind
from tests.support.mail_helpers import PROJECT_URL, reminder

SCHOOL = "École de Production de Belfort"
STEP = "Étude de faisabilité"


def test_an_overdue_reminder_says_what_when_how_late_and_what_to_do() -> None:
    rendered = render(reminder())
    assert rendered.subject == f"{SCHOOL} — {STEP} : en retard de 14 jours"
    for part in (rendered.text, rendered.html):
        assert "Bonjour," in part
        assert SCHOOL in part
        assert f"« {STEP}" in part or f"« <strong>{STEP}</strong>" in part
        assert "devait être remise le 15 septembre 2026" in part
        assert "en retard de 14 jours" in part
        assert "Merci de déposer le dossier de cette étape" in part
        assert PROJECT_URL in part
    assert f'<a href="{PROJECT_URL}"' in rendered.html


# (kind, in the subject, in both bodies, what to do)
WORDING = [
    (
        ReminderKind.BEFORE_DUE,
        f"{SCHOOL} — {STEP} : échéance le 15 septembre 2026",
        "arrive à échéance le",
        "Merci de déposer le dossier de cette étape",
    ),
    (
        ReminderKind.OVERDUE,
        f"{SCHOOL} — {STEP} : en retard de 14 jours",
        "devait être remise le",
        "Merci de déposer le dossier de cette étape dès que possible",
    ),
    (
        ReminderKind.ESCALATION,
        f"[Escalade] {SCHOOL} — {STEP} : en retard de 14 jours",
        "Le porteur de projet a déjà été relancé",
        "prendre contact avec le porteur de projet",
    ),
    (
        ReminderKind.PAUSE_ADVISED,
        f"[Pause conseillée] {SCHOOL} — {STEP} : en retard de 14 jours",
        "une mise en pause du projet est conseillée",
        "mise en pause du projet (avec une date de réexamen), nouvelle échéance",
    ),
    (
        ReminderKind.REVIEW_PENDING,
        f"{SCHOOL} — {STEP} : dossier en attente de décision depuis 12 jours",
        "a été déposé il y a",
        "de l'approuver, de demander des modifications ou de le rejeter",
    ),
    (
        ReminderKind.REVIEW_ESCALATION,
        f"[Escalade] {SCHOOL} — {STEP} : décision attendue depuis 12 jours",
        "malgré la relance adressée aux relecteurs",
        "qu'un relecteur se saisit de ce dossier",
    ),
    (
        ReminderKind.CHANGES_PENDING,
        f"{SCHOOL} — {STEP} : modifications attendues depuis 12 jours",
        "aucun nouveau dossier n'a été déposé depuis",
        "Merci de déposer le dossier complété",
    ),
    (
        ReminderKind.PAUSE_REVIEW,
        f"{SCHOOL} — projet en pause : réexamen prévu le 1er mai 2027",
        "pour le motif suivant : « Attente du vote de la Région »",
        "reprise du projet, prolongation de la pause ou abandon",
    ),
]


def test_the_wording_covers_every_kind() -> None:
    assert sorted(kind for kind, *_ in WORDING) == sorted(ReminderKind)


@pytest.mark.parametrize(("kind", "subject", "fact", "todo"), WORDING)
def test_each_kind_has_its_own_french_wording(kind: ReminderKind, subject: str, fact: str, todo: str) -> None:
    rendered = render(reminder(kind))
    assert rendered.subject == subject
    for part in (rendered.text, rendered.html):
        assert SCHOOL in part
        assert fact in part
        assert todo in part
        assert PROJECT_URL in part


@pytest.mark.parametrize("kind", list(ReminderKind))
def test_each_kind_has_a_template_pair(kind: ReminderKind) -> None:
    folder = resources.files("labellisation.mail") / "templates"
    for name in template_names(kind):
        assert (folder / name).is_file(), name


@pytest.mark.parametrize(
    ("kind", "late"),
    [
        (ReminderKind.OVERDUE, "en retard de 14 jours"),
        (ReminderKind.ESCALATION, "en retard de 14 jours"),
        (ReminderKind.PAUSE_ADVISED, "en retard de 14 jours"),
        (ReminderKind.REVIEW_PENDING, "il y a 12 jours"),
        (ReminderKind.REVIEW_ESCALATION, "depuis 12 jours"),
        (ReminderKind.CHANGES_PENDING, "il y a 12 jours"),
    ],
)
def test_how_late_or_how_long_it_has_waited(kind: ReminderKind, late: str) -> None:
    rendered = render(reminder(kind))
    assert late in rendered.text
    assert late in rendered.html.replace("<strong>", "").replace("</strong>", "")


def test_deadline_kinds_give_the_due_date_in_paris_time() -> None:
    # 21:59:59 UTC is 23:59:59 in Paris: still 15 September; 22:30 UTC is already the 16th.
    for kind in (ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE, ReminderKind.ESCALATION, ReminderKind.PAUSE_ADVISED):
        assert "15 septembre 2026" in render(reminder(kind)).text
    later = reminder(ReminderKind.BEFORE_DUE, due_at=datetime(2026, 9, 15, 22, 30, tzinfo=UTC))
    assert "16 septembre 2026" in render(later).subject


def test_one_day_is_said_in_words() -> None:
    assert render(reminder(days_overdue=1)).subject.endswith("en retard d'un jour")
    assert "depuis un jour" in render(reminder(ReminderKind.REVIEW_ESCALATION, days_waiting=1)).subject


def test_the_stage_is_named_when_it_differs_from_the_step() -> None:
    rendered = render(reminder(step_label="Locaux et travaux", stage_label="Mise en œuvre"))
    assert "Étape : Locaux et travaux (phase « Mise en œuvre »)" in rendered.text
    assert "Mise en œuvre" in rendered.html
    assert "phase" not in render(reminder()).text  # same label: said once


def test_a_paused_project_reminder_without_step_or_reason() -> None:
    rendered = render(
        reminder(ReminderKind.PAUSE_REVIEW, step_id=None, step_label=None, due_at=None, pause_reason=None)
    )
    assert rendered.subject == f"{SCHOOL} — projet en pause : réexamen prévu le 1er mai 2027"
    expected = f"Le projet {SCHOOL} (Belfort) est en pause. Sa date de réexamen était fixée au 1er mai 2027 : il attend"
    assert expected in rendered.text
    assert "Étape" not in rendered.text
    assert "motif" not in rendered.html


def test_the_plain_text_is_plain() -> None:
    text = render(reminder()).text
    assert "<" not in text and "&lt;" not in text and "&#" not in text
    assert "\n\n\n" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.splitlines())


HOSTILE = '<script>alert("x")</script> & Cie'


@pytest.mark.parametrize("field", ["school_name", "city", "step_label", "stage_label", "pause_reason"])
def test_user_text_is_escaped_in_html_and_kept_in_text(field: str) -> None:
    kind = ReminderKind.PAUSE_REVIEW if field == "pause_reason" else ReminderKind.OVERDUE
    rendered = render(reminder(kind, **{field: HOSTILE}))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Cie" in rendered.html
    assert HOSTILE in rendered.text


def test_a_hostile_school_name_cannot_break_the_subject_line() -> None:
    rendered = render(reminder(school_name="EdP\r\nBcc: tous@example.org"))
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.subject.startswith("EdP Bcc: tous@example.org — ")


class _TagBalance(HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.extend(value or "" for name, value in attrs if name == "href")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"unbalanced </{tag}>"


@pytest.mark.parametrize("kind", list(ReminderKind))
def test_the_html_is_well_formed_and_links_to_the_project(kind: ReminderKind) -> None:
    rendered = render(reminder(kind))
    parser = _TagBalance()
    parser.feed(rendered.html)
    parser.close()
    assert parser.open == []
    assert set(parser.links) == {PROJECT_URL}
    assert '<html lang="fr">' in rendered.html
    assert f"<title>{rendered.subject}</title>" in rendered.html


def test_a_reminder_and_news_for_the_same_reader_read_as_one_email_listing_both() -> None:
    """#17 item 3: the reminder's sentence, then the news item (its title and sentences, escaped in HTML)."""
    one = reminder(ReminderKind.OVERDUE)
    item = NewsItem(
        event_id="edp-belfort-000042",
        kind=EventKind.DEADLINE_MOVED,
        at=datetime(2026, 9, 30, 19, 0, tzinfo=UTC),
        step_label="Équipements",
        comment=HOSTILE,
        due_at=datetime(2026, 11, 2, 22, 59, 59, tzinfo=UTC),
    )
    digest = ReminderDigest(
        reminder_id=f"reminders:{one.reminder_id}",
        to=one.to,
        project_id=one.project_id,
        school_name=SCHOOL,
        city="Belfort",
        reminders=[one],
        news=[item],
        news_id="news:edp-belfort-000042:holder",
        project_url=PROJECT_URL,
    )
    rendered = render_reminders(digest)
    assert rendered.subject == f"{SCHOOL} — 1 rappel et 1 nouvelle"
    assert "1 rappel et 1 nouvelle concernent le projet" in rendered.text
    assert f"1. {STEP} : en retard de 14 jours" in rendered.text, rendered.text
    assert "2. Échéance déplacée : Équipements" in rendered.text
    assert "2 novembre 2026" in rendered.text and HOSTILE in rendered.text
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert PROJECT_URL in rendered.html


def test_a_listing_needs_two_items() -> None:
    one = reminder(ReminderKind.OVERDUE)
    with pytest.raises(ValidationError, match="au moins deux"):
        ReminderDigest(
            reminder_id="x", to=one.to, project_id="p", school_name=SCHOOL, city="B", reminders=[one],
            project_url=PROJECT_URL,
        )  # fmt: skip
