"""The store's table layout, shared by the district builder (which fills rows in this order)
and the store (which creates and reads the tables).

Every record table has the same head and tail columns; the middle columns are the values
consumers page, filter and sort on, kept out of the JSON so SQLite can index them.
``json11`` is NULL where the 1.1 form equals the 1.2 form.
"""

from __future__ import annotations

HEAD = ("sourcedId", "status", "dateLastModified", "hidden")
TAIL = ("json12", "json11")

RECORD_TABLES: dict[str, tuple[str, ...]] = {
    "orgs": ("type", "identifier", "name", "parent_id"),
    "academicSessions": (
        "type", "title", "school_id", "parent_id", "schoolYear", "startDate", "endDate",
    ),
    "courses": ("title", "courseCode", "school_id", "schoolYear_id"),
    "classes": ("title", "classCode", "classType", "school_id", "course_id"),
    "users": (
        "role", "username", "email", "identifier", "givenName", "familyName", "school_id",
    ),
    "enrollments": (
        "role", "class_id", "school_id", "user_id", "primary_", "beginDate", "endDate",
    ),
    "demographics": ("birthDate", "sex"),
    "categories": ("title", "class_id"),
    "scoreScales": ("title", "class_id", "course_id"),
    "lineItems": (
        "title", "class_id", "school_id", "category_id", "gradingPeriod_id", "assignDate",
        "dueDate",
    ),
    "results": ("lineItem_id", "student_id", "class_id", "scoreStatus", "scoreDate"),
    "resources": ("title", "vendorResourceId"),
    "assessmentLineItems": ("title", "class_id", "parent_id"),
    "assessmentResults": ("assessmentLineItem_id", "student_id", "scoreStatus", "scoreDate"),
}

# Side tables: many-to-many links that nested endpoints need (a class in several terms, a user
# with roles in several orgs), and the record of which data-quality quirk hit which record.
SIDE_TABLES: dict[str, tuple[str, ...]] = {
    "class_terms": ("class_id", "term_id"),
    "user_orgs": ("user_id", "org_id", "role", "roleType"),
    "quirks": ("quirk", "kind", "sourcedId"),
}

# Kinds that OneRoster 1.1 does not have.
NOT_IN_V11 = frozenset({"scoreScales", "assessmentLineItems", "assessmentResults"})

# Secondary indexes: what nested endpoints join on and what consumers filter by most (roles,
# e-mail/username look-ups). Every record table also gets sourcedId (unique) and
# dateLastModified (delta sync). Other filters and sorts scan, which is fine at page sizes.
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "academicSessions": (("school_id",), ("parent_id",)),
    "courses": (("school_id",),),
    "classes": (("school_id",), ("course_id",)),
    "users": (("role", "hidden"), ("username",), ("email",), ("identifier",), ("familyName",)),
    "enrollments": (("class_id", "role"), ("user_id",), ("school_id",)),
    "categories": (("class_id",),),
    "scoreScales": (("class_id",),),
    # (class_id, title): title_unique_in_class looks a title up in its class on every line-item
    # write; on class_id alone that is a scan of the class, and bulk POSTs into one class
    # slowed with its size.
    "lineItems": (("class_id", "title"),),
    "results": (("lineItem_id",), ("student_id",)),
    "assessmentLineItems": (("class_id",), ("parent_id",)),
    "assessmentResults": (("assessmentLineItem_id",), ("student_id",)),
    "class_terms": (("class_id",), ("term_id",)),
    "user_orgs": (("user_id",), ("org_id", "role")),
    "quirks": (("quirk",),),
}


def index_statements(if_not_exists: bool = False) -> list[str]:
    """``CREATE INDEX`` for every secondary index; ``if_not_exists`` adds the ones a district
    file built by an older version lacks."""
    guard = " IF NOT EXISTS" if if_not_exists else ""
    return [f"CREATE INDEX{guard} {table}_{'_'.join(cols)} ON {table} ({', '.join(cols)})"
            for table, indexes in INDEXES.items() for cols in indexes]


def columns(table: str) -> tuple[str, ...]:
    if table in SIDE_TABLES:
        return SIDE_TABLES[table]
    return HEAD + RECORD_TABLES[table] + TAIL


ALL_TABLES = tuple(RECORD_TABLES) + tuple(SIDE_TABLES)
