"""``oneroster-harness load``: a sync night against any provider, on Locust.

Modules, one concern each: ``profile`` (the TOML profile, pure), ``plan`` (what a load process
needs, pure), ``ledger`` (what the vendors saw, pure), ``connection`` (one vendor's token, gate
and retries), ``syncs`` (what each kind of consumer does), ``consumers`` (the kinds as Locust
users), ``timeline`` and ``charts`` (the night over time), ``verdicts`` (correctness under load),
``report`` (the files), ``session`` (Locust's runners: local, master, worker), ``mock`` (the
embedded mock with a connection per vendor) and ``main`` (the load process).

Locust patches the standard library with gevent when it is imported, so nothing imports it but
the load process, ``python -m harness.load``, which the command line starts: this package's
``__init__`` imports nothing.
"""
