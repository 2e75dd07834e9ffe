"""Building blocks of the demo district: a local frame, an OSM store and geodesic distances.

Private to :mod:`campus_geo.demo`. The demo district is laid out in a local
metric frame (x east, y north, metres around lon 113.85, lat 34.05), but every
node is stored with its WGS 84 coordinates rounded to 7 decimals, and the metric
position of a node is always recomputed from the rounded coordinates, so what is
written is exactly what the geometry checks saw. Distances that are written to
files (the planted pairs) are measured on the WGS 84 ellipsoid with
``pyproj.Geod``, never in the local frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final
from xml.sax.saxutils import quoteattr

import numpy as np
import numpy.typing as npt
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

__all__ = [
    "GEOD",
    "XY",
    "LonLat",
    "OsmStore",
    "geodesic_fwd",
    "min_geodesic_distance",
    "snap_to_lattice",
    "to_lonlat",
    "to_xy",
]

XY = tuple[float, float]
LonLat = tuple[float, float]
FloatArray = npt.NDArray[np.float64]

GEOD: Final = Geod(ellps="WGS84")
LON0: Final = 113.85
LAT0: Final = 34.05
_A: Final = 6378137.0
_E2: Final = 0.00669437999014
_W: Final = math.sqrt(1.0 - _E2 * math.sin(math.radians(LAT0)) ** 2)
#: metres per degree of latitude / longitude at LAT0 on the WGS 84 ellipsoid
M_PER_DEG_LAT: Final = math.pi / 180.0 * _A * (1.0 - _E2) / _W**3
M_PER_DEG_LON: Final = math.pi / 180.0 * _A * math.cos(math.radians(LAT0)) / _W
_STEP_DEG: Final = 1e-7  # the coordinate lattice of the written file (7 decimals)
_COARSE_M: Final = 1.0
_FINE_M: Final = 0.01


def to_lonlat(xy: XY) -> LonLat:
    """Convert local metres to WGS 84 lon/lat rounded to 7 decimals."""
    return (round(LON0 + xy[0] / M_PER_DEG_LON, 7), round(LAT0 + xy[1] / M_PER_DEG_LAT, 7))


def to_xy(lonlat: LonLat) -> XY:
    """Convert WGS 84 lon/lat (degrees) to local metres (equirectangular at LAT0)."""
    return ((lonlat[0] - LON0) * M_PER_DEG_LON, (lonlat[1] - LAT0) * M_PER_DEG_LAT)


def geodesic_fwd(start: LonLat, azimuth: float, dist: float) -> tuple[LonLat, float]:
    """Walk ``dist`` metres from ``start`` along ``azimuth`` (degrees) on WGS 84.

    Returns the end point (not rounded) and the forward azimuth at the end point.
    """
    lon, lat, back = GEOD.fwd(start[0], start[1], azimuth, dist)
    return (float(lon), float(lat)), (float(back) + 180.0) % 360.0


@dataclass
class Way:
    """An OSM way: node ids and tags."""

    nodes: list[int]
    tags: dict[str, str]


@dataclass
class Relation:
    """An OSM relation: (type, ref, role) members and tags."""

    members: list[tuple[str, int, str]]
    tags: dict[str, str]


@dataclass
class OsmStore:
    """Nodes, ways and relations with deterministic positive ids, written as OSM XML 0.6."""

    lonlat: dict[int, LonLat] = field(default_factory=dict)
    xy: dict[int, XY] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: dict[int, Way] = field(default_factory=dict)
    relations: dict[int, Relation] = field(default_factory=dict)
    next_ids: dict[str, int] = field(
        default_factory=lambda: {"node": 1_000_001, "way": 2_000_001, "relation": 3_000_001}
    )

    def _take(self, kind: str) -> int:
        ident = self.next_ids[kind]
        self.next_ids[kind] = ident + 1
        return ident

    def node(self, xy: XY, tags: Mapping[str, str] | None = None) -> int:
        """Add a node at local metres ``xy``; return its id."""
        return self.node_ll(to_lonlat(xy), tags)

    def node_ll(self, lonlat: LonLat, tags: Mapping[str, str] | None = None) -> int:
        """Add a node at WGS 84 ``lonlat`` (rounded to 7 decimals); return its id."""
        ident = self._take("node")
        rounded = (round(lonlat[0], 7), round(lonlat[1], 7))
        self.lonlat[ident] = rounded
        self.xy[ident] = to_xy(rounded)
        if tags:
            self.node_tags[ident] = dict(tags)
        return ident

    def way(self, nodes: Sequence[int], tags: Mapping[str, str]) -> int:
        """Add a way through existing nodes; return its id."""
        missing = [n for n in nodes if n not in self.lonlat]
        if missing:
            msg = f"way refers to unknown nodes {missing[:5]}"
            raise ValueError(msg)
        ident = self._take("way")
        self.ways[ident] = Way(list(nodes), dict(tags))
        return ident

    def relation(self, members: Sequence[tuple[str, int, str]], tags: Mapping[str, str]) -> int:
        """Add a relation; return its id."""
        ident = self._take("relation")
        self.relations[ident] = Relation(list(members), dict(tags))
        return ident

    def tag(self, node: int, tags: Mapping[str, str]) -> None:
        """Add tags to an existing node."""
        self.node_tags.setdefault(node, {}).update(tags)

    def line(self, way: int) -> LineString:
        """Return the way as a LineString in local metres."""
        return LineString([self.xy[n] for n in self.ways[way].nodes])

    def polygon(self, way: int) -> Polygon:
        """Return a closed way as a Polygon in local metres."""
        return Polygon([self.xy[n] for n in self.ways[way].nodes])

    def coords_ll(self, way: int) -> list[LonLat]:
        """Return the way's WGS 84 coordinates."""
        return [self.lonlat[n] for n in self.ways[way].nodes]

    def insert(self, way: int, xy: XY, *, snap_m: float = 1.0) -> tuple[int, bool]:
        """Put a node on ``way`` at the point nearest to ``xy``.

        Returns the node id and whether a node was created (False when the
        nearest point is within ``snap_m`` metres of an existing vertex, which is
        then returned instead).
        """
        nodes = self.ways[way].nodes
        best_k, best_d, best_p, best_t = 0, math.inf, xy, 0.0
        for k in range(len(nodes) - 1):
            p, t, dist = _project(self.xy[nodes[k]], self.xy[nodes[k + 1]], xy)
            if dist < best_d:
                best_k, best_d, best_p, best_t = k, dist, p, t
        a, b = self.xy[nodes[best_k]], self.xy[nodes[best_k + 1]]
        if math.dist(best_p, a) <= snap_m:
            return nodes[best_k], False
        if math.dist(best_p, b) <= snap_m or best_t >= 1.0:
            return nodes[best_k + 1], False
        ident = self.node(best_p)
        nodes.insert(best_k + 1, ident)
        return ident, True

    def to_xml(self, bounds: tuple[float, float, float, float], generator: str) -> bytes:
        """Serialise as OSM XML 0.6 (nodes, then ways, then relations, each by id)."""
        q = quoteattr
        minlon, minlat, maxlon, maxlat = bounds
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<osm version={q('0.6')} generator={q(generator)}>",
            f"  <bounds minlat={q(f'{minlat:.7f}')} minlon={q(f'{minlon:.7f}')}"
            f" maxlat={q(f'{maxlat:.7f}')} maxlon={q(f'{maxlon:.7f}')}/>",
        ]
        for ident in sorted(self.lonlat):
            lon, lat = self.lonlat[ident]
            head = (
                f"  <node id={q(str(ident))} version={q('1')}"
                f" lat={q(f'{lat:.7f}')} lon={q(f'{lon:.7f}')}"
            )
            tags = self.node_tags.get(ident)
            if not tags:
                out.append(head + "/>")
                continue
            out.extend([head + ">", *_tag_lines(tags), "  </node>"])
        for ident in sorted(self.ways):
            way = self.ways[ident]
            out.append(f"  <way id={q(str(ident))} version={q('1')}>")
            out.extend(f"    <nd ref={q(str(n))}/>" for n in way.nodes)
            out.extend([*_tag_lines(way.tags), "  </way>"])
        for ident in sorted(self.relations):
            rel = self.relations[ident]
            out.append(f"  <relation id={q(str(ident))} version={q('1')}>")
            out.extend(
                f"    <member type={q(kind)} ref={q(str(ref))} role={q(role)}/>"
                for kind, ref, role in rel.members
            )
            out.extend([*_tag_lines(rel.tags), "  </relation>"])
        out.append("</osm>")
        return ("\n".join(out) + "\n").encode("utf-8")


def _tag_lines(tags: Mapping[str, str]) -> list[str]:
    return [f"    <tag k={quoteattr(k)} v={quoteattr(tags[k])}/>" for k in sorted(tags)]


def _project(a: XY, b: XY, p: XY) -> tuple[XY, float, float]:
    """Nearest point to ``p`` on segment ``ab``, its parameter t in [0, 1] and distance."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
    t = min(1.0, max(0.0, t))
    q = (a[0] + t * dx, a[1] + t * dy)
    return q, t, math.dist(p, q)


# ---------------------------------------------------------------------------
# geodesic distances


def _along(start: LonLat, azimuth: float, dists: FloatArray) -> tuple[FloatArray, FloatArray]:
    n = dists.size
    lon, lat, _ = GEOD.fwd(np.full(n, start[0]), np.full(n, start[1]), np.full(n, azimuth), dists)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _nearest(point: LonLat, lon: FloatArray, lat: FloatArray) -> tuple[float, int]:
    n = lon.size
    _, _, dist = GEOD.inv(np.full(n, point[0]), np.full(n, point[1]), lon, lat)
    dist = np.asarray(dist, dtype=np.float64)
    k = int(np.argmin(dist))
    return float(dist[k]), k


def _point_segment(point: LonLat, a: LonLat, b: LonLat) -> float:
    """Ellipsoidal distance from a point to the geodesic segment ``ab``.

    The segment is densified geodesically every metre, then again every
    centimetre within 1.5 m of the nearest coarse point.
    """
    azimuth, _, length = GEOD.inv(a[0], a[1], b[0], b[1])
    length = float(length)
    if length == 0.0:
        return float(GEOD.inv(point[0], point[1], a[0], a[1])[2])
    coarse = np.linspace(0.0, length, max(2, math.ceil(length / _COARSE_M) + 1))
    best, k = _nearest(point, *_along(a, float(azimuth), coarse))
    lo, hi = max(0.0, coarse[k] - 1.5), min(length, coarse[k] + 1.5)
    fine = np.linspace(lo, hi, max(2, math.ceil((hi - lo) / _FINE_M) + 1))
    return min(best, _nearest(point, *_along(a, float(azimuth), fine))[0])


def _segments(coords: Sequence[LonLat]) -> list[tuple[LonLat, LonLat]]:
    if len(coords) == 1:
        return [(coords[0], coords[0])]
    return [(coords[k], coords[k + 1]) for k in range(len(coords) - 1)]


def min_geodesic_distance(
    first: Sequence[LonLat], second: Sequence[LonLat], *, prefilter_m: float = math.inf
) -> float:
    """Shortest WGS 84 ellipsoidal distance in metres between two point sequences.

    Each sequence is a point (one coordinate) or a polyline / closed ring of
    geodesic segments (WGS 84 lon/lat degrees). Two segments that do not cross
    are nearest at an end point of one of them, so the result is the smallest
    point-to-segment distance over all vertices of one geometry and segments of
    the other, each found by geodesic densification (1 m, then 1 cm locally).
    Segments farther than ``prefilter_m`` (local planar estimate) are skipped.
    """
    best = math.inf
    for points, other in ((first, second), (second, first)):
        for a, b in _segments(other):
            line = LineString([to_xy(a), to_xy(b)]) if a != b else None
            for p in points:
                if line is not None and line.distance(Point(to_xy(p))) > prefilter_m:
                    continue
                best = min(best, _point_segment(p, a, b))
    return best


def snap_to_lattice(
    ideal: LonLat, error: Callable[[LonLat], float], *, reach: int = 6, max_steps: int = 300
) -> LonLat:
    """Choose a 7-decimal lon/lat near ``ideal`` that makes ``abs(error(p))`` smallest.

    Rounding to 7 decimals moves a point by up to ~7 mm. The error is nearly
    linear over a few centimetres, so along each of the ``2 * reach + 1``
    lattice rows and columns around ``ideal`` the step where it crosses zero is
    solved for (at most ``max_steps`` steps, ~3 m, away: the point slides
    along its level line), and the best of these candidates is returned. This
    keeps a designed distance to well under a millimetre even when the level
    line runs along a lattice axis.
    """
    base_lon = math.floor(ideal[0] / _STEP_DEG)
    base_lat = math.floor(ideal[1] / _STEP_DEG)

    def at(i: int, j: int) -> LonLat:
        return (round((base_lon + i) * _STEP_DEG, 7), round((base_lat + j) * _STEP_DEG, 7))

    e0 = error(at(0, 0))
    slope_i = error(at(1, 0)) - e0
    slope_j = error(at(0, 1)) - e0
    steps: list[tuple[int, int]] = [(i, j) for i in (-1, 0, 1, 2) for j in (-1, 0, 1, 2)]
    for k in range(-reach, reach + 1):
        if slope_i != 0.0:
            i = -(e0 + k * slope_j) / slope_i
            if abs(i) <= max_steps:
                steps += [(math.floor(i), k), (math.floor(i) + 1, k)]
        if slope_j != 0.0:
            j = -(e0 + k * slope_i) / slope_j
            if abs(j) <= max_steps:
                steps += [(k, math.floor(j)), (k, math.floor(j) + 1)]
    candidates = [at(i, j) for i, j in sorted(set(steps))]
    return min(candidates, key=lambda cand: (abs(error(cand)), cand))
