"""Every word a person reads, in French: one catalogue for the CLI, the e-mails, the API's sentences and the pages.

Ids (`step_approved`, `holder`, `active`) stay in the JSON; a person reads the labels below. Stage and
step labels come from the process definition (`label` in its YAML); `step_label` and `stage_label` find
them. Pure: no I/O, no clock (the caller passes `now`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from labellisation.french_calendar import PARIS, format_date_fr
from labellisation.path.commands import Decision
from labellisation.path.reminders import Kind as ReminderKind
from labellisation.path.reminders import Role as RecipientRole
from labellisation.path.state import EventKind, ProjectState, StepStatus
from labellisation.process import ProcessDefinition

STATE_LABELS: dict[ProjectState, str] = {
    ProjectState.ACTIVE: "actif",
    ProjectState.PAUSED: "en pause",
    ProjectState.COMPLETED: "labellisé",
    ProjectState.REJECTED: "rejeté",
    ProjectState.ABANDONED: "abandonné",
}
STATUS_LABELS: dict[StepStatus, str] = {
    StepStatus.NOT_STARTED: "pas commencée",
    StepStatus.IN_PROGRESS: "en cours",
    StepStatus.SUBMITTED: "soumise",
    StepStatus.CHANGES_REQUESTED: "modifications demandées",
    StepStatus.APPROVED: "approuvée",
    StepStatus.REJECTED: "rejetée",
}
EVENT_LABELS: dict[EventKind, str] = {
    EventKind.PROJECT_STARTED: "projet démarré",
    EventKind.STAGE_STARTED: "phase commencée",
    EventKind.STEP_STARTED: "étape commencée",
    EventKind.STEP_SUBMITTED: "dossier déposé",
    EventKind.STEP_APPROVED: "étape approuvée",
    EventKind.CHANGES_REQUESTED: "modifications demandées",
    EventKind.STEP_REJECTED: "étape rejetée",
    EventKind.STAGE_COMPLETED: "phase terminée",
    EventKind.PROJECT_COMPLETED: "projet labellisé",
    EventKind.DEADLINE_MOVED: "échéance déplacée",
    EventKind.DEADLINE_PASSED: "échéance dépassée",
    EventKind.PROJECT_PAUSED: "projet mis en pause",
    EventKind.PROJECT_RESUMED: "projet repris",
    EventKind.PROJECT_ABANDONED: "projet abandonné",
    EventKind.COHORT_RECORDED: "résultats de cohorte enregistrés",
    EventKind.REMINDER_SENT: "rappel envoyé",
    EventKind.SIGNAL_REFUSED: "décision refusée",
    EventKind.PLANNED_OPENING_CHANGED: "date d'ouverture prévue changée",
    EventKind.PROFILE_UPDATED: "profil du projet modifié",
    EventKind.PROJECT_MIGRATED: "projet passé à une nouvelle version du parcours",
    EventKind.DELIVERY_FAILED: "e-mail non distribué",
}
REMINDER_LABELS: dict[ReminderKind, str] = {
    ReminderKind.BEFORE_DUE: "rappel avant échéance",
    ReminderKind.OVERDUE: "relance pour retard",
    ReminderKind.ESCALATION: "escalade à la coordination",
    ReminderKind.PAUSE_ADVISED: "pause conseillée",
    ReminderKind.REVIEW_PENDING: "décision attendue",
    ReminderKind.REVIEW_ESCALATION: "escalade : décision en retard",
    ReminderKind.CHANGES_PENDING: "modifications attendues",
    ReminderKind.PAUSE_REVIEW: "réexamen de la pause",
}
#: The roles of the people who use the product (API tokens), and the reviewers as the recipients of reminders.
ROLE_LABELS: dict[str, str] = {
    "coordinator": "coordinateur",
    "reviewer": "relecteur",
    "holder": "porteur",
    RecipientRole.REVIEWERS.value: "relecteurs",
}
#: "To whom" a reminder goes, as a sentence says it: "rappel … au porteur de projet".
ADDRESSEE_LABELS: dict[RecipientRole, str] = {
    RecipientRole.HOLDER: "au porteur de projet",
    RecipientRole.REVIEWERS: "aux relecteurs FNEP",
    RecipientRole.COORDINATOR: "à la coordination",
}
DECISION_LABELS: dict[Decision, str] = {
    Decision.APPROVE: "approuver",
    Decision.REQUEST_CHANGES: "demander des modifications",
    Decision.REJECT: "rejeter",
}
#: A deadline nearer than this is shown with its time, not only its day.
SHOW_TIME_WITHIN = timedelta(days=2)
#: Processes whose durations are minutes: every deadline is shown with its time.
PROCESSES_IN_MINUTES = frozenset({"demo"})


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """French number agreement: "0 jour", "1 jour", "2 jours" (singular below two, as French writes it)."""
    word = singular if abs(count) < 2 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def days(count: int) -> str:
    """ "0 jour", "1 jour", "14 jours"."""
    return plural(count, "jour")


def step_label(process: ProcessDefinition, step_id: str) -> str:
    """The step's French label, or its id when the process does not know it (never an error)."""
    step = process.step(step_id)
    return step.label if step is not None else step_id


def stage_label(process: ProcessDefinition, stage_id: str) -> str:
    for stage in process.stages:
        if stage.id == stage_id:
            return stage.label
    return stage_id


def format_moment(moment: datetime, now: datetime, process_id: str, timezone: str = PARIS) -> str:
    """A deadline as a person wants it: the day, and the time when it is near or the process counts minutes.

    "1er septembre 2027"; "3 mars 2027 à 14 h 05" when less than two days away (or past by less) or
    when the process is `demo`, where deadlines are minutes apart.
    """
    day = format_date_fr(moment, timezone)
    if process_id not in PROCESSES_IN_MINUTES and abs(moment - now) >= SHOW_TIME_WITHIN:
        return day
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{day} à {local.hour} h {local.minute:02d}"


def _folded(text: str) -> str:
    """Lower case, no accents, no spaces or dashes around: "Faisabilité" and "faisabilite" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("’", "'").replace("œ", "oe").replace("æ", "ae")


class UnknownWord(ValueError):
    """A word a person typed that names nothing; the message lists what would."""

    def __init__(self, field: str, given: str, valid: Iterable[str]) -> None:
        self.field = field
        super().__init__(f"{field} : « {given} » inconnu ; valeurs possibles : {', '.join(valid)}")


def parse_state(text: str) -> ProjectState:
    """A project state from its id (`active`) or its French label (`actif`, `en pause`)."""
    folded = _folded(text)
    for state, label in STATE_LABELS.items():
        if folded in (state.value, _folded(label)):
            return state
    raise UnknownWord("state", text, [f"{label} ({state.value})" for state, label in STATE_LABELS.items()])


def parse_stage(text: str, processes: Iterable[ProcessDefinition]) -> str:
    """A stage id from its id (`feasibility`) or its French label, accents optional (`Étude de faisabilité`,
    `faisabilite`: a label's distinctive word is enough when it names one stage only)."""
    folded = _folded(text)
    stages: dict[str, str] = {}
    for process in processes:
        for stage in process.stages:
            stages.setdefault(stage.id, stage.label)
    exact = [id_ for id_, label in stages.items() if folded in (id_, _folded(label))]
    partial = [id_ for id_, label in stages.items() if len(folded) >= 4 and folded in _folded(label)]
    for found in (exact, partial):
        if len(set(found)) == 1:
            return found[0]
    raise UnknownWord("stage", text, [f"{label} ({id_})" for id_, label in stages.items()])
