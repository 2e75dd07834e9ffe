"""The input contract every reader keeps: a row it cannot use becomes a reject, never a loss.

A reject names the file, the row (as the user sees it: a spreadsheet row
number, ``feature 3`` of a GIS file, ``way/10`` of an OSM file), the column,
the reason with the fix, and the record as read. The readers of
:mod:`campus_geo.sources` return their rejects in this shape
(:data:`REJECT_COLUMNS`); ``campus-geo screen`` writes them to rejects.csv.

Geometries are checked where they enter (:func:`campus_geo._validate.geometry_problems`,
re-exported here, which the validation of a GeoDataFrame shares): missing
or empty, non-finite or out-of-range coordinates, shapes crossing the
antimeridian (unsupported: the local metric projections used to measure span
less than 180 degrees of longitude), geometry types the layer cannot use (a
line given as a school) and polygons of zero area.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo._validate import geometry_problems

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
