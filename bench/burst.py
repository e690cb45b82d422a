"""The Monday 09:00 burst (#20 part 1): `fnep` projects whose first reminder falls due at one chosen instant.

The dev server cannot skip time, so the burst must fall due in real time, minutes after the projects start,
whatever the day (a Sunday has no working morning). `burst_process(at)` is the `fnep` process with three
changes, all inside the process snapshot every project carries in its input (no change to the product):

- no working-day calendar, so the reminder goes out at its exact instant;
- the first step's deadline anchored on the planned opening (`due`), the same for every project;
- one reminder before a deadline, BEFORE_DUE ahead of it, so at `at` for every project.

Everything else (stages, steps, the other reminder rules, the workflow, the worker) is the product's own.
Each project gets exactly one e-mail in the burst: the holder's « échéance dans 1 heure » of the opportunity
study, sent by the reminder activity, checked against the records and recorded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from labellisation.contract import SA_REGION, SA_STAGE, SA_STATE, StartProject
from labellisation.path.state import ProjectProfile, ProjectState
from labellisation.process import AnchoredDue, Calendar, DateAnchor, ProcessDefinition, load_process

#: How long before the deadline the one reminder goes out; the deadline itself is after the burst.
BEFORE_DUE = timedelta(hours=1)
#: The planned opening of every burst project: the deadline is anchored on it.
OPENING = date(2030, 9, 1)
REGIONS = ["Occitanie", "Hauts-de-France", "Bretagne", "Grand Est", "Normandie", "Auvergne-Rhône-Alpes"]


def burst_process(at: datetime) -> ProcessDefinition:
    """`fnep` whose first step's deadline is `at` + BEFORE_DUE, with one reminder BEFORE_DUE before it."""
    fnep = load_process("fnep")
    zone = ZoneInfo(fnep.timezone)
    # The anchored deadline is the end of the opening day plus the offset, added on the local clock: an offset
    # back to `at` + BEFORE_DUE counted on the wall clock (the opening is in summer time, the burst maybe not).
    end_of_opening = datetime.combine(OPENING, time(23, 59, 59), tzinfo=zone)
    back = end_of_opening - (at + BEFORE_DUE).astimezone(zone)
    if back <= timedelta(0) or back.microseconds:
        raise ValueError(f"burst instant {at.isoformat()} must be a whole second before {OPENING.isoformat()}")
    first_stage, *stages = fnep.stages
    first_step, *steps = first_stage.steps
    anchored = first_step.model_copy(
        update={
            "duration": None,
            "due": AnchoredDue(anchor=DateAnchor.PLANNED_OPENING, offset=f"-PT{int(back.total_seconds())}S"),
        }
    )
    reminders = fnep.reminders.model_copy(update={"before_due": [f"PT{int(BEFORE_DUE.total_seconds())}S"]})
    return fnep.model_copy(
        update={
            "calendar": Calendar.NONE,
            "reminders": reminders,
            "stages": [first_stage.model_copy(update={"steps": [anchored, *steps]}), *stages],
        }
    )


def burst_start(
    n: int, process: ProcessDefinition, prefix: str = "lundi"
) -> tuple[StartProject, TypedSearchAttributes]:
    """What `POST /projects` sends to Temporal for burst project number n (its own holder address)."""
    region = REGIONS[n % len(REGIONS)]
    profile = ProjectProfile(
        project_id=f"{prefix}-{n:05d}", name=f"École de Production n° {n}", region=region, department="31",
        city="Toulouse", trades=["Usinage"], holder={"name": f"Porteur {n}", "email": f"porteur-{n}@exemple.fr"},
        planned_opening=OPENING,
    )  # fmt: skip
    attributes = TypedSearchAttributes([
        SearchAttributePair(SA_STAGE, process.stages[0].id), SearchAttributePair(SA_REGION, region),
        SearchAttributePair(SA_STATE, ProjectState.ACTIVE.value),
    ])  # fmt: skip
    return StartProject(profile=profile, process_id="fnep", process=process), attributes


def whole_second(moment: datetime) -> datetime:
    """`moment` (aware) rounded up to the next whole second, in UTC."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=0) + timedelta(seconds=1 if moment.microsecond else 0)
