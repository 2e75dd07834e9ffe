"""Screening: which hazards lie within a rule's distance of which school.

``screen(schools, hazards)`` returns the findings: one row per (school,
hazard, rule) whose WGS 84 ellipsoidal distance, measured by the rule's
profile, is at most the rule's threshold. Each finding's geometry is the
measured line between the two nearest points (see geodesy.py for how it is
measured and how exact it is).

The work is vectorised: one spatial-index query per longitude band and
(profile, distance) group, GEOS for the nearest points, GeographicLib for the
ellipsoidal distance. No Python loop runs per school or per pair.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._ids import fnv1a64, id_hash, id_strings
from ._parallel import available_workers, collector_paused, run_chunks
from ._pointindex import PointIndex
from ._validate import validate_entrances, validate_hazards, validate_schools, value_codes
from ._walk import (
    ALL_PROFILE_COLUMNS,
    NOTE_NO_ENTRANCE_WALK,
    expand_all_profiles,
    gate_arrays,
    mark_profile_dependence,
    require_network,
    validate_hazard_entrances,
    walk_pairs,
)
from .geodesy import (
    band_crs,
    band_of,
    band_transformers,
    degrees_margin,
    geodesic_distance,
    nearest_ends,
    nearest_on_segments,
    outline_segments,
    project,
)
from .network import WalkNetwork
from .rules import Rule, adhoc_rules, default_rules, read_rules
from .settings import CATEGORIES, DEFAULT_CRS, PROFILES, SCHOOL_KINDS

__all__ = [
    "ALL_PROFILES",
    "CSV_COLUMNS",
    "FINDING_COLUMNS",
    "finding_ids",
    "save_findings",
    "screen",
]

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]

#: Columns of the findings layer, in order (findings.csv adds the end points).
FINDING_COLUMNS = [
    "school_id",
    "school_name",
    "township",
    "village",
    "hazard_id",
    "hazard_name",
    "category",
    "rule_id",
    "severity",
    "profile",
    "threshold_m",
    "distance_m",
    "basis",
    "lead_units",
    "responsible_units",
    "suggestion",
    "notes",
]

NOTE_POINT_SCHOOL = "校园边界未知，自学校点位量算 (outline unknown: measured from the school point)"
NOTE_NO_ENTRANCE = "无校门数据，自校园边界量算 (no entrance known: measured from the outline)"
NOTE_INSIDE = "位于校园内或紧邻围墙 (inside or touching the campus)"
#: The `profile` value that runs every profile and marks the findings whose verdict depends on it.
ALL_PROFILES = "all"


@dataclass(frozen=True)
class _Group:
    profile: str
    distance_m: float
    rules: tuple[Rule, ...]


def finding_ids(
    school_ids: Sequence[str], hazard_ids: Sequence[str], rule_ids: Sequence[str]
) -> list[str]:
    """Stable ids of findings: 16 hex digits of a 64-bit hash of school, hazard and rule ids.

    Stable across runs, machines and library versions (the hash is defined in
    :mod:`campus_geo._ids`), so a ledger can follow a finding from one monthly
    screening to the next. Vectorised: about 0.1 s per million findings.

    Examples
    --------
    >>> finding_ids(["way/1"], ["node/2"], ["internet_cafe_200m"])
    ['a4145f876b968d84']
    """
    hashes = id_hash(fnv1a64(school_ids), fnv1a64(hazard_ids), fnv1a64(rule_ids))
    return list(id_strings(hashes, check_unique=False))


def _resolve_rules(
    rules: Sequence[Rule] | str | Path | None,
    profile: str | None,
    dist: float | None,
    categories: list[str],
) -> list[Rule]:
    if profile is not None and profile not in (*PROFILES, ALL_PROFILES):
        msg = f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)} or all"
        raise ValueError(msg)
    base = (
        default_rules()
        if rules is None
        else read_rules(rules)
        if isinstance(rules, str | Path)
        else list(rules)
    )
    if dist is not None:
        return adhoc_rules(categories, dist, profile=profile or "boundary", base=base)
    if profile is not None:
        return [
            Rule(**{**r.__dict__, "profile": profile})
            for r in base  # type: ignore[arg-type]
        ]
    return base


def _groups(rules: list[Rule]) -> list[_Group]:
    keyed: dict[tuple[str, float], list[Rule]] = {}
    for rule in rules:
        keyed.setdefault((rule.profile, rule.distance_m), []).append(rule)
    return [_Group(p, d, tuple(rs)) for (p, d), rs in sorted(keyed.items())]


def _entrance_geometries(
    schools: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """MultiPoint of each school's entrances; the outline where none is known."""
    geoms = schools.geometry.values.copy()
    has = np.zeros(len(schools), dtype=bool)
    if entrances is None or len(entrances) == 0:
        return np.asarray(geoms, dtype=object), has
    ent = entrances[entrances["school_id"].isin(schools.index)]
    pos = schools.index.get_indexer(ent["school_id"])
    present, dense = np.unique(pos, return_inverse=True)
    order = np.argsort(dense, kind="stable")
    multi = shapely.multipoints(
        shapely.get_coordinates(ent.geometry.values[order]), indices=dense[order]
    )
    out = np.asarray(geoms, dtype=object)
    out[present] = multi
    has[present] = True
    return out, has


@dataclass(frozen=True)
class _Hazards:
    """Per-screening arrays of the hazards layer, computed once.

    Points are indexed by their coordinates (:class:`~campus_geo._pointindex.PointIndex`,
    no GEOS object per venue); other geometries (sites, water areas) by an STRtree.
    """

    geoms: npt.NDArray[np.object_]  # by hazard position: shapely geometry (None or empty: points)
    point_xy: npt.NDArray[np.float64]  # lon/lat of point hazards, NaN for the others
    category: npt.NDArray[np.integer[Any]]  # position in CATEGORIES
    points: PointIndex
    others: shapely.STRtree | None
    other_rows: npt.NDArray[np.int64]  # hazard position of each geometry in `others`

    def query(self, bounds: npt.NDArray[np.float64]) -> tuple[IntArray, IntArray]:
        """(box, hazard) position pairs whose bounds meet the boxes, sorted by box."""
        box, hazard = self.points.query(bounds)
        if self.others is not None:
            b, h = self.others.query(shapely.box(*bounds.T))
            box, hazard = np.concatenate([box, b]), np.concatenate([hazard, self.other_rows[h]])
            order = np.argsort(box, kind="stable")
            box, hazard = box[order], hazard[order]
        return box, hazard

    def count(self, bounds: npt.NDArray[np.float64]) -> IntArray:
        """About how many hazards meet each box (an upper bound for the points; for planning)."""
        counts = self.points.count(bounds)
        if self.others is not None:
            b, _ = self.others.query(shapely.box(*bounds.T))
            counts += np.bincount(b, minlength=len(bounds))
        return counts


def hazard_arrays(
    geoms: npt.NDArray[np.object_],
    point_xy: npt.NDArray[np.float64],
    category: npt.NDArray[np.integer[Any]],
    points: PointIndex | None = None,
) -> _Hazards:
    """Index the hazards: their points by coordinates, the other geometries in an STRtree.

    `points`: the index of `point_xy` when it is built already.
    """
    other_rows = np.flatnonzero(np.isnan(point_xy[:, 0]))
    others = shapely.STRtree(geoms[other_rows]) if len(other_rows) else None
    if points is None:
        points = PointIndex(point_xy[:, 0], point_xy[:, 1])
    return _Hazards(geoms, point_xy, category, points, others, other_rows)


def _prepare_hazards(hazards: gpd.GeoDataFrame) -> _Hazards:
    geoms = np.asarray(hazards.geometry.values, dtype=object)
    bounds = shapely.bounds(geoms)
    # a point's bounds are its coordinates: keep them, NaN for other geometry types
    is_point = shapely.get_type_id(geoms) == 0
    point_xy = np.where(is_point[:, None], bounds[:, :2], np.nan)
    # queried with each school's box grown by the rule distance in degrees: no hazard is
    # projected before it is a candidate
    return hazard_arrays(geoms, point_xy, value_codes(hazards["category"], CATEGORIES))


@dataclass(frozen=True)
class _Context:
    """What every chunk of a screening reads: school and hazard arrays, id hashes."""

    haz: _Hazards
    school_kind: npt.NDArray[np.int64]
    bands: npt.NDArray[np.int64]
    school_hash: npt.NDArray[np.uint64]
    hazard_hash: npt.NDArray[np.uint64]
    rule_hash: npt.NDArray[np.uint64]
    workers: int
    #: Input position of each hazard, when the hazard arrays are stored in another order
    #: (campus_geo.stream stores them in index order); ties in distance go by it.
    hazard_rank: IntArray | None = None


@dataclass(frozen=True)
class _Sources:
    """Where the schools are measured from, projected once into each school's band."""

    projected: npt.NDArray[np.object_]  # each school's geometry in its band's projection
    areal: npt.NDArray[np.bool_]
    offsets: npt.NDArray[np.int64]  # segments of school i: rows offsets[i]:offsets[i + 1]
    segments: npt.NDArray[np.float64]
    #: the segments' ends in lon/lat, (2 * len(segments), 2): a nearest point that is an
    #: end is taken from here, exactly, instead of being projected back
    vertices: npt.NDArray[np.float64]
    bands: IntArray  # the band each school was projected into


def _sources(src: npt.NDArray[np.object_], bands: npt.NDArray[np.int64]) -> _Sources:
    projected = np.empty(len(src), dtype=object)
    for band in np.unique(bands):
        rows = np.flatnonzero(bands == band)
        projected[rows] = project(src[rows], band_crs(int(band)))
    areal = np.isin(shapely.get_type_id(projected), [3, 6])
    shapely.prepare(projected[areal])
    offsets, segments = outline_segments(projected)
    # the same outline in lon/lat: project() moves coordinates, so the segments line up
    _, lonlat = outline_segments(src)
    return _Sources(projected, areal, offsets, segments, lonlat.reshape(-1, 2), bands)


#: Relative bound on how much a band's transverse Mercator (scale 1 on its central meridian)
#: stretches lengths near a school: 1 + x^2 / (2 rho nu) < 1 + 1e-4 up to x = 90 km from the
#: central meridian, at any latitude, and a band reaches 28 km plus the school and the rule
#: distance. A geodesic is never shorter than its chord in the plane divided by this factor.
_MAX_SCALE: Final = 1.0 + 1e-4


def _measure_band(
    src: _Sources,
    s: IntArray,
    h: IntArray,
    haz: _Hazards,
    band: int,
    limit: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Ellipsoidal distance and end points (lon/lat) of candidate pairs of one band.

    Pairs with a point hazard take the coordinate path (nearest point on the
    school's outline segments, computed in numpy); other hazards go through GEOS
    ``shortest_line``. Both find the nearest points in the band's transverse
    Mercator; the distance between them is measured on the ellipsoid. A point
    pair whose planar distance exceeds `limit` times :data:`_MAX_SCALE` is surely
    farther than `limit` on the ellipsoid: it gets distance inf and NaN ends,
    without the ellipsoidal measurement (a third of the candidates of a box query).
    """
    forward, inverse = band_transformers(band)
    distance = np.empty(len(s))
    ends = np.empty((len(s), 4))
    xy = haz.point_xy.take(h, axis=0)
    point = ~np.isnan(xy[:, 0])
    if point.any():
        sp = s[point]
        lon, lat = xy[point, 0], xy[point, 1]
        x, y = forward.transform(lon, lat)
        qx, qy, vertex = nearest_on_segments(x, y, sp, src.offsets, src.segments)
        inside = src.areal[sp]
        inside[inside] = shapely.contains_xy(src.projected[sp[inside]], x[inside], y[inside])
        near = inside | (np.hypot(x - qx, y - qy) <= limit * _MAX_SCALE + 1e-3)
        lon, lat, inside, vertex = lon[near], lat[near], inside[near], vertex[near]
        # a nearest point at a corner of the outline (most of them) is that corner in
        # lon/lat; only points inside a segment are projected back
        q = src.vertices.take(np.maximum(vertex, 0), axis=0)
        along = np.flatnonzero(vertex < 0)
        q[along, 0], q[along, 1] = inverse.transform(qx[near][along], qy[near][along])
        # a venue inside the campus: both ends are the venue itself (distance 0)
        qlon, qlat = np.where(inside, lon, q[:, 0]), np.where(inside, lat, q[:, 1])
        rows = np.flatnonzero(point)
        far = rows[~near]
        distance[far], ends[far] = np.inf, np.nan
        rows = rows[near]
        ends[rows] = np.column_stack([qlon, qlat, lon, lat])
        # inside the campus the ends are one point: 0 m without GeographicLib (9 % of the
        # findings of the benchmark's province of 50,000 schools)
        distance[rows[inside]] = 0.0
        out = ~inside
        distance[rows[out]] = geodesic_distance(qlon[out], qlat[out], lon[out], lat[out])
    if not point.all():
        other = ~point
        crs = band_crs(band)
        uniq, where = np.unique(h[other], return_inverse=True)
        shapes = project(haz.geoms[uniq], crs)[where]
        distance[other], ends[other] = nearest_ends(src.projected[s[other]], shapes, crs)
    return distance, ends


def _rule_lookup(group: _Group, rule_pos: dict[str, int]) -> list[npt.NDArray[np.int64]]:
    """Tables [kind code, category code] -> rule position (-1: none); one table per overlap."""
    tables: list[npt.NDArray[np.int64]] = []
    for rule in group.rules:
        c = CATEGORIES.index(rule.category)
        for kind in rule.kinds:
            k = SCHOOL_KINDS.index(kind)
            table = next((t for t in tables if t[k, c] < 0), None)
            if table is None:
                table = np.full((len(SCHOOL_KINDS), len(CATEGORIES)), -1, dtype=np.int64)
                tables.append(table)
            table[k, c] = rule_pos[rule.id]
    return tables


#: Candidate pairs measured per step. Arrays of a few hundred thousand rows stay in the
#: CPU caches and in memory the allocator reuses; arrays of millions of rows are fresh
#: mappings whose page faults cost more than the arithmetic (measured at 5 million pairs:
#: a third of the run was system time, and one sort of all pairs took 4 s).
_CHUNK_PAIRS = 1 << 18


def _chunk_cuts(sorted_owner: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    """Cut positions of `sorted_owner` into runs of about `size` rows, never inside an owner."""
    n = len(sorted_owner)
    targets = sorted_owner[np.arange(0, n, size)]
    cuts = np.unique(np.searchsorted(sorted_owner, targets, side="left"))
    return np.append(cuts, n).astype(np.int64)


@dataclass(frozen=True)
class _GroupPlan:
    """One (profile, distance) group of rules, ready to find candidates for any schools."""

    group: _Group
    tables: list[IntArray]  # see _rule_lookup
    applies: npt.NDArray[np.bool_]  # [kind code, category code]: some rule of the group applies
    sources: _Sources
    eligible: IntArray  # positions of the schools some rule of the group applies to
    boxes: npt.NDArray[np.float64]  # their bounds grown by the distance (minx, miny, maxx, maxy)

    def candidates(self, ctx: _Context, lo: int = 0, hi: int | None = None) -> _Candidates:
        """Hazards whose bounds meet the grown box of schools lo:hi (positions), by school."""
        rows = slice(
            int(np.searchsorted(self.eligible, lo)),
            len(self.eligible) if hi is None else int(np.searchsorted(self.eligible, hi)),
        )
        q_school, h = ctx.haz.query(self.boxes[rows])
        return _Candidates(self, self.eligible[rows][q_school], h)


@dataclass(frozen=True)
class _Candidates:
    """The candidate pairs of one group for some schools, sorted by school position."""

    plan: _GroupPlan
    school: IntArray
    hazard: IntArray

    @property
    def group(self) -> _Group:
        return self.plan.group

    def measure(self, ctx: _Context, rows: slice) -> dict[str, npt.NDArray[Any]]:
        """The findings of candidate rows `rows` (whole schools), in findings order."""
        plan = self.plan
        return _screen_chunk(
            ctx,
            plan.group,
            plan.tables,
            plan.applies,
            plan.sources,
            self.school[rows],
            self.hazard[rows],
        )


def _group_plan(
    group: _Group,
    ctx: _Context,
    src: npt.NDArray[np.object_],
    sources: _Sources,
    rule_pos: dict[str, int],
) -> _GroupPlan | None:
    """The schools a group applies to and their boxes grown by its distance (None: no school)."""
    tables = _rule_lookup(group, rule_pos)
    applies = np.any([t >= 0 for t in tables], axis=0)
    eligible = np.flatnonzero(applies.any(axis=1)[ctx.school_kind])
    if not eligible.size:
        return None
    b = shapely.bounds(src[eligible])
    dlon, dlat = degrees_margin(group.distance_m, b)
    grown = np.column_stack([b[:, 0] - dlon, b[:, 1] - dlat, b[:, 2] + dlon, b[:, 3] + dlat])
    return _GroupPlan(group, tables, applies, sources, eligible, grown)


def _screen_group(cand: _Candidates, ctx: _Context) -> dict[str, npt.NDArray[Any]]:
    """The pairs of one (profile, distance) group, ordered by school, rule, distance, hazard."""
    # chunks of whole schools, in school order: each chunk sorted on its own keeps the order
    cuts = _chunk_cuts(cand.school, _CHUNK_PAIRS)

    def task(i: int) -> dict[str, npt.NDArray[Any]]:
        return cand.measure(ctx, slice(cuts[i], cuts[i + 1]))

    parts = []
    for part in run_chunks(task, len(cuts) - 1, workers=ctx.workers):
        if cand.group.profile != "walk":
            # the measured line, made here while the workers measure the next chunks
            # (GEOS geometries cannot travel between processes without serialising them)
            part["geometry"] = shapely.linestrings(part["ends"].reshape(-1, 2, 2))
        parts.append(part)
    return _concatenated(parts)


def _concatenated(parts: list[dict[str, npt.NDArray[Any]]]) -> dict[str, npt.NDArray[Any]]:
    """One table of the chunks' tables, freeing each chunk column once copied (peak memory)."""
    out: dict[str, npt.NDArray[Any]] = {}
    for key in list(parts[0]) if parts else []:
        out[key] = np.concatenate([p.pop(key) for p in parts])
    return out


def _screen_chunk(
    ctx: _Context,
    group: _Group,
    tables: list[npt.NDArray[np.int64]],
    applies: npt.NDArray[np.bool_],
    src: _Sources,
    s: npt.NDArray[np.int64],
    h: npt.NDArray[np.int64],
) -> dict[str, npt.NDArray[Any]]:
    """Measure the candidate pairs (s, h) of some schools; keep those within the distance."""
    haz = ctx.haz
    relevant = applies[ctx.school_kind[s], haz.category[h]]
    if not relevant.all():
        s, h = s[relevant], h[relevant]
    # measured band by band: sort the pairs by their school's band once
    # (band indices are below 720: numpy's stable sort of uint16 is a radix sort)
    by_band = np.argsort(ctx.bands[s].astype(np.uint16), kind="stable")
    s, h = s[by_band], h[by_band]
    pair_band = ctx.bands[s]
    bounds = [0, *(np.flatnonzero(np.diff(pair_band)) + 1).tolist(), len(s)] if len(s) else []
    distance = np.empty(len(s))
    ends = np.empty((len(s), 4))
    for i, j in itertools.pairwise(bounds):
        distance[i:j], ends[i:j] = _measure_band(
            src, s[i:j], h[i:j], haz, int(pair_band[i]), group.distance_m
        )
    keep = np.flatnonzero(distance <= group.distance_m)
    s, h, distance, ends = s[keep], h[keep], distance[keep], ends.take(keep, axis=0)
    # attach the rule(s) that apply to each pair's (school kind, hazard category)
    k, c = ctx.school_kind[s], haz.category[h]
    rules = [table[k, c] for table in tables]
    hits = [np.flatnonzero(rule >= 0) for rule in rules]
    if len(rules) > 1 or len(hits[0]) < len(s):
        pick = np.concatenate(hits)
        rule = np.concatenate([r[hit] for r, hit in zip(rules, hits, strict=True)])
        s, h, distance, ends = s[pick], h[pick], distance[pick], ends.take(pick, axis=0)
    else:
        rule = rules[0]
    return _sorted_pairs(
        {
            "_school": s,
            "_hazard": h,
            "_rule": rule,
            "_id": id_hash(ctx.school_hash[s], ctx.hazard_hash[h], ctx.rule_hash[rule]),
            "distance_m": distance,
            "ends": ends,
        },
        len(ctx.rule_hash),
        ctx.hazard_rank,
    )


def _sorted_pairs(
    pairs: dict[str, npt.NDArray[Any]], n_rules: int, hazard_rank: IntArray | None = None
) -> dict[str, npt.NDArray[Any]]:
    """The pairs in findings order: school, rule, distance, hazard (positions: deterministic).

    `hazard_rank`: the input position of each hazard position, when they differ.

    Within a (school, rule) a hazard appears once, so the order is total: pairs are sorted
    by distance, then stably by (school, rule), and only the runs of equal distances (a
    few venues inside a campus at 0 m, say) are put in hazard order afterwards; a full
    lexicographic sort of the three keys cost twice as much.
    """
    key = pairs["_school"] * n_rules + pairs["_rule"]
    distance = pairs["distance_m"]
    if len(key) and key.max() - key.min() < 1 << 16:
        # a chunk's keys span few values: numpy's stable sort of uint16 is a radix sort
        key = (key - key.min()).astype(np.uint16)
    order = np.argsort(distance)
    order = order[np.argsort(key[order], kind="stable")]
    k, d = key[order], distance[order]
    tied = (k[1:] == k[:-1]) & (d[1:] == d[:-1])
    if tied.any():
        starts = np.flatnonzero(tied)
        slots = np.unique(np.concatenate([starts, starts + 1]))  # members of tied runs
        run = np.cumsum(np.r_[True, ~tied])[slots]  # one number per run of equal (k, d)
        members = order[slots]
        rank = pairs["_hazard"][members]
        if hazard_rank is not None:
            rank = hazard_rank[rank]
        order[slots] = members[np.lexsort((rank, run))]
    return {name: values.take(order, axis=0) for name, values in pairs.items()}


def _merge_groups(
    groups: list[dict[str, npt.NDArray[Any]]], n_rules: int
) -> dict[str, npt.NDArray[Any]]:
    """One pairs table from the sorted tables of several (profile, distance) groups."""
    keys = set.intersection(*(set(g) for g in groups))  # walk groups have no "_id" yet
    merged = {key: np.concatenate([g[key] for g in groups]) for key in keys}
    # a (school, rule) pair belongs to one group, whose rows are already in order: a stable
    # sort on it merges the sorted runs
    order = np.argsort(merged["_school"] * n_rules + merged["_rule"], kind="stable")
    return {key: values.take(order, axis=0) for key, values in merged.items()}


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str"


def _str_array(values: pd.Series | pd.Index) -> pd.api.extensions.ExtensionArray:
    """Text values as a pandas string array ("" for missing), without a copy when they are one."""
    array: pd.api.extensions.ExtensionArray
    if values.dtype == _STR and not values.hasnans:
        array = values.array
    else:
        array = pd.Series(values).fillna("").astype("str").array
    return array


def _str_column(gdf: gpd.GeoDataFrame, name: str) -> pd.api.extensions.ExtensionArray:
    """A text column as a pandas string array ("" for missing), to be indexed with take."""
    if name not in gdf.columns:
        return pd.array([""] * len(gdf), dtype="str")
    return _str_array(gdf[name])


def _findings_frame(
    pairs: dict[str, npt.NDArray[Any]],
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    category: npt.NDArray[np.integer[Any]],
    note_texts: list[str],
    rules: list[Rule],
) -> gpd.GeoDataFrame:
    """Assemble the findings of pairs in findings order (take by position, no per-row Python).

    ``pairs["_note"]`` indexes `note_texts`.
    """
    s, h, r, distance = pairs["_school"], pairs["_hazard"], pairs["_rule"], pairs["distance_m"]

    def rule_text(values: list[str]) -> pd.Categorical:
        # few distinct texts repeated per finding: a categorical shares them (no copies)
        uniques, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
        return pd.Categorical.from_codes(codes[r], categories=pd.Index(uniques, dtype="str"))

    school_ids = _str_array(schools.index)
    hazard_ids = _str_array(hazards.index)
    note_code, texts = inside_notes(pairs["_note"], distance, note_texts)
    # Arrow's take releases the GIL: the text columns are gathered on two threads while
    # this one makes the ids
    gather = {
        "school_id": (school_ids, s),
        "school_name": (_str_column(schools, "name"), s),
        "township": (_str_column(schools, "township"), s),
        "village": (_str_column(schools, "village"), s),
        "hazard_id": (hazard_ids, h),
        "hazard_name": (_str_column(hazards, "name"), h),
        "category": (pd.array(CATEGORIES, dtype="str"), category[h]),
        "notes": (pd.array(texts, dtype="str"), note_code),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        taken = {name: pool.submit(values.take, rows) for name, (values, rows) in gather.items()}
        if "_id" in pairs:
            hashes = pairs["_id"]
        else:  # walked pairs: hashed here
            hashes = id_hash(
                fnv1a64(school_ids.take(s)),
                fnv1a64(hazard_ids.take(h)),
                fnv1a64([x.id for x in rules])[r],
            )
        index = pd.Index(id_strings(hashes), name="finding_id")
        text = {name: future.result() for name, future in taken.items()}
    ends = pairs["ends"]
    by_rule = rule_texts(rules)
    data = {
        "school_id": text["school_id"],
        "school_name": text["school_name"],
        "township": text["township"],
        "village": text["village"],
        "hazard_id": text["hazard_id"],
        "hazard_name": text["hazard_name"],
        "category": text["category"],
        "rule_id": rule_text(by_rule["rule_id"]),
        "severity": rule_text(by_rule["severity"]),
        "profile": rule_text(by_rule["profile"]),
        "threshold_m": np.array([x.distance_m for x in rules], dtype=np.float64)[r],
        "distance_m": distance,
        "basis": rule_text(by_rule["basis"]),
        "lead_units": rule_text(by_rule["lead_units"]),
        "responsible_units": rule_text(by_rule["responsible_units"]),
        "suggestion": rule_text(by_rule["suggestion"]),
        "notes": text["notes"],
        "school_lon": ends[:, 0],
        "school_lat": ends[:, 1],
        "hazard_lon": ends[:, 2],
        "hazard_lat": ends[:, 3],
    }
    # the measured line; for the walk profile, the route
    lines = (
        pairs["geometry"] if "geometry" in pairs else shapely.linestrings(ends.reshape(-1, 2, 2))
    )
    geometry = gpd.GeoSeries(lines, crs=DEFAULT_CRS, index=index)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=DEFAULT_CRS, index=index)


def rule_texts(rules: list[Rule]) -> dict[str, list[str]]:
    """The text columns a finding takes from its rule: column -> one text per rule."""
    return {
        "rule_id": [x.id for x in rules],
        "severity": [x.severity for x in rules],
        "profile": [x.profile for x in rules],
        "basis": [x.basis for x in rules],
        "lead_units": ["、".join(x.lead_units) for x in rules],
        "responsible_units": ["、".join(x.responsible_units) for x in rules],
        "suggestion": [x.suggestion for x in rules],
    }


def inside_notes(
    note_code: IntArray, distance: npt.NDArray[np.float64], note_texts: list[str]
) -> tuple[IntArray, list[str]]:
    """Note codes and texts, with NOTE_INSIDE added to the notes of venues inside the campus."""
    note_code = note_code.copy()
    texts = list(note_texts)
    inside = distance == 0.0
    for code in np.unique(note_code[inside]):
        texts.append(f"{texts[code]}；{NOTE_INSIDE}" if texts[code] else NOTE_INSIDE)
        note_code[inside & (note_code == code)] = len(texts) - 1
    return note_code, texts


def _empty_findings() -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=float if c.endswith("_m") else object) for c in FINDING_COLUMNS}
    for c in ("school_lon", "school_lat", "hazard_lon", "hazard_lat"):
        cols[c] = pd.Series(dtype=float)
    empty = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=DEFAULT_CRS), crs=DEFAULT_CRS)
    empty.index.name = "finding_id"
    return empty


#: Notes of findings, indexed by the note codes of :class:`_Setup`.
NOTE_TEXTS: Final = ["", NOTE_POINT_SCHOOL, NOTE_NO_ENTRANCE, NOTE_NO_ENTRANCE_WALK]


@dataclass
class _Setup:
    """A screening's schools, hazards and rules, prepared for measuring."""

    ctx: _Context
    rules: list[Rule]
    outline: npt.NDArray[np.object_]
    gates: npt.NDArray[np.object_]
    note_codes: dict[str, IntArray]  # each school's note (into NOTE_TEXTS) by profile
    sources: dict[str, _Sources]  # by kind ("outline", "gates"), projected when first needed


def _setup(
    schools: gpd.GeoDataFrame,
    haz: _Hazards,
    hazard_hash: npt.NDArray[np.uint64],
    rule_list: list[Rule],
    entrances: gpd.GeoDataFrame | None,
    workers: int | None,
    hazard_rank: IntArray | None = None,
    sources: dict[str, _Sources] | None = None,
) -> _Setup:
    """Prepare validated schools (and entrances) and indexed hazards for measuring.

    `hazard_rank`: see :attr:`_Context.hazard_rank`; `sources`: those of
    :func:`_school_sources`, when made already.
    """
    school_kind = pd.Categorical(schools["kind"], categories=SCHOOL_KINDS).codes.astype(np.int64)
    is_point = shapely.get_type_id(schools.geometry.values) == 0
    # the bands the given sources were projected into, or the same computed here
    bands = next(iter(sources.values())).bands if sources else _school_bands(schools)
    gates, has_entrance = _entrance_geometries(schools, entrances)
    point_note = np.where(is_point, 1, 0)
    note_codes = {
        "boundary": point_note,
        "entrance": np.where(has_entrance, 0, np.where(is_point, 1, 2)),
        "walk": np.where(has_entrance, 0, np.where(is_point, 1, 3)),
    }
    ctx = _Context(
        haz=haz,
        school_kind=school_kind,
        bands=bands,
        school_hash=fnv1a64(_str_array(schools.index)),
        hazard_hash=hazard_hash,
        rule_hash=fnv1a64([rule.id for rule in rule_list]),
        workers=available_workers() if workers is None else max(1, workers),
        hazard_rank=hazard_rank,
    )
    outline = np.asarray(schools.geometry.values, dtype=object)
    return _Setup(ctx, rule_list, outline, gates, note_codes, dict(sources or {}))


def _school_bands(schools: gpd.GeoDataFrame) -> IntArray:
    """The longitude band (measuring projection) of each school, from a point inside it."""
    reps = shapely.get_coordinates(shapely.point_on_surface(schools.geometry.values))
    return band_of(reps[:, 0])


def _source_kind(profile: str) -> str:
    return "outline" if profile == "boundary" else "gates"


def _school_sources(
    schools: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None, profiles: set[str]
) -> dict[str, _Sources]:
    """What the rules of these profiles measure from, projected (before the hazards are read)."""
    bands = _school_bands(schools)
    out = {}
    for kind in sorted({_source_kind(p) for p in profiles}):
        if kind == "outline":
            src = np.asarray(schools.geometry.values, dtype=object)
        else:
            src = _entrance_geometries(schools, entrances)[0]
        out[kind] = _sources(src, bands)
    return out


def _group_plans(setup: _Setup) -> Iterator[_GroupPlan]:
    """The (profile, distance) groups of the rules that apply to some school, in order."""
    rule_pos = {rule.id: i for i, rule in enumerate(setup.rules)}
    for group in _groups(setup.rules):
        kind = _source_kind(group.profile)
        src = setup.outline if kind == "outline" else setup.gates
        if kind not in setup.sources:
            setup.sources[kind] = _sources(src, setup.ctx.bands)
        plan = _group_plan(group, setup.ctx, src, setup.sources[kind], rule_pos)
        if plan is not None:
            yield plan


# no cyclic garbage collection meanwhile: a full collection walks every object, and a
# screening creates one per measured line (see collector_paused)
@collector_paused()
def screen(
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    *,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    network: WalkNetwork | None = None,
    hazard_entrances: gpd.GeoDataFrame | None = None,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Find the hazards within each rule's distance of each school.

    Parameters
    ----------
    schools
        Canonical schools layer: index ``school_id``, columns ``name``, ``kind``,
        ``township``, ``village``; geometry the campus outline (Polygon or
        MultiPolygon) or a Point when the outline is unknown. Any CRS.
    hazards
        Canonical hazards layer: index ``hazard_id``, columns ``name``,
        ``category``; any geometry type. Any CRS.
    rules
        Rule table: a list of :class:`~campus_geo.rules.Rule`, a TOML file path,
        or None for the default table.
    profile
        Override every rule's measurement profile (``"boundary"``,
        ``"entrance"`` or ``"walk"``); with `dist`, the profile of the ad-hoc
        rules. ``"all"`` runs every rule under every profile (the rule's own
        profile keeps its rule id, the others are ``<rule id>@<profile>``) and
        adds the columns ``profile_dependent``, ``boundary_m``, ``entrance_m``,
        ``walk_m``: a finding is profile-dependent when the hazard is within
        the threshold under some profiles and not under others (its note says so).
    dist
        Screen every hazard category present at this distance in metres
        (WGS 84 ellipsoid) instead of the rule table's distances.
    entrances
        Points with a ``school_id`` column: the gates used by the ``entrance``
        and ``walk`` profiles. A school with none is measured from its outline (noted).
    network
        The walking network (:func:`campus_geo.network.walk_network_from_osm`),
        needed by the ``walk`` profile: the shortest route on the street graph
        from any gate to the hazard (its entrance if known, else its point
        nearest the gates), with part-edges; its length on the WGS 84
        ellipsoid is the distance and the route is the finding's geometry.
    hazard_entrances
        Points with a ``hazard_id`` column: entrances of venues, used by the
        ``walk`` profile when known.
    workers
        Processes measuring the candidate pairs when there are more than about
        260,000 of them (forked, where the system can fork; see
        ``campus_geo._parallel``). None: one per CPU core available. The
        findings are the same for any number.

    Returns
    -------
    geopandas.GeoDataFrame
        The findings, indexed by ``finding_id``, with the columns
        :data:`FINDING_COLUMNS` plus the end points ``school_lon``,
        ``school_lat``, ``hazard_lon``, ``hazard_lat``; geometry the measured
        line (walk: the route) in EPSG:4326. Distances in metres on the WGS 84
        ellipsoid.

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    >>> bool((findings["distance_m"] <= findings["threshold_m"]).all())
    True
    """
    schools = validate_schools(schools)
    hazards = validate_hazards(hazards)
    if entrances is not None:
        entrances = validate_entrances(entrances)
    categories = sorted(hazards["category"].unique())
    if profile == ALL_PROFILES:
        rule_list, base_of = expand_all_profiles(_resolve_rules(rules, None, dist, categories))
    else:
        rule_list = _resolve_rules(rules, profile, dist, categories)
    walking = any(r.profile == "walk" for r in rule_list)
    net = require_network(network) if walking else None
    if hazard_entrances is not None:
        hazard_entrances = validate_hazard_entrances(hazard_entrances)
    haz = _prepare_hazards(hazards)
    setup = _setup(schools, haz, fnv1a64(_str_array(hazards.index)), rule_list, entrances, workers)
    gates = setup.gates
    found = []
    for plan in _group_plans(setup):
        group = plan.group
        pairs = _screen_group(plan.candidates(setup.ctx), setup.ctx)
        if group.profile == "walk" and pairs:
            assert net is not None
            pairs = _walk_group(pairs, schools, entrances, hazards, hazard_entrances, net, group)
            pairs = _sorted_pairs(pairs, len(rule_list))
        count = len(pairs["_rule"]) if pairs else 0
        log.info(
            "%s profile at %g m: %d findings from %d rules",
            group.profile,
            group.distance_m,
            count,
            len(group.rules),
        )
        if count:
            pairs["_note"] = setup.note_codes[group.profile][pairs["_school"]]
            found.append(pairs)
    if not found:
        findings = _empty_findings()
    else:
        pairs = found[0] if len(found) == 1 else _merge_groups(found, len(rule_list))
        category = haz.category
        del haz, setup  # the spatial index and projected outlines are done with
        findings = _findings_frame(pairs, schools, hazards, category, NOTE_TEXTS, rule_list)
    if profile != ALL_PROFILES:
        return findings

    def walk(s: npt.NDArray[np.int64], h: npt.NDArray[np.int64], limits: Any) -> Any:
        assert net is not None
        return _walk_distances(s, h, limits, schools, entrances, hazards, hazard_entrances, net)

    return mark_profile_dependence(
        findings,
        base_of,
        outline=np.asarray(schools.geometry.values, dtype=object),
        gates=gates,
        schools_index=schools.index,
        hazards=hazards,
        walk=walk,
    )


def _walk_group(
    pairs: dict[str, npt.NDArray[Any]],
    schools: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None,
    hazards: gpd.GeoDataFrame,
    hazard_entrances: gpd.GeoDataFrame | None,
    network: WalkNetwork,
    group: _Group,
) -> dict[str, npt.NDArray[Any]]:
    """Walk the straight-line candidates of one (walk, distance) group on the network."""
    gate_school, gate_xy = gate_arrays(schools, entrances)
    if hazard_entrances is not None and len(hazard_entrances):
        he = hazard_entrances[hazard_entrances["hazard_id"].isin(hazards.index)]
        he_pos = hazards.index.get_indexer(he["hazard_id"]).astype(np.int64)
        he_xy = shapely.get_coordinates(he.geometry.values)
    else:
        he_pos, he_xy = np.empty(0, dtype=np.int64), np.empty((0, 2))
    return walk_pairs(
        pairs,
        n_schools=len(schools),
        gate_school=gate_school,
        gate_xy=gate_xy,
        hazard_gate_hazard=he_pos,
        hazard_gate_xy=he_xy,
        network=network,
        limit=group.distance_m,
    )


def _walk_distances(
    s: npt.NDArray[np.int64],
    h: npt.NDArray[np.int64],
    limits: npt.NDArray[np.float64],
    schools: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None,
    hazards: gpd.GeoDataFrame,
    hazard_entrances: gpd.GeoDataFrame | None,
    network: WalkNetwork,
) -> npt.NDArray[np.float64]:
    """Walking distance of (school, hazard) position pairs, up to `limits` (inf beyond)."""
    src, _ = _entrance_geometries(schools, entrances)
    out = np.full(len(s), np.inf)
    for limit in np.unique(limits):
        rows = np.flatnonzero(limits == limit)
        group = _Group("walk", float(limit), ())
        cand = {
            "_school": s[rows],
            "_hazard": h[rows],
            "_rule": rows,
            "ends": _pair_ends(src[s[rows]], np.asarray(hazards.geometry.values)[h[rows]]),
        }
        walked = _walk_group(cand, schools, entrances, hazards, hazard_entrances, network, group)
        out[walked["_rule"]] = walked["distance_m"]
    return out


def _pair_ends(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    """Lon/lat end points of the nearest points of each pair (measured in band projections)."""
    reps = shapely.get_coordinates(shapely.point_on_surface(a))
    bands = band_of(reps[:, 0])
    ends = np.empty((len(a), 4))
    for band in np.unique(bands):
        mask = bands == band
        crs = band_crs(int(band))
        _, ends[mask] = nearest_ends(project(a[mask], crs), project(b[mask], crs), crs)
    return ends


#: Columns of findings.csv, in order (other tools read them by name).
CSV_COLUMNS = [
    "finding_id",
    *FINDING_COLUMNS,
    "school_lon",
    "school_lat",
    "hazard_lon",
    "hazard_lat",
]


def save_findings(findings: gpd.GeoDataFrame, dirpath: str | Path) -> dict[str, Path]:
    """Write findings.csv (UTF-8 with BOM, for Excel) and findings.gpkg into `dirpath`.

    Distances are written to the millimetre, end points to 7 decimals (~1 cm).

    Returns
    -------
    dict
        ``{"csv": path, "gpkg": path}``.
    """
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(findings.drop(columns="geometry")).reset_index()
    # profile="all" adds its comparison columns after the fixed ones
    extra = [c for c in ALL_PROFILE_COLUMNS if c in table.columns]
    table = table.reindex(columns=[*CSV_COLUMNS, *extra])
    for c in extra[1:]:
        table[c] = table[c].round(3)
    table["distance_m"] = table["distance_m"].round(3)
    for c in ("school_lon", "school_lat", "hazard_lon", "hazard_lat"):
        table[c] = table[c].round(7)
    csv_path = out / "findings.csv"
    table.to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    gpkg_path = out / "findings.gpkg"
    if gpkg_path.exists():
        gpkg_path.unlink()
    layer = findings.reset_index()
    if layer.empty:
        layer = _empty_findings().reset_index()
    layer.to_file(gpkg_path, layer="findings", driver="GPKG", engine="pyogrio")
    log.info("wrote %d findings to %s and %s", len(findings), csv_path, gpkg_path)
    return {"csv": csv_path, "gpkg": gpkg_path}
