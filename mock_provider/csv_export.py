"""Export a district store as a OneRoster CSV binding file set (1.1 or 1.2), bulk or delta.

The set is written as a directory or as a ZIP holding the same files at its root. Output is
byte-for-byte deterministic for a given store, version and watermark: rows follow store order,
and ZIP entries are sorted by name with a fixed timestamp and fixed attributes.

Cell formats where the CSV binding leaves room for choice:

* A GUIDRef becomes its ``sourcedId``; a list (of refs or of strings) becomes one cell with the
  items joined by commas, which the csv module then quotes. Items that themselves contain a
  comma cannot be told apart again; that is a limit of the binding, not of this exporter.
* ``userIds`` is written ``{type:identifier},{type:identifier}``, the form most CSV producers
  and the 1.1 CSV examples use.
* ``scoreScaleValue`` is written ``{itemValueLHS:itemValueRHS},...`` by analogy with userIds,
  since the 1.2 binding gives no worked example for it.
* Booleans are already the strings ``true``/``false`` in the store and pass through unchanged;
  numbers are written with Python's ``str`` (so ``100.0`` stays ``100.0``).
* 1.2 ``users.csv`` follows the [LSG] header, which has no ``resourceSourcedIds`` column (the
  1EdTech-Japan profile keeps one after ``userMasterIdentifier``): a user's resources go to
  ``userResources.csv`` instead, as that header intends.
* Resources: ``resources.csv`` has an ``importance`` column in 1.1 and none in 1.2 (the [LSG]
  header; unconfirmed elsewhere). ``classResources.csv``, ``courseResources.csv`` and (1.2)
  ``userResources.csv`` get a row per resource a class, course or user lists; the link has no
  sourcedId of its own in REST, so each row is given ``{ownerSourcedId}-{resourceSourcedId}``,
  with the owner's status and dateLastModified (a delta carries the links of the owners that
  changed), the resource's title, and for a user the user's primary org (no class: REST ties a
  user's resources to no class).
* ``roles.csv`` (1.2) gets one row per element of ``user.roles``. Roles have no sourcedId of
  their own in REST, so each row is given ``{userSourcedId}-{index}`` (index from 0 in the
  user's roles array); the id is stable as long as the store's role order is.

Rows are streamed from SQLite to disk; nothing holds a whole table in memory. A ZIP export is
first written as a directory in a scratch folder beside the destination and then packed, so the
two forms always hold identical file bytes.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # only for annotations; keeps this module importable on its own
    from .store import Store

LINE_END = "\r\n"  # RFC 4180
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SYSTEM_NAME = "oneroster-harness"

_COMMON = ("sourcedId", "status", "dateLastModified")


def _cols(*names: str) -> tuple[str, ...]:
    return (*_COMMON, *names)


_SESSIONS = _cols("title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear")
_ORGS = _cols("name", "type", "identifier", "parentSourcedId")
_COURSES = _cols("schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId",
                 "subjects", "subjectCodes")
_CLASSES = _cols("title", "grades", "courseSourcedId", "classCode", "classType",
                 "location", "schoolSourcedId", "termSourcedIds", "subjects",
                 "subjectCodes", "periods")
_ENROLLMENTS = _cols("classSourcedId", "schoolSourcedId", "userSourcedId", "role",
                     "primary", "beginDate", "endDate")
_DEMOGRAPHICS = _cols("birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
                      "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander",
                      "white", "demographicRaceTwoOrMoreRaces",
                      "hispanicOrLatinoEthnicity", "countryOfBirthCode",
                      "stateOfBirthAbbreviation", "cityOfBirth",
                      "publicSchoolResidenceStatus")

HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "1.1": {
        "academicSessions": _SESSIONS,
        "orgs": _ORGS,
        "courses": _COURSES,
        "classes": _CLASSES,
        "users": _cols("enabledUser", "orgSourcedIds", "role", "username", "userIds",
                       "givenName", "familyName", "middleName", "identifier", "email",
                       "sms", "phone", "agentSourcedIds", "grades", "password"),
        "enrollments": _ENROLLMENTS,
        "demographics": _DEMOGRAPHICS,
        "categories": _cols("title"),
        "lineItems": _cols("title", "description", "assignDate", "dueDate",
                           "classSourcedId", "categorySourcedId", "gradingPeriodSourcedId",
                           "resultValueMin", "resultValueMax"),
        "results": _cols("lineItemSourcedId", "studentSourcedId", "scoreStatus", "score",
                         "scoreDate", "comment"),
        "resources": _cols("vendorResourceId", "title", "roles", "importance", "vendorId",
                           "applicationId"),
        "classResources": _cols("title", "classSourcedId", "resourceSourcedId"),
        "courseResources": _cols("title", "courseSourcedId", "resourceSourcedId"),
    },
    "1.2": {
        "academicSessions": _SESSIONS,
        "orgs": _ORGS,
        "courses": _COURSES,
        "classes": _CLASSES,
        # [LSG] header: no resourceSourcedIds column (see the module docstring).
        "users": _cols("enabledUser", "username", "userIds", "givenName", "familyName",
                       "middleName", "identifier", "email", "sms", "phone",
                       "agentSourcedIds", "grades", "password", "userMasterIdentifier",
                       "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
                       "primaryOrgSourcedId", "pronouns"),
        "roles": _cols("userSourcedId", "roleType", "role", "beginDate", "endDate",
                       "orgSourcedId", "userProfileSourcedId"),
        "enrollments": _ENROLLMENTS,
        "demographics": _DEMOGRAPHICS,
        "categories": _cols("title", "weight"),
        "lineItems": _cols("title", "description", "assignDate", "dueDate",
                           "classSourcedId", "categorySourcedId",
                           "academicSessionSourcedId", "resultValueMin", "resultValueMax",
                           "schoolSourcedId"),
        "results": _cols("lineItemSourcedId", "studentSourcedId", "scoreStatus", "score",
                         "scoreDate", "comment", "textScore", "classSourcedId",
                         "inProgress", "incomplete", "late", "missing"),
        "scoreScales": _cols("title", "type", "orgSourcedId", "courseSourcedId",
                             "classSourcedId", "scoreScaleValue"),
        "resources": _cols("vendorResourceId", "title", "roles", "vendorId", "applicationId"),
        "classResources": _cols("title", "classSourcedId", "resourceSourcedId"),
        "courseResources": _cols("title", "courseSourcedId", "resourceSourcedId"),
        "userResources": _cols("userSourcedId", "orgSourcedId", "classSourcedId",
                               "resourceSourcedId"),
    },
}

# Every file the manifest of each version knows, in the binding's manifest order. Files this
# exporter never produces (userProfiles, learning objectives, ...) are always listed as absent.
MANIFEST_FILES: dict[str, tuple[str, ...]] = {
    "1.1": ("academicSessions", "categories", "classes", "classResources", "courses",
            "courseResources", "demographics", "enrollments", "lineItems", "orgs", "resources",
            "results", "users"),
    "1.2": ("academicSessions", "categories", "classes", "classResources", "courses",
            "courseResources", "demographics", "enrollments", "lineItemLearningObjectiveIds",
            "lineItems", "lineItemScoreScales", "orgs", "resources",
            "resultLearningObjectiveIds", "results", "resultScoreScales", "roles",
            "scoreScales", "userProfiles", "userResources", "users"),
}

# Where each file's rows come from: roles.csv and the resource links are cut out of their
# owners' records.
SOURCE_TABLE = {"roles": "users", "classResources": "classes", "courseResources": "courses",
                "userResources": "users"}
# Resource link files: the owner's column in the row.
LINK_OWNER = {"classResources": "class", "courseResources": "course", "userResources": "user"}

# CSV columns whose REST field has a different name (apart from the *SourcedId(s) rule).
_RENAMED = {"preferredGivenName": "preferredFirstName",
            "preferredFamilyName": "preferredLastName"}

Mode = Literal["bulk", "delta"]
Getter = Callable[[dict], str]


@dataclass(frozen=True)
class CsvExport:
    """What an export wrote: ``files`` maps each data file written (name without ``.csv``,
    manifest not included) to its row count; a file not in it is ``absent`` in the manifest."""

    path: Path
    files: dict[str, int] = field(default_factory=dict)
    mode: Mode = "bulk"
    version: str = "1.2"


def cell(value: object) -> str:
    """One REST JSON value as CSV cell text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return cell(value.get("sourcedId"))
    if isinstance(value, list):
        return ",".join(cell(item) for item in value)
    return str(value)


def _pairs(key: str, left: str, right: str) -> Getter:
    def get(record: dict) -> str:
        return ",".join(f"{{{item.get(left, '')}:{item.get(right, '')}}}"
                        for item in record.get(key) or ())
    return get


def _field(key: str) -> Getter:
    def get(record: dict) -> str:
        return cell(record.get(key))
    return get


def _academic_session(record: dict) -> str:
    # 1.2 lineItems moved gradingPeriod to academicSession but kept gradingPeriod optional;
    # a provider may fill either, so take the newer one first.
    return cell(record.get("academicSession") or record.get("gradingPeriod"))


_SPECIAL: dict[str, Getter] = {
    "userIds": _pairs("userIds", "type", "identifier"),
    "scoreScaleValue": _pairs("scoreScaleValue", "itemValueLHS", "itemValueRHS"),
    "academicSessionSourcedId": _academic_session,
}


def _getter(column: str) -> Getter:
    if column in _SPECIAL:
        return _SPECIAL[column]
    if column in _RENAMED:
        return _field(_RENAMED[column])
    # The binding names reference columns after the REST field: parentSourcedId <- parent,
    # termSourcedIds <- terms, agentSourcedIds <- agents.
    if column.endswith("SourcedIds"):
        return _field(column[: -len("SourcedIds")] + "s")
    if column.endswith("SourcedId") and column != "sourcedId":
        return _field(column[: -len("SourcedId")])
    return _field(column)


def _record_rows(header: tuple[str, ...], records: Iterable[dict]) -> Iterator[list[str]]:
    getters = [_getter(column) for column in header]
    for record in records:
        yield [get(record) for get in getters]


def _role_rows(header: tuple[str, ...], users: Iterable[dict]) -> Iterator[list[str]]:
    getters = [_getter(column) for column in header]
    for user in users:
        user_id = user["sourcedId"]
        for index, role in enumerate(user.get("roles") or ()):
            row = dict(role)
            row["sourcedId"] = f"{user_id}-{index}"
            row["status"] = user.get("status")
            row["dateLastModified"] = user.get("dateLastModified")
            row["user"] = user_id
            yield [get(row) for get in getters]


def _link_rows(header: tuple[str, ...], owners: Iterable[dict], owner: str,
               titles: dict[str, str]) -> Iterator[list[str]]:
    getters = [_getter(column) for column in header]
    for record in owners:
        owner_id = record["sourcedId"]
        for resource in record.get("resources") or ():
            resource_id = cell(resource)
            row = {"sourcedId": f"{owner_id}-{resource_id}", "status": record.get("status"),
                   "dateLastModified": record.get("dateLastModified"),
                   "title": titles.get(resource_id), owner: owner_id,
                   "resource": resource_id}
            if owner == "user":
                row["org"] = record.get("primaryOrg") or next(
                    (role.get("org") for role in record.get("roles") or ()), None)
            yield [get(row) for get in getters]


def normalise_since(since: str) -> str:
    """A delta watermark in the store's ``YYYY-MM-DDTHH:MM:SSZ`` form, so that plain string
    comparison against dateLastModified orders correctly.

    A bare date means its midnight UTC; a date-time without a zone is taken as UTC; fractions
    of a second are dropped, which cannot change the result against second-precision values.
    """
    text = since.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"delta_since must be an ISO date or date-time, got {since!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=LINE_END)
        writer.writerow(header)
        writer.writerows(rows)


def _write_file(folder: Path, name: str, header: tuple[str, ...],
                rows: Iterator[list[str]]) -> int:
    """Write ``name``.csv if there is at least one row; return the row count (0: not written)."""
    # Peek at the first row: an empty file must not be written at all, and for roles.csv
    # emptiness is only known once rows are produced.
    first = next(rows, None)
    if first is None:
        return 0
    count = 0

    def counted() -> Iterator[list[str]]:
        nonlocal count
        for row in itertools.chain((first,), rows):
            count += 1
            yield row

    part = folder / f".{name}.csv.part"
    _write_csv(part, header, counted())
    os.replace(part, folder / f"{name}.csv")
    return count


def _write_set(store: Store, folder: Path, version: str, since: str | None) -> dict[str, int]:
    mode = "bulk" if since is None else "delta"
    files: dict[str, int] = {}
    # Every resource's title, the changed ones or not: a link row names its resource's.
    titles = {r["sourcedId"]: r.get("title") or "" for r in store.iter_records("resources")}
    for name, header in HEADERS[version].items():
        records = store.iter_records(SOURCE_TABLE.get(name, name), version, since=since)
        if name == "roles":
            rows = _role_rows(header, records)
        elif name in LINK_OWNER:
            rows = _link_rows(header, records, LINK_OWNER[name], titles)
        else:
            rows = _record_rows(header, records)
        count = _write_file(folder, name, header, rows)
        if count:
            files[name] = count
    manifest = [["manifest.version", "1.0"], ["oneroster.version", version]]
    manifest += [[f"file.{name}", mode if name in files else "absent"]
                 for name in MANIFEST_FILES[version]]
    manifest.append(["source.systemName", SYSTEM_NAME])
    part = folder / ".manifest.csv.part"
    _write_csv(part, ("propertyName", "value"), manifest)
    os.replace(part, folder / "manifest.csv")
    # A directory reused from an earlier export may still hold files this one left absent;
    # they would contradict the manifest.
    for name in set(MANIFEST_FILES["1.1"]) | set(MANIFEST_FILES["1.2"]):
        if name not in files:
            (folder / f"{name}.csv").unlink(missing_ok=True)
    return files


def _pack(folder: Path, target: Path) -> None:
    names = sorted(p.name for p in folder.iterdir() if p.suffix == ".csv")
    # Packed under a temporary name so an interrupted export never leaves a truncated ZIP
    # where a complete one is expected.
    part = target.with_name(f".{target.name}.part")
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # fixed, so Windows and Unix builds give the same bytes
                info.external_attr = 0o644 << 16
                info.file_size = (folder / name).stat().st_size  # lets zipfile pick zip64
                with (folder / name).open("rb") as src, archive.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def export_csv(store: Store, dest: str | Path, version: str = "1.2",
               delta_since: str | None = None) -> CsvExport:
    """Write the store as a OneRoster CSV file set at ``dest`` (a directory, or a ZIP when the
    name ends in ``.zip``). With ``delta_since`` only records modified after it are written."""
    if version not in HEADERS:
        raise ValueError(f"version must be one of {', '.join(HEADERS)}, got {version!r}")
    since = None if delta_since is None else normalise_since(delta_since)
    mode: Mode = "bulk" if since is None else "delta"
    target = Path(dest)
    if target.suffix.lower() == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".csv-export-") as scratch:
            files = _write_set(store, Path(scratch), version, since)
            _pack(Path(scratch), target)
    else:
        target.mkdir(parents=True, exist_ok=True)
        files = _write_set(store, target, version, since)
    return CsvExport(path=target, files=files, mode=mode, version=version)


def _read_rows(handle: io.TextIOBase) -> list[dict[str, str]]:
    return list(csv.DictReader(handle))


def read_csv_export(path: str | Path) -> dict[str, list[dict[str, str]]]:
    """Rows of every CSV in an export (directory or ZIP), keyed by file name without ``.csv``;
    the manifest is included as ``manifest``."""
    source = Path(path)
    out: dict[str, list[dict[str, str]]] = {}
    if source.is_dir():
        for file in sorted(source.glob("*.csv")):
            with file.open(encoding="utf-8", newline="") as handle:
                out[file.stem] = _read_rows(handle)
        return out
    with zipfile.ZipFile(source) as archive:
        for name in sorted(archive.namelist()):
            if "/" in name or not name.endswith(".csv"):
                continue
            with archive.open(name) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                out[name[: -len(".csv")]] = _read_rows(text)
    return out


__all__ = ["HEADERS", "MANIFEST_FILES", "CsvExport", "export_csv", "normalise_since",
           "read_csv_export"]
