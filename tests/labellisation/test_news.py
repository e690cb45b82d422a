"""Which events people hear of, and what the news e-mail says (labellisation/path/news.py, mail/news.py)."""

from __future__ import annotations

from datetime import date, timedelta

from labellisation.mail.messages import Recipient, RecipientRole
from labellisation.mail.news import NewsEmail
from labellisation.mail.render import render_news
from labellisation.path.commands import (
    AbandonProject,
    ChangePlannedOpening,
    Command,
    DecideStep,
    MoveDeadline,
    PauseProject,
    ResumeProject,
)
from labellisation.path.news import SendNews, event_number, news_requests
from labellisation.path.reminders import Role
from labellisation.path.state import EventKind, Project
from labellisation.path.transitions import apply, mark_delivery_failed, mark_reminder_sent
from tests.support.path_helpers import T0, new_project, ok, submit

LATER = T0 + timedelta(days=3)


def since(before: Project, after: Project) -> list[SendNews]:
    """The news of what happened between two versions of a project."""
    batch = [e for e in after.events if event_number(e) >= before.next_event_number]
    return news_requests(after, batch)


def kinds(request: SendNews) -> list[EventKind]:
    return [item.kind for item in request.items]


def test_a_new_project_tells_its_holder_the_first_stage_and_its_deadlines() -> None:
    project = new_project()
    [welcome] = news_requests(project, project.events)
    assert (welcome.to, kinds(welcome)) == (Role.HOLDER, [EventKind.STAGE_STARTED])
    [item] = welcome.items
    assert item.stage_label == "Étude d'opportunité"
    assert [(s.label, s.due_at) for s in item.steps] == [("Étude d'opportunité", project.steps[0].due_at)]
    assert welcome.news_id == f"news:{project.events[1].event_id}:holder"


def test_a_submission_goes_to_the_reviewers_with_its_documents_and_comment() -> None:
    before = new_project()
    after = submit(before, "opportunity_study", LATER)
    [news] = since(before, after)
    assert (news.to, kinds(news)) == (Role.REVIEWERS, [EventKind.STEP_SUBMITTED])
    assert news.items[0].step_label == "Étude d'opportunité" and len(news.items[0].documents) == 1
    assert (news.region, news.department) == ("Bourgogne-Franche-Comté", "90")


def test_an_approval_that_starts_a_stage_is_one_email_to_the_holder() -> None:
    before = submit(new_project(), "opportunity_study")
    after = ok(apply(before, DecideStep(actor="r", step="opportunity_study", decision="approve"), LATER))
    [news] = since(before, after)
    assert (news.to, kinds(news)) == (Role.HOLDER, [EventKind.STEP_APPROVED, EventKind.STAGE_STARTED])
    assert news.items[1].stage_label == "Association porteuse"
    assert [s.label for s in news.items[1].steps] == ["Création de l'association porteuse"]


def test_changes_requested_carry_the_comment_and_the_new_deadline() -> None:
    before = submit(new_project(), "opportunity_study")
    command = DecideStep(actor="r", step="opportunity_study", decision="request_changes", comment="Budget ?")
    after = ok(apply(before, command, LATER))
    [news] = since(before, after)
    [item] = news.items
    assert (news.to, item.kind, item.comment) == (Role.HOLDER, EventKind.CHANGES_REQUESTED, "Budget ?")
    assert item.due_at == after.steps[0].due_at and item.due_at is not None and item.due_at > LATER


def test_project_changes_go_to_the_holder_and_the_coordinators() -> None:
    project = new_project()
    commands: list[Command] = [
        PauseProject(actor="c", reason="Vote de la Région", review_on=date(2026, 3, 1)),
        ResumeProject(actor="c"),
        MoveDeadline(actor="c", step="opportunity_study", due_on=date(2026, 12, 1), reason="Étude élargie"),
        ChangePlannedOpening(actor="c", planned_opening=date(2029, 9, 1), reason="Locaux en retard"),
        AbandonProject(actor="c", reason="Fin du financement"),
    ]
    told = []
    for command in commands:
        after = ok(apply(project, command, LATER))
        told += [(n.to, kinds(n)) for n in since(project, after)]
        project = after
    assert [k for to, k in told if to is Role.HOLDER] == [k for to, k in told if to is Role.COORDINATOR]
    assert [k[0] for to, k in told if to is Role.HOLDER] == [
        EventKind.PROJECT_PAUSED,
        EventKind.PROJECT_RESUMED,
        EventKind.DEADLINE_MOVED,
        EventKind.PLANNED_OPENING_CHANGED,
        EventKind.PROJECT_ABANDONED,
    ]


def test_a_reminder_sent_is_no_news() -> None:
    before = new_project()
    after = mark_reminder_sent(before, "r-1", "before_due", "opportunity_study", ["p@x.fr"], LATER)
    assert since(before, after) == []


def email(request: SendNews) -> NewsEmail:
    role = RecipientRole(request.to.value)
    return NewsEmail(
        reminder_id=request.news_id, to=[Recipient(role=role, email="lecteur@fnep.fr")],
        project_id=request.project_id, school_name=request.school_name, city=request.city, items=request.items,
        project_url="https://suivi.fnep.fr/projets/x",
    )  # fmt: skip


def test_the_email_says_each_item_in_french_with_its_dates() -> None:
    before = submit(new_project(), "opportunity_study")
    command = DecideStep(actor="r", step="opportunity_study", decision="request_changes", comment="Budget ?")
    after = ok(apply(before, command, LATER))
    [news] = since(before, after)
    rendered = render_news(email(news))
    assert rendered.subject == "École de Production de Belfort — Modifications demandées : Étude d'opportunité"
    assert "La FNEP demande des modifications sur « Étude d'opportunité » (8 janvier 2026) : « Budget ? »" in (
        rendered.text
    )
    assert "Déposez le dossier complété d'ici le " in rendered.text
    assert "<h2" in rendered.html and "Budget ?" in rendered.html


def test_a_refused_email_is_kept_once_and_told_to_the_coordinators_unless_it_was_theirs() -> None:
    before = new_project()
    refused = ["porteur@refuse.example"]
    after = mark_delivery_failed(before, "news:x:holder", "news", None, "holder", refused, "550 5.1.1 Inconnu", LATER)
    again = mark_delivery_failed(after, "news:x:holder", "news", None, "holder", refused, "550 5.1.1 Inconnu", LATER)
    assert again is after  # the same e-mail refused twice is one event
    assert "news:x:holder" in after.sent_reminders  # and it is never sent again
    [news] = since(before, after)
    assert (news.to, kinds(news)) == (Role.COORDINATOR, [EventKind.DELIVERY_FAILED])
    assert (news.items[0].refused, news.items[0].reason) == (refused, "550 5.1.1 Inconnu")
    rendered = render_news(email(news))
    assert rendered.subject.endswith("E-mail non distribué")
    assert "porteur@refuse.example" in rendered.text and "« 550 5.1.1 Inconnu »" in rendered.text
    # the same address refused again (another e-mail): kept, not told again
    later = mark_delivery_failed(after, "news:y:holder", "news", None, "holder", refused, "550 5.1.1 Inconnu", LATER)
    assert since(after, later) == [] and later.events[-1].data["first"] is False
    # the coordinators' own address refused: no news to them (it would be refused again, and again)
    theirs = mark_delivery_failed(before, "k2", "escalation", None, "coordinator", ["c@x.fr"], "550", LATER)
    assert since(before, theirs) == []
