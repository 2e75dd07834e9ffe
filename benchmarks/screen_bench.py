"""Benchmark of ``campus_geo.screen`` against two geopandas recipes, checked against geodesic truth.

Usage::

    python benchmarks/screen_bench.py                                  # 1,000 x 100,000
    python benchmarks/screen_bench.py --schools 10000 --venues 1000000 --seed 1
    python benchmarks/screen_bench.py --methods campus_geo,utm --profile
    python benchmarks/screen_bench.py --schools 10000 --venues 1000000 --repeat 2 --readme

What happens
------------
1. ``make_data`` generates schools (rotated rectangles) and venues (points) around
   ~40 fixed town centres in China and writes them once to GeoParquet under
   ``benchmarks/out/`` (a cache keyed by size, seed and generator version).
2. Each method runs in its own Python process on the same files, so its peak
   resident memory is its own: load, prepare and query are timed separately and
   the (school, venue) pairs found are handed back in a .npz file.
3. The geodesic truth (``geodesic_truth``) is computed in this process without
   campus_geo, and every method's pairs are compared with it.
4. A markdown table goes to stdout and to ``benchmarks/out/screen_bench.md``, followed by
   the README's table and sentences between their markers; ``--readme`` writes those into
   README.md (section "Speed and exactness against the plain geopandas ways"). The README
   shows ``--schools 10000 --venues 1000000 --repeat 2``.

See benchmarks/README.md for the methods and the truth argument.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import readme

OUT_DIR = Path(__file__).resolve().parent / "out"
DIST = 200.0  # the legal distance screened, metres on the WGS 84 ellipsoid
GEN_VERSION = 1  # bump when make_data changes: the cached files are keyed by it
METHODS = ("campus_geo", "merc", "utm")
METHOD_LABELS = {
    "campus_geo": "campus_geo `screen` (exact)",
    "merc": "geopandas EPSG:3857 buffer + sjoin",
    "utm": "geopandas local UTM sjoin dwithin",
}

# ~40 fixed town centres (lon, lat) in lon 100-122, lat 22-45. The ones marked
# "border" straddle a UTM zone border (102, 108, 114, 120 E), which is also a
# border of campus_geo's 0.5-degree measuring bands; Shenzhen and Hangzhou lie
# close to one.
TOWNS = np.array(
    [
        (102.71, 25.04),  # Kunming
        (102.00, 24.40),  # border 102
        (104.07, 30.67),  # Chengdu
        (106.55, 29.56),  # Chongqing
        (106.63, 26.65),  # Guiyang
        (108.37, 22.82),  # Nanning
        (108.00, 29.30),  # border 108
        (108.94, 34.34),  # Xi'an
        (103.83, 36.06),  # Lanzhou
        (101.78, 36.62),  # Xining
        (106.23, 38.49),  # Yinchuan
        (109.84, 40.66),  # Baotou
        (111.75, 40.84),  # Hohhot
        (112.55, 37.87),  # Taiyuan
        (113.62, 34.75),  # Zhengzhou
        (114.06, 22.54),  # Shenzhen, near 114
        (114.30, 30.59),  # Wuhan
        (114.51, 38.04),  # Shijiazhuang
        (112.94, 28.23),  # Changsha
        (113.26, 23.13),  # Guangzhou
        (115.86, 28.68),  # Nanchang
        (117.23, 31.82),  # Hefei
        (116.41, 39.90),  # Beijing
        (117.20, 39.08),  # Tianjin
        (117.00, 36.65),  # Jinan
        (118.80, 32.06),  # Nanjing
        (120.16, 30.27),  # Hangzhou, near 120
        (120.00, 36.00),  # border 120
        (121.47, 31.23),  # Shanghai
        (119.30, 26.08),  # Fuzhou
        (118.09, 24.48),  # Xiamen
        (121.13, 41.10),  # Jinzhou
        (118.89, 42.26),  # Chifeng
        (116.09, 43.94),  # Xilinhot
        (110.15, 22.63),  # Yulin (Guangxi)
        (110.29, 25.27),  # Guilin
        (100.27, 25.61),  # Dali
        (100.23, 26.87),  # Lijiang
        (121.61, 38.91),  # Dalian
        (114.00, 41.50),  # border 114
    ]
)
SCHOOL_SPREAD_M = 6_000.0  # Rayleigh scale of school positions around their town centre
BACKGROUND_SPREAD_M = 8_000.0  # the same for background venues
#: The dense district: one city district (Nanjing's longitude band border at 118.5 E runs
#: through it) with its schools and venues packed within a few kilometres.
DISTRICT = np.array([(118.50, 32.05)])
DISTRICT_SCHOOL_SPREAD_M = 5_700.0
DISTRICT_BACKGROUND_SPREAD_M = 7_300.0
#: layout -> (town centres, school spread, background spread) of ``make_data``
LAYOUTS = {
    "towns": (TOWNS, SCHOOL_SPREAD_M, BACKGROUND_SPREAD_M),
    "district": (DISTRICT, DISTRICT_SCHOOL_SPREAD_M, DISTRICT_BACKGROUND_SPREAD_M),
}
NEAR_RADIUS_M = 600.0  # "near" venues: uniform in a disc of this radius around a school centre
SCHOOL_KINDS = ("kindergarten", "primary", "middle", "high")
VENUE_CATEGORIES = ("internet_cafe", "entertainment", "arcade", "lottery", "tobacco_alcohol")
# shares of the venues by placement (the rest is background scattered around the towns)
SHARE_KNIFE = 0.01  # 199.5-200.5 m from a school outline
SHARE_RING = 0.24  # 195-205 m from a school outline
SHARE_NEAR = 0.50  # uniform in a disc around a school centre (some inside the campus)

# ----------------------------------------------------------------------------- data


def _geod() -> Any:
    import pyproj

    return pyproj.Geod(ellps="WGS84")


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """Ids like s0000042, vectorised (numpy string ops, no Python loop)."""
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width))


def make_data(n_schools: int, n_venues: int, seed: int, layout: str = "towns") -> tuple[Any, Any]:
    """Synthetic schools (rotated rectangles) and venues (points) in China, in EPSG:4326.

    Deterministic from `seed`; vectorised numpy throughout (no loop per school or venue).
    `layout`: ``"towns"`` spreads them over the ~40 towns of :data:`TOWNS` (a province
    or a nation: few pairs per venue); ``"district"`` packs them into one city district
    (:data:`DISTRICT`: every school has hundreds of venues within 200 m, a dense
    district of 10,000 schools and 1,000,000 venues has about 7 million pairs).

    Returns
    -------
    schools
        GeoDataFrame indexed by ``school_id``: ``name``, ``kind``, polygon geometry.
        Rectangles of 60-300 m sides, rotated at random, corners placed with
        ``Geod.fwd`` from the centre, around a random town centre (Rayleigh 6 km).
    venues
        GeoDataFrame indexed by ``hazard_id``: ``name``, ``category``, ``placement``,
        point geometry. 1 % at 199.5-200.5 m and 24 % at 195-205 m from a school
        outline (``Geod.fwd`` outward, perpendicular to an edge, from a random
        point of a random edge), 50 % in a 600 m disc around a school centre, 25 %
        scattered around the towns (Rayleigh 8 km).
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    towns, school_spread, background_spread = LAYOUTS[layout]
    geod = _geod()
    rng = np.random.default_rng(seed)

    # schools ---------------------------------------------------------------
    town = rng.integers(0, len(towns), n_schools)
    cx, cy, _ = geod.fwd(
        towns[town, 0],
        towns[town, 1],
        rng.uniform(-180.0, 180.0, n_schools),
        rng.rayleigh(school_spread, n_schools),
    )
    width = rng.uniform(60.0, 300.0, n_schools)
    height = rng.uniform(60.0, 300.0, n_schools)
    theta = rng.uniform(0.0, np.pi, n_schools)[:, None]
    # corners counter-clockwise in a local east/north frame, rotated by theta
    ex = np.array([-0.5, 0.5, 0.5, -0.5])[None, :] * width[:, None]
    ny = np.array([-0.5, -0.5, 0.5, 0.5])[None, :] * height[:, None]
    east = ex * np.cos(theta) - ny * np.sin(theta)
    north = ex * np.sin(theta) + ny * np.cos(theta)
    lon, lat, _ = geod.fwd(
        np.repeat(cx, 4),
        np.repeat(cy, 4),
        np.degrees(np.arctan2(east, north)).ravel(),
        np.hypot(east, north).ravel(),
    )
    corners = np.stack([lon, lat], axis=-1).reshape(n_schools, 4, 2)
    rings = np.concatenate([corners, corners[:, :1]], axis=1)
    school_ids = _ids("s", n_schools, 6)
    schools = gpd.GeoDataFrame(
        {
            "name": np.char.add("学校", school_ids),
            "kind": np.asarray(SCHOOL_KINDS)[rng.integers(0, len(SCHOOL_KINDS), n_schools)],
        },
        geometry=shapely.polygons(rings),
        index=pd.Index(school_ids, name="school_id"),
        crs="EPSG:4326",
    )

    # venues ----------------------------------------------------------------
    n_knife = round(SHARE_KNIFE * n_venues)
    n_ring = round(SHARE_RING * n_venues)
    n_near = round(SHARE_NEAR * n_venues)
    n_bg = n_venues - n_knife - n_ring - n_near

    # knife + ring: outward from a random point of a random edge, perpendicular to it
    n_out = n_knife + n_ring
    parent = rng.integers(0, n_schools, n_out)
    edge = rng.integers(0, 4, n_out)
    a = corners[parent, edge]
    b = corners[parent, (edge + 1) % 4]
    az_ab, _, length = geod.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    fx, fy, back_az = geod.fwd(a[:, 0], a[:, 1], az_ab, rng.uniform(0.0, 1.0, n_out) * length)
    # the ring is counter-clockwise, so the outside is on the right: forward azimuth + 90
    gap = np.concatenate(
        [rng.uniform(DIST - 0.5, DIST + 0.5, n_knife), rng.uniform(DIST - 5.0, DIST + 5.0, n_ring)]
    )
    ox, oy, _ = geod.fwd(fx, fy, back_az + 180.0 + 90.0, gap)

    # near: uniform in a disc around a school centre
    near_parent = rng.integers(0, n_schools, n_near)
    nx, ny_, _ = geod.fwd(
        cx[near_parent],
        cy[near_parent],
        rng.uniform(-180.0, 180.0, n_near),
        NEAR_RADIUS_M * np.sqrt(rng.uniform(0.0, 1.0, n_near)),
    )
    # background: around a town centre
    bg_town = rng.integers(0, len(towns), n_bg)
    bx, by, _ = geod.fwd(
        towns[bg_town, 0],
        towns[bg_town, 1],
        rng.uniform(-180.0, 180.0, n_bg),
        rng.rayleigh(background_spread, n_bg),
    )
    vx = np.concatenate([ox, nx, bx])
    vy = np.concatenate([oy, ny_, by])
    placement = np.repeat(
        np.array(["knife", "ring", "near", "background"]), [n_knife, n_ring, n_near, n_bg]
    )
    order = rng.permutation(n_venues)  # ids must not give the placement away
    venue_ids = _ids("v", n_venues, 7)
    venues = gpd.GeoDataFrame(
        {
            "name": np.char.add("场所", venue_ids),
            "category": np.asarray(VENUE_CATEGORIES)[
                rng.integers(0, len(VENUE_CATEGORIES), n_venues)
            ],
            "placement": placement[order],
        },
        geometry=shapely.points(vx[order], vy[order]),
        index=pd.Index(venue_ids, name="hazard_id"),
        crs="EPSG:4326",
    )
    return schools, venues


def data_paths(
    n_schools: int, n_venues: int, seed: int, layout: str = "towns"
) -> tuple[Path, Path]:
    place = "" if layout == "towns" else f"{layout}_"
    folder = OUT_DIR / f"data_v{GEN_VERSION}_{place}{n_schools}x{n_venues}_seed{seed}"
    return folder / "schools.parquet", folder / "venues.parquet"


def run_spec(method: str, schools_path: Path, venues_path: Path, **extra: Any) -> dict[str, Any]:
    """What a method's child process is given: its name, the two files, its result stem."""
    return {
        "method": method,
        "schools": str(schools_path),
        "venues": str(venues_path),
        "result": str(schools_path.parent / f"result_{method}"),
        **extra,
    }


def _write_data(n_schools: int, n_venues: int, seed: int, layout: str = "towns") -> None:
    schools, venues = make_data(n_schools, n_venues, seed, layout)
    paths = data_paths(n_schools, n_venues, seed, layout)
    for gdf, path in zip((schools, venues), paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        gdf.to_parquet(tmp)
        tmp.replace(path)


# ----------------------------------------------------------------------------- methods
# Each runs in its own process (``_child``): prepare(schools, venues) -> state, then
# query(state) -> (school ids, venue ids, distances or None), one entry per pair found.


def _prepare_campus_geo(schools: Any, venues: Any) -> Any:
    return schools, venues  # screen() takes the canonical layers as they are


def _query_campus_geo(state: Any) -> tuple[Any, Any, Any]:
    from campus_geo.screen import screen

    findings = screen(state[0], state[1], dist=DIST)
    return (
        findings["school_id"].to_numpy(),
        findings["hazard_id"].to_numpy(),
        findings["distance_m"].to_numpy(),
    )


def _prepare_merc(schools: Any, venues: Any) -> Any:
    # the common mistake: Web Mercator metres are not metres (scale 1/cos(lat))
    zones = schools.to_crs(3857)
    zones = zones.set_geometry(zones.buffer(DIST))
    return zones, venues.to_crs(3857)


def _join_ids(joined: Any) -> tuple[Any, Any]:
    """(school ids, venue ids) of gpd.sjoin(venues, schools, ...)."""
    column = "school_id" if "school_id" in joined.columns else "index_right"
    return joined[column].to_numpy(), joined.index.to_numpy()


def _query_merc(state: Any) -> tuple[Any, Any, Any]:
    import geopandas as gpd

    zones, venues = state
    # points on the left: the tree is built on the 10^3-10^4 zones, not the 10^5-10^6 points
    joined = gpd.sjoin(venues, zones, predicate="intersects")
    return (*_join_ids(joined), None)


UTM_PAD_DEG = 0.01  # venues within this many degrees of a zone's schools' bbox go with it


def _prepare_utm(schools: Any, venues: Any) -> Any:
    import shapely

    # each school goes to the UTM zone of its centre; the venues within the bounding
    # box (+0.01 degree) of that zone's schools are projected into the same zone, so a
    # town that straddles a zone border is measured in one plane per school.
    bounds = shapely.bounds(schools.geometry.values)
    zone = np.floor(((bounds[:, 0] + bounds[:, 2]) / 2.0 + 180.0) / 6.0).astype(int) + 1
    vx = shapely.get_x(venues.geometry.values)
    vy = shapely.get_y(venues.geometry.values)
    parts = []
    for z in np.unique(zone):
        zone_schools = schools[zone == z]
        minx, miny, maxx, maxy = zone_schools.total_bounds
        near = (
            (vx >= minx - UTM_PAD_DEG)
            & (vx <= maxx + UTM_PAD_DEG)
            & (vy >= miny - UTM_PAD_DEG)
            & (vy <= maxy + UTM_PAD_DEG)
        )
        epsg = 32600 + int(z)  # northern hemisphere
        parts.append((zone_schools.to_crs(epsg), venues[near].to_crs(epsg)))
    return parts


def _query_utm(parts: Any) -> tuple[Any, Any, Any]:
    import geopandas as gpd

    school_ids, venue_ids = [], []
    for zone_schools, zone_venues in parts:
        joined = gpd.sjoin(zone_venues, zone_schools, predicate="dwithin", distance=DIST)
        s, v = _join_ids(joined)
        school_ids.append(s)
        venue_ids.append(v)
    return np.concatenate(school_ids), np.concatenate(venue_ids), None


PREPARE = {"campus_geo": _prepare_campus_geo, "merc": _prepare_merc, "utm": _prepare_utm}
QUERY = {"campus_geo": _query_campus_geo, "merc": _query_merc, "utm": _query_utm}


def _peak_rss_kib() -> tuple[int, int]:
    """(VmHWM from /proc/self/status, ru_maxrss), both KiB.

    VmHWM is the high-water mark of this process image only; ru_maxrss can carry
    the parent's size across fork+exec on Linux, so VmHWM is the one reported.
    """
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return maxrss, maxrss
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]), maxrss
    return maxrss, maxrss


def _child(spec: dict[str, Any]) -> None:
    """Run one method in this (fresh) process and write its result files."""
    if spec["method"] == "generate":
        _write_data(spec["n_schools"], spec["n_venues"], spec["seed"], spec.get("layout", "towns"))
        return
    import geopandas as gpd

    method = spec["method"]
    if method == "campus_geo":
        import campus_geo.screen  # noqa: F401  (imports are not part of the timed work)

    t0 = time.perf_counter()
    schools = gpd.read_parquet(spec["schools"])
    venues = gpd.read_parquet(spec["venues"])
    t1 = time.perf_counter()
    state = PREPARE[method](schools, venues)
    t2 = time.perf_counter()
    if spec.get("profile"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        school_ids, venue_ids, distance = profiler.runcall(QUERY[method], state)
        profiler.dump_stats(spec["result"] + ".pstats")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
    else:
        school_ids, venue_ids, distance = QUERY[method](state)
    t3 = time.perf_counter()
    hwm, maxrss = _peak_rss_kib()
    del state
    s = schools.index.get_indexer(school_ids)
    v = venues.index.get_indexer(venue_ids)
    if (s < 0).any() or (v < 0).any():
        raise RuntimeError(f"{method}: ids not found in the input layers")
    np.savez(
        spec["result"],
        school=s.astype(np.int64),
        venue=v.astype(np.int64),
        distance=np.full(len(s), np.nan) if distance is None else np.asarray(distance, float),
    )
    timings = {
        "load": t1 - t0,
        "prepare": t2 - t1,
        "query": t3 - t2,
        "total": t3 - t0,
        "vmhwm_kib": hwm,
        "ru_maxrss_kib": maxrss,
        "rows": len(s),
    }
    Path(spec["result"] + ".json").write_text(json.dumps(timings))


def _spawn(spec: dict[str, Any]) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    subprocess.run(cmd, check=True)


# ----------------------------------------------------------------------------- truth
#
# Truth = the set of (school, venue) pairs whose WGS 84 ellipsoidal distance from
# the venue to the campus polygon (0 inside; edges are geodesics) is <= 200 m.
# It does not use campus_geo. Candidates are every pair any method reported plus
# every pair a generous planar pre-filter finds: UTM distance <= 203 m.
#
# Why the UTM distance settles most pairs (UTM_BOUND): each school is measured in
# the UTM zone of its centre; a venue within ~203 m of it lies within 0.01 degree
# of that zone, so |lon - central meridian| <= 3.01 degrees. UTM is conformal with point scale
# k = 0.9996 * (1 + (dlon * cos(lat))**2 / 2 + ...), hence 0.9996 <= k <= 1.0010
# anywhere in such a strip (the upper value at the equator; at lat 22-45 it is
# below 1.0009), and k varies by < 1e-7 along 200 m. A planar length therefore
# differs from the ellipsoidal length of the same short curve by < 1.0e-3 of it:
# < 0.21 m at 203 m. The image of a geodesic edge (<= 300 m) bows from the straight
# planar edge by < 1 mm, so the planar point-polygon distance is within 0.22 m of
# the ellipsoidal one (< 0.9 m, the bound the code asserts on every pair it
# measures exactly). So a pair with planar distance <= 198.5 m is within 200 m on
# the ellipsoid, one beyond 201.5 m is not, and the 203 m pre-filter misses none.
# Only the pairs in (198.5, 201.5] m are brute-forced on the ellipsoid.
#
# Brute force (``_geodesic_min``): for each such pair, the outline edges whose
# planar distance is within 2 m of the nearest one (the true nearest point lies on
# one of them) are densified along the geodesic between their vertices
# (Geod.inv for the edge azimuth and length, then Geod.fwd at arc lengths 0.5 m
# apart: exactly the points Geod.npts returns) over +-5 m around the planar foot,
# clipped to the edge so that a vertex in reach is sampled; the best sample is refined on +-0.5 m at 0.02 m. The minimum
# of Geod.inv (Karney, nanometre-exact) over the samples exceeds the true minimum
# by at most (0.01 m)**2 / (2 * 200 m) = 2.5e-7 m. A random sample of pairs is
# re-measured by full-outline Geod.npts densification (0.5 m) as a check of the
# windowing, and a random sample of the UTM-settled pairs is measured exactly as
# a check of the UTM bound.

UTM_BOUND = 0.9  # asserted bound on |planar UTM distance - ellipsoidal distance|, metres
BRUTE_WINDOW = 1.5  # planar distances within this of DIST are brute-forced
PREFILTER = DIST + 3.0  # generous planar pre-filter, metres
COARSE_HALF, COARSE_STEP = 5.0, 0.5  # metres of arc around the planar foot, sample spacing
FINE_STEP = 0.02  # refinement spacing on +-COARSE_STEP around the best coarse sample
EDGE_SLACK = 2.0  # edges whose planar distance is within this of the nearest are searched
CHUNK_ROWS = 50_000


def _utm_zone(lon: np.ndarray) -> np.ndarray:
    return np.floor((lon + 180.0) / 6.0).astype(np.int64) + 1


def _to_utm(zone: int, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import pyproj

    tr = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{32600 + zone}", always_xy=True)
    return tr.transform(x, y)


class _Layers:
    """Schools and venues as flat arrays, for the truth computation."""

    def __init__(self, schools: Any, venues: Any) -> None:
        import shapely

        self.polys = np.asarray(schools.geometry.values, dtype=object)
        bounds = shapely.bounds(self.polys)
        self.zone = _utm_zone((bounds[:, 0] + bounds[:, 2]) / 2.0)
        points = venues.geometry.values
        self.vx = shapely.get_x(points)
        self.vy = shapely.get_y(points)
        self.max_lat = float(max(bounds[:, 3].max(), self.vy.max()))
        # segment table: every boundary edge, sorted by school
        parts, part_school = shapely.get_parts(self.polys, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        same = coord_ring[:-1] == coord_ring[1:]
        self.seg_a = coords[:-1][same]
        self.seg_b = coords[1:][same]
        self.seg_school = part_school[ring_part[coord_ring[:-1][same]]]
        order = np.argsort(self.seg_school, kind="stable")
        self.seg_a, self.seg_b, self.seg_school = (
            self.seg_a[order],
            self.seg_b[order],
            self.seg_school[order],
        )
        counts = np.bincount(self.seg_school, minlength=len(self.polys))
        self.seg_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.seg_count = counts


def _planar_distance(lay: _Layers, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Distance (m) in the UTM zone of each pair's school: venue to polygon, 0 inside."""
    import shapely

    out = np.empty(len(s))
    for zone in np.unique(lay.zone[s]):
        m = lay.zone[s] == zone
        us = np.unique(s[m])
        poly = shapely.transform(
            lay.polys[us], lambda xy, z=int(zone): np.column_stack(_to_utm(z, xy[:, 0], xy[:, 1]))
        )
        px, py = _to_utm(int(zone), lay.vx[v[m]], lay.vy[v[m]])
        out[m] = shapely.distance(poly[np.searchsorted(us, s[m])], shapely.points(px, py))
    return out


def _prefilter_pairs(lay: _Layers) -> tuple[np.ndarray, np.ndarray]:
    """Every (school, venue) within PREFILTER m, found in degrees with a safe margin.

    A geodesic of length L moves at most L / 110,570 m degrees of latitude and
    L / (110,570 m * cos(lat)) degrees of longitude (the meridian degree is never
    shorter than 110.57 km), so the lon/lat-space distance of a pair within L
    metres is at most L / (110,570 * cos(max lat)) degrees; 1 % more covers the
    sub-millimetre difference between a lon/lat-straight and a geodesic edge.
    """
    import shapely

    margin = 1.01 * PREFILTER / (110_570.0 * np.cos(np.radians(min(lay.max_lat + 0.1, 89.0))))
    tree = shapely.STRtree(shapely.points(lay.vx, lay.vy))
    s, v = tree.query(lay.polys, predicate="dwithin", distance=margin)
    return s.astype(np.int64), v.astype(np.int64)


def _pair_edges(lay: _Layers, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (pair index, segment index) for every edge of every pair's school."""
    count = lay.seg_count[s]
    pair = np.repeat(np.arange(len(s)), count)
    first = np.repeat(np.cumsum(count) - count, count)
    seg = np.repeat(lay.seg_start[s], count) + (np.arange(len(pair)) - first)
    return pair, seg


def _foot(lay: _Layers, s: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair index, segment index, planar foot fraction) of the edges near each pair's venue."""
    pair, seg = _pair_edges(lay, s)
    d = np.empty(len(pair))
    frac = np.empty(len(pair))
    zone = lay.zone[s[pair]]
    for z in np.unique(zone):
        m = zone == z
        ax, ay = _to_utm(int(z), lay.seg_a[seg[m], 0], lay.seg_a[seg[m], 1])
        bx, by = _to_utm(int(z), lay.seg_b[seg[m], 0], lay.seg_b[seg[m], 1])
        px, py = _to_utm(int(z), lay.vx[v[pair[m]]], lay.vy[v[pair[m]]])
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        frac[m] = t
        d[m] = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    nearest = np.full(len(s), np.inf)
    np.minimum.at(nearest, pair, d)
    keep = d <= nearest[pair] + EDGE_SLACK
    return pair[keep], seg[keep], frac[keep]


def _sample_min(
    geod: Any,
    vlon: np.ndarray,
    vlat: np.ndarray,
    alon: np.ndarray,
    alat: np.ndarray,
    az: np.ndarray,
    length: np.ndarray,
    lo: np.ndarray,
    step: float,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Min over arc lengths lo + k*step (k < n, clipped to the edge) of Geod.inv to the venue."""
    arc = np.clip(lo[:, None] + step * np.arange(n)[None, :], 0.0, length[:, None])
    rep = arc.shape[1]
    lon, lat, _ = geod.fwd(
        np.repeat(alon, rep), np.repeat(alat, rep), np.repeat(az, rep), arc.ravel()
    )
    _, _, dist = geod.inv(np.repeat(vlon, rep), np.repeat(vlat, rep), lon, lat)
    dist = dist.reshape(-1, rep)
    best = np.argmin(dist, axis=1)
    rows = np.arange(len(best))
    return dist[rows, best], arc[rows, best]


def _geodesic_min(lay: _Layers, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Exact ellipsoidal distance (m) from venue to outline for pairs outside the polygon."""
    geod = _geod()
    pair, seg, frac = _foot(lay, s, v)
    best = np.full(len(s), np.inf)
    n_coarse = round(2 * COARSE_HALF / COARSE_STEP) + 1
    n_fine = round(2 * COARSE_STEP / FINE_STEP) + 1
    for start in range(0, len(pair), CHUNK_ROWS):
        p = pair[start : start + CHUNK_ROWS]
        a = lay.seg_a[seg[start : start + CHUNK_ROWS]]
        b = lay.seg_b[seg[start : start + CHUNK_ROWS]]
        az, _, length = geod.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
        vlon, vlat = lay.vx[v[p]], lay.vy[v[p]]
        centre = frac[start : start + CHUNK_ROWS] * length
        args = (geod, vlon, vlat, a[:, 0], a[:, 1], az, length)
        _, arc = _sample_min(*args, centre - COARSE_HALF, COARSE_STEP, n_coarse)
        d, _ = _sample_min(*args, arc - COARSE_STEP, FINE_STEP, n_fine)
        np.minimum.at(best, p, d)
    return best


def _npts_min(lay: _Layers, school: int, venue: int, step: float = 0.5) -> float:
    """Reference brute force: the whole outline densified with Geod.npts (Python loop)."""
    geod = _geod()
    first, count = lay.seg_start[school], lay.seg_count[school]
    pts = []
    for a, b in zip(
        lay.seg_a[first : first + count], lay.seg_b[first : first + count], strict=True
    ):
        _, _, length = geod.inv(a[0], a[1], b[0], b[1])
        pts.append(a[None, :])
        n = int(np.ceil(length / step)) - 1
        if n > 0:
            pts.append(np.asarray(geod.npts(a[0], a[1], b[0], b[1], n)))
    xy = np.concatenate(pts)
    _, _, d = geod.inv(
        np.full(len(xy), lay.vx[venue]), np.full(len(xy), lay.vy[venue]), xy[:, 0], xy[:, 1]
    )
    return float(d.min())


def geodesic_truth(
    schools: Any, venues: Any, reported: np.ndarray, *, seed: int = 0
) -> dict[str, Any]:
    """Pairs within DIST on the WGS 84 ellipsoid, as keys school * n_venues + venue.

    Parameters
    ----------
    reported
        Keys of every pair any method reported (measured too, whatever their distance).
    """
    lay = _Layers(schools, venues)
    nv = len(venues)
    s, v = _prefilter_pairs(lay)
    keys = np.union1d(s * nv + v, reported)
    s, v = keys // nv, keys % nv
    planar = _planar_distance(lay, s, v)
    brute = np.abs(planar - DIST) <= BRUTE_WINDOW
    exact = np.full(len(keys), np.nan)
    exact[brute] = _geodesic_min(lay, s[brute], v[brute])

    # check 1: the UTM bound, on the brute-forced pairs and a sample of settled ones
    rng = np.random.default_rng(seed)
    settled = np.flatnonzero(~brute & (planar > 0.0) & (planar <= PREFILTER))
    spot = rng.choice(settled, size=min(2_000, len(settled)), replace=False)
    spot_exact = _geodesic_min(lay, s[spot], v[spot])
    measured = np.concatenate([planar[brute] - exact[brute], planar[spot] - spot_exact])
    utm_err = float(np.abs(measured).max()) if len(measured) else 0.0
    if utm_err > UTM_BOUND:
        raise RuntimeError(
            f"UTM distance off by {utm_err:.3f} m > {UTM_BOUND} m: truth argument broken"
        )
    # check 2: the windowed search against full-outline Geod.npts densification
    sample = rng.choice(np.flatnonzero(brute), size=min(100, int(brute.sum())), replace=False)
    full = np.array([_npts_min(lay, int(s[i]), int(v[i])) for i in sample])
    window_gap = full - exact[sample]  # >= 0 up to 1e-9: the full search is coarser
    if len(sample) and (window_gap.min() < -1e-6 or window_gap.max() > 2e-4):
        raise RuntimeError(f"windowed brute force disagrees with Geod.npts: {window_gap}")

    inside = np.where(brute, exact <= DIST, planar <= DIST - BRUTE_WINDOW)
    return {
        "keys": keys[inside],
        "brute_keys": keys[brute],
        "brute_exact": exact[brute],
        "candidates": int(np.count_nonzero((planar <= PREFILTER) | np.isin(keys, reported))),
        "utm_max_error": utm_err,
        "utm_checked": len(measured),
        "npts_checked": len(sample),
        "npts_max_gap": float(np.abs(window_gap).max()) if len(sample) else 0.0,
    }


# ----------------------------------------------------------------------------- report


def result_row(
    r: dict[str, Any], label: str, nv: int, truth: dict[str, Any], base: float | None
) -> dict[str, Any]:
    """One method's table row: its timings, and its pairs checked against the geodesic truth."""
    found = np.unique(_keys(r, nv))
    return {
        "label": label,
        "load": r["load"],
        "prepare": r["prepare"],
        "query": r["query"],
        "total": r["total"],
        "rss_mib": r["vmhwm_kib"] / 1024,
        "pairs": len(found),
        "fp": len(np.setdiff1d(found, truth["keys"], assume_unique=True)),
        "fn": len(np.setdiff1d(truth["keys"], found, assume_unique=True)),
        "ratio": f"{r['total'] / base:.2f}" if base else "n/a",
    }


def _keys(result: dict[str, Any], nv: int) -> np.ndarray:
    return result["school"] * nv + result["venue"]


def _table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| method | load s | prepare s | query s | total s | peak RSS MiB | pairs found "
        "| false pos | false neg | total / UTM |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['load']:.2f} | {r['prepare']:.2f} | {r['query']:.2f} "
            f"| {r['total']:.2f} | {r['rss_mib']:.0f} | {r['pairs']:,} | {r['fp']:,} "
            f"| {r['fn']:,} | {r['ratio']} |"
        )
    return "\n".join(lines)


def _revision() -> str:
    """Commit of the checkout under test, with "+dirty" when campus_geo has local changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            check=False,
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "campus_geo"],
            check=False,
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def _campus_geo_error(r: dict[str, Any], nv: int, truth: dict[str, Any]) -> tuple[float, int]:
    """Largest |distance_m - truth| over the brute-forced pairs campus_geo reported, and their count."""
    keys = _keys(r, nv)
    pos = np.searchsorted(truth["brute_keys"], keys)
    pos = np.minimum(pos, max(len(truth["brute_keys"]) - 1, 0))
    hit = (truth["brute_keys"][pos] == keys) if len(truth["brute_keys"]) else keys < 0
    err = np.abs(r["distance"][hit] - truth["brute_exact"][pos[hit]])
    return (float(err.max()) if len(err) else float("nan")), int(hit.sum())


def readme_block(
    runs: list[dict[str, dict[str, Any]]],
    *,
    truth_pairs: int,
    utm_max_error: float,
    campus_geo_error: tuple[float, int] | None,
    cores: int | None,
) -> str:
    """The README's table and its sentences (section "Speed and exactness ...").

    Parameters
    ----------
    runs
        One dict per run: method -> its ``result_row`` (plus ``rss_mib``).
    truth_pairs
        Pairs within DIST on the ellipsoid.
    utm_max_error
        Largest |UTM - ellipsoidal| distance over the exactly measured pairs.
    campus_geo_error
        (largest |distance_m - truth|, pairs compared), or None without campus_geo.
    """
    methods = [m for m in METHODS if m in runs[0]]
    ran = readme.runs_text(len(runs)) + (" in a row" if len(runs) > 1 else "")
    lines = [
        f"Measured on this project's {cores}-core machine, {ran}:",
        "",
        f"| method ({DIST:g} m) | total s | peak RSS MiB | pairs found | false pos | false neg "
        "| total / UTM |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for method in methods:
        rows = [run[method] for run in runs]

        def cell(fmt: str, key: str, rows: list[dict[str, Any]] = rows) -> str:
            return readme.spread([format(r[key], fmt) for r in rows], " / ")

        lines.append(
            f"| {METHOD_LABELS[method]} | {cell('.2f', 'total')} | {cell(',.0f', 'rss_mib')} "
            f"| {cell(',', 'pairs')} | {cell(',', 'fp')} | {cell(',', 'fn')} "
            f"| {cell('', 'ratio')} |"
        )
    text = "Total = reading the GeoParquet files + preparing + querying."
    if campus_geo_error is not None:
        worst, compared = campus_geo_error
        text += (
            f" campus_geo's largest distance error over the {compared:,} brute-forced pairs it "
            f"reported is {readme.sci(worst)}\u00a0m."
        )
    if "merc" in runs[0]:
        missed = max(run["merc"]["fn"] for run in runs)
        text += (
            f" The Web-Mercator buffer misses {100 * missed / max(truth_pairs, 1):.0f}\u00a0% "
            "of the pairs"
        )
        text += ";" if "utm" in runs[0] else "."
    if "utm" in runs[0]:
        wrong = max(run["utm"]["fp"] + run["utm"]["fn"] for run in runs)
        utm = " UTM" if "merc" in runs[0] else " The UTM join"
        pairs = "pair" if wrong == 1 else "pairs"
        text += (
            f"{utm} gets {wrong:,} {pairs} wrong (its scale error reaches "
            f"{utm_max_error:.2f}\u00a0m at {DIST:g}\u00a0m)."
        )
    text += " See `benchmarks/README.md`."
    return "\n".join([*lines, "", readme.wrap(text, 81)])


def _run(args: argparse.Namespace) -> tuple[str, str]:
    """The full report and the README block."""
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown method(s) {', '.join(sorted(unknown))}; choose from {METHODS}")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise SystemExit("GeoParquet needs pyarrow: .venv/bin/pip install pyarrow") from None
    schools_path, venues_path = data_paths(args.schools, args.venues, args.seed)
    if args.regenerate or not (schools_path.exists() and venues_path.exists()):
        print(f"generating {args.schools:,} schools x {args.venues:,} venues (seed {args.seed})")
        t = time.perf_counter()
        _spawn(
            {
                "method": "generate",
                "n_schools": args.schools,
                "n_venues": args.venues,
                "seed": args.seed,
            }
        )
        print(f"  written to {schools_path.parent} in {time.perf_counter() - t:.1f} s")

    runs: list[dict[str, dict[str, Any]]] = []
    for run in range(args.repeat):
        results: dict[str, dict[str, Any]] = {}
        for method in methods:
            spec = run_spec(
                method, schools_path, venues_path, profile=args.profile and method == "campus_geo"
            )
            _spawn(spec)
            out = spec["result"]
            timings = json.loads(Path(out + ".json").read_text())
            with np.load(out + ".npz") as z:
                timings.update({k: z[k] for k in z.files})
            results[method] = timings
            print(
                f"  {method} (run {run + 1}/{args.repeat}): {timings['total']:.2f} s, "
                f"{timings['vmhwm_kib'] / 1024:.0f} MiB"
            )
        runs.append(results)

    import geopandas as gpd

    schools = gpd.read_parquet(schools_path)
    venues = gpd.read_parquet(venues_path)
    nv = len(venues)
    t = time.perf_counter()
    reported = np.unique(np.concatenate([_keys(r, nv) for rs in runs for r in rs.values()]))
    truth = geodesic_truth(schools, venues, reported, seed=args.seed)
    truth_s = time.perf_counter() - t

    rows = []
    run_rows: list[dict[str, dict[str, Any]]] = []
    for run, results in enumerate(runs, start=1):
        base = results.get("utm", {}).get("total")
        run_rows.append({})
        for method, r in results.items():
            label = METHOD_LABELS[method] + (f" (run {run})" if len(runs) > 1 else "")
            row = result_row(r, label, nv, truth, base)
            rows.append(row)
            run_rows[-1][method] = row
            if r["rows"] != row["pairs"]:
                print(f"  note: {method} returned {r['rows'] - row['pairs']} duplicate rows")
    notes = []
    cg_error = None
    if "campus_geo" in methods:
        errors = [_campus_geo_error(results["campus_geo"], nv, truth) for results in runs]
        cg_error = (max(e[0] for e in errors), max(e[1] for e in errors))
        verdict = "OK" if cg_error[0] < 0.01 else "FAIL (must be < 0.01 m)"
        notes.append(
            f"- campus_geo max |distance_m - truth| over the {cg_error[1]:,} brute-forced pairs "
            f"it reported: {cg_error[0]:.2e} m ({verdict})"
        )
    placement = venues["placement"].value_counts()
    header = (
        f"## screen benchmark: {len(schools):,} schools x {nv:,} venues, seed {args.seed}, "
        f"dist {DIST:g} m\n\n"
        f"campus_geo at {_revision()}; {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; "
        f"venues by placement: " + ", ".join(f"{k} {v:,}" for k, v in placement.items()) + "\n\n"
    )
    footer = "\n".join(
        [
            "",
            f"- truth: {len(truth['keys']):,} pairs within {DIST:g} m on the WGS 84 ellipsoid, "
            f"from {truth['candidates']:,} candidates (UTM <= {PREFILTER:g} m or reported); "
            f"{len(truth['brute_keys']):,} pairs "
            f"within {BRUTE_WINDOW} m of {DIST:g} m (planar UTM) brute-forced on the ellipsoid "
            f"({truth_s:.1f} s)",
            f"- checks: max |UTM - ellipsoidal| over {truth['utm_checked']:,} exactly measured "
            f"pairs {truth['utm_max_error']:.3f} m (< {UTM_BOUND} m asserted); windowed vs "
            f"full-outline Geod.npts on {truth['npts_checked']} pairs: max gap "
            f"{truth['npts_max_gap']:.1e} m",
            *notes,
            "- peak RSS: VmHWM of the method's own process (imports + data + work)",
            "",
        ]
    )
    block = readme_block(
        run_rows,
        truth_pairs=len(truth["keys"]),
        utm_max_error=truth["utm_max_error"],
        campus_geo_error=cg_error,
        cores=os.cpu_count(),
    )
    return header + _table(rows) + "\n" + footer, block


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=1_000)
    parser.add_argument("--venues", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHODS), help=f"subset of {METHODS}")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the cached data")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of every method, one after the other (the README shows --repeat 2)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile campus_geo's query (stats to stdout)"
    )
    readme.add_arguments(parser, "screen_bench")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(json.loads(args.child))
        return
    report, block = _run(args)
    print()
    print(report)
    print(readme.framed("screen_bench", block))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tag = f"{args.schools}x{args.venues}_seed{args.seed}"
    for name in ("screen_bench.md", f"screen_bench_{tag}.md"):
        (OUT_DIR / name).write_text(report + "\n" + readme.framed("screen_bench", block) + "\n")
    if args.readme:
        readme.write_block(args.readme_path, "screen_bench", block)


if __name__ == "__main__":
    main()
