"""The input contract every reader keeps: a row it cannot use becomes a reject, never a loss.

A reject names the file, the row (as the user sees it: a spreadsheet row
number, ``feature 3`` of a GIS file, ``way/10`` of an OSM file), the column,
the reason with the fix, and the record as read. The readers of
:mod:`campus_geo.sources` return their rejects in this shape
(:data:`REJECT_COLUMNS`); ``campus-geo screen`` writes them to rejects.csv.

Geometries are checked where they enter (:func:`geometry_problems`): missing
or empty, non-finite or out-of-range coordinates, shapes crossing the
antimeridian (unsupported: the local metric projections used to measure span
less than 180 degrees of longitude), geometry types the layer cannot use (a
line given as a school) and polygons of zero area.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from campus_geo._errors import InputDataError

__all__ = [
    "AREA_TYPES",
    "REJECT_COLUMNS",
    "SCHOOL_TYPES",
    "empty_rejects",
    "geometry_problems",
    "rejects_frame",
    "to_json",
    "undeclared_coords_error",
]

REJECT_COLUMNS: Final = ["file", "row", "column", "reason", "record"]
#: Geometry types a school (campus outline or point) may have.
SCHOOL_TYPES: Final = ("Point", "Polygon", "MultiPolygon")
#: Polygonal geometry types.
AREA_TYPES: Final = ("Polygon", "MultiPolygon")
#: Square degrees (or metres) below which a polygon has no area: about 1 cm² on the ground;
#: points on a line leave a rounding residue of ~1e-21.
_ZERO_AREA: Final = 1e-14
#: Geometry type names by shapely's type id.
_TYPE_NAMES: Final = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows and the columns of :data:`REJECT_COLUMNS`."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})


def to_json(record: dict[Any, Any]) -> str:
    """A row as read, as JSON text (the ``record`` of a reject); missing cells left out."""
    cells = {
        str(k): v
        for k, v in record.items()
        if v is not None
        and k != "_row"
        and not (isinstance(v, float) and np.isnan(v))
        and not isinstance(v, shapely.Geometry)
    }
    return json.dumps(cells, ensure_ascii=False, default=str)


def rejects_frame(
    file: str,
    rows: Iterable[object],
    columns: Iterable[object],
    reasons: Iterable[object],
    records: Iterable[str],
) -> pd.DataFrame:
    """A rejects table from parallel sequences (one entry per rejected row)."""
    frame = pd.DataFrame(
        {
            "row": [str(r) for r in rows],
            "column": [str(c) for c in columns],
            "reason": [str(r) for r in reasons],
            "record": list(records),
        }
    )
    frame.insert(0, "file", file)
    return frame.reindex(columns=REJECT_COLUMNS).astype(object)


def geometry_problems(
    geoms: Sequence[Any] | npt.NDArray[Any], *, allowed: Sequence[str] | None = None, what: str = ""
) -> npt.NDArray[np.object_]:
    """The reason each geometry (lon/lat degrees, EPSG:4326) cannot be used, "" where it can.

    Parameters
    ----------
    geoms
        Shapely geometries (None for a missing one), coordinates in degrees.
    allowed
        Geometry types the layer takes (e.g. :data:`SCHOOL_TYPES`); None: any.
    what
        What the layer holds ("school"), for the message on a wrong type.

    Returns
    -------
    numpy.ndarray
        One reason per geometry (object dtype), "" for the usable ones.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> problems = geometry_problems([Point(113, 34), Point(113, 134), None])
    >>> problems[0], problems[1][:45], problems[2]
    ('', 'coordinates out of range (lon 113.0, lat 134.', 'no geometry (null or empty)')
    >>> geometry_problems([LineString([(113, 34), (113.1, 34)])], allowed=("Point",), what="school")[0]
    'a LineString cannot be a school (expected Point); give a point'
    """
    values = np.asarray(geoms, dtype=object)
    n = len(values)
    out = np.full(n, "", dtype=object)
    if n == 0:
        return out
    values = values.copy()
    values[pd.isna(values)] = None
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    out[missing] = "no geometry (null or empty)"
    xy, index = shapely.get_coordinates(values, return_index=True)
    finite = np.isfinite(xy).all(axis=1)
    not_finite = np.zeros(n, dtype=bool)
    np.logical_or.at(not_finite, index, ~finite)
    out[not_finite & ~missing] = "a coordinate is not a finite number (inf or NaN)"
    in_range = (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
    beyond = np.zeros(n, dtype=bool)
    np.logical_or.at(beyond, index, finite & ~in_range)
    # the first out-of-range vertex of each geometry (one pass, not one per geometry)
    outside = np.flatnonzero(finite & ~in_range)
    owners, first_at = np.unique(index[outside], return_index=True)
    first_of = dict(zip(owners.tolist(), outside[first_at].tolist(), strict=True))
    for i in np.flatnonzero(beyond & ~not_finite & ~missing):
        first = xy[first_of[i]]
        out[i] = (
            f"coordinates out of range (lon {first[0]}, lat {first[1]}): longitude must be "
            "within -180..180 and latitude within -90..90"
        )
    usable = out == ""
    bounds = shapely.bounds(values)
    with np.errstate(invalid="ignore"):  # inf - inf in the rows already refused
        wide = usable & ((bounds[:, 2] - bounds[:, 0]) > 180)
    for i in np.flatnonzero(wide):
        out[i] = (
            f"crosses the antimeridian (longitude {bounds[i, 0]} to {bounds[i, 2]}), which "
            "campus_geo does not support; split it at 180 degrees or leave it out"
        )
    usable = out == ""
    types = np.asarray(shapely.get_type_id(values))
    names = np.array(_TYPE_NAMES, dtype=object)
    if allowed is not None:
        kind = np.where(types >= 0, names[np.clip(types, 0, 7)], "")
        wrong = usable & ~np.isin(kind, list(allowed))
        expected = ", ".join(allowed)
        hint = "the campus outline (a polygon) or a point" if "Polygon" in allowed else "a point"
        for i in np.flatnonzero(wrong):
            out[i] = f"a {kind[i]} cannot be a {what} (expected {expected}); give {hint}"
        usable = out == ""
    areal = usable & np.isin(types, [3, 6])
    # the area of the valid shape: a bow tie's signed halves cancel, a line's is truly zero
    flat = areal.copy()
    flat[areal] = shapely.area(shapely.make_valid(values[areal])) <= _ZERO_AREA
    out[flat] = "polygon of zero area (its points lie on a line); draw the outline again"
    return out


def undeclared_coords_error(path: Path, columns: str) -> InputDataError:
    """The error of a table of points in China whose coordinate system is not declared.

    The message speaks of ``coords=`` to a Python user and of ``--coords`` to
    a command-line user (:attr:`InputDataError.cli_message`).
    """
    head = (
        f"{path}: the coordinate system of the {columns} columns is not declared and the points "
        "lie in China, where Amap/Tencent (GCJ-02) and Baidu (BD-09) coordinates are hundreds "
        "of metres off WGS 84; "
    )
    return InputDataError(
        head + "declare it: coords='gcj02' (Amap, Tencent), coords='bd09' (Baidu) or "
        "coords='wgs84' (GPS, OpenStreetMap)",
        cli_message=head + "declare it with --coords right after the file on the command line: "
        "--coords gcj02 (Amap, Tencent), --coords bd09 (Baidu) or --coords wgs84 (GPS, "
        'OpenStreetMap); in a project file, coords = "gcj02"',
    )
