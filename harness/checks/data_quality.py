"""Data a provider may serve by the spec but that real consumers stumble over (warnings):
long class codes, characters that break file names and CSV exports, identifiers whose leading
zeros a consumer reading numbers loses."""

from __future__ import annotations

from ..engine import Outcome, passed
from .context import Context
from .support import check, evidence, few, index_of

MAX_CODE = 50  # Infinite Campus and most LMSs cut or refuse longer section codes
AWKWARD = set("`\\:*?\"<>|'#,%&")  # break file names, CSV without quoting, or URLs


def _classes_where(ctx: Context, bad, what: str, fine: str) -> Outcome:
    walk = ctx.walk("classes")
    offenders = [r for r in walk.records if bad(r)]
    if not offenders:
        return passed(f"{len(walk.records)} classes{walk.extent}: {fine}")
    where = index_of(walk)
    ids = [str(r.get("sourcedId")) for r in offenders]
    return Outcome("failed", f"{len(offenders)} classes {what}{walk.extent}: {few(ids)}",
                   [e.evidence() for e in evidence(*(walk.exchange_for(where[i])
                                                     for i in ids if i in where))], ids)


@check("OR-DATA-001", "Class codes are at most 50 characters",
       "Consumer practice: section codes are cut or refused past 50 characters",
       severity="warning")
def class_codes_short(ctx: Context) -> Outcome:
    """A ``classCode`` longer than 50 characters is cut by many consumers (and refused by
    some), so two sections can end up with the same code. Fix: keep codes short and unique;
    put descriptions in ``title``."""
    return _classes_where(ctx, lambda r: len(str(r.get("classCode") or "")) > MAX_CODE,
                          f"have a classCode longer than {MAX_CODE} characters",
                          f"every classCode at most {MAX_CODE} characters")


@check("OR-DATA-002", "Class titles and codes avoid characters that break exports",
       "Consumer practice: ` \\ : * ? \" < > | ' # , % & break file names, CSV and URLs",
       severity="warning")
def class_names_plain(ctx: Context) -> Outcome:
    """Consumers turn class titles and codes into folder names, CSV cells and URL parts; the
    characters `` ` \\ : * ? " < > | ' # , % & `` break one or another. Fix: keep them out of
    ``title`` and ``classCode`` (or expect some consumers to mangle those classes)."""
    return _classes_where(
        ctx, lambda r: bool(AWKWARD & set(f"{r.get('title') or ''}{r.get('classCode') or ''}")),
        "have a title or classCode with characters like : * ? \" < > | # , % &",
        "no title or classCode holds such characters")


@check("OR-DATA-003", "Org identifiers carry no leading zeros",
       "Consumer practice: identifiers read as numbers lose their leading zeros",
       severity="warning")
def identifiers_without_leading_zeros(ctx: Context) -> Outcome:
    """Many consumers (and every spreadsheet) read an all-digit ``identifier`` such as a
    school number as a number: ``0210`` becomes ``210`` and no longer matches the SIS. Fix:
    serve identifiers without leading zeros, or with a non-digit prefix."""
    walk = ctx.walk("orgs")
    zeros = [r for r in walk.records if str(r.get("identifier") or "").isdigit()
             and len(str(r["identifier"])) > 1 and str(r["identifier"]).startswith("0")]
    if not zeros:
        return passed(f"{len(walk.records)} orgs{walk.extent}: no identifier with a leading "
                      "zero")
    names = [f"{r.get('sourcedId')} ({r.get('identifier')})" for r in zeros]
    return Outcome("failed", f"{len(zeros)} orgs have identifiers with leading zeros: "
                             f"{few(names)}", [walk.exchanges[0].evidence()], names)
