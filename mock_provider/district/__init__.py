"""The fake district: a deterministic OneRoster district of any size."""

from .build import (
    BuildResult,
    DistrictFileError,
    DistrictSpec,
    build_district,
    district_path,
    ensure_district,
)
from .quirks import QUIRKS, parse_quirks
from .sizes import SIZES, students_for

__all__ = ["QUIRKS", "SIZES", "BuildResult", "DistrictFileError", "DistrictSpec",
           "build_district", "district_path", "ensure_district", "parse_quirks", "students_for"]
