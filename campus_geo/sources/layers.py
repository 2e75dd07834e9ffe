"""Reading sources into the canonical layers: schools, entrances, hazards.

Sources: OpenStreetMap XML (``.osm``, ``.osm.bz2``) through osmnx; GIS files
(GeoJSON, GeoPackage, Shapefile, GeoParquet, ...) through pyogrio; tables
(CSV, XLSX) with lon/lat columns. Every layer leaves here in EPSG:4326 with a
unique string id as its index: OSM features keep their OSM identity
(``way/444227092``, ``node/1492963343``) so that every finding can be traced back.

Rows that cannot be used are never dropped silently: they are returned in a
``rejects`` table (file, row, column, reason, record) and logged.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import CoordinateWarning, InputDataError, RejectedRowsWarning, warn_data
from campus_geo.categories import (
    classify_features,
    non_k12_reason,
    school_kinds,
)
from campus_geo.category_registry import CategoryRegistry
from campus_geo.coords import to_wgs84
from campus_geo.geodesy import local_crs
from campus_geo.rules import default_categories
from campus_geo.settings import DEFAULT_CRS, SCHOOL_KINDS
from campus_geo.sources.admin import admin_from_features, assign_admin
from campus_geo.sources.gates import gate_names
from campus_geo.sources.osm_tags import ADDR_KEYS, FEATURE_TAGS, NOT_K12_AMENITIES, SCHOOL_AMENITIES

__all__ = [
    "FEATURE_TAGS",
    "REJECT_COLUMNS",
    "Layers",
    "empty_layers",
    "hazards_from_file",
    "layers_from_features",
    "layers_from_osm",
    "read_table_points",
    "schools_from_file",
]

log = logging.getLogger(__name__)

REJECT_COLUMNS: Final = ["file", "row", "column", "reason", "record"]
#: Entrances farther than this (metres) from every campus outline belong to no school.
_ENTRANCE_SNAP_M: Final = 3.0
_LON_NAMES: Final = ("lon", "lng", "longitude", "x", "经度", "gcj_lon", "wgs84_lon")
_LAT_NAMES: Final = ("lat", "latitude", "y", "纬度", "gcj_lat", "wgs84_lat")


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})


@dataclass(frozen=True)
class Layers:
    """Canonical layers read from one or more sources.

    Attributes
    ----------
    schools
        Index ``school_id``; ``name``, ``kind``, ``township``, ``village``,
        ``alt_names`` (names of point schools merged into the outline),
        ``source``; campus outline or point.
    entrances
        Index ``entrance_id``; ``school_id``, ``source``; points.
    hazards
        Index ``hazard_id``; ``name``, ``category``, ``subcategory``,
        ``address``, ``source``, ``direction`` (cameras, degrees); any geometry.
    excluded
        Schools left out of the screening with the reason (not K-12, duplicate point).
    rejects
        Rows that could not be used: file, row, column, reason, record.
    streets
        Highway lines (for basemaps and walking), ``highway`` and ``name``.
    water
        Water areas and waterway lines for basemaps, ``water`` (the tag value,
        e.g. ``river``, ``pond``, ``reservoir``) and ``name``.
    buildings
        Building outlines for basemaps, ``building`` and ``name``.
    admin
        Township and village areas of the OSM files (``boundary=administrative``
        polygons, see :mod:`campus_geo.sources.admin`): ``township``, ``village``,
        ``level``, ``source``.
    """

    schools: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    hazards: gpd.GeoDataFrame
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejects: pd.DataFrame = field(default_factory=_empty_rejects)
    streets: gpd.GeoDataFrame | None = None
    water: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    admin: gpd.GeoDataFrame | None = None

    def __add__(self, other: Layers) -> Layers:
        """Combine the layers of two sources (ids must not clash)."""

        def cat(a: Any, b: Any) -> Any:
            if a is None or len(a) == 0:
                return b if b is not None and len(b) else a
            if b is None or len(b) == 0:
                return a
            out = pd.concat([a, b])
            return (
                gpd.GeoDataFrame(out, crs=DEFAULT_CRS) if isinstance(a, gpd.GeoDataFrame) else out
            )

        return Layers(
            schools=cat(self.schools, other.schools),
            entrances=cat(self.entrances, other.entrances),
            hazards=cat(self.hazards, other.hazards),
            excluded=cat(self.excluded, other.excluded),
            rejects=cat(self.rejects, other.rejects),
            streets=cat(self.streets, other.streets),
            water=cat(self.water, other.water),
            buildings=cat(self.buildings, other.buildings),
            admin=cat(self.admin, other.admin),
        )


def _empty_layer(index_name: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in columns}, geometry=gpd.GeoSeries([], crs=DEFAULT_CRS)
    )
    gdf.index.name = index_name
    return gdf


def empty_layers() -> Layers:
    """Layers with no rows and the canonical columns (a start for combining sources)."""
    return Layers(
        schools=_empty_layer("school_id", ("name", "kind", "township", "village", "source")),
        entrances=_empty_layer("entrance_id", ("school_id", "source", "name")),
        hazards=_empty_layer("hazard_id", ("name", "category", "subcategory", "address", "source")),
    )


def _osm_ids(gdf: gpd.GeoDataFrame) -> pd.Index:
    element = gdf.index.get_level_values("element").astype(str)
    osm_id = gdf.index.get_level_values("id").astype(str)
    ids: pd.Index = pd.Index(element + "/" + osm_id)
    return ids


def _read_osm(filepath: Path) -> gpd.GeoDataFrame:
    import osmnx as ox  # imported here: osmnx is slow to import and only OSM input needs it

    if not filepath.exists():
        msg = f"OSM file {filepath} does not exist; check the path given to --osm"
        raise InputDataError(msg)
    try:
        features = ox.features_from_xml(filepath)
    except Exception as exc:  # osmnx raises many kinds (XML, KeyError, EOF...)
        msg = (
            f"cannot read OSM file {filepath}: {type(exc).__name__}: {exc}; "
            "give an OSM XML file (.osm or .osm.bz2) as exported by openstreetmap.org or Overpass"
        )
        raise InputDataError(msg) from exc
    if features.crs is None:
        features = features.set_crs(DEFAULT_CRS)
    features.index = _osm_ids(features)
    features.index.name = "osm_id"
    return features


def _col(gdf: pd.DataFrame, name: str) -> pd.Series:
    if name in gdf.columns:
        return gdf[name]
    return pd.Series(np.nan, index=gdf.index, dtype=object)


def _addresses(features: pd.DataFrame) -> pd.Series:
    full = _col(features, "addr:full").fillna("")
    parts = [features[k].fillna("").astype(str) for k in ADDR_KEYS if k in features.columns]
    composed = pd.Series("", index=features.index)
    for part in parts:
        composed = composed + part
    return full.where(full != "", composed)


def _polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Repair invalid outlines and keep their polygonal part."""
    invalid = ~geoms.is_valid
    if invalid.any():
        warn_data(
            log,
            f"repaired {int(invalid.sum())} invalid campus outline(s) with make_valid: "
            + ", ".join(geoms.index[invalid][:10]),
            CoordinateWarning,
            stacklevel=None,
        )
        repaired = geoms[invalid].make_valid()
        parts = repaired.apply(
            lambda g: shapely.union_all(
                [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            )
        )
        geoms = geoms.copy()
        geoms[invalid] = parts
    return geoms


def _schools(
    features: gpd.GeoDataFrame, source: str, admin: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    amenity = _col(features, "amenity")
    raw = features[amenity.isin(SCHOOL_AMENITIES)]
    names = _col(raw, "name").fillna("").astype(str)
    reason = non_k12_reason(names)
    reason = reason.where(
        ~_col(raw, "amenity").isin(NOT_K12_AMENITIES), "amenity=" + raw["amenity"].astype(str)
    )
    points = raw.geometry.geom_type == "Point"
    polys = raw[raw.geometry.geom_type.isin(["Polygon", "MultiPolygon"]) & (reason == "")]
    # a point school inside a campus outline is the same school mapped twice
    inside = gpd.sjoin(
        gpd.GeoDataFrame(geometry=raw.geometry[points & (reason == "")]),
        gpd.GeoDataFrame(geometry=polys.geometry).rename_axis("outline_id").reset_index(),
        predicate="within",
    )
    # ... when it has no name or is of the same kind (南京五中 in 南京市第五中学's outline);
    # a kindergarten point inside a middle school's outline is a school of its own
    if not inside.empty:
        point_kind = school_kinds(names.loc[inside.index])
        outline_kind = school_kinds(names.loc[inside["outline_id"]]).to_numpy()
        same = (names.loc[inside.index] == "").to_numpy() | (point_kind.to_numpy() == outline_kind)
        inside = inside[same]
    dup = inside.groupby(level=0)["outline_id"].first()
    reason.loc[dup.index] = "point inside outline " + dup
    aka = (
        pd.DataFrame({"outline": dup, "name": names.loc[dup.index]})
        .groupby("outline")["name"]
        .agg(lambda n: "；".join(sorted({x for x in n if x})))
    )
    keep = (reason == "") & raw.geometry.geom_type.isin(["Point", "Polygon", "MultiPolygon"])
    excluded = pd.DataFrame(
        {
            "school_id": raw.index[reason != ""],
            "name": names[reason != ""],
            "reason": reason[reason != ""],
        }
    )
    for row in excluded.itertuples():
        log.info("excluded %s %s: %s", row.school_id, row.name, row.reason)
    kept = raw[keep]
    geoms = _polygonal(kept.geometry)
    kind = school_kinds(names[keep], kept)
    # the school's own addr:* tags first, then the areas that contain it
    township = pd.Series("", index=kept.index, dtype=object)
    village = pd.Series("", index=kept.index, dtype=object)
    for key in ("addr:town", "addr:subdistrict", "addr:township"):
        if key in kept.columns:
            township = township.where(township != "", kept[key].fillna(""))
    for key in ("addr:village", "addr:neighbourhood", "addr:quarter"):
        if key in kept.columns:
            village = village.where(village != "", kept[key].fillna(""))
    schools = gpd.GeoDataFrame(
        {
            "name": names[keep].where(
                names[keep] != "", "(未命名学校 " + kept.index.to_series() + ")"
            ),
            "kind": kind,
            "township": township,
            "village": village,
            "alt_names": aka.reindex(kept.index).fillna("").astype(str),
            "source": "osm:" + kept.index.to_series() + f" ({source})",
        },
        geometry=geoms,
        crs=DEFAULT_CRS,
    )
    schools.index.name = "school_id"
    if admin is not None:
        schools = assign_admin(schools, admin)
    return schools, excluded


def _entrances(features: gpd.GeoDataFrame, schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    is_gate = _col(features, "entrance").notna() | (_col(features, "barrier") == "gate")
    gates = features[is_gate & (features.geometry.geom_type == "Point")]
    outlines = schools[schools.geometry.geom_type != "Point"]
    empty = gpd.GeoDataFrame(
        {
            "school_id": pd.Series(dtype=object),
            "source": pd.Series(dtype=object),
            "name": pd.Series(dtype=object),
        },
        geometry=gpd.GeoSeries([], crs=DEFAULT_CRS),
    )
    empty.index.name = "entrance_id"
    if gates.empty or outlines.empty:
        return empty
    crs = local_crs(outlines)
    boundary = gpd.GeoDataFrame(geometry=outlines.geometry.boundary.to_crs(crs))
    near = gpd.sjoin_nearest(
        gpd.GeoDataFrame(geometry=gates.geometry.to_crs(crs)),
        boundary,
        max_distance=_ENTRANCE_SNAP_M,
        how="inner",
    )
    near = near[~near.index.duplicated()]
    out = gpd.GeoDataFrame(
        {"school_id": near["school_id"].astype(str), "source": "osm:" + near.index.to_series()},
        geometry=gates.geometry.loc[near.index],
        crs=DEFAULT_CRS,
    )
    out.index.name = "entrance_id"
    own = gates.loc[near.index].filter(["name:zh-Hans", "name:zh", "name"])
    out["name"] = gate_names(out.join(own), schools)  # 东门, 南门1, 正门（西门）
    return out


def _hazards(
    features: gpd.GeoDataFrame,
    school_ids: pd.Index,
    source: str,
    categories: CategoryRegistry | None = None,
) -> gpd.GeoDataFrame:
    candidates = features[~features.index.isin(school_ids)]
    category, sub = classify_features(candidates, categories)
    hit = category != ""
    rows = candidates[hit]
    direction = pd.to_numeric(_col(rows, "camera:direction"), errors="coerce")
    hazards = gpd.GeoDataFrame(
        {
            "name": _col(rows, "name").fillna("").astype(str),
            "category": category[hit],
            "subcategory": sub[hit],
            "address": _addresses(rows),
            "source": "osm:" + rows.index.to_series() + f" ({source})",
            "direction": direction.astype(float),
        },
        geometry=rows.geometry,
        crs=DEFAULT_CRS,
    )
    hazards.index.name = "hazard_id"
    return hazards


def layers_from_osm(
    filepath: str | Path, *, admin_areas: bool = True, categories: CategoryRegistry | None = None
) -> Layers:
    """Read an OSM file (XML .osm/.osm.bz2, or PBF .osm.pbf) into the canonical layers.

    Schools are ``amenity=school|kindergarten`` features that are K-12 campuses
    (party schools, teacher-training schools, universities are excluded and
    listed with the reason); a school's kind comes from its name, then its
    tags. Township and village come from the school's ``addr:*`` tags, else
    from the ``boundary=administrative`` areas of the same file that contain
    it (admin_level 7-8 and 9-10, see :func:`campus_geo.sources.admin.assign_admin`);
    the areas are kept in ``Layers.admin``.
    Entrances are ``entrance=*`` / ``barrier=gate`` nodes within 3 m of a
    campus outline. Hazards are classified by tags, then Chinese name keywords
    (see :mod:`campus_geo.categories`).

    XML goes through osmnx; PBF (a province extract, hundreds of MB) is
    streamed by pyosmium, keeping only the elements these layers use (see
    :mod:`campus_geo.sources.osm_pbf`). Both give the same layers and ids for the
    same data: one step, :func:`layers_from_features`, makes the layers.

    Parameters
    ----------
    filepath
        Path to the OSM file; coordinates are WGS 84 by OSM's definition.
    admin_areas
        Fill the schools' township and village from the file's areas. False
        leaves that to the caller (``campus-geo screen --admin FILE`` puts the
        areas of that file first, then the OSM ones).
    categories
        The hazard categories whose OSM tags and name keywords classify the
        features: the default rule table's when None; a user's
        (:func:`campus_geo.rules.read_categories`) may add some.

    Returns
    -------
    Layers
        The canonical layers, ids ``node/…``, ``way/…``, ``relation/…``.

    Warns
    -----
    CoordinateWarning
        Invalid campus outlines repaired with ``make_valid``.
    RejectedRowsWarning
        PBF ways left out (a node missing from the file).

    Examples
    --------
    >>> from campus_geo import demo
    >>> osm = layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> osm.schools.crs.to_epsg(), osm.schools.index.name
    (4326, 'school_id')
    """
    path = Path(filepath)
    if path.name.lower().endswith(".pbf"):
        from campus_geo.sources.osm_pbf import read_features

        features = read_features(path, categories=categories)
    else:
        features = _read_osm(path)
    return layers_from_features(
        features, source=path.name, admin_areas=admin_areas, categories=categories
    )


def _chinese_names(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``name`` becomes ``name:zh-Hans``, else ``name:zh``, else ``name``: Chinese first.

    OSM's ``name`` is the name on the ground, which some mappers give in
    pinyin or English (长江路小学 as "Changjiang Road Primary School"); the
    forms and maps are read in Chinese.
    """
    chinese = [c for c in ("name:zh-Hans", "name:zh") if c in features.columns]
    if not chinese:
        return features
    name = _col(features, "name")
    for column in reversed(chinese):  # name:zh-Hans wins over name:zh
        given = features[column].where(features[column].astype(str).str.strip() != "")
        name = given.where(given.notna(), name)
    return features.assign(name=name)


def layers_from_features(
    features: gpd.GeoDataFrame,
    *,
    source: str,
    admin_areas: bool = True,
    categories: CategoryRegistry | None = None,
) -> Layers:
    """Make the canonical layers from OSM features (the step every OSM reader shares).

    Parameters
    ----------
    features
        One row per OSM element, index ``node/1``, ``way/2``, ``relation/3``,
        one column per tag key (at least :data:`FEATURE_TAGS` where present),
        geometry in EPSG:4326 built by osmnx's rules (as
        ``osmnx.features_from_xml`` makes it).
    source
        Name of the source (a file name) for the ``source`` columns and the log.
    admin_areas
        Fill the schools' empty township and village from the features'
        administrative areas (kept in ``Layers.admin`` either way).
    categories
        The hazard categories whose tags and name keywords classify the
        features (the default rule table's when None).

    Returns
    -------
    Layers
    """
    features = _chinese_names(features)
    admin = admin_from_features(features)
    schools, excluded = _schools(features, source, admin if admin_areas else None)
    entrances = _entrances(features, schools)
    school_ids = schools.index.union(pd.Index(excluded["school_id"]))
    hazards = _hazards(features, school_ids, source, categories)
    highway = _col(features, "highway")
    streets = features[
        highway.notna() & features.geometry.geom_type.isin(["LineString", "MultiLineString"])
    ]
    streets = gpd.GeoDataFrame(
        {"highway": _col(streets, "highway"), "name": _col(streets, "name")},
        geometry=streets.geometry,
        crs=DEFAULT_CRS,
    )
    log.info(
        "%s: %d schools (%d excluded), %d entrances, %d hazards",
        source,
        len(schools),
        len(excluded),
        len(entrances),
        len(hazards),
    )
    return Layers(
        schools=schools,
        entrances=entrances,
        hazards=hazards,
        excluded=excluded,
        streets=streets,
        water=_basemap_water(features),
        buildings=_basemap_buildings(features),
        admin=admin,
    )


def _basemap_water(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Water areas (natural=water, landuse=reservoir/basin, waterway=riverbank) and waterways."""
    natural, landuse, waterway = (_col(features, k) for k in ("natural", "landuse", "waterway"))
    reservoir = landuse.where(landuse.isin(["reservoir", "basin"]))
    kind = _col(features, "water").fillna(waterway).fillna(reservoir)
    is_water = (natural == "water") | waterway.notna() | reservoir.notna()
    types = ["Polygon", "MultiPolygon", "LineString", "MultiLineString"]
    rows = features[is_water & features.geometry.geom_type.isin(types)]
    return gpd.GeoDataFrame(
        {"water": kind[rows.index].fillna("water").astype(str), "name": _col(rows, "name")},
        geometry=rows.geometry,
        crs=DEFAULT_CRS,
    )


def _basemap_buildings(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Building outlines (any building=* area)."""
    building = _col(features, "building")
    rows = features[
        building.notna()
        & (building != "no")
        & features.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    ]
    return gpd.GeoDataFrame(
        {"building": building[rows.index].astype(str), "name": _col(rows, "name")},
        geometry=rows.geometry,
        crs=DEFAULT_CRS,
    )


def _find_column(columns: pd.Index, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def read_table_points(
    filepath: str | Path, *, coords: str = "wgs84", lon: str | None = None, lat: str | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a CSV or XLSX table with lon/lat columns into points (EPSG:4326).

    Rows whose coordinates are missing, not numbers, or outside -180..180 /
    -90..90 are not dropped silently: they are returned as rejects naming the
    file, the row (as a spreadsheet shows it, header = row 1) and the column.

    Parameters
    ----------
    filepath
        CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX file.
    coords
        Coordinate system of the table: "wgs84", "gcj02" or "bd09"; converted to WGS 84.
    lon, lat
        Column names; detected (lon/lng/longitude/x/经度 …) when None.

    Warns
    -----
    RejectedRowsWarning
        Rows rejected for bad coordinates (also from :func:`schools_from_file`
        and :func:`hazards_from_file` reading a table).
    """
    path = Path(filepath)
    table = _read_table(path)
    lon_col = lon or _find_column(table.columns, _LON_NAMES)
    lat_col = lat or _find_column(table.columns, _LAT_NAMES)
    if lon_col is None or lat_col is None or lon_col not in table or lat_col not in table:
        msg = (
            f"{path}: no longitude/latitude columns found (columns: {', '.join(map(str, table.columns))}); "
            "name them lon and lat (or 经度 and 纬度), or pass lon=/lat="
        )
        raise InputDataError(msg)
    x = pd.to_numeric(table[lon_col], errors="coerce")
    y = pd.to_numeric(table[lat_col], errors="coerce")
    bad_x = x.isna() | (x.abs() > 180)
    bad_y = y.isna() | (y.abs() > 90)
    bad = bad_x | bad_y
    rejects = pd.DataFrame(
        {
            "file": str(path),
            "row": (table.index[bad] + 2).astype(str),
            "column": np.where(bad_x[bad], lon_col, lat_col),
            "reason": np.where(
                table.loc[bad, lon_col].isna() | table.loc[bad, lat_col].isna(),
                "missing coordinate",
                "coordinate not a number or out of range",
            ),
            "record": [
                json.dumps(r, ensure_ascii=False, default=str)
                for r in table[bad].to_dict("records")
            ],
        },
        columns=REJECT_COLUMNS,
    )
    good = table[~bad]
    wlon, wlat = to_wgs84(x[~bad].to_numpy(), y[~bad].to_numpy(), coords)
    points = gpd.GeoDataFrame(good, geometry=gpd.points_from_xy(wlon, wlat), crs=DEFAULT_CRS)
    points["_row"] = (good.index + 2).astype(str)
    if bad.any():
        warn_data(
            log,
            f"{path}: {int(bad.sum())} row(s) rejected for bad coordinates",
            RejectedRowsWarning,
            stacklevel=None,
        )
    return points, rejects


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        msg = f"file {path} does not exist; check the path"
        raise InputDataError(msg)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=object)
    from campus_geo.sources.tables import decode_text

    text, _ = decode_text(path.read_bytes(), path=path)
    return pd.read_csv(io.StringIO(text), dtype=object)


def _read_any(
    filepath: str | Path, layer: str | None, coords: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    path = Path(filepath)
    if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xlsm"):
        return read_table_points(path, coords=coords)
    if not path.exists():
        msg = f"file {path} does not exist; check the path"
        raise InputDataError(msg)
    try:
        if path.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL and pyarrow raise their own types
        msg = f"cannot read {path}: {exc}; give a GeoJSON, GeoPackage, Shapefile or GeoParquet file"
        raise InputDataError(msg) from exc
    if gdf.crs is None:
        msg = (
            f"{path} has no CRS; add one (e.g. ogr2ogr -a_srs EPSG:4326) or, in Python, "
            "gdf.set_crs(4326) if the coordinates are lon/lat on WGS 84"
        )
        raise InputDataError(msg)
    if coords != "wgs84":
        lon, lat = to_wgs84(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy(), coords)
        gdf = gdf.set_geometry(gpd.points_from_xy(lon, lat), crs=DEFAULT_CRS)
    gdf = gdf.to_crs(DEFAULT_CRS)
    gdf["_row"] = [f"feature {i}" for i in range(len(gdf))]
    return gdf, _empty_rejects()


def _with_ids(
    gdf: gpd.GeoDataFrame, id_field: str, path: Path, index_name: str
) -> gpd.GeoDataFrame:
    if id_field not in gdf.columns:
        msg = (
            f"{path} has no `{id_field}` column (columns: {', '.join(map(str, gdf.columns))}); "
            "add a unique id column or name the one to use with --id-field"
        )
        raise InputDataError(msg)
    ids = gdf[id_field]
    if ids.isna().any():
        rows = ", ".join(gdf.loc[ids.isna(), "_row"][:10])
        msg = f"{path}: rows {rows} have no `{id_field}`; give every row a unique id"
        raise InputDataError(msg)
    ids = ids.astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if not dup.empty:
        rows = ", ".join(f"{gdf.loc[i, '_row']} ({v})" for i, v in dup.head(10).items())
        msg = f"{path}: duplicate `{id_field}` values in rows {rows}; ids must be unique"
        raise InputDataError(msg)
    return gdf.set_index(ids.rename(index_name))


def schools_from_file(
    filepath: str | Path, *, id_field: str = "id", layer: str | None = None, coords: str = "wgs84"
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a schools layer from a GIS file or a lon/lat table.

    Needs an id column (`id_field`) and ``name``; ``kind`` is taken from a
    column or derived from the name; ``township`` and ``village`` are kept
    when present.

    Returns
    -------
    schools, rejects
    """
    path = Path(filepath)
    gdf, rejects = _read_any(path, layer, coords)
    gdf = _with_ids(gdf, id_field, path, "school_id")
    name_col = _find_column(gdf.columns, ("name", "名称", "学校名称"))
    names = gdf[name_col].fillna("").astype(str) if name_col else pd.Series("", index=gdf.index)
    kind_col = _find_column(gdf.columns, ("kind", "类型", "学段"))
    derived = school_kinds(names)
    kind = (
        gdf[kind_col].fillna("").astype(str).where(lambda k: k != "", derived)
        if kind_col
        else derived
    )
    bad = ~kind.isin(SCHOOL_KINDS)
    if bad.any():
        rows = ", ".join(f"{gdf.loc[i, '_row']} ({kind[i]!r})" for i in kind.index[bad][:10])
        msg = f"{path}: unknown kind in rows {rows}; expected one of {', '.join(SCHOOL_KINDS)}"
        raise InputDataError(msg)
    out = gpd.GeoDataFrame(
        {
            "name": names,
            "kind": kind,
            "township": _col(gdf, "township").fillna("").astype(str),
            "village": _col(gdf, "village").fillna("").astype(str),
            "source": f"file:{path.name}#" + gdf["_row"],
        },
        geometry=gdf.geometry,
        crs=DEFAULT_CRS,
    )
    return out, rejects


def hazards_from_file(
    filepath: str | Path,
    *,
    category: str | None = None,
    id_field: str = "id",
    layer: str | None = None,
    coords: str = "wgs84",
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
        Coordinate system of point tables ("wgs84", "gcj02", "bd09").
    categories
        The hazard categories (the default rule table's when None; a user's
        table may add some, see :func:`campus_geo.rules.read_categories`).

    Returns
    -------
    hazards, rejects
    """
    table = default_categories() if categories is None else categories
    path = Path(filepath)
    gdf, rejects = _read_any(path, layer, coords)
    gdf = _with_ids(gdf, id_field, path, "hazard_id")
    if category is not None:
        key = table.resolve(category)
        if key is None:
            msg = f"hazards file {path}: {table.unknown_message(category)}"
            raise InputDataError(msg)
        written = pd.Series(category, index=gdf.index)
        cats = pd.Series(key, index=gdf.index)
    elif "category" in gdf.columns:
        written = gdf["category"].fillna("").astype(str)
        names = table.names()
        cats = written.str.normalize("NFKC").str.strip().str.casefold().map(names)
        bad = cats.isna()
        if bad.any():
            rows = ", ".join(f"{gdf.loc[i, '_row']} ({written[i]!r})" for i in cats.index[bad][:10])
            first = str(written[bad].iloc[0])
            msg = (
                f"{path}: unknown category in column `category`, rows {rows}; "
                f"{table.unknown_message(first)}"
            )
            raise InputDataError(msg)
        cats = cats.astype(str)
    else:
        msg = f"{path} has no `category` column; give one or pass the category as CATEGORY=FILE"
        raise InputDataError(msg)
    name_col = _find_column(gdf.columns, ("name", "名称", "企业名称", "单位名称"))
    out = gpd.GeoDataFrame(
        {
            "name": gdf[name_col].fillna("").astype(str) if name_col else "",
            "category": cats,
            "subcategory": "file:" + written,
            "address": _col(gdf, "address").fillna("").astype(str),
            "source": f"file:{path.name}#" + gdf["_row"],
            "direction": pd.to_numeric(_col(gdf, "direction"), errors="coerce").astype(float),
        },
        geometry=gdf.geometry,
        crs=DEFAULT_CRS,
    )
    return out, rejects
