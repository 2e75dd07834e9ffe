"""Validation of canonical layers where they enter the screening.

Every problem is collected and reported together, naming the layer, the rows
(by id) and the column, with the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
    "id_list",
    "validate_entrances",
    "validate_hazards",
    "validate_schools",
    "value_codes",
]

_MAX_LISTED = 10


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
    from campus_geo.sources.checks import geometry_problems  # sources import this module

    problems = []
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        problems.append(
            f"`{name}` rows without geometry ({id_name}: {id_list(gdf.index[missing])}); "
            "give them coordinates or drop them into a rejects file"
        )
    reasons = geometry_problems(np.asarray(geoms), allowed=allowed, what=what)
    geographic = gdf.crs is None or gdf.crs.is_geographic
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
