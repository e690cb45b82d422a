"""The day the time-skipping tests start on (tests/support/office_hours.py): the next working morning, or the one
on or after LABELLISATION_TEST_START_DATE, so that the suite can be tried on the eve of a holiday."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.office_hours import PARIS, START_DATE, chosen_start, skip_to_office_hours

NOW = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)


def test_without_the_variable_the_tests_start_the_day_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(START_DATE, raising=False)
    assert chosen_start(NOW) == date(2026, 12, 9)


@pytest.mark.parametrize(
    ("given", "reason"),
    [("25/12/2031", "not a date (YYYY-MM-DD)"), ("2026-12-08", "only moves forward"), ("2020-01-01", "after 2026")],
)
def test_a_wrong_start_date_is_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, given: str, reason: str
) -> None:
    monkeypatch.setenv(START_DATE, given)
    with pytest.raises(ValueError, match=START_DATE) as refused:
        chosen_start(NOW)
    assert reason in str(refused.value)


async def test_the_clock_goes_to_the_first_working_morning_on_or_after_the_date(
    time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Christmas 2031 is a Thursday and a public holiday in France; the 26th is a working day.
    monkeypatch.setenv(START_DATE, "2031-12-25")
    at = await skip_to_office_hours(time_skipping_env)
    now = (await time_skipping_env.get_current_time()).astimezone(PARIS)
    assert (at.astimezone(PARIS).date(), now.date()) == (date(2031, 12, 26), date(2031, 12, 26))
    assert (now.hour, now.minute) == (10, 0)
