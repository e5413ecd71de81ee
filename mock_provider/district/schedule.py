"""Courses, sections and teachers for one school: who takes what, who teaches it, when."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from . import catalogue
from .catalogue import CourseDef
from .people import Person, StaffFactory
from .records import new_id
from .sizes import ELEMENTARY, SchoolPlan

SECTION_CAP = {"elementary": 22, "charter": 24, "middle": 27, "high": 28, "alternative": 15}
PERIODS = 7
TEACHING_PERIODS = 6  # one planning period a day


@dataclass
class Section:
    sourced_id: str
    course: CourseDef
    course_id: str
    number: int
    terms: tuple[int, ...]  # indices into the calendar's two terms
    students: list[Person] = field(default_factory=list)
    teachers: list[tuple[Person, bool]] = field(default_factory=list)  # (teacher, primary)
    period: str = "1"
    room: str = ""
    linked_to: str | None = None
    # Students who joined after the term began, with their first day.
    late_joiners: dict[str, dt.date] = field(default_factory=dict)
    # Set only by data-quality quirks.
    title_override: str | None = None
    code_override: str | None = None

    @property
    def code(self) -> str:
        return self.code_override or f"{self.course.code}-{self.number:02d}"

    @property
    def title(self) -> str:
        return self.title_override or self.course.title


@dataclass
class SchoolSchedule:
    school: SchoolPlan
    courses: dict[CourseDef, str]  # course -> sourcedId
    sections: list[Section]
    teachers: list[Person]


def _course_choices(school: SchoolPlan, rng: random.Random, grade: str,
                    pool_size: int) -> list[CourseDef]:
    """The courses one student of ``grade`` takes at a secondary school."""
    if grade in ELEMENTARY:
        return [catalogue.homeroom(grade)]
    if grade in catalogue.MIDDLE_CORE:
        electives = catalogue.MIDDLE_ELECTIVES[:pool_size]
        picks = rng.sample(electives, min(2, len(electives)))
        return [*catalogue.MIDDLE_CORE[grade], *picks]
    year = catalogue.HIGH_YEAR_ELECTIVES[:pool_size]
    semester = [c for c in catalogue.HIGH_SEMESTER_ELECTIVES[: pool_size + 1] if grade in c.grades]
    chosen = [*catalogue.HIGH_CORE[grade], *catalogue.HIGH_PE, rng.choice(year)]
    for term, course in enumerate(rng.sample(semester, min(2, len(semester)))):
        chosen.append(CourseDef(course.title, course.code, course.subject, course.subject_code,
                                course.department, course.grades, semester=term))
    return chosen


class _TeacherPool:
    """Hands out sections to teachers of a department, each with at most six periods busy."""

    def __init__(self, staff: StaffFactory, org_id: str) -> None:
        self.staff, self.org_id = staff, org_id
        self.by_department: dict[str, list[tuple[Person, list[set[int]]]]] = {}
        self.teachers: list[Person] = []
        self.rooms: dict[str, str] = {}

    def place(self, section: Section) -> None:
        pool = self.by_department.setdefault(section.course.department, [])
        terms = section.terms
        # An elementary homeroom has its own teacher all day.
        shared = section.course.department != "Homeroom"
        for teacher, busy in pool if shared else ():
            free = [p for p in range(1, PERIODS + 1) if all(p not in busy[t] for t in terms)]
            if free and all(len(busy[t]) < TEACHING_PERIODS for t in terms):
                self._assign(section, teacher, busy, free[0])
                return
        teacher = self.staff.make("teacher", self.org_id)
        busy: list[set[int]] = [set(), set()]
        pool.append((teacher, busy))
        self.teachers.append(teacher)
        self.rooms[teacher.sourced_id] = f"Room {100 + len(self.teachers)}"
        self._assign(section, teacher, busy, 1)

    def _assign(self, section: Section, teacher: Person, busy: list[set[int]],
                period: int) -> None:
        for t in section.terms:
            busy[t].add(period)
        section.teachers.append((teacher, True))
        section.period = str(period) if section.course.department != "Homeroom" else "HR"
        section.room = self.rooms[teacher.sourced_id]


def build_school_schedule(
    school: SchoolPlan,
    org_id: str,
    students: list[Person],
    staff: StaffFactory,
    rng: random.Random,
    rng_ids: random.Random,
) -> SchoolSchedule:
    cap = SECTION_CAP[school.level]
    pool_size = max(2, min(6, school.students // 120))
    takers: dict[CourseDef, list[Person]] = {}
    for student in students:
        for course in _course_choices(school, rng, student.grades[0], pool_size):
            takers.setdefault(course, []).append(student)
    courses: dict[CourseDef, str] = {}
    sections: list[Section] = []
    teachers = _TeacherPool(staff, org_id)
    for course, enrolled in takers.items():
        base = CourseDef(course.title, course.code, course.subject, course.subject_code,
                         course.department, course.grades)
        if base not in courses:
            courses[base] = new_id(rng_ids)
        count = -(-len(enrolled) // cap)
        terms = (0, 1) if course.semester is None else (course.semester,)
        new = [Section(new_id(rng_ids), course, courses[base], len(sections) + i + 1, terms)
               for i in range(count)]
        rng.shuffle(enrolled)
        for i, student in enumerate(enrolled):
            new[i % count].students.append(student)
        for section in new:
            teachers.place(section)
        sections.extend(new)
    _co_teach(sections, teachers, rng)
    if school.level in ("high", "alternative"):
        _cross_list(sections, rng)
    return SchoolSchedule(school, courses, sections, teachers.teachers)


def _co_teach(sections: list[Section], teachers: _TeacherPool, rng: random.Random) -> None:
    for section in sections:
        if rng.random() >= 0.05:
            continue
        colleagues = [t for t, _ in teachers.by_department.get(section.course.department, ())
                      if t is not section.teachers[0][0]]
        if colleagues:
            section.teachers.append((rng.choice(colleagues), False))


def _cross_list(sections: list[Section], rng: random.Random) -> None:
    by_teacher: dict[str, list[Section]] = {}
    for section in sections:
        by_teacher.setdefault(section.teachers[0][0].sourced_id, []).append(section)
    for own in by_teacher.values():
        if len(own) < 2 or rng.random() >= 0.08:
            continue
        first, second = own[0], own[1]
        if first.course.code == second.course.code or first.terms != second.terms:
            continue
        second.period, second.room = first.period, first.room
        first.linked_to, second.linked_to = second.sourced_id, first.sourced_id
