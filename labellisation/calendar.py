"""French working days and morning send times, for reminders.

Pure and deterministic: it runs inside the workflow sandbox. The `holidays`
package cannot (it reads the locale to translate names), so the eleven French
public holidays are computed here from Easter, and the tests check them
against `holidays.France` year by year.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.easter import easter

from labellisation.process import Calendar

MONTHS_FR = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


@lru_cache(maxsize=64)
def french_public_holidays(year: int) -> frozenset[date]:
    """Metropolitan France: fixed days, Easter Monday, Ascension, Whit Monday."""
    sunday = easter(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    movable = [sunday + timedelta(days=n) for n in (1, 39, 50)]
    return frozenset([date(year, m, d) for m, d in fixed] + movable)


def is_working_day(day: date) -> bool:
    """Monday to Friday, not a French public holiday."""
    return day.weekday() < 5 and day not in french_public_holidays(day.year)


def next_send_time(
    moment: datetime, calendar: Calendar, timezone: str = "Europe/Paris", send_at: time = time(9, 0)
) -> datetime:
    """When a reminder due at `moment` goes out: the first working morning at or after it.

    With no calendar, `moment` itself. The result is aware, in `timezone`.
    """
    if calendar is Calendar.NONE:
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    day = local.date()
    if local.time() > send_at:
        day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, send_at, tzinfo=zone)


def add_working_days(moment: datetime, days: int, calendar: Calendar, timezone: str = "Europe/Paris") -> datetime:
    """`moment` plus `days` working days (local time of day kept); plain days with no calendar."""
    if calendar is Calendar.NONE:
        return moment + timedelta(days=days)
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    day, left = local.date(), days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return datetime.combine(day, local.time(), tzinfo=zone)


def format_date_fr(moment: date | datetime, timezone: str = "Europe/Paris") -> str:
    """15 septembre 2026, 1er mai 2027."""
    day = moment.astimezone(ZoneInfo(timezone)).date() if isinstance(moment, datetime) else moment
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS_FR[day.month - 1]} {day.year}"
