"""Grade-book content for a section: categories, a score scale, line items and results.

Line items fall inside the section's own terms; only those already due on the district clock
have results, as in a real grade book early in the year.
"""

from __future__ import annotations

import bisect
import calendar as _calendar
import datetime as dt
import random

from ..editor import RecordEditor
from .calendar import SchoolCalendar
from .records import flag, new_id, ref, timestamp
from .schedule import Section

CATEGORIES_SECONDARY = (("Homework", 0.2), ("Quizzes", 0.3), ("Tests", 0.5))
CATEGORIES_ELEMENTARY = (("Classwork", 0.4), ("Assessments", 0.6))
LETTER_SCALE = (("90", "A"), ("80", "B"), ("70", "C"), ("60", "D"), ("0", "F"))
ASSIGNMENTS = {
    "Homework": ("Chapter {n} Practice", 10.0),
    "Quizzes": ("Quiz {n}", 20.0),
    "Tests": ("Unit {n} Test", 100.0),
    "Classwork": ("Reading Log {n}", 10.0),
    "Assessments": ("Benchmark Assessment {n}", 100.0),
}
STATUSES = ("fully graded", "exempt", "not submitted", "submitted", "partially graded")
STATUS_WEIGHTS = (90, 92, 96, 98, 100)


def _epoch(day: dt.date, hour: int = 0, minute: int = 0) -> int:
    return _calendar.timegm((day.year, day.month, day.day, hour, minute, 0, 0, 0, 0))


def emit_gradebook(
    out: RecordEditor,
    rng: random.Random,
    rng_ids: random.Random,
    section: Section,
    class_ref: dict[str, str],
    school_ref: dict[str, str],
    cal: SchoolCalendar,
    quarter_ids: list[str],
    clock_epoch: int,
    secondary: bool,
) -> None:
    class_id = section.sourced_id
    categories = CATEGORIES_SECONDARY if secondary else CATEGORIES_ELEMENTARY
    category_ids: list[tuple[str, str]] = []
    summer = _epoch(cal.year.start) - 30 * 86400
    for title, weight in categories:
        cid = new_id(rng_ids)
        category_ids.append((cid, title))
        dlm = timestamp(summer + rng.randrange(20 * 86400))
        obj = {"sourcedId": cid, "status": "active", "dateLastModified": dlm, "title": title,
               "weight": weight}
        v11 = {"sourcedId": cid, "status": "active", "dateLastModified": dlm, "title": title}
        out.add("categories", obj, v11, class_id=class_id)
    scale_ref = None
    if secondary:
        sid = new_id(rng_ids)
        dlm = timestamp(summer + rng.randrange(20 * 86400))
        obj = {
            "sourcedId": sid, "status": "active", "dateLastModified": dlm,
            "title": "Letter Grade", "type": "letterGrade",
            "course": ref("course", section.course_id), "class": class_ref,
            "scoreScaleValue": [{"itemValueLHS": lhs, "itemValueRHS": rhs}
                                for lhs, rhs in LETTER_SCALE],
        }
        out.add("scoreScales", obj)
        scale_ref = ref("scoreScale", sid)

    first_term = section.terms[0]
    for n, quarter_index in enumerate((2 * first_term, 2 * first_term + 1), start=1):
        quarter = cal.quarters[quarter_index]
        cid, category = category_ids[-1] if n == 1 else category_ids[0]
        template, max_score = ASSIGNMENTS[category]
        # The first assignment of a term is already graded; the second is still ahead of the
        # district clock when the term is the current one.
        early, late = (5, 25) if n == 1 else (35, 45)
        assign_day = quarter.start + dt.timedelta(days=rng.randrange(early, late))
        due_day = assign_day + dt.timedelta(days=rng.randrange(3, 14))
        assign_at, due_at = _epoch(assign_day, 8), _epoch(due_day, 23, 59)
        lid = new_id(rng_ids)
        title = template.format(n=n)
        # Teachers set up assignments ahead of time; nothing is modified after the clock.
        created = min(assign_at - rng.randrange(4 * 86400),
                      clock_epoch - 86400 - rng.randrange(20 * 86400))
        dlm = timestamp(created)
        common = {
            "sourcedId": lid, "status": "active", "dateLastModified": dlm, "title": title,
            "description": f"{title} for {section.course.title}",
            "assignDate": timestamp(assign_at), "dueDate": timestamp(due_at),
            "class": class_ref,
        }
        obj = {**common, "school": school_ref, "category": ref("category", cid),
               "gradingPeriod": ref("academicSession", quarter_ids[quarter_index])}
        if scale_ref:
            obj["scoreScale"] = scale_ref
        obj["resultValueMin"] = 0.0
        obj["resultValueMax"] = max_score
        v11 = {**common, "category": ref("category", cid),
               "gradingPeriod": ref("academicSession", quarter_ids[quarter_index]),
               "resultValueMin": 0.0, "resultValueMax": max_score}
        out.add("lineItems", obj, v11)
        if due_at + 86400 > clock_epoch:
            continue
        _emit_results(out, rng, rng_ids, section, lid, class_ref, due_day, max_score,
                      clock_epoch)


def _emit_results(out: RecordEditor, rng: random.Random, rng_ids: random.Random, section: Section,
                  line_item_id: str, class_ref: dict[str, str], due_day: dt.date,
                  max_score: float, clock_epoch: int) -> None:
    # Results are the most numerous records of all: the store renders their texts from the
    # columns (ids, dates, numbers, a few fixed strings: nothing to escape), so none is made.
    line_item_ref = ref("lineItem", line_item_id)
    random_ = rng.random
    # A result is scored 0-5 days after the due date at 15:00 (never later than an hour before
    # the clock): six possible stamps, worked out once per line item.
    stamps = [timestamp(min(_epoch(due_day + dt.timedelta(days=k), 15), clock_epoch - 3600))
              for k in range(6)]
    for student in section.students:
        joined = section.late_joiners.get(student.sourced_id)
        if joined is not None and joined > due_day:
            continue
        rid = new_id(rng_ids)
        draw = random_() * 100
        status = STATUSES[bisect.bisect_right(STATUS_WEIGHTS, draw)]  # first w above draw
        dlm = stamps[int(random_() * 6)]
        score_date = dlm[:10]
        score = 0.0
        if status in ("fully graded", "submitted", "partially graded"):
            score = float(round(max_score * rng.triangular(0.45, 1.05, 0.85), 1))
        late = random_() < 0.05
        record = {"sourcedId": rid, "status": "active", "dateLastModified": dlm,
                  "lineItem": line_item_ref, "student": ref("user", student.sourced_id),
                  "class": class_ref, "scoreStatus": status}
        if status != "exempt":
            record["score"] = score
        record["scoreDate"] = score_date
        if late:
            record["comment"] = "Turned in late"
        record["inProgress"] = "false"
        record["incomplete"] = flag(status == "partially graded")
        record["late"] = flag(late)
        record["missing"] = flag(status == "not submitted")
        if status != "exempt":
            out.add("results", record, rendered=True)
            continue
        # An exempt result's 1.1 form keeps a score of 0.0 that 1.2 leaves out: not what the
        # 1.1 form renders, so it is serialized and kept.
        v11 = {k: record[k] for k in ("sourcedId", "status", "dateLastModified", "lineItem",
                                      "student", "scoreStatus")}
        v11["score"] = score
        v11["scoreDate"] = score_date
        if late:
            v11["comment"] = record["comment"]
        out.add("results", record, v11)
