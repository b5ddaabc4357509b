"""Chinese working days, from the ``chinesecalendar`` package.

Filing deadlines run in working days (工作日): weekends and public holidays
do not count, and the adjusted working days (调休) on weekends do. The State
Council publishes each year's schedule late in the previous year; the package
ships the published years and refuses the others, and so does this module.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from ..errors import FilingCalendarUnavailable

__all__ = ["add_working_days", "is_working_day"]


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China.

    Raises:
        FilingCalendarUnavailable: the year's holiday schedule is not known.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise FilingCalendarUnavailable(
            f"the Chinese holiday schedule for {day.year} is not in the installed "
            "chinesecalendar package; upgrade it",
            details={"year": day.year}) from None


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    if days < 1:
        raise ValueError("days must be positive")
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
