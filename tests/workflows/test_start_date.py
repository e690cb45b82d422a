"""The day the time-skipping tests start on (tests/support/office_hours.py): the next working morning, or the one
on or after LABELLISATION_TEST_START_DATE, so that the suite can be tried on the eve of a holiday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.office_hours import PARIS, START_DATE, chosen_start, next_office_morning, skip_to_office_hours

NOW = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
#: 23:30 UTC is already the next day in Paris.
LATE = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)


def test_without_the_variable_the_tests_start_the_day_after_in_paris(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_DATE, raising=False)
    assert chosen_start(NOW) == date(2026, 12, 9)
    assert chosen_start(LATE) == date(2026, 12, 10)
    # the fixture's default: 10:00 Paris on the next working day, as before the variable
    assert next_office_morning(LATE) == datetime(2026, 12, 10, 10, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("25/12/2031", "not a date (YYYY-MM-DD)"),
        ("20311225", "not a date (YYYY-MM-DD)"),
        ("2031-02-30", "not a date (YYYY-MM-DD)"),
        ("2026-12-09", "give a day after 2026-12-09 (Paris)"),
        ("2020-01-01", "only moves forward"),
    ],
)
def test_a_wrong_start_date_is_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, given: str, reason: str
) -> None:
    monkeypatch.setenv(START_DATE, given)
    with pytest.raises(ValueError, match=START_DATE) as refused:
        chosen_start(LATE)
    assert reason in str(refused.value)


async def test_the_clock_goes_to_the_first_working_morning_on_or_after_the_date(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Christmas, a public holiday in France, next year (ahead of the server's clock whatever the date): the tests
    # start on the 26th, or on the Monday after when the 26th is a Saturday or a Sunday (none of 26-28 December is
    # a holiday in France).
    christmas = date((await time_skipping_env.get_current_time()).year + 1, 12, 25)
    after = christmas + timedelta(days=1)
    while after.weekday() >= 5:
        after += timedelta(days=1)
    monkeypatch.setenv(START_DATE, christmas.isoformat())
    at = await skip_to_office_hours(time_skipping_env)
    now = (await time_skipping_env.get_current_time()).astimezone(PARIS)
    assert (at.astimezone(PARIS).date(), now.date()) == (after, after)
    assert (now.hour, now.minute) == (10, 0)
