"""Hostile input against the mock over real HTTP (issue 17): every body-taking route answers a
4xx with a status payload, never a 500 or a traceback. Deep nesting, non-JSON numbers, lone
surrogates, oversized and abandoned bodies, wrong content types, odd Basic headers. The mock
runs on its own fresh district, because some of these writes would otherwise change it."""

from __future__ import annotations

import logging
import re
import select
import socket
import sqlite3
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from mock_provider.app import Settings, create_app
from mock_provider.bodies import MAX_DEPTH
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.routes import admin, oauth
from mock_provider.settings import SettingsError
from mock_provider.state import mock_state
from mock_provider.store import Store

from .live_server import live_server
from .test_gradebook_writes import G12, V11, Env, _pick_ids, _token

ADMIN = "admin-token-for-reliability"
DEEP = b"[" * 1000 + b"]" * 1000


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path = tmp_path_factory.mktemp("reliability") / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    store = Store(path)
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    app = create_app(store, [lms], Settings(), admin_token=ADMIN)
    with live_server(app) as url:
        headers = {"Authorization": f"Bearer {_token(url, 'lms')}"}
        with httpx.Client(base_url=url, headers=headers, timeout=20) as api:
            yield Env(url, app, store, path, api, _pick_ids(store.conn))
    mock_state(app).close()
    store.close()


def _status_info(response: httpx.Response, status: int, *words: str) -> str:
    """The imsx description of a refusal, after checking the status and the payload's shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    info = body["statusInfoSet"][0] if "statusInfoSet" in body else body
    assert info["imsx_codeMajor"] == "failure"
    assert info["imsx_severity"] == "error"
    for word in words:
        assert word in info["imsx_description"], (word, info["imsx_description"])
    return info["imsx_description"]


def _send(env: Env, method: str, path: str, body: bytes,
          content_type: str | None = "application/json") -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    if path.startswith("/admin"):
        headers["Authorization"] = f"Bearer {ADMIN}"
    return env.api.request(method, path, content=body, headers=headers)


def _body_routes(env: Env) -> list[tuple[str, str]]:
    """Every kind of route that parses a JSON body: (method, path)."""
    ids = env.ids
    return [
        ("PUT", f"{G12}/lineItems/rel-li"),
        ("PUT", f"{G12}/categories/rel-cat"),
        ("PUT", f"{V11}/lineItems/rel-li-11"),
        ("PUT", f"{V11}/results/rel-res-11"),
        ("POST", f"{G12}/classes/{ids['class']}/lineItems"),
        ("POST", f"{G12}/schools/{ids['school']}/lineItems"),
        ("POST", f"{G12}/classes/{ids['class']}/academicSessions/{ids['term']}/results"),
        ("POST", "/admin/tick"),
        ("POST", "/admin/rollover"),
        ("POST", "/admin/reset"),
    ]


# --- JSON: depth, numbers, surrogates -------------------------------------------------------


def test_json_nested_a_thousand_levels_is_400_on_every_body_route(env: Env) -> None:
    for method, path in _body_routes(env):
        response = _send(env, method, path, DEEP)
        if path.endswith(("/rollover", "/reset")):
            _status_info(response, 400, "must be empty or {}")
        else:
            _status_info(response, 400, f"deeper than {MAX_DEPTH} levels")


def test_nesting_up_to_the_limit_is_parsed(env: Env) -> None:
    """The limit refuses only what is deeper: metadata nested MAX_DEPTH - 2 deep is stored."""
    nested: object = "bottom"
    for _ in range(MAX_DEPTH - 3):  # envelope, record and metadata are three levels
        nested = {"x": nested}
    record = env.line_item("rel-deep-ok", metadata={"x": nested})
    assert env.api.put(f"{G12}/lineItems/rel-deep-ok",
                       json={"lineItem": record}).status_code == 201
    got = env.api.get(f"{G12}/lineItems/rel-deep-ok").json()["lineItem"]
    assert got["metadata"] == {"x": nested}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999",
                                    "1" + "0" * 400])
def test_numbers_json_cannot_hold_are_refused_and_never_stored(env: Env, number: str) -> None:
    sid = f"rel-num-{len(number)}-{number[:3].strip('-')}"
    record = env.line_item(sid, title=f"Number {sid}")
    text = httpx.Request("PUT", "/", json={"lineItem": record}).content.decode()
    raw = text.replace('"resultValueMax":100.0', f'"resultValueMax":{number}')
    assert number in raw
    description = _status_info(_send(env, "PUT", f"{G12}/lineItems/{sid}", raw.encode()), 400,
                               "json_body")
    assert "not a JSON number" in description or "out of range" in description
    assert env.api.get(f"{G12}/lineItems/{sid}").status_code == 404
    # The same in a category's weight and in a bulk POST, which stores nothing either.
    raw = f'{{"category": {{"title": "Heavy", "weight": {number}}}}}'.encode()
    _status_info(_send(env, "PUT", f"{G12}/categories/{sid}", raw), 400, "json_body")
    bulk = httpx.Request("POST", "/", json={"lineItems": [record]}).content.decode()
    bulk = bulk.replace('"resultValueMax":100.0', f'"resultValueMax":{number}')
    _status_info(_send(env, "POST", f"{G12}/classes/{env.ids['class']}/lineItems",
                       bulk.encode()), 400, "json_body")
    assert env.api.get(f"{G12}/lineItems/{sid}").status_code == 404
    assert "Infinity" not in env.api.get(f"{G12}/lineItems?limit=1000").text


def test_a_lone_surrogate_in_any_string_is_refused(env: Env) -> None:
    line_item = httpx.Request("PUT", "/", json={"lineItem": env.line_item(
        "rel-sur", title="TITLE")}).content
    for method, path in _body_routes(env):
        if path.endswith(("/rollover", "/reset")):
            continue
        if "/admin/" in path:
            body = b'{"days": "7\\ud800"}'
        elif "/categories/" in path:
            body = b'{"category": {"title": "A\\ud800"}}'
        else:
            body = line_item.replace(b"TITLE", b"A\\udfff B")
        _status_info(_send(env, method, path, body), 400, "lone UTF-16 surrogate")
    # A key is a string too; a proper pair (an emoji written as two escapes) is text.
    _status_info(_send(env, "PUT", f"{G12}/categories/rel-sur-key",
                       b'{"category": {"title": "A", "metadata": {"\\ud800": 1}}}'), 400,
                 "lone UTF-16 surrogate")
    response = _send(env, "PUT", f"{G12}/categories/rel-emoji",
                     b'{"category": {"title": "A \\ud83d\\ude00"}}')
    assert response.status_code == 201, response.text
    assert env.api.get(f"{G12}/categories/rel-emoji").json()["category"]["title"] == "A \U0001f600"


# --- sizes ------------------------------------------------------------------------------------


def _padded(env: Env, size: int) -> bytes:
    """A well-formed PUT body of at least ``size`` bytes (a long description)."""
    return httpx.Request("PUT", "/", json={"lineItem": env.line_item(
        "rel-big", description="x" * size)}).content


def test_bodies_over_the_limits_are_413_with_a_status_payload(env: Env) -> None:
    settings = Settings()
    _status_info(_send(env, "PUT", f"{G12}/lineItems/rel-big",
                       _padded(env, settings.max_put_body)), 413,
                 f"larger than {settings.max_put_body} bytes")
    _status_info(_send(env, "PUT", f"{V11}/lineItems/rel-big",
                       _padded(env, settings.max_put_body)), 413)
    assert env.api.get(f"{G12}/lineItems/rel-big").status_code == 404
    _status_info(_send(env, "POST", f"{G12}/classes/{env.ids['class']}/lineItems",
                       b'{"lineItems": [' + b" " * settings.max_post_body + b"]}"), 413,
                 f"larger than {settings.max_post_body} bytes")
    _status_info(_send(env, "POST", "/admin/tick", b'{"days": 1' + b" " * admin.MAX_BODY + b"}"),
                 413, f"larger than {admin.MAX_BODY} bytes")
    # Just under the PUT limit is fine.
    response = _send(env, "PUT", f"{G12}/lineItems/rel-big",
                     _padded(env, settings.max_put_body - 2000))
    assert response.status_code == 201, response.text[:300]


def test_the_limits_are_settings(env: Env) -> None:
    state = mock_state(env.app)
    original = state.settings
    state.settings = Settings(max_put_body=4096, max_post_body=8192)
    try:
        _status_info(_send(env, "PUT", f"{G12}/lineItems/rel-small", _padded(env, 4096)), 413,
                     "larger than 4096 bytes")
        items = [env.line_item(f"rel-small-{i}", description="d" * 1000) for i in range(10)]
        response = env.api.post(f"{G12}/classes/{env.ids['class']}/lineItems",
                                json={"lineItems": items})
        _status_info(response, 413, "larger than 8192 bytes")
    finally:
        state.settings = original
    with pytest.raises(SettingsError, match="max_put_body"):
        Settings(max_put_body=10)


def _raw_exchange(url: str, head: bytes, chunks: Iterator[bytes],
                  seconds: float = 20.0) -> tuple[bytes, int]:
    """Send ``head`` and then ``chunks`` until the server answers (or stops reading); the
    answer's bytes and how many body bytes went out. Bounded in time and in ``chunks``."""
    parts = urlsplit(url)
    sent = 0
    answer = b""
    deadline = time.monotonic() + seconds
    with socket.create_connection((parts.hostname, parts.port), timeout=seconds) as sock:
        sock.sendall(head)
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0] or time.monotonic() > deadline:
                break
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed: the answer is waiting
                break
            sent += len(chunk)
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                break
    return answer, sent


def test_the_token_endpoint_stops_reading_at_its_limit(env: Env) -> None:
    """No login is needed here, so a 300 MB body must be refused after its first 64 KB, not
    buffered: the answer comes while the client is still sending, and the connection closes."""
    megabyte = b"a" * (1 << 20)

    def chunked() -> Iterator[bytes]:
        for _ in range(300):
            yield b"%x\r\n%s\r\n" % (len(megabyte), megabyte)

    host = urlsplit(env.url).netloc
    head = (f"POST /oauth2/token HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    answer, sent = _raw_exchange(env.url, head, chunked())
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"error":"invalid_request"' in rest
    assert f"larger than {oauth.MAX_BODY} bytes".encode() in rest
    assert b"connection: close" in rest.lower()
    assert sent < 64 << 20, f"the client got to send {sent} bytes before the answer"
    # A declared Content-Length over the limit is refused before any of the body is read.
    head = (f"POST /oauth2/token HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 300000000\r\n\r\n").encode()
    answer, sent = _raw_exchange(env.url, head, iter([megabyte] * 300))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert sent < 64 << 20


def test_a_client_hanging_up_mid_body_costs_one_log_line(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    host = urlsplit(env.url).netloc
    token = env.api.headers["Authorization"]
    head = (f"PUT {G12}/lineItems/rel-gone HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: 5000\r\n\r\n").encode()
    with caplog.at_level(logging.INFO):
        with socket.create_connection((urlsplit(env.url).hostname, urlsplit(env.url).port),
                                      timeout=5) as sock:
            sock.sendall(head + b'{"lineItem": {"title": "')
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
                "hung up" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
    lines = [r for r in caplog.records if "hung up" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert "PUT" in lines[0].getMessage() and "/lineItems/rel-gone" in lines[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert env.api.get(f"{G12}/lineItems/rel-gone").status_code == 404


# --- content type -----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_writes_declared_as_something_else_than_json_are_415(env: Env,
                                                              content_type: str) -> None:
    body = httpx.Request("PUT", "/", json={"lineItem": env.line_item("rel-ct")}).content
    for method, path in _body_routes(env)[:7]:
        if method == "POST":
            send = body.replace(b'{"lineItem":', b'{"lineItems":[', 1)[:-1] + b"]}"
        else:
            send = body
        _status_info(_send(env, method, path, send, content_type), 415,
                     "must be application/json", content_type.split(";")[0])
    assert env.api.get(f"{G12}/lineItems/rel-ct").status_code == 404


def test_json_without_a_content_type_or_with_a_charset_is_read(env: Env) -> None:
    body = httpx.Request("PUT", "/", json={"lineItem": env.line_item("rel-ct-none")}).content
    assert _send(env, "PUT", f"{G12}/lineItems/rel-ct-none", body, None).status_code == 201
    body = httpx.Request("PUT", "/", json={"lineItem": env.line_item(
        "rel-ct-utf", title="Charset")}).content
    assert _send(env, "PUT", f"{G12}/lineItems/rel-ct-utf", body,
                 "application/json; charset=utf-8").status_code == 201


# --- the token endpoint's Basic header --------------------------------------------------------


@pytest.mark.parametrize("header", [b"Basic \xc3\xa9\xc3\xa9", b"Basic \xff\xfe",
                                    b"Basic !!!!", b"Basic bm9jb2xvbg==", b"Basic /w==",
                                    b"Basic"])
def test_a_malformed_basic_header_is_invalid_client(env: Env, header: bytes) -> None:
    host = urlsplit(env.url).netloc
    body = b"grant_type=client_credentials"
    head = (b"POST /oauth2/token HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
            b"Authorization: " + header + b"\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
    answer, _ = _raw_exchange(env.url, head + body, iter(()))
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b'"error":"invalid_client"' in answer


# --- bulk POST cost ---------------------------------------------------------------------------


def test_the_title_check_is_an_index_lookup_even_on_an_old_district_file(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """title_unique_in_class runs once per posted line item: on (class_id) alone it scanned the
    class, and repeated 2,000-item POSTs into one class slowed from 0.8 s to 9.9 s. A file
    built before the (class_id, title) index gets it on the first write."""
    path = tmp_path_factory.mktemp("old-file") / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX lineItems_class_id_title")
        conn.execute("CREATE INDEX lineItems_class_id ON lineItems (class_id)")
    store = Store(path)
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12)
    app = create_app(store, [lms])
    try:
        with live_server(app) as url:
            env = Env(url, app, store, path, httpx.Client(), _pick_ids(store.conn))
            items = [env.line_item(f"old-{i}", title=f"Old {i}") for i in range(3)]
            response = httpx.post(f"{url}{G12}/classes/{env.ids['class']}/lineItems",
                                  json={"lineItems": items}, timeout=20,
                                  headers={"Authorization": f"Bearer {_token(url, 'lms')}"})
            assert response.status_code == 201, response.text
    finally:
        mock_state(app).close()
        store.close()
    with sqlite3.connect(path) as conn:
        plan = " ".join(row[-1] for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT sourcedId FROM lineItems WHERE class_id = ? AND "
            "title = ? AND status = 'active' AND hidden = 0 AND sourcedId != ? LIMIT 1",
            ("c", "t", "s")))
    assert "lineItems_class_id_title (class_id=? AND title=?)" in plan, plan


# --- 405, Link ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PATCH", f"{G12}/results/r-1", "GET, HEAD, PUT, DELETE"),
    ("POST", f"{G12}/lineItems/li-1", "GET, HEAD, PUT, DELETE"),
    ("PUT", f"{G12}/lineItems", "GET, HEAD"),
    ("PATCH", f"{V11}/categories/c-1", "GET, HEAD, PUT, DELETE"),
    ("PUT", f"{G12}/classes/c-1/lineItems", "GET, HEAD, POST"),
    ("DELETE", "/ims/oneroster/rostering/v1p2/users/u-1", "GET, HEAD"),
    ("GET", "/oauth2/token", "POST"),
])
def test_a_405_names_every_method_the_path_has(env: Env, method: str, path: str,
                                               allowed: str) -> None:
    response = env.api.request(method, path)
    _status_info(response, 405, f"method {method} is not allowed", allowed)
    assert response.headers["Allow"] == allowed


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"',
                                                response.headers["Link"])}


def test_link_repeats_only_understood_parameters_on_the_servers_own_origin(env: Env) -> None:
    path = "/ims/oneroster/rostering/v1p2/users"
    query = {"limit": "5", "offset": "5", "filter": "roles.role='student'", "sort": "familyName",
             "orderBy": "desc", "fields": "sourcedId,familyName", "junk": "x" * 3000,
             "callback": "<script>"}
    response = env.api.get(path, params=query, headers={"Host": "evil.example:666"})
    assert response.status_code == 200, response.text
    links = _links(response)
    assert set(links) == {"first", "prev", "next", "last"}
    for url in links.values():
        assert url.startswith(f"{env.url}{path}?"), url
        assert "junk" not in url and "callback" not in url and "evil" not in url
        assert "filter=roles.role%3D%27student%27" in url and "sort=familyName" in url
        assert "orderBy=desc" in url and "fields=sourcedId%2CfamilyName" in url
    assert "limit=5&offset=10" in links["next"]
    # Following the Link gives the page it names.
    following = env.api.get(links["next"]).json()["users"]
    direct = env.api.get(path, params={**query, "offset": "10"}).json()["users"]
    assert following == direct


def test_a_link_longer_than_its_cap_is_left_out(env: Env) -> None:
    """A 9 KB filter would repeat in four URLs; the page still answers, with its total."""
    long_filter = f"familyName!='{'x' * 9000}'"
    response = env.api.get("/ims/oneroster/rostering/v1p2/users",
                           params={"filter": long_filter, "limit": "2"})
    assert response.status_code == 200, response.text[:300]
    assert "Link" not in response.headers
    assert int(response.headers["X-Total-Count"]) > 2
    short = env.api.get("/ims/oneroster/rostering/v1p2/users", params={"limit": "2"})
    assert len(short.headers["Link"]) <= 8 * 1024


# --- PUT that replaces --------------------------------------------------------------------------


def test_a_put_that_replaces_answers_what_the_served_document_lists(env: Env) -> None:
    """201 on create; on replace 200 with no body (Infinite Campus's and Google's reading),
    which the gradebook document this mock serves lists beside the published 201; with
    update_status = 201 a replace answers 201 and the document lists only 201."""
    discovery = f"{G12}/discovery/imsorv1p2_gradebook_openapi3_v1p0.json"
    url = f"{G12}/lineItems/rel-replace"
    created = env.api.put(url, json={"lineItem": env.line_item("rel-replace")})
    assert (created.status_code, created.content) == (201, b"")
    replaced = env.api.put(url, json={"lineItem": env.line_item("rel-replace", title="Again")})
    assert (replaced.status_code, replaced.content) == (200, b"")
    assert env.api.get(url).json()["lineItem"]["title"] == "Again"
    puts = [item["put"] for item in env.api.get(discovery).json()["paths"].values()
            if "put" in item]
    assert len(puts) == 6
    assert all({"200", "201"} <= set(put["responses"]) for put in puts)
    assert all("content" not in put["responses"]["200"] for put in puts)

    state = mock_state(env.app)
    original = state.settings
    state.settings = Settings(update_status=201)
    try:
        again = env.api.put(url, json={"lineItem": env.line_item("rel-replace", title="Third")})
        assert (again.status_code, again.content) == (201, b"")
        puts = [item["put"] for item in env.api.get(discovery).json()["paths"].values()
                if "put" in item]
        assert all("200" not in put["responses"] and "201" in put["responses"] for put in puts)
    finally:
        state.settings = original
