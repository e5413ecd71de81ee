"""The inspector: web pages at ``/inspector`` showing a running mock (its live traffic, syncs,
connections, district, faults and the check reports), served by the mock itself.

``Inspector`` holds what it has seen; ``Watch`` is the middleware that feeds it and answers
its pages; ``InspectorOptions`` says who may see it and what it may change.
"""

from .access import is_loopback
from .core import PREFIX, Inspector, InspectorOptions
from .watch import Watch

__all__ = ["PREFIX", "Inspector", "InspectorOptions", "Watch", "is_loopback"]
