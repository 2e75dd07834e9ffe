"""Validation of canonical layers where they enter the screening.

Every problem is collected and reported together, naming the layer, the rows
(by id) and the column, with the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from campus_geo._errors import InputDataError
from campus_geo.settings import CATEGORIES, DEFAULT_CRS, SCHOOL_KINDS

__all__ = [
    "check_geometry",
    "geometry_problems",
    "id_list",
    "validate_entrances",
    "validate_hazards",
    "validate_schools",
    "value_codes",
]

_MAX_LISTED = 10

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


def id_list(values: Iterable[object]) -> str:
    items = [str(v) for v in values]
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _check_frame(gdf: object, name: str, id_name: str, *, allow_empty: bool = False) -> list[str]:
    if not isinstance(gdf, gpd.GeoDataFrame):
        return [f"`{name}` must be a GeoDataFrame, got {type(gdf).__name__}"]
    problems = []
    if gdf.crs is None:
        problems.append(
            f"`{name}` has no CRS; call gdf.set_crs(4326) if the coordinates are lon/lat "
            "on WGS 84 (convert GCJ-02/BD-09 coordinates with campus_geo.coords first)"
        )
    if len(gdf) == 0:
        if allow_empty:
            return problems
        problems.append(f"`{name}` is empty (0 rows); check the input file and its filters")
        return problems
    if gdf.index.has_duplicates:
        dup = gdf.index[gdf.index.duplicated()].unique()
        problems.append(
            f"`{name}` has duplicate {id_name} values: {id_list(dup)}; ids must be unique "
            "(deduplicate the rows, or index the frame by another unique column: gdf.set_index(...))"
        )
    if gdf.index.hasnans:
        problems.append(f"`{name}` has rows without {id_name}; give every row an id")
    return problems


def check_geometry(
    gdf: gpd.GeoDataFrame,
    name: str,
    id_name: str,
    *,
    allowed: Sequence[str] | None = None,
    what: str = "",
) -> list[str]:
    """Problems of the geometries of `gdf`: missing, unusable coordinates, wrong type, invalid.

    `allowed`: the geometry types the layer takes (None: any); `what` names
    one row ("school") in the message on a wrong type. Out-of-range
    coordinates and antimeridian crossings are judged in a geographic CRS only.
    """
    problems: list[str] = []
    geoms = gdf.geometry.values
    geographic = gdf.crs is None or gdf.crs.is_geographic
    if _all_usable_points(np.asarray(geoms), geographic) and (
        allowed is None or "Point" in allowed
    ):
        return problems  # a venue layer of millions of points: one pass over the coordinates
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        problems.append(
            f"`{name}` rows without geometry ({id_name}: {id_list(gdf.index[missing])}); "
            "give them coordinates or drop them into a rejects file"
        )
    reasons = geometry_problems(np.asarray(geoms), allowed=allowed, what=what)
    degrees = ("coordinates out", "crosses")  # judged in degrees only
    unusable = ~missing & (reasons != "")
    if not geographic:
        unusable &= ~np.array([str(r).startswith(degrees) for r in reasons])
    if unusable.any():
        listed = [f"{i}: {r}" for i, r in zip(gdf.index[unusable], reasons[unusable], strict=True)]
        more = f"; and {len(listed) - _MAX_LISTED} more" if len(listed) > _MAX_LISTED else ""
        problems.append(
            f"`{name}` has unusable geometries ({id_name}: reason): "
            + "; ".join(listed[:_MAX_LISTED])
            + more
            + "; fix or drop those rows"
        )
    areal = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    invalid = ~missing & ~unusable & areal & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        listed = [f"{i} ({r})" for i, r in zip(gdf.index[invalid], reasons, strict=True)]
        problems.append(
            f"`{name}` has invalid polygons ({id_name}: {id_list(listed)}); repair them with "
            "gdf.make_valid() or fix the outline in the source"
        )
    return problems


def _all_usable_points(geoms: npt.NDArray[np.object_], geographic: bool) -> bool:
    """Whether every geometry is a non-empty point with usable coordinates.

    The common case of a hazards layer, checked in one pass over the coordinates
    (5 million points: 0.5 s, where :func:`geometry_problems`, which also says what
    is wrong with each row, takes 1.9 s). False sends the layer to that check.
    """
    if not len(geoms) or not (shapely.get_type_id(geoms) == 0).all():
        return False  # a missing geometry's type is -1
    xy = shapely.get_coordinates(geoms)
    if len(xy) != len(geoms):  # an empty point has no coordinates
        return False
    if not np.isfinite(xy).all():
        return False
    if not geographic:
        return True
    return bool((np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all())


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


def value_codes(
    values: pd.Series | pa.Array | pa.ChunkedArray, allowed: Sequence[str]
) -> npt.NDArray[np.int64]:
    """Position of each value in `allowed`, -1 where it is not there (or missing).

    Arrow's hash lookup (``pyarrow.compute.index_in``) when the column is text
    (a pandas "str" column or an Arrow array): about ten times faster than
    pandas' on millions of rows.
    """
    arrow = isinstance(values, pa.Array | pa.ChunkedArray)
    if arrow or (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        array = values if arrow else pa.array(values, from_pandas=True)
        found = pc.index_in(array, value_set=pa.array(list(allowed), type=array.type))
        return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.asarray(pd.Index(list(allowed)).get_indexer(pd.Index(values)), dtype=np.int64)


def _check_values(
    gdf: gpd.GeoDataFrame, name: str, column: str, allowed: tuple[str, ...]
) -> list[str]:
    if column not in gdf.columns:
        return [f"`{name}` has no `{column}` column; expected one of {', '.join(allowed)} per row"]
    bad = value_codes(gdf[column], allowed) < 0
    if not bad.any():
        return []
    values = sorted({str(v) for v in gdf.loc[bad, column]})
    return [
        f"`{name}` has unknown {column} value(s) {', '.join(values)} in rows "
        f"{id_list(gdf.index[bad])}; expected one of {', '.join(allowed)}"
    ]


def _raise(problems: list[str], name: str) -> None:
    if problems:
        head = f"{len(problems)} problem(s) in `{name}`: " if len(problems) > 1 else ""
        raise InputDataError(head + "; ".join(problems), problems)


def validate_schools(gdf: object, *, name: str = "schools") -> gpd.GeoDataFrame:
    """Check a schools layer and return it in EPSG:4326.

    Raises
    ------
    InputDataError
        Listing every problem: no CRS, empty, duplicate or missing ids, missing
        or invalid geometry, unknown kind.
    """
    problems = _check_frame(gdf, name, "school_id")
    if not isinstance(gdf, gpd.GeoDataFrame) or len(gdf) == 0:
        _raise(problems, name)
    assert isinstance(gdf, gpd.GeoDataFrame)
    problems += check_geometry(
        gdf, name, "school_id", allowed=("Point", "Polygon", "MultiPolygon"), what="school"
    )
    problems += _check_values(gdf, name, "kind", SCHOOL_KINDS)
    _raise(problems, name)
    return gdf.to_crs(DEFAULT_CRS)


def validate_hazards(
    gdf: object, *, name: str = "hazards", categories: Sequence[str] = CATEGORIES
) -> gpd.GeoDataFrame:
    """Check a hazards layer and return it in EPSG:4326.

    `categories`: the category keys of the screening (the default table's by
    default; a user's rule table may add some, see :func:`campus_geo.rules.categories_of`).

    Raises
    ------
    InputDataError
        Listing every problem: no CRS, empty, duplicate or missing ids, missing
        or invalid geometry, unknown category.
    """
    problems = _check_frame(gdf, name, "hazard_id")
    if not isinstance(gdf, gpd.GeoDataFrame) or len(gdf) == 0:
        _raise(problems, name)
    assert isinstance(gdf, gpd.GeoDataFrame)
    problems += check_geometry(gdf, name, "hazard_id")
    problems += _check_values(gdf, name, "category", tuple(categories))
    _raise(problems, name)
    return gdf.to_crs(DEFAULT_CRS)


def validate_entrances(gdf: object, *, name: str = "entrances") -> gpd.GeoDataFrame:
    """Check an entrances layer (points with a `school_id`) and return it in EPSG:4326."""
    problems = _check_frame(gdf, name, "entrance_id", allow_empty=True)
    _raise(problems, name)
    assert isinstance(gdf, gpd.GeoDataFrame)
    if "school_id" not in gdf.columns:
        problems.append(f"`{name}` has no `school_id` column; every entrance names its school")
    points = shapely.get_type_id(gdf.geometry.values) == 0
    if not points.all():
        problems.append(
            f"`{name}` has non-point geometries (rows {id_list(gdf.index[~points])}); "
            "entrances are points"
        )
    _raise(problems, name)
    return gdf.to_crs(DEFAULT_CRS)
