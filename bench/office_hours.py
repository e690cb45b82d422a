"""Benchmarks that start `fnep` projects in real time measure the same work whatever the hour they run at.

The `fnep` process sends the holder's welcome e-mail at once in office hours and holds it until the next working
morning otherwise (labellisation/path/reminders.py, `office_moment`): with the process's own zone, a run in the
evening would measure new projects without their e-mail. A run takes its process's time zone from here instead.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from labellisation.french_calendar import is_working_day
from labellisation.process import ProcessDefinition, load_process

PROCESS = load_process("fnep")


def office_hours_zone(now: datetime) -> str | None:
    """A time zone (`Etc/GMT±N`) where `now` is between 10:00 and 16:00 on a French working day, the nearest to
    noon; None when there is none (a weekend or a holiday all round the world).
    """
    found: list[tuple[float, str]] = []
    for hours in range(-12, 15):
        name = f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT"  # POSIX signs: Etc/GMT-2 is two hours ahead of UTC
        local = now.astimezone(ZoneInfo(name))
        if is_working_day(local.date()) and 10 <= local.hour < 16:
            found.append((abs(local.hour + local.minute / 60 - 13), name))
    return min(found)[1] if found else None


def office_hours_process(now: datetime) -> ProcessDefinition:
    """`fnep` in a time zone where `now` is office hours (`office_hours_zone`); as shipped when there is none."""
    zone = office_hours_zone(now)
    return PROCESS if zone is None else PROCESS.model_copy(update={"timezone": zone})


def zone_named(process: ProcessDefinition) -> str:
    """The zone a run's section names: the one chosen, or that none was."""
    return process.timezone if process is not PROCESS else f"none found: {PROCESS.timezone}"
