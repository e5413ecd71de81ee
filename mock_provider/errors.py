"""Spec-shaped errors: one exception type, rendered as OneRoster 1.2 or 1.1 status payloads.

1.2 answers with a bare ``imsx_StatusInfoDType``; 1.1 with a ``statusInfoSet`` array whose
``imsx_codeMinor`` is a plain string spelled as the 1.1 spec prints it (spaces and underscores
mixed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# 1.2 codeMinor -> the 1.1 spelling.
CODE_MINOR_V11 = {
    "fullsuccess": "full success",
    "invalid_filter_field": "invalid_filter_field",
    "invalid_selection_field": "invalid_selection_field",
    "invalid_blank_selection_field": "invalid_blank_selection_field",
    "invalid_sort_field": "invalid_sort_field",
    "invaliddata": "invalid data",
    "unauthorisedrequest": "unauthorized",
    "forbidden": "forbidden",
    "unknownobject": "unknown object",
    "server_busy": "server_busy",
    "internal_server_error": "internal_server_error",
    "deletefailure": "deletefailure",
    "unsupported": "unsupported",
}


@dataclass
class OneRosterError(Exception):
    """A request the provider refuses: HTTP status, codeMinor (1.2 spelling), description."""

    status: int
    code_minor: str
    description: str
    headers: dict[str, str] | None = None

    def __post_init__(self) -> None:
        super().__init__(self.description)


def status_info_v12(code_minor: str, description: str, major: str = "failure",
                    severity: str = "error") -> dict:
    return {
        "imsx_codeMajor": major,
        "imsx_severity": severity,
        "imsx_description": description,
        "imsx_CodeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem",
             "imsx_codeMinorFieldValue": code_minor},
        ]},
    }


def status_info_v11(code_minor: str, description: str, major: str = "failure",
                    severity: str = "error") -> dict:
    return {
        "imsx_codeMajor": major,
        "imsx_severity": severity,
        "imsx_description": description,
        "imsx_codeMinor": CODE_MINOR_V11.get(code_minor, code_minor),
    }


def error_body(error: OneRosterError, version: str) -> bytes:
    """The JSON body for ``error`` in the given OneRoster version ("1.1" or "1.2")."""
    if version == "1.1":
        payload: dict = {"statusInfoSet": [status_info_v11(error.code_minor, error.description)]}
    else:
        payload = status_info_v12(error.code_minor, error.description)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
