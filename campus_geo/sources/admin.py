"""Townships and villages: the 乡（镇、街道） and 村（社区） each school lies in.

The campaign reports town by town: every township fills its own 排查表, and
the form's second column names each school's township and village. Rosters
give them for the schools they list; OpenStreetMap rarely tags them on the
school. This module reads the administrative areas and puts each school in
them:

- :func:`admin_from_file`: polygons with township and/or village names from
  any GIS file pyogrio reads (GeoPackage, Shapefile, GeoJSON, ...), the name
  columns detected in Chinese or English (乡镇/街道/township, 村/社区/village)
  or named by the caller;
- :func:`admin_from_features`: the ``boundary=administrative`` polygons of an
  OSM extract (admin_level 7-8: 乡镇/街道, 9-10: 村/社区 in China);
  :func:`campus_geo.sources.layers.layers_from_osm` keeps them in
  :attr:`~campus_geo.sources.layers.Layers.admin`;
- :func:`assign_admin`: fills each school's empty ``township`` and ``village``
  from the polygons containing its representative point.

Every frame of areas has the columns :data:`ADMIN_COLUMNS` and EPSG:4326
polygons. Containment is decided on lon/lat (the polygons' own edges, as a GIS
draws them: the same answer on any ellipsoid), never in a projection.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import CampusGeoWarning, InputDataError, RejectedRowsWarning, warn_data
from campus_geo.coords import normalise_system, to_wgs84
from campus_geo.settings import DEFAULT_CRS
from campus_geo.sources.tables import match_columns, normalise_header

__all__ = [
    "ADMIN_COLUMNS",
    "TOWNSHIP_FIELDS",
    "TOWNSHIP_LEVELS",
    "VILLAGE_FIELDS",
    "VILLAGE_LEVELS",
    "admin_from_features",
    "admin_from_file",
    "assign_admin",
]

log = logging.getLogger(__name__)

#: Columns of an areas frame: the names (``""`` when the polygon has none at that level),
#: the level of the polygon (``township`` or ``village``) and where it came from.
ADMIN_COLUMNS: Final = ("township", "village", "level", "source")
#: OSM ``admin_level`` values of townships (乡、镇、街道) and of villages (村、社区) in China.
TOWNSHIP_LEVELS: Final = ("7", "8")
VILLAGE_LEVELS: Final = ("9", "10")
#: Column names of a township's name in an areas file (compared after
#: :func:`campus_geo.sources.tables.normalise_header`: case, spaces and brackets ignored).
TOWNSHIP_FIELDS: Final = (
    "乡镇",
    "乡镇名称",
    "乡镇街道",
    "乡镇街道名称",
    "乡镇名",
    "所属乡镇",
    "所在乡镇",
    "所属乡镇街道",
    "所在乡",
    "街道",
    "街道名称",
    "所属街道",
    "乡",
    "镇",
    "township",
    "township_name",
    "town",
    "subdistrict",
)
#: Column names of a village's or community's name in an areas file.
VILLAGE_FIELDS: Final = (
    "村",
    "村名",
    "村名称",
    "村庄",
    "村庄名称",
    "行政村",
    "社区",
    "社区名称",
    "村社区",
    "村社区名称",
    "村居",
    "村居名称",
    "所属村",
    "所属社区",
    "所在村",
    "村委会",
    "居委会",
    "village",
    "village_name",
    "community",
)
#: Words in a header that make it a code or an id, never a name (乡镇代码, town_code).
_CODE_WORDS: Final = ("代码", "编码", "编号", "code", "id")
_TOWNSHIP_WORDS: Final = ("乡镇", "街道", "township")
_VILLAGE_WORDS: Final = ("村", "社区", "village", "community")
_POLYGONAL: Final = ("Polygon", "MultiPolygon")


def _empty_admin() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in ADMIN_COLUMNS},
        geometry=gpd.GeoSeries([], crs=DEFAULT_CRS),
    )
    gdf.index.name = "admin_id"
    return gdf


def _name(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _names(values: pd.Series) -> pd.Series:
    """Names as stripped text, ``""`` for missing."""
    return values.map(_name).astype(object)


def _guess_field(columns: list[str], words: tuple[str, ...], taken: set[str]) -> str | None:
    """The one column whose header contains one of `words` and is no code (None if 0 or 2+)."""
    hits = [
        c
        for c in columns
        if c not in taken
        and any(w in normalise_header(c) for w in words)
        and not any(w in normalise_header(c) for w in _CODE_WORDS)
    ]
    return hits[0] if len(hits) == 1 else None


def _fields(
    gdf: gpd.GeoDataFrame, path: Path, township_field: str | None, village_field: str | None
) -> tuple[str | None, str | None]:
    """The township and village name columns: as given, else detected."""
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    for given, option in ((township_field, "township"), (village_field, "village")):
        if given is not None and given not in columns:
            head = (
                f"{path} has no column `{given}` (given as the {option} field; columns: "
                f"{', '.join(columns)}); give one of these with "
            )
            raise InputDataError(
                head + f"{option}_field=", cli_message=head + f"--admin-{option}-field"
            )
    found = match_columns(columns, {"township": TOWNSHIP_FIELDS, "village": VILLAGE_FIELDS})
    town = township_field or found.get("township")
    village = village_field or found.get("village")
    taken = {c for c in (town, village) if c}
    if town is None and township_field is None:
        town = _guess_field(columns, _TOWNSHIP_WORDS, taken)
        taken |= {town} if town else set()
    if village is None and village_field is None:
        village = _guess_field(columns, _VILLAGE_WORDS, taken)
    if town is None and village is None:
        head = (
            f"{path}: no township or village name column found (columns: {', '.join(columns)}); "
            "name them 乡镇 and 村 (or township and village), or give "
        )
        raise InputDataError(
            head + "township_field= and/or village_field=",
            cli_message=head + "--admin-township-field COLUMN and/or --admin-village-field COLUMN",
        )
    return town, village


def _to_wgs84_polygons(geoms: gpd.GeoSeries, system: str, path: Path) -> gpd.GeoSeries:
    """Polygons whose lon/lat are in `system` (GCJ-02, BD-09), moved vertex by vertex to WGS 84."""

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], system, label=path.name)
        return np.column_stack([lon, lat])

    moved = shapely.transform(np.asarray(geoms.values, dtype=object), move)
    return gpd.GeoSeries(moved, index=geoms.index, crs=DEFAULT_CRS)


def admin_from_file(
    filepath: str | Path,
    *,
    township_field: str | None = None,
    village_field: str | None = None,
    layer: str | None = None,
    coords: str | None = None,
) -> gpd.GeoDataFrame:
    """Read township and village polygons from a GIS file.

    Each row is a township (its village name empty) or a village or community
    (with its township's name when the file has that column). Both kinds may
    be in one file: the smallest polygon containing a school names it.

    Parameters
    ----------
    filepath
        Any file pyogrio reads: GeoPackage, Shapefile, GeoJSON, FlatGeobuf ...
        It must declare its CRS (CGCS2000, EPSG:4490, and projected
        Gauss-Krüger CRSs are converted to EPSG:4326 by PROJ).
    township_field, village_field
        Columns with the names. Detected when None: a header such as 乡镇,
        乡镇名称, 街道, township (for villages 村, 村名称, 社区, village,
        community), else the one header containing 乡镇/街道/township
        (村/社区/village) that is not a code. At least one must be found.
    layer
        Layer of a multi-layer file (GeoPackage); the first when None.
    coords
        ``"gcj02"`` or ``"bd09"`` when the file's lon/lat are in that Chinese
        system although it declares EPSG:4326 (files traced on Amap or Baidu
        maps); its polygons are moved vertex by vertex to WGS 84. None or
        ``"wgs84"``: the file's CRS is taken as declared.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``admin_id`` (``<file name>#<feature number>``), columns
        ``township``, ``village``, ``level`` (``township`` or ``village``),
        ``source``; polygons in EPSG:4326.

    Raises
    ------
    InputDataError
        Missing or unreadable file, no CRS, no name column, no usable polygon.

    Warns
    -----
    RejectedRowsWarning
        Rows that are not polygons or have no name (left out, listed).

    Examples
    --------
    >>> import tempfile
    >>> from shapely.geometry import box
    >>> towns = gpd.GeoDataFrame({"乡镇": ["甲镇"], "村": ["乙村"]}, geometry=[box(113, 34, 113.01, 34.01)],
    ...                          crs="EPSG:4326")
    >>> path = Path(tempfile.mkdtemp()) / "towns.gpkg"
    >>> towns.to_file(path)
    >>> admin_from_file(path)[["township", "village", "level"]].to_dict("records")
    [{'township': '甲镇', 'village': '乙村', 'level': 'village'}]
    """
    path = Path(filepath)
    if not path.exists():
        msg = f"administrative areas file {path} does not exist; check the path given to --admin"
        raise InputDataError(msg)
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise their own types
        msg = (
            f"cannot read administrative areas file {path}: {exc}; give polygons in a "
            "GeoPackage, Shapefile, GeoJSON or another format GDAL reads"
        )
        raise InputDataError(msg) from exc
    if gdf.crs is None:
        head = (
            f"{path} has no CRS; add one (e.g. ogr2ogr -a_srs EPSG:4326 for lon/lat, EPSG:4490 "
            "for CGCS2000)"
        )
        raise InputDataError(
            head + " or, in Python, gdf.set_crs(...) before writing it",
            cli_message=head + ", or write the file again with its CRS",
        )
    town_col, village_col = _fields(gdf, path, township_field, village_field)
    system = normalise_system(coords) if coords else "wgs84"
    if system != "wgs84" and not gdf.crs.is_geographic:
        head = f"{path}: a coordinate system ({system}) is declared for lon/lat files"
        tail = f", but its CRS is projected ({gdf.crs.name}); leave it out"
        raise InputDataError(
            f"{head} (coords={system!r}){tail}", cli_message=f"{head} (--coords {system}){tail}"
        )
    gdf = gdf.to_crs(DEFAULT_CRS)
    town = _names(gdf[town_col]) if town_col else pd.Series("", index=gdf.index)
    village = _names(gdf[village_col]) if village_col else pd.Series("", index=gdf.index)
    polygonal = gdf.geometry.geom_type.isin(_POLYGONAL).to_numpy()
    named = ((town != "") | (village != "")).to_numpy()
    keep = polygonal & named
    if not keep.all():
        bad = np.flatnonzero(~keep)
        listed = ", ".join(
            f"feature {i} ({'no name' if polygonal[i] else gdf.geometry.iloc[i].geom_type})"
            for i in bad[:10]
        )
        warn_data(
            log,
            f"{path}: {len(bad)} row(s) left out, not a named polygon: {listed}",
            RejectedRowsWarning,
            stacklevel=None,
        )
    if not keep.any():
        msg = f"{path}: no polygon with a township or village name; check the file and its columns"
        raise InputDataError(msg)
    geoms = gdf.geometry[keep]
    invalid = ~geoms.is_valid
    if invalid.any():
        geoms = geoms.where(~invalid, geoms[invalid].make_valid())
    if system != "wgs84":
        geoms = _to_wgs84_polygons(geoms, system, path)
    rows = np.flatnonzero(keep)
    out = gpd.GeoDataFrame(
        {
            "township": town[keep].to_numpy(dtype=object),
            "village": village[keep].to_numpy(dtype=object),
            "level": np.where(village[keep] != "", "village", "township").astype(object),
            "source": [f"file:{path.name}#feature {i}" for i in rows],
        },
        geometry=geoms.to_numpy(),
        index=pd.Index([f"{path.name}#{i}" for i in rows], name="admin_id"),
        crs=DEFAULT_CRS,
    )
    log.info(
        "%s: %d township and %d village polygon(s) (name columns: township %s, village %s)",
        path.name,
        int((out["level"] == "township").sum()),
        int((out["level"] == "village").sum()),
        town_col or "-",
        village_col or "-",
    )
    return out


def _osm_name(features: pd.DataFrame) -> pd.Series:
    """``name:zh-Hans``, else ``name:zh``, else ``name`` (Chinese first)."""
    out = pd.Series("", index=features.index, dtype=object)
    for key in ("name", "name:zh", "name:zh-Hans"):
        if key in features.columns:
            value = _names(features[key])
            out = value.where(value != "", out)
    return out


def admin_from_features(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The township and village polygons among OSM features (``boundary=administrative``).

    admin_level 7-8 (:data:`TOWNSHIP_LEVELS`) are townships (乡、镇、街道),
    9-10 (:data:`VILLAGE_LEVELS`) villages and communities (村、社区), as
    OpenStreetMap maps China. Only closed areas count (a boundary relation
    cut by the extract's edge is a line: not an area). The name is
    ``name:zh-Hans``, else ``name:zh``, else ``name``.

    Parameters
    ----------
    features
        OSM features as :func:`campus_geo.sources.layers.layers_from_features`
        takes them (index ``way/1``, tag columns, EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        Index the OSM id, columns :data:`ADMIN_COLUMNS`; empty when the
        extract has no such polygon.
    """
    if "boundary" not in features.columns or "admin_level" not in features.columns:
        return _empty_admin()
    level = features["admin_level"].astype(str)
    rows = features[
        (features["boundary"] == "administrative")
        & level.isin(TOWNSHIP_LEVELS + VILLAGE_LEVELS)
        & features.geometry.geom_type.isin(_POLYGONAL)
    ]
    name = _osm_name(rows)
    rows, name = rows[name != ""], name[name != ""]
    if rows.empty:
        return _empty_admin()
    is_town = rows["admin_level"].astype(str).isin(TOWNSHIP_LEVELS)
    out = gpd.GeoDataFrame(
        {
            "township": name.where(is_town, ""),
            "village": name.where(~is_town, ""),
            "level": np.where(is_town, "township", "village").astype(object),
            "source": "osm:" + rows.index.to_series().astype(str),
        },
        geometry=rows.geometry,
        crs=DEFAULT_CRS,
    )
    out.index = pd.Index(rows.index.astype(str), name="admin_id")
    return out


def _in_crs(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = f"`{what}` has no CRS; call gdf.set_crs(4326) if the coordinates are lon/lat"
        raise InputDataError(msg)
    return gdf if gdf.crs.equals(DEFAULT_CRS) else gdf.to_crs(DEFAULT_CRS)


def _smallest_containing(
    points: np.ndarray, polygons: np.ndarray, areas: np.ndarray, allowed: np.ndarray
) -> np.ndarray:
    """Per point, the position of the smallest `allowed` polygon containing it (-1: none).

    A point on the edge shared by two polygons is in both (``intersects``): the
    smaller one, then the one first in the file, takes it.
    """
    out = np.full(len(points), -1, dtype=np.int64)
    positions = np.flatnonzero(allowed)
    if not len(positions) or not len(points):
        return out
    tree = shapely.STRtree(polygons[positions])
    point_i, poly_j = tree.query(points, predicate="intersects")
    if not len(point_i):
        return out
    poly_pos = positions[poly_j]
    order = np.lexsort((poly_pos, areas[poly_pos], point_i))
    point_i, poly_pos = point_i[order], poly_pos[order]
    first = np.r_[True, point_i[1:] != point_i[:-1]]
    out[point_i[first]] = poly_pos[first]
    return out


def assign_admin(schools: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill each school's empty ``township`` and ``village`` from the areas containing it.

    A school is placed by its representative point (``point_on_surface``: a
    point inside its campus outline, the point itself for a point school),
    tested against the polygons on lon/lat. A campus that straddles a border
    goes to the polygon containing that point; a point on an edge shared by
    two polygons goes to the smaller one. Where areas nest (a village inside
    its township, or both levels in one file), the township comes from the
    smallest polygon with a township name and the village from the smallest
    with a village name.

    Only empty values are filled: a value the school already has is kept. The
    command line fills, in this order, each value still empty:

    1. the school roster (``--roster``: its township and village replace any other);
    2. the school's own data: the columns of ``--schools``, OSM ``addr:*`` tags;
    3. the areas of ``--admin FILE`` (:func:`admin_from_file`);
    4. the OSM administrative boundaries of the extract (:func:`admin_from_features`).

    A village is not filled when its polygon names a township other than the
    school's (a roster saying 甲镇 for a school in 乙镇's village): the
    school keeps its township, gets no village, and a warning names it.

    Parameters
    ----------
    schools
        Schools layer (index ``school_id``, any CRS); ``township`` and
        ``village`` columns are added when missing.
    admin
        Areas as :func:`admin_from_file` or :func:`admin_from_features` give
        them (columns ``township``, ``village``; polygons, any CRS).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame: the schools, same index and geometry, with ``township``
        and ``village`` filled where they were empty and an area contains them.

    Raises
    ------
    InputDataError
        `schools` or `admin` has no CRS.

    Warns
    -----
    CampusGeoWarning
        Villages not filled because their township disagrees with the school's.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> admin = gpd.GeoDataFrame({"township": ["甲镇", "甲镇"], "village": ["", "乙村"]},
    ...     geometry=[box(0, 0, 1, 1), box(0, 0, 0.5, 0.5)], crs="EPSG:4326")
    >>> schools = gpd.GeoDataFrame({"name": ["一小", "二小"], "township": ["", "丙镇"]},
    ...     geometry=[Point(0.2, 0.2), Point(0.8, 0.8)], crs="EPSG:4326")
    >>> assign_admin(schools, admin)[["township", "village"]].to_dict("records")
    [{'township': '甲镇', 'village': '乙村'}, {'township': '丙镇', 'village': ''}]
    """
    out = schools.copy()
    for column in ("township", "village"):
        out[column] = (
            _names(out[column]) if column in out.columns else pd.Series("", index=out.index)
        ).astype(object)
    if out.empty or admin is None or admin.empty:
        return out
    areas = _in_crs(admin, "admin")
    points = shapely.point_on_surface(
        np.asarray(_in_crs(schools, "schools").geometry.values, dtype=object)
    )
    polygons = np.asarray(areas.geometry.values, dtype=object)
    size = shapely.area(polygons)  # nesting order only: area on lon/lat keeps it
    names = {c: _names(areas[c]).to_numpy(dtype=object) for c in ("township", "village")}
    town_of = _smallest_containing(points, polygons, size, names["township"] != "")
    village_of = _smallest_containing(points, polygons, size, names["village"] != "")
    before = out["township"].to_numpy(dtype=object)
    town = np.where(town_of >= 0, names["township"][np.maximum(town_of, 0)], "")
    filled_town = np.where(before == "", town, before)
    village = np.where(village_of >= 0, names["village"][np.maximum(village_of, 0)], "")
    village_town = np.where(village_of >= 0, names["township"][np.maximum(village_of, 0)], "")
    clash = (village != "") & (village_town != "") & (village_town != filled_town)
    empty_village = out["village"].to_numpy(dtype=object) == ""
    out["township"] = filled_town
    out["village"] = np.where(empty_village & ~clash, village, out["village"].to_numpy(object))
    _report(out, before, empty_village & clash, village_town)
    return out


def _report(
    out: gpd.GeoDataFrame, before: np.ndarray, clash: np.ndarray, village_town: np.ndarray
) -> None:
    """Log what was filled; warn about villages left out for a township clash."""
    now = out["township"].to_numpy(dtype=object)
    log.info(
        "townships: %d of %d school(s) filled from the areas, %d had one, %d in no township area",
        int(((before == "") & (now != "")).sum()),
        len(out),
        int((before != "").sum()),
        int((now == "").sum()),
    )
    shown = np.flatnonzero(clash)
    if not len(shown):
        return
    names = out["name"].astype(str) if "name" in out.columns else out.index.to_series().astype(str)
    listed = "、".join(
        f"{names.iloc[i]} (township {now[i]}, village area in {village_town[i]})"
        for i in shown[:10]
    )
    warn_data(
        log,
        f"{len(shown)} school(s) got no village: their village area lies in another township "
        f"than theirs: {listed}; check the roster's township or the areas file",
        CampusGeoWarning,
        stacklevel=None,
    )
