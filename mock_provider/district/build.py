"""Build a district into a store file: district-level records here, zones in worker processes.

The file is written under a temporary name and renamed when complete, so a crash or an
interrupt never leaves a half-built district where a cached one is expected.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ..editor import RecordEditor, Rows, insert_rows
from ..store import create_indexes, create_schema
from ..tables import ALL_TABLES, LAYOUT
from .calendar import ACTIVE_SCHOOL_YEAR, CLOCK_START, school_calendar
from .names import catalog, city_name, login_part
from .people import StaffFactory
from .provenance import GENERATED_CLOCK, Changes, changes_of
from .quirks import QUIRKS
from .records import new_id, ref, timestamp
from .resources import emit_resources
from .sizes import DistrictPlan, SchoolPlan, ZonePlan, plan_district
from .zone import DistrictContext, _emit_user, build_zone

# Bump when generated content changes, so cached district files are rebuilt (5: files record
# their generated clock and grade-book writes, so a changed one is never taken as generated). A
# change to the store's columns does that by itself: their fingerprint is part of the key.
GENERATOR_VERSION = 5
# Records of zone k are numbered from (k + 1) * ZONE_SEQ_SPAN; far more than a zone holds.
ZONE_SEQ_SPAN = 10_000_000

# Users' rows hold two JSON texts of 1-2 KB together: on SQLite's default 4 KiB pages a
# quarter of their table was left empty (98 MB of `large`), and every table packs tighter on
# 16 KiB. Set before the first table; a file keeps it.
PAGE_SIZE = 16384

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DistrictSpec:
    seed: int
    students: int
    size: str  # the size name, or "custom" for --students
    quirks: frozenset[str] = frozenset()
    school_year: int = ACTIVE_SCHOOL_YEAR

    @property
    def key(self) -> str:
        quirks = ",".join(sorted(self.quirks)) or "none"
        tag = hashlib.sha256(quirks.encode()).hexdigest()[:8] if self.quirks else "none"
        return (f"s{self.seed}-n{self.students}-y{self.school_year}-q{tag}-t{LAYOUT}"
                f"-g{GENERATOR_VERSION}")


@dataclass(frozen=True)
class BuildResult:
    path: Path
    reused: bool
    seconds: float
    counts: dict[str, int]
    # What happened to the file since generation, when it was reused changed (serve only).
    changes: Changes | None = None
    # The file asked for when it held a changed district and ``path`` is the generated one
    # built beside it; ``changes`` then says what happened to that file.
    changed_file: Path | None = None


def district_path(spec: DistrictSpec, data_dir: str | Path) -> Path:
    return Path(data_dir) / f"district-{spec.key}.sqlite"


def _school_name(rng: random.Random, school: SchoolPlan, used: set[str]) -> str:
    cat = catalog()
    suffix = {
        "elementary": "Elementary School", "middle": "Middle School", "high": "High School",
        "charter": "Academy Charter School", "alternative": "Alternative High School",
    }[school.level]
    for _ in range(50):
        stem = city_name(rng) if school.level == "high" else cat.last.one(rng)
        name = f"{stem} {suffix}"
        if name not in used:
            used.add(name)
            return name
    return f"{stem} {suffix} {school.number}"


def _district_rows(spec: DistrictSpec, plan: DistrictPlan) -> tuple[DistrictContext, Rows]:
    rng = random.Random(f"{spec.seed}:district")
    rng_ids = random.Random(f"{spec.seed}:district:ids")
    city = city_name(rng)
    state = rng.choice(catalog().states)
    domain = f"{login_part(city)}sd.example.org"
    district_id = new_id(rng_ids)
    school_ids = {s.number: new_id(rng_ids) for s in plan.schools}
    clock_epoch = int(CLOCK_START.timestamp()) + (spec.school_year - ACTIVE_SCHOOL_YEAR) * (
        365 * 86400)
    ctx = DistrictContext(spec.seed, domain, state, district_id, school_ids, spec.school_year,
                          clock_epoch, spec.quirks)
    out = RecordEditor()

    cal = school_calendar(spec.school_year)
    dlm_base = calendar.timegm(cal.year.start.timetuple()) - 90 * 86400

    def dlm() -> str:
        return timestamp(dlm_base + rng.randrange(86400 * 30))

    name = f"{city} School District"
    identifier = str(rng.randrange(1_000_000, 9_999_999))
    modified = dlm()
    district = {"sourcedId": district_id, "status": "active", "dateLastModified": modified,
                "name": name, "type": "district", "identifier": identifier,
                "children": [ref("org", school_ids[s.number]) for s in plan.schools]}
    out.add("orgs", district)
    used: set[str] = set()
    for school in plan.schools:
        sid = school_ids[school.number]
        school_name = _school_name(rng, school, used)
        number = str(school.number)
        if "leading-zero-ids" in spec.quirks:
            number = number.zfill(4)
            out.link("quirks", "leading-zero-ids", "orgs", sid)
        modified = dlm()
        obj = {"sourcedId": sid, "status": "active", "dateLastModified": modified,
               "name": school_name, "type": "school", "identifier": number,
               "parent": ref("org", district_id)}
        out.add("orgs", obj)

    resources = emit_resources(out, random.Random(f"{spec.seed}:district:resources"),
                               rng_ids, dlm)
    ctx = replace(ctx, resources=resources)
    office = StaffFactory(random.Random(f"{spec.seed}:district:staff"), rng_ids, catalog(),
                          9999, domain)
    office.make("districtAdministrator", district_id)
    for _ in range(2 + len(plan.schools) // 20):
        office.make("districtAdministrator", district_id)
    office.make("systemAdministrator", district_id)
    for person in office.made:
        _emit_user(out, person, dlm())
    return ctx, out.rows


def _build_zone_shard(args: tuple[DistrictContext, ZonePlan, str]) -> str:
    """Build one zone into its own small SQLite file, returned by path.

    Workers write shards and the parent copies them in with ``INSERT ... SELECT``: SQLite moves
    the rows in C, which is several times cheaper than pickling them across processes.
    """
    ctx, zone, shard = args
    conn = sqlite3.connect(shard)
    try:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        create_schema(conn)
        _write(conn, build_zone(ctx, zone), _seq_base(zone))
        conn.commit()
    finally:
        conn.close()
    return shard


def _merge_shard(conn: sqlite3.Connection, shard: str) -> None:
    # Plain `INSERT INTO t SELECT * FROM shard.t` between identical, index-free tables lets
    # SQLite copy b-tree pages directly (its transfer optimisation) instead of row by row.
    conn.execute("ATTACH DATABASE ? AS shard", (shard,))
    try:
        for table in ALL_TABLES:
            conn.execute(f"INSERT INTO main.{table} SELECT * FROM shard.{table}")
        conn.commit()
    finally:
        conn.execute("DETACH DATABASE shard")
    os.unlink(shard)


def _shard_parent(path: Path) -> Path:
    """Where zone shards live for the moment between build and merge: shared memory when the
    machine has it (they are written once, read once, then deleted), else beside the district."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return path.parent


def _seq_base(zone: ZonePlan) -> int:
    """Each zone numbers its records from its own base: store order is zone order, whichever
    process built the zone, and no two zones' records collide."""
    return (zone.index + 1) * ZONE_SEQ_SPAN


def _write(conn: sqlite3.Connection, rows: Rows, seq_base: int | None = None) -> None:
    for table, table_rows in rows.items():
        insert_rows(conn, table, table_rows, seq_base)


def build_district(spec: DistrictSpec, path: str | Path, progress: Progress | None = None,
                   workers: int | None = None) -> BuildResult:
    """Generate the district for ``spec`` into a new store file at ``path``."""
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.building")
    tmp.unlink(missing_ok=True)
    plan = plan_district(spec.students)
    ctx, district_rows = _district_rows(spec, plan)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        # Measured on `large`: SQLite's default page cache builds the indexes faster than a
        # large one or an in-memory temp store; a helper thread speeds up the sorts.
        conn.execute("PRAGMA threads = 2")
        create_schema(conn)
        _write(conn, district_rows)
        total = len(plan.zones)
        if workers is None:
            workers = min(total, os.cpu_count() or 1, 4)
        if workers <= 1:
            for done, zone in enumerate(plan.zones, start=1):
                _write(conn, build_zone(ctx, zone), _seq_base(zone))
                if progress:
                    progress(done, total)
        else:
            shard_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=_shard_parent(path)))
            tasks = [(ctx, zone, str(shard_dir / f"zone-{zone.index:05d}.sqlite"))
                     for zone in plan.zones]
            try:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    # imap keeps zone order, so the merged file is the same whatever the timing.
                    for done, shard in enumerate(pool.imap(_build_zone_shard, tasks), start=1):
                        _merge_shard(conn, shard)
                        if progress:
                            progress(done, total)
            finally:
                shutil.rmtree(shard_dir, ignore_errors=True)
        create_indexes(conn)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t} WHERE hidden = 0").fetchone()[0]
                  for t in ("orgs", "academicSessions", "courses", "classes", "users",
                            "enrollments", "demographics", "categories", "scoreScales",
                            "lineItems", "results", "resources", "assessmentLineItems",
                            "assessmentResults")}
        seconds = time.perf_counter() - started
        meta = {
            "key": spec.key,
            "generator_version": str(GENERATOR_VERSION),
            "seed": str(spec.seed),
            "size": spec.size,
            "students": str(spec.students),
            "quirks": ",".join(sorted(spec.quirks)),
            "school_year": str(spec.school_year),
            "clock": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx.clock_epoch)),
            GENERATED_CLOCK: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx.clock_epoch)),
            "domain": ctx.domain,
            "district_id": ctx.district_id,
            "counts": json.dumps(counts),
            "build_seconds": f"{seconds:.3f}",
            "complete": "1",
        }
        conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        conn.commit()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return BuildResult(path, False, seconds, counts)


class DistrictFileError(Exception):
    """A file is in the way: not a district, or a different district than the one asked for."""


def read_meta(path: Path) -> dict[str, str]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(conn.execute("SELECT key, value FROM meta"))
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return {}


def generated_path(path: Path) -> Path:
    """Where the generated district goes when the file asked for has changed since."""
    return path.with_name(f"{path.stem}.generated{path.suffix or '.sqlite'}")


def ensure_district(spec: DistrictSpec, path: str | Path, progress: Progress | None = None,
                    workers: int | None = None, keep_changes: bool = False) -> BuildResult:
    """The district file for ``spec`` at ``path``, building it only if it is not there yet.

    An existing file is reused when it holds this very district and is never overwritten
    otherwise: it may hold grade-book writes someone cares about. A file of this district that
    has changed since generation (ticks, rollovers, grade-book writes) is reused as it is with
    ``keep_changes`` (``serve`` goes on where it left off), and otherwise left alone while the
    generated district is reused or built beside it (``generated_path``), so whoever asks for
    the generated data gets exactly that.
    """
    path = Path(path)
    if not path.exists():
        return build_district(spec, path, progress, workers)
    started = time.perf_counter()
    meta = read_meta(path)
    if meta.get("complete") != "1":
        raise DistrictFileError(f"{path} exists and is not a finished district file")
    if meta.get("key") != spec.key:
        raise DistrictFileError(
            f"{path} holds a different district (seed {meta.get('seed')}, "
            f"{meta.get('students')} students, quirks {meta.get('quirks') or 'none'})")
    changes = changes_of(meta)
    if not changes.any or keep_changes:
        return BuildResult(path, True, time.perf_counter() - started, json.loads(meta["counts"]),
                           changes if changes.any else None)
    generated = generated_path(path)
    beside = read_meta(generated) if generated.exists() else {}
    if beside.get("key") == spec.key and changes_of(beside).any:
        # Our own copy of this district, never served, so nobody's writes are lost: rebuilt
        # below. Anything else under that name is refused below, never deleted.
        for stale in (generated, Path(f"{generated}-wal"), Path(f"{generated}-shm")):
            stale.unlink(missing_ok=True)
    result = ensure_district(spec, generated, progress, workers)
    return replace(result, changes=changes, changed_file=path)


__all__ = ["QUIRKS", "BuildResult", "DistrictFileError", "DistrictSpec", "build_district",
           "district_path", "ensure_district", "generated_path", "read_meta"]
