"""Findings read back from the files that screening wrote (findings.gpkg, findings.csv).

``campus-geo form`` rebuilds every report from saved findings without
screening again: :func:`findings_from_file` reads them back with the columns
and types that :func:`campus_geo.screen.screen` gives.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo.screen import CSV_COLUMNS
from campus_geo.settings import DEFAULT_CRS

__all__ = ["findings_from_file"]

log = logging.getLogger(__name__)

_NUMBERS: Final = (
    "threshold_m",
    "distance_m",
    "school_lon",
    "school_lat",
    "hazard_lon",
    "hazard_lat",
)


def findings_from_file(filepath: str | Path) -> gpd.GeoDataFrame:
    """Read findings back from the findings.gpkg (exact) or findings.csv that screening wrote.

    The GeoPackage keeps every value as computed; the CSV has distances to the
    millimetre and end points to 7 decimals, and the measured line is rebuilt
    from the end points.

    Raises
    ------
    InputDataError
        When the file is missing, unreadable, lacks findings columns or has
        values that are not numbers (the message names the rows).
    """
    path = Path(filepath)
    if not path.is_file():
        msg = f"findings file {path} does not exist; give the findings.gpkg written by `campus-geo screen`"
        raise InputDataError(msg)
    is_csv = path.suffix.lower() == ".csv"
    try:
        if is_csv:
            table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        else:
            table = pd.DataFrame(gpd.read_file(path, engine="pyogrio"))
    except Exception as exc:  # pyogrio/GDAL and pandas raise their own types
        msg = f"cannot read findings file {path}: {exc}; give findings.gpkg or findings.csv"
        raise InputDataError(msg) from exc
    missing = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing:
        msg = (
            f"{path} is not a findings file: it lacks the column(s) {', '.join(missing)}; "
            "give the findings.gpkg or findings.csv written by `campus-geo screen`"
        )
        raise InputDataError(msg)
    for column in _NUMBERS:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:10])
            msg = f"{path}: column `{column}` is not a number in row(s) {rows}; fix or re-screen"
            raise InputDataError(msg)
        table[column] = values.astype(float)
    text = [c for c in CSV_COLUMNS if c not in _NUMBERS]
    table[text] = table[text].fillna("").astype(str)
    ends = table[["school_lon", "school_lat", "hazard_lon", "hazard_lat"]].to_numpy(dtype=float)
    lines = (
        shapely.linestrings(ends.reshape(-1, 2, 2))
        if is_csv or "geometry" not in table.columns
        else np.asarray(table["geometry"], dtype=object)
    )
    index = pd.Index(table["finding_id"], name="finding_id", dtype="str")
    data = table[CSV_COLUMNS[1:]].set_axis(index)
    findings = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(lines, index=index, crs=DEFAULT_CRS))
    log.info("read %d findings from %s", len(findings), path)
    return findings
