"""The school-year rollover: the district's active school year moves to the next one.

Infinite Campus serves only the district's active school year; changing the active year
changes the whole dataset, and next year's records are invisible until then.
``advance_year(conn)`` does that change to the file behind a writer connection (see
``mock_provider.writer``), in one IMMEDIATE transaction, all of it or none of it:

* meta ``school_year`` goes up by one and the clock moves to 07:00Z on the day before the new
  year's first day; a clock already past that moment is refused (``RolloverConflict``);
* every school gets the new year's sessions (school year, two terms, four grading periods),
  a copy of each of its active-year courses and classes (same title, code, periods, location,
  grades; terms mapped to the new terms), the classes' active teacher enrollments (same
  teachers and primary flags) dated to the new terms, and each class's categories and score
  scale; no line items or results (nothing is due yet);
* active students go up a grade. A student whose school does not offer the next grade moves to
  the school of the same feeder zone that does (the district plan from meta ``students``),
  preferring the zone's middle or high school; roles/primaryOrg (1.2), orgs (1.1), the
  ``school_id`` column and ``user_orgs`` follow. Each student gets the schedule one of last
  year's students of their new grade at their new school had (those schedules taken in turn),
  in the least filled section of each course. Grade-12 students graduate: user and
  demographics ``tobedeleted``, the account ``enabledUser: "false"``, no new enrollments;
* a new kindergarten arrives: every school that teaches KG (by its plan, else by its classes)
  admits about as many new KG students as its KG cohort had before the rollover (give or take
  ``INTAKE_SPREAD``; its planned KG size when it had none), made the way a tick makes a new
  student (``newcomers.Newcomers``: new student number, unique username and e-mail,
  demographics, a school role/primaryOrg (1.2), orgs (1.1), ``user_orgs``, and one or two new
  parents or guardians at the school, linked as ``agents`` both ways), each scheduled like a
  promoted student (last year's KG schedules at that school taken in turn, least filled
  section first). Counted as ``kindergarten`` and ``newGuardians``;
* then every served record of the old year (its sessions, courses, classes, enrollments,
  categories, score scales, line items and results) becomes ``hidden``; users, demographics
  and orgs stay served.

Every record written gets its own ``dateLastModified``: one second after the old clock for the
first, one more for each next, never after the new clock. Hiding a record does not restamp it
(hidden records are never served). Ids come from ``Random(f"{seed}:rollover:{year}:{clock}")``
over rows read in store order, so the same district rolled over the same way holds the same
content byte for byte.

Not modelled: guardians' roles do not follow a child to a new school, staff do not change
schools, students in a grade no school of their zone continues keep their school and get no
classes (counted as ``unplaced``), and quirk records are not copied to the new classes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from dataclasses import dataclass, field

from ..editor import RecordEditor
from ..record_forms import doc_sql, texts_sql
from ..writer import in_transaction
from .calendar import school_calendar
from .newcomers import Newcomers
from .records import enrollment, new_id, ref, ref_id, timestamp
from .sizes import GRADES_K12, SchoolPlan, plan_district
from .tick import parse_clock
from .zone import _session_rows

# Old-year tables hidden by a rollover, in the order they are hidden.
HIDDEN_TABLES = ("results", "lineItems", "categories", "scoreScales", "enrollments", "classes",
                 "courses", "academicSessions")
# Tables whose served counts meta ``counts`` keeps.
COUNTED = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments",
           "demographics", "categories", "scoreScales", "lineItems", "results")
LAST_GRADE = GRADES_K12[-1]
# A school's kindergarten intake is its old KG cohort give or take this share.
INTAKE_SPREAD = 0.05


class RolloverError(ValueError):
    """A rollover that cannot be applied to this file (not a finished district, no year)."""


class RolloverConflict(RolloverError):
    """The district clock is already at or past the new year's rollover moment."""


@dataclass
class RolloverReport:
    """What one rollover did, as counts."""

    old_clock: str
    new_clock: str
    old_school_year: int
    new_school_year: int
    promoted: int = 0
    graduated: int = 0
    moved_school: int = 0
    unplaced: int = 0
    kindergarten: int = 0
    new_guardians: int = 0
    sessions: int = 0
    courses: int = 0
    classes: int = 0
    teacher_enrollments: int = 0
    student_enrollments: int = 0
    categories: int = 0
    score_scales: int = 0
    hidden: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "promoted": self.promoted, "graduated": self.graduated,
            "movedSchool": self.moved_school, "unplaced": self.unplaced,
            "kindergarten": self.kindergarten, "newGuardians": self.new_guardians,
            "sessions": self.sessions, "courses": self.courses, "classes": self.classes,
            "enrollments": self.teacher_enrollments + self.student_enrollments,
            "teacherEnrollments": self.teacher_enrollments,
            "studentEnrollments": self.student_enrollments,
            "categories": self.categories, "scoreScales": self.score_scales,
            "hidden": sum(self.hidden.values()),
        }

    def to_dict(self) -> dict[str, object]:
        """The report as the admin route answers it (camelCase keys, like OneRoster)."""
        return {"oldClock": self.old_clock, "newClock": self.new_clock,
                "oldSchoolYear": self.old_school_year, "schoolYear": self.new_school_year,
                "counts": self.counts, "hidden": dict(self.hidden)}


def advance_year(conn: sqlite3.Connection) -> RolloverReport:
    """Roll the district behind ``conn`` (a writer connection) over to its next school year,
    in one IMMEDIATE transaction."""
    return in_transaction(conn, lambda c: _Rollover(c).run())


@dataclass
class _NewClass:
    sourced_id: str
    course_id: str
    grades: tuple[str, ...]
    begin: str
    end: str
    students: int = 0


class _Rollover:
    """One rollover over one open transaction; steps run in a fixed order."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.meta = dict(conn.execute("SELECT key, value FROM meta"))
        if self.meta.get("complete") != "1":
            raise RolloverError("the file is not a finished district store")
        year_text = self.meta.get("school_year", "")
        if not year_text.isdigit():
            raise RolloverError(f"the district has no active school year (got {year_text!r})")
        self.old_year = int(year_text)
        self.new_year = self.old_year + 1
        self.old_clock = self.meta.get("clock", "")
        self.old_epoch = parse_clock(self.old_clock)
        self.cal = school_calendar(self.new_year)
        eve = self.cal.year.start - dt.timedelta(days=1)
        self.new_clock = f"{eve.isoformat()}T07:00:00Z"
        self.new_epoch = parse_clock(self.new_clock)
        if self.new_epoch <= self.old_epoch:
            raise RolloverConflict(
                f"the district clock {self.old_clock} is already at or past the rollover to "
                f"school year {self.new_year} ({self.new_clock}); the clock never moves back")
        self.rng = random.Random(f"{self.meta.get('seed', '')}:rollover:{self.new_year}:"
                                 f"{self.old_clock}")
        self.report = RolloverReport(self.old_clock, self.new_clock, self.old_year,
                                     self.new_year)
        self._written = 0
        self.out = RecordEditor(conn, self.stamp)
        # Filled while copying: old id -> new id, and the new classes per school.
        self.course_map: dict[str, str] = {}
        self.class_map: dict[str, str] = {}
        self.new_classes: dict[str, list[_NewClass]] = {}
        # Filled before placing students (see ``read_schedules``): last year's schedules per
        # (school, grade), how many were handed out, the new sections per (school, course).
        self.models: dict[tuple[str, str], list[list[str]]] = {}
        self.turns: dict[tuple[str, str], int] = {}
        self.by_course: dict[tuple[str, str], list[_NewClass]] = {}
        self.plans: dict[str, SchoolPlan] = {}

    # --- writing -------------------------------------------------------------------------

    def stamp(self) -> str:
        self._written += 1
        return timestamp(min(self.old_epoch + self._written, self.new_epoch))

    # --- the rollover --------------------------------------------------------------------

    def run(self) -> RolloverReport:
        schools = [r[0] for r in self.conn.execute(
            "SELECT sourcedId FROM orgs WHERE type = 'school' AND hidden = 0 "
            "AND status = 'active' ORDER BY seq")]
        self.mark_old_year()
        students = self.read_students()
        for school_id in schools:
            self.copy_school(school_id)
        self.plans = self.school_plans(schools)
        self.promote(students)
        self.admit_kindergarten(schools, students)
        self.hide_old_year()
        self.finish()
        return self.report

    def mark_old_year(self) -> None:
        """Remember the served records of the old year (sessions, courses, classes) in temp
        tables: later steps and the final hiding select by them."""
        conn = self.conn
        for name in ("sessions", "courses", "classes"):
            conn.execute(f"DROP TABLE IF EXISTS temp.rollover_{name}")
            conn.execute(f"CREATE TEMP TABLE rollover_{name} (id TEXT PRIMARY KEY)")
        conn.execute("INSERT INTO temp.rollover_sessions SELECT sourcedId FROM academicSessions "
                     "WHERE hidden = 0 AND schoolYear = ?", (str(self.old_year),))
        conn.execute("INSERT INTO temp.rollover_courses SELECT sourcedId FROM courses "
                     "WHERE hidden = 0 AND schoolYear_id IN (SELECT id FROM "
                     "temp.rollover_sessions)")
        conn.execute("INSERT INTO temp.rollover_classes SELECT sourcedId FROM classes "
                     "WHERE hidden = 0 AND course_id IN (SELECT id FROM temp.rollover_courses)")

    def read_students(self) -> list[tuple[str, str | None, str | None, list[str]]]:
        """(student, school, grade, old-year classes) of every active student, in store
        order, read before anything changes."""
        classes: dict[str, list[str]] = {}
        for user_id, class_id in self.conn.execute(
            "SELECT user_id, class_id FROM enrollments WHERE role = 'student' "
            "AND status = 'active' AND hidden = 0 AND class_id IN "
            "(SELECT id FROM temp.rollover_classes) ORDER BY seq"):
            classes.setdefault(user_id, []).append(class_id)
        students = []
        for sid, school_id, text in self.conn.execute(
            f"SELECT sourcedId, school_id, {doc_sql('users', '1.2')} FROM users "
            "WHERE role = 'student' AND status = 'active' AND hidden = 0 ORDER BY seq"):
            grade = (json.loads(text).get("grades") or [None])[0]
            students.append((sid, school_id, grade, classes.get(sid, [])))
        return students

    def copy_school(self, school_id: str) -> None:
        conn = self.conn
        old_terms = [r[0] for r in conn.execute(
            "SELECT sourcedId FROM academicSessions WHERE school_id = ? AND type = 'term' "
            "AND sourcedId IN (SELECT id FROM temp.rollover_sessions) "
            "ORDER BY startDate, seq", (school_id,))]
        term_index = {tid: i for i, tid in enumerate(old_terms)}
        year_id, term_ids, _ = _session_rows(self.out, self.cal, school_id, self.rng,
                                             self.stamp, 0)
        self.report.sessions += 1 + len(self.cal.terms) + len(self.cal.quarters)

        for old_id, text, text11 in conn.execute(
            f"SELECT sourcedId, {texts_sql('courses')} FROM courses WHERE school_id = ? "
            "AND hidden = 0 AND status = 'active' "
            "AND sourcedId IN (SELECT id FROM temp.rollover_courses) ORDER BY seq",
            (school_id,)).fetchall():
            cid = new_id(self.rng)
            self.course_map[old_id] = cid
            dlm = self.stamp()
            changes = {"sourcedId": cid, "dateLastModified": dlm,
                       "schoolYear": ref("academicSession", year_id)}
            self.out.add_copy("courses", text, text11, changes)
            self.report.courses += 1

        old_classes = [row for row in conn.execute(
            f"SELECT sourcedId, course_id, {texts_sql('classes')} FROM classes WHERE school_id = ? "
            "AND hidden = 0 AND status = 'active' AND sourcedId IN "
            "(SELECT id FROM temp.rollover_classes) ORDER BY seq", (school_id,)).fetchall()
            if row[1] in self.course_map]
        for old_id, *_ in old_classes:
            self.class_map[old_id] = new_id(self.rng)
        made = self.new_classes.setdefault(school_id, [])
        for old_id, old_course, text, text11 in old_classes:
            made.append(self.copy_class(school_id, old_id, old_course, text, text11, term_index,
                                        term_ids))

    def copy_class(self, school_id: str, old_id: str, old_course: str, text: str,
                   text11: str | None, term_index: dict[str, int],
                   term_ids: list[str]) -> _NewClass:
        conn = self.conn
        class_id, course_id = self.class_map[old_id], self.course_map[old_course]
        indices = sorted({term_index[t] for (t,) in conn.execute(
            "SELECT term_id FROM class_terms WHERE class_id = ? ORDER BY rowid", (old_id,))
            if t in term_index}) or list(range(len(term_ids)))
        dlm = self.stamp()
        obj = json.loads(text)
        changes: dict[str, object] = {
            "sourcedId": class_id, "status": "active", "dateLastModified": dlm,
            "course": ref("course", course_id),
            "terms": [ref("academicSession", term_ids[i]) for i in indices],
        }
        linked = (obj.get("metadata") or {}).get("harness:crossListedWith")
        if linked is not None:
            metadata = dict(obj["metadata"])
            metadata["harness:crossListedWith"] = self.class_map.get(linked, linked)
            changes["metadata"] = metadata
        self.out.add_copy("classes", text, text11, changes)
        for i in indices:
            self.out.link("class_terms", class_id, term_ids[i])
        self.report.classes += 1
        klass = _NewClass(class_id, course_id, tuple(obj.get("grades") or ()),
                          self.cal.terms[indices[0]].start.isoformat(),
                          self.cal.terms[indices[-1]].end.isoformat())
        for user_id, primary in conn.execute(
            "SELECT e.user_id, e.primary_ FROM enrollments e JOIN users u "
            "ON u.sourcedId = e.user_id WHERE e.class_id = ? AND e.role = 'teacher' "
            "AND e.status = 'active' AND e.hidden = 0 AND u.status = 'active' "
            "ORDER BY e.seq", (old_id,)).fetchall():
            self.enroll(user_id, klass, school_id, "teacher", primary)
            self.report.teacher_enrollments += 1
        for cat_text, cat_text11 in conn.execute(
            f"SELECT {texts_sql('categories')} FROM categories WHERE class_id = ? AND hidden = 0 "
            "AND status = 'active' ORDER BY seq", (old_id,)).fetchall():
            cid, dlm = new_id(self.rng), self.stamp()
            changes = {"sourcedId": cid, "dateLastModified": dlm}
            self.out.add_copy("categories", cat_text, cat_text11, changes, class_id=class_id)
            self.report.categories += 1
        for scale_text, scale_text11 in conn.execute(
            f"SELECT {texts_sql('scoreScales')} FROM scoreScales WHERE class_id = ? AND hidden = 0 "
            "AND status = 'active' ORDER BY seq", (old_id,)).fetchall():
            sid, dlm = new_id(self.rng), self.stamp()
            changes = {"sourcedId": sid, "dateLastModified": dlm,
                       "course": ref("course", course_id), "class": ref("class", class_id)}
            self.out.add_copy("scoreScales", scale_text, scale_text11, changes)
            self.report.score_scales += 1
        return klass

    def enroll(self, user_id: str, klass: _NewClass, school_id: str, role: str,
               primary: str | None) -> None:
        eid, dlm = new_id(self.rng), self.stamp()
        self.out.add("enrollments", enrollment(eid, dlm, user_id, klass.sourced_id, school_id,
                                               role, primary, klass.begin, klass.end))
        if role == "student":
            klass.students += 1

    # --- students ------------------------------------------------------------------------

    def school_plans(self, schools: list[str]) -> dict[str, SchoolPlan]:
        """Each school's plan (grades, zone, level), found by its identifier (the plan
        number, maybe zero-padded). Empty when the district size is unknown."""
        students = self.meta.get("students", "")
        if not students.isdigit() or int(students) < 1:
            return {}
        by_number = {s.number: s for s in plan_district(int(students)).schools}
        plans = {}
        for sid, identifier in self.conn.execute(
            "SELECT sourcedId, identifier FROM orgs WHERE type = 'school' ORDER BY seq"):
            if sid in schools and identifier and identifier.isdigit():
                plan = by_number.get(int(identifier))
                if plan is not None:
                    plans[sid] = plan
        return plans

    def offers(self, school_id: str, grade: str) -> bool:
        """Whether the school teaches ``grade``: by its plan, else by its new classes."""
        if school_id in self.plans:
            return grade in self.plans[school_id].grades
        return any(grade in c.grades for c in self.new_classes.get(school_id, ()))

    def promote(self, students: list[tuple[str, str | None, str | None, list[str]]]) -> None:
        plans, offers = self.plans, self.offers

        def next_school(school_id: str, grade: str) -> str | None:
            plan = plans.get(school_id)
            if plan is None:
                return None
            options = sorted((p.level not in ("middle", "high"), p.number, sid)
                             for sid, p in plans.items()
                             if p.zone == plan.zone and sid != school_id and grade in p.grades)
            return options[0][2] if options else None

        self.read_schedules(students)
        for sid, school_id, grade, _ in students:
            if school_id is None or grade not in GRADES_K12:
                continue
            if grade == LAST_GRADE:
                self.graduate(sid)
                continue
            new_grade = GRADES_K12[GRADES_K12.index(grade) + 1]
            target: str | None = school_id
            if not offers(school_id, new_grade):
                target = next_school(school_id, new_grade)
            self.report.promoted += 1
            if target is None:
                self.report.unplaced += 1
                self.move(sid, school_id, school_id, new_grade)
                continue
            self.move(sid, school_id, target, new_grade)
            if target != school_id:
                self.report.moved_school += 1
            self.schedule(sid, target, new_grade)

    def read_schedules(self,
                       students: list[tuple[str, str | None, str | None, list[str]]]) -> None:
        """Last year's schedules (new course ids) per (school, grade), and the new classes per
        (school, course), for ``schedule``."""
        class_course = dict(self.conn.execute(
            "SELECT sourcedId, course_id FROM classes WHERE sourcedId IN "
            "(SELECT id FROM temp.rollover_classes)").fetchall())
        for _, school_id, grade, classes in students:
            courses: list[str] = []
            for class_id in classes:
                course = self.course_map.get(class_course.get(class_id, ""))
                if course is not None and course not in courses:
                    courses.append(course)
            if courses and school_id is not None and grade is not None:
                self.models.setdefault((school_id, grade), []).append(courses)
        for school_id, made in self.new_classes.items():
            for klass in made:
                self.by_course.setdefault((school_id, klass.course_id), []).append(klass)

    def schedule(self, sid: str, school_id: str, grade: str) -> None:
        """Enroll a student of ``grade`` at ``school_id`` in the schedule one of last year's
        students of that grade there had (those schedules taken in turn; without one, every
        course of the grade alone), in the least filled section of each course."""
        key = (school_id, grade)
        schedules = self.models.get(key)
        if schedules:
            turn = self.turns.get(key, 0)
            self.turns[key] = turn + 1
            courses = schedules[turn % len(schedules)]
        else:
            courses = []
            for klass in self.new_classes.get(school_id, ()):
                if klass.grades == (grade,) and klass.course_id not in courses:
                    courses.append(klass.course_id)
        for course_id in courses:
            sections = [c for c in self.by_course.get((school_id, course_id), ())
                        if grade in c.grades]
            if sections:
                klass = min(sections, key=lambda c: c.students)
                self.enroll(sid, klass, school_id, "student", None)
                self.report.student_enrollments += 1

    def move(self, sid: str, old_school: str, new_school: str, grade: str) -> None:
        """The student's new grade, and their school role moved when the school changes."""

        def edit(obj: dict, version: str) -> None:
            obj["grades"] = [grade]
            if new_school == old_school:
                return
            for role in obj.get("roles") or ():
                if role.get("role") == "student" and ref_id(role["org"]) == old_school:
                    role["org"] = ref("org", new_school)
            if "primaryOrg" in obj and ref_id(obj["primaryOrg"]) == old_school:
                obj["primaryOrg"] = ref("org", new_school)
            if "orgs" in obj:
                orgs: list[str] = []
                for org in obj["orgs"]:
                    org_id = new_school if ref_id(org) == old_school else ref_id(org)
                    if org_id not in orgs:
                        orgs.append(org_id)
                obj["orgs"] = [ref("org", o) for o in orgs]

        self.out.update("users", sid, edit)
        if new_school != old_school:
            self.conn.execute("UPDATE user_orgs SET org_id = ? WHERE user_id = ? AND org_id = ? "
                              "AND role = 'student'", (new_school, sid, old_school))

    def graduate(self, sid: str) -> None:
        self.out.tombstone("users", sid, enabledUser="false")
        if self.out.exists("demographics", sid):
            self.out.tombstone("demographics", sid)
        self.report.graduated += 1

    def admit_kindergarten(self, schools: list[str],
                           students: list[tuple[str, str | None, str | None, list[str]]]) -> None:
        """New kindergarten students at every school that teaches KG, about as many as its KG
        cohort before the rollover (its planned KG size when it had none), each with one or two
        new parents or guardians, scheduled like a promoted student."""
        first = GRADES_K12[0]
        cohorts: dict[str, int] = {}
        for _, school_id, grade, _ in students:
            if grade == first and school_id is not None:
                cohorts[school_id] = cohorts.get(school_id, 0) + 1
        people = Newcomers(self.conn, self.rng, self.cal, self.meta.get("domain") or "example.org",
                           self.out)
        for school_id in schools:
            if not self.offers(school_id, first):
                continue
            base = cohorts.get(school_id, 0)
            plan = self.plans.get(school_id)
            if not base and plan is not None:
                base = plan.students_per_grade[plan.grades.index(first)]
            for _ in range(round(base * self.rng.uniform(1 - INTAKE_SPREAD, 1 + INTAKE_SPREAD))):
                kid, adults = people.add_student(school_id, first)
                self.schedule(kid.sourced_id, school_id, first)
                self.report.kindergarten += 1
                self.report.new_guardians += len(adults)

    # --- closing -------------------------------------------------------------------------

    def hide_old_year(self) -> None:
        conn = self.conn
        by_class = "class_id IN (SELECT id FROM temp.rollover_classes)"
        where = {
            "results": by_class, "lineItems": by_class, "categories": by_class,
            "scoreScales": by_class, "enrollments": by_class,
            "classes": "sourcedId IN (SELECT id FROM temp.rollover_classes)",
            "courses": "sourcedId IN (SELECT id FROM temp.rollover_courses)",
            "academicSessions": "sourcedId IN (SELECT id FROM temp.rollover_sessions)",
        }
        for table in HIDDEN_TABLES:
            self.report.hidden[table] = self.out.hide(table, where[table])
        for name in ("sessions", "courses", "classes"):
            conn.execute(f"DROP TABLE temp.rollover_{name}")

    def finish(self) -> None:
        counts = {t: self.conn.execute(f"SELECT count(*) FROM {t} WHERE hidden = 0").fetchone()[0]
                  for t in COUNTED}
        rollovers = int(self.meta.get("rollovers") or 0) + 1
        for key, value in (("school_year", str(self.new_year)), ("clock", self.new_clock),
                           ("counts", json.dumps(counts)), ("rollovers", str(rollovers))):
            self.out.set_meta(key, value)


__all__ = ["RolloverConflict", "RolloverError", "RolloverReport", "advance_year"]
