"""ISO 8601 durations with calendar months, as the process definitions write them.

Every expected date below is counted on a calendar by hand: "six months after
31 August" is the last day of February, not 180 days later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from labellisation.durations import Duration, DurationError, validate_duration

PARIS = ZoneInfo("Europe/Paris")
END_OF_AUGUST = datetime(2026, 8, 31, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 31 August + 6 months: there is no 31 February, the day clamps to the month's end (2027: 28 days).
        ("P6M", datetime(2027, 2, 28, 9, 0, tzinfo=UTC)),
        ("P1M", datetime(2026, 9, 30, 9, 0, tzinfo=UTC)),
        ("P2M", datetime(2026, 10, 31, 9, 0, tzinfo=UTC)),
        ("P5M", datetime(2027, 1, 31, 9, 0, tzinfo=UTC)),  # across the new year
        ("P2Y", datetime(2028, 8, 31, 9, 0, tzinfo=UTC)),
        ("P1Y6M", datetime(2028, 2, 29, 9, 0, tzinfo=UTC)),  # 2028 is a leap year
        ("PT2M", datetime(2026, 8, 31, 9, 2, tzinfo=UTC)),
        ("PT2S", datetime(2026, 8, 31, 9, 0, 2, tzinfo=UTC)),
        ("PT36H", datetime(2026, 9, 1, 21, 0, tzinfo=UTC)),
        ("P7D", datetime(2026, 9, 7, 9, 0, tzinfo=UTC)),
        ("P1W", datetime(2026, 9, 7, 9, 0, tzinfo=UTC)),
        ("P0D", END_OF_AUGUST),
        ("-P3M", datetime(2026, 5, 31, 9, 0, tzinfo=UTC)),
        ("-P6M", datetime(2026, 2, 28, 9, 0, tzinfo=UTC)),
        ("-P9M", datetime(2025, 11, 30, 9, 0, tzinfo=UTC)),  # back across the new year, clamped to 30 November
        ("-PT3M", datetime(2026, 8, 31, 8, 57, tzinfo=UTC)),
        # Months first (31 Aug + 14 months = 31 Oct 2027), then days, then the time part.
        ("P1Y2M3DT4H5M6S", datetime(2027, 11, 3, 13, 5, 6, tzinfo=UTC)),
    ],
)
def test_a_duration_added_to_the_end_of_august(text: str, expected: datetime) -> None:
    assert Duration.parse(text).add_to(END_OF_AUGUST) == expected


def test_six_months_from_the_end_of_august_is_the_29th_of_february_in_a_leap_year() -> None:
    assert Duration.parse("P6M").add_to(datetime(2027, 8, 31, 12, 0, tzinfo=UTC)) == datetime(
        2028, 2, 29, 12, 0, tzinfo=UTC
    )


def test_two_years_after_a_29th_of_february_is_the_28th() -> None:
    assert Duration.parse("P2Y").add_to(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2030, 2, 28, tzinfo=UTC)


def test_months_are_added_before_days() -> None:
    # 30 January + 1 month = 28 February (clamped), + 2 days = 2 March; days first would give 1 February + 1 month.
    assert Duration.parse("P1M2D").add_to(datetime(2026, 1, 30, tzinfo=UTC)) == datetime(2026, 3, 2, tzinfo=UTC)


def test_a_negative_duration_goes_back_on_every_field() -> None:
    # 31 March - 1 month = 28 February, - 1 day = 27 February.
    assert Duration.parse("-P1M1D").add_to(datetime(2026, 3, 31, tzinfo=UTC)) == datetime(2026, 2, 27, tzinfo=UTC)


def test_a_week_later_keeps_the_local_hour_across_the_change_to_summer_time() -> None:
    before = datetime(2026, 3, 25, 12, 0, tzinfo=PARIS)  # UTC+1
    after = Duration.parse("P7D").add_to(before)
    assert after.replace(tzinfo=None) == datetime(2026, 4, 1, 12, 0)
    assert after.astimezone(UTC) == datetime(2026, 4, 1, 10, 0, tzinfo=UTC)  # UTC+2 by then


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P6M", Duration(months=6)),
        ("P2Y", Duration(years=2)),
        ("PT2M", Duration(seconds=120)),
        ("P7D", Duration(days=7)),
        ("P1W", Duration(days=7)),
        ("P1W2D", Duration(days=9)),
        ("-P3M", Duration(negative=True, months=3)),
        ("P1Y2M3DT4H5M6S", Duration(years=1, months=2, days=3, seconds=4 * 3600 + 5 * 60 + 6)),
    ],
)
def test_parsing_keeps_the_calendar_parts(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["6M", "P", "PT", "P1.5M", "", "   ", "P-3M", "--P3M", "+P3M", "PT2", "P6", "P1M1Y", "P6m", "6 mois", "P6M extra"],
)
def test_a_text_that_is_not_an_iso_duration_is_refused_with_examples(text: str) -> None:
    with pytest.raises(DurationError) as error:
        Duration.parse(text)
    assert repr(text) in str(error.value)
    assert "P6M" in str(error.value)  # the message shows what a valid one looks like


def test_a_duration_error_is_a_value_error_so_pydantic_reports_it_as_a_field_error() -> None:
    assert issubclass(DurationError, ValueError)
    with pytest.raises(DurationError):
        validate_duration("six mois")
    assert validate_duration("P6M") == "P6M"


def test_negated_goes_the_other_way() -> None:
    assert Duration.parse("P30D").negated().add_to(END_OF_AUGUST) == datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
    assert Duration.parse("-P3M").negated() == Duration(months=3)


@pytest.mark.parametrize(("text", "zero"), [("P0D", True), ("PT0S", True), ("-P0M", True), ("PT1S", False)])
def test_is_zero(text: str, zero: bool) -> None:
    assert Duration.parse(text).is_zero() is zero
