"""French working days, morning send times and French dates, for reminders.

Pure and deterministic, because the workflow calls it to place its timers: no
clock, no environment, no I/O beyond reading the time zone database.

The eleven public holidays of metropolitan France (and the two more days of
Alsace-Moselle) are computed here from Easter rather than read from the
`holidays` package, for two reasons:

- a workflow's timers must not move when a dependency is upgraded (a replay
  computing another date is a non-determinism error), and the law, not a
  package release, decides these days;
- `holidays` cannot even be imported inside the workflow sandbox (it imports
  `dateutil.parser`, which reads the clock at import time).

The tests check the result against `holidays.country_holidays("FR")` year by
year, so a disagreement shows up in CI, not in a running project.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.easter import easter

from labellisation.process import Calendar

PARIS = "Europe/Paris"
MORNING = time(9, 0)

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

#: Fixed-date holidays (month, day): jour de l'an, fête du Travail, Victoire 1945,
#: fête nationale, Assomption, Toussaint, Armistice 1918, Noël.
_FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
#: Days after Easter Sunday: lundi de Pâques, Ascension, lundi de Pentecôte.
_EASTER_OFFSETS = (1, 39, 50)
#: Departments of Alsace-Moselle (Moselle, Bas-Rhin, Haut-Rhin), by code and by name: their local law adds
#: two public holidays, Good Friday (Vendredi saint) and 26 December (Saint-Étienne).
ALSACE_MOSELLE_DEPARTMENTS = frozenset({"57", "67", "68"})
_ALSACE_MOSELLE_NAMES = frozenset({"moselle", "bas-rhin", "haut-rhin"})


def zone(name: str = PARIS) -> ZoneInfo:
    """The time zone `name`, for workflow code too.

    Inside the workflow sandbox `zoneinfo.ZoneInfo` is a restricted proxy whose
    instances `datetime` refuses; this module is passed through the sandbox
    (as `workflows/` imports `labellisation`), so zones built here are real.
    """
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def french_public_holidays(year: int) -> frozenset[date]:
    """The eleven public holidays of metropolitan France in `year`.

    Alsace-Moselle's two extra days (Good Friday, 26 December) are not
    included: see `public_holidays`.
    """
    sunday = easter(year)
    return frozenset(
        [date(year, month, day) for month, day in _FIXED_HOLIDAYS]
        + [sunday + timedelta(days=offset) for offset in _EASTER_OFFSETS]
    )


@lru_cache(maxsize=64)
def public_holidays(year: int, alsace_moselle: bool = False) -> frozenset[date]:
    """The public holidays of `year`: the national ones, plus Good Friday and 26 December in Alsace-Moselle."""
    national = french_public_holidays(year)
    if not alsace_moselle:
        return national
    return national | {easter(year) - timedelta(days=2), date(year, 12, 26)}


def is_alsace_moselle(department: str) -> bool:
    """Whether a project's department ("57", "67", "68", or "Moselle", "Bas-Rhin", "Haut-Rhin") is in Alsace-Moselle."""
    text = department.strip().lower().replace(" ", "-")
    return text in ALSACE_MOSELLE_DEPARTMENTS or text in _ALSACE_MOSELLE_NAMES


def is_working_day(day: date, alsace_moselle: bool = False) -> bool:
    """Monday to Friday, and not a public holiday (of Alsace-Moselle too when asked)."""
    return day.weekday() < 5 and day not in public_holidays(day.year, alsace_moselle)


def _local(moment: datetime, timezone: str) -> datetime:
    # A naive datetime would be read in the machine's time zone: not deterministic.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime sans fuseau horaire : {moment.isoformat()}")
    return moment.astimezone(zone(timezone))


def next_send_time(
    moment: datetime,
    calendar: Calendar,
    timezone: str = PARIS,
    send_at: time = MORNING,
    *,
    alsace_moselle: bool = False,
) -> datetime:
    """When a reminder due at `moment` goes out: the first working morning at or after it.

    - `Calendar.NONE`: `moment` itself, unchanged (the `demo` process sends at
      once, at any hour).
    - `Calendar.FR_WORKING_DAYS`: `send_at` local time on `moment`'s local day
      if that is a working day and `moment` is not later than `send_at`,
      otherwise `send_at` on the next working day. With `alsace_moselle`,
      Good Friday and 26 December are days off too.

    `moment` must be aware; the result is aware, expressed in `timezone`
    (compare it or convert it freely: it is the same instant in UTC).
    """
    local = _local(moment, timezone)
    if calendar is Calendar.NONE:
        return moment
    day = local.date()
    if local.time() > send_at:
        day += timedelta(days=1)
    while not is_working_day(day, alsace_moselle):
        day += timedelta(days=1)
    # combine() with a ZoneInfo picks the right offset on either side of a DST change;
    # a morning hour is never in the spring gap nor the autumn fold (both are at night).
    return datetime.combine(day, send_at, tzinfo=zone(timezone))


def add_working_days(
    moment: datetime, days: int, calendar: Calendar, timezone: str = PARIS, *, alsace_moselle: bool = False
) -> datetime:
    """`moment` moved by `days` working days, keeping its local time of day.

    - `Calendar.NONE`: plain days, `moment + timedelta(days=days)`.
    - `Calendar.FR_WORKING_DAYS`: counts French working days in `timezone`
      (from a Friday, one working day is the Monday); a negative `days` counts
      backwards; zero returns `moment` as it is, even on a day off. With
      `alsace_moselle`, Good Friday and 26 December are not counted.

    `moment` must be aware; with a calendar the result is expressed in `timezone`.
    """
    local = _local(moment, timezone)
    if calendar is Calendar.NONE:
        return moment + timedelta(days=days)
    if days == 0:
        return local
    step = timedelta(days=1 if days > 0 else -1)
    day, left = local.date(), abs(days)
    while left:
        day += step
        if is_working_day(day, alsace_moselle):
            left -= 1
    return datetime.combine(day, local.time(), tzinfo=zone(timezone))


def format_date_fr(moment: date | datetime, timezone: str = PARIS) -> str:
    """A date the French way: "15 septembre 2026", "1er mai 2027".

    An aware datetime is first converted to `timezone` (23:30 UTC on 31 August
    is already 1 September in Paris); a naive one is taken as it is. No locale
    is involved, so the result is the same on every machine.
    """
    if isinstance(moment, datetime):
        day = moment.astimezone(zone(timezone)).date() if moment.tzinfo is not None else moment.date()
    else:
        day = moment
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS_FR[day.month - 1]} {day.year}"
