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

import logging
from dataclasses import dataclass, field, replace
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
from campus_geo.geodesy import local_crs
from campus_geo.settings import DEFAULT_CRS
from campus_geo.sources.admin import admin_from_features, assign_admin
from campus_geo.sources.checks import (
    REJECT_COLUMNS,
    empty_rejects,
    geometry_problems,
    rejects_frame,
    to_json,
)
from campus_geo.sources.files import hazards_from_file, read_table_points, schools_from_file
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

#: Entrances farther than this (metres) from every campus outline belong to no school.
_ENTRANCE_SNAP_M: Final = 3.0


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
    rejects: pd.DataFrame = field(default_factory=empty_rejects)
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


def _missing_nodes(filepath: Path) -> pd.DataFrame:
    """Rejects for the ways of an OSM XML file that reference nodes the file lacks.

    osmnx leaves such ways out without a word (a clipped extract, a hand-edited
    file): each becomes a reject naming the way and its missing nodes.
    """
    import bz2
    import xml.etree.ElementTree as ET

    opener = bz2.open if filepath.suffix.lower() == ".bz2" else open
    nodes: set[str] = set()
    ways: list[tuple[str, list[str], dict[str, str]]] = []
    refs: list[str] = []
    tags: dict[str, str] = {}
    with opener(filepath, "rb") as stream:
        for _, elem in ET.iterparse(stream, events=("end",)):
            if elem.tag == "node":
                nodes.add(elem.get("id", ""))
                elem.clear()
            elif elem.tag == "nd":
                refs.append(elem.get("ref", ""))
            elif elem.tag == "tag":
                tags[elem.get("k", "")] = elem.get("v", "")
            elif elem.tag == "way":
                if any(r not in nodes for r in refs):
                    ways.append((elem.get("id", ""), [r for r in refs if r not in nodes], tags))
                refs, tags = [], {}
                elem.clear()
            elif elem.tag == "relation":
                refs, tags = [], {}
                elem.clear()
    return rejects_frame(
        str(filepath),
        [f"way/{w}" for w, _, _ in ways],
        ["nd"] * len(ways),
        [
            f"references node(s) {', '.join(m[:5])}{' ...' if len(m) > 5 else ''} missing from "
            "the file (a clipped extract?): the way is left out; extract with complete ways "
            "(osmium extract --strategy complete_ways, or Overpass with (._;>;))"
            for _, m, _ in ways
        ],
        [to_json(t) for _, _, t in ways],
    )


def _read_osm(filepath: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
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
    try:
        missing = _missing_nodes(filepath)
    except Exception as exc:  # osmnx read it: a second reading cannot fail but for a race
        msg = f"cannot read OSM file {filepath} again: {type(exc).__name__}: {exc}"
        raise InputDataError(msg) from exc
    return features, missing


def _usable_features(
    features: gpd.GeoDataFrame, source: str
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Features whose geometry can be measured; the others as rejects (out of range, antimeridian)."""
    problems = geometry_problems(features.geometry.to_numpy())
    bad = problems != ""
    if not bad.any():
        return features, empty_rejects()
    names = _col(features, "name")[bad]
    rejects = rejects_frame(
        source,
        features.index[bad],
        ["geometry"] * int(bad.sum()),
        problems[bad],
        [to_json({"name": n}) for n in names],
    )
    return features[~bad], rejects


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
        ~_col(raw, "amenity").isin(NOT_K12_AMENITIES), "amenity=" + _col(raw, "amenity").astype(str)
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
    dup = inside.groupby(level=0)["outline_id"].first().astype(str)
    if len(dup):
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
        ways = features.attrs.get("missing_ways", [])
        missing = rejects_frame(
            str(path),
            [f"way/{w}" for w, _ in ways],
            ["nd"] * len(ways),
            [
                "a node of the way is missing from the file (a clipped extract?), or it has "
                "one node only: the way is left out; extract with complete ways (osmium "
                "extract --strategy complete_ways)"
            ]
            * len(ways),
            [to_json({"name": n} if n else {}) for _, n in ways],
        )
    else:
        features, missing = _read_osm(path)
    features, unusable = _usable_features(features, str(path))
    layers = layers_from_features(
        features, source=path.name, admin_areas=admin_areas, categories=categories
    )
    rejects = pd.concat([r for r in (missing, unusable) if len(r)] or [empty_rejects()])
    # the PBF reader warned of its missing nodes already
    unwarned = len(unusable) if path.name.lower().endswith(".pbf") else len(rejects)
    if unwarned:
        warn_data(
            log,
            f"{path}: {unwarned} OSM element(s) left out (a node missing from the file, or "
            "coordinates that cannot be measured): see the rejects",
            RejectedRowsWarning,
            stacklevel=None,
        )
    return replace(layers, rejects=rejects.reset_index(drop=True))


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
