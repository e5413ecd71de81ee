"""What each rostering operation serves: a table, a scoping SQL condition, a parent to check.

Both OneRoster versions share this one table of operations (1.1 and 1.2 rostering have the
same 41 read operations and paths); the JSON column differs, and each version's envelopes come
from its own document.
"""

from __future__ import annotations

from dataclasses import dataclass

from specs import catalogue

from ..record_forms import doc_sql

# operationId -> the key its answer is served under, read from each version's document (the
# checker reads the same tables), so mock and checker agree only through them.
ENVELOPES = {version: {op.operation_id: op.envelope
                       for op in catalogue.operations(version=version)}
             for version in catalogue.VERSIONS}

_IN_CLASS = ("sourcedId IN (SELECT user_id FROM enrollments WHERE class_id = ? AND role = '{role}'"
             " AND hidden = 0)")
_CLASSES_OF = ("sourcedId IN (SELECT class_id FROM enrollments WHERE user_id = ?{role}"
               " AND hidden = 0)")
_AT_SCHOOL = "sourcedId IN (SELECT user_id FROM user_orgs WHERE org_id = ? AND role = '{role}')"


@dataclass(frozen=True)
class Parent:
    """The record a nested path names; unknown -> 404 unknownobject."""

    table: str
    where: str  # with ? placeholders filled from ``params``
    params: tuple[str, ...]
    label: str  # how the error names it, e.g. "class"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    path: str  # relative to the version's base path
    table: str
    where: str = ""  # extra SQL condition scoping the collection
    params: tuple[str, ...] = ()  # path parameters feeding ``where`` in order
    parent: Parent | None = None
    single: bool = False  # get-by-id

    def envelope_in(self, version: str) -> str:
        """The key this operation's answer is served under in OneRoster ``version``."""
        envelope = ENVELOPES[version][self.operation_id]
        assert envelope is not None, f"{self.operation_id} answers without a JSON envelope"
        return envelope

    @property
    def envelope(self) -> str:
        """The 1.2 envelope (1.1 serves the same keys; answers use ``envelope_in``)."""
        return self.envelope_in("1.2")


def _class(params: tuple[str, ...] = ("classSourcedId",), in_school: bool = False) -> Parent:
    if in_school:
        return Parent("classes", "sourcedId = ? AND school_id = ?",
                      ("classSourcedId", "schoolSourcedId"), "class")
    return Parent("classes", "sourcedId = ?", params, "class")


def _school(param: str = "schoolSourcedId") -> Parent:
    return Parent("orgs", "sourcedId = ? AND type = 'school'", (param,), "school")


def _flat(single: str, plural: str, path: str, table: str, where: str = "") -> list[Operation]:
    return [
        Operation(f"getAll{plural}", path, table, where),
        Operation(f"get{single}", f"{path}/{{sourcedId}}", table, where, single=True),
    ]


def _roster_operations() -> list[Operation]:
    ops: list[Operation] = []
    ops += _flat("AcademicSession", "AcademicSessions", "/academicSessions", "academicSessions")
    ops += _flat("Class", "Classes", "/classes", "classes")
    ops += _flat("Course", "Courses", "/courses", "courses")
    ops += _flat("Demographics", "Demographics", "/demographics", "demographics")
    ops += _flat("Enrollment", "Enrollments", "/enrollments", "enrollments")
    ops += _flat("GradingPeriod", "GradingPeriods", "/gradingPeriods", "academicSessions",
                 "type = 'gradingPeriod'")
    ops += _flat("Org", "Orgs", "/orgs", "orgs")
    ops += _flat("School", "Schools", "/schools", "orgs", "type = 'school'")
    ops += _flat("Student", "Students", "/students", "users", "role = 'student'")
    ops += _flat("Teacher", "Teachers", "/teachers", "users", "role = 'teacher'")
    ops += _flat("Term", "Terms", "/terms", "academicSessions", "type = 'term'")
    ops += _flat("User", "Users", "/users", "users")
    student_parent = Parent("users", "sourcedId = ? AND role = 'student'", ("studentSourcedId",),
                            "student")
    teacher_parent = Parent("users", "sourcedId = ? AND role = 'teacher'", ("teacherSourcedId",),
                            "teacher")
    term_parent = Parent("academicSessions", "sourcedId = ? AND type = 'term'",
                         ("termSourcedId",), "term")
    course_parent = Parent("courses", "sourcedId = ?", ("courseSourcedId",), "course")
    ops += [
        Operation("getStudentsForClass", "/classes/{classSourcedId}/students", "users",
                  "role = 'student' AND " + _IN_CLASS.format(role="student"),
                  ("classSourcedId",), _class()),
        Operation("getTeachersForClass", "/classes/{classSourcedId}/teachers", "users",
                  "role = 'teacher' AND " + _IN_CLASS.format(role="teacher"),
                  ("classSourcedId",), _class()),
        Operation("getClassesForCourse", "/courses/{courseSourcedId}/classes", "classes",
                  "course_id = ?", ("courseSourcedId",), course_parent),
        Operation("getClassesForSchool", "/schools/{schoolSourcedId}/classes", "classes",
                  "school_id = ?", ("schoolSourcedId",), _school()),
        Operation("getEnrollmentsForClassInSchool",
                  "/schools/{schoolSourcedId}/classes/{classSourcedId}/enrollments",
                  "enrollments", "class_id = ? AND school_id = ?",
                  ("classSourcedId", "schoolSourcedId"), _class(in_school=True)),
        Operation("getStudentsForClassInSchool",
                  "/schools/{schoolSourcedId}/classes/{classSourcedId}/students", "users",
                  "role = 'student' AND " + _IN_CLASS.format(role="student"),
                  ("classSourcedId",), _class(in_school=True)),
        Operation("getTeachersForClassInSchool",
                  "/schools/{schoolSourcedId}/classes/{classSourcedId}/teachers", "users",
                  "role = 'teacher' AND " + _IN_CLASS.format(role="teacher"),
                  ("classSourcedId",), _class(in_school=True)),
        Operation("getCoursesForSchool", "/schools/{schoolSourcedId}/courses", "courses",
                  "school_id = ?", ("schoolSourcedId",), _school()),
        Operation("getEnrollmentsForSchool", "/schools/{schoolSourcedId}/enrollments",
                  "enrollments", "school_id = ?", ("schoolSourcedId",), _school()),
        Operation("getStudentsForSchool", "/schools/{schoolSourcedId}/students", "users",
                  "role = 'student' AND " + _AT_SCHOOL.format(role="student"),
                  ("schoolSourcedId",), _school()),
        Operation("getTeachersForSchool", "/schools/{schoolSourcedId}/teachers", "users",
                  "role = 'teacher' AND " + _AT_SCHOOL.format(role="teacher"),
                  ("schoolSourcedId",), _school()),
        Operation("getTermsForSchool", "/schools/{schoolSourcedId}/terms", "academicSessions",
                  "type = 'term' AND school_id = ?", ("schoolSourcedId",), _school()),
        Operation("getClassesForStudent", "/students/{studentSourcedId}/classes", "classes",
                  _CLASSES_OF.format(role=" AND role = 'student'"), ("studentSourcedId",),
                  student_parent),
        Operation("getClassesForTeacher", "/teachers/{teacherSourcedId}/classes", "classes",
                  _CLASSES_OF.format(role=" AND role = 'teacher'"), ("teacherSourcedId",),
                  teacher_parent),
        Operation("getClassesForTerm", "/terms/{termSourcedId}/classes", "classes",
                  "sourcedId IN (SELECT class_id FROM class_terms WHERE term_id = ?)",
                  ("termSourcedId",), term_parent),
        Operation("getGradingPeriodsForTerm", "/terms/{termSourcedId}/gradingPeriods",
                  "academicSessions", "type = 'gradingPeriod' AND parent_id = ?",
                  ("termSourcedId",), term_parent),
        Operation("getClassesForUser", "/users/{userSourcedId}/classes", "classes",
                  _CLASSES_OF.format(role=""), ("userSourcedId",),
                  Parent("users", "sourcedId = ?", ("userSourcedId",), "user")),
    ]
    return ops


ROSTERING: tuple[Operation, ...] = tuple(_roster_operations())


def _gradebook_operations() -> list[Operation]:
    ops: list[Operation] = []
    ops += _flat("Category", "Categories", "/categories", "categories")
    ops += _flat("LineItem", "LineItems", "/lineItems", "lineItems")
    ops += _flat("Result", "Results", "/results", "results")
    ops += _flat("ScoreScale", "ScoreScales", "/scoreScales", "scoreScales")
    klass = _class()
    line_item_in_class = Parent("lineItems", "sourcedId = ? AND class_id = ?",
                                ("lineItemSourcedId", "classSourcedId"), "line item")
    student_in_class = Parent(
        "users", "sourcedId = ? AND sourcedId IN (SELECT user_id FROM enrollments "
        "WHERE class_id = ? AND role = 'student')", ("studentSourcedId", "classSourcedId"),
        "student in that class")
    ops += [
        Operation("getCategoriesForClass", "/classes/{classSourcedId}/categories", "categories",
                  "class_id = ?", ("classSourcedId",), klass),
        Operation("getLineItemsForClass", "/classes/{classSourcedId}/lineItems", "lineItems",
                  "class_id = ?", ("classSourcedId",), klass),
        Operation("getResultsForLineItemForClass",
                  "/classes/{classSourcedId}/lineItems/{lineItemSourcedId}/results", "results",
                  "lineItem_id = ?", ("lineItemSourcedId",), line_item_in_class),
        Operation("getResultsForClass", "/classes/{classSourcedId}/results", "results",
                  "class_id = ?", ("classSourcedId",), klass),
        Operation("getScoreScalesForClass", "/classes/{classSourcedId}/scoreScales",
                  "scoreScales", "class_id = ?", ("classSourcedId",), klass),
        Operation("getResultsForStudentForClass",
                  "/classes/{classSourcedId}/students/{studentSourcedId}/results", "results",
                  "class_id = ? AND student_id = ?", ("classSourcedId", "studentSourcedId"),
                  student_in_class),
        Operation("getScoreScalesForSchool", "/schools/{schoolSourcedId}/scoreScales",
                  "scoreScales",
                  "class_id IN (SELECT sourcedId FROM classes WHERE school_id = ?)",
                  ("schoolSourcedId",), _school()),
    ]
    return ops


# The grade-book reads. OneRoster 1.1 has no score scales and no class-scoped categories.
GRADEBOOK: tuple[Operation, ...] = tuple(_gradebook_operations())
GRADEBOOK_V11: tuple[Operation, ...] = tuple(
    op for op in GRADEBOOK
    if op.table != "scoreScales" and op.operation_id != "getCategoriesForClass")

# 1.2 only: assessment line items and results, served from the grade-book base path.
ASSESSMENTS: tuple[Operation, ...] = (
    *_flat("AssessmentLineItem", "AssessmentLineItems", "/assessmentLineItems",
           "assessmentLineItems"),
    *_flat("AssessmentResult", "AssessmentResults", "/assessmentResults", "assessmentResults"),
)


def _attached(table: str) -> str:
    """Resources a record of ``table`` lists in its ``resources`` references."""
    return (f"sourcedId IN (SELECT json_extract(r.value, '$.\"@r\"') FROM {table} AS owner, "
            f"json_each({doc_sql(table, '1.2', 'owner')}, '$.resources') AS r "
            "WHERE owner.sourcedId = ?)")


RESOURCES: tuple[Operation, ...] = (
    *_flat("Resource", "Resources", "/resources", "resources"),
    Operation("getResourcesForClass", "/classes/{classSourcedId}/resources", "resources",
              _attached("classes"), ("classSourcedId",), _class()),
    Operation("getResourcesForCourse", "/courses/{courseSourcedId}/resources", "resources",
              _attached("courses"), ("courseSourcedId",),
              Parent("courses", "sourcedId = ?", ("courseSourcedId",), "course")),
    Operation("getResourcesForUser", "/users/{userSourcedId}/resources", "resources",
              _attached("users"), ("userSourcedId",),
              Parent("users", "sourcedId = ?", ("userSourcedId",), "user")),
)
# 1.1 attaches resources to courses and classes only.
RESOURCES_V11: tuple[Operation, ...] = tuple(
    op for op in RESOURCES if op.operation_id != "getResourcesForUser")
