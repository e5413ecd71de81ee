"""Students, their families (guardians and relatives) and school staff for one zone."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from .calendar import SchoolCalendar
from .names import Catalog, city_name, login_part
from .records import new_id
from .sizes import SchoolPlan

# 1.2 role -> the 1.1 role vocabulary, which has no counselor or principal.
ROLE_V11 = {
    "student": "student",
    "teacher": "teacher",
    "aide": "aide",
    "parent": "parent",
    "guardian": "guardian",
    "relative": "relative",
    "counselor": "administrator",
    "principal": "administrator",
    "siteAdministrator": "administrator",
    "districtAdministrator": "administrator",
    "systemAdministrator": "administrator",
}


@dataclass
class Person:
    sourced_id: str
    role: str
    given: str
    family: str
    sex: str
    number: str
    middle: str | None = None
    preferred: str | None = None
    username: str | None = None
    email: str | None = None
    user_ids: list[tuple[str, str]] = field(default_factory=list)
    phone: str | None = None
    sms: str | None = None
    grades: list[str] = field(default_factory=list)
    # (role, roleType, org sourcedId); one primary role for each org (RoleDType), the first
    # org being the primary org.
    roles: list[tuple[str, str, str]] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)  # resource sourcedIds (1.2 only)
    enabled: bool = True
    status: str = "active"
    school: SchoolPlan | None = None

    def add_role(self, role: str, org_id: str) -> None:
        if any(org == org_id and r == role for r, _, org in self.roles):
            return
        role_type = "secondary" if any(org == org_id for _, _, org in self.roles) else "primary"
        self.roles.append((role, role_type, org_id))

    @property
    def primary_org(self) -> str:
        return self.roles[0][2]


@dataclass
class Families:
    students: list[Person]
    guardians: list[Person]
    relatives: list[Person]


def _first_name(cat: Catalog, rng: random.Random, sex: str) -> str:
    source = cat.female_first if sex == "female" else cat.male_first
    if sex not in ("female", "male"):
        source = cat.female_first if rng.random() < 0.5 else cat.male_first
    return source.one(rng)


def _phone(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def _sex(rng: random.Random) -> str:
    r = rng.random()
    return "female" if r < 0.49 else "male" if r < 0.985 else "unspecified"


def make_students_and_families(
    rng_people: random.Random,
    rng_ids: random.Random,
    cat: Catalog,
    schools: tuple[SchoolPlan, ...],
    school_ids: dict[int, str],
    first_student_number: int,
    zone: int,
    domain: str,
) -> Families:
    slots = [
        (school, gi)
        for school in schools
        for gi, count in enumerate(school.students_per_grade)
        for _ in range(count)
    ]
    rng_people.shuffle(slots)
    students: list[Person] = []
    guardians: list[Person] = []
    relatives: list[Person] = []
    adult_serial = 0
    i = 0
    while i < len(slots):
        size = rng_people.choices((1, 2, 3, 4), cum_weights=(50, 84, 97, 100))[0]
        kids_slots = slots[i : i + size]
        i += size
        family_name = cat.last.one(rng_people)
        kids: list[Person] = []
        for school, gi in kids_slots:
            number = str(200_000 + first_student_number + len(students))
            sex = _sex(rng_people)
            given = _first_name(cat, rng_people, sex)
            surname = family_name if rng_people.random() < 0.9 else cat.last.one(rng_people)
            kid = Person(new_id(rng_ids), "student", given, surname, sex, number)
            if rng_people.random() < 0.6:
                kid.middle = _first_name(cat, rng_people, sex)
            if rng_people.random() < 0.05:
                kid.preferred = _first_name(cat, rng_people, sex)
            kid.username = f"{login_part(given)[:1]}{login_part(surname)}{number}"
            kid.email = f"{kid.username}@students.{domain}"
            state_id = str(9_000_000_000 + int(number))
            kid.user_ids = [("studentNumber", number), ("stateId", state_id)]
            kid.grades = [school.grades[gi]]
            kid.school = school
            kid.add_role("student", school_ids[school.number])
            kids.append(kid)
            students.append(kid)
        adults = 2 if rng_people.random() < 0.7 else 1
        family_adults: list[Person] = []
        for a in range(adults + (1 if rng_people.random() < 0.1 else 0)):
            adult_serial += 1
            is_relative = a >= adults
            sex = ("female", "male")[a % 2] if rng_people.random() < 0.9 else _sex(rng_people)
            role = "relative" if is_relative else ("parent" if rng_people.random() < 0.8
                                                   else "guardian")
            surname = family_name if rng_people.random() < 0.85 else cat.last.one(rng_people)
            given = _first_name(cat, rng_people, sex)
            number = f"P{zone:04d}{adult_serial:05d}"
            adult = Person(new_id(rng_ids), role, given, surname, sex, number)
            adult.username = f"{login_part(given)}{login_part(surname)}{number[1:]}"
            adult.email = f"{login_part(given)}.{login_part(surname)}{number[1:]}@example.net"
            adult.user_ids = [("personId", number)]
            adult.phone = _phone(rng_people)
            if rng_people.random() < 0.5:
                adult.sms = adult.phone
            adult.enabled = not is_relative
            for kid in kids:
                adult.add_role(role, kid.primary_org)
                adult.agents.append(kid.sourced_id)
                kid.agents.append(adult.sourced_id)
            family_adults.append(adult)
            (relatives if is_relative else guardians).append(adult)
    return Families(students, guardians, relatives)


def birth_date(rng: random.Random, cal: SchoolCalendar, grade: str) -> dt.date:
    """A birth date that makes the student 5 + grade years old on September 1."""
    level = 0 if grade == "KG" else int(grade)
    cutoff = dt.date(cal.school_year - 1 - 5 - level, 9, 1)
    return cutoff - dt.timedelta(days=rng.randrange(365))


def demographics(rng: random.Random, person: Person, cal: SchoolCalendar,
                 state: str) -> dict[str, str]:
    races = {
        "americanIndianOrAlaskaNative": rng.random() < 0.01,
        "asian": rng.random() < 0.06,
        "blackOrAfricanAmerican": rng.random() < 0.15,
        "nativeHawaiianOrOtherPacificIslander": rng.random() < 0.005,
        "white": rng.random() < 0.6,
    }
    if not any(races.values()):
        races["white"] = True
    out: dict[str, str] = {
        "birthDate": birth_date(rng, cal, person.grades[0]).isoformat(),
        "sex": person.sex,
    }
    for name, value in races.items():
        out[name] = "true" if value else "false"
    out["demographicRaceTwoOrMoreRaces"] = "true" if sum(races.values()) > 1 else "false"
    out["hispanicOrLatinoEthnicity"] = "true" if rng.random() < 0.27 else "false"
    if rng.random() < 0.92:
        out["countryOfBirthCode"] = "US"
        out["stateOfBirthAbbreviation"] = state if rng.random() < 0.8 else rng.choice(
            ("CA", "TX", "NY", "FL", "IL", "OH", "GA", "WA"))
    else:
        out["countryOfBirthCode"] = rng.choice(("MX", "IN", "CN", "VN", "PH", "SV", "GT", "UA"))
    out["cityOfBirth"] = city_name(rng)
    out["publicSchoolResidenceStatus"] = "01652" if rng.random() < 0.97 else "01653"
    return out


STAFF_SHAPE = {
    # level: (assistant principals, students per counselor, aides base, students per aide)
    "elementary": (0, 0, 2, 200),
    "charter": (1, 500, 2, 250),
    "middle": (1, 400, 1, 500),
    "high": (1, 400, 1, 500),
    "alternative": (0, 150, 1, 100),
}


class StaffFactory:
    """Makes staff members with district e-mail addresses and employee numbers."""

    def __init__(self, rng: random.Random, rng_ids: random.Random, cat: Catalog, zone: int,
                 domain: str) -> None:
        self.rng, self.rng_ids, self.cat = rng, rng_ids, cat
        self.zone, self.domain = zone, domain
        self.serial = 0
        self.made: list[Person] = []

    def make(self, role: str, org_id: str) -> Person:
        self.serial += 1
        rng = self.rng
        number = f"E{self.zone:04d}{self.serial:04d}"
        sex = _sex(rng)
        given = _first_name(self.cat, rng, sex)
        family = self.cat.last.one(rng)
        person = Person(new_id(self.rng_ids), role, given, family, sex, number)
        if rng.random() < 0.4:
            person.middle = _first_name(self.cat, rng, sex)
        person.username = f"{login_part(given)[:1]}{login_part(family)}{number[1:]}"
        person.email = f"{person.username}@{self.domain}"
        person.user_ids = [("employeeNumber", number), ("stateStaffId", f"S{number[1:]}")]
        person.phone = _phone(rng)
        person.add_role(role, org_id)
        self.made.append(person)
        return person

    def school_leadership(self, school: SchoolPlan, org_id: str) -> None:
        assistants, per_counselor, aides_base, per_aide = STAFF_SHAPE[school.level]
        self.make("principal", org_id)
        for _ in range(assistants):
            self.make("siteAdministrator", org_id)
        if per_counselor:
            for _ in range(max(1, school.students // per_counselor)):
                self.make("counselor", org_id)
        for _ in range(aides_base + school.students // per_aide):
            self.make("aide", org_id)
