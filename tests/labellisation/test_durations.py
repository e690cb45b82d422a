"""ISO 8601 durations with calendar months."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from labellisation.durations import Duration, DurationError

START = datetime(2026, 8, 31, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P6M", datetime(2027, 2, 28, 9, 0, tzinfo=UTC)),  # 31 Aug + 6 months clamps to 28 Feb
        ("P2Y", datetime(2028, 8, 31, 9, 0, tzinfo=UTC)),
        ("P1M", datetime(2026, 9, 30, 9, 0, tzinfo=UTC)),
        ("P7D", datetime(2026, 9, 7, 9, 0, tzinfo=UTC)),
        ("P1W", datetime(2026, 9, 7, 9, 0, tzinfo=UTC)),
        ("PT2M", datetime(2026, 8, 31, 9, 2, tzinfo=UTC)),
        ("PT2S", datetime(2026, 8, 31, 9, 0, 2, tzinfo=UTC)),
        ("-P3M", datetime(2026, 5, 31, 9, 0, tzinfo=UTC)),
        ("P1Y2M3DT4H", datetime(2027, 11, 3, 13, 0, tzinfo=UTC)),
    ],
)
def test_adding_durations(text: str, expected: datetime) -> None:
    assert Duration.parse(text).add_to(START) == expected


def test_leap_year_clamp() -> None:
    assert Duration.parse("P6M").add_to(datetime(2027, 8, 31, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize("text", ["6M", "P", "PT", "P1.5M", "", "P-3M", "PT2", "six mois"])
def test_invalid_durations_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(DurationError, match="P6M"):
        Duration.parse(text)


def test_negated_goes_the_other_way() -> None:
    assert Duration.parse("P30D").negated().add_to(START) == datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
