"""Independent geodesic truth for tests: brute force on geodesically densified geometries.

Every edge is taken as the geodesic between its vertices and densified with
pyproj.Geod.npts at `step` metres; the minimum of Geod.inv over all point pairs
is found, then refined by densifying the geodesic pieces on either side of the
best points at `fine` metres. Slow, simple and independent of campus_geo's
projection-based method.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyproj
import shapely

GEOD = pyproj.Geod(ellps="WGS84")


def _lines(geom):
    if geom.geom_type in ("Point", "MultiPoint"):
        return [np.asarray(p.coords) for p in shapely.get_parts(geom)]
    boundary = geom.boundary if geom.geom_type in ("Polygon", "MultiPolygon") else geom
    return [np.asarray(line.coords) for line in shapely.get_parts(boundary)]


def _densify_coords(coords, step):
    pts = [tuple(coords[0])]
    for (x1, y1), (x2, y2) in itertools.pairwise(coords):
        _, _, length = GEOD.inv(x1, y1, x2, y2)
        n = int(np.ceil(length / step))
        if n > 1:
            pts.extend(GEOD.npts(x1, y1, x2, y2, n - 1))
        pts.append((x2, y2))
    return np.asarray(pts)


def _best(pa, pb):
    best, ia, ib = np.inf, 0, 0
    for i, (x, y) in enumerate(pa):
        _, _, d = GEOD.inv(np.full(len(pb), x), np.full(len(pb), y), pb[:, 0], pb[:, 1])
        j = int(np.argmin(d))
        if d[j] < best:
            best, ia, ib = float(d[j]), i, j
    return best, ia, ib


def _neighbourhood(pts, i, fine):
    lo, hi = max(i - 1, 0), min(i + 1, len(pts) - 1)
    return _densify_coords(pts[lo : hi + 1], fine)


def truth_distance(a, b, step=0.5, fine=0.002):
    """Geodesic minimum distance (m) between lon/lat geometries a and b (edges are geodesics)."""
    if a.intersects(b):
        return 0.0
    best = np.inf
    for la in _lines(a):
        pa = _densify_coords(la, step) if len(la) > 1 else la
        for lb in _lines(b):
            pb = _densify_coords(lb, step) if len(lb) > 1 else lb
            d, ia, ib = _best(pa, pb)
            fa = _neighbourhood(pa, ia, fine) if len(pa) > 1 else pa
            fb = _neighbourhood(pb, ib, fine) if len(pb) > 1 else pb
            best = min(best, d, _best(fa, fb)[0])
    return best
