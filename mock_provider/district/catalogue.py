"""Course catalogues for each school level: what students take, by grade and subject."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CourseDef:
    title: str
    code: str
    subject: str
    subject_code: str  # SCED-style course code
    department: str
    grades: tuple[str, ...]
    semester: int | None = None  # None: year-long; 0 or 1: that semester only


def _core(title: str, code: str, subject: str, sced: str, dept: str, grade: str) -> CourseDef:
    return CourseDef(title, code, subject, sced, dept, (grade,))


HIGH_CORE: dict[str, tuple[CourseDef, ...]] = {
    "09": (
        _core("English 9", "ENG1010", "English Language Arts", "01001", "English", "09"),
        _core("Algebra I", "MAT1100", "Mathematics", "02052", "Math", "09"),
        _core("Biology", "SCI1200", "Life and Physical Sciences", "03051", "Science", "09"),
        _core("World History", "SOC1300", "Social Sciences and History", "04051", "Social", "09"),
    ),
    "10": (
        _core("English 10", "ENG2010", "English Language Arts", "01002", "English", "10"),
        _core("Geometry", "MAT2100", "Mathematics", "02072", "Math", "10"),
        _core("Chemistry", "SCI2200", "Life and Physical Sciences", "03101", "Science", "10"),
        _core("World Geography", "SOC2300", "Social Sciences and History", "04001", "Social",
              "10"),
    ),
    "11": (
        _core("English 11", "ENG3010", "English Language Arts", "01003", "English", "11"),
        _core("Algebra II", "MAT3100", "Mathematics", "02056", "Math", "11"),
        _core("Physics", "SCI3200", "Life and Physical Sciences", "03151", "Science", "11"),
        _core("U.S. History", "SOC3300", "Social Sciences and History", "04101", "Social", "11"),
    ),
    "12": (
        _core("English 12", "ENG4010", "English Language Arts", "01004", "English", "12"),
        _core("Pre-Calculus", "MAT4100", "Mathematics", "02110", "Math", "12"),
        _core("Environmental Science", "SCI4200", "Life and Physical Sciences", "03003",
              "Science", "12"),
        CourseDef("U.S. Government", "SOC4310", "Social Sciences and History", "04151",
                  "Social", ("12",), semester=0),
        CourseDef("Economics", "SOC4320", "Social Sciences and History", "04201", "Social",
                  ("12",), semester=1),
    ),
}

HIGH_PE = (
    CourseDef("Physical Education", "PED1000", "Physical, Health, and Safety Education", "08001",
              "PE", ("09", "10", "11", "12")),
)

HIGH_YEAR_ELECTIVES = (
    CourseDef("Spanish I", "WLG1100", "World Languages", "06101", "Languages",
              ("09", "10", "11", "12")),
    CourseDef("Concert Band", "MUS1200", "Fine and Performing Arts", "05101", "Arts",
              ("09", "10", "11", "12")),
    CourseDef("French I", "WLG1200", "World Languages", "06201", "Languages",
              ("09", "10", "11", "12")),
    CourseDef("Choir", "MUS1300", "Fine and Performing Arts", "05110", "Arts",
              ("09", "10", "11", "12")),
)

HIGH_SEMESTER_ELECTIVES = (
    CourseDef("Art I", "ART1100", "Fine and Performing Arts", "05154", "Arts",
              ("09", "10", "11", "12")),
    CourseDef("Computer Science Principles", "CSC1100", "Computer and Information Sciences",
              "10019", "Technology", ("09", "10", "11", "12")),
    CourseDef("Health", "HLT1000", "Physical, Health, and Safety Education", "08051", "PE",
              ("09", "10", "11", "12")),
    CourseDef("Psychology", "SOC1900", "Social Sciences and History", "04254", "Social",
              ("10", "11", "12")),
    CourseDef("Personal Finance", "BUS1100", "Business and Marketing", "12104", "Technology",
              ("11", "12")),
    CourseDef("Journalism", "ENG1900", "English Language Arts", "01104", "English",
              ("09", "10", "11", "12")),
)


def _middle_core(grade: str) -> tuple[CourseDef, ...]:
    n = int(grade)
    return (
        _core(f"Language Arts {n}", f"LA{n}00", "English Language Arts", "01001", "English",
              grade),
        _core(f"Math {n}", f"MA{n}00", "Mathematics", "02001", "Math", grade),
        _core(f"Science {n}", f"SC{n}00", "Life and Physical Sciences", "03001", "Science",
              grade),
        _core(f"Social Studies {n}", f"SS{n}00", "Social Sciences and History", "04001",
              "Social", grade),
        _core(f"Physical Education {n}", f"PE{n}00", "Physical, Health, and Safety Education",
              "08001", "PE", grade),
    )


MIDDLE_CORE = {g: _middle_core(g) for g in ("06", "07", "08")}
MIDDLE_ELECTIVES = (
    CourseDef("Band", "MUS0600", "Fine and Performing Arts", "05101", "Arts", ("06", "07", "08")),
    CourseDef("Art", "ART0600", "Fine and Performing Arts", "05154", "Arts", ("06", "07", "08")),
    CourseDef("Exploring Spanish", "WLG0600", "World Languages", "06100", "Languages",
              ("06", "07", "08")),
    CourseDef("Technology Lab", "TEC0600", "Computer and Information Sciences", "10001",
              "Technology", ("06", "07", "08")),
    CourseDef("Choir", "MUS0700", "Fine and Performing Arts", "05110", "Arts",
              ("06", "07", "08")),
)


def homeroom(grade: str) -> CourseDef:
    label = "Kindergarten" if grade == "KG" else f"Grade {int(grade)}"
    return CourseDef(f"{label} Homeroom", f"HR-{grade}", "Elementary", "51001", "Homeroom",
                     (grade,))
