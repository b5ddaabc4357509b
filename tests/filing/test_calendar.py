"""Chinese working days, checked by hand against the State Council schedules."""

from __future__ import annotations

from datetime import date

import pytest

from facegate.errors import FilingCalendarUnavailable
from facegate.filing.calendar import add_working_days, is_working_day


def test_adjusted_weekend_days_count_and_holidays_do_not() -> None:
    assert is_working_day(date(2025, 9, 28))  # Sunday, worked for National Day
    assert not is_working_day(date(2025, 10, 2))  # National Day holiday
    assert not is_working_day(date(2025, 9, 27))  # ordinary Saturday


def test_thirty_working_days_across_national_day() -> None:
    # Sep 28 (adjusted), 29, 30, Oct 9, 10, 11 (adjusted), then weekdays to Nov 13.
    assert add_working_days(date(2025, 9, 26), 30) == date(2025, 11, 13)


def test_thirty_working_days_across_spring_festival_2026() -> None:
    # Feb 9-13, 14 (adjusted), 24-27, 28 (adjusted), then weekdays to Mar 26.
    assert add_working_days(date(2026, 2, 6), 30) == date(2026, 3, 26)


def test_years_without_a_published_schedule_are_refused() -> None:
    with pytest.raises(FilingCalendarUnavailable):
        add_working_days(date(2099, 12, 1), 30)
