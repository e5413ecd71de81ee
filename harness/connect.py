"""One way to open a ``Target`` from what a user typed, shared by the command line and the
pytest plugin: the options as a small dataclass, checked in one place, each problem one line
naming the options in the caller's own spelling (``--client-id`` or ``--oneroster-client-id``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .auth import SIGNATURE_CHOICES
from .target import BASE_PATHS, MAX_CONCURRENCY, Target

Spelling = Callable[[str], str]  # an option's name ("client-id") -> how the caller spells it


def cli_spelling(name: str) -> str:
    return f"--{name}"


class OptionsError(ValueError):
    """Options that cannot open a target: one line, no secret in it."""


@dataclass(frozen=True)
class TargetOptions:
    """Where the provider is and how to authenticate: client credentials (``token_url``,
    ``client_id``, ``client_secret``), a static bearer ``token``, or ``oauth1`` signing (1.1,
    the client id and secret as consumer key and secret, by ``signature_method``: HMAC-SHA256,
    HMAC-SHA1, or auto, SHA-256 and SHA-1 when SHA-256 is refused). ``scope``
    is what client credentials ask for when given ("" for no scope at all); without it the
    run asks for the scopes of the services it checks."""

    base_url: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = None
    oauth1: bool = False
    signature_method: str | None = None  # OAuth 1.0a only; None: auto (SHA-256, then SHA-1)
    scope: str | None = None  # client credentials only; None: the run's services' scopes
    vendor_key: str | None = None  # Infinite Campus x-vendor-authorization, KEY:SECRET
    version: str = "1.2"
    timeout: float = 10.0
    max_requests: int = 2_000
    concurrency: int = 1

    @property
    def given(self) -> bool:
        """Whether the options name a provider at all."""
        return bool(self.base_url)

    @property
    def auth(self) -> str:
        return "bearer" if self.token else "oauth1" if self.oauth1 else "oauth2"


def check_options(options: TargetOptions, spell: Spelling = cli_spelling, *,
                  mock: bool = False) -> None:
    """OptionsError naming the first problem: no base URL, two kinds of credentials, OAuth
    1.0a outside 1.1, a missing credential, a concurrency beyond what providers allow. With
    ``mock``, the embedded mock will supply the URL and credentials: the rest is checked."""
    if not options.base_url and not mock:
        raise OptionsError(f"give {spell('base-url')} (or {spell('mock')} to check the "
                           "embedded mock)")
    if options.version not in BASE_PATHS:
        raise OptionsError(f"{spell('version')} must be one of {', '.join(BASE_PATHS)}")
    if options.token and options.oauth1:
        raise OptionsError(f"give {spell('token')} or {spell('oauth1')}, not both")
    if options.signature_method is not None:
        if not options.oauth1:
            raise OptionsError(f"{spell('signature-method')} applies to OAuth 1.0a: add "
                               f"{spell('oauth1')}")
        if options.signature_method not in SIGNATURE_CHOICES:
            raise OptionsError(f"{spell('signature-method')} must be one of "
                               f"{', '.join(SIGNATURE_CHOICES)}")
    if options.scope is not None and (options.token or options.oauth1):
        raise OptionsError(f"{spell('scope')} applies to client credentials (a token URL), "
                           f"not to {spell('token' if options.token else 'oauth1')}")
    if options.oauth1 and options.version != "1.1":
        raise OptionsError(f"OAuth 1.0a signing is OneRoster 1.1 only: add {spell('version')} "
                           "1.1")
    if options.concurrency < 1:
        raise OptionsError(f"{spell('concurrency')} must be at least 1")
    if options.concurrency > MAX_CONCURRENCY:
        raise OptionsError(f"{spell('concurrency')} is at most {MAX_CONCURRENCY} (Infinite "
                           "Campus asks vendors for no more)")
    if options.token or mock:
        return
    needed = ("client-id", "client-secret") if options.oauth1 else (
        "token-url", "client-id", "client-secret")
    missing = [spell(name) for name in needed if not getattr(options, name.replace("-", "_"))]
    if missing:
        raise OptionsError(f"give {', '.join(missing)} (or {spell('token')}, or "
                           f"{spell('mock')} to check the embedded mock)")


def open_target(options: TargetOptions, spell: Spelling = cli_spelling) -> Target:
    """The Target the options name (OptionsError when they cannot name one). Nothing is sent
    yet: ``Target.authenticate`` is the first contact."""
    check_options(options, spell)
    assert options.base_url is not None
    return Target(options.base_url, options.token_url or "", options.client_id or "",
                  options.token or options.client_secret or "", options.version,
                  timeout=options.timeout, max_requests=options.max_requests,
                  vendor_key=options.vendor_key, auth=options.auth,
                  concurrency=options.concurrency,
                  signature_method=options.signature_method or "auto",
                  scope=None if options.scope is None else " ".join(options.scope.split()),
                  spell=spell)
