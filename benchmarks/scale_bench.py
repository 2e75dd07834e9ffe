"""Province and nation scale: campus_geo against the tools users would pick instead.

Usage::

    python benchmarks/scale_bench.py                                       # 2,000 x 200,000
    nice -n 19 python benchmarks/scale_bench.py --schools 50000 --venues 5000000 --readme
    python benchmarks/scale_bench.py --methods campus_geo,duckdb,postgis

What happens
------------
1. The data come from ``screen_bench.make_data`` (imported, not copied): polygon
   schools and point venues clustered around 40 real Chinese town centres, a
   quarter of the venues within 5 m of the 200 m line, towns on UTM zone
   borders. They are written once to GeoParquet under ``benchmarks/out/``.
2. Each method runs in its own process tree on the same two files: campus_geo
   in memory, GeoParquet in and out (``stream.screen_to_parquet``), campus_geo's
   ``screen()`` returning a GeoDataFrame, campus_geo on dask (``scale.screen_dask`` on a
   LocalCluster of 2 worker processes), the two geopandas recipes of
   screen_bench (EPSG:3857 buffer + sjoin, UTM sjoin dwithin), DuckDB spatial
   (``ST_DWithin`` in UTM, the extension from the ``duckdb-extension-spatial``
   wheel, loaded from disk) and PostGIS (``ST_DWithin`` on geography with GiST
   indexes, on a throw-away PostgreSQL cluster this script starts on 127.0.0.1
   when Debian's postgresql and postgis packages are installed). Load, prepare
   and query are timed, and the peak memory of the method's processes is
   recorded.
3. Every method's pairs are checked against ``screen_bench.geodesic_truth``
   (brute force on the WGS 84 ellipsoid, no campus_geo), and the ``screen()``
   and dask findings against campus_geo's: same finding ids, distances and
   measured lines, in the same order.
4. A markdown table with the ratios goes to stdout and
   ``benchmarks/out/scale_bench.md``; ``--readme`` also writes it into the
   README section "Province and nation scale".

See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import readme
import screen_bench as sb

DIST = sb.DIST
METHODS = ("campus_geo", "screen", "screen_files", "dask", "merc", "utm", "duckdb", "postgis")
LABELS = {
    "campus_geo": "campus_geo in memory, GeoParquet in and out (`stream.screen_to_parquet`, "
    "2 workers; exact)",
    "screen": "campus_geo `screen()` to a GeoDataFrame, 2 workers (exact)",
    "screen_files": "campus_geo `screen()` of the GeoParquet paths to a GeoDataFrame, "
    "2 workers (exact)",
    "dask": "campus_geo `scale.screen_dask`, LocalCluster 2 workers",
    "merc": "geopandas EPSG:3857 buffer + sjoin",
    "utm": "geopandas UTM sjoin dwithin",
    "duckdb": "DuckDB spatial ST_DWithin in UTM",
    "postgis": "PostGIS ST_DWithin geography + GiST",
}
DASK_WORKERS = 2
CAMPUS_GEO_WORKERS = 2  # workers=: the pairs measured on two threads
COPY_ROWS = 200_000  # rows per COPY chunk sent to PostgreSQL
#: Seconds between two samples of the process tree's PSS. Reading smaps_rollup walks the
#: page tables of every process: sampled every second it slowed a 10 s screening by about
#: 1.5 s (five runs each way, 50k x 5M); the memory of a screening is flat while its
#: workers run, so a sample every few seconds still sees the peak.
PSS_EVERY_S = 2.5


# ----------------------------------------------------------------------------- helpers


def _vmhwm_kib(pid: int | str = "self", field: str = "VmHWM") -> int:
    """Peak resident memory (VmHWM, KiB) of a process; 0 when it cannot be read.

    `field`: another line of /proc/PID/status in KiB (``VmRSS``: resident now).
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ids(path: str, column: str) -> Any:
    """The id column of a GeoParquet file as a pandas Index (for mapping ids to positions)."""
    import pandas as pd
    import pyarrow.parquet as pq

    return pd.Index(pq.read_table(path, columns=[column]).column(column).to_numpy())


def _save(
    spec: dict[str, Any],
    timings: dict[str, Any],
    school_ids: Any,
    venue_ids: Any,
    distance: Any = None,
) -> None:
    """Write a method's pairs (positions) and timings in screen_bench's result format."""
    s = _ids(spec["schools"], "school_id").get_indexer(school_ids)
    v = _ids(spec["venues"], "hazard_id").get_indexer(venue_ids)
    if (s < 0).any() or (v < 0).any():
        raise RuntimeError(f"{spec['method']}: ids not found in the input layers")
    np.savez(
        spec["result"],
        school=s.astype(np.int64),
        venue=v.astype(np.int64),
        distance=np.full(len(s), np.nan) if distance is None else np.asarray(distance, float),
    )
    timings["rows"] = len(s)
    Path(spec["result"] + ".json").write_text(json.dumps(timings))


def _save_findings(findings: Any, path: str) -> None:
    """Finding ids, distances and measured lines (WKB), in order, for the dask == memory check."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    table = pa.table(
        {
            "finding_id": pa.array(findings.index.to_numpy(dtype=object), pa.string()),
            "distance_m": pa.array(findings["distance_m"].to_numpy()),
            "line": pa.array(shapely.to_wkb(findings.geometry.values), pa.binary()),
        }
    )
    pq.write_table(table, path)


# ----------------------------------------------------------------------------- campus_geo


def _pss_kib(pid: int) -> int:
    """Proportional set size (KiB) of a process: shared pages split among their sharers."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


class _TreePss:
    """Samples the summed PSS of this process and its children every few seconds; keeps the peak.

    Forked workers share the parent's pages copy-on-write: summing their RSS would count
    those pages once per process, PSS counts each page once.
    """

    def __init__(self) -> None:
        import threading

        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(PSS_EVERY_S):
            pids = [me.pid, *(c.pid for c in me.children(recursive=True))]
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(p) for p in pids))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kib


def _one_call(seconds: float, tree: _TreePss, note: str) -> dict[str, Any]:
    """The timings of a method that is one call, reading included (no load or prepare)."""
    tree_kib = tree.stop()
    own_kib = _vmhwm_kib()
    return {
        "load": None,
        "prepare": None,
        "query": seconds,
        "total": seconds,
        "vmhwm_kib": max(own_kib, tree_kib),
        "note": f"{note}; peak: VmHWM ({own_kib / 1024:,.0f} MiB)",
    }


def _run_campus_geo(spec: dict[str, Any]) -> None:
    """The province route: both files in, findings.parquet (a folder of parts) out."""
    import pyarrow.parquet as pq

    from campus_geo.stream import screen_to_parquet

    out = Path(spec["result"] + ".out.parquet")
    tree = _TreePss()
    t0 = time.perf_counter()
    count = screen_to_parquet(
        spec["schools"], spec["venues"], out, dist=DIST, workers=CAMPUS_GEO_WORKERS
    )
    timings = _one_call(
        time.perf_counter() - t0,
        tree,
        f"one call reads both files, measures on {CAMPUS_GEO_WORKERS} worker threads "
        f"and writes the {count:,} findings (all columns and measured lines) as GeoParquet",
    )
    table = pq.read_table(
        out, columns=["finding_id", "school_id", "hazard_id", "distance_m", "geometry"]
    )
    pq.write_table(
        table.select(["finding_id", "distance_m", "geometry"]).rename_columns(
            ["finding_id", "distance_m", "line"]
        ),
        spec["result"] + ".findings.parquet",
    )
    shutil.rmtree(out)
    _save(
        spec,
        timings,
        table.column("school_id").to_numpy(),
        table.column("hazard_id").to_numpy(),
        table.column("distance_m").to_numpy(),
    )


def _frame_mib(frame: Any) -> float:
    """Memory of a findings GeoDataFrame: its columns and index, and what its lines hold.

    A LineEnds holds its (n, 4) end points, or nothing of its own when it is made on
    the frame's coordinate columns (its ``nbytes`` says which): reading its ``ends``
    would make a copy of them, counted here and in the peak, that the frame never holds.
    """
    # column by column: a frame without its geometry (drop) stacks the float columns into
    # one block, a copy of them counted in the peak (420 MiB of 7 million findings)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    values = sum(frame[c].memory_usage(index=False, deep=True) for c in columns)
    values += frame.index.memory_usage(deep=True)
    return float(values + frame.geometry.values.nbytes) / 2**20


def _run_screen(spec: dict[str, Any]) -> None:
    import geopandas as gpd

    from campus_geo.screen import screen

    tree = _TreePss()
    t0 = time.perf_counter()
    schools = gpd.read_parquet(spec["schools"])
    # what screen() reads of a venue: id, name, category, geometry (DuckDB and PostGIS
    # load id and geometry only)
    venues = gpd.read_parquet(spec["venues"], columns=["hazard_id", "name", "category", "geometry"])
    t1 = time.perf_counter()
    # what the user's own GeoDataFrames take before screen() starts: the peak of reading
    # them, and what stays resident
    load_peak, loaded = _vmhwm_kib(), _vmhwm_kib(field="VmRSS")
    findings = screen(schools, venues, dist=DIST, workers=CAMPUS_GEO_WORKERS)
    t2 = time.perf_counter()
    tree_kib = tree.stop()
    own_kib = _vmhwm_kib()
    timings = {
        "load": t1 - t0,
        "prepare": 0.0,
        "query": t2 - t1,
        "total": t2 - t0,
        "vmhwm_kib": max(own_kib, tree_kib),
        # what the user's frames held when screen() started: its own share is the rest
        "loaded_kib": loaded,
        "note": (
            f"{CAMPUS_GEO_WORKERS} worker threads measure the pairs; screen() "
            "validates, indexes and hashes ids inside the query column (prepare 0) and "
            "returns a GeoDataFrame whose measured lines are held as their end points; "
            f"peak: VmHWM ({own_kib / 1024:,.0f} MiB); the two GeoDataFrames read with "
            f"geopandas: {load_peak / 1024:,.0f} MiB peak while reading, "
            f"{loaded / 1024:,.0f} MiB resident when screen() starts; the findings "
            f"({len(findings):,} rows): {_frame_mib(findings):,.0f} MiB"
        ),
    }
    _save_findings(findings, spec["result"] + ".findings.parquet")
    _save(spec, timings, findings["school_id"], findings["hazard_id"], findings["distance_m"])


def _run_screen_files(spec: dict[str, Any]) -> None:
    """screen() given the files' paths: the venues read as columns, findings in memory."""
    from campus_geo.screen import screen

    tree = _TreePss()
    t0 = time.perf_counter()
    findings = screen(spec["schools"], spec["venues"], dist=DIST, workers=CAMPUS_GEO_WORKERS)
    timings = _one_call(
        time.perf_counter() - t0,
        tree,
        "one call reads both files (the venues as columns: no GeoDataFrame of them), "
        f"{CAMPUS_GEO_WORKERS} worker threads measure the pairs, and it returns the "
        f"findings GeoDataFrame ({len(findings):,} rows: {_frame_mib(findings):,.0f} MiB)",
    )
    _save_findings(findings, spec["result"] + ".findings.parquet")
    _save(spec, timings, findings["school_id"], findings["hazard_id"], findings["distance_m"])


def _run_dask(spec: dict[str, Any]) -> None:
    from distributed import Client, LocalCluster

    from campus_geo.scale import screen_dask

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=DASK_WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
    ):
        t1 = time.perf_counter()
        # the workers read the GeoParquet files themselves: loading is part of the query
        findings = screen_dask(spec["schools"], spec["venues"], dist=DIST, scheduler=client)
        t2 = time.perf_counter()
        workers = client.run(_vmhwm_kib)  # worker processes
        nannies = client.run(_vmhwm_kib, nanny=True)  # their supervising nanny processes
    peak = _vmhwm_kib() + sum(workers.values()) + sum(nannies.values())
    timings = {
        "load": None,
        "prepare": t1 - t0,
        "query": t2 - t1,
        "total": t2 - t0,
        "vmhwm_kib": peak,
        "note": f"peak = client + {len(workers)} workers + their nannies",
    }
    _save_findings(findings, spec["result"] + ".findings.parquet")
    _save(spec, timings, findings["school_id"], findings["hazard_id"], findings["distance_m"])


# ----------------------------------------------------------------------------- DuckDB


def _duckdb_spatial() -> Path:
    """The spatial extension shipped in the duckdb-extension-spatial wheel (no download)."""
    from importlib.resources import files

    import duckdb

    path = Path(str(files("duckdb_extension_spatial"))) / "extensions"
    path = path / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(f"{path} (duckdb-extension-spatial must match duckdb's version)")
    return path


def _run_duckdb(spec: dict[str, Any]) -> None:
    import duckdb

    # extensions only from the file given: never an automatic download
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.load_extension(str(_duckdb_spatial()))
    t0 = time.perf_counter()
    # DuckDB reads GeoParquet geometry columns as GEOMETRY
    con.execute(
        "CREATE TABLE schools AS SELECT school_id, geometry AS geom FROM read_parquet(?)",
        [spec["schools"]],
    )
    con.execute(
        "CREATE TABLE venues AS SELECT hazard_id, geometry AS geom FROM read_parquet(?)",
        [spec["venues"]],
    )
    t1 = time.perf_counter()
    # the same plan as screen_bench's utm method: each school in the UTM zone of its
    # centre, the venues within that zone's schools' box (+0.01 degree) in the same zone
    con.execute(
        "CREATE TABLE zoned AS SELECT school_id, geom, "
        "CAST(floor(((ST_XMin(geom) + ST_XMax(geom)) / 2 + 180) / 6) AS INTEGER) + 1 AS zone "
        "FROM schools"
    )
    zones = con.execute(
        "SELECT zone, min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), "
        "max(ST_YMax(geom)) FROM zoned GROUP BY zone ORDER BY zone"
    ).fetchall()
    pad = sb.UTM_PAD_DEG
    for zone, minx, miny, maxx, maxy in zones:
        utm = f"EPSG:{32600 + zone}"
        con.execute(
            f"CREATE TABLE s{zone} AS SELECT school_id, "
            f"ST_Transform(geom, 'EPSG:4326', '{utm}', always_xy := true) AS g "
            f"FROM zoned WHERE zone = {zone}"
        )
        con.execute(
            f"CREATE TABLE v{zone} AS SELECT hazard_id, "
            f"ST_Transform(geom, 'EPSG:4326', '{utm}', always_xy := true) AS g FROM venues "
            f"WHERE ST_X(geom) BETWEEN {minx - pad} AND {maxx + pad} "
            f"AND ST_Y(geom) BETWEEN {miny - pad} AND {maxy + pad}"
        )
    t2 = time.perf_counter()
    parts = [
        con.execute(
            f"SELECT s.school_id, v.hazard_id FROM s{zone} s JOIN v{zone} v "
            f"ON ST_DWithin(s.g, v.g, {DIST})"
        ).fetchnumpy()
        for zone, *_ in zones
    ]
    t3 = time.perf_counter()
    timings = {
        "load": t1 - t0,
        "prepare": t2 - t1,
        "query": t3 - t2,
        "total": t3 - t0,
        "vmhwm_kib": _vmhwm_kib(),
        "note": f"duckdb {duckdb.__version__}, {len(zones)} UTM zones",
    }
    con.close()
    _save(
        spec,
        timings,
        np.concatenate([p["school_id"] for p in parts]),
        np.concatenate([p["hazard_id"] for p in parts]),
    )


# ----------------------------------------------------------------------------- PostGIS


def _pg_bindir() -> Path:
    """Directory of PostgreSQL's server programs (Debian: /usr/lib/postgresql/N/bin)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if not candidates:
        raise FileNotFoundError(
            "no PostgreSQL server programs (initdb); apt-get install postgresql postgis"
        )
    return candidates[-1].parent


def _postgis_check(bindir: Path) -> None:
    share = subprocess.run(
        [str(bindir / "pg_config"), "--sharedir"], check=True, capture_output=True, text=True
    ).stdout.strip()
    if not (Path(share) / "extension" / "postgis.control").exists():
        raise FileNotFoundError(
            f"PostGIS is not installed for {bindir} ({share}/extension/postgis.control); "
            "apt-get install postgis"
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# a throw-away server tuned for bulk loading (nothing here must survive a crash)
PG_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_buffers": "2GB",
    "work_mem": "256MB",
    "maintenance_work_mem": "2GB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "20GB",
    "checkpoint_timeout": "1h",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
    "jit": "off",
}


@contextlib.contextmanager
def _postgres() -> Iterator[int]:
    """Start a throw-away PostgreSQL cluster on 127.0.0.1; yield its port."""
    bindir = _pg_bindir()
    _postgis_check(bindir)
    root = Path(tempfile.mkdtemp(prefix="campus_geo_pg_"))
    # PostgreSQL refuses to run as root: run it as the postgres user when we are root
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    port = _free_port()
    options = " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "server.log"),
            "-o",
            f"-p {port} -k {root} {options}",
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield port
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _copy_wkb(cur: Any, table: str, path: str, id_column: str) -> None:
    """COPY (id, hex WKB) rows from a GeoParquet file, as ogr2ogr and to_postgis send them."""
    import pyarrow.parquet as pq

    data = pq.read_table(path, columns=[id_column, "geometry"])
    ids = data.column(id_column).to_pylist()
    wkb = data.column("geometry").to_pylist()
    with cur.copy(f"COPY {table} (id, geog) FROM STDIN") as copy:
        for start in range(0, len(ids), COPY_ROWS):
            chunk = zip(ids[start : start + COPY_ROWS], wkb[start : start + COPY_ROWS], strict=True)
            copy.write("".join(f"{i}\t{g.hex()}\n" for i, g in chunk))


def _run_postgis(spec: dict[str, Any]) -> None:
    import psycopg

    with _postgres() as port:
        conn = psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        )
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION postgis")
        version = cur.execute("SELECT postgis_lib_version(), version()").fetchone()
        backend = int(cur.execute("SELECT pg_backend_pid()").fetchone()[0])
        t0 = time.perf_counter()
        cur.execute("CREATE UNLOGGED TABLE schools (id text, geog geography)")
        cur.execute("CREATE UNLOGGED TABLE venues (id text, geog geography)")
        _copy_wkb(cur, "schools", spec["schools"], "school_id")
        _copy_wkb(cur, "venues", spec["venues"], "hazard_id")
        t1 = time.perf_counter()
        cur.execute("CREATE INDEX ON venues USING gist (geog)")
        cur.execute("CREATE INDEX ON schools USING gist (geog)")
        cur.execute("ANALYZE schools")
        cur.execute("ANALYZE venues")
        t2 = time.perf_counter()
        # ST_DWithin on geography: spheroid distance (use_spheroid defaults to true)
        rows = cur.execute(
            "SELECT s.id, v.id FROM schools s JOIN venues v ON ST_DWithin(s.geog, v.geog, %s)",
            (DIST,),
        ).fetchall()
        t3 = time.perf_counter()
        plan = cur.execute(
            "EXPLAIN SELECT s.id, v.id FROM schools s JOIN venues v "
            "ON ST_DWithin(s.geog, v.geog, %s)",
            (DIST,),
        ).fetchall()
        backend_kib = _vmhwm_kib(backend)
        backend_cpu = _cpu_s(backend)
        conn.close()
    timings = {
        "load": t1 - t0,
        "prepare": t2 - t1,
        "query": t3 - t2,
        "total": t3 - t0,
        "vmhwm_kib": _vmhwm_kib() + backend_kib,
        "server_cpu": backend_cpu,
        "note": f"PostGIS {version[0]}, {version[1].split(',')[0]}; peak = client + backend, "
        "CPU = client + backend (not its parallel workers); "
        "plan: " + " / ".join(r[0].strip() for r in plan[:3]),
    }
    school_ids = np.array([r[0] for r in rows], dtype=object)
    venue_ids = np.array([r[1] for r in rows], dtype=object)
    del rows
    _save(spec, timings, school_ids, venue_ids)


RUNNERS = {
    "campus_geo": _run_campus_geo,
    "screen": _run_screen,
    "screen_files": _run_screen_files,
    "dask": _run_dask,
    "duckdb": _run_duckdb,
    "postgis": _run_postgis,
}


# ----------------------------------------------------------------------------- driver


def _spawn(spec: dict[str, Any]) -> tuple[str | None, float]:
    """Run one method in a fresh process tree.

    Returns
    -------
    failure
        None on success, else why it could not run.
    cpu_s
        CPU seconds (user + system) of the process tree (every descendant waited for).
    """
    own = spec["method"] in RUNNERS
    script = Path(__file__).resolve() if own else Path(sb.__file__).resolve()
    cmd = [sys.executable, str(script), "--child", json.dumps(spec)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sys.stderr.write(done.stderr[-4000:] if done.returncode else "")
    if done.returncode:
        last = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return (last[-1] if last else f"exit status {done.returncode}"), cpu
    return None, cpu


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| method | load s | prepare s | query s | total s | CPU s | peak RSS MiB | pairs found "
        "| false pos | false neg | total / campus_geo |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {_fmt(r['load'])} | {_fmt(r['prepare'])} | {_fmt(r['query'])} "
            f"| {r['total']:.1f} | {r['cpu']:.1f} | {r['rss_mib']:,.0f} | {r['pairs']:,} | {r['fp']:,} "
            f"| {r['fn']:,} | {r['ratio']} |"
        )
    return "\n".join(lines)


def _same_findings(folder: Path, method: str) -> str:
    """Compare a method's findings with campus_geo's: ids, distances and lines, in order."""
    import pyarrow.parquet as pq

    paths = [folder / f"result_{m}.findings.parquet" for m in ("campus_geo", method)]
    if not all(p.exists() for p in paths):
        return f"not checked (run both campus_geo and {method})"
    memory, other = (pq.read_table(p) for p in paths)
    if memory.num_rows != other.num_rows:
        return f"NO: {other.num_rows:,} findings, {memory.num_rows:,} from campus_geo"
    for column in ("finding_id", "distance_m", "line"):
        if not memory.column(column).cast(other.column(column).type).equals(other.column(column)):
            return f"NO: column {column} differs"
    return (
        f"yes: the {memory.num_rows:,} findings have the same finding ids, distances and "
        "measured lines (bit for bit), in the same order"
    )


def _by_round(num: dict[str, Any], den: dict[str, Any], fmt: str) -> str:
    """The ratio of two methods' totals in each round, as "; round by round: a, b, c"."""
    if len(num["totals"]) < 2:
        return ""
    ratios = [format(n / d, fmt) for n, d in zip(num["totals"], den["totals"], strict=False)]
    return "; round by round: " + ", ".join(ratios)


def _targets(
    results: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]], *, province: bool
) -> list[str]:
    """The issues' targets met or missed; `province`: the 50k x 5M size, the memory target's."""
    out = []
    cg = results.get("campus_geo")
    if cg is None:
        return out
    row = rows["campus_geo"]
    exact = row["fp"] == 0 and row["fn"] == 0
    out.append(f"- campus_geo in memory exact (0 FP, 0 FN): {'met' if exact else 'MISSED'}")
    if "postgis" in results:
        ratio = results["postgis"]["total"] / cg["total"]
        verdict = "met" if ratio >= 10 else "MISSED"
        rounds = _by_round(results["postgis"], cg, ".1f")
        out.append(
            f"- PostGIS geography total / campus_geo total: {ratio:.1f} (>= 10: {verdict}){rounds}"
        )
    for method in ("campus_geo", "screen", "screen_files"):
        if "duckdb" not in results or method not in results:
            continue
        mine = results[method]
        ratio = mine["total"] / results["duckdb"]["total"]
        verdict = "met" if ratio <= 1.0 else "MISSED"
        rounds = _by_round(mine, results["duckdb"], ".2f")
        out.append(f"- {method} total / DuckDB UTM total: {ratio:.2f} (<= 1.0: {verdict}){rounds}")
    for method in ("screen", "screen_files"):
        if method not in results:
            continue
        exact = rows[method]["fp"] == 0 and rows[method]["fn"] == 0
        mib = results[method]["vmhwm_kib"] / 1024
        out.append(f"- {method} exact (0 FP, 0 FN): {'met' if exact else 'MISSED'}")
        if province:
            verdict = "met" if mib < 1536 else "MISSED"
            out.append(f"- {method} peak RSS: {mib:,.0f} MiB (< 1,536 at 50k x 5M: {verdict})")
        if "above_kib" in results[method]:
            out.extend(_frames_share(results[method], results.get("duckdb"), province=province))
    mib = cg["vmhwm_kib"] / 1024
    out.append(
        f"- campus_geo peak RSS: {mib:,.0f} MiB (< 4,096: {'met' if mib < 4096 else 'MISSED'})"
    )
    return out


def _frames_share(
    mine: dict[str, Any], duckdb: dict[str, Any] | None, *, province: bool
) -> list[str]:
    """What of `screen()`'s time and memory is the call's, not the user's frames'.

    The targets above count the user's geopandas read of the two files and the frames
    it leaves resident (the run's "load" and the memory before the call); these lines
    judge the call alone by the same bounds: its time (the "query" column) against
    DuckDB's total, load included, and its peak above what the frames held when it
    started (the largest of the rounds; the frames' memory is the run of median
    total's). Where the frames alone hold more than the memory bound, a line says so:
    no call of them meets it counting them.
    """
    above = mine["above_kib"] / 1024
    loaded = mine["loaded_kib"] / 1024
    bound = f" (< 1,536 at 50k x 5M: {'met' if above < 1536 else 'MISSED'})" if province else ""
    out = [
        f"- screen() alone, its GeoDataFrames in memory already: peak {above:,.0f} MiB above "
        f"the {loaded:,.0f} MiB resident when it starts{bound}"
    ]
    if province and loaded >= 1536:
        out.append(
            f"- the user's two GeoDataFrames alone: {loaded:,.0f} MiB before screen() starts, "
            "more than 1,536: no call given them can peak under it, counting them"
        )
    if duckdb is not None:
        ratio = mine["query"] / duckdb["total"]
        verdict = "met" if ratio <= 1.0 else "MISSED"
        out.append(
            f"- screen() alone, without the user's geopandas read: {mine['query']:.2f} s, "
            f"{ratio:.2f} of DuckDB UTM total (its load included; <= 1.0: {verdict})"
        )
    return out


def _warm(paths: list[Path]) -> None:
    """Read the input files once (untimed), so that every method finds them in the page cache.

    The dask run takes 17 GiB of the machine's 23: the method after it would otherwise
    read its inputs from disk while the others read them from memory.
    """
    for path in paths:
        for part in [path] if path.is_file() else sorted(path.rglob("*.parquet")):
            with part.open("rb") as f:
                while f.read(1 << 23):
                    pass


def _median_run(runs: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    """The run of median total time (the lower middle one of an even number), with its pairs.

    Every run of a method finds the same pairs; the last run's are on disk.
    """
    median = sorted(runs, key=lambda r: r["total"])[(len(runs) - 1) // 2]
    result = {
        **median,
        "vmhwm_kib": max(r["vmhwm_kib"] for r in runs),
        "totals": [r["total"] for r in runs],
    }
    if all("loaded_kib" in r for r in runs):  # screen(): its own share, at its largest
        result["above_kib"] = max(r["vmhwm_kib"] - r["loaded_kib"] for r in runs)
    with np.load(str(out) + ".npz") as z:
        result.update({k: z[k] for k in z.files})
    return result


def _run(args: argparse.Namespace) -> str:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown method(s) {', '.join(sorted(unknown))}; choose from {METHODS}")
    schools_path, venues_path = sb.data_paths(args.schools, args.venues, args.seed, args.layout)
    if args.regenerate or not (schools_path.exists() and venues_path.exists()):
        print(
            f"generating {args.schools:,} schools x {args.venues:,} venues "
            f"({args.layout}, seed {args.seed})"
        )
        t = time.perf_counter()
        spec = {"method": "generate", "n_schools": args.schools, "n_venues": args.venues}
        failed, _ = _spawn({**spec, "seed": args.seed, "layout": args.layout})
        if failed:
            raise SystemExit(f"data generation failed: {failed}")
        print(f"  written to {schools_path.parent} in {time.perf_counter() - t:.1f} s")

    runs: dict[str, list[dict[str, Any]]] = {method: [] for method in methods}
    skipped: dict[str, str] = {}
    load_before = os.getloadavg()[1]
    # in rounds (every method once, then again): a slow spell of the machine falls on all
    # methods alike, and no method runs twice in a row on memory its last run just freed
    for round_ in range(args.repeat):
        for method in [m for m in methods if m not in skipped]:
            _warm([schools_path, venues_path])
            spec = sb.run_spec(method, schools_path, venues_path)
            out = spec["result"]
            failed, cpu = _spawn(spec)
            if failed:
                skipped[method] = failed
                print(f"  {method}: could not run: {failed}")
                continue
            timings = json.loads(Path(out + ".json").read_text())
            timings["cpu"] = cpu + timings.get("server_cpu", 0.0)
            runs[method].append(timings)
            print(
                f"  {method} (round {round_ + 1}/{args.repeat}): {timings['total']:.1f} s, "
                f"{timings['vmhwm_kib'] / 1024:,.0f} MiB"
            )
    load_after = os.getloadavg()[1]
    results = {
        method: _median_run(method_runs, schools_path.parent / f"result_{method}")
        for method, method_runs in runs.items()
        if method_runs and method not in skipped
    }

    import geopandas as gpd

    schools = gpd.read_parquet(schools_path)
    venues = gpd.read_parquet(venues_path)
    nv = len(venues)
    t = time.perf_counter()
    reported = np.unique(np.concatenate([sb._keys(r, nv) for r in results.values()]))
    truth = sb.geodesic_truth(schools, venues, reported, seed=args.seed)
    truth_s = time.perf_counter() - t

    base = results.get("campus_geo", {}).get("total")
    rows: dict[str, dict[str, Any]] = {}
    for method, r in results.items():
        rows[method] = {**sb.result_row(r, LABELS[method], nv, truth, base), "cpu": r["cpu"]}
    notes = [
        f"- {method} findings == campus_geo findings: {_same_findings(schools_path.parent, method)}"
        for method in ("screen", "screen_files", "dask")
        if method in results
    ]
    if args.repeat > 1:
        notes.append(
            f"- total s, CPU s: the run of median total time of {args.repeat} rounds (each "
            "method once per round, in the order of the table); peak RSS: the largest of the "
            "runs; all totals: "
            + "; ".join(
                f"{m} {', '.join(f'{t:.1f}' for t in r['totals'])}" for m, r in results.items()
            )
        )
    notes += [f"- {LABELS[m]}: {r['note']}" for m, r in results.items() if r.get("note")]
    notes += [f"- {LABELS[m]}: not run: {why}" for m, why in skipped.items()]
    summary = {
        "schools": len(schools),
        "venues": nv,
        "layout": args.layout,
        "seed": args.seed,
        "pairs": len(truth["keys"]),
        "revision": sb._revision(),
        "methods": {
            m: {"label": LABELS[m], "total_s": r["total"], "peak_mib": r["vmhwm_kib"] / 1024}
            for m, r in results.items()
        },
    }
    tag = f"{args.layout}_{len(schools)}x{nv}_seed{args.seed}"
    sb.OUT_DIR.mkdir(parents=True, exist_ok=True)
    (sb.OUT_DIR / f"scale_runs_{tag}.json").write_text(json.dumps(summary, indent=1))
    placement = venues["placement"].value_counts()
    header = (
        f"### scale benchmark: {len(schools):,} schools x {nv:,} venues "
        f"({'one dense district' if args.layout == 'district' else '~40 towns'}), "
        f"seed {args.seed}, dist {DIST:g} m\n\n"
        f"campus_geo at {sb._revision()}; {os.cpu_count()} cores (5-minute load average "
        f"{load_before:.1f} before the methods, {load_after:.1f} after: other work shares "
        f"them), Python {platform.python_version()}; venues by placement: "
        + ", ".join(f"{k} {v:,}" for k, v in placement.items())
        + "\n\n"
    )
    footer = [
        "",
        "Targets:",
        "",
        *_targets(results, rows, province=args.schools >= 50_000 and args.venues >= 5_000_000),
        "",
        f"- truth: {len(truth['keys']):,} pairs within {DIST:g} m on the WGS 84 ellipsoid "
        f"from {truth['candidates']:,} candidates; {len(truth['brute_keys']):,} pairs within "
        f"{sb.BRUTE_WINDOW} m of the line brute-forced on the ellipsoid ({truth_s:.0f} s)",
        *notes,
        "- peak RSS: VmHWM of the method's own processes (imports + data + work); CPU s: user + "
        "system time of the method's process tree, including imports and the untimed "
        "bookkeeping after the query (ids mapped back; for campus_geo and dask, their findings "
        "saved for the comparison); wall time stretches when other work takes the cores, CPU "
        "time much less",
        "",
    ]
    return header + _table(list(rows.values())) + "\n" + "\n".join(footer)


def readme_block(report: str) -> str:
    """The report as the README section "Province and nation scale" shows it."""
    heading, rest = report.split("\n", 1)  # the README section has its own heading
    return f"**{heading.removeprefix('### scale benchmark: ')}.**\n{rest}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=2_000)
    parser.add_argument("--venues", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--layout",
        choices=sorted(sb.LAYOUTS),
        default="towns",
        help="towns: ~40 towns (province, nation); district: one dense city district",
    )
    parser.add_argument("--methods", default=",".join(METHODS), help=f"subset of {METHODS}")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the cached data")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of runs; the table reports each method's run of median total time",
    )
    readme.add_arguments(parser, "scale_bench")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        RUNNERS[spec["method"]](spec)
        return
    report = _run(args)
    print()
    print(report)
    sb.OUT_DIR.mkdir(parents=True, exist_ok=True)
    tag = f"{args.schools}x{args.venues}_seed{args.seed}"
    for name in ("scale_bench.md", f"scale_bench_{tag}.md"):
        (sb.OUT_DIR / name).write_text(report)
    if args.readme:
        readme.write_block(args.readme_path, "scale_bench", readme_block(report))


if __name__ == "__main__":
    main()
