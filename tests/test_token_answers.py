"""Token answers are judged, and tokens never show: a token answer with the wrong
``token_type`` or a negative ``expires_in`` is OR-AUTH-012's finding (and nothing breaks on
it), and a token holding CR/LF and regular-expression characters is masked in results.json,
report.html, junit.xml and on the console, whatever form it takes there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from harness.masking import MASK, Masker
from harness.runner import run_checks, select
from harness.target import Target
from harness.token_answer import issued_token, problems
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .broken_providers import JSON, TokenAnswer, TokenGate
from .conftest import make_district
from .live_server import live_server

CONNECTION = Connection(name="h", client_id="h", client_secret="h-secret",
                        scopes=ALL_SCOPES_V12)
# A token no header can carry, full of characters a regular expression would read as syntax.
HALVES = ("tok-A1b2C3d4A1b2C3d4A1b2C3d4.*+?", "X-Injected: ^$[]{}()|\\d Z9y8X7w6Z9y8X7w6")
WICKED = HALVES[0] + "\r\n" + HALVES[1]


@pytest.fixture(scope="module")
def store(districts_dir: Path):
    with Store(make_district(districts_dir, 42, 60)) as opened:
        yield opened


def _auth_run(store: Store, change: Callable[[dict], None]) -> dict[str, tuple[str, str]]:
    with live_server(TokenAnswer(create_app(store, [CONNECTION]), change)) as url, \
            Target(url, f"{url}/oauth2/token", "h", "h-secret") as target:
        summary = run_checks(target, select("OR-AUTH"))
    return {r.id: (r.status, r.message) for r in summary.results}


def _mac_and_negative(answer: dict) -> None:
    answer.update(token_type="mac", expires_in=-5)


def test_a_wrong_token_type_and_a_negative_lifetime_are_one_finding(store: Store) -> None:
    results = _auth_run(store, _mac_and_negative)
    failed = {check: message for check, (status, message) in results.items()
              if status == "failed"}
    assert set(failed) == {"OR-AUTH-012"}, failed
    assert "token_type is 'mac', not bearer" in failed["OR-AUTH-012"]
    assert "expires_in is -5, not a positive number" in failed["OR-AUTH-012"]
    # The run's token still works: nothing else breaks on the bad answer, and a check that
    # needs a lifetime says it has none instead of waiting a negative time.
    assert results["OR-AUTH-006"][0] == "skipped"
    assert "no positive numeric expires_in" in results["OR-AUTH-006"][1]


def test_the_conformant_token_answer_passes(store: Store) -> None:
    results = _auth_run(store, lambda answer: answer.update(token_type="Bearer"))
    assert results["OR-AUTH-012"][0] == "passed", results["OR-AUTH-012"]


def _wicked_token(form: dict[str, str], headers: dict[str, str]) -> tuple[int, list, bytes]:
    body = {"access_token": WICKED, "token_type": "bearer", "expires_in": 3600}
    return 200, JSON, json.dumps(body).encode()


def test_a_token_with_cr_lf_and_regex_characters_never_shows(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    gate = TokenGate(create_app(store, [CONNECTION]), _wicked_token)
    with live_server(gate) as url:
        code = main(["check", "provider", "--base-url", url, "--token-url",
                     f"{url}/oauth2/token", "--client-id", "h", "--client-secret", "h-secret",
                     "--only", "OR-AUTH,OR-CORE-001,OR-ERR-003", "--timeout", "5",
                     "--report-dir", str(tmp_path)])
    printed = capsys.readouterr()
    assert code == 1
    results = json.loads((tmp_path / "results.json").read_text())
    by_id = {r["id"]: r for r in results["results"]}
    assert by_id["OR-AUTH-012"]["status"] == "failed"
    assert "whitespace or control characters" in by_id["OR-AUTH-012"]["message"]
    shown = {"console": printed.out + printed.err}
    shown |= {name: (tmp_path / name).read_text() for name in
              ("results.json", "report.html", "junit.xml")}
    for where, text in shown.items():
        for half in HALVES:
            for part in (half[:20], half[-16:]):
                assert part not in text, f"{part!r} shows in {where}"
        assert "h-secret" not in text, where
    assert MASK in shown["results.json"]


@pytest.mark.parametrize("body, expected", [
    ({"access_token": 12345, "token_type": "bearer"}, ["access_token is a number, not a string"]),
    ({"access_token": "", "token_type": "bearer"}, ["access_token is empty"]),
    ({"access_token": "t" * 20}, ["token_type is missing (RFC 6749 §5.1: REQUIRED)"]),
    ({"access_token": "t" * 20, "token_type": "BEARER", "expires_in": "3600"},
     ["expires_in is a string, not a positive number of seconds"]),
    ({"access_token": "t" * 20, "token_type": "bearer", "expires_in": 0},
     ["expires_in is 0, not a positive number of seconds"]),
    ({"access_token": "t" * 20, "token_type": "Bearer", "expires_in": 3599.5}, []),
])
def test_token_answer_problems(body: dict, expected: list[str]) -> None:
    assert problems(body) == expected


def test_a_numeric_token_is_still_a_token_to_send() -> None:
    assert issued_token({"access_token": 12345}) == "12345"
    assert issued_token({"access_token": True}) is None
    assert issued_token({"access_token": ""}) is None


def test_every_form_of_a_secret_is_masked() -> None:
    masker = Masker([WICKED, "secret"])  # too short to mask everywhere: left alone
    for text in (WICKED, json.dumps(WICKED), repr(WICKED), repr(WICKED.encode()),
                 " ".join(WICKED.split()), HALVES[1]):
        assert HALVES[1][-16:] not in masker.text(f"before {text} after"), text
    assert masker.text("a wrong secret") == "a wrong secret"
