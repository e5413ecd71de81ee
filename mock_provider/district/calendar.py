"""A US school calendar: school year, two semester terms, four quarter grading periods.

Dates follow OneRoster's convention: ``startDate`` inclusive, ``endDate`` exclusive, and
``schoolYear`` is the calendar year in which the school year ends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The simulated district clock starts here: early November of the 2026-27 school year, so the
# first quarter is graded and most of the year is still ahead.
ACTIVE_SCHOOL_YEAR = 2027
CLOCK_START = dt.datetime(2026, 11, 2, 7, 0, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Span:
    title: str
    kind: str  # schoolYear, term or gradingPeriod
    start: dt.date
    end: dt.date  # exclusive

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end


@dataclass(frozen=True)
class SchoolCalendar:
    school_year: int
    year: Span
    terms: tuple[Span, Span]
    quarters: tuple[Span, Span, Span, Span]


def school_calendar(school_year: int) -> SchoolCalendar:
    """The calendar of the school year that ends in ``school_year`` (2027 for 2026-27)."""
    first, second = school_year - 1, school_year

    def d(year: int, month: int, day: int) -> dt.date:
        return dt.date(year, month, day)

    label = f"{first}-{str(second)[2:]}"
    year = Span(f"{label} School Year", "schoolYear", d(first, 8, 19), d(second, 6, 4))
    s1 = Span(f"{label} Semester 1", "term", d(first, 8, 19), d(first, 12, 19))
    s2 = Span(f"{label} Semester 2", "term", d(second, 1, 5), d(second, 6, 4))
    quarters = (
        Span(f"{label} Quarter 1", "gradingPeriod", d(first, 8, 19), d(first, 10, 17)),
        Span(f"{label} Quarter 2", "gradingPeriod", d(first, 10, 19), d(first, 12, 19)),
        Span(f"{label} Quarter 3", "gradingPeriod", d(second, 1, 5), d(second, 3, 13)),
        Span(f"{label} Quarter 4", "gradingPeriod", d(second, 3, 15), d(second, 6, 4)),
    )
    return SchoolCalendar(school_year, year, (s1, s2), quarters)
