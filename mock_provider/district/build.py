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
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..store import create_indexes, create_schema, insert_rows
from .calendar import ACTIVE_SCHOOL_YEAR, CLOCK_START, school_calendar
from .names import catalog, city_name, login_part
from .people import StaffFactory
from .quirks import QUIRKS
from .records import dumps, new_id, ref, timestamp
from .sizes import DistrictPlan, SchoolPlan, plan_district
from .zone import DistrictContext, Rows, _emit_user, build_zone

# Bump when generated content changes, so cached district files are rebuilt.
GENERATOR_VERSION = 1

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
        return f"s{self.seed}-n{self.students}-y{self.school_year}-q{tag}-g{GENERATOR_VERSION}"


@dataclass(frozen=True)
class BuildResult:
    path: Path
    reused: bool
    seconds: float
    counts: dict[str, int]


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
    rows: Rows = {}

    def emit(table: str, row: tuple) -> None:
        rows.setdefault(table, []).append(row)

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
    emit("orgs", (district_id, "active", modified, 0, "district", identifier, name, None,
                  dumps(district), None))
    used: set[str] = set()
    for school in plan.schools:
        sid = school_ids[school.number]
        school_name = _school_name(rng, school, used)
        number = str(school.number)
        if "leading-zero-ids" in spec.quirks:
            number = number.zfill(4)
            emit("quirks", ("leading-zero-ids", "orgs", sid))
        modified = dlm()
        obj = {"sourcedId": sid, "status": "active", "dateLastModified": modified,
               "name": school_name, "type": "school", "identifier": number,
               "parent": ref("org", district_id)}
        emit("orgs", (sid, "active", modified, 0, "school", number, school_name, district_id,
                      dumps(obj), None))

    office = StaffFactory(random.Random(f"{spec.seed}:district:staff"), rng_ids, catalog(),
                          9999, domain)
    office.make("districtAdministrator", district_id)
    for _ in range(2 + len(plan.schools) // 20):
        office.make("districtAdministrator", district_id)
    office.make("systemAdministrator", district_id)
    for person in office.made:
        _emit_user(emit, person, dlm())
    return ctx, rows


def _build_zone_task(args: tuple[DistrictContext, object]) -> Rows:
    ctx, zone = args
    return build_zone(ctx, zone)  # type: ignore[arg-type]


def _write(conn: sqlite3.Connection, rows: Rows) -> None:
    for table, table_rows in rows.items():
        insert_rows(conn, table, table_rows)


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
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -200000")
        create_schema(conn)
        _write(conn, district_rows)
        tasks = [(ctx, zone) for zone in plan.zones]
        total = len(tasks)
        if workers is None:
            workers = min(len(tasks), os.cpu_count() or 1, 4)
        if workers <= 1:
            for done, task in enumerate(tasks, start=1):
                _write(conn, _build_zone_task(task))
                if progress:
                    progress(done, total)
        else:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for done, rows in enumerate(pool.imap(_build_zone_task, tasks), start=1):
                    _write(conn, rows)
                    if progress:
                        progress(done, total)
        create_indexes(conn)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t} WHERE hidden = 0").fetchone()[0]
                  for t in ("orgs", "academicSessions", "courses", "classes", "users",
                            "enrollments", "demographics", "categories", "scoreScales",
                            "lineItems", "results")}
        seconds = time.perf_counter() - started
        meta = {
            "generator_version": str(GENERATOR_VERSION),
            "seed": str(spec.seed),
            "size": spec.size,
            "students": str(spec.students),
            "quirks": ",".join(sorted(spec.quirks)),
            "school_year": str(spec.school_year),
            "clock": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ctx.clock_epoch)),
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


def ensure_district(spec: DistrictSpec, data_dir: str | Path, progress: Progress | None = None,
                    workers: int | None = None) -> BuildResult:
    """The cached district file for ``spec``, building it first if it does not exist yet."""
    path = district_path(spec, data_dir)
    if path.is_file():
        started = time.perf_counter()
        conn = sqlite3.connect(path)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError:
            meta = {}
        finally:
            conn.close()
        if meta.get("complete") == "1":
            return BuildResult(path, True, time.perf_counter() - started,
                               json.loads(meta["counts"]))
        path.unlink()
    return build_district(spec, path, progress, workers)


__all__ = ["QUIRKS", "BuildResult", "DistrictSpec", "build_district", "district_path",
           "ensure_district"]
