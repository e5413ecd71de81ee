"""The checker's own OneRoster knowledge, written from the spec text and the schemas in
``specs/``, independent of the mock provider (nothing here imports ``mock_provider``): when the
mock and the checker read the spec differently, the checks can show it.

* ``fields``: which fields of each collection a filter may name, and what kind each is.
* ``values``: how dates, date-times and numbers are read and compared.
* ``filters``: the ``filter`` grammar, checking a filter against a collection's fields, and
  whether a served record satisfies it.
"""
