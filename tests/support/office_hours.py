"""French office hours worked out with the `holidays` package (not the product's calendar), and a way to bring
the time-skipping server's clock into them: news found outside office hours waits for the next working morning
(#17 item 3), so a test that expects news at once must not depend on the hour CI runs at."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from temporalio.testing import WorkflowEnvironment

PARIS = ZoneInfo("Europe/Paris")


def working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays.country_holidays("FR", years=day.year)


def working_morning_on_or_after(day: date) -> datetime:
    while not working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=PARIS)


def next_office_morning(now: datetime) -> datetime:
    """10:00 Paris on the next working day after `now` (an hour into office hours: room for a test to run)."""
    return working_morning_on_or_after(now.astimezone(PARIS).date() + timedelta(days=1)) + timedelta(hours=1)


async def skip_to_office_hours(env: WorkflowEnvironment) -> datetime:
    """Skip the time-skipping server's clock to the next working morning, 10:00 Paris; that moment."""
    now = await env.get_current_time()
    target = next_office_morning(now)
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
