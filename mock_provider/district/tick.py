"""The district's simulated clock, and the changes a running district makes while it moves.

``advance(conn, days)`` moves the clock (meta ``clock``) forward by ``days`` and applies, in the
same transaction, what a real student information system records over that time:

* new students enrolled in a school (user, school role, demographics, a grade-appropriate
  schedule copied from a classmate of the same grade, and one or two new parents or guardians
  linked as ``agents`` both ways; made by ``newcomers.Newcomers``, which the rollover's
  kindergarten intake shares);
* withdrawals: the student, their demographics and their enrollments become ``tobedeleted``,
  the account ``enabledUser: "false"``;
* schedule changes: one enrollment of a student becomes ``tobedeleted`` and a new one in another
  section of the same course starts on the new clock date;
* family-name changes, with the e-mail address following the name where it was derived from it
  and the new one is free (usernames never change);
* one new teacher per tick, co-teaching (``primary: "false"``) an existing class.

How much changes scales with the district and the time that passes: per school, a share of its
active students per week (capped at four weeks a tick), and never less than one of each kind.
Everything is drawn from ``Random(f"{seed}:tick:{new clock}")`` over rows read in store order,
so the same district ticked the same way holds the same content byte for byte.

Every record written gets its own ``dateLastModified``: one second after the old clock for the
first, one more for each next, and always before the new clock (the district's rule: nothing
is modified after its clock). New records get ``seq`` numbers after the largest in their table,
in the order they are written. The indexed columns and both JSON forms change together.
"""

from __future__ import annotations

import calendar as _calendar
import json
import random
import re
import sqlite3
import time
from dataclasses import dataclass, field

from ..editor import RecordEditor
from ..record_forms import doc_sql
from ..writer import in_transaction
from .calendar import school_calendar
from .names import catalog, login_part
from .newcomers import Newcomers
from .people import StaffFactory
from .records import enrollment, new_id, timestamp

USER_DOC = doc_sql("users", "1.2")

MAX_DAYS = 366
# Changes per active student of a school per simulated week; a tick counts at most MAX_WEEKS.
RATES = {"newStudents": 0.003, "withdrawals": 0.002, "scheduleChanges": 0.005,
         "nameChanges": 0.001}
MAX_WEEKS = 4.0

_CLOCK = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


class TickError(ValueError):
    """A tick that cannot be applied: a bad number of days, or a file that is not a district."""


@dataclass(frozen=True)
class NewStudent:
    student: str
    school: str
    grade: str
    classes: list[str]
    enrollments: list[str]
    guardians: list[str]


@dataclass(frozen=True)
class Withdrawal:
    student: str
    school: str
    enrollments: list[str]  # now tobedeleted


@dataclass(frozen=True)
class ScheduleChange:
    student: str
    from_class: str
    to_class: str
    dropped_enrollment: str  # now tobedeleted
    added_enrollment: str


@dataclass(frozen=True)
class NameChange:
    user: str
    old_family_name: str
    new_family_name: str
    old_email: str | None
    new_email: str | None  # equal to old_email when the address did not change


@dataclass(frozen=True)
class NewTeacher:
    teacher: str
    school: str
    class_id: str
    enrollment: str


@dataclass
class TickReport:
    """What one tick did. ``records`` lists, per table, every record it created or modified."""

    old_clock: str
    new_clock: str
    days: int
    new_students: list[NewStudent] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    schedule_changes: list[ScheduleChange] = field(default_factory=list)
    name_changes: list[NameChange] = field(default_factory=list)
    new_teachers: list[NewTeacher] = field(default_factory=list)
    records: dict[str, list[str]] = field(default_factory=dict)

    @property
    def new_guardians(self) -> list[str]:
        return [g for s in self.new_students for g in s.guardians]

    @property
    def counts(self) -> dict[str, int]:
        return {"newStudents": len(self.new_students), "newGuardians": len(self.new_guardians),
                "withdrawals": len(self.withdrawals),
                "scheduleChanges": len(self.schedule_changes),
                "nameChanges": len(self.name_changes), "newTeachers": len(self.new_teachers)}

    def to_dict(self) -> dict[str, object]:
        """The report as the admin route answers it (camelCase keys, like OneRoster)."""
        return {
            "oldClock": self.old_clock,
            "newClock": self.new_clock,
            "days": self.days,
            "counts": self.counts,
            "newStudents": [
                {"student": s.student, "school": s.school, "grade": s.grade,
                 "classes": s.classes, "enrollments": s.enrollments, "guardians": s.guardians}
                for s in self.new_students],
            "withdrawals": [{"student": w.student, "school": w.school,
                             "enrollments": w.enrollments} for w in self.withdrawals],
            "scheduleChanges": [
                {"student": c.student, "fromClass": c.from_class, "toClass": c.to_class,
                 "droppedEnrollment": c.dropped_enrollment,
                 "addedEnrollment": c.added_enrollment} for c in self.schedule_changes],
            "nameChanges": [
                {"user": n.user, "oldFamilyName": n.old_family_name,
                 "newFamilyName": n.new_family_name, "oldEmail": n.old_email,
                 "newEmail": n.new_email} for n in self.name_changes],
            "newTeachers": [{"teacher": t.teacher, "school": t.school, "class": t.class_id,
                             "enrollment": t.enrollment} for t in self.new_teachers],
            "records": self.records,
        }


def check_days(days: object) -> int:
    """``days`` as a whole number from 1 to ``MAX_DAYS``, else ``TickError`` naming it."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise TickError(f"days must be a whole number from 1 to {MAX_DAYS}, got {days!r}")
    if not 1 <= days <= MAX_DAYS:
        raise TickError(f"days must be from 1 to {MAX_DAYS}, got {days}")
    return days


def parse_clock(text: str) -> int:
    """Epoch seconds of a district clock text ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not isinstance(text, str) or not _CLOCK.fullmatch(text):
        raise TickError(f"the district clock {text!r} is not a YYYY-MM-DDTHH:MM:SSZ time")
    try:
        return _calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError as exc:
        raise TickError(f"the district clock {text!r} is not a valid time") from exc


def read_clock(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
    if row is None:
        raise TickError("the district file has no clock")
    return row[0]


def jump_clock(conn: sqlite3.Connection, when: str) -> str:
    """Move the clock forward to ``when`` (``YYYY-MM-DDTHH:MM:SSZ``) without changing any
    record, so the next tick's changes are stamped after it; an earlier ``when`` leaves the
    clock where it is (it never moves back). Returns the clock afterwards."""
    if not _CLOCK.fullmatch(when):
        raise TickError(f"a clock reads YYYY-MM-DDTHH:MM:SSZ, not {when!r}")

    def jump(c: sqlite3.Connection) -> str:
        clock = read_clock(c)
        if when > clock:
            c.execute("UPDATE meta SET value = ? WHERE key = 'clock'", (when,))
            return when
        return clock

    return in_transaction(conn, jump)


def advance(conn: sqlite3.Connection, days: int) -> TickReport:
    """Move the district clock of the file behind ``conn`` (a writer connection, see
    ``mock_provider.writer``) forward by ``days`` and apply the changes, all in one IMMEDIATE
    transaction: either all of it is stored or none of it."""
    days = check_days(days)
    return in_transaction(conn, lambda c: _Tick(c, days).run())


@dataclass
class _Class:
    sourced_id: str
    course_id: str
    grades: tuple[str, ...]
    start: str  # first day of its first term
    end: str  # end (exclusive) of its last term
    students: int  # active student enrollments


@dataclass
class _School:
    sourced_id: str
    classes: list[_Class]
    by_id: dict[str, _Class]
    by_course: dict[str, list[_Class]]


class _Tick:
    """One tick over one open transaction. Methods run in a fixed order, each drawing from the
    one tick stream, so the result depends on the district and the clock only."""

    def __init__(self, conn: sqlite3.Connection, days: int) -> None:
        self.conn = conn
        self.days = days
        self.meta = dict(conn.execute("SELECT key, value FROM meta"))
        if self.meta.get("complete") != "1":
            raise TickError("the file is not a finished district store")
        self.old_clock = self.meta.get("clock", "")
        self.old_epoch = parse_clock(self.old_clock)
        self.new_epoch = self.old_epoch + days * 86400
        self.new_clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.new_epoch))
        self.today = self.new_clock[:10]
        self.rng = random.Random(f"{self.meta.get('seed', '')}:tick:{self.new_clock}")
        self.domain = self.meta.get("domain", "example.org")
        self.cal = school_calendar(int(self.meta.get("school_year") or self.new_clock[:4]))
        self.report = TickReport(self.old_clock, self.new_clock, days)
        self._written = 0
        self.out = RecordEditor(conn, self.stamp)
        self._schools: dict[str, _School] = {}
        self.people = Newcomers(conn, self.rng, self.cal, self.domain, self.out)
        self.touched: set[str] = set()

    # --- writing -------------------------------------------------------------------------

    def stamp(self) -> str:
        """The next record's dateLastModified: after the old clock, before the new one."""
        self._written += 1
        return timestamp(min(self.old_epoch + self._written, self.new_epoch - 1))

    def add_enrollment(self, user_id: str, klass: _Class, school_id: str, role: str,
                       primary: str | None) -> str:
        eid = new_id(self.rng)
        dlm = self.stamp()
        begin = max(self.today, klass.start)
        self.out.add("enrollments", enrollment(eid, dlm, user_id, klass.sourced_id, school_id,
                                               role, primary, begin, klass.end))
        if role == "student":
            klass.students += 1
        return eid

    # --- reading -------------------------------------------------------------------------

    def school(self, school_id: str) -> _School:
        """The school's active classes (with their term dates and active student counts)."""
        if school_id in self._schools:
            return self._schools[school_id]
        counts = dict(self.conn.execute(
            "SELECT class_id, count(*) FROM enrollments WHERE school_id = ? AND role = 'student'"
            " AND status = 'active' AND hidden = 0 GROUP BY class_id", (school_id,)))
        classes = []
        for sid, course_id, text, start, end in self.conn.execute(
            f"SELECT c.sourcedId, c.course_id, {doc_sql('classes', '1.2', 'c')}, "
            "min(s.startDate), max(s.endDate) "
            "FROM classes c JOIN class_terms t ON t.class_id = c.sourcedId "
            "JOIN academicSessions s ON s.sourcedId = t.term_id "
            "WHERE c.school_id = ? AND c.hidden = 0 AND c.status = 'active' "
            "GROUP BY c.sourcedId ORDER BY c.seq", (school_id,)):
            grades = tuple(json.loads(text).get("grades") or ())
            classes.append(_Class(sid, course_id, grades, start, end, counts.get(sid, 0)))
        by_course: dict[str, list[_Class]] = {}
        for klass in classes:
            by_course.setdefault(klass.course_id, []).append(klass)
        school = _School(school_id, classes, {c.sourced_id: c for c in classes}, by_course)
        self._schools[school_id] = school
        return school

    def running(self, klass: _Class) -> bool:
        return klass.end > self.today

    def student_enrollments(self, user_id: str) -> list[tuple[str, str]]:
        """(enrollment, class) of the user's active student enrollments, in store order."""
        return self.conn.execute(
            "SELECT sourcedId, class_id FROM enrollments WHERE user_id = ? AND role = 'student'"
            " AND status = 'active' AND hidden = 0 ORDER BY seq", (user_id,)).fetchall()

    # --- the tick ------------------------------------------------------------------------

    def run(self) -> TickReport:
        schools = [r[0] for r in self.conn.execute(
            "SELECT sourcedId FROM orgs WHERE type = 'school' AND hidden = 0 "
            "AND status = 'active' ORDER BY seq")]
        students: dict[str, list[str]] = {s: [] for s in schools}
        people: dict[str, list[str]] = {s: [] for s in schools}
        for sid, school_id, role in self.conn.execute(
            "SELECT sourcedId, school_id, role FROM users WHERE status = 'active' "
            "AND hidden = 0 ORDER BY seq"):
            if school_id in people:
                people[school_id].append(sid)
                if role == "student":
                    students[school_id].append(sid)
        for school_id in schools:
            active = students[school_id]
            self.add_students(school_id, active, self.how_many("newStudents", len(active)))
            self.withdraw(school_id, active, self.how_many("withdrawals", len(active)))
            self.change_schedules(school_id, active,
                                  self.how_many("scheduleChanges", len(active)))
            self.change_names(school_id, people[school_id],
                              self.how_many("nameChanges", len(active)))
        self.add_teacher(schools)
        self.finish()
        return self.report

    def how_many(self, kind: str, students: int) -> int:
        expected = students * RATES[kind] * min(self.days / 7, MAX_WEEKS)
        whole = int(expected)
        return max(1, whole + (1 if self.rng.random() < expected - whole else 0))

    def add_students(self, school_id: str, active: list[str], count: int) -> None:
        school = self.school(school_id)
        grades = sorted({g for c in school.classes if self.running(c) for g in c.grades})
        for _ in range(count):
            model = self.rng.choice(active) if active else None
            grade = None
            if model is not None:
                text = self.conn.execute(f"SELECT {USER_DOC} FROM users WHERE sourcedId = ?",
                                         (model,)).fetchone()[0]
                grade = (json.loads(text).get("grades") or [None])[0]
            if grade is None:
                if not grades:
                    return
                grade = self.rng.choice(grades)
            self.add_student(school, grade, model)

    def _schedule_for(self, school: _School, grade: str, model: str | None) -> list[_Class]:
        """One running section per course the model classmate takes (or, without one, per
        course of the grade), the least filled section first."""
        if model is not None:
            course_ids = []
            for _, class_id in self.student_enrollments(model):
                klass = school.by_id.get(class_id)
                if klass is not None and klass.course_id not in course_ids:
                    course_ids.append(klass.course_id)
        else:
            course_ids = [c for c, sections in school.by_course.items()
                          if grade in sections[0].grades]
        chosen = []
        for course_id in course_ids:
            sections = [c for c in school.by_course.get(course_id, ())
                        if grade in c.grades and self.running(c)]
            if sections:
                chosen.append(min(sections, key=lambda c: c.students))
        return chosen

    def add_student(self, school: _School, grade: str, model: str | None) -> None:
        kid, adults = self.people.add_student(school.sourced_id, grade)
        classes = self._schedule_for(school, grade, model)
        enrollments = [self.add_enrollment(kid.sourced_id, c, school.sourced_id, "student", None)
                       for c in classes]
        self.touched.add(kid.sourced_id)
        self.report.new_students.append(NewStudent(
            kid.sourced_id, school.sourced_id, grade, [c.sourced_id for c in classes],
            enrollments, [a.sourced_id for a in adults]))

    def withdraw(self, school_id: str, active: list[str], count: int) -> None:
        free = [s for s in active if s not in self.touched]
        for sid in self.rng.sample(free, min(count, len(free))):
            self.touched.add(sid)
            active.remove(sid)
            self.out.tombstone("users", sid, enabledUser="false")
            if self.out.exists("demographics", sid):
                self.out.tombstone("demographics", sid)
            dropped = []
            school = self.school(school_id)
            for eid, class_id in self.student_enrollments(sid):
                self.out.tombstone("enrollments", eid)
                if class_id in school.by_id:
                    school.by_id[class_id].students -= 1
                dropped.append(eid)
            self.report.withdrawals.append(Withdrawal(sid, school_id, dropped))

    def change_schedules(self, school_id: str, active: list[str], count: int) -> None:
        school = self.school(school_id)
        free = [s for s in active if s not in self.touched]
        done = 0
        for sid in self.rng.sample(free, len(free)):
            if done == count:
                return
            enrolled = self.student_enrollments(sid)
            mine = {class_id for _, class_id in enrolled}
            options = []
            for eid, class_id in enrolled:
                current = school.by_id.get(class_id)
                if current is None or not self.running(current):
                    continue
                for other in school.by_course[current.course_id]:
                    if other.sourced_id not in mine and self.running(other):
                        options.append((eid, current, other))
            if not options:
                continue
            eid, current, other = self.rng.choice(options)
            self.touched.add(sid)
            self.out.tombstone("enrollments", eid)
            current.students -= 1
            added = self.add_enrollment(sid, other, school_id, "student", None)
            self.report.schedule_changes.append(
                ScheduleChange(sid, current.sourced_id, other.sourced_id, eid, added))
            done += 1

    def change_names(self, school_id: str, people: list[str], count: int) -> None:
        cat = catalog()
        free = [p for p in people if p not in self.touched]
        for sid in self.rng.sample(free, min(count, len(free))):
            self.touched.add(sid)
            obj = json.loads(self.conn.execute(f"SELECT {USER_DOC} FROM users WHERE sourcedId = ?",
                                               (sid,)).fetchone()[0])
            old = obj.get("familyName", "")
            new = old
            for _ in range(50):
                new = cat.last.one(self.rng)
                if new != old:
                    break
            email = obj.get("email")
            new_email = email
            old_part, new_part = login_part(old), login_part(new)
            if email and "@" in email and old_part and old_part in email.split("@")[0]:
                local, _, domain = email.partition("@")
                candidate = f"{local.replace(old_part, new_part, 1)}@{domain}"
                if new_part and not self.people.taken("email", candidate):
                    new_email = candidate
            self.out.set_fields("users", sid, {"familyName": new, "email": new_email})
            self.report.name_changes.append(NameChange(sid, old, new, email, new_email))

    def add_teacher(self, schools: list[str]) -> None:
        """One new teacher, co-teaching a running class of a school that has one."""
        order = self.rng.sample(schools, len(schools))
        for school_id in order:
            school = self.school(school_id)
            running = [c for c in school.classes if self.running(c)]
            if not running:
                continue
            klass = self.rng.choice(running)
            prefix = self.people.prefix_at(
                school_id, ("teacher", "principal", "aide", "counselor"), "E", 4)
            staff = StaffFactory(self.rng, self.rng, catalog(), int(prefix[1:]), self.domain)
            while True:
                staff.serial = self.people.next_number(prefix, 4) - 1
                teacher = staff.make("teacher", school_id)
                if not (self.people.taken("identifier", teacher.number)
                        or self.people.taken("username", teacher.username)
                        or self.people.taken("email", teacher.email)):
                    break
            self.people.emit_person(teacher)
            eid = self.add_enrollment(teacher.sourced_id, klass, school_id, "teacher", "false")
            self.report.new_teachers.append(
                NewTeacher(teacher.sourced_id, school_id, klass.sourced_id, eid))
            return

    def finish(self) -> None:
        counts = json.loads(self.meta.get("counts") or "{}")
        for table, added in self.out.added.items():
            counts[table] = counts.get(table, 0) + added
        ticks = int(self.meta.get("ticks") or 0) + 1
        for key, value in (("clock", self.new_clock), ("counts", json.dumps(counts)),
                           ("ticks", str(ticks))):
            self.out.set_meta(key, value)
        self.report.records = {table: list(ids) for table, ids in self.out.changed.items()}


__all__ = ["MAX_DAYS", "NameChange", "NewStudent", "NewTeacher", "ScheduleChange",
           "TickError", "TickReport", "Withdrawal", "advance", "check_days", "parse_clock",
           "read_clock"]
