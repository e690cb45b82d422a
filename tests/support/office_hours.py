"""French office hours worked out with the `holidays` package (not the product's calendar), and a way to bring
the time-skipping server's clock into them: news found outside office hours waits for the next working morning
(#17 item 3), so a test that expects news at once must not depend on the hour CI runs at."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from temporalio.testing import WorkflowEnvironment

PARIS = ZoneInfo("Europe/Paris")
#: A day (YYYY-MM-DD, ahead of today) to start every time-skipping test on, instead of the next working day: to
#: try the suite on the eve of a holiday (a test that skips days must not depend on the date CI runs at).
START_DATE = "LABELLISATION_TEST_START_DATE"


def chosen_start(now: datetime) -> date:
    """The day the time-skipping tests start on: START_DATE's when set, else the day after `now` (Paris)."""
    following = now.astimezone(PARIS).date() + timedelta(days=1)
    given = os.environ.get(START_DATE, "").strip()
    if not given:
        return following
    try:
        day = date.fromisoformat(given) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", given) else None
    except ValueError:  # 2027-02-30
        day = None
    if day is None:
        raise ValueError(f"{START_DATE}={given!r}: not a date (YYYY-MM-DD)")
    if day < following:
        today = following - timedelta(days=1)
        raise ValueError(
            f"{START_DATE}={given}: the test server's clock only moves forward; give a day after {today} (Paris)"
        )
    return day


def working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays.country_holidays("FR", years=day.year)


def working_morning_on_or_after(day: date) -> datetime:
    while not working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=PARIS)


def office_morning_on_or_after(day: date) -> datetime:
    """10:00 Paris on the first working day on or after `day` (an hour into office hours: room for a test to run)."""
    return working_morning_on_or_after(day) + timedelta(hours=1)


def next_office_morning(now: datetime) -> datetime:
    """10:00 Paris on the next working day after `now`."""
    return office_morning_on_or_after(now.astimezone(PARIS).date() + timedelta(days=1))


async def skip_to_office_hours(env: WorkflowEnvironment) -> datetime:
    """Skip the time-skipping server's clock to the next working morning, 10:00 Paris (on or after START_DATE when
    set); that moment."""
    now = await env.get_current_time()
    target = office_morning_on_or_after(chosen_start(now))
    await env.sleep(target - now)
    return target


async def sleep_into_office_hours(env: WorkflowEnvironment, at_least: timedelta) -> datetime:
    """Skip the time-skipping server's clock by `at_least`, then on to the next working morning (10:00 Paris) when
    that lands outside office hours (a holiday, a weekend, the evening): a decision made then would have its news
    held until that morning. That moment."""
    now = await env.get_current_time()
    target = now + at_least
    local = target.astimezone(PARIS)
    if not working_day(local.date()) or not time(10) <= local.time() < time(16):
        target = next_office_morning(target)
    await env.sleep(target - now)
    return target
