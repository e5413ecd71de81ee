"""Bad requests a provider must refuse cleanly: paging values, unknown sorts and routes, and
wrong client credentials at the token URL."""

from __future__ import annotations

from ..target import Exchange
from . import Context, Finding, Outcome, check, passed
from .support import code_minor, status_payload_errors

BAD_PAGING = ({"limit": "0"}, {"limit": "-1"}, {"limit": "ten"}, {"offset": "-5"},
              {"offset": "1e3"})


def _refused_cleanly(exchange: Exchange, version: str, statuses: tuple[int, ...]) -> str | None:
    """Why the answer is not a clean refusal (None when it is one)."""
    if exchange.status not in statuses:
        return f"answered {exchange.status}"
    errors = status_payload_errors(exchange, version)
    return f"not a status payload: {errors[0]}" if errors else None


@check("OR-PAGE-006", "Invalid limit and offset values answer 400 invalid data",
       "OneRoster 1.2 REST binding §3.4 and OpenAPI minimums: limit >= 1, offset >= 0")
def bad_paging_refused(ctx: Context) -> Outcome:
    """``limit=0``, ``limit=-1``, ``limit=ten``, ``offset=-5`` and ``offset=1e3`` break the
    documented minimums and types; certified providers answer 400 with an imsx_StatusInfo
    (codeMinor ``invaliddata``) rather than guessing or failing. Fix: validate both values
    and say which one is wrong."""
    version = ctx.target.version
    for params in BAD_PAGING:
        exchange = ctx.target.get("/orgs", params)
        problem = _refused_cleanly(exchange, version, (400,))
        if problem:
            shown = "&".join(f"{k}={v}" for k, v in params.items())
            raise Finding(f"/orgs?{shown} {problem}", exchange)
    return passed(f"{len(BAD_PAGING)} invalid paging values, each refused with 400")


@check("OR-SORT-002", "An unknown sort field is ignored or refused, never a failure",
       "OneRoster 1.2 REST binding §3.6 sorting; 1.1: 200 with an invalid_sort_field warning")
def unknown_sort(ctx: Context) -> Outcome:
    """``sort=noSuchField`` names no field. 1.2 allows ignoring it (200) or refusing it
    (400 invalid_sort_field or invaliddata); 1.1 answers 200 with a statusInfoSet warning
    ``invalid_sort_field``. A 5xx, or a 400 without a status payload, is the finding. Fix:
    ignore or refuse unknown sort fields, with the version's status payload."""
    version = ctx.target.version
    exchange = ctx.target.get("/orgs", {"sort": "noSuchField", "limit": 5})
    body = exchange.json()
    if exchange.status == 200 and isinstance(body, dict) and isinstance(body.get("orgs"), list):
        if version == "1.1" and "statusInfoSet" not in body:
            raise Finding("1.1 ignored the unknown sort field without a statusInfoSet "
                          "warning", exchange)
        return passed("the unknown sort field was ignored", exchange)
    problem = _refused_cleanly(exchange, version, (400,))
    if problem:
        raise Finding(f"sort=noSuchField {problem}", exchange)
    return passed(f"the unknown sort field was refused ({code_minor(body, version)})", exchange)


@check("OR-ERR-004", "An unknown route answers 404 with a status payload",
       "OneRoster 1.2 REST binding §3.3 errors: unknownobject")
def unknown_route(ctx: Context) -> Outcome:
    """A path under the base that is no OneRoster endpoint (``/noSuchCollection``) must answer
    404 with an imsx_StatusInfo, as an unknown id does, not an HTML page or a 200. Fix: route
    unmatched paths under the base to the OneRoster error handler."""
    exchange = ctx.target.get("/noSuchCollection")
    problem = _refused_cleanly(exchange, ctx.target.version, (404,))
    if problem:
        raise Finding(f"/noSuchCollection {problem}", exchange)
    return passed("an unknown route answered 404 with a status payload", exchange)


@check("OR-AUTH-004", "A wrong client secret gets no token",
       "RFC 6749 §5.2 invalid_client; 1EdTech Security Framework")
def wrong_secret_refused(ctx: Context) -> Outcome:
    """The token URL must refuse a known client id with a wrong secret (401 or 400
    ``invalid_client``) and never issue a token for it. Fix: compare secrets in constant
    time and refuse on mismatch."""
    target = ctx.target
    if target.auth != "oauth2":
        return Outcome("skipped", "the run does not use OAuth 2.0 client credentials")
    answer, token = target.token_request(secret="wrong-" + "x" * 16)
    if token is not None:
        raise Finding("a wrong secret got an access token", answer)
    if answer.status is None or answer.status == 200 or answer.status >= 500:
        raise Finding(f"a wrong secret got {answer.status} from the token URL", answer)
    return passed(f"a wrong secret was refused with {answer.status}", answer)
