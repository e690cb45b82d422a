"""The news e-mail (#17 item 1): what happened on a project, in French, one item per event.

The wording of each kind of event lives here, once, as plain sentences (`title`, `lines`); the template pair
`news.txt.j2` and `news.html.j2` lays them out (the HTML one escapes them), on the reminders' layout.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from labellisation.french_calendar import format_date_fr
from labellisation.mail.messages import ListingEmail
from labellisation.path.news import NewsItem
from labellisation.path.state import EventKind


class NewsEmail(ListingEmail):
    """Everything one news e-mail says, one item per event."""

    kind: Literal["news"] = "news"
    items: list[NewsItem] = Field(min_length=1)


def _quoted(text: str | None) -> str:
    return f"« {' '.join(text.split())} »" if text else ""


def title(item: NewsItem) -> str:
    """The item's heading, and the e-mail's subject when it is the only one."""
    step, stage = item.step_label or "étape", item.stage_label or "phase"
    titles = {
        EventKind.STEP_SUBMITTED: f"Dossier déposé : {step}",
        EventKind.STEP_APPROVED: f"Étape approuvée : {step}",
        EventKind.CHANGES_REQUESTED: f"Modifications demandées : {step}",
        EventKind.STEP_REJECTED: f"Étape rejetée : {step}",
        EventKind.STAGE_STARTED: f"Nouvelle phase : {stage}",
        EventKind.PROJECT_PAUSED: "Projet mis en pause",
        EventKind.PROJECT_RESUMED: "Le projet reprend",
        EventKind.PROJECT_ABANDONED: "Projet abandonné",
        EventKind.DEADLINE_MOVED: f"Échéance déplacée : {step}",
        EventKind.PLANNED_OPENING_CHANGED: "Date d'ouverture prévue modifiée",
        EventKind.DELIVERY_FAILED: "E-mail non distribué",
    }
    return titles.get(item.kind, item.kind.value)


def lines(item: NewsItem) -> list[str]:
    """The item's sentences, in order."""
    day = format_date_fr(item.at)
    due = format_date_fr(item.due_at) if item.due_at else None
    found: list[str]
    match item.kind:
        case EventKind.STEP_SUBMITTED:
            found = [f"Le porteur de projet a déposé le dossier « {item.step_label} » le {day}."]
            if item.documents:
                found.append("Documents déposés :")
                found += [f"- {d.title} : {d.url}" for d in item.documents]
            if item.comment:
                found.append(f"Commentaire du porteur : {_quoted(item.comment)}")
            found.append("La décision vous revient : approuver, demander des modifications ou rejeter.")
        case EventKind.STEP_APPROVED:
            found = [f"La FNEP a approuvé l'étape « {item.step_label} » le {day}."]
            if item.comment:
                found.append(f"Commentaire des relecteurs : {_quoted(item.comment)}")
        case EventKind.CHANGES_REQUESTED:
            found = [f"La FNEP demande des modifications sur « {item.step_label} » ({day}) : {_quoted(item.comment)}"]
            if due:
                found.append(f"Déposez le dossier complété d'ici le {due}.")
        case EventKind.STEP_REJECTED:
            found = [f"La FNEP a rejeté l'étape « {item.step_label} » le {day} : {_quoted(item.comment)}"]
            found.append("Le projet s'arrête là ; votre interlocuteur à la FNEP peut vous en expliquer les raisons.")
        case EventKind.STAGE_STARTED:
            found = [f"Le projet entre dans la phase « {item.stage_label} » le {day}. Ce qui est attendu\u00a0:"]
            found += [
                f"- {s.label} : échéance le {format_date_fr(s.due_at)}" if s.due_at else f"- {s.label}"
                for s in item.steps
            ]
        case EventKind.PROJECT_PAUSED:
            found = [f"Le projet est mis en pause le {day} : {_quoted(item.comment)}"]
            if item.review_on:
                found.append(f"Réexamen prévu le {format_date_fr(item.review_on)}. Les échéances sont suspendues.")
        case EventKind.PROJECT_RESUMED:
            found = [f"Le projet a repris le {day} ; ses échéances courent de nouveau."]
        case EventKind.PROJECT_ABANDONED:
            found = [f"Le projet est abandonné le {day} : {_quoted(item.comment)}"]
        case EventKind.DEADLINE_MOVED:
            found = [f"La nouvelle échéance de « {item.step_label} » est le {due}."]
            if item.comment:
                found.append(f"Motif : {_quoted(item.comment)}")
        case EventKind.PLANNED_OPENING_CHANGED:
            opening = format_date_fr(item.planned_opening) if item.planned_opening else "—"
            found = [f"L'ouverture de l'école est désormais prévue le {opening}."]
            found.append("Les échéances qui en dépendent suivent cette date.")
            if item.comment:
                found.append(f"Motif : {_quoted(item.comment)}")
        case EventKind.DELIVERY_FAILED:
            found = [f"Le serveur de messagerie a refusé le {day} un e-mail du suivi adressé à :"]
            found += [f"- {address}" for address in item.refused]
            found.append(f"Sa réponse : « {item.reason} ».")
            found.append("Vérifiez l'adresse avec la personne ; les autres e-mails du projet continuent.")
        case _:
            found = []
    return found


def is_bullet(line: str) -> bool:
    """A line of a list (documents, a stage's steps): `- ` first."""
    return line.startswith("- ")


def subject(email: NewsEmail) -> str:
    if len(email.items) == 1:
        return f"{email.school_name} — {title(email.items[0])}"
    return f"{email.school_name} — {len(email.items)} nouvelles du projet"
