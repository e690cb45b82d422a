"""What the command line prints for people: French tables that stay readable at 80 columns.

Every word comes from the catalogue (labellisation/catalogue.py); ids appear only with `--json`. Text that
people typed (names, comments) is printed as text, never read as Rich markup, its control characters written
out (`for_terminal`, labellisation/text_safety.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from labellisation.catalogue import (
    ADDRESSEE_LABELS,
    EVENT_LABELS,
    REMINDER_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    days,
    format_moment,
    stage_label,
    step_label,
)
from labellisation.french_calendar import format_date_fr
from labellisation.path.reminders import Kind as ReminderKind
from labellisation.path.reminders import Role as RecipientRole
from labellisation.path.state import EventKind, ProjectState, StepStatus
from labellisation.process import ProcessDefinition, load_process, shipped_process_ids
from labellisation.regions import region_name
from labellisation.text_safety import for_terminal

out = Console()
#: Below this width the status table drops its start, submission and decision dates (shown with --json).
WIDE = 110


def show(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        render(data)


@lru_cache(maxsize=8)
def _process(process_id: str) -> ProcessDefinition | None:
    """The shipped definition, for labels (a project's own snapshot has the same ids)."""
    return load_process(process_id) if process_id in shipped_process_ids() else None


def _step(process_id: str, step_id: str) -> str:
    process = _process(process_id)
    return step_label(process, step_id) if process else step_id


def _stage(process_id: str, stage_id: str) -> str:
    process = _process(process_id)
    return stage_label(process, stage_id) if process else stage_id


def _in_any_process(label: Callable[[str, str], str], id_: str) -> str:
    """A stage's or step's label from whichever shipped process knows it (reports mix processes)."""
    for process_id in shipped_process_ids():
        found = label(process_id, id_)
        if found != id_:
            return found
    return id_


def _any_stage(stage_id: str) -> str:
    return _in_any_process(_stage, stage_id)


def _any_step(step_id: str) -> str:
    return _in_any_process(_step, step_id)


def _moment(value: str | None, process_id: str) -> str:
    """A due date or an event time: with its time when near, or always in `demo`."""
    if not value:
        return "—"
    return format_moment(datetime.fromisoformat(value), datetime.now(UTC), process_id)


def _day(value: str | None) -> str:
    if not value:
        return "—"
    return format_date_fr(datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value))


def _late(count: int) -> str:
    return f"[red]{days(count)}[/red]" if count else ""


def render_status(status: dict[str, Any]) -> None:
    process = status["process"]
    state = STATE_LABELS[ProjectState(status["state"])]
    stage = for_terminal(status["current_stage_label"])
    out.print(f"[bold]{for_terminal(status['name'])}[/bold] ({status['project_id']}) — {state}, phase : {stage}")
    if status.get("source") == "records":
        out.print("Reconstitué des archives : le workflow n'existe plus, aucun rappel à venir.")
    if status.get("pause"):
        pause = status["pause"]
        out.print(f"En pause depuis le {_day(pause['since'])} : {for_terminal(pause['reason'])} "
                  f"(réexamen le {_day(pause['review_on'])})")  # fmt: skip
    wide = out.width >= WIDE
    columns = ["étape", "statut", "début", "échéance", "soumise", "décidée", "retard"] if wide else [
        "étape", "statut", "échéance", "retard"]  # fmt: skip
    table = Table(*columns)
    for step in status["steps"]:
        label, shown = for_terminal(step["label"]), STATUS_LABELS[StepStatus(step["status"])]
        due, late = _moment(step["due_at"], process), _late(step["days_overdue"])
        if wide:
            table.add_row(label, shown, _day(step["started_at"]), due, _day(step["submitted_at"]),
                          _day(step["decided_at"]), late)  # fmt: skip
        else:
            table.add_row(label, shown, due, late)
    out.print(table)
    reminder = status.get("next_reminder")
    if reminder:
        kind = REMINDER_LABELS[ReminderKind(reminder["kind"])]
        to = ADDRESSEE_LABELS[RecipientRole(reminder["to"])]
        out.print(f"Prochain rappel : {kind}, {to}, le {_moment(reminder['at'], process)}")
    _render_upcoming(status.get("upcoming_reminders") or [], process)
    if status.get("calendar") in CALENDAR_LABELS:
        out.print(f"Calendrier : {CALENDAR_LABELS[status['calendar']]}")


#: The calendars worth a line under the status: the national one goes without saying.
CALENDAR_LABELS = {
    "fr_working_days_alsace_moselle": "Alsace-Moselle (Vendredi saint et 26 décembre chômés)",
}
#: How many upcoming reminders `projects show` lists, one line each (every one is in --json).
UPCOMING_SHOWN = 3


def _render_upcoming(upcoming: list[dict[str, Any]], process: str) -> None:
    """« Rappels à venir »: the soonest of every series' next reminder, one line each, its step's label cut to fit."""
    if not upcoming:
        return
    shown = upcoming[:UPCOMING_SHOWN]
    count = f" ({len(shown)} sur {len(upcoming)}, tous avec --json)" if len(upcoming) > len(shown) else ""
    out.print(f"Rappels à venir{count} :")
    for reminder in shown:
        kind = REMINDER_LABELS[ReminderKind(reminder["kind"])]
        to = ADDRESSEE_LABELS[RecipientRole(reminder["to"])]
        line = f"  • {_moment(reminder['at'], process)} : {kind}, {to}"
        room = out.width - len(line) - 3
        if reminder.get("step") and room >= 8:  # the step's label, cut to stay on one line
            label = _step(process, reminder["step"])
            line += " — " + (label if len(label) <= room else label[: room - 1].rstrip() + "…")
        out.print(for_terminal(line))


def render_portfolio(items: list[dict[str, Any]]) -> None:
    table = Table("projet", "nom", "région", "état", "phase", "échéance")
    for item in items:
        due = _moment(item["next_due_at"], item["process"])
        table.add_row(item["project_id"], for_terminal(item["name"]), for_terminal(region_name(item["region"])),
                      STATE_LABELS[ProjectState(item["state"])], _stage(item["process"], item["current_stage"]),
                      f"[red]{due}[/red]" if item["overdue"] else due)  # fmt: skip
    out.print(table)


def _event(event: dict[str, Any]) -> str:
    """The event in words: "phase commencée : Étude de faisabilité", "rappel envoyé : relance pour retard"."""
    kind = EventKind(event["kind"])
    words = EVENT_LABELS[kind]
    data = event.get("data") or {}
    if kind is EventKind.STAGE_STARTED or kind is EventKind.STAGE_COMPLETED:
        return f"{words} : {_any_stage(str(data.get('stage', '')))}" if data.get("stage") else words
    if kind is EventKind.REMINDER_SENT and data.get("kind") in set(ReminderKind):
        return f"{words} : {REMINDER_LABELS[ReminderKind(data['kind'])]}"
    return words


def render_history(events: list[dict[str, Any]]) -> None:
    started = next((e for e in events if e["kind"] == EventKind.PROJECT_STARTED.value), None)
    process = str((started or {}).get("data", {}).get("process", "fnep"))
    table = Table("date", "événement", "étape", "acteur", "commentaire")
    for event in events:
        step = _step(process, event["step"]) if event["step"] else ""
        table.add_row(_moment(event["at"], process), _event(event), for_terminal(step),
                      for_terminal(event["actor"] or ""), for_terminal(event["comment"] or ""))  # fmt: skip
    out.print(table)


def render_report(report: dict[str, Any]) -> None:
    out.print(f"[bold]{report['projects']} projets[/bold]")
    by_state = {STATE_LABELS[ProjectState(k)]: v for k, v in report["by_state"].items()}
    by_stage = {_any_stage(k): v for k, v in report["by_stage"].items()}
    by_region = {for_terminal(region_name(k)): v for k, v in report["by_region"].items()}
    for title, counts in (("par phase", by_stage), ("par région", by_region), ("par état", by_state)):
        out.print(f"{title} : " + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
    for step_id, median in sorted(report.get("median_days_per_step", {}).items()):
        out.print(f"durée médiane, {_any_step(step_id)} : {days(round(median))}")
    for item in report["overdue"]:
        stage = _any_stage(item["current_stage"])
        out.print(f"[red]en retard[/red] {for_terminal(item['name'])} ({stage}) : {days(item['days_overdue'])}")


def _number(value: float | None, decimals: int = 1) -> str:
    """A French decimal (« 3,0 »), or « — » without a figure."""
    return "—" if value is None else f"{value:.{decimals}f}".replace(".", ",")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def render_path_report(report: dict[str, Any]) -> None:
    """`report path`: one row per step (medians; from WIDE columns the 90th percentiles and the 20-day delay too),
    the three slowest steps, the funnel per stage. Headers are short, the title says the units."""
    count = report["projects"]
    out.print(f"[bold]{count} projet{'s' if count > 1 else ''}[/bold] dans les chiffres")  # « 0 projet »
    if not report["steps"]:
        out.print("Aucune étape commencée pour ces projets.")
    else:
        wide = out.width >= WIDE
        headers = ["étape", "projets", "porteur", "relecture"]
        headers += ["porteur, 9 sur 10 sous", "relecture, 9 sur 10 sous"] if wide else []
        headers += ["délais tenus", "modif. / projet", "≤ 10 j ouvrés"] + (["≤ 20 j ouvrés"] if wide else [])
        rows = []
        for step in report["steps"]:
            holder, review = step["holder_days"], step["review_days"]
            cells = [for_terminal(_any_step(step["step"])), str(step["projects"]), _number(holder.get("median")),
                     _number(review.get("median"))]  # fmt: skip
            cells += [_number(holder.get("p90")), _number(review.get("p90"))] if wide else []
            cells += [_rate(step["on_time_rate"]), _number(step["changes_per_project"]),
                      _rate(step["review_within_10_working_days"])]  # fmt: skip
            cells += [_rate(step["review_within_20_working_days"])] if wide else []
            rows.append(cells)
        out.print(_fitted(headers, rows, PATH_TITLE))
    slowest = [for_terminal(_any_step(step)) for step in report["slowest_steps"]]
    if slowest:
        out.print("Les étapes les plus lentes : " + " ; ".join(f"{i}. {s}" for i, s in enumerate(slowest, start=1)))
    if not report["funnel"]:
        return
    funnel = Table("phase", "entrés", "encore là", "passés", "abandonnés", "rejetés", title="Entonnoir")
    for stage in report["funnel"]:
        funnel.add_row(for_terminal(_any_stage(stage["stage"])), *(str(stage[k]) for k in
                       ("started", "still_there", "passed", "abandoned", "rejected")))  # fmt: skip
    out.print(funnel)


def _fitted(headers: list[str], rows: list[list[str]], title: str) -> Table:
    """A table whose first column (a label) keeps its words whole: when the terminal is too narrow for every
    header on one line, the other columns (short figures) narrow to their longest word and the label takes the
    rest (Rich alone would cut the label with an ellipsis)."""
    natural = sum(max([len(h), *(len(r[i]) for r in rows)]) + 3 for i, h in enumerate(headers)) + 1
    squeeze = natural > out.width
    table = Table(title=title)
    table.add_column(headers[0])
    for i, header in enumerate(headers[1:], start=1):
        tightest = max([len(word) for word in header.split()] + [len(r[i]) for r in rows])
        table.add_column(header, width=tightest if squeeze else None)
    for row in rows:
        table.add_row(*row)
    return table


#: The units of `report path`'s table, so that its headers stay short.
PATH_TITLE = (
    "Par étape : jours calendaires, médianes ; délais tenus : étapes approuvées à temps ; modif. : demandes de "
    "modifications ; ≤ 10 j ouvrés : relectures décidées en 10 jours ouvrés au plus"
)
