"""An example OneRoster consumer (an LMS syncing rosters and writing grades back), plus
deliberately bad variants for the harness's ``check consumer`` scenarios.

    python tests/consumers/example.py [--oauth1 [--signature-method M]] [--bad KIND]

Everything it needs comes from the ONEROSTER_* environment variables (see README.md): it
speaks OneRoster 1.2 with a bearer token, 1.1 when ONEROSTER_VERSION is 1.1, and with
``--oauth1`` 1.1 signed with the OAuth 1.0a keys. Only the standard library, httpx and
oauthlib, so it runs anywhere the harness does. The parts: example_env.py (settings and
errors), example_auth.py (tokens and signatures), example_lms.py (the good consumer),
example_bad.py (the bad variants).
"""

from __future__ import annotations

import argparse
import sys

from example_bad import BAD
from example_env import SIGNATURE_METHODS, Env, Fatal
from example_lms import Consumer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An example OneRoster consumer.")
    parser.add_argument("--bad", choices=sorted(BAD), help="run a deliberately bad variant")
    parser.add_argument("--oauth1", action="store_true",
                        help="speak OneRoster 1.1 and sign every request with OAuth 1.0a "
                        "(ONEROSTER_OAUTH1_CONSUMER_KEY/_SECRET) instead of a bearer token")
    parser.add_argument("--signature-method", choices=SIGNATURE_METHODS,
                        default=SIGNATURE_METHODS[0], help="with --oauth1 (default HMAC-SHA256)")
    args = parser.parse_args(argv)
    try:
        consumer = BAD.get(args.bad, Consumer)(Env.read(args.oauth1, args.signature_method))
        with consumer.http:
            return consumer.run()
    except Fatal as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
