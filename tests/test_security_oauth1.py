"""OAuth 1.0a signing (RFC 5849) without a server: base string, signatures, checks, nonces."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from mock_provider.connections import Connection, allowed_scopes
from mock_provider.errors import OneRosterError
from mock_provider.oauth1 import (
    NonceCache,
    base_string,
    base_url,
    parse_authorization,
    sign_oauth1,
    verify_oauth1,
)

NOW = 1_750_000_000
LMS = Connection("lms", "lms key", "secret&with=odd chars", allowed_scopes("1.1"),
                 version="1.1", oauth1=True)


def verify(method: str, url: str, header: str, cache: NonceCache | None = None,
           now: float = NOW, allow_sha1: bool = False) -> Connection:
    cache = NonceCache() if cache is None else cache  # an empty cache is falsy (len 0)
    return verify_oauth1(method, url, {"Authorization": header}, [LMS], cache, now,
                         allow_sha1=allow_sha1)


def test_rfc5849_base_string_example() -> None:
    # RFC 5849 §3.4.1.1; the example's body parameters (c2, a3=2 q) ride in the query here.
    url = "http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b&c2&a3=2+q"
    oauth = {"oauth_consumer_key": "9djdj82h48djs9d2", "oauth_token": "kkk9d7dh3k39sjv7",
             "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "137131201",
             "oauth_nonce": "7d8f3e4a", "oauth_signature": "ignored"}
    assert base_string("post", url, oauth) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D"
        "%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce"
        "%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26"
        "oauth_token%3Dkkk9d7dh3k39sjv7")


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTP://Example.COM:80/a/B?q=1", "http://example.com/a/B"),
    ("https://example.com:443/x", "https://example.com/x"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com", "http://example.com/"),
])
def test_base_url(url: str, expected: str) -> None:
    assert base_url(url) == expected


def test_signature_is_hmac_sha256_over_the_base_string() -> None:
    url = "https://district.example/ims/oneroster/v1p1/users?limit=5"
    header = sign_oauth1("GET", url, LMS.client_id, LMS.client_secret, timestamp=NOW, nonce="n1")
    params = parse_authorization(header)
    base = base_string("GET", url, params)
    key = b"secret%26with%3Dodd%20chars&"
    expected = base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()
    assert params["oauth_signature"] == expected
    assert params["oauth_consumer_key"] == "lms key"  # percent-decoded again
    assert params["oauth_version"] == "1.0" and params["oauth_signature_method"] == "HMAC-SHA256"


def test_round_trip_and_default_port() -> None:
    header = sign_oauth1("GET", "https://h.example:443/ims/oneroster/v1p1/users?filter=a%3D%27b%27",
                         LMS.client_id, LMS.client_secret, timestamp=NOW)
    assert verify("GET", "https://h.example/ims/oneroster/v1p1/users?filter=a%3D%27b%27",
                  header) is LMS


def test_method_is_signed() -> None:
    header = sign_oauth1("GET", "http://h/x", LMS.client_id, LMS.client_secret, timestamp=NOW)
    with pytest.raises(OneRosterError, match="signature does not match"):
        verify("DELETE", "http://h/x", header)


def test_parameter_order_does_not_matter() -> None:
    header = sign_oauth1("GET", "http://h/x?b=2&a=1", LMS.client_id, LMS.client_secret,
                         timestamp=NOW)
    assert verify("GET", "http://h/x?a=1&b=2", header) is LMS


def test_realm_is_ignored() -> None:
    header = sign_oauth1("GET", "http://h/x", LMS.client_id, LMS.client_secret, timestamp=NOW)
    assert verify("GET", "http://h/x", header.replace("OAuth ", 'OAuth realm="district", ')) is LMS


@pytest.mark.parametrize(("header", "says"), [
    ("Bearer abc", "expected an 'OAuth' Authorization header"),
    ('OAuth oauth_consumer_key="a" oauth_nonce="b"', "malformed"),
    ('OAuth oauth_nonce="a", oauth_nonce="b"', "given twice"),
    ('OAuth oauth_consumer_key="lms%20key"', "oauth_signature_method is missing"),
])
def test_malformed_headers(header: str, says: str) -> None:
    with pytest.raises(OneRosterError, match=says) as info:
        verify("GET", "http://h/x", header)
    assert info.value.status == 401 and info.value.code_minor == "unauthorisedrequest"


def test_unknown_consumer() -> None:
    header = sign_oauth1("GET", "http://h/x", "nobody", "whatever", timestamp=NOW)
    with pytest.raises(OneRosterError, match="unknown oauth_consumer_key"):
        verify("GET", "http://h/x", header)


def test_sha1_needs_allow_sha1() -> None:
    header = sign_oauth1("GET", "http://h/x", LMS.client_id, LMS.client_secret,
                         method_name="HMAC-SHA1", timestamp=NOW)
    with pytest.raises(OneRosterError, match="HMAC-SHA1 is not accepted"):
        verify("GET", "http://h/x", header)
    assert verify("GET", "http://h/x", header, allow_sha1=True) is LMS


def test_plaintext_is_never_accepted() -> None:
    header = sign_oauth1("GET", "http://h/x", LMS.client_id, LMS.client_secret, timestamp=NOW)
    header = header.replace("HMAC-SHA256", "PLAINTEXT")
    with pytest.raises(OneRosterError, match="PLAINTEXT is not accepted"):
        verify("GET", "http://h/x", header, allow_sha1=True)


def test_replay_is_caught_by_the_shared_cache() -> None:
    cache = NonceCache()
    header = sign_oauth1("GET", "http://h/x", LMS.client_id, LMS.client_secret, timestamp=NOW)
    verify("GET", "http://h/x", header, cache)
    with pytest.raises(OneRosterError, match="already used"):
        verify("GET", "http://h/x", header, cache, now=NOW + 30)


def test_bad_signatures_do_not_burn_nonces() -> None:
    cache = NonceCache()
    forged = sign_oauth1("GET", "http://h/x", LMS.client_id, "guess", timestamp=NOW, nonce="n")
    with pytest.raises(OneRosterError, match="signature"):
        verify("GET", "http://h/x", forged, cache)
    good = sign_oauth1("GET", "http://h/x", LMS.client_id, LMS.client_secret, timestamp=NOW,
                       nonce="n")
    assert verify("GET", "http://h/x", good, cache) is LMS


def test_nonce_cache_forgets_expired_and_stays_bounded() -> None:
    cache = NonceCache(max_entries=3)
    assert cache.use("k", "a", keep_until=100, now=0)
    assert not cache.use("k", "a", keep_until=100, now=50)
    assert cache.use("other", "a", keep_until=100, now=50)  # nonces are per consumer key
    assert cache.use("k", "a", keep_until=300, now=101)  # expired entries are forgotten
    for nonce in "bcdef":
        cache.use("k", nonce, keep_until=1000, now=200)
    assert len(cache) == 3
