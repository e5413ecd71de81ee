"""TokenIssuer: opaque and signed tokens, expiry by a fake clock, bounded memory."""

from __future__ import annotations

import pytest

from mock_provider.connections import Connection, allowed_scopes
from mock_provider.errors import OneRosterError
from mock_provider.tokens import TokenIssuer

V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
V11 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
KEY = b"shared-key-for-all-workers-0123456789"


class FakeClock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def lms(lifetime: int = 3600) -> Connection:
    return Connection("lms", "lms-client", "lms-secret", allowed_scopes("any"),
                      token_lifetime=lifetime)


@pytest.mark.parametrize("key", [None, KEY], ids=["opaque", "signed"])
def test_issue_and_verify(key: bytes | None) -> None:
    clock = FakeClock()
    issuer = TokenIssuer(clock, signing_key=key)
    scopes = {V12 + "roster.readonly", V11 + "gradebook.delete"}
    issued = issuer.issue(lms(600), scopes)
    assert issued.expires_in == 600
    assert issued.scope == " ".join(sorted(scopes))
    grant = issuer.verify(issued.access_token)
    assert (grant.connection_name, grant.client_id) == ("lms", "lms-client")
    assert grant.scopes == scopes and grant.expires_at == clock.now + 600


@pytest.mark.parametrize("key", [None, KEY], ids=["opaque", "signed"])
def test_expired_token(key: bytes | None) -> None:
    clock = FakeClock()
    issuer = TokenIssuer(clock, signing_key=key)
    token = issuer.issue(lms(60), {V12 + "roster.readonly"}).access_token
    clock.now += 59
    issuer.verify(token)
    clock.now += 1
    with pytest.raises(OneRosterError) as info:
        issuer.verify(token)
    assert (info.value.status, info.value.code_minor) == (401, "unauthorisedrequest")
    assert "expired" in info.value.description


@pytest.mark.parametrize("key", [None, KEY], ids=["opaque", "signed"])
def test_a_new_token_keeps_earlier_ones_working(key: bytes | None) -> None:
    issuer = TokenIssuer(FakeClock(), signing_key=key)
    first = issuer.issue(lms(), {V12 + "roster.readonly"}).access_token
    second = issuer.issue(lms(), {V12 + "roster.readonly"}).access_token
    assert first != second
    assert issuer.verify(first).client_id == issuer.verify(second).client_id == "lms-client"


@pytest.mark.parametrize(("key", "token", "why"), [
    (None, "no-such-token", "unknown access token"),
    (KEY, "no-dot-here", "malformed access token"),
    (KEY, "!!!.???", "malformed access token"),
    (KEY, "e30.AAAA", "unknown access token"),  # {} with a wrong MAC
])
def test_bad_tokens(key: bytes | None, token: str, why: str) -> None:
    with pytest.raises(OneRosterError, match=why):
        TokenIssuer(FakeClock(), signing_key=key).verify(token)


def test_signed_tokens_are_shared_by_key_only() -> None:
    clock = FakeClock()
    token = TokenIssuer(clock, signing_key=KEY).issue(lms(), {V12 + "roster.readonly"})
    other_worker = TokenIssuer(clock, signing_key=KEY)
    assert other_worker.verify(token.access_token).scopes == {V12 + "roster.readonly"}
    with pytest.raises(OneRosterError, match="unknown access token"):
        TokenIssuer(clock, signing_key=b"another-key-entirely-0123456789").verify(
            token.access_token)
    with pytest.raises(OneRosterError, match="unknown access token"):
        TokenIssuer(clock).verify(token.access_token)


def test_signed_token_tampering_is_caught() -> None:
    issuer = TokenIssuer(FakeClock(), signing_key=KEY)
    token = issuer.issue(lms(), {V12 + "roster-core.readonly"}).access_token
    payload, mac = token.split(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    with pytest.raises(OneRosterError, match="access token"):
        issuer.verify(forged)


def test_expired_opaque_tokens_are_purged_on_issue() -> None:
    clock = FakeClock()
    issuer = TokenIssuer(clock)
    for _ in range(50):
        issuer.issue(lms(60), {V12 + "roster.readonly"})
    long_lived = issuer.issue(lms(7200), {V12 + "roster.readonly"}).access_token
    assert len(issuer) == 51
    clock.now += 61
    issuer.issue(lms(60), {V12 + "roster.readonly"})
    assert len(issuer) == 2
    issuer.verify(long_lived)


def test_cannot_issue_scopes_the_connection_lacks() -> None:
    narrow = Connection("n", "n-id", "n-secret", frozenset({V12 + "roster-core.readonly"}))
    with pytest.raises(ValueError, match="may not have"):
        TokenIssuer().issue(narrow, {V12 + "roster.readonly"})


def test_short_signing_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        TokenIssuer(signing_key=b"short")
