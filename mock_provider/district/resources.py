"""The district's catalogue of digital resources: per department a student edition (attached
to its courses and classes) and a teacher edition (attached to the teachers who teach it)."""

from __future__ import annotations

import random
from collections.abc import Callable

from ..editor import RecordEditor
from .records import new_id

DEPARTMENTS = ("English", "Math", "Science", "Social", "PE", "Arts", "Languages", "Technology",
               "Homeroom")
# Made-up publishers: no real vendor is implied.
PUBLISHERS = (("northwind", "Northwind Learning"), ("brightpath", "Brightpath Press"),
              ("summit", "Summit Digital"), ("riverbend", "Riverbend Education"))
SUBJECT_TITLES = {"English": "Reading and Writing", "Math": "Mathematics", "Science": "Science",
                  "Social": "Social Studies", "PE": "Health and Fitness", "Arts": "Arts Studio",
                  "Languages": "World Languages", "Technology": "Computer Science",
                  "Homeroom": "Elementary Core"}


def emit_resources(out: RecordEditor, rng: random.Random,
                   rng_ids: random.Random, dlm: Callable[[], str]) -> dict[str, tuple[str, str]]:
    """Emit the catalogue; returns department -> (student edition id, teacher edition id)."""
    by_department: dict[str, tuple[str, str]] = {}
    for number, department in enumerate(DEPARTMENTS, start=1):
        vendor, publisher = rng.choice(PUBLISHERS)
        ids = []
        for edition, roles, importance in (("Student", ["student", "teacher"], "primary"),
                                           ("Teacher", ["teacher"], "secondary")):
            rid = new_id(rng_ids)
            title = f"{publisher} {SUBJECT_TITLES[department]}: {edition} Edition"
            modified = dlm()
            obj = {"sourcedId": rid, "status": "active", "dateLastModified": modified,
                   "title": title, "roles": roles, "importance": importance,
                   "vendorResourceId": f"{vendor.upper()}-{number:03d}-{edition[0]}",
                   "vendorId": vendor, "applicationId": f"{vendor}-reader"}
            out.add("resources", obj)
            ids.append(rid)
        by_department[department] = (ids[0], ids[1])
    return by_department
