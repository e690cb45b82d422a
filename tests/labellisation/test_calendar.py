"""French working days, morning send times and French dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import holidays
import pytest

from labellisation.calendar import (
    add_working_days,
    format_date_fr,
    french_public_holidays,
    is_working_day,
    next_send_time,
)
from labellisation.process import Calendar

PARIS = ZoneInfo("Europe/Paris")
FR = Calendar.FR_WORKING_DAYS


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.mark.parametrize("year", range(2020, 2041))
def test_our_holidays_are_the_holidays_package_ones(year: int) -> None:
    assert french_public_holidays(year) == set(holidays.country_holidays("FR", years=year).keys())


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (paris(2027, 7, 14, 8, 0), paris(2027, 7, 15, 9, 0)),  # 14 July, a Wednesday
        (paris(2026, 8, 15, 10, 0), paris(2026, 8, 17, 9, 0)),  # 15 August, a Saturday
        (paris(2026, 11, 1, 10, 0), paris(2026, 11, 2, 9, 0)),  # 1 November, a Sunday
        (paris(2027, 3, 29, 7, 0), paris(2027, 3, 30, 9, 0)),  # Easter Monday 2027
        (paris(2026, 11, 21, 15, 0), paris(2026, 11, 23, 9, 0)),  # a Saturday
        (paris(2026, 11, 24, 8, 0), paris(2026, 11, 24, 9, 0)),  # before the morning send
        (paris(2026, 11, 24, 9, 0), paris(2026, 11, 24, 9, 0)),  # exactly then
        (paris(2026, 11, 24, 10, 0), paris(2026, 11, 25, 9, 0)),  # after it: next working day
        (paris(2027, 3, 27, 12, 0), paris(2027, 3, 30, 9, 0)),  # Saturday, then Easter Monday
        (paris(2026, 10, 24, 12, 0), paris(2026, 10, 26, 9, 0)),  # across the October DST change
    ],
)
def test_next_send_time_is_the_next_working_morning(moment: datetime, expected: datetime) -> None:
    sent = next_send_time(moment, FR)
    assert sent == expected
    assert sent.astimezone(PARIS).time() == time(9, 0)


def test_without_a_calendar_the_moment_is_kept() -> None:
    moment = datetime(2027, 7, 14, 3, 0, tzinfo=UTC)
    assert next_send_time(moment, Calendar.NONE) == moment


def test_add_working_days_skips_weekends_and_holidays() -> None:
    friday = paris(2027, 4, 30, 10, 0)  # 1 May 2027 is a Saturday, 8 May a Saturday too
    assert add_working_days(friday, 1, FR) == paris(2027, 5, 3, 10, 0)
    submitted = paris(2027, 10, 22, 10, 0)  # a Friday; 1 and 11 November are holidays
    assert add_working_days(submitted, 10, FR) == paris(2027, 11, 8, 10, 0)
    assert add_working_days(submitted, 20, FR) == paris(2027, 11, 23, 10, 0)
    assert add_working_days(submitted, 3, Calendar.NONE) == paris(2027, 10, 25, 10, 0)


def test_french_dates() -> None:
    assert format_date_fr(date(2026, 9, 15)) == "15 septembre 2026"
    assert format_date_fr(date(2027, 5, 1)) == "1er mai 2027"
    assert format_date_fr(datetime(2027, 8, 31, 23, 30, tzinfo=UTC)) == "1er septembre 2027"  # Paris time
    assert is_working_day(date(2026, 12, 24)) and not is_working_day(date(2026, 12, 25))
