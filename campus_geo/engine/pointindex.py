"""Box queries over millions of points held as coordinate arrays.

Why not shapely's ``STRtree``: it indexes shapely geometries, and a venue
layer is millions of points. Creating a GEOS point for each one (about 0.6 µs,
3 s for 5 million, holding the GIL) and building the tree over them (1.7 s)
costs more than the whole index below; measured on 5 million venues. scipy's
``cKDTree`` answers radius queries with one Python list per query and needs a
metric plane, which lon/lat is not. Here the points are sorted once by (row,
longitude), a row being a band of :data:`ROW_DEG` degrees of latitude, and a
box is answered with two binary searches per row it spans: numpy only, no
per-point object, and the sorted arrays are read by every measuring thread.

The answer is exact: every point whose coordinates lie in the box, edges
included (the same pairs as ``STRtree.query`` with boxes, whose bounds test
includes the edges).
"""

from __future__ import annotations

import copy
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["ROW_DEG", "PointIndex"]

#: Height of a row in degrees of latitude (about 110 m): a 600 m query box spans about
#: six rows, and the rows' overhang beyond the box adds about a sixth more candidates.
ROW_DEG: Final = 0.001
_BATCH: Final = 4096  # boxes per step: the temporaries stay a few MB

_BLOCK: Final = 1 << 18  # points per step of the build

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _blocks(n: int) -> list[slice]:
    return [slice(i, min(i + _BLOCK, n)) for i in range(0, n, _BLOCK)]


class PointIndex:
    """Points (lon, lat in degrees) indexed for box queries.

    Parameters
    ----------
    lon, lat
        Coordinates of the points; rows with NaN are not indexed (they are not points).

    Examples
    --------
    >>> index = PointIndex(np.array([116.0, 116.001, 117.0]), np.array([39.0, 39.0, 39.0]))
    >>> box, point = index.query(np.array([[115.9, 38.9, 116.001, 39.1]]))
    >>> point.tolist()
    [0, 1]
    """

    def __init__(self, lon: FloatArray, lat: FloatArray) -> None:
        valid = ~(np.isnan(lon) | np.isnan(lat))
        rows = None if valid.all() else np.flatnonzero(valid)
        if rows is not None:
            lon, lat = lon[rows], lat[rows]
        n = len(lon)
        self._lat0 = float(lat.min()) if n else 0.0
        self._lon0 = float(lon.min()) if n else 0.0
        # the keys are computed a block at a time into one array: the temporaries are a
        # few MB that malloc hands out again, not a dozen fresh arrays of n (on the virtual
        # machine of the benchmarks, memory never touched before costs ~2 ms of system
        # time per MB)
        packed = np.empty(n, dtype=np.int64)
        for block in _blocks(n):
            packed[block] = self._row(lat[block])
        self._last_row = int(packed.max()) if n else -1
        # one sort of (row, longitude, position) packed in an int64: np.sort of integers is
        # twice as fast as an argsort; longitude gets the bits left (>= 20 below 2**22 points)
        pos_bits = max(1, (n - 1).bit_length())
        self._lon_bits = min(32, 62 - pos_bits - max(1, self._last_row.bit_length()))
        if self._lon_bits < 8:
            msg = f"{n} points are too many for one PointIndex; split the layer"
            raise ValueError(msg)
        span = float(lon.max()) - self._lon0 if n else 0.0
        self._lon_scale = 2.0**self._lon_bits / max(span, 1e-9)
        for block in _blocks(n):
            keys = self._keys_of(packed[block], lon[block])
            keys <<= pos_bits
            keys |= np.arange(block.start, block.start + len(keys))
            packed[block] = keys
        packed.sort()
        where = packed & ((1 << pos_bits) - 1)
        packed >>= pos_bits
        self._keys = packed
        self._point: IntArray | None = where if rows is None else rows[where]
        # (lon, lat) rows in index order: both coordinates of a point share a cache line
        self._xy = np.empty((n, 2))
        for block in _blocks(n):
            # indexing, not take(): take() copies a strided input (a column of an (n, 2)
            # array) whole before gathering, once per block
            self._xy[block, 0] = lon[where[block]]
            self._xy[block, 1] = lat[where[block]]

    def _row(self, lat: FloatArray) -> IntArray:
        return np.floor((np.asarray(lat) - self._lat0) / ROW_DEG).astype(np.int64)

    def _keys_of(self, row: IntArray, lon: FloatArray) -> IntArray:
        # floor of a non-decreasing function of lon, clipped: a point inside [minx, maxx]
        # always has a key inside [key(minx), key(maxx)], whatever the rounding
        q = np.floor((np.asarray(lon) - self._lon0) * self._lon_scale)
        q = np.clip(q, 0, (1 << self._lon_bits) - 1).astype(np.int64)
        return (row << self._lon_bits) | q

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def order(self) -> IntArray:
        """Positions of the indexed points in index order (row by row, west to east)."""
        return np.arange(len(self._keys)) if self._point is None else self._point

    @property
    def sorted_xy(self) -> FloatArray:
        """Coordinates (lon, lat) of the indexed points in index order (read only)."""
        view: FloatArray = self._xy.view()
        view.flags.writeable = False
        return view

    def renumbered(self) -> PointIndex:
        """The same index with the points numbered in index order: point i is ``order[i]``.

        For callers that store their per-point arrays in index order, so that the
        points of a box, near each other in the index, are near each other in memory.
        """
        out = copy.copy(self)
        out._point = None  # the identity: a query's positions are the points' numbers
        return out

    def query(self, boxes: FloatArray) -> tuple[IntArray, IntArray]:
        """The points inside each box, edges included.

        Parameters
        ----------
        boxes
            Array (n, 4) of minx, miny, maxx, maxy in degrees (not crossing the antimeridian).

        Returns
        -------
        box, point
            Positions of the box and of the point of each hit, sorted by box.
        """
        parts = [self._query(boxes[i : i + _BATCH], i) for i in range(0, len(boxes), _BATCH)]
        if not parts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _ranges(self, boxes: FloatArray) -> tuple[IntArray, IntArray, IntArray]:
        """(box, lo, hi) of each row a box spans: its points are in keys[lo:hi] or near."""
        first = np.maximum(self._row(boxes[:, 1]), 0)
        last = np.minimum(self._row(boxes[:, 3]), self._last_row)
        spans = np.maximum(last - first + 1, 0)
        box = np.repeat(np.arange(len(boxes)), spans)
        row = first[box] + np.arange(len(box)) - np.repeat(np.cumsum(spans) - spans, spans)
        lo = np.searchsorted(self._keys, self._keys_of(row, boxes[box, 0]), side="left")
        hi = np.searchsorted(self._keys, self._keys_of(row, boxes[box, 2]), side="right")
        return box, lo, hi

    def count(self, boxes: FloatArray) -> IntArray:
        """An upper bound of the points in each box, without visiting them (for planning)."""
        box, lo, hi = self._ranges(boxes)
        return np.bincount(box, weights=hi - lo, minlength=len(boxes)).astype(np.int64)

    def _query(self, boxes: FloatArray, base: int) -> tuple[IntArray, IntArray]:
        box, lo, hi = self._ranges(boxes)
        counts = hi - lo
        hit = np.repeat(box, counts)
        pos = np.arange(int(counts.sum())) + np.repeat(lo - (np.cumsum(counts) - counts), counts)
        xy = self._xy.take(pos, axis=0)
        lon, lat = xy[:, 0], xy[:, 1]
        inside = (lon >= boxes[hit, 0]) & (lon <= boxes[hit, 2])
        inside &= (lat >= boxes[hit, 1]) & (lat <= boxes[hit, 3])
        pos = pos[inside]
        return hit[inside] + base, pos if self._point is None else self._point.take(pos)
