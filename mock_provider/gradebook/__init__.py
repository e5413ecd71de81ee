"""Grade-book writes (PUT and DELETE, OneRoster 1.2 and 1.1) and the rules they are checked by."""

from .rules import RULES, RuleSet
from .writes import KINDS, V11_KINDS, GradebookWriter, WriteRequest, delete_record, put_record

__all__ = ["KINDS", "RULES", "V11_KINDS", "GradebookWriter", "RuleSet", "WriteRequest",
           "delete_record", "put_record"]
