"""Exact distances on the WGS 84 ellipsoid, and the local metric projections behind them.

How a distance is measured
--------------------------
0. Candidates: a school's bounding box, grown by the rule distance converted
   to degrees with a bound that over-covers at every latitude
   (:func:`degrees_margin`), is matched against the hazards: points by their
   coordinates (``campus_geo.engine.pointindex.PointIndex``), other geometries by
   their boxes in an STRtree, edges included. Nothing is projected before it
   is a candidate, and no pair within the distance can be missed.
1. Each candidate pair is projected into a transverse Mercator on the WGS 84
   ellipsoid whose central meridian is the centre of the school's 0.5-degree
   longitude band (:func:`band_crs`). Within +-0.25 degrees of the central
   meridian its scale factor is 1 to within 1.2e-5 (2.4 mm at 200 m) and a
   straight chord of up to 3 km stays within 1 mm of the geodesic between its
   ends, at any latitude.
2. The two nearest points of the pair are found in that plane (for point
   hazards on coordinate arrays, :func:`nearest_on_segments`; otherwise GEOS
   ``shortest_line``). The distance between two geometries is stationary at its
   minimum, so the few-millimetre shift of the nearest points caused by the
   projection changes the distance by far less than a millimetre. A point pair
   whose distance in the plane exceeds the rule distance times 1 + 1e-4 (a
   bound on the projection's scale wherever a band's schools reach) is surely
   farther on the ellipsoid too, and is not measured further.
3. The distance between those two points is then computed on the ellipsoid
   (:func:`geodesic_distance`): up to 10 km from their geocentric chord and the
   ellipsoid's curvature along it, within 10 nm of Karney's algorithm
   (GeographicLib, ``pyproj.Geod.inv``), which measures longer lines. The
   reported distance and the measured line therefore come from the ellipsoid,
   not from the plane.

Never buffer in degrees or in EPSG:3857: its scale at latitude 34 degrees is
1.21, so a "200 m" Web-Mercator buffer there reaches only 166 m.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal, overload

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from campus_geo.settings import DEFAULT_CRS, ELLIPSOID

__all__ = [
    "BAND_WIDTH_DEG",
    "SHORT_CHORD_M",
    "SHORT_GEODESIC_TOL_M",
    "SegmentGrids",
    "band_crs",
    "band_of",
    "degrees_margin",
    "from_band",
    "geocentric",
    "geodesic_buffer",
    "geodesic_distance",
    "grid_width",
    "local_crs",
    "measured_lines",
    "nearest_ends",
    "nearest_on_segments",
    "outline_segments",
    "project",
    "segment_grids",
    "to_band",
]

#: Width in degrees of longitude of the bands that choose the measuring projection.
BAND_WIDTH_DEG: Final = 0.5

GEOD: Final = pyproj.Geod(ellps=ELLIPSOID)

FloatArray = npt.NDArray[np.float64]


def band_of(lon: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Return the index of the 0.5-degree longitude band of each longitude (degrees)."""
    lon_a = np.asarray(lon, dtype=np.float64)
    return np.floor((lon_a + 180.0) / BAND_WIDTH_DEG).astype(np.int64)


@lru_cache(maxsize=1024)
def band_crs(band: int) -> pyproj.CRS:
    """Transverse Mercator (WGS 84, scale 1) centred on the given longitude band.

    PROJ's series of Evenden and Snyder (``+approx``), not its default
    Poder/Engsager algorithm, which is exact to a few nanometres up to thousands
    of kilometres from the central meridian: within the 0.6 degrees of it that
    a band's schools and their surroundings reach, the two agree to 5 nm (a few
    units in the last place of the coordinates; measured at latitudes 0 to 70)
    and the series takes half the time (the venues of every candidate pair are
    projected). The projection only finds the nearest points; distances are
    measured on the ellipsoid.

    Parameters
    ----------
    band
        Band index from :func:`band_of`.
    """
    lon0 = -180.0 + (band + 0.5) * BAND_WIDTH_DEG
    return pyproj.CRS.from_proj4(
        f"+proj=tmerc +approx +lat_0=0 +lon_0={lon0:.6f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=WGS84 +towgs84=0,0,0 +units=m +no_defs +type=crs"
    )


@lru_cache(maxsize=1024)
def from_band(crs: pyproj.CRS) -> pyproj.Transformer:
    """Transformer (cached) from a metric CRS to lon/lat on WGS 84 (always x, y order)."""
    return pyproj.Transformer.from_crs(crs, DEFAULT_CRS, always_xy=True)


@lru_cache(maxsize=1024)
def to_band(crs: pyproj.CRS) -> pyproj.Transformer:
    """Transformer (cached) from lon/lat on WGS 84 to a metric CRS (always x, y order)."""
    return pyproj.Transformer.from_crs(DEFAULT_CRS, crs, always_xy=True)


@lru_cache(maxsize=1024)
def band_transformers(band: int) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """Transformers (cached) into and out of a band's projection, looked up by band index.

    Cheaper to look up than :func:`to_band`/:func:`from_band` with the CRS,
    whose hash is computed from its WKT at every call.
    """
    crs = band_crs(band)
    return to_band(crs), from_band(crs)


def project(
    geoms: npt.NDArray[np.object_],
    crs: pyproj.CRS,
    *,
    point_xy: FloatArray | None = None,
) -> npt.NDArray[np.object_]:
    """Project lon/lat (EPSG:4326) shapely geometries into `crs`.

    Points, the bulk of every venue layer, take a fast path (one coordinate
    array through the transformer, then ``shapely.points``); other types go
    through ``shapely.transform``. Same result as ``GeoSeries.to_crs``.

    Parameters
    ----------
    geoms
        Shapely geometries in lon/lat.
    crs
        Target CRS.
    point_xy
        Optional (n, 2) lon/lat of each geometry that is a point, NaN for the
        others (saves reading the coordinates again when projecting repeatedly).
    """
    transformer = to_band(crs)
    out = np.empty(len(geoms), dtype=object)
    if point_xy is None:
        is_point = shapely.get_type_id(geoms) == 0
        xy = shapely.get_coordinates(geoms[is_point])
    else:
        is_point = ~np.isnan(point_xy[:, 0])
        xy = point_xy[is_point]
    if is_point.any():
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        out[is_point] = shapely.points(x, y)
    if not is_point.all():

        def forward(coords: FloatArray) -> FloatArray:
            x, y = transformer.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        out[~is_point] = shapely.transform(geoms[~is_point], forward)
    return out


def local_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """A transverse Mercator (WGS 84) centred on the layer, for metric work on one area.

    Parameters
    ----------
    gdf
        A layer in any CRS; its bounds (in EPSG:4326) choose the central meridian.
    """
    minx, miny, maxx, maxy = gdf.to_crs(DEFAULT_CRS).total_bounds
    lon0 = (minx + maxx) / 2.0
    lat0 = (miny + maxy) / 2.0
    return pyproj.CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lon0:.6f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=WGS84 +towgs84=0,0,0 +units=m +no_defs +type=crs"
    )


#: WGS 84 semi-major axis (m) and first eccentricity squared, for :func:`geocentric`.
_A: Final = 6378137.0
_F: Final = 1.0 / 298.257223563
_E2: Final = _F * (2.0 - _F)
_B: Final = _A * (1.0 - _F)

#: Chords up to this length are turned into geodesic lengths by :func:`geodesic_distance`'s
#: series; longer ones go to GeographicLib. tests/test_geodesy.py asserts the series within
#: :data:`SHORT_GEODESIC_TOL_M` of GeographicLib up to this length, at every latitude.
SHORT_CHORD_M: Final = 10_000.0

#: Bound (m) on the difference between the series and GeographicLib for chords up to
#: :data:`SHORT_CHORD_M` (measured: 5 nm, the rounding of geocentric coordinates of 6e6 m).
SHORT_GEODESIC_TOL_M: Final = 1e-8


def geocentric(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Earth-centred (ECEF) x, y, z in metres of points on the WGS 84 ellipsoid (height 0).

    Examples
    --------
    >>> [round(float(v), 3) for v in geocentric(90.0, 0.0)]
    [0.0, 6378137.0, 0.0]
    """
    shape = np.broadcast_shapes(np.shape(lon), np.shape(lat))
    phi = np.radians(np.array(lat, dtype=np.float64, ndmin=1))
    lam = np.radians(np.array(lon, dtype=np.float64, ndmin=1))
    sin_phi = np.sin(phi)
    n = 1.0 - _E2 * sin_phi * sin_phi  # N, the prime vertical radius: a / sqrt(1 - e2 sin2)
    np.sqrt(n, out=n)
    np.divide(_A, n, out=n)
    z = n * (1.0 - _E2)
    z *= sin_phi
    n *= np.cos(phi)
    x, y = n * np.cos(lam), n * np.sin(lam)
    return x.reshape(shape), y.reshape(shape), z.reshape(shape)


def geodesic_distance(
    lon1: npt.ArrayLike,
    lat1: npt.ArrayLike,
    lon2: npt.ArrayLike,
    lat2: npt.ArrayLike,
    *,
    geocentric1: npt.ArrayLike | None = None,
    geocentric2: npt.ArrayLike | None = None,
) -> FloatArray:
    """Ellipsoidal (WGS 84) distance in metres between point pairs given in degrees.

    Exact to 10 nanometres at any length, as GeographicLib (``pyproj.Geod.inv``,
    Karney's algorithm, 15 nm) is; lines up to :data:`SHORT_CHORD_M` are measured
    by a series three times cheaper.

    The series: a geodesic has no curvature within the surface, so its curvature
    in space is the surface's normal curvature k in its direction, and an arc of
    curvature k with chord c is ``s = c + k**2 c**3 / 24 + O(c**5)`` long. The chord
    comes from the geocentric coordinates of the ends, k from the ellipsoid's
    second fundamental form at the chord's midpoint along the chord (which
    cancels the term in the change of k along the line). What is left at 10 km
    is under a nanometre; the rounding of coordinates of 6,400 km adds 5 nm.
    This is written here because pyproj has no ellipsoidal chord, and it takes
    the measuring of millions of pairs from 0.38 to 0.12 microseconds each.
    tests/test_geodesy.py checks it against GeographicLib at every latitude and
    azimuth, up to and across :data:`SHORT_CHORD_M`.

    `geocentric1`, `geocentric2`: the ends' :func:`geocentric` coordinates as an
    array (3, n), when made already (a venue measured against many schools): the
    same numbers, not computed again.

    Examples
    --------
    >>> round(float(geodesic_distance(113.85, 34.05, 113.85, 34.051)), 3)
    110.923
    """
    ends = np.broadcast_arrays(lon1, lat1, lon2, lat2)
    shape = ends[0].shape
    # views, not copies, of columns of a table (only lines too long for the series, and
    # ends without geocentric coordinates, read them)
    lon1, lat1, lon2, lat2 = (np.asarray(v, dtype=np.float64).reshape(-1) for v in ends)
    n = len(lon1)
    x1, y1, z1 = geocentric(lon1, lat1) if geocentric1 is None else _rows(geocentric1, n)
    x2, y2, z2 = geocentric(lon2, lat2) if geocentric2 is None else _rows(geocentric2, n)
    dxy2 = x2 - x1
    dxy2 *= dxy2
    dy = y2 - y1
    dxy2 += dy * dy
    dz2 = z2 - z1
    dz2 *= dz2
    chord2 = dxy2 + dz2
    # |grad F| / 2 at the midpoint, F = (x2 + y2) / a2 + z2 / b2 - 1 (its Hessian is diag 2/a2, 2/b2)
    sx = x1 + x2
    sy = y1 + y2
    sz = z1 + z2
    sx *= sx
    sy *= sy
    sx += sy
    sx *= 0.25 / _A**4
    sz *= sz
    sz *= 0.25 / _B**4
    sx += sz
    np.sqrt(sx, out=sx)
    # normal curvature along the chord, times the chord squared: (d H d / 2) / |grad F / 2|
    dxy2 *= 1.0 / _A**2
    dz2 *= 1.0 / _B**2
    dxy2 += dz2
    dxy2 /= sx  # k c**2
    dxy2 *= dxy2
    dxy2 /= 24.0 * np.where(chord2 > 0.0, chord2, 1.0)  # k**2 c**2 / 24
    dxy2 += 1.0
    distance = np.sqrt(chord2)
    distance *= dxy2
    long = ~(distance <= SHORT_CHORD_M)
    if long.any():
        distance[long] = GEOD.inv(lon1[long], lat1[long], lon2[long], lat2[long])[2]
    return distance.reshape(shape)


def _rows(xyz: npt.ArrayLike, n: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The three rows of geocentric coordinates given as (3, n)."""
    rows = np.asarray(xyz, dtype=np.float64).reshape(3, n)
    return rows[0], rows[1], rows[2]


def nearest_ends(
    a: npt.NDArray[np.object_], b: npt.NDArray[np.object_], crs: pyproj.CRS
) -> tuple[FloatArray, FloatArray]:
    """Ellipsoidal distance and lon/lat end points of the nearest points of each pair.

    Parameters
    ----------
    a, b
        Arrays of shapely geometries of equal length, in `crs` (a band projection).
    crs
        The metric CRS of `a` and `b`.

    Returns
    -------
    distance_m
        WGS 84 ellipsoidal distance in metres between the nearest points of each pair.
    ends
        Array of shape (n, 4): lon_a, lat_a, lon_b, lat_b of those points (degrees).
    """
    n = len(a)
    if n == 0:
        return np.empty(0), np.empty((0, 4))
    xy = shapely.get_coordinates(shapely.shortest_line(a, b))
    lon, lat = from_band(crs).transform(xy[:, 0], xy[:, 1])
    ends = np.column_stack([lon, lat]).reshape(n, 4)
    distance = geodesic_distance(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
    return distance, ends


def outline_segments(
    geoms: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """The segments of each geometry's outline, grouped per geometry.

    A polygon contributes the segments of its rings, a line its own segments,
    a point (or each point of a MultiPoint) one zero-length segment.

    Parameters
    ----------
    geoms
        Non-empty shapely geometries (any CRS; planar coordinates are used as they are).

    Returns
    -------
    offsets
        Array of n + 1 indices: the segments of geometry i are rows
        ``offsets[i]:offsets[i + 1]`` of `segments`.
    segments
        Array of shape (m, 4): x1, y1, x2, y2.
    """
    lines = np.asarray(geoms, dtype=object).copy()
    areal = np.isin(shapely.get_type_id(lines), [3, 6])
    lines[areal] = shapely.boundary(lines[areal])
    parts, owner = shapely.get_parts(lines, return_index=True)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    same = part[1:] == part[:-1]
    is_point = (shapely.get_type_id(parts) == 0)[part]
    segments = np.concatenate(
        [
            np.column_stack([coords[:-1][same], coords[1:][same]]),
            np.column_stack([coords[is_point], coords[is_point]]),
        ]
    )
    seg_owner = owner[np.concatenate([part[:-1][same], part[is_point]])]
    order = np.argsort(seg_owner, kind="stable")
    offsets = np.searchsorted(seg_owner[order], np.arange(len(lines) + 1)).astype(np.int64)
    return offsets, segments.take(order, axis=0)


@dataclass(frozen=True)
class SegmentGrids:
    """Each geometry's segments as one row of a grid, grids by width (see nearest_on_segments).

    A geometry of n segments is a row of the grid ``2 ** e`` wide, ``e`` the bit
    length of ``n - 1``, padded by repeating its last segment. Each grid holds five
    planes, each contiguous: x1, y1, dx, dy and the squared length (inf for a
    zero-length segment, whose parameter t is then 0).
    """

    bucket: npt.NDArray[np.int64]  # e of each geometry
    row: npt.NDArray[np.int64]  # each geometry's row in the grid of its bucket
    grids: dict[int, FloatArray]  # e -> array (5, rows, 2 ** e)


def grid_width(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The bucket of each geometry's number of segments: its exponent, 2 ** e >= count."""
    # 2 ** bit_length(count - 1); counts are >= 1, and frexp's exponent of a positive
    # integer is its bit length
    exponent: npt.NDArray[np.int64] = np.frexp((counts - 1).astype(np.float64))[1]
    return exponent.astype(np.int64)


def segment_grids(offsets: npt.NDArray[np.int64], segments: FloatArray) -> SegmentGrids:
    """The :class:`SegmentGrids` of geometries' segments (see :func:`outline_segments`).

    Computed once per set of outlines, not once per pair and segment: they take
    at most twice the memory of the segments (the padding), 40 bytes a cell.
    """
    counts = np.diff(offsets)
    bucket = grid_width(counts)
    row = np.zeros(len(counts), dtype=np.int64)
    grids: dict[int, FloatArray] = {}
    dx = segments[:, 2] - segments[:, 0]
    dy = segments[:, 3] - segments[:, 1]
    length2 = dx * dx
    length2 += dy * dy
    length2[length2 <= 0.0] = np.inf
    planes = (segments[:, 0], segments[:, 1], dx, dy, length2)
    for e in np.unique(bucket[counts > 0]).tolist():
        w = 1 << e
        members = np.flatnonzero((bucket == e) & (counts > 0))
        row[members] = np.arange(len(members))
        # each member's segments, its last one repeated up to the width
        cells = offsets[members, None] + np.arange(w)[None, :]
        np.minimum(cells, (offsets[members + 1] - 1)[:, None], out=cells)
        grids[e] = np.stack([plane.take(cells) for plane in planes])
    return SegmentGrids(bucket, row, grids)


_Nearest = tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]
_NearestAlong = tuple[
    FloatArray, FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray
]


@overload
def nearest_on_segments(
    px: FloatArray,
    py: FloatArray,
    owner: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    segments: FloatArray,
    *,
    max_rows: int = ...,
    grids: SegmentGrids | None = ...,
    along: Literal[False] = ...,
) -> _Nearest: ...


@overload
def nearest_on_segments(
    px: FloatArray,
    py: FloatArray,
    owner: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    segments: FloatArray,
    *,
    max_rows: int = ...,
    grids: SegmentGrids | None = ...,
    along: Literal[True],
) -> _NearestAlong: ...


def nearest_on_segments(
    px: FloatArray,
    py: FloatArray,
    owner: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    segments: FloatArray,
    *,
    max_rows: int = 1 << 16,
    grids: SegmentGrids | None = None,
    along: bool = False,
) -> _Nearest | _NearestAlong:
    """Nearest point to each point (px, py) on the segments of its geometry `owner`.

    Planar, in the coordinates of `segments` (see :func:`outline_segments`). This is
    the same point GEOS ``shortest_line`` returns, computed on coordinate arrays:
    written by hand because the venue layers are millions of points, and creating
    a shapely Point for each one costs more than this whole computation. Pairs
    are processed in chunks of at most `max_rows` (pair, segment) cells.

    The pairs are put in buckets by their geometry's number of segments, rounded
    up to a power of two (a campus rectangle has 4, an OSM outline 5 to a few
    hundred): each bucket is a rectangular (pair, segment) grid, padded by
    repeating the geometry's last segment, whose row minima numpy finds without
    any ragged bookkeeping. A pair's row is its geometry's row of
    :class:`SegmentGrids`, copied whole (one contiguous copy a pair and quantity:
    a fifth of the time of gathering each cell, whose differences were also worked
    out again for every pair). Of equally near segments the first is taken. Grids
    of about 65,000 cells keep the arrays of a step in the CPU's caches (a third of
    the time of grids of a million cells).

    `grids`: :func:`segment_grids` of `offsets` and `segments`; made here when not
    given (callers measuring many chunks against the same outlines make them once).

    Returns
    -------
    qx, qy
        Coordinates of the nearest point of each pair.
    vertex
        When that point is an end of its segment, which one: ``2 * r`` for the first
        end of segment row ``r``, ``2 * r + 1`` for the second (rows of
        ``segments.reshape(-1, 2)``); -1 when it lies inside the segment.
    segment, t
        With `along`: the row of the segment the point is on, and where along it
        (0 at its first end, 1 at its second).
    """
    qx = np.empty(len(px))
    qy = np.empty(len(px))
    vertex = np.empty(len(px), dtype=np.int64)
    segment = np.empty(len(px), dtype=np.int64)
    t = np.empty(len(px))
    if not len(px):
        return (qx, qy, vertex, segment, t) if along else (qx, qy, vertex)
    if grids is None:
        grids = segment_grids(offsets, segments)
    first = offsets[owner]
    exponent = grids.bucket[owner]
    widths = np.flatnonzero(np.bincount(exponent))
    for e in widths.tolist():
        w = 1 << e
        rows = np.flatnonzero(exponent == e) if len(widths) > 1 else None
        step = max(1, max_rows // w)
        grid = grids.grids[e]
        for lo in range(0, len(px) if rows is None else len(rows), step):
            # one width (a district of rectangles): slices, views of the pairs' columns
            # and of the outputs, not gathers and scatters by position (127 ms of 834 in
            # the dense district's line profile)
            r = slice(lo, lo + step) if rows is None else rows[lo : lo + step]
            cells = grid.take(grids.row[owner[r]], axis=1)  # (5, pairs, w): row copies
            qx[r], qy[r], vertex[r], segment[r], t[r] = _nearest_grid(px[r], py[r], first[r], cells)
    return (qx, qy, vertex, segment, t) if along else (qx, qy, vertex)


def _nearest_grid(
    px: FloatArray, py: FloatArray, first: npt.NDArray[np.int64], cells: FloatArray
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """Nearest points on a (pair, segment) grid (see nearest_on_segments).

    `cells`: (5, pairs, width): x1, y1, dx, dy, squared length of each pair's segments.
    Returns qx, qy, vertex, and the segment row and parameter t of each nearest point.
    """
    ax, ay, dx, dy, length2 = cells
    # the point relative to the segment's start, its parameter t along it (0 on a point)
    ux = px[:, None] - ax
    uy = py[:, None] - ay
    t = ux * dx
    t += uy * dy
    t /= length2
    np.clip(t, 0.0, 1.0, out=t)
    # squared distance from the point to its nearest point on each segment
    ux -= t * dx
    uy -= t * dy
    ux *= ux
    uy *= uy
    ux += uy
    best = np.argmin(ux, axis=1)
    # the best cell of each row by its flat position in each (pairs, width) plane, which
    # is contiguous: a take of a flat view (49 against 192 us a step of 16,384 pairs
    # of four segments with a 2-D fancy index)
    width = ux.shape[1]
    flat = np.arange(0, len(px) * width, width) + best
    tb = t.ravel().take(flat)
    sb = first + best
    qx = ax.ravel().take(flat)
    qx += tb * dx.ravel().take(flat)
    qy = ay.ravel().take(flat)
    qy += tb * dy.ravel().take(flat)
    # an end of the segment (t 0 or 1) names that end, any other point none (-1)
    vertex = 2 * sb
    vertex += tb == 1.0
    vertex[(tb != 0.0) & (tb != 1.0)] = -1
    return qx, qy, vertex, sb, tb


def measured_lines(
    a: npt.NDArray[np.object_], b: npt.NDArray[np.object_], crs: pyproj.CRS
) -> tuple[npt.NDArray[np.object_], FloatArray, FloatArray]:
    """Like :func:`nearest_ends`, plus the measured lines as lon/lat LineStrings.

    Returns
    -------
    lines, distance_m, ends
        LineStrings in EPSG:4326 from the nearest point of each `a` to the
        nearest point of each `b`, their WGS 84 lengths in metres and end points.
    """
    distance, ends = nearest_ends(a, b, crs)
    return shapely.linestrings(ends.reshape(-1, 2, 2)), distance, ends


def geodesic_buffer(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries, dist: float | npt.ArrayLike, *, quad_segs: int = 32
) -> gpd.GeoSeries:
    """Zones reaching `dist` metres (WGS 84 ellipsoid) from each geometry, in EPSG:4326.

    Each geometry is buffered in the transverse Mercator of its own 0.5-degree
    band (scale error below 1.2e-5, 2.4 mm at 200 m), never in degrees or Web
    Mercator. The zone's edge is a polygon with `quad_segs` segments per quarter
    circle, so it lies inside the true circle by at most dist*(1-cos(pi/(4*quad_segs))),
    0.024 m at 200 m with the default: zones are for display; findings come from
    exact measurement (:func:`measured_lines`).

    Parameters
    ----------
    gdf
        Geometries in any CRS.
    dist
        Distance(s) in metres, a scalar or one per geometry.
    quad_segs
        Segments per quarter circle of the buffer.
    """
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    geoms = geoms.to_crs(DEFAULT_CRS)
    dists = np.broadcast_to(np.asarray(dist, dtype=np.float64), (len(geoms),))
    reps = shapely.get_coordinates(shapely.point_on_surface(geoms.values))
    bands = band_of(reps[:, 0]) if len(geoms) else np.empty(0, dtype=np.int64)
    out = np.empty(len(geoms), dtype=object)
    for band in np.unique(bands):
        mask = bands == band
        crs = band_crs(int(band))
        projected = geoms[mask].to_crs(crs)
        zones = shapely.buffer(projected.values, dists[mask], quad_segs=quad_segs)
        out[mask] = gpd.GeoSeries(zones, crs=crs).to_crs(DEFAULT_CRS).values
    return gpd.GeoSeries(out, index=geoms.index, crs=DEFAULT_CRS)


def degrees_margin(dist: float, bounds: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Longitude and latitude margins (degrees) that surely cover `dist` metres around boxes.

    Parameters
    ----------
    dist
        Distance in metres.
    bounds
        Array (n, 4) or (4,) of minx, miny, maxx, maxy in degrees.

    A degree of latitude is at least 110,574 m and a degree of longitude at least
    111,319 m x cos(latitude) on WGS 84, so dividing by 110,000 m (and taking the
    cosine one degree closer to the pole than the box reaches) over-covers.
    """
    b = np.atleast_2d(np.asarray(bounds, dtype=np.float64))
    lat = np.minimum(np.maximum(np.abs(b[:, 1]), np.abs(b[:, 3])) + 1.0, 89.9)
    dlat = np.full(len(b), dist / 110_000.0 + 1e-6)
    dlon = dist / (110_000.0 * np.cos(np.radians(lat))) + 1e-6
    return dlon, dlat
