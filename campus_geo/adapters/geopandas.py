"""Measured lines held as their end coordinates, made into shapely objects on demand.

A screening of a dense district finds millions of findings, each with a measured
line of two points. As GEOS LineStrings they cost about 200 bytes and 0.25 µs
each to make (1.5 GB and 2 s for 7 million), though most runs only count,
filter and write them. :class:`LineEnds` is a geopandas ``GeometryArray`` that
keeps the (n, 4) array of lon/lat end points instead and makes the LineStrings
the first time something needs them as geometries (a map, a GeoPackage, a
spatial predicate). Filtering, taking, slicing, copying, concatenating, bounds
and pickling work on the coordinates and keep the array lazy.

geopandas offers no public way to back a geometry column by anything but an
array of shapely objects: this subclass relies on ``GeometryArray`` keeping
its geometries in ``_data`` and its CRS in ``_crs``, which
``tests/test_adapters.py`` pins.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from geopandas.array import GeometryArray

__all__ = ["LineEnds"]


class LineEnds(GeometryArray):  # type: ignore[misc]
    """Two-point LineStrings from an (n, 4) array of x1, y1, x2, y2, made on first use.

    Parameters
    ----------
    ends
        Float array of shape (n, 4); held read-only and shared by the arrays taken
        from this one (never copied into shapely objects until needed).
    crs
        The CRS of the coordinates.

    :meth:`of_columns` makes one on four float columns of a frame instead (the
    findings' ``school_lon`` ... ``hazard_lat``), sharing their memory.
    """

    def __init__(self, ends: npt.NDArray[np.float64], crs: Any = None) -> None:
        view = np.asarray(ends, dtype=np.float64).view()
        if view.ndim != 2 or view.shape[1] != 4:
            raise ValueError(f"ends must have shape (n, 4), not {view.shape}")
        view.flags.writeable = False
        self._ends: npt.NDArray[np.float64] | None = view
        self._columns: tuple[pd.Series, ...] = ()
        self._lines: npt.NDArray[np.object_] | None = None
        self._crs = None
        self.crs = crs
        self._sindex = None

    @classmethod
    def of_columns(cls, columns: Sequence[pd.Series], crs: Any = None) -> LineEnds:
        """Lines on four float64 columns x1, y1, x2, y2 of a frame, without copying them.

        The Series are kept, not only their arrays: under pandas' copy-on-write a
        frame copies a column before it writes to it while another Series shares it,
        so an analyst who corrects a coordinate cell leaves the measured line as it
        was (and what it shares with the frame stays unchanged).
        """
        if len(columns) != 4 or any(c.dtype != np.float64 for c in columns):
            return cls(np.column_stack([np.asarray(c, dtype=np.float64) for c in columns]), crs)
        lines = cls(np.empty((0, 4)), crs)
        lines._ends = None
        lines._columns = tuple(columns)
        return lines

    def _xyxy(self) -> tuple[npt.NDArray[np.float64], ...]:
        """The four coordinate arrays x1, y1, x2, y2 (read-only views)."""
        if self._ends is None:
            return tuple(c.to_numpy() for c in self._columns)
        return tuple(self._ends[:, j] for j in range(4))

    def _rows(self, idx: Any) -> npt.NDArray[np.float64]:
        """The (k, 4) ends of some rows (a slice of the array is a view of it)."""
        if self._ends is not None:
            rows: npt.NDArray[np.float64] = self._ends[idx]
            return rows
        return np.column_stack([c[idx] for c in self._xyxy()])

    # geopandas reads and writes the geometries as ``_data``: made here on first use
    @property  # type: ignore[override]
    def _data(self) -> npt.NDArray[np.object_]:
        if self._lines is None:
            self._lines = shapely.linestrings(self.ends.reshape(-1, 2, 2))
        return self._lines

    @_data.setter
    def _data(self, value: npt.NDArray[np.object_]) -> None:
        self._lines = value

    @property
    def ends(self) -> npt.NDArray[np.float64]:
        """The (n, 4) end coordinates (read-only; made anew from the columns of :meth:`of_columns`)."""
        if self._ends is not None:
            return self._ends
        ends = np.column_stack(self._xyxy())
        ends.flags.writeable = False
        return ends

    @property
    def materialized(self) -> bool:
        """Whether the shapely LineStrings have been made."""
        return self._lines is not None

    def _like(self, ends: npt.NDArray[np.float64]) -> LineEnds:
        return LineEnds(ends, crs=self._crs)

    @property
    def size(self) -> int:
        """The number of lines."""
        if self._lines is not None:
            return int(self._lines.size)
        return len(self._ends) if self._ends is not None else len(self._columns[0])

    @property
    def nbytes(self) -> int:
        """Bytes held: the ends while lazy (those of a frame's columns are the frame's)."""
        if self._lines is not None:
            return int(self._lines.nbytes)
        return int(self._ends.nbytes) if self._ends is not None else 0

    def __getitem__(self, idx: Any) -> Any:
        if self._lines is not None:
            return super().__getitem__(idx)
        if isinstance(idx, numbers.Integral):
            return shapely.linestrings(np.array([c[idx] for c in self._xyxy()]).reshape(2, 2))
        if not isinstance(idx, slice):
            idx = pd.api.indexers.check_array_indexer(self, idx)
        return self._like(self._rows(idx))

    def take(
        self,
        indices: Sequence[int] | npt.NDArray[np.int64],
        allow_fill: bool = False,
        fill_value: Any = None,
    ) -> GeometryArray:
        """As GeometryArray.take; lazy when no missing value is filled in."""
        rows = np.asarray(indices, dtype=np.intp)
        if self._lines is not None or (allow_fill and (rows < 0).any()):
            return super().take(indices, allow_fill=allow_fill, fill_value=fill_value)
        if self._ends is not None:
            return self._like(self._ends.take(rows, axis=0))
        return self._like(np.column_stack([c.take(rows) for c in self._xyxy()]))

    def copy(self, *args: Any, **kwargs: Any) -> GeometryArray:  # noqa: ARG002 (pandas' signature)
        """A copy; while lazy it shares the read-only ends (or the columns' Series)."""
        if self._lines is not None:
            return super().copy()
        if self._ends is not None:
            return self._like(self._ends)
        # the same Series, not a copy of their values: geopandas copies an array when it
        # sets it as a frame's geometry, and the Series are not written through anyway
        return LineEnds.of_columns(self._columns, crs=self._crs)

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[GeometryArray]) -> GeometryArray:
        if all(isinstance(a, LineEnds) and not a.materialized for a in to_concat):
            lazy: list[LineEnds] = list(to_concat)  # type: ignore[arg-type]
            crs = lazy[0].crs if lazy else None
            return LineEnds(np.concatenate([a.ends for a in lazy]), crs=crs)
        return GeometryArray._concat_same_type(to_concat)

    def isna(self) -> npt.NDArray[np.bool_]:
        """Missing values: none while lazy (every finding has its two ends)."""
        if self._lines is not None:
            na: npt.NDArray[np.bool_] = super().isna()
            return na
        return np.zeros(self.size, dtype=bool)

    @property
    def bounds(self) -> npt.NDArray[np.float64]:
        """(minx, miny, maxx, maxy) of each line, from its ends while lazy."""
        if self._lines is not None:
            bounds: npt.NDArray[np.float64] = super().bounds
            return bounds
        x1, y1, x2, y2 = self._xyxy()
        return np.column_stack(
            [np.minimum(x1, x2), np.minimum(y1, y2), np.maximum(x1, x2), np.maximum(y1, y2)]
        )

    def __getstate__(self) -> Any:
        if self._lines is not None:
            return super().__getstate__()
        return {"_ends": self.ends, "_lines": None, "_crs": self._crs, "_sindex": None}

    def __setstate__(self, state: Any) -> None:
        self._columns = ()
        if isinstance(state, dict) and "_ends" in state:
            self.__dict__.update(state)
            return
        super().__setstate__(state)
        self._ends = np.empty((0, 4))
