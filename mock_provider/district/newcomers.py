"""New people written into a finished district inside an open write transaction.

A tick's new students and a rollover's kindergarten intake arrive the same way: a student with
a new student number, username and e-mail address, a school role, demographics, and one or two
new parents or guardians linked as ``agents`` both ways, each in the generator's exact 1.2 and
1.1 forms with their ``user_orgs`` rows. ``Newcomers`` makes them, and also hands out the free
identifiers a tick's new teacher needs.

Everything is drawn from the caller's one Random stream, in a fixed order, and written through
the caller's record editor (whose ``stamp`` gives the next ``dateLastModified``), so each caller
keeps its own stamping rule and tally and its output stays deterministic. Enrolling the
newcomers in classes is the caller's part.
"""

from __future__ import annotations

import random
import re
import sqlite3

from ..editor import RecordEditor
from ..record_forms import doc_sql
from .calendar import SchoolCalendar
from .names import catalog, login_part
from .people import Person, _first_name, _phone, _sex, demographics
from .records import new_id
from .zone import _emit_user

GUARDIAN_ROLES = ("parent", "guardian", "relative")


class Newcomers:
    """Makes new students (with their parents or guardians) and free identifiers over one open
    transaction. ``cal`` is the school year the birth dates are drawn for."""

    def __init__(self, conn: sqlite3.Connection, rng: random.Random, cal: SchoolCalendar,
                 domain: str, out: RecordEditor) -> None:
        if out.stamp is None:
            raise ValueError("newcomers need an editor that stamps dateLastModified")
        self.conn = conn
        self.rng = rng
        self.cal = cal
        self.domain = domain
        self.out = out
        self.stamp = out.stamp
        self._numbers: dict[str, int] = {}
        self._prefixes: dict[str, str] = {}
        self._state: str | None = None

    # --- identifiers ---------------------------------------------------------------------

    def taken(self, column: str, value: str | None) -> bool:
        if value is None:
            return False
        return self.conn.execute(f"SELECT 1 FROM users WHERE {column} = ? LIMIT 1",
                                 (value,)).fetchone() is not None

    def next_number(self, prefix: str, width: int) -> int:
        """The next serial after the largest identifier ``prefix`` + ``width`` digits."""
        if prefix not in self._numbers:
            pattern = prefix + "[0-9]" * width
            row = self.conn.execute(
                "SELECT identifier FROM users WHERE identifier GLOB ? ORDER BY identifier DESC "
                "LIMIT 1", (pattern,)).fetchone()
            self._numbers[prefix] = int(row[0][len(prefix):]) if row else 0
        self._numbers[prefix] += 1
        return self._numbers[prefix]

    def next_student_number(self) -> int:
        """Student numbers are plain integers; the next one after the largest."""
        if "student" not in self._numbers:
            row = self.conn.execute(
                "SELECT max(CAST(identifier AS INTEGER)) FROM users WHERE role = 'student' "
                "AND identifier GLOB '[0-9]*' AND NOT identifier GLOB '*[^0-9]*'").fetchone()
            self._numbers["student"] = row[0] or 199_999
        self._numbers["student"] += 1
        return self._numbers["student"]

    def prefix_at(self, school_id: str, roles: tuple[str, ...], letter: str,
                  serial_width: int) -> str:
        """The zone part (``E0003``, ``P0003``) of the identifiers of people at a school, whose
        serial numbers follow in ``serial_width`` digits."""
        key = f"{school_id}:{letter}"
        if key in self._prefixes:
            return self._prefixes[key]
        shape = re.compile(rf"{letter}\d{{{4 + serial_width}}}")
        prefix = f"{letter}9998"
        for role in roles:
            rows = self.conn.execute(
                "SELECT u.identifier FROM user_orgs o JOIN users u ON u.sourcedId = o.user_id "
                "WHERE o.org_id = ? AND o.role = ? ORDER BY o.rowid LIMIT 20", (school_id, role))
            found = [i for (i,) in rows if i and shape.fullmatch(i)]
            if found:
                prefix = found[0][:5]
                break
        self._prefixes[key] = prefix
        return prefix

    def district_state(self) -> str:
        """The district's state: the most common in-state birth state of its students."""
        if self._state is None:
            row = self.conn.execute(
                "SELECT st, count(*) AS n FROM (SELECT "
                f"json_extract({doc_sql('demographics', '1.2')}, "
                "'$.stateOfBirthAbbreviation') AS st FROM demographics ORDER BY seq LIMIT 2000) "
                "WHERE st IS NOT NULL GROUP BY st ORDER BY n DESC, st LIMIT 1").fetchone()
            self._state = row[0] if row else "WA"
        return self._state

    # --- people --------------------------------------------------------------------------

    def emit_person(self, person: Person) -> None:
        """A new user with its school roles, in the generator's exact 1.2 and 1.1 forms."""
        _emit_user(self.out, person, self.stamp())

    def add_student(self, school_id: str, grade: str) -> tuple[Person, list[Person]]:
        """A new active student of ``grade`` at ``school_id`` with demographics and one or two
        new parents or guardians, all written; returns (student, adults). No enrollments."""
        rng, cat = self.rng, catalog()
        sex = _sex(rng)
        given = _first_name(cat, rng, sex)
        family = cat.last.one(rng)
        while True:
            number = str(self.next_student_number())
            username = f"{login_part(given)[:1]}{login_part(family)}{number}"
            email = f"{username}@students.{self.domain}"
            if not (self.taken("identifier", number) or self.taken("username", username)
                    or self.taken("email", email)):
                break
        kid = Person(new_id(rng), "student", given, family, sex, number)
        if rng.random() < 0.6:
            kid.middle = _first_name(cat, rng, sex)
        if rng.random() < 0.05:
            kid.preferred = _first_name(cat, rng, sex)
        kid.username, kid.email = username, email
        kid.user_ids = [("studentNumber", number), ("stateId", str(9_000_000_000 + int(number)))]
        kid.grades = [grade]
        kid.add_role("student", school_id)
        adults = self.make_guardians(kid, family, school_id)
        self.emit_person(kid)
        for adult in adults:
            self.emit_person(adult)
        demo = demographics(rng, kid, self.cal, self.district_state())
        dlm = self.stamp()
        obj = {"sourcedId": kid.sourced_id, "status": "active", "dateLastModified": dlm, **demo}
        v11 = None
        if demo["sex"] not in ("male", "female"):
            v11 = {k: v for k, v in obj.items() if k != "sex"}
        self.out.add("demographics", obj, v11)
        return kid, adults

    def make_guardians(self, kid: Person, family: str, school_id: str) -> list[Person]:
        """One or two new parents or guardians of a new student (not yet written)."""
        rng, cat = self.rng, catalog()
        prefix = self.prefix_at(school_id, GUARDIAN_ROLES, "P", 5)
        adults = []
        for a in range(2 if rng.random() < 0.7 else 1):
            sex = ("female", "male")[a % 2] if rng.random() < 0.9 else _sex(rng)
            role = "parent" if rng.random() < 0.8 else "guardian"
            surname = family if rng.random() < 0.85 else cat.last.one(rng)
            given = _first_name(cat, rng, sex)
            while True:
                number = f"{prefix}{self.next_number(prefix, 5):05d}"
                username = f"{login_part(given)}{login_part(surname)}{number[1:]}"
                email = f"{login_part(given)}.{login_part(surname)}{number[-5:]}@example.net"
                if not (self.taken("identifier", number) or self.taken("username", username)
                        or self.taken("email", email)):
                    break
            adult = Person(new_id(rng), role, given, surname, sex, number)
            adult.username, adult.email = username, email
            adult.user_ids = [("personId", number)]
            adult.phone = _phone(rng)
            if rng.random() < 0.5:
                adult.sms = adult.phone
            adult.add_role(role, school_id)
            adult.agents.append(kid.sourced_id)
            kid.agents.append(adult.sourced_id)
            adults.append(adult)
        return adults


__all__ = ["Newcomers"]
