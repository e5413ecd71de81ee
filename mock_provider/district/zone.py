"""Everything inside one feeder zone, generated from the zone's own random streams and returned
as store rows (records go through ``mock_provider.editor.RecordEditor``, which derives them).

Each entity kind draws from its own stream (``Random(f"{seed}:{zone}:{kind}")``), so adding a
field to one kind does not reshuffle the others, and zones can be built in any order or process.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..editor import RecordEditor, Rows
from .calendar import SchoolCalendar, school_calendar
from .gradebook import emit_gradebook
from .names import catalog
from .people import ROLE_V11, Person, StaffFactory, demographics, make_students_and_families
from .quirks import apply_people_quirks, apply_section_quirks
from .records import new_id, ref, ref_json, timestamp
from .schedule import SchoolSchedule, Section, build_school_schedule
from .sizes import SchoolPlan, ZonePlan


@dataclass(frozen=True)
class DistrictContext:
    """What every zone needs to know about the district; small and picklable."""

    seed: int
    domain: str
    state: str
    district_id: str
    school_ids: dict[int, str]
    school_year: int
    clock_epoch: int
    quirks: frozenset[str]
    # department -> (student edition, teacher edition) resource sourcedIds
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)


def _epoch(day: dt.date) -> int:
    return _calendar.timegm((day.year, day.month, day.day, 0, 0, 0, 0, 0, 0))


class _Clock:
    """Deterministic ``dateLastModified`` values in the months before the district clock."""

    def __init__(self, rng: random.Random, clock_epoch: int, cal: SchoolCalendar) -> None:
        self.rng = rng
        self.start = _epoch(cal.year.start) - 60 * 86400
        self.span = clock_epoch - self.start - 86400

    def __call__(self) -> str:
        return timestamp(self.start + self.rng.randrange(self.span))


def build_zone(ctx: DistrictContext, zone: ZonePlan) -> Rows:
    out = RecordEditor()

    def stream(kind: str) -> random.Random:
        return random.Random(f"{ctx.seed}:{zone.index}:{kind}")

    cat = catalog()
    cal = school_calendar(ctx.school_year)
    previous = school_calendar(ctx.school_year - 1)
    rng_ids = stream("ids")
    when = _Clock(stream("times"), ctx.clock_epoch, cal)

    families = make_students_and_families(
        stream("people"), rng_ids, cat, zone.schools, ctx.school_ids,
        zone.first_student_number, zone.index, ctx.domain,
    )
    staff = StaffFactory(stream("staff"), rng_ids, cat, zone.index, ctx.domain)
    rng_schedule = stream("schedule")
    schedules: list[SchoolSchedule] = []
    for school in zone.schools:
        org_id = ctx.school_ids[school.number]
        staff.school_leadership(school, org_id)
        students = [s for s in families.students if s.school is school]
        schedules.append(build_school_schedule(school, org_id, students, staff, rng_schedule,
                                               rng_ids))
    _share_teachers(schedules, ctx.school_ids, rng_schedule)

    quirk_hits: list[tuple[str, str, str]] = []
    if ctx.quirks:
        rng_quirks = stream("quirks")
        people = families.students + staff.made + families.guardians + families.relatives
        quirk_hits += apply_people_quirks(rng_quirks, ctx.quirks, people)
        for schedule in schedules:
            quirk_hits += apply_section_quirks(rng_quirks, ctx.quirks, schedule.sections)
    for hit in quirk_hits:
        out.link("quirks", *hit)

    rng_enroll = stream("enrollments")
    rng_grades = stream("gradebook")
    for schedule in schedules:
        _emit_school(out, ctx, schedule, cal, previous, rng_ids, rng_enroll, rng_grades, when)

    rng_demo = stream("demographics")
    for person in families.students:
        _emit_user(out, person, when())
        demo = demographics(rng_demo, person, cal, ctx.state)
        dlm = when()
        obj = {"sourcedId": person.sourced_id, "status": person.status, "dateLastModified": dlm,
               **demo}
        v11 = None
        if demo["sex"] not in ("male", "female"):
            v11 = {k: v for k, v in obj.items() if k != "sex"}
        # Rendered from the columns when the one value from the name catalog needs no escape.
        out.add("demographics", obj, v11,
                rendered=v11 is None and not _NEEDS_ESCAPE.search(demo["cityOfBirth"]))
    for person in staff.made + families.guardians + families.relatives:
        _emit_user(out, person, when())
    return out.rows


def _share_teachers(schedules: list[SchoolSchedule], school_ids: dict[int, str],
                    rng: random.Random) -> None:
    """Some teachers also work in a second building of the zone, co-teaching a class there."""
    if len(schedules) < 2:
        return
    for i, schedule in enumerate(schedules):
        for teacher in schedule.teachers:
            if rng.random() >= 0.05:
                continue
            other = schedules[(i + 1 + rng.randrange(len(schedules) - 1)) % len(schedules)]
            if not other.sections:
                continue
            section = rng.choice(other.sections)
            if any(t is teacher for t, _ in section.teachers):
                continue
            teacher.add_role("teacher", school_ids[other.school.number])
            section.teachers.append((teacher, False))


def _session_rows(out: RecordEditor, cal: SchoolCalendar, school_id: str,
                  rng_ids: random.Random, when: Callable[[], str],
                  hidden: int) -> tuple[str, list[str], list[str]]:
    year_id = new_id(rng_ids)
    term_ids = [new_id(rng_ids) for _ in cal.terms]
    quarter_ids = [new_id(rng_ids) for _ in cal.quarters]
    school_year = str(cal.school_year)

    def session(sid: str, span, parent: str | None, children: list[str]) -> None:
        dlm = when()
        obj: dict[str, object] = {
            "sourcedId": sid, "status": "active", "dateLastModified": dlm, "title": span.title,
            "startDate": span.start.isoformat(), "endDate": span.end.isoformat(),
            "type": span.kind,
        }
        if parent:
            obj["parent"] = ref("academicSession", parent)
        if children:
            obj["children"] = [ref("academicSession", c) for c in children]
        obj["schoolYear"] = school_year
        out.add("academicSessions", obj, hidden=hidden, school_id=school_id)

    session(year_id, cal.year, None, term_ids)
    for t, term in enumerate(cal.terms):
        session(term_ids[t], term, year_id, quarter_ids[2 * t : 2 * t + 2])
    for q, quarter in enumerate(cal.quarters):
        session(quarter_ids[q], quarter, term_ids[q // 2], [])
    return year_id, term_ids, quarter_ids


def _emit_school(out: RecordEditor, ctx: DistrictContext, schedule: SchoolSchedule,
                 cal: SchoolCalendar,
                 previous: SchoolCalendar, rng_ids: random.Random, rng_enroll: random.Random,
                 rng_grades: random.Random, when: _Clock) -> None:
    school = schedule.school
    school_id = ctx.school_ids[school.number]
    school_ref = ref("org", school_id)
    year_id, term_ids, quarter_ids = _session_rows(out, cal, school_id, rng_ids, when, 0)
    prev_year_id, prev_term_ids, _ = _session_rows(out, previous, school_id, rng_ids, when, 1)

    def editions(course) -> tuple[str | None, str | None]:
        return ctx.resources.get(course.department, (None, None))

    first_section: dict[str, Section] = {}
    for course, course_id in schedule.courses.items():
        _emit_course(out, course, course_id, year_id, school_ref, when(), 0,
                     editions(course)[0])
    for section in schedule.sections:
        first_section.setdefault(section.course_id, section)
        student_edition, teacher_edition = editions(section.course)
        _emit_class(out, section, school, school_ref, term_ids, when(), 0, student_edition)
        for teacher, primary in section.teachers:
            if primary and teacher_edition and teacher_edition not in teacher.resources:
                teacher.resources.append(teacher_edition)
        _emit_enrollments(out, section, school_ref, cal, rng_enroll, rng_ids, when, 0)
        emit_gradebook(out, rng_grades, rng_ids, section, ref("class", section.sourced_id),
                       school_ref, cal, quarter_ids, ctx.clock_epoch, school.secondary)

    # Last year's courses and one section of each with its teacher, hidden until a rollover
    # simulation needs them.
    for course, course_id in schedule.courses.items():
        old_course_id = new_id(rng_ids)
        _emit_course(out, course, old_course_id, prev_year_id, school_ref, when(), 1,
                     editions(course)[0])
        model = first_section[course_id]
        old = Section(new_id(rng_ids), model.course, old_course_id, model.number, model.terms,
                      teachers=[model.teachers[0]], period=model.period, room=model.room)
        _emit_class(out, old, school, school_ref, prev_term_ids, when(), 1,
                    editions(old.course)[0])
        _emit_enrollments(out, old, school_ref, previous, rng_enroll, rng_ids, when, 1)


def _emit_course(out: RecordEditor, course, course_id: str, year_id: str,
                 school_ref: dict[str, str], dlm: str, hidden: int,
                 resource: str | None = None) -> None:
    obj = {
        "sourcedId": course_id, "status": "active", "dateLastModified": dlm,
        "title": course.title, "schoolYear": ref("academicSession", year_id),
        "courseCode": course.code, "grades": list(course.grades), "subjects": [course.subject],
        "org": school_ref, "subjectCodes": [course.subject_code],
    }
    if resource:
        obj["resources"] = [ref("resource", resource)]
    out.add("courses", obj, hidden=hidden)


def _emit_class(out: RecordEditor, section: Section, school: SchoolPlan, school_ref: dict[str, str],
                term_ids: list[str], dlm: str, hidden: int, resource: str | None = None) -> None:
    class_id = section.sourced_id
    class_type = "homeroom" if section.course.department == "Homeroom" else "scheduled"
    obj: dict[str, object] = {"sourcedId": class_id, "status": "active", "dateLastModified": dlm}
    if section.linked_to:
        obj["metadata"] = {"harness:crossListedWith": section.linked_to}
    obj.update({
        "title": section.title, "classCode": section.code, "classType": class_type,
        "location": section.room, "grades": list(section.course.grades),
        "subjects": [section.course.subject], "course": ref("course", section.course_id),
        "school": school_ref,
        "terms": [ref("academicSession", term_ids[t]) for t in section.terms],
        "subjectCodes": [section.course.subject_code], "periods": [section.period],
    })
    if resource:
        obj["resources"] = [ref("resource", resource)]
    out.add("classes", obj, hidden=hidden)
    for t in section.terms:
        out.link("class_terms", class_id, term_ids[t])


def _emit_enrollments(out: RecordEditor, section: Section, school_ref: dict[str, str],
                      cal: SchoolCalendar, rng: random.Random, rng_ids: random.Random, when: _Clock,
                      hidden: int) -> None:
    # Enrollments are the most numerous rostering record: the store renders their text from
    # the columns (every value an id, a date or an enum: nothing to escape), so none is made.
    class_ref = ref("class", section.sourced_id)
    begin = cal.terms[section.terms[0]].start
    end = cal.terms[section.terms[-1]].end.isoformat()

    def enrollment(person: Person, role: str, primary: str | None, start: dt.date) -> None:
        eid = new_id(rng_ids)
        dlm = when()
        start_text = start.isoformat()
        record = {"sourcedId": eid, "status": "active", "dateLastModified": dlm,
                  "user": ref("user", person.sourced_id), "class": class_ref,
                  "school": school_ref, "role": role}
        if primary is not None:
            record["primary"] = primary
        record["beginDate"] = start_text
        record["endDate"] = end
        out.add("enrollments", record, hidden=hidden, rendered=True)

    for teacher, primary in section.teachers:
        enrollment(teacher, "teacher", "true" if primary else "false", begin)
    if hidden:
        return
    for student in section.students:
        start = begin
        if rng.random() < 0.03:
            start = begin + dt.timedelta(days=rng.randrange(10, 40))
            section.late_joiners[student.sourced_id] = start
        enrollment(student, "student", None, start)


# What JSON escapes (``dumps`` keeps other characters as they are): a person with any of these
# in a value gets the generic serializer.
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _user_texts(person: Person, dlm: str, role11: str,
                orgs: list[str]) -> tuple[str, str] | None:
    """A user's 1.2 and 1.1 texts, exactly as ``dumps`` writes the records ``_emit_user``
    builds, from templates: users are a sixth of a district's records and the generic
    serializer took about 5 us for each form of each. None when a value would need escaping."""
    strings = [person.sourced_id, person.status, dlm, person.given, person.family,
               person.number, *(t for pair in person.user_ids for t in pair), *person.grades]
    for value in (person.username, person.middle, person.preferred, person.email,
                  person.sms, person.phone):
        if value:
            strings.append(value)
    if _NEEDS_ESCAPE.search("".join(strings)):
        return None
    head = (f'{{"sourcedId":"{person.sourced_id}","status":"{person.status}",'
            f'"dateLastModified":"{dlm}"')
    if person.username is not None:
        head += f',"username":"{person.username}"'
    ids = ",".join(f'{{"type":"{t}","identifier":"{i}"}}' for t, i in person.user_ids)
    head += (f',"userIds":[{ids}],"enabledUser":"{"true" if person.enabled else "false"}",'
             f'"givenName":"{person.given}","familyName":"{person.family}"')
    if person.middle:
        head += f',"middleName":"{person.middle}"'
    middle = f',"identifier":"{person.number}"'
    for key, value in (("email", person.email), ("sms", person.sms), ("phone", person.phone)):
        if value is not None:
            middle += f',"{key}":"{value}"'
    if person.agents:
        middle += ',"agents":[' + ",".join(ref_json("user", a) for a in person.agents) + "]"
    grades = ""
    if person.grades:
        grades = ',"grades":[' + ",".join(f'"{g}"' for g in person.grades) + "]"
    text12 = head
    if person.preferred:
        text12 += f',"preferredFirstName":"{person.preferred}"'
    text12 += ',"roles":[' + ",".join(
        f'{{"roleType":"{rt}","role":"{r}","org":{ref_json("org", o)}}}'
        for r, rt, o in person.roles) + "]"
    if person.roles:
        text12 += f',"primaryOrg":{ref_json("org", person.primary_org)}'
    text12 += middle + grades
    if person.resources:
        text12 += ',"resources":[' + ",".join(
            ref_json("resource", r) for r in person.resources) + "]"
    text11 = (f'{head},"role":"{role11}"{middle},"orgs":['
              + ",".join(ref_json("org", o) for o in orgs) + f"]{grades}}}")
    return text12 + "}", text11


def _emit_user(out: RecordEditor, person: Person, dlm: str) -> None:
    pid = person.sourced_id
    obj: dict[str, object] = {"sourcedId": pid, "status": person.status, "dateLastModified": dlm}
    v11: dict[str, object] = dict(obj)
    if person.username is not None:
        obj["username"] = v11["username"] = person.username
    ids = [{"type": t, "identifier": i} for t, i in person.user_ids]
    obj["userIds"] = v11["userIds"] = ids
    obj["enabledUser"] = v11["enabledUser"] = "true" if person.enabled else "false"
    obj["givenName"] = v11["givenName"] = person.given
    obj["familyName"] = v11["familyName"] = person.family
    if person.middle:
        obj["middleName"] = v11["middleName"] = person.middle
    if person.preferred:
        obj["preferredFirstName"] = person.preferred
    obj["roles"] = [{"roleType": rt, "role": r, "org": ref("org", o)}
                    for r, rt, o in person.roles]
    primary_role = person.roles[0][0] if person.roles else person.role
    v11["role"] = ROLE_V11[primary_role]
    if person.roles:
        obj["primaryOrg"] = ref("org", person.primary_org)
    obj["identifier"] = v11["identifier"] = person.number
    for key in ("email", "sms", "phone"):
        value = getattr(person, key)
        if value is not None:
            obj[key] = v11[key] = value
    if person.agents:
        obj["agents"] = v11["agents"] = [ref("user", a) for a in person.agents]
    orgs: list[str] = []
    for _, _, org in person.roles:
        if org not in orgs:
            orgs.append(org)
    v11["orgs"] = [ref("org", o) for o in orgs]
    if person.grades:
        obj["grades"] = v11["grades"] = person.grades
    if person.resources:
        obj["resources"] = [ref("resource", r) for r in person.resources]
    texts = _user_texts(person, dlm, v11["role"], orgs)
    if texts is None:
        out.add("users", obj, v11)
    else:
        out.add("users", obj, v11, text=texts[0], text11=texts[1])
    for role, role_type, org in person.roles:
        out.link("user_orgs", pid, org, role, role_type)
