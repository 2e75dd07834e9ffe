"""Schools and hazards from GIS files (GeoJSON, GeoPackage, Shapefile, GeoParquet) and lon/lat tables.

Every row either becomes a school or hazard or is returned as a reject (see
:mod:`campus_geo.sources.checks`) naming the file, the row (the spreadsheet row
number of a table, ``feature N`` of a GIS file), the column and the reason:
missing, non-numeric, non-finite or out-of-range coordinates, null or empty
geometries, a geometry the layer cannot use (a line given as a school),
antimeridian crossings, missing or duplicate ids, unknown kinds or
categories. Longitude and latitude given the wrong way round are swapped back
with a note (a :class:`~campus_geo.CoordinateWarning`).

A table's coordinate system is declared (``coords``, or a header such as
经度(GCJ-02)); a table of points in China that declares none is refused: the
offsets of GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are hundreds of metres,
more than a safety zone.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import CoordinateWarning, InputDataError, RejectedRowsWarning, warn_data
from campus_geo.categories import school_kinds
from campus_geo.category_registry import CategoryRegistry
from campus_geo.coords import normalise_system, out_of_china, to_wgs84
from campus_geo.rules import default_categories
from campus_geo.settings import DEFAULT_CRS, SCHOOL_KINDS
from campus_geo.sources import tables as _tables
from campus_geo.sources.checks import (
    SCHOOL_TYPES,
    empty_rejects,
    geometry_problems,
    rejects_frame,
    to_json,
    undeclared_coords_error,
)

__all__ = [
    "hazards_from_file",
    "read_table_points",
    "schools_from_file",
]

log = logging.getLogger(__name__)

_LON_NAMES: Final = ("lon", "lng", "longitude", "x", "经度", "gcj_lon", "wgs84_lon")
_LAT_NAMES: Final = ("lat", "latitude", "y", "纬度", "gcj_lat", "wgs84_lat")
_TABLE_SUFFIXES: Final = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")


def _col(gdf: pd.DataFrame, name: str) -> pd.Series:
    if name in gdf.columns:
        return gdf[name]
    return pd.Series(np.nan, index=gdf.index, dtype=object)


def _find_column(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _table_system(
    path: Path, coords: str | None, lon_col: str, lat_col: str, lon: np.ndarray, lat: np.ndarray
) -> str:
    hint = _tables.system_from_header(lon_col, lat_col)
    if coords is not None:
        declared = normalise_system(coords)
        if hint is not None and hint != declared:
            msg = (
                f"{path}: coordinates declared {declared} but the header {lon_col!r} says {hint}; "
                "check which system the geocoder used and declare that one"
            )
            raise InputDataError(msg)
        return declared
    if hint is not None:
        log.info("%s: coordinate system %s taken from the column header", path, hint)
        return hint
    if len(lon) and not out_of_china(lon, lat).all():
        raise undeclared_coords_error(path, f"{lon_col}/{lat_col}")
    return "wgs84"  # outside China GCJ-02 and BD-09 have no offset: the system does not matter


def _read_raw(path: Path, lon: str | None, lat: str | None) -> _tables.RawTable:
    schema = {"lon": (lon,) if lon else _LON_NAMES, "lat": (lat,) if lat else _LAT_NAMES}
    try:
        raw = _tables.read_table(path, schema, required="lon")
    except InputDataError as exc:
        if "no header row found" not in str(exc):
            raise
        head = (
            f"{path}: no longitude/latitude columns found in the first rows (a header naming "
            f"both, e.g. lon and lat, or 经度 and 纬度); {exc}"
        )
        raise InputDataError(
            head + "; rename the columns lon and lat, or pass lon= and lat= with their names",
            cli_message=head + "; rename the columns lon and lat (or 经度 and 纬度)",
        ) from exc
    if raw.frame.empty:
        msg = (
            f"{path}: no data rows below the header (row {raw.header_row}); the file holds "
            "only a header: export the rows as well"
        )
        raise InputDataError(msg)
    return raw


def read_table_points(
    filepath: str | Path,
    *,
    coords: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a CSV or XLSX table with lon/lat columns into points (EPSG:4326).

    The header is found below title rows (see :func:`campus_geo.sources.tables.read_table`);
    rows whose coordinates are missing, not numbers, not finite or outside
    -180..180 / -90..90 are returned as rejects naming the file, the row (as a
    spreadsheet shows it, header = row 1) and the column. Longitude and
    latitude given the wrong way round are swapped back, with a warning.

    Parameters
    ----------
    filepath
        CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK or GB18030) or XLSX file.
    coords
        Coordinate system of the table: "wgs84", "gcj02" or "bd09"; converted
        to WGS 84. None: the one a header declares (经度(GCJ-02)); a table of
        points in China that declares none is refused.
    lon, lat
        Column names; detected (lon/lng/longitude/x/经度 …) when None.

    Returns
    -------
    points, rejects
        The usable rows (``_row``: the row number) and the rejected ones.

    Raises
    ------
    InputDataError
        Unreadable file, no lon/lat header, no data rows, or an undeclared
        coordinate system for points in China.

    Warns
    -----
    RejectedRowsWarning
        Rows rejected for bad coordinates (also from :func:`schools_from_file`
        and :func:`hazards_from_file` reading a table).
    CoordinateWarning
        Longitude and latitude swapped back, or both in one cell.
    """
    path = Path(filepath)
    raw = _read_raw(path, lon, lat)
    schema = {"lon": (lon,) if lon else _LON_NAMES, "lat": (lat,) if lat else _LAT_NAMES}
    cols = _tables.match_columns(raw.columns, schema)
    lon_col, lat_col = cols["lon"], cols.get("lat")
    table = raw.frame
    xy = _tables.parse_lonlat(table, lon=lon_col, lat=lat_col, pair=None)
    bad = (xy["problem"] != "").to_numpy()
    good = table[~bad]
    x, y = xy["lon"].to_numpy()[~bad], xy["lat"].to_numpy()[~bad]
    system = _table_system(path, coords, lon_col, lat_col or lon_col, x, y)
    rejects = rejects_frame(
        str(path),
        table.index[bad],
        xy["column"][bad],
        xy["problem"][bad],
        [to_json(r) for r in table[bad].to_dict("records")],
    )
    for number, fix in xy.loc[(xy["fix"] != "") & ~bad, "fix"].items():
        warn_data(log, f"{path.name} row {number}: {fix}", CoordinateWarning, stacklevel=None)
    wlon, wlat = to_wgs84(x, y, system, label=path.name)
    points = gpd.GeoDataFrame(
        good.reset_index(drop=True),
        geometry=gpd.points_from_xy(wlon, wlat),
        crs=DEFAULT_CRS,
    )
    points["_row"] = [str(r) for r in good.index]
    if bad.any():
        warn_data(
            log,
            f"{path}: {int(bad.sum())} row(s) rejected for bad coordinates",
            RejectedRowsWarning,
            stacklevel=None,
        )
    return points, rejects


def _transformed(gdf: gpd.GeoDataFrame, coords: str, label: str) -> gpd.GeoDataFrame:
    """`gdf` (lon/lat in `coords`) with every vertex converted to WGS 84."""

    def to_wgs(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], coords, label=label)
        return np.column_stack([lon, lat])

    geoms = shapely.transform(gdf.geometry.to_crs(DEFAULT_CRS).to_numpy(), to_wgs)
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=DEFAULT_CRS))


def _read_gis(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if not path.exists():
        msg = f"file {path} does not exist; check the path"
        raise InputDataError(msg)
    try:
        # GDAL's warnings (an unclosed ring, ...) become data warnings naming the file
        with warnings.catch_warnings(record=True) as gdal:
            warnings.simplefilter("always")
            if path.suffix.lower() == ".parquet":
                gdf = gpd.read_parquet(path)
            else:
                gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
        for warning in gdal:
            warn_data(log, f"{path}: {warning.message}", CoordinateWarning, stacklevel=None)
    except Exception as exc:  # pyogrio/GDAL and pyarrow raise their own types
        msg = f"cannot read {path}: {exc}; give a GeoJSON, GeoPackage, Shapefile or GeoParquet file"
        raise InputDataError(msg) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        msg = f"{path} has no geometry column; give a GIS file with geometries, or a lon/lat table"
        raise InputDataError(msg)
    if gdf.crs is None:
        head = f"{path} has no coordinate reference system (CRS); add one (e.g. ogr2ogr -a_srs EPSG:4326"
        raise InputDataError(
            head + ") or, in Python, gdf.set_crs(4326) if the coordinates are lon/lat on WGS 84",
            cli_message=head + " in.gpkg out.gpkg for lon/lat on WGS 84)",
        )
    if len(gdf) == 0:
        msg = f"{path} has no features (0 rows); check the file and its layer"
        raise InputDataError(msg)
    return gdf


def _gis_rows(
    path: Path, layer: str | None, coords: str | None, allowed: tuple[str, ...] | None, what: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    gdf = _read_gis(path, layer).reset_index(drop=True)
    gdf["_row"] = [f"feature {i}" for i in range(len(gdf))]
    # checked before projecting (a non-finite vertex makes PROJ fail), and again after
    problems = geometry_problems(gdf.geometry.to_numpy(), allowed=allowed, what=what)
    if gdf.crs is not None and not gdf.crs.is_geographic:  # metres: degree ranges do not apply
        in_degrees = np.array([p.startswith(("coordinates out", "crosses")) for p in problems])
        problems[in_degrees] = ""
    ok = problems == ""
    geoms = np.full(len(gdf), None, dtype=object)
    if ok.any():
        good = gdf[ok]
        good = (
            _transformed(good, coords, path.name)
            if coords not in (None, "wgs84")
            else good.to_crs(DEFAULT_CRS)
        )
        converted = _repaired(good.geometry.to_numpy(), good["_row"].to_numpy(), path)
        problems[ok] = geometry_problems(converted, allowed=allowed, what=what)
        geoms[ok] = converted
    bad = problems != ""
    rejects = _reject_rows(gdf, bad, path, "geometry", list(problems[bad]))
    out = gpd.GeoDataFrame(
        gdf.drop(columns=[gdf.geometry.name]),
        geometry=gpd.GeoSeries(geoms, index=gdf.index, crs=DEFAULT_CRS),
    )
    return out[~bad], rejects


def _repaired(geoms: np.ndarray, rows: np.ndarray, path: Path) -> np.ndarray:
    """Invalid polygons made valid (their polygonal part kept), each with a warning."""
    areal = np.isin(shapely.get_type_id(geoms), [3, 6])
    invalid = np.flatnonzero(areal & ~shapely.is_valid(geoms))
    out = geoms.copy()
    for i in invalid:
        reason = shapely.is_valid_reason(geoms[i])
        parts = [
            p
            for p in shapely.get_parts(shapely.make_valid(geoms[i]))
            if p.geom_type in ("Polygon", "MultiPolygon")
        ]
        out[i] = shapely.union_all(parts) if parts else None
        warn_data(
            log,
            f"{path.name} {rows[i]}: invalid polygon ({reason}) repaired with make_valid; "
            "check the outline in the source",
            CoordinateWarning,
            stacklevel=None,
        )
    return out


def _read_any(
    filepath: str | Path,
    layer: str | None,
    coords: str | None,
    allowed: tuple[str, ...] | None = None,
    what: str = "",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    path = Path(filepath)
    if path.suffix.lower() in _TABLE_SUFFIXES:
        return read_table_points(path, coords=coords)
    return _gis_rows(path, layer, coords, allowed, what)


def _with_ids(
    gdf: gpd.GeoDataFrame, id_field: str, path: Path, index_name: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Rows indexed by their id; rows without one and rows sharing one are rejected."""
    if id_field not in gdf.columns:
        names = [str(c) for c in gdf.columns if c not in ("_row", gdf.geometry.name)]
        head = f"{path} has no `{id_field}` column (columns: {', '.join(names)})"
        raise InputDataError(
            head + "; add a unique id column or name the one to use with id_field=",
            cli_message=head + "; add a unique id column or name the one to use with --id-field",
        )
    ids = gdf[id_field].map(_tables.cell_text)
    missing = (ids == "").to_numpy()
    dup = ids.duplicated(keep=False).to_numpy() & ~missing
    reasons = np.full(len(gdf), "", dtype=object)
    reasons[missing] = f"no {id_field}: every row needs a unique id"
    rows_of = gdf.loc[dup, "_row"].groupby(ids[dup]).agg(list) if dup.any() else {}
    for i in np.flatnonzero(dup):
        others = [r for r in rows_of[ids.iloc[i]] if r != gdf["_row"].iloc[i]]
        reasons[i] = (
            f"duplicate {id_field} {ids.iloc[i]!r} (also in {', '.join(others)}); "
            "ids must be unique: all rows with it are left out"
        )
    bad = reasons != ""
    rejects = _reject_rows(gdf, bad, path, id_field, list(reasons[bad]))
    good = gdf[~bad]
    return good.set_index(pd.Index(ids[~bad], name=index_name)), rejects


def _reject_rows(
    gdf: gpd.GeoDataFrame, bad: np.ndarray, path: Path, column: str, reasons: list[str]
) -> pd.DataFrame:
    return rejects_frame(
        str(path),
        gdf["_row"][bad],
        [column] * int(bad.sum()),
        reasons,
        [to_json(r) for r in gdf[bad].drop(columns=[gdf.geometry.name]).to_dict("records")],
    )


def _warn_rejected(path: Path, rejects: pd.DataFrame) -> None:
    if len(rejects):
        warn_data(
            log,
            f"{path}: {len(rejects)} row(s) rejected (see the rejects: file, row, column, reason)",
            RejectedRowsWarning,
            stacklevel=None,
        )


def schools_from_file(
    filepath: str | Path,
    *,
    id_field: str = "id",
    layer: str | None = None,
    coords: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a schools layer from a GIS file or a lon/lat table.

    Needs an id column (`id_field`) and ``name``; ``kind`` is taken from a
    column or derived from the name; ``township`` and ``village`` are kept
    when present. A school is a campus outline (Polygon, MultiPolygon) or a
    point; other geometries, rows without or with a duplicate id, and unknown
    kinds are rejected.

    Parameters
    ----------
    filepath
        GeoJSON, GeoPackage, Shapefile, GeoParquet, CSV or XLSX.
    id_field
        Column with unique ids.
    layer
        Layer name in multi-layer files.
    coords
        Coordinate system of the coordinates ("wgs84", "gcj02", "bd09"): for a
        table see :func:`read_table_points`; a GIS file declares its CRS, and
        ``coords`` is only for one traced on Amap or Baidu.

    Returns
    -------
    schools, rejects
    """
    path = Path(filepath)
    gdf, rejects = _read_any(path, layer, coords, SCHOOL_TYPES, "school")
    gdf, id_rejects = _with_ids(gdf, id_field, path, "school_id")
    name_col = _find_column(gdf.columns, ("name", "名称", "学校名称"))
    names = gdf[name_col].map(_tables.cell_text) if name_col else pd.Series("", index=gdf.index)
    kind_col = _find_column(gdf.columns, ("kind", "类型", "学段"))
    derived = school_kinds(names)
    kind = (
        gdf[kind_col].map(_tables.cell_text).where(lambda k: k != "", derived)
        if kind_col
        else derived
    )
    bad = ~kind.isin(SCHOOL_KINDS).to_numpy()
    kind_rejects = _reject_rows(
        gdf,
        bad,
        path,
        kind_col or "kind",
        [f"unknown kind {k!r}; expected one of {', '.join(SCHOOL_KINDS)}" for k in kind[bad]],
    )
    gdf, names, kind = gdf[~bad], names[~bad], kind[~bad]
    out = gpd.GeoDataFrame(
        {
            "name": names,
            "kind": kind,
            "township": _col(gdf, "township").fillna("").astype(str),
            "village": _col(gdf, "village").fillna("").astype(str),
            "source": f"file:{path.name}#" + gdf["_row"].astype(str),
        },
        geometry=gdf.geometry,
        crs=DEFAULT_CRS,
    )
    _warn_rejected(path, _concat(id_rejects, kind_rejects))
    return out, _concat(rejects, id_rejects, kind_rejects)


def _concat(*frames: pd.DataFrame) -> pd.DataFrame:
    parts = [f for f in frames if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else empty_rejects()


def hazards_from_file(
    filepath: str | Path,
    *,
    category: str | None = None,
    id_field: str = "id",
    layer: str | None = None,
    coords: str | None = None,
    categories: CategoryRegistry | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a hazards layer from a GIS file or a lon/lat table.

    Parameters
    ----------
    filepath
        GeoJSON, GeoPackage, Shapefile, GeoParquet, CSV or XLSX.
    category
        Category of every row (``--hazards internet_cafe=FILE``); when None the
        file needs a ``category`` column. A category key, or one of its names
        (a Chinese label or alias: 网吧), in the argument or the column.
    id_field
        Column with unique ids.
    layer
        Layer name in multi-layer files.
    coords
        Coordinate system of the coordinates ("wgs84", "gcj02", "bd09"), as
        for :func:`schools_from_file`.
    categories
        The hazard categories (the default rule table's when None; a user's
        table may add some, see :func:`campus_geo.rules.read_categories`).

    Returns
    -------
    hazards, rejects
        Rows without a usable geometry, without or with a duplicate id, or of
        an unknown category are rejects.
    """
    table = default_categories() if categories is None else categories
    path = Path(filepath)
    if category is not None and table.resolve(category) is None:
        msg = f"hazards file {path}: {table.unknown_message(category)}"
        raise InputDataError(msg)
    gdf, rejects = _read_any(path, layer, coords)
    gdf, id_rejects = _with_ids(gdf, id_field, path, "hazard_id")
    cat_rejects = empty_rejects()
    if category is not None:
        written = pd.Series(category, index=gdf.index)
        cats = pd.Series(table.resolve(category), index=gdf.index)
    elif "category" in gdf.columns:
        written = gdf["category"].map(_tables.cell_text)
        names = table.names()
        cats = written.str.normalize("NFKC").str.strip().str.casefold().map(names)
        bad = cats.isna().to_numpy()
        cat_rejects = _reject_rows(
            gdf,
            bad,
            path,
            "category",
            [f"unknown category: {table.unknown_message(w)}" for w in written[bad]],
        )
        gdf, written, cats = gdf[~bad], written[~bad], cats[~bad].astype(str)
    else:
        head = f"{path} has no `category` column; give one or pass the category as "
        raise InputDataError(
            head + "category='internet_cafe'",
            cli_message=head + "--hazards CATEGORY=FILE (e.g. internet_cafe=FILE)",
        )
    name_col = _find_column(gdf.columns, ("name", "名称", "企业名称", "单位名称"))
    out = gpd.GeoDataFrame(
        {
            "name": gdf[name_col].map(_tables.cell_text) if name_col else "",
            "category": cats,
            "subcategory": "file:" + written,
            "address": _col(gdf, "address").fillna("").astype(str),
            "source": f"file:{path.name}#" + gdf["_row"].astype(str),
            "direction": pd.to_numeric(_col(gdf, "direction"), errors="coerce").astype(float),
        },
        geometry=gdf.geometry,
        crs=DEFAULT_CRS,
    )
    _warn_rejected(path, _concat(id_rejects, cat_rejects))
    return out, _concat(rejects, id_rejects, cat_rejects)
