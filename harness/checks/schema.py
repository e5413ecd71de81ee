"""Schemas (OR-SCHEMA): core pages validate against the official schemas."""

from __future__ import annotations

from specs import validator

from ..engine import Finding, Outcome, passed
from .context import Context
from .support import CORE, SINGULAR, check, first_records

SET_SCHEMA_V12 = {"academicSessions": "AcademicSessionSetDType", "classes": "ClassSetDType",
                  "courses": "CourseSetDType", "enrollments": "EnrollmentSetDType",
                  "orgs": "OrgSetDType", "users": "UserSetDType"}


def _schema_errors(version: str, envelope: str, body: object, single: bool = False) -> list[str]:
    if version == "1.2":
        singular = SINGULAR[envelope]
        name = f"Single{singular[0].upper()}{singular[1:]}DType" if single \
            else SET_SCHEMA_V12[envelope]
        checker = validator("1.2", name)
    else:
        checker = validator("1.1", SINGULAR[envelope] if single else envelope)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in checker.iter_errors(body)]


@check("OR-SCHEMA-001", "Core collection pages are valid against the official schemas",
       "OneRoster 1.2 OpenAPI components.schemas (*SetDType); 1.1 information model")
def core_pages_match_schemas(ctx: Context) -> Outcome:
    """Each core collection's first page must validate against the official schema: required
    fields, enums, string booleans ("true"/"false"), dates, absolute hrefs, no nulls and no keys
    outside ``metadata``. Fix: emit exactly the spec's fields and types."""
    version = ctx.target.version
    for collection, envelope in CORE.items():
        first_records(ctx, collection)
        exchange = ctx.first_page(collection)
        errors = _schema_errors(version, envelope, exchange.json())
        if errors:
            raise Finding(f"/{collection}: {errors[0]}" + (
                f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""), exchange)
    return passed("every core first page is schema-valid")
