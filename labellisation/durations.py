"""ISO 8601 durations with calendar months, as process definitions write them.

`datetime.timedelta` cannot express "six months", and the FNEP path is
measured in months, so durations keep their calendar parts and are added
field by field (months first, clamping the day to the month's end).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

_PATTERN = re.compile(
    r"^(?P<sign>-)?P(?!$)"
    r"(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class DurationError(ValueError):
    """A text that is not an ISO 8601 duration such as P6M, P7D or PT2M."""


@dataclass(frozen=True)
class Duration:
    """A signed calendar duration: years and months, then an exact part."""

    negative: bool = False
    years: int = 0
    months: int = 0
    days: int = 0
    seconds: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        if not isinstance(text, str):
            raise _not_a_duration(text)
        return _parse(text)

    def add_to(self, moment: datetime) -> datetime:
        """Return `moment` shifted by this duration (backwards if negative)."""
        sign = -1 if self.negative else 1
        total_months = moment.year * 12 + (moment.month - 1) + sign * (self.years * 12 + self.months)
        year, month0 = divmod(total_months, 12)
        last_day = calendar.monthrange(year, month0 + 1)[1]
        shifted = moment.replace(year=year, month=month0 + 1, day=min(moment.day, last_day))
        return shifted + sign * timedelta(days=self.days, seconds=self.seconds)

    def negated(self) -> Duration:
        return Duration(not self.negative, self.years, self.months, self.days, self.seconds)

    def is_zero(self) -> bool:
        return not (self.years or self.months or self.days or self.seconds)


def _not_a_duration(text: object) -> DurationError:
    return DurationError(f"{text!r} n'est pas une durée ISO 8601 (exemples : P6M, P7D, PT2M, -P3M)")


@lru_cache(maxsize=1024)
def _parse(text: str) -> Duration:
    """Cached: a process names a few dozen durations, and reminder plans parse them again and again."""
    match = _PATTERN.match(text.strip())
    if match is None:
        raise _not_a_duration(text)
    part = {k: int(v) for k, v in match.groupdict().items() if v and k != "sign"}
    return Duration(
        negative=match.group("sign") == "-",
        years=part.get("years", 0),
        months=part.get("months", 0),
        days=part.get("days", 0) + 7 * part.get("weeks", 0),
        seconds=part.get("hours", 0) * 3600 + part.get("minutes", 0) * 60 + part.get("seconds", 0),
    )


def validate_duration(text: str) -> str:
    """Pydantic validator (after `str`): keep the text, refuse what does not parse.

    It skips `Duration.parse`'s type check: in the worker, Temporal's sandbox replaces the builtin `isinstance`
    with a slower one for the whole process, and a project's start validates every duration of its process
    snapshot (3 % of the worker's CPU per new project went to that one call).
    """
    _parse(text)
    return text
