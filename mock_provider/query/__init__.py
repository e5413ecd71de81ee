"""The query layer the HTTP routes call: parameters, filters, sorting, paging, selection.

* ``params``: ``parse_collection_query`` / ``parse_single_query`` check the query string.
* ``filter``: ``parse_filter`` and ``matches``, the Python reference semantics.
* ``fields``: ``catalog`` (per table and version, from the spec schemas) and the comparison
  rules, documented in its module docstring.
* ``sql``: ``where_sql`` / ``order_sql``, the same rules in SQLite.
* ``page``: ``fetch_page`` and ``select_fields``.
"""

from __future__ import annotations

from .fields import Field, FieldCatalog, catalog, selectable_fields, sort_key, values_of
from .filter import Filter, Predicate, bind, matches, parse_filter
from .page import fetch_page, select_fields
from .params import CollectionQuery, parse_collection_query, parse_single_query
from .sql import install_functions, order_sql, where_sql

__all__ = [
    "CollectionQuery", "Field", "FieldCatalog", "Filter", "Predicate", "bind", "catalog",
    "fetch_page", "install_functions", "matches", "order_sql", "parse_collection_query",
    "parse_filter", "parse_single_query", "select_fields", "selectable_fields", "sort_key",
    "values_of", "where_sql",
]
