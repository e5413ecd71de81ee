"""District sizes and the layout of schools they imply.

A district is split into feeder zones (one high school, its middle school and the elementary
schools that feed it). Zones are independent of each other, which lets the builder generate
them in parallel and keeps each zone's random streams separate.
"""

from __future__ import annotations

from dataclasses import dataclass

SIZES: dict[str, int] = {
    "tiny": 60,
    "small": 1_000,
    "medium": 10_000,
    "large": 100_000,
    "xl": 1_000_000,
}

GRADES_K12 = ("KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
ELEMENTARY = GRADES_K12[:6]
MIDDLE = GRADES_K12[6:9]
HIGH = GRADES_K12[9:]

# Districts up to this many students are modelled as one high school, as the small sizes ask.
SINGLE_HIGH_SCHOOL_MAX = 2_000
ZONE_STUDENTS = 3_500
ELEMENTARY_SCHOOL_STUDENTS = 420


@dataclass(frozen=True)
class SchoolPlan:
    number: int  # district-wide school number, also the school's identifier
    zone: int
    level: str  # elementary, middle, high, charter, alternative
    grades: tuple[str, ...]
    students_per_grade: tuple[int, ...]

    @property
    def students(self) -> int:
        return sum(self.students_per_grade)

    @property
    def secondary(self) -> bool:
        return self.level in ("middle", "high", "alternative")


@dataclass(frozen=True)
class ZonePlan:
    index: int
    first_student_number: int
    schools: tuple[SchoolPlan, ...]

    @property
    def students(self) -> int:
        return sum(s.students for s in self.schools)


@dataclass(frozen=True)
class DistrictPlan:
    students: int
    zones: tuple[ZonePlan, ...]

    @property
    def schools(self) -> tuple[SchoolPlan, ...]:
        return tuple(s for z in self.zones for s in z.schools)


def students_for(size: str | None, students: int | None) -> int:
    """The student count asked for by a size name or an explicit number."""
    if students is not None:
        if students < 1:
            raise ValueError("--students must be at least 1")
        return students
    if size is None:
        size = "tiny"
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    return SIZES[size]


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan_district(students: int) -> DistrictPlan:
    """Lay out zones and schools for ``students`` students. Depends on the count only."""
    numbers = iter(range(100, 100_000))
    if students <= SINGLE_HIGH_SCHOOL_MAX:
        high = SchoolPlan(next(numbers), 0, "high", HIGH, tuple(_split(students, len(HIGH))))
        return DistrictPlan(students, (ZonePlan(0, 0, (high,)),))

    zone_count = max(1, round(students / ZONE_STUDENTS))
    zones: list[ZonePlan] = []
    first_number = 0
    for z, zone_students in enumerate(_split(students, zone_count)):
        per_grade = _split(zone_students, len(GRADES_K12))
        by_grade = dict(zip(GRADES_K12, per_grade, strict=True))
        schools: list[SchoolPlan] = []
        # Every eighth zone has a K-8 charter school and every eighth (offset) an alternative
        # high school, taking a share of the zone's students in those grades.
        if z % 8 == 2:
            charter_grades = ELEMENTARY + MIDDLE
            share = tuple(max(1, by_grade[g] // 10) for g in charter_grades)
            for g, n in zip(charter_grades, share, strict=True):
                by_grade[g] -= n
            schools.append(SchoolPlan(next(numbers), z, "charter", charter_grades, share))
        if z % 8 == 5:
            share = tuple(max(1, by_grade[g] // 20) for g in HIGH)
            for g, n in zip(HIGH, share, strict=True):
                by_grade[g] -= n
            schools.append(SchoolPlan(next(numbers), z, "alternative", HIGH, share))
        elementary_count = max(1, round(sum(by_grade[g] for g in ELEMENTARY)
                                        / ELEMENTARY_SCHOOL_STUDENTS))
        split_by_grade = {g: _split(by_grade[g], elementary_count) for g in ELEMENTARY}
        for i in range(elementary_count):
            counts = tuple(split_by_grade[g][i] for g in ELEMENTARY)
            schools.append(SchoolPlan(next(numbers), z, "elementary", ELEMENTARY, counts))
        schools.append(SchoolPlan(next(numbers), z, "middle", MIDDLE,
                                  tuple(by_grade[g] for g in MIDDLE)))
        schools.append(SchoolPlan(next(numbers), z, "high", HIGH,
                                  tuple(by_grade[g] for g in HIGH)))
        zones.append(ZonePlan(z, first_number, tuple(schools)))
        first_number += zone_students
    return DistrictPlan(students, tuple(zones))
