"""The load process. Locust (and gevent's patching) first, before anything imports ssl or
threading, then the night."""

import locust  # noqa: F401,I001  (first: it patches the standard library with gevent)

import sys

from harness.load.main import main

sys.exit(main(sys.argv[1:]))
