"""Candidate pairs and their measure: the heart of the screening engine.

One spatial-index query per longitude band and (profile, distance) group finds
every candidate pair; the nearest points are found in the band's transverse
Mercator (on coordinate arrays for point hazards, by GEOS for the others) and
measured on the WGS 84 ellipsoid (see :mod:`campus_geo.geodesy`). Large
screenings run in blocks on worker threads (:mod:`campus_geo.engine.parallel`).
No Python loop runs per school or per pair.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import shapely

if TYPE_CHECKING:
    import pyproj

from campus_geo._validate import value_codes
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine.findings import END_COLUMNS, FrameTexts, str_array
from campus_geo.engine.ids import fnv1a64, id_hash
from campus_geo.engine.parallel import available_workers, run_chunks
from campus_geo.engine.pointindex import PointIndex
from campus_geo.geodesy import (
    SegmentGrids,
    band_crs,
    band_of,
    band_transformers,
    degrees_margin,
    geocentric,
    geodesic_distance,
    nearest_ends,
    nearest_on_segments,
    outline_segments,
    project,
    segment_grids,
)
from campus_geo.rules import Rule, RuleTable, adhoc_rules, categories_of, rule_table
from campus_geo.settings import CATEGORIES, PROFILES, SCHOOL_KINDS

__all__ = [
    "ALL_PROFILES",
    "CHUNK_PAIRS",
    "PLANE_PAIRS_PER_POINT",
    "STRAIGHT_PROFILES",
    "Context",
    "Group",
    "GroupPlan",
    "Hazards",
    "Setup",
    "Sources",
    "block_cuts",
    "entrance_geometries",
    "group_plans",
    "hazard_arrays",
    "hazard_columns",
    "merge_groups",
    "planned_blocks",
    "prepare_hazards",
    "prepare_setup",
    "resolve_rules",
    "sampled_counts",
    "school_bands",
    "school_sources",
    "screen_block",
    "screen_blocks",
    "screen_group",
    "screening_categories",
    "sorted_pairs",
    "straight_profiles",
    "with_planes",
]

IntArray = npt.NDArray[np.int64]
#: The `profile` value that runs every profile and marks the findings whose verdict depends on it.
ALL_PROFILES: Final = "all"


@dataclass(frozen=True)
class Group:
    """The rules of one (profile, distance) pair: measured together."""

    profile: str
    distance_m: float
    rules: tuple[Rule, ...]


def screening_categories(
    rules: Sequence[Rule] | str | Path | None, categories: CategoryRegistry | None
) -> tuple[RuleTable, CategoryRegistry]:
    """The rule table of a screening, read once, and its hazard categories.

    The categories are `categories` when given, else the table's (the default
    ones and those its TOML file adds); every category a rule names is one of them.
    """
    table = rule_table(rules)
    if categories is None:
        return table, categories_of(table)
    return table, categories.with_keys(r.category for r in table)


#: Profiles measured in straight lines, from a school's outline or its gates (not walk).
STRAIGHT_PROFILES: Final = ("boundary", "entrance")


def straight_profiles(
    rules: Sequence[Rule] | str | Path | None,
    profile: str | None,
    dist: float | None,
    categories: list[str],
    context: Collection[str] = (),
) -> set[str]:
    """The straight-line profiles the resolved rules of `categories` measure by.

    What the schools' sources are projected for before the hazards are known
    (:func:`campus_geo.engine.columns.read_school_input`). ``"all"`` profiles: none
    yet (its rules are expanded later, and their groups project what they need).
    """
    if profile == ALL_PROFILES:
        return set()
    resolved = resolve_rules(rules, profile, dist, categories, context)
    return {r.profile for r in resolved} & set(STRAIGHT_PROFILES)


def resolve_rules(
    rules: Sequence[Rule] | str | Path | None,
    profile: str | None,
    dist: float | None,
    categories: list[str],
    context: Collection[str] = (),
) -> list[Rule]:
    """The rules of a screening: the table given (or the default), `profile` and `dist` applied.

    An inside rule keeps its profile (it is decided on the campus outline).
    The rules of the `context` categories (water, traffic points, cameras:
    context for the analyses, not problems) are left out, and `dist` makes
    no rule for them.
    """
    if profile is not None and profile not in (*PROFILES, ALL_PROFILES):
        msg = f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)} or all"
        raise ValueError(msg)
    base = rule_table(rules)
    if context:
        skip = frozenset(context)
        categories = [c for c in categories if c not in skip]
        base = RuleTable((r for r in base if r.category not in skip), categories=base.categories)
    if dist is not None:
        return adhoc_rules(categories, dist, profile=profile or "boundary", base=base)
    if profile is not None:
        return RuleTable(
            (r if r.inside else Rule(**{**r.__dict__, "profile": profile}) for r in base),  # type: ignore[arg-type]
            categories=base.categories,
        )
    return base


def rule_groups(rules: list[Rule]) -> list[Group]:
    keyed: dict[tuple[str, float], list[Rule]] = {}
    for rule in rules:
        keyed.setdefault((rule.profile, rule.distance_m), []).append(rule)
    return [Group(p, d, tuple(rs)) for (p, d), rs in sorted(keyed.items())]


def entrance_geometries(
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
class Hazards:
    """Per-screening arrays of the hazards layer, computed once.

    Points are indexed by their coordinates (:class:`~campus_geo.engine.pointindex.PointIndex`,
    no GEOS object per venue); other geometries (sites, water areas) by an STRtree.
    """

    geoms: npt.NDArray[np.object_]  # by hazard position: shapely geometry (None or empty: points)
    point_xy: npt.NDArray[np.float64]  # lon/lat of point hazards, NaN for the others
    category: npt.NDArray[np.integer[Any]]  # position in `categories`
    points: PointIndex
    others: shapely.STRtree | None
    other_rows: npt.NDArray[np.int64]  # hazard position of each geometry in `others`
    categories: tuple[str, ...] = CATEGORIES  # the category of each code
    #: each point in the projection of its own band, and that band (NaN, -1: not a point),
    #: when made (:func:`with_planes`): a pair whose school lies in that band takes them
    plane: npt.NDArray[np.float64] | None = None
    plane_band: npt.NDArray[np.int16] | None = None
    #: each point's geocentric x, y, z (3, n) (NaN: not a point), made with the planes:
    #: a pair takes them instead of computing them again (geodesy.geodesic_distance)
    xyz: npt.NDArray[np.float64] | None = None

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
    categories: Sequence[str] = CATEGORIES,
) -> Hazards:
    """Index the hazards: their points by coordinates, the other geometries in an STRtree.

    `points`: the index of `point_xy` when it is built already; `categories`: the
    category of each code of `category`.
    """
    other_rows = np.flatnonzero(np.isnan(point_xy[:, 0]))
    others = shapely.STRtree(geoms[other_rows]) if len(other_rows) else None
    if points is None:
        points = PointIndex(point_xy[:, 0], point_xy[:, 1])
    return Hazards(geoms, point_xy, category, points, others, other_rows, tuple(categories))


def prepare_hazards(hazards: gpd.GeoDataFrame, categories: Sequence[str] = CATEGORIES) -> Hazards:
    """Index a validated hazards layer for the candidate queries.

    `categories`: the category keys of the screening (every category of `hazards` among them).
    """
    geoms, point_xy, codes = hazard_columns(hazards, categories)
    return hazard_arrays(geoms, point_xy, codes, categories=categories)


def hazard_columns(
    hazards: gpd.GeoDataFrame, categories: Sequence[str] = CATEGORIES
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.float64], npt.NDArray[np.integer[Any]]]:
    """A validated hazards layer's geometries, point coordinates (NaN: not a point), category codes."""
    geoms = np.asarray(hazards.geometry.values, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    # a layer of points: their coordinates (5 million: 0.27 s, their bounds 0.41 s)
    point_xy = shapely.get_coordinates(geoms) if is_point.all() else None
    if point_xy is None or len(point_xy) != len(geoms):  # other types, or an empty point
        # a point's bounds are its coordinates: keep them, NaN for other geometry types
        bounds = shapely.bounds(geoms)
        point_xy = np.where(is_point[:, None], bounds[:, :2], np.nan)
    # queried with each school's box grown by the rule distance in degrees: no hazard is
    # projected before it is a candidate
    return geoms, point_xy, value_codes(hazards["category"], categories)


#: Candidate pairs per point from which each point is projected once, into its own band,
#: instead of once for each pair it is in. The dense district of the scale benchmark (7
#: candidates a venue) spends 0.1 CPU-s instead of 0.4 on projecting venues, 2.5 % of
#: its run; a province has about one candidate a venue and would gain nothing.
PLANE_PAIRS_PER_POINT: Final = 2.0

#: Points projected per task of :func:`with_planes`.
_PLANE_CHUNK: Final = 1 << 18


def with_planes(haz: Hazards, pairs: int, workers: int) -> Hazards:
    """`haz` with its points projected into their own bands, when `pairs` make it pay.

    `pairs`: about how many candidate pairs the screening will measure. Below
    :data:`PLANE_PAIRS_PER_POINT` per point (or without points) `haz` is returned as
    it is. A pair takes these coordinates when its school lies in the point's band
    (nearly all); the others are projected per pair as before. Either way the
    coordinates are the same transformation of the same numbers, bit for bit.
    """
    lon, lat = haz.point_xy[:, 0], haz.point_xy[:, 1]
    n = len(lon)
    if haz.plane is not None or not n or pairs < PLANE_PAIRS_PER_POINT * n:
        return haz
    plane = np.full((n, 2), np.nan)
    plane_band = np.full(n, -1, dtype=np.int16)  # band indices are below 720
    xyz = np.full((3, n), np.nan)
    cuts = [*range(0, n, _PLANE_CHUNK), n]

    def task(i: int) -> None:
        rows = np.arange(cuts[i], cuts[i + 1])
        rows = rows[~np.isnan(lon[rows])]
        if not len(rows):  # sites and water areas only
            return
        xyz[0, rows], xyz[1, rows], xyz[2, rows] = geocentric(lon[rows], lat[rows])
        band = band_of(lon[rows])
        order = np.argsort(band, kind="stable")
        rows, band = rows[order], band[order]
        starts = np.flatnonzero(np.r_[True, band[1:] != band[:-1]])
        for a, b in itertools.pairwise([*starts.tolist(), len(rows)]):
            at = rows[a:b]
            forward = band_transformers(int(band[a]))[0]
            plane[at, 0], plane[at, 1] = forward.transform(lon[at], lat[at])
            plane_band[at] = band[a]

    for _ in run_chunks(task, len(cuts) - 1, workers=workers):
        pass
    return replace(haz, plane=plane, plane_band=plane_band, xyz=xyz)


@dataclass(frozen=True)
class Context:
    """What every chunk of a screening reads: school and hazard arrays, id hashes."""

    haz: Hazards
    school_kind: npt.NDArray[np.int64]
    bands: npt.NDArray[np.int64]
    school_hash: npt.NDArray[np.uint64]
    hazard_hash: npt.NDArray[np.uint64]
    rule_hash: npt.NDArray[np.uint64]
    workers: int
    #: Input position of each hazard, when the hazard arrays are stored in another order
    #: (campus_geo.stream stores them in index order); ties in distance go by it.
    hazard_rank: npt.NDArray[np.signedinteger[Any]] | None = None


@dataclass(frozen=True)
class Sources:
    """Where the schools are measured from, projected once into each school's band."""

    projected: npt.NDArray[np.object_]  # each school's geometry in its band's projection
    areal: npt.NDArray[np.bool_]
    offsets: npt.NDArray[np.int64]  # segments of school i: rows offsets[i]:offsets[i + 1]
    segments: npt.NDArray[np.float64]
    grids: SegmentGrids  # the segments laid out for nearest_on_segments
    #: the segments' ends in lon/lat, (2 * len(segments), 2): a nearest point that is an
    #: end is taken from here, exactly, instead of being projected back
    vertices: npt.NDArray[np.float64]
    vertex_xyz: npt.NDArray[np.float64]  # their geocentric x, y, z, (3, 2 * len(segments))
    bands: IntArray  # the band each school was projected into
    lonlat: npt.NDArray[np.object_]  # each school's geometry as given (lon/lat)
    #: each areal school's box in its band's projection (xmin, ymin, xmax, ymax), (n, 4);
    #: NaN for a school with no inside (a point, a line)
    boxes: npt.NDArray[np.float64]
    #: each segment's bow, (5, len(segments)): lon, lat and geocentric x, y, z of the point
    #: halfway along it in the plane, as ``2 (a + b) - 4 m`` of its ends a, b and that point
    #: m; NaN where the parabola strays by more than :data:`BOW_TOLERANCE_M` (see
    #: :func:`along_segments`)
    bows: npt.NDArray[np.float64]


#: How far (metres) a point placed along a segment by the segment's bow may be from the
#: point projected back (:func:`along_segments`), at a quarter and three quarters of the
#: segment: one whose parabola strays more is projected back point by point. Near 0.21 and
#: 0.79, where a cubic stray is largest, it is a little more: the tests hold every point
#: within twice this, the README's 0.2 um.
BOW_TOLERANCE_M: Final = 1e-7

#: Metres in a degree of latitude at most (111,694 m at the poles), or of longitude times the
#: cosine of the latitude (111,320 m at the equator): strays in degrees as metres.
_DEG_M: Final = 111_700.0


def project_sources(src: npt.NDArray[np.object_], bands: npt.NDArray[np.int64]) -> Sources:
    projected = np.empty(len(src), dtype=object)
    for band in np.unique(bands):
        rows = np.flatnonzero(bands == band)
        projected[rows] = project(src[rows], band_crs(int(band)))
    areal = np.isin(shapely.get_type_id(projected), [3, 6])
    shapely.prepare(projected[areal])
    offsets, segments = outline_segments(projected)
    grids = segment_grids(offsets, segments)
    # the same outline in lon/lat: project() moves coordinates, so the segments line up
    _, lonlat = outline_segments(src)
    vertices = lonlat.reshape(-1, 2)
    xyz = np.array(geocentric(vertices[:, 0], vertices[:, 1]))
    boxes = shapely.bounds(projected)
    boxes[~areal] = np.nan
    bows = _segment_bows(segments, np.repeat(bands, np.diff(offsets)), vertices, xyz)
    return Sources(
        projected, areal, offsets, segments, grids, vertices, xyz, bands, src, boxes, bows
    )


def _segment_bows(
    segments: npt.NDArray[np.float64],
    bands: IntArray,
    vertices: npt.NDArray[np.float64],
    xyz: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The :attr:`Sources.bows` of planar `segments` in `bands`, ends `vertices` (lon/lat), `xyz`."""

    def back(t: float) -> npt.NDArray[np.float64]:  # (5, n): the points at t, projected back
        x = segments[:, 0] + t * (segments[:, 2] - segments[:, 0])
        y = segments[:, 1] + t * (segments[:, 3] - segments[:, 1])
        out = np.empty((5, len(segments)))
        for band in np.unique(bands):
            rows = np.flatnonzero(bands == band)
            out[0, rows], out[1, rows] = band_transformers(int(band))[1].transform(x[rows], y[rows])
        out[2:] = geocentric(out[0], out[1])
        return out

    ends = np.concatenate([vertices.T, xyz])  # (5, 2 * len(segments)): each segment's two
    a, b = ends[:, 0::2], ends[:, 1::2]
    bows: npt.NDArray[np.float64] = 2 * (a + b) - 4 * back(0.5)
    # the parabola's largest strays are near t = 0.21 and 0.79 (a cubic's): checked at a
    # quarter and three quarters, in metres (degrees of latitude, of longitude at that
    # latitude, and geocentric)
    stray = np.zeros(len(segments))
    for t in (0.25, 0.75):
        fit = a + t * (b - a) + t * (t - 1.0) * bows
        off = np.abs(fit - back(t))
        off[0] *= _DEG_M * np.cos(np.radians(a[1]))
        off[1] *= _DEG_M
        stray = np.maximum(stray, np.nanmax(off, axis=0))
    bows[:, ~(stray <= BOW_TOLERANCE_M)] = np.nan
    return bows


def along_segments(
    src: Sources, segment: IntArray, t: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], IntArray]:
    """Lon/lat and geocentric x, y, z of the points at `t` along the planar `segment` rows.

    A point inside a school's segment in the band's plane, the nearest point to a
    venue, was projected back to lon/lat and then made geocentric: 0.97 s of the
    dense district's 3.1 s of measuring on one thread (line profile; about five
    million such points), 0.39 s this way. Along a segment both are smooth in `t`,
    and the segment's ends and middle fix them: ``a + t (b - a) + t (t - 1) bow`` is
    the parabola through the three. It strays from the point projected back by a
    third derivative's term, of order L^3 / R^2 (0.4 um for a segment of 1 km at
    34 N, 11 um at 80 N): a segment whose parabola strays by more than
    :data:`BOW_TOLERANCE_M` at a quarter or three quarters of its length is not bowed
    (``tests/test_geodesy.py``). Returns (n, 2) lon/lat, (3, n) x, y, z, and the
    positions of the points on a segment without a bow (their rows NaN: projected
    back by the caller).
    """
    bow = src.bows.take(segment, axis=1)  # (5, n)
    first = 2 * segment
    a = np.concatenate([src.vertices.take(first, axis=0).T, src.vertex_xyz.take(first, axis=1)])
    b = np.concatenate(
        [src.vertices.take(first + 1, axis=0).T, src.vertex_xyz.take(first + 1, axis=1)]
    )
    b -= a
    b *= t
    a += b
    bow *= t * (t - 1.0)
    a += bow
    return np.ascontiguousarray(a[:2].T), a[2:], np.flatnonzero(np.isnan(a[0]))


#: Relative bound on how much a band's transverse Mercator (scale 1 on its central meridian)
#: stretches lengths near a school: 1 + x^2 / (2 rho nu) < 1 + 1e-4 up to x = 90 km from the
#: central meridian, at any latitude, and a band reaches 28 km plus the school and the rule
#: distance. A geodesic is never shorter than its chord in the plane divided by this factor.
_MAX_SCALE: Final = 1.0 + 1e-4


def _plane_xy(
    haz: Hazards, h: IntArray, band: int, xy: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The points `h` (lon/lat `xy`) in the projection of `band`."""
    forward = band_transformers(band)[0]
    if haz.plane is None or haz.plane_band is None:
        x, y = forward.transform(xy[:, 0], xy[:, 1])
        return x, y
    plane = haz.plane.take(h, axis=0)
    other = np.flatnonzero(haz.plane_band[h] != band)  # a point of another band
    if len(other):
        plane[other, 0], plane[other, 1] = forward.transform(xy[other, 0], xy[other, 1])
    return plane[:, 0], plane[:, 1]


def _measure_points(
    src: Sources,
    s: IntArray,
    xy: npt.NDArray[np.float64],
    plane: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    inverse: pyproj.Transformer,
    limit: float,
    xyz: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Distance and ends of pairs of a school (positions `s`) and a point (lon/lat `xy`).

    `plane`: the points in the band's projection (:func:`_plane_xy`); `xyz`: their
    geocentric coordinates (3, n) when made already (:attr:`Hazards.xyz`). See
    :func:`_measure_band`. Every pair is measured, those surely farther than `limit`
    too (27 % of the dense district's candidates, 30 % of the province's: the corners
    of the schools' query boxes, venues just beyond the distance): selecting the others
    copies seven columns of them into fresh arrays, which cost as much as measuring the
    far ones saved (the dense district: 1.01x the time, 8 paired runs). Only their
    nearest points inside a segment are left in the plane (an index of them is all
    that is selected).
    """
    lon, lat = xy[:, 0], xy[:, 1]
    x, y = plane
    qx, qy, vertex, segment, t = nearest_on_segments(
        x, y, s, src.offsets, src.segments, grids=src.grids, along=True
    )
    # only a point within its school's box can be inside the school, and most candidates
    # lie around their school, not over it: those within the box alone go to GEOS (a call
    # a pair: 14 % of the dense district's measuring when every pair went, 5 % now)
    box = src.boxes.take(s, axis=0)  # NaN for a school without an inside: False below
    inside = x >= box[:, 0]
    inside &= x <= box[:, 2]
    inside &= y >= box[:, 1]
    inside &= y <= box[:, 3]
    inside[inside] = shapely.contains_xy(src.projected[s[inside]], x[inside], y[inside])
    dx, dy = qx - x, qy - y
    dx *= dx
    dy *= dy
    dx += dy  # squared planar distance
    reach = limit * _MAX_SCALE + 1e-3
    far = dx > reach * reach
    far &= ~inside
    # a nearest point at a corner of the outline (most of them) is that corner in lon/lat;
    # only points inside a segment are projected back
    # (and so are its geocentric coordinates, made once per screening), and not those
    # of far pairs, whose ends are NaN below (23 % of the dense district's 5.6 million):
    # they keep the first corner of their own school, a line short enough for the series
    # of geodesic_distance (a corner of another school far away went to GeographicLib)
    ends = np.empty((len(s), 4))
    corner = np.where(vertex < 0, 2 * src.offsets.take(s), vertex)
    ends[:, :2] = src.vertices.take(corner, axis=0)
    school_xyz = src.vertex_xyz.take(corner, axis=1)
    along = np.flatnonzero((vertex < 0) & ~far)
    if len(along):
        lonlat, inner_xyz, long = along_segments(src, segment[along], t[along])
        if len(long):  # on a segment without a bow (a long one): projected back
            back = along[long]
            lonlat[long, 0], lonlat[long, 1] = inverse.transform(qx[back], qy[back])
            inner_xyz[:, long] = geocentric(lonlat[long, 0], lonlat[long, 1])
        ends[along, :2] = lonlat
        school_xyz[:, along] = inner_xyz
    ends[:, 2] = lon
    ends[:, 3] = lat
    # a venue inside the campus: both ends are the venue itself (distance 0 exactly); the
    # masks made positions once, not read again by each assignment
    inner = np.flatnonzero(inside)
    ends[inner, :2] = xy[inner]
    if xyz is not None:
        school_xyz[:, inner] = xyz[:, inner]
    elif len(inner):
        school_xyz[:, inner] = geocentric(xy[inner, 0], xy[inner, 1])
    distance = geodesic_distance(
        ends[:, 0], ends[:, 1], lon, lat, geocentric1=school_xyz, geocentric2=xyz
    )
    beyond = np.flatnonzero(far)
    distance[beyond] = np.inf
    ends[beyond] = np.nan
    return distance, ends


def _measure_band(
    src: Sources,
    s: IntArray,
    h: IntArray,
    haz: Hazards,
    band: int,
    limit: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Ellipsoidal distance and end points (lon/lat) of candidate pairs of one band.

    Pairs with a point hazard take the coordinate path (nearest point on the
    school's outline segments, computed in numpy); other hazards go through GEOS
    ``shortest_line``. Both find the nearest points in the band's transverse
    Mercator; the distance between them is measured on the ellipsoid. A point
    pair whose planar distance exceeds `limit` times :data:`_MAX_SCALE` is surely
    farther than `limit` on the ellipsoid: it gets distance inf and NaN ends.
    """
    inverse = band_transformers(band)[1]
    distance = np.empty(len(s))
    ends = np.empty((len(s), 4))
    xy = haz.point_xy.take(h, axis=0)
    point = ~np.isnan(xy[:, 0])
    if point.all():  # (most chunks) no boolean copies of every column
        plane = _plane_xy(haz, h, band, xy)
        xyz = None if haz.xyz is None else haz.xyz.take(h, axis=1)
        distance, ends = _measure_points(src, s, xy, plane, inverse, limit, xyz)
    elif point.any():
        hp, xp = h[point], xy[point]
        xyz = None if haz.xyz is None else haz.xyz.take(hp, axis=1)
        distance[point], ends[point] = _measure_points(
            src, s[point], xp, _plane_xy(haz, hp, band, xp), inverse, limit, xyz
        )
    if not point.all():
        other = ~point
        crs = band_crs(band)
        uniq, where = np.unique(h[other], return_inverse=True)
        shapes = project(haz.geoms[uniq], crs)[where]
        distance[other], ends[other] = nearest_ends(src.projected[s[other]], shapes, crs)
    return distance, ends


def _rule_lookup(
    group: Group, rule_pos: dict[str, int], categories: tuple[str, ...]
) -> list[npt.NDArray[np.int64]]:
    """Tables [kind code, category code] -> rule position (-1: none); one table per overlap.

    A rule of a category no hazard has (not among `categories`) finds nothing.
    """
    tables: list[npt.NDArray[np.int64]] = []
    for rule in group.rules:
        if rule.category not in categories:
            continue
        c = categories.index(rule.category)
        for kind in rule.kinds:
            k = SCHOOL_KINDS.index(kind)
            table = next((t for t in tables if t[k, c] < 0), None)
            if table is None:
                table = np.full((len(SCHOOL_KINDS), len(categories)), -1, dtype=np.int64)
                tables.append(table)
            table[k, c] = rule_pos[rule.id]
    return tables


#: Candidate pairs measured per step. Arrays of a few hundred thousand rows stay in the
#: CPU caches and in memory the allocator reuses; arrays of millions of rows are fresh
#: mappings whose page faults cost more than the arithmetic (measured at 5 million pairs:
#: a third of the run was system time, and one sort of all pairs took 4 s).
CHUNK_PAIRS = 1 << 18

#: The room :func:`screen_blocks` makes for its findings, a multiple of the candidate
#: pairs it estimates: rows never written are never touched, so room to spare costs
#: address space only; too little, a copy of the rows gathered so far.
GATHER_ROOM: Final = 1.25


def _chunk_cuts(sorted_owner: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    """Cut positions of `sorted_owner` into runs of about `size` rows, never inside an owner."""
    n = len(sorted_owner)
    targets = sorted_owner[np.arange(0, n, size)]
    cuts = np.unique(np.searchsorted(sorted_owner, targets, side="left"))
    return np.append(cuts, n).astype(np.int64)


@dataclass(frozen=True)
class GroupPlan:
    """One (profile, distance) group of rules, ready to find candidates for any schools."""

    group: Group
    tables: list[IntArray]  # see _rule_lookup
    #: [kind code, category code]: some rule of the group applies; None: one does to every
    #: kind and category present, so no candidate pair is left out before measuring
    applies: npt.NDArray[np.bool_] | None
    sources: Sources
    eligible: IntArray  # positions of the schools some rule of the group applies to
    boxes: npt.NDArray[np.float64]  # their bounds grown by the distance (minx, miny, maxx, maxy)

    def candidates(self, ctx: Context, lo: int = 0, hi: int | None = None) -> _Candidates:
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

    plan: GroupPlan
    school: IntArray
    hazard: IntArray

    @property
    def group(self) -> Group:
        return self.plan.group

    def measure(self, ctx: Context, rows: slice) -> dict[str, npt.NDArray[Any]]:
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
    group: Group,
    ctx: Context,
    src: npt.NDArray[np.object_],
    sources: Sources,
    rule_pos: dict[str, int],
) -> GroupPlan | None:
    """The schools a group applies to and their boxes grown by its distance (None: no school)."""
    tables = _rule_lookup(group, rule_pos, ctx.haz.categories)
    if not tables:
        return None
    applies = np.any([t >= 0 for t in tables], axis=0)
    eligible = np.flatnonzero(applies.any(axis=1)[ctx.school_kind])
    if not eligible.size:
        return None
    # a rule for every (kind, category) present: no pair to leave out (the pairs'
    # lookup took 53 ms of the dense district's 2.1 s of measuring on one thread)
    kinds = np.bincount(ctx.school_kind[eligible]) > 0
    present = np.bincount(ctx.haz.category, minlength=applies.shape[1]) > 0
    everywhere = bool(applies[: len(kinds)][kinds][:, present].all())
    b = shapely.bounds(src[eligible])
    dlon, dlat = degrees_margin(group.distance_m, b)
    grown = np.column_stack([b[:, 0] - dlon, b[:, 1] - dlat, b[:, 2] + dlon, b[:, 3] + dlat])
    return GroupPlan(group, tables, None if everywhere else applies, sources, eligible, grown)


def _inside_distance(
    src: Sources, s: IntArray, h: IntArray, haz: Hazards, ends: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Distance of the pairs of an inside rule (threshold 0): 0 inside the campus, else inf.

    A venue is inside when its geometry meets the campus polygon as given, in
    lon/lat, boundary included (``shapely.intersects``): a shop whose point lies
    on the campus outline, such as one built into the wall, is inside. The test
    is exact on the input coordinates; the measured distance of a venue on the
    outline, a few micrometres after the projection, is not used. A school
    known only as a point has no inside: nothing is found inside it. The
    measured line of an inside venue is the venue itself (`ends` filled in
    place for a point whose measure found it farther than the tolerance).
    """
    xy = haz.point_xy.take(h, axis=0)
    point = ~np.isnan(xy[:, 0])
    inside = np.zeros(len(s), dtype=bool)
    outline = src.lonlat[s]
    inside[point] = shapely.intersects_xy(outline[point], xy[point, 0], xy[point, 1])
    if not point.all():
        inside[~point] = shapely.intersects(outline[~point], haz.geoms[h[~point]])
    inside &= src.areal[s]
    lost = inside & point & np.isnan(ends[:, 0])
    ends[lost] = np.column_stack([xy[lost], xy[lost]])
    return np.where(inside, 0.0, np.inf)


def screen_group(cand: _Candidates, ctx: Context) -> dict[str, npt.NDArray[Any]]:
    """The pairs of one (profile, distance) group, ordered by school, rule, distance, hazard."""
    # chunks of whole schools, in school order: each chunk sorted on its own keeps the order
    cuts = _chunk_cuts(cand.school, CHUNK_PAIRS)

    def task(i: int) -> dict[str, npt.NDArray[Any]]:
        return cand.measure(ctx, slice(cuts[i], cuts[i + 1]))

    # the measured lines are made from the ends when needed (adapters.geopandas.LineEnds)
    capacity = len(cand.school) * len(cand.plan.tables)  # a pair finds one row per table
    return _gathered(run_chunks(task, len(cuts) - 1, workers=ctx.workers), capacity)


def sampled_counts(plans: list[GroupPlan], haz: Hazards, n_schools: int) -> IntArray:
    """About how many candidate pairs each school has, from a sample of the schools.

    The candidates are counted from above without being visited (see PointIndex.count).
    """
    counts = np.zeros(n_schools, dtype=np.int64)
    for plan in plans:
        # every 8th school's count stands for the next seven's too: blocks of thousands
        # of schools come out about as even, for an eighth of the binary searches
        sample = np.arange(0, len(plan.eligible), 8)
        counts[plan.eligible[sample]] += 8 * haz.count(plan.boxes[sample])
    return counts


def planned_blocks(setup: Setup, plans: list[GroupPlan]) -> tuple[Setup, IntArray, int]:
    """The block cuts of a screening, its setup for measuring them, and its pairs.

    The cuts are :func:`block_cuts`; the pairs: about how many candidate pairs the
    blocks will measure (:func:`sampled_counts`).

    With many candidate pairs a point (a dense district) the setup's points are
    projected once into their bands (:func:`with_planes`).
    """
    n_schools = len(setup.ctx.school_kind)
    counts = sampled_counts(plans, setup.ctx.haz, n_schools)
    cuts = block_cuts(plans, setup.ctx.haz, n_schools, CHUNK_PAIRS, counts)
    pairs = int(counts.sum())
    haz = with_planes(setup.ctx.haz, pairs, setup.ctx.workers)
    return replace(setup, ctx=replace(setup.ctx, haz=haz)), cuts, pairs


def block_cuts(
    plans: list[GroupPlan],
    haz: Hazards,
    n_schools: int,
    size: int,
    counts: IntArray | None = None,
) -> IntArray:
    """School positions cutting the schools into blocks of about `size` candidate pairs.

    `counts`: the :func:`sampled_counts` of the schools, when made already.
    """
    if counts is None:
        counts = sampled_counts(plans, haz, n_schools)
    cum = np.cumsum(counts)
    targets = np.arange(size, int(cum[-1]) if n_schools else 0, size)
    cuts = np.unique(np.searchsorted(cum, targets, side="right"))
    inner = cuts[(cuts > 0) & (cuts < n_schools)]
    return np.concatenate([[0], inner, [n_schools]]).astype(np.int64)


def screen_block(setup: Setup, plans: list[GroupPlan], lo: int, hi: int) -> dict[str, Any]:
    """The findings of schools lo:hi for every rule group, merged in findings order."""
    found = []
    for plan in plans:
        cand = plan.candidates(setup.ctx, lo, hi)
        if len(cand.school):
            pairs = cand.measure(setup.ctx, slice(None))
            if len(pairs["_rule"]):
                pairs["_note"] = setup.note_codes[plan.group.profile][pairs["_school"]]
                found.append(pairs)
    if len(found) > 1:
        return merge_groups(found, len(setup.rules))
    return found[0] if found else {}


def screen_blocks(
    setup: Setup,
    plans: list[GroupPlan],
    *,
    texts: FrameTexts | None = None,
    positions: bool = True,
) -> dict[str, Any]:
    """The pairs of straight-line groups (not walk) for every school, in findings order.

    The schools are cut into blocks of about :data:`CHUNK_PAIRS` candidate pairs
    (counted from above, :func:`block_cuts`); each block queries its own candidates
    and measures them for every group on a worker thread (:func:`screen_block`), so
    the candidate query runs in parallel too and no array of every candidate is made.

    `texts`: the pairs are for a findings table (``findings_frame``): each block
    also takes its text columns (:meth:`FrameTexts.take`: chunked Arrow arrays, and
    codes of the categoricals) on its worker, and the ends come as the four columns
    :data:`END_COLUMNS` too (the table's own, besides the measured lines' ends),
    copied in while the workers measure rather than after them.

    `positions`: with `texts`, False leaves out what only a merge with other groups'
    pairs needs (the school and hazard positions, the note codes and the (n, 4) ends):
    the table's lines are then made on its coordinate columns
    (:meth:`~campus_geo.adapters.geopandas.LineEnds.of_columns`), and 7 million findings
    copy 0.4 GB less.
    """
    setup, cuts, candidates = planned_blocks(setup, plans)
    # room for the findings (a pair finds a row per table), from the sampled count of the
    # candidates: counting every school's took 0.30 s of a province's 50,000, on one core
    # before the blocks started; a quarter more, and _gathered moves them if it is short
    tables = max((len(plan.tables) for plan in plans), default=1)
    capacity = int(GATHER_ROOM * candidates * tables) + CHUNK_PAIRS
    if texts is not None:  # put in position order when the blocks take many a hazard
        texts = texts.in_position_order(candidates)

    def task(i: int) -> dict[str, npt.NDArray[Any]]:
        part = screen_block(setup, plans, int(cuts[i]), int(cuts[i + 1]))
        if texts is not None and part:
            for j, name in enumerate(END_COLUMNS):
                part[name] = part["ends"][:, j]
            part.update(texts.take(part, setup.ctx.haz.category))
            if not positions:
                for name in ("_school", "_hazard", "_note", "ends"):
                    del part[name]
                # a rule's position in a byte or two, not eight
                part["_rule"] = part["_rule"].astype(np.min_scalar_type(len(setup.rules)))
        return part

    pairs = _gathered(run_chunks(task, len(cuts) - 1, workers=setup.ctx.workers), capacity)
    if texts is not None and pairs:
        pairs.update(texts.constant(len(pairs["_rule"])))
        pairs.update(texts.coded(pairs))
    return pairs


def _gathered(parts: Iterator[dict[str, Any]], capacity: int) -> dict[str, Any]:
    """One table of the chunks' tables, each copied in as it arrives.

    The copying overlaps the workers' measuring of the next chunks (a concatenation
    at the end took 1.1 s of 7 million findings, alone); the columns are allocated
    for `capacity` rows at the first chunk, and the pages of rows never written are
    never touched (nor resident). More rows than `capacity` (an estimate) move the
    columns to twice the room. Arrow columns are not copied: they are chunked.
    """
    out: dict[str, npt.NDArray[Any]] = {}
    arrow: dict[str, list[pa.Array]] = {}
    filled = 0
    for part in parts:
        if not part:
            continue
        if not out:
            out = {
                k: np.empty((max(capacity, 1), *v.shape[1:]), v.dtype)
                for k, v in part.items()
                if isinstance(v, np.ndarray)
            }
            arrow = {k: [] for k, v in part.items() if not isinstance(v, np.ndarray)}
        rows = len(part["_rule"])
        room = len(next(iter(out.values()))) if out else filled + rows
        if filled + rows > room:
            room = max(2 * room, filled + rows)
            for key, values in out.items():
                grown = np.empty((room, *values.shape[1:]), values.dtype)
                grown[:filled] = values[:filled]
                out[key] = grown
        for key, values in part.items():
            if key in arrow:
                arrow[key].append(values)
            else:
                out[key][filled : filled + rows] = values
        filled += rows
    return {
        **{key: values[:filled] for key, values in out.items()},
        **{key: pa.chunked_array(chunks) for key, chunks in arrow.items()},
    }


def _screen_chunk(
    ctx: Context,
    group: Group,
    tables: list[npt.NDArray[np.int64]],
    applies: npt.NDArray[np.bool_] | None,
    src: Sources,
    s: npt.NDArray[np.int64],
    h: npt.NDArray[np.int64],
) -> dict[str, npt.NDArray[Any]]:
    """Measure the candidate pairs (s, h) of some schools; keep those within the distance."""
    haz = ctx.haz
    if applies is not None:  # pairs of a kind and category no rule of the group covers
        relevant = applies[ctx.school_kind[s], haz.category[h]]
        if not relevant.all():
            s, h = s[relevant], h[relevant]
    # measured band by band: sort the pairs by their school's band once
    # (band indices are below 720: numpy's stable sort of uint16 is a radix sort)
    pair_band = ctx.bands[s]
    if len(s) and (pair_band != pair_band[0]).any():  # most chunks lie in one band
        by_band = np.argsort(pair_band.astype(np.uint16), kind="stable")
        s, h, pair_band = s[by_band], h[by_band], pair_band[by_band]
    bounds = [0, *(np.flatnonzero(np.diff(pair_band)) + 1).tolist(), len(s)] if len(s) else []
    distance = np.empty(len(s))
    ends = np.empty((len(s), 4))
    for i, j in itertools.pairwise(bounds):
        distance[i:j], ends[i:j] = _measure_band(
            src, s[i:j], h[i:j], haz, int(pair_band[i]), group.distance_m
        )
    if group.distance_m == 0.0:
        distance = _inside_distance(src, s, h, haz, ends)
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
    return sorted_pairs(
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


def sorted_pairs(
    pairs: dict[str, npt.NDArray[Any]],
    n_rules: int,
    hazard_rank: npt.NDArray[np.signedinteger[Any]] | None = None,
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
        # members of tied runs: a row tied with the next, or with the one before (a mask,
        # not a sort of both lists: the dense district's blocks have thousands of ties)
        member = np.zeros(len(k), dtype=bool)
        member[:-1] = tied
        member[1:] |= tied
        slots = np.flatnonzero(member)
        run = np.cumsum(np.r_[True, ~tied])[slots]  # one number per run of equal (k, d)
        members = order[slots]
        rank = pairs["_hazard"][members]
        if hazard_rank is not None:
            rank = hazard_rank[rank]
        # by run, then by hazard: one sort of a key of both (a hazard is once in a run)
        # rather than lexsort's two, when the key fits in 63 bits (it always does below
        # two billion hazards)
        span = int(rank.max()) + 1
        fits = span * (int(run[-1]) + 1) < 1 << 63
        by_run = np.argsort(run * span + rank) if fits else np.lexsort((rank, run))
        order[slots] = members[by_run]
    return {name: values.take(order, axis=0) for name, values in pairs.items()}


def merge_groups(
    groups: list[dict[str, npt.NDArray[Any]]], n_rules: int
) -> dict[str, npt.NDArray[Any]]:
    """One pairs table from the sorted tables of several (profile, distance) groups."""
    if any("geometry" in g for g in groups):
        # walk groups carry their routes: the straight groups' lines are made to join them
        for g in groups:
            if "geometry" not in g:
                g["geometry"] = shapely.linestrings(g["ends"].reshape(-1, 2, 2))
    keys = set.intersection(*(set(g) for g in groups))  # walk groups have no "_id" yet
    merged = {key: np.concatenate([g[key] for g in groups]) for key in keys}
    # a (school, rule) pair belongs to one group, whose rows are already in order: a stable
    # sort on it merges the sorted runs
    order = np.argsort(merged["_school"] * n_rules + merged["_rule"], kind="stable")
    return {key: values.take(order, axis=0) for key, values in merged.items()}


@dataclass
class Setup:
    """A screening's schools, hazards and rules, prepared for measuring."""

    ctx: Context
    rules: list[Rule]
    outline: npt.NDArray[np.object_]
    gates: npt.NDArray[np.object_]
    note_codes: dict[str, IntArray]  # each school's note (into NOTE_TEXTS) by profile
    sources: dict[str, Sources]  # by kind ("outline", "gates"), projected when first needed


def prepare_setup(
    schools: gpd.GeoDataFrame,
    haz: Hazards,
    hazard_hash: npt.NDArray[np.uint64],
    rule_list: list[Rule],
    entrances: gpd.GeoDataFrame | None,
    workers: int | None,
    hazard_rank: npt.NDArray[np.signedinteger[Any]] | None = None,
    sources: dict[str, Sources] | None = None,
) -> Setup:
    """Prepare validated schools (and entrances) and indexed hazards for measuring.

    `hazard_rank`: see :attr:`Context.hazard_rank`; `sources`: those of
    :func:`school_sources`, when made already.
    """
    school_kind = pd.Categorical(schools["kind"], categories=SCHOOL_KINDS).codes.astype(np.int64)
    is_point = shapely.get_type_id(schools.geometry.values) == 0
    # the bands the given sources were projected into, or the same computed here
    bands = next(iter(sources.values())).bands if sources else school_bands(schools)
    gates, has_entrance = entrance_geometries(schools, entrances)
    point_note = np.where(is_point, 1, 0)
    note_codes = {
        "boundary": point_note,
        "entrance": np.where(has_entrance, 0, np.where(is_point, 1, 2)),
        "walk": np.where(has_entrance, 0, np.where(is_point, 1, 3)),
    }
    ctx = Context(
        haz=haz,
        school_kind=school_kind,
        bands=bands,
        school_hash=fnv1a64(str_array(schools.index)),
        hazard_hash=hazard_hash,
        rule_hash=fnv1a64([rule.id for rule in rule_list]),
        workers=available_workers() if workers is None else max(1, workers),
        hazard_rank=hazard_rank,
    )
    outline = np.asarray(schools.geometry.values, dtype=object)
    return Setup(ctx, rule_list, outline, gates, note_codes, dict(sources or {}))


def school_bands(schools: gpd.GeoDataFrame) -> IntArray:
    """The longitude band (measuring projection) of each school, from a point inside it."""
    reps = shapely.get_coordinates(shapely.point_on_surface(schools.geometry.values))
    return band_of(reps[:, 0])


def _source_kind(profile: str) -> str:
    return "outline" if profile == "boundary" else "gates"


def school_sources(
    schools: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None, profiles: set[str]
) -> dict[str, Sources]:
    """What the rules of these profiles measure from, projected (before the hazards are read)."""
    bands = school_bands(schools)
    out = {}
    for kind in sorted({_source_kind(p) for p in profiles}):
        if kind == "outline":
            src = np.asarray(schools.geometry.values, dtype=object)
        else:
            src = entrance_geometries(schools, entrances)[0]
        out[kind] = project_sources(src, bands)
    return out


def group_plans(setup: Setup) -> Iterator[GroupPlan]:
    """The (profile, distance) groups of the rules that apply to some school, in order."""
    rule_pos = {rule.id: i for i, rule in enumerate(setup.rules)}
    for group in rule_groups(setup.rules):
        kind = _source_kind(group.profile)
        src = setup.outline if kind == "outline" else setup.gates
        if kind not in setup.sources:
            setup.sources[kind] = project_sources(src, setup.ctx.bands)
        plan = _group_plan(group, setup.ctx, src, setup.sources[kind], rule_pos)
        if plan is not None:
            yield plan
