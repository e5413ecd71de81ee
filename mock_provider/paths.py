"""Where OneRoster lives on the mock, behind a flavor's prefix: one base per 1.2 service and one
for all of 1.1, and which version a request path asks for."""

from __future__ import annotations

V12_ROSTERING = "/ims/oneroster/rostering/v1p2"
V12_GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
V12_RESOURCES = "/ims/oneroster/resources/v1p2"
V11 = "/ims/oneroster/v1p1"
SERVICE_BASES = {"rostering": V12_ROSTERING, "gradebook": V12_GRADEBOOK,
                 "resources": V12_RESOURCES}


def version_of(path: str) -> str:
    """"1.1" for a path under the 1.1 base (after any prefix), else "1.2": errors, refusals
    and faults answer in the shape of the version the client asked."""
    return "1.1" if V11 in path else "1.2"


__all__ = ["SERVICE_BASES", "V11", "V12_GRADEBOOK", "V12_RESOURCES", "V12_ROSTERING",
           "version_of"]
