"""French working days, morning send times and French dates.

Expected values are worked out by hand from a 2026-2027 calendar; the
holidays themselves are checked against the `holidays` package.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow

# The workflow below is re-imported inside the sandbox with this module: pass the
# rest through, as workflows/ does for labellisation (and `holidays` cannot be
# imported in the sandbox at all).
with workflow.unsafe.imports_passed_through():
    import holidays
    import pytest
    from temporalio.client import Client
    from temporalio.worker import Worker

    from labellisation.french_calendar import (
        add_working_days,
        format_date_fr,
        french_public_holidays,
        is_working_day,
        next_send_time,
        zone,
    )
    from labellisation.process import Calendar

# Not zoneinfo.ZoneInfo: this module is also imported inside the sandbox, where it is a proxy.
PARIS = zone("Europe/Paris")
FR = Calendar.FR_WORKING_DAYS
NONE = Calendar.NONE


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- public holidays -------------------------------------------------------------------------


@pytest.mark.parametrize("year", range(2020, 2051))
def test_our_holidays_are_the_holidays_package_ones(year: int) -> None:
    assert french_public_holidays(year) == set(holidays.country_holidays("FR", years=year).keys())


def test_the_holidays_of_2027_by_hand() -> None:
    assert french_public_holidays(2027) == {
        date(2027, 1, 1),
        date(2027, 3, 29),  # lundi de Pâques (Pâques : 28 mars)
        date(2027, 5, 1),
        date(2027, 5, 6),  # Ascension
        date(2027, 5, 8),
        date(2027, 5, 17),  # lundi de Pentecôte
        date(2027, 7, 14),
        date(2027, 8, 15),
        date(2027, 11, 1),
        date(2027, 11, 11),
        date(2027, 12, 25),
    }


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 24), True),  # a Tuesday
        (date(2026, 11, 21), False),  # a Saturday
        (date(2026, 11, 22), False),  # a Sunday
        (date(2027, 7, 14), False),  # a Wednesday, fête nationale
        (date(2027, 3, 29), False),  # lundi de Pâques
        (date(2027, 5, 6), False),  # Ascension, a Thursday
        (date(2027, 5, 7), True),  # the Friday after it (a "pont", still a working day)
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),
        (date(2026, 12, 26), False),  # a Saturday; not a holiday outside Alsace-Moselle anyway
        (date(2027, 3, 26), True),  # Good Friday: a working day outside Alsace-Moselle
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


# --- next_send_time ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (paris(2027, 7, 14, 8, 0), paris(2027, 7, 15, 9, 0)),  # 14 July, a Wednesday
        (paris(2026, 8, 15, 10, 0), paris(2026, 8, 17, 9, 0)),  # 15 August, a Saturday
        (paris(2026, 11, 1, 10, 0), paris(2026, 11, 2, 9, 0)),  # 1 November, a Sunday
        (paris(2027, 3, 29, 7, 0), paris(2027, 3, 30, 9, 0)),  # Easter Monday 2027
        (paris(2026, 11, 21, 15, 0), paris(2026, 11, 23, 9, 0)),  # a Saturday: the Monday
        (paris(2026, 11, 22, 8, 0), paris(2026, 11, 23, 9, 0)),  # a Sunday morning: the Monday
        (paris(2026, 11, 24, 8, 0), paris(2026, 11, 24, 9, 0)),  # before the morning send: that day
        (paris(2026, 11, 24, 9, 0), paris(2026, 11, 24, 9, 0)),  # exactly then: kept
        (paris(2026, 11, 24, 9, 0) + timedelta(seconds=1), paris(2026, 11, 25, 9, 0)),  # just after
        (paris(2026, 11, 24, 10, 0), paris(2026, 11, 25, 9, 0)),  # after it: next working day
        (paris(2026, 11, 27, 10, 0), paris(2026, 11, 30, 9, 0)),  # a Friday, late: the Monday
        (paris(2026, 4, 30, 18, 0), paris(2026, 5, 4, 9, 0)),  # Thursday evening, 1 May a Friday
        (paris(2027, 5, 5, 12, 0), paris(2027, 5, 7, 9, 0)),  # the day before Ascension
        (paris(2026, 12, 31, 23, 59), paris(2027, 1, 4, 9, 0)),  # New Year's Eve, 1 Jan a Friday
    ],
)
def test_next_send_time_is_the_next_working_morning(moment: datetime, expected: datetime) -> None:
    sent = next_send_time(moment, FR)
    assert sent == expected
    assert sent.astimezone(PARIS).time() == time(9, 0)
    assert sent.tzinfo is not None


def test_march_dst_change_still_sends_at_nine_paris_time() -> None:
    # Saturday 27 March 2027, CET; Sunday 28 is both Easter and the DST change; Monday 29 is Easter Monday.
    sent = next_send_time(paris(2027, 3, 27, 12, 0), FR)
    assert sent == paris(2027, 3, 30, 9, 0)
    assert sent.utcoffset() == timedelta(hours=2)
    assert sent.astimezone(UTC) == utc(2027, 3, 30, 7, 0)


def test_october_dst_change_still_sends_at_nine_paris_time() -> None:
    # Saturday 24 October 2026, CEST; clocks go back on Sunday 25.
    sent = next_send_time(paris(2026, 10, 24, 12, 0), FR)
    assert sent == paris(2026, 10, 26, 9, 0)
    assert sent.utcoffset() == timedelta(hours=1)
    assert sent.astimezone(UTC) == utc(2026, 10, 26, 8, 0)


def test_utc_moments_are_read_in_paris_time_on_both_sides_of_dst() -> None:
    # 07:30 UTC is 09:30 in summer (too late for today) but 08:30 in winter (in time).
    assert next_send_time(utc(2026, 10, 23, 7, 30), FR) == paris(2026, 10, 26, 9, 0)  # a Friday, CEST
    assert next_send_time(utc(2026, 10, 26, 7, 30), FR) == paris(2026, 10, 26, 9, 0)  # a Monday, CET
    # 23:30 UTC on Friday 20 November is already Saturday in Paris.
    assert next_send_time(utc(2026, 11, 20, 23, 30), FR) == paris(2026, 11, 23, 9, 0)


def test_send_time_and_time_zone_are_settings() -> None:
    assert next_send_time(paris(2026, 11, 24, 9, 0), FR, send_at=time(8, 30)) == paris(2026, 11, 25, 8, 30)
    # 9:00 in Guadeloupe (UTC-4) on Tuesday 24 November 2026.
    antilles = next_send_time(utc(2026, 11, 24, 10, 0), FR, timezone="America/Guadeloupe")
    assert antilles == utc(2026, 11, 24, 13, 0)
    assert antilles.tzinfo == zone("America/Guadeloupe")


def test_without_a_calendar_the_moment_is_kept() -> None:
    moment = utc(2027, 7, 14, 3, 0)  # a holiday, at night
    assert next_send_time(moment, NONE) is moment


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="fuseau"):
        next_send_time(datetime(2026, 11, 24, 8, 0), FR)
    with pytest.raises(ValueError, match="fuseau"):
        add_working_days(datetime(2026, 11, 24, 8, 0), 1, NONE)


# --- add_working_days ----------------------------------------------------------------------------


def test_add_working_days_over_a_weekend() -> None:
    friday = paris(2026, 11, 20, 10, 0)
    assert add_working_days(friday, 1, FR) == paris(2026, 11, 23, 10, 0)
    assert add_working_days(friday, 5, FR) == paris(2026, 11, 27, 10, 0)
    assert add_working_days(paris(2026, 11, 21, 15, 45), 1, FR) == paris(2026, 11, 23, 15, 45)  # from a Saturday


def test_add_working_days_over_the_first_of_may() -> None:
    thursday = paris(2026, 4, 30, 10, 0)  # 1 May 2026 is a Friday
    assert add_working_days(thursday, 1, FR) == paris(2026, 5, 4, 10, 0)
    assert add_working_days(thursday, 2, FR) == paris(2026, 5, 5, 10, 0)
    # 2026: Friday 8 May and Thursday 14 May (Ascension) are holidays too.
    assert add_working_days(thursday, 10, FR) == paris(2026, 5, 19, 10, 0)


def test_add_working_days_for_the_review_delays() -> None:
    submitted = paris(2027, 10, 22, 10, 0)  # a Friday; 1 and 11 November are holidays
    assert add_working_days(submitted, 10, FR) == paris(2027, 11, 8, 10, 0)
    assert add_working_days(submitted, 20, FR) == paris(2027, 11, 23, 10, 0)


def test_add_working_days_keeps_the_local_time_across_dst() -> None:
    friday = paris(2026, 10, 23, 10, 0)  # CEST; Monday 26 is CET
    monday = add_working_days(friday, 1, FR)
    assert monday == paris(2026, 10, 26, 10, 0)
    assert monday.utcoffset() == timedelta(hours=1)
    assert add_working_days(utc(2026, 10, 23, 8, 0), 1, FR) == paris(2026, 10, 26, 10, 0)


def test_add_working_days_backwards_and_zero() -> None:
    assert add_working_days(paris(2026, 5, 4, 10, 0), -1, FR) == paris(2026, 4, 30, 10, 0)
    saturday = paris(2026, 11, 21, 15, 0)
    assert add_working_days(saturday, 0, FR) == saturday


def test_add_plain_days_without_a_calendar() -> None:
    friday = paris(2027, 10, 22, 10, 0)
    assert add_working_days(friday, 3, NONE) == paris(2027, 10, 25, 10, 0)
    assert add_working_days(friday, -1, NONE) == paris(2027, 10, 21, 10, 0)


# --- format_date_fr --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 9, 15), "15 septembre 2026"),
        (date(2027, 5, 1), "1er mai 2027"),
        (date(2027, 1, 1), "1er janvier 2027"),
        (date(2026, 2, 2), "2 février 2026"),
        (date(2026, 8, 15), "15 août 2026"),
        (date(2026, 12, 31), "31 décembre 2026"),
        (datetime(2027, 8, 31, 23, 30, tzinfo=UTC), "1er septembre 2027"),  # already 1 September in Paris
        (datetime(2026, 9, 15, 21, 59, 59, tzinfo=UTC), "15 septembre 2026"),
        (datetime(2026, 9, 15, 23, 0), "15 septembre 2026"),  # naive: taken as it is
    ],
)
def test_french_dates(day: date | datetime, text: str) -> None:
    assert format_date_fr(day) == text


def test_french_dates_in_another_time_zone() -> None:
    assert format_date_fr(datetime(2027, 1, 1, 2, 0, tzinfo=UTC), timezone="America/Guadeloupe") == "31 décembre 2026"


# --- inside the workflow sandbox ----------------------------------------------------------------


@workflow.defn(sandboxed=True)
class SendTimeWorkflow:
    @workflow.run
    async def run(self, moment: str) -> str:
        at = next_send_time(datetime.fromisoformat(moment), FR)
        later = add_working_days(at, 10, FR)
        return f"{at.isoformat()} {later.isoformat()} {format_date_fr(later)}"


async def test_the_calendar_runs_inside_the_workflow_sandbox(client: Client) -> None:
    queue = f"calendar-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[SendTimeWorkflow]):
        result = await client.execute_workflow(
            SendTimeWorkflow.run,
            "2027-07-14T08:00:00+02:00",
            id=f"calendar-{uuid.uuid4().hex}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=30),
        )
    # Thursday 15 July; ten working days later is Thursday 29 July.
    assert result == "2027-07-15T09:00:00+02:00 2027-07-29T09:00:00+02:00 29 juillet 2027"
