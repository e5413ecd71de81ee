"""What Google Classroom's SIS sync asks of a provider on top of the spec (the ``google``
profile): it finds a teacher by e-mail and reads whole rosters with limit=10000."""

from __future__ import annotations

from ..engine import Finding, Outcome, passed
from .context import Context, answered
from .support import check, member


@check("OR-GGL-001", "A teacher is found by e-mail, exactly once",
       "Google Classroom SIS sync: teachers?filter=email='...' must return exactly 1")
def teacher_by_email(ctx: Context) -> Outcome:
    """Google Classroom links a teacher by asking ``/teachers?filter=email='<address>'`` (the
    quotes unencoded) and expects exactly one record. Fix: support the e-mail filter and keep
    teacher e-mail addresses unique."""
    first = ctx.target.get("/teachers", {"limit": 50})
    body = first.json()
    teachers = member(body, "users")
    if first.status != 200 or not isinstance(teachers, list):
        raise Finding(f"GET /teachers {answered(first)}", first)
    email = next((t.get("email") for t in teachers
                  if isinstance(t, dict) and "@" in str(t.get("email") or "")), None)
    if email is None:
        raise Finding("none of the first 50 teachers has an e-mail address", first)
    found = ctx.target.get(f"/teachers?filter=email='{email}'&limit=10000")
    body = found.json()
    matches = member(body, "users")
    if found.status != 200 or not isinstance(matches, list):
        raise Finding(f"the e-mail filter {answered(found)}", found)
    if len(matches) != 1:
        raise Finding(f"filter=email='{email}' found {len(matches)} teachers, not 1", found)
    return passed(f"email='{email}' found exactly one teacher", found)


@check("OR-GGL-002", "limit=10000 is served",
       "Google Classroom SIS sync: reads rosters with limit=10000")
def large_pages(ctx: Context) -> Outcome:
    """Google Classroom reads classes and rosters with ``limit=10000``; a provider must answer
    such a page (up to its size) rather than refuse it. Fix: allow page sizes of at least
    10,000."""
    exchange = ctx.target.get("/classes", {"limit": 10000})
    body = exchange.json()
    classes = member(body, "classes")
    total = exchange.headers.get("x-total-count", "")
    if exchange.status != 200 or not isinstance(classes, list):
        raise Finding(f"GET /classes?limit=10000 {answered(exchange)}", exchange)
    if total.isdigit() and len(classes) < min(10_000, int(total)):
        raise Finding(f"limit=10000 gave {len(classes)} of {total} classes", exchange)
    return passed(f"limit=10000 gave {len(classes)} classes", exchange)
