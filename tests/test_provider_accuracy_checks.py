"""Checks that real providers taught us (the checker-accuracy issue): 401s without
WWW-Authenticate, a case-sensitive Bearer, HTML answers to other methods, 500s on client
mistakes, fields ignored on single records, a blank fields= accepted, parents without agents,
a user without a primary role at one of its orgs, class terms pointing at a grading period.
Each broken provider is the conformant mock with one defect, caught by its check and by
nothing else; the conformant mock passes them all in 1.2 and 1.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from harness.model import RunSummary
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .asgi import answer_of, send_answer
from .conftest import make_district
from .live_server import live_server

NEW = ("OR-AUTH-007,OR-AUTH-008,OR-ERR-005,OR-ERR-006,OR-ERR-007,OR-FIELDS-003,OR-FIELDS-004,"
       "OR-REF-003,OR-REF-005,OR-DATE-006")
# Checks that also judge what these defects touch, run beside the new ones so that "caught by
# nothing else" means something: the shared walks, errors, auth and dates checks.
NEIGHBOURS = "OR-AUTH-001,OR-AUTH-002,OR-ERR-001,OR-ERR-003,OR-FIELDS-001,OR-REF,OR-DATE"
Rewrite = Callable[[dict], dict | None]


class Broken:
    """The mock with one defect, as ASGI middleware: ``request`` may rewrite the scope or
    answer by itself (returning (status, headers, body)); ``response`` may rewrite a JSON
    answer's body; ``drop_header`` removes a header from every answer."""

    def __init__(self, app, request=None, response: Rewrite | None = None,
                 drop_header: bytes | None = None) -> None:
        self.app, self.request, self.response = app, request, response
        self.drop_header = drop_header

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if self.request:
            changed = self.request(dict(scope))
            if isinstance(changed, tuple):
                await send_answer(send, *changed)
                return
            scope = changed
        status, headers, body = await answer_of(self.app, scope, receive)
        if self.drop_header:
            headers = [(k, v) for k, v in headers if k.lower() != self.drop_header]
        if self.response and body.strip().startswith(b"{"):
            rewritten = self.response(json.loads(body))
            if rewritten is not None:
                body = json.dumps(rewritten).encode()
        await send_answer(send, status, headers, body)


def _params(scope: dict) -> list[tuple[str, str]]:
    return parse_qsl(scope["query_string"].decode(), keep_blank_values=True)


def _case_sensitive_bearer(scope: dict) -> dict:
    headers = []
    for key, value in scope["headers"]:
        if key == b"authorization" and value[:7] in (b"bearer ", b"BEARER "):
            value = b"Bearer refused-because-of-case"
        headers.append((key, value))
    return {**scope, "headers": headers}


HTML = [(b"content-type", b"text/html")]


def _html_for_other_methods(scope: dict) -> dict | tuple:
    if scope["method"] not in ("GET", "HEAD") and "/rostering/" in scope["path"]:
        return 404, HTML, b"<html><body>Not Found</body></html>"
    return scope


def _bad_date_is_500(scope: dict) -> dict | tuple:
    if any(k == "filter" and "yesterday" in v for k, v in _params(scope)):
        return 500, HTML, b"<html>Internal Server Error</html>"
    return scope


def _fields_ignored_on_single_records(scope: dict) -> dict:
    if scope["path"].rsplit("/", 2)[-2] in ("users", "orgs"):  # /users/{id}, /orgs/{id}
        scope["query_string"] = urlencode(
            [(k, v) for k, v in _params(scope) if k != "fields"]).encode()
    return scope


def _blank_fields_ignored(scope: dict) -> dict:
    scope["query_string"] = urlencode(
        [(k, v) for k, v in _params(scope) if not (k == "fields" and not v.strip())]).encode()
    return scope


def _users(body: dict, change: Callable[[dict], None]) -> dict | None:
    records = body.get("users") if isinstance(body.get("users"), list) else (
        [body["user"]] if isinstance(body.get("user"), dict) else [])
    for record in records:
        change(record)
    return body if records else None


def _parents_without_agents(body: dict) -> dict | None:
    def change(user: dict) -> None:
        if user.get("roles", [{}])[0].get("role") in ("parent", "guardian"):
            user.pop("agents", None)
    return _users(body, change)


def _second_org_without_primary(district_org: str) -> Rewrite:
    def change(user: dict) -> None:
        roles = user.get("roles")
        if roles and roles[0].get("role") == "student":
            user["roles"] = [*roles, {"roleType": "secondary", "role": "student",
                                      "org": {**roles[0]["org"], "sourcedId": district_org,
                                              "href": roles[0]["org"]["href"].rsplit("/", 1)[0]
                                              + "/" + district_org}}]
    return lambda body: _users(body, change)


def _terms_at_a_grading_period(period: str) -> Rewrite:
    def rewrite(body: dict) -> dict | None:
        classes = body.get("classes") if isinstance(body.get("classes"), list) else (
            [body["class"]] if isinstance(body.get("class"), dict) else [])
        for klass in classes[:1]:
            klass["terms"] = [{**klass["terms"][0], "sourcedId": period}]
        return body if classes else None
    return rewrite


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _ids(district: Path) -> tuple[str, str]:
    """(the district org, a grading period) of the served district."""
    with Store(district) as store:
        org = store.conn.execute("SELECT sourcedId FROM orgs WHERE type = 'district'").fetchone()
        period = store.conn.execute("SELECT sourcedId FROM academicSessions WHERE "
                                    "type = 'gradingPeriod' AND NOT hidden").fetchone()
    return org[0], period[0]


def _run(district: Path, version: str = "1.2", **defect) -> RunSummary:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    with Store(district) as store:
        app = create_app(store, [connection])
        with live_server(Broken(app, **defect) if defect else app) as url, \
                Target(url, f"{url}/oauth2/token", "h", "h-secret", version) as target:
            return run_checks(target, select(f"{NEW},{NEIGHBOURS}"))


def _fired(summary: RunSummary) -> set[str]:
    return {r.id for r in summary.results if r.status in ("failed", "warning")}


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_conformant_mock_passes_them_all(district: Path, version: str) -> None:
    summary = _run(district, version)
    assert not _fired(summary), [(r.id, r.message) for r in summary.results
                                 if r.status != "passed"]
    skipped = {r.id for r in summary.results if r.status == "skipped"}
    assert skipped == ({"OR-REF-003"} if version == "1.1" else set())  # 1.1: one role


DEFECTS: dict[str, tuple[Callable[[Path], dict], set[str]]] = {
    "a 401 without WWW-Authenticate": (lambda d: {"drop_header": b"www-authenticate"},
                                       {"OR-AUTH-007"}),
    "a case-sensitive Bearer": (lambda d: {"request": _case_sensitive_bearer}, {"OR-AUTH-008"}),
    "HTML 404s for other methods": (lambda d: {"request": _html_for_other_methods},
                                    {"OR-ERR-006", "OR-ERR-007"}),
    "405 without Allow": (lambda d: {"drop_header": b"allow"}, {"OR-ERR-007"}),
    "a bad date in a filter is a 500": (lambda d: {"request": _bad_date_is_500},
                                        {"OR-ERR-005", "OR-ERR-003"}),
    "fields ignored on single records": (lambda d: {
        "request": _fields_ignored_on_single_records}, {"OR-FIELDS-003"}),
    "a blank fields= answers every field": (lambda d: {"request": _blank_fields_ignored},
                                            {"OR-FIELDS-004"}),
    "parents without agents": (lambda d: {"response": _parents_without_agents},
                               {"OR-REF-005"}),
    "no primary role at a second org": (lambda d: {
        "response": _second_org_without_primary(_ids(d)[0])}, {"OR-REF-003"}),
    # The class's enrollments then run past its (wrong) term: OR-DATE-003 says so too.
    "class terms at a grading period": (lambda d: {
        "response": _terms_at_a_grading_period(_ids(d)[1])}, {"OR-DATE-006", "OR-DATE-003"}),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_is_caught_by_its_check_and_nothing_else(district: Path, name: str) -> None:
    build, expected = DEFECTS[name]
    summary = _run(district, **build(district))
    assert _fired(summary) == expected, [(r.id, r.message) for r in summary.results
                                          if r.status in ("failed", "warning")]


def test_every_offender_is_listed_with_its_evidence(district: Path) -> None:
    summary = _run(district, response=_parents_without_agents)
    found = next(r for r in summary.results if r.id == "OR-REF-005")
    with Store(district) as store:
        parents = {row[0] for row in store.conn.execute(
            "SELECT sourcedId FROM users WHERE role IN ('parent', 'guardian') AND NOT hidden")}
    assert len(found.items) == len(parents) > 3
    assert {item.split()[0] for item in found.items} == parents
    assert found.message.startswith(f"{len(parents)} users break the agents rules")
    assert found.evidence and all("***" in e.curl for e in found.evidence)


def _one_stamp_for_everyone(body: dict) -> dict | None:
    def change(user: dict) -> None:
        user["dateLastModified"] = "2026-01-05T08:00:00Z"
    return _users(body, change)


def _nothing_after_the_one_stamp(scope: dict) -> dict:
    scope["query_string"] = urlencode(
        [(k, "sourcedId='nobody'" if k == "filter" and "dateLastModified" in v else v)
         for k, v in _params(scope)]).encode()
    return scope


def test_a_delta_filter_that_cannot_be_judged_is_skipped_not_passed(district: Path) -> None:
    """Every user carries one stamp, so dateLastModified>'that stamp' rightly selects nobody:
    nothing tells that from a filter that always answers an empty page."""
    summary = _run(district, request=_nothing_after_the_one_stamp,
                   response=_one_stamp_for_everyone)
    delta = next(r for r in summary.results if r.id == "OR-DATE-005")
    assert delta.status == "skipped"
    assert "every user has the same dateLastModified" in delta.message
