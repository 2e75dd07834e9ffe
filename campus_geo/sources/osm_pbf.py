"""Streaming reader of OSM PBF extracts into the features frame of the XML path.

Private to :mod:`campus_geo.layers` (``layers_from_osm("province.osm.pbf")``).
osmnx reads only OSM XML and holds the whole file in Python objects, which for
a province extract (hundreds of MB of PBF, tens of millions of nodes) needs
tens of GB. This module streams the file instead and keeps only what the
canonical layers use.

**Reader: pyosmium** (PyPI ``osmium``, the Python binding of libosmium, the
library behind osmium-tool and osm2pgsql), rather than QuackOSM: pyosmium
streams object by object with C++ tag filters and a node-location index, so
memory holds only the kept features and the index, with no intermediate
GeoParquet cache on disk and no DuckDB dependency; its object model (node,
way, relation with their ids) maps one to one onto the ids the XML path keeps
(``way/123``), and it also writes PBF, which the tests use to convert a shared
XML extract and compare both paths.

**Same features as the XML path.** Geometries are built by osmnx's own
builders (``osmnx.features._build_way_geometry`` and
``_build_relation_geometry``: the polygon-or-line rule of closed ways, the
multipolygon assembly of relations), from the same 7-decimal coordinates
(PBF's fixed point divided by 1e7 is the same double as the XML text parsed),
then made valid, sorted and indexed as ``features_from_xml`` does; so
:func:`campus_geo.layers.layers_from_features` gives the same schools,
entrances and hazards, with the same ids, for the same data in either format.
The osmnx builders are private API, pinned by the version range in
pyproject.toml and by ``tests/test_pbf.py``, which compares both paths.

**What is kept** (three streaming passes; memory holds the kept features,
the node-location index and one box per street or building, never the file):

1. relations only: ``type=multipolygon|boundary`` relations that could make a
   school, a hazard, an admin area (``admin_level`` 7-10), water or a building,
   with the ids of their member ways;
2. nodes and ways with a node-location index (libosmium ``flex_mem``, or a
   disk-backed sparse array for files over :data:`campus_geo.network.pbf.DISK_INDEX_BYTES`): tagged
   nodes pass a C++ key filter; a node or way is kept as a feature when a tag
   can make it one of those things (:func:`wanted`), and so are the relations'
   member ways; of every other street (``highway`` line) only its id and
   bounding box are kept (the box from libosmium's WKB, built in C++);
3. ways only, filtered by id in C++: the streets within
   :data:`BASEMAP_MARGIN_M` of a school, built from the location index, for
   the maps around each school. A province's street network never becomes
   millions of Python objects.

Plain buildings (``building=*`` without a tag that makes them a feature) are
not read from PBF: a province has millions of them and the screening uses
none; the offline basemap of a PBF run draws streets and water. (An XML
file, small by nature, keeps them all.)

Only the tag keys in :data:`campus_geo.layers.FEATURE_TAGS` (with those the
categories' tags look at, see :func:`~campus_geo.sources.osm_tags.feature_tags`) are
kept as columns; the tags and name keywords that make an element wanted are those
of the categories given (the default rule table's unless a user's adds some).
"""

from __future__ import annotations

import logging
import re
import struct
import tempfile
import time
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import InputDataError, RejectedRowsWarning, warn_data
from campus_geo.adapters.osmnx import relation_geometry, way_geometry
from campus_geo.category_registry import CategoryRegistry
from campus_geo.geodesy import degrees_margin
from campus_geo.network.pbf import node_location_index
from campus_geo.rules import default_categories
from campus_geo.settings import DEFAULT_CRS
from campus_geo.sources.osm_tags import SCHOOL_AMENITIES, feature_tags

__all__ = ["BASEMAP_MARGIN_M", "read_features", "wanted"]

log = logging.getLogger(__name__)

#: Streets and buildings farther than this (metres) from every school are not kept.
BASEMAP_MARGIN_M: Final = 300.0
_RELATION_TYPES: Final = ("multipolygon", "boundary")
_MEMBER_TYPES: Final = {"n": "node", "w": "way", "r": "relation"}
_ADMIN_LEVELS: Final = frozenset({"7", "8", "9", "10"})


@dataclass(frozen=True)
class _Wanted:
    """What makes an element wanted, for one set of hazard categories (see :func:`wanted`)."""

    tag_values: dict[str, frozenset[str]]  # key -> values ("*": any value)
    name_re: re.Pattern[str] | None
    keep: frozenset[str]  # tag keys kept as columns
    node_keys: tuple[str, ...]  # keys that can make a tagged node wanted (C++ filter)

    @classmethod
    def of(cls, categories: CategoryRegistry) -> _Wanted:
        rules = (*categories.tag_rules, *categories.weak_tag_rules)
        tag_values = {
            key: frozenset(v for _, k, values in rules if k == key for v in values)
            for _, key, _ in rules
        }
        words = [w for _, ws in categories.name_keywords for w in ws]
        name_re = (
            re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
        )
        return cls(
            tag_values,
            name_re,
            frozenset(feature_tags(categories)),
            ("amenity", "entrance", "barrier", "name", *tag_values),
        )

    def __call__(self, tags: Mapping[str, str] | Any) -> bool:
        get = tags.get
        if get("amenity") in SCHOOL_AMENITIES or get("entrance") is not None:
            return True
        if get("barrier") == "gate":
            return True
        for key, values in self.tag_values.items():
            value = get(key)
            if value is not None and (value in values or "*" in values):
                return True
        if get("boundary") == "administrative" and get("admin_level") in _ADMIN_LEVELS:
            return True
        if get("natural") == "water" or get("waterway") is not None:
            return True
        name = get("name")
        return bool(name and self.name_re is not None and self.name_re.search(name))

    def subset(self, tags: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in tags.items() if k in self.keep}


def wanted(tags: Mapping[str, str] | Any, categories: CategoryRegistry | None = None) -> bool:
    """Whether an element with these tags can become a school, gate, hazard, admin area or water.

    A superset test (:func:`campus_geo.layers.layers_from_features` decides),
    written with ``get`` only: it runs on pyosmium's tag lists for every way of
    the file, where one ``get`` is a cheap C++ look-up and iterating is not.
    `categories`: whose tags and name keywords make a hazard (the default table's
    when None); :func:`read_features` builds the test once per file.

    Examples
    --------
    >>> wanted({"amenity": "school"}), wanted({"name": "星空网咖"}), wanted({"building": "yes"})
    (True, True, False)
    """
    return _Wanted.of(default_categories() if categories is None else categories)(tags)


def _only_building(tags: Any) -> bool:
    """The usual building: one tag, building=* (skips the full test for most ways)."""
    return len(tags) == 1 and tags.get("building") is not None


@dataclass
class _Boxes:
    """Id and bounding box of every street (no geometry, no Python object each)."""

    ids: array[int] = field(default_factory=lambda: array("q"))
    box: array[float] = field(default_factory=lambda: array("f"))  # 4 float32 per way

    def add(self, way: Any, wkb: str) -> None:
        # libosmium's hex WKB of a linestring: byte order, type, count, then x y doubles
        raw = bytes.fromhex(wkb)
        xy = struct.unpack_from(f"<{(len(raw) - 9) // 8}d", raw, 9)
        xs, ys = xy[0::2], xy[1::2]
        self.ids.append(way.id)
        # float32 keeps a province's boxes small; widened by 1e-5 degrees (about 1 m), more
        # than float32's rounding at 180 degrees, so a box never shrinks
        self.box.extend((min(xs) - 1e-5, min(ys) - 1e-5, max(xs) + 1e-5, max(ys) + 1e-5))


@dataclass
class _Collected:
    relations: dict[int, tuple[dict[str, str], list[dict[str, Any]]]] = field(default_factory=dict)
    members: set[int] = field(default_factory=set)
    member_geoms: dict[int, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    boxes: _Boxes = field(default_factory=_Boxes)
    missing: list[tuple[int, str]] = field(default_factory=list)  # way id, name


def _tags(obj: Any) -> dict[str, str]:
    return {t.k: t.v for t in obj.tags}


def _relations(path: Path, out: _Collected, want: _Wanted) -> None:
    import osmium

    proc = osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(
        osmium.filter.TagFilter(*(("type", t) for t in _RELATION_TYPES))
    )
    rel: Any  # osmium's iterator yields a union of entity types; relations only here
    for rel in proc:
        tags = _tags(rel)
        if not (want(tags) or tags.get("building")):
            continue
        # osmnx's member dicts, as its XML parser makes them
        members = [
            {"type": _MEMBER_TYPES[m.type], "ref": m.ref, "role": m.role} for m in rel.members
        ]
        out.relations[rel.id] = (tags, members)
        out.members.update(int(m["ref"]) for m in members if m["type"] == "way")


def _coords(way: Any) -> list[tuple[float, float]] | None:
    import osmium

    try:
        return [(n.lon, n.lat) for n in way.nodes]
    except osmium.InvalidLocationError:
        return None


def _way_geometry(
    refs: list[int], coords: list[tuple[float, float]], tags: dict[str, str], way_id: int
) -> Any:
    return way_geometry(way_id, refs, tags, dict(zip(refs, coords, strict=True)))


def _take_way(way: Any, out: _Collected, wkb: Any, want: _Wanted) -> None:
    import osmium

    tags = way.tags
    is_member = way.id in out.members
    feature = not _only_building(tags) and len(tags) > 0 and want(tags)
    if not feature and tags.get("highway") is not None:
        try:
            out.boxes.add(way, wkb.create_linestring(way))
        except (RuntimeError, osmium.InvalidLocationError):  # a node missing, or one node only
            out.missing.append((way.id, tags.get("name") or ""))
    if not (feature or is_member):
        return
    coords = _coords(way)
    if coords is None:
        if not out.missing or out.missing[-1][0] != way.id:
            out.missing.append((way.id, tags.get("name") or ""))
        return
    full = _tags(way)  # every tag: osmnx's polygon rule looks at all of them
    geometry = _way_geometry([n.ref for n in way.nodes], coords, full, way.id)
    if is_member:
        out.member_geoms[way.id] = geometry
    if feature:
        out.records.append(
            {"element": "way", "id": way.id, **want.subset(full), "geometry": geometry}
        )


def _nodes_and_ways(path: Path, out: _Collected, table: Any, want: _Wanted) -> None:
    import osmium

    node_filter = osmium.filter.KeyFilter(*want.node_keys)
    node_filter.enable_for(osmium.osm.NODE)
    proc = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations(table)
        .with_filter(node_filter)
    )
    wkb = osmium.geom.WKBFactory()
    obj: Any  # nodes and ways only (entities=NODE|WAY)
    for obj in proc:
        if obj.is_node():
            if want(obj.tags):
                point = shapely.Point(obj.location.lon, obj.location.lat)
                tags = want.subset(_tags(obj))
                out.records.append({"element": "node", "id": obj.id, **tags, "geometry": point})
        else:
            _take_way(obj, out, wkb, want)


def _basemap_ways(path: Path, ids: Any, table: Any, want: _Wanted) -> list[dict[str, Any]]:
    """Pass 3: the selected streets and buildings, located through the index of pass 2."""
    import osmium

    if len(ids) == 0:
        return []
    id_filter = osmium.filter.IdFilter(ids.tolist())
    id_filter.enable_for(osmium.osm.WAY)
    records = []
    way: Any  # ways only (entities=WAY)
    for way in osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(id_filter):
        refs = [n.ref for n in way.nodes]
        locations = [table.get(ref) for ref in refs]
        coords = [(loc.lon, loc.lat) for loc in locations]
        tags = _tags(way)
        geometry = _way_geometry(refs, coords, tags, way.id)
        records.append({"element": "way", "id": way.id, **want.subset(tags), "geometry": geometry})
    return records


def _relation_records(out: _Collected, want: _Wanted) -> Iterator[dict[str, Any]]:
    for rel_id, (tags, members) in out.relations.items():
        geometry = relation_geometry(members, out.member_geoms)
        yield {"element": "relation", "id": rel_id, **want.subset(tags), "geometry": geometry}


def _school_boxes(schools: gpd.GeoSeries, margin_m: float) -> Any:
    b = schools[~schools.is_empty].bounds.to_numpy()
    dlon, dlat = degrees_margin(margin_m, b)
    return shapely.box(b[:, 0] - dlon, b[:, 1] - dlat, b[:, 2] + dlon, b[:, 3] + dlat)


def _near_schools(boxes: _Boxes, features: list[dict[str, Any]], margin_m: float) -> Any:
    """Ids of the streets and buildings whose box comes within `margin_m` of a school's box."""
    schools = gpd.GeoSeries(
        [r["geometry"] for r in features if r.get("amenity") in SCHOOL_AMENITIES], crs=DEFAULT_CRS
    )
    ids = np.frombuffer(boxes.ids, dtype=np.int64)
    if len(ids) == 0 or schools.empty:
        if len(ids):
            log.info("no schools in the file: none of %d streets/buildings kept", len(ids))
        return np.empty(0, dtype=np.int64)
    zones = _school_boxes(schools, margin_m)
    b = np.frombuffer(boxes.box, dtype=np.float32).reshape(-1, 4).astype(np.float64)
    hit = np.unique(
        shapely.STRtree(zones).query(
            shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]), predicate="intersects"
        )[0]
    )
    log.info("%d of %d streets/buildings lie within %g m of a school", len(hit), len(ids), margin_m)
    return ids[hit]


def read_features(
    filepath: str | Path,
    *,
    margin_m: float = BASEMAP_MARGIN_M,
    categories: CategoryRegistry | None = None,
) -> gpd.GeoDataFrame:
    """Read an OSM PBF file into the features frame that ``osmnx.features_from_xml`` gives.

    Parameters
    ----------
    filepath
        A ``.osm.pbf`` file (pyosmium also reads .osm, .osm.bz2, .o5m).
    margin_m
        Streets and buildings farther than this (metres) from every school are
        not kept.
    categories
        The hazard categories whose tags and name keywords make an element
        wanted (the default rule table's when None).

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``node/1``, ``way/2``, ``relation/3`` (name ``osm_id``), columns
        the kept tag keys, EPSG:4326.

    Raises
    ------
    InputDataError
        A missing or unreadable file.

    Warns
    -----
    RejectedRowsWarning
        Ways left out: a node missing from the file (a clipped extract), or only one node.
    """
    import osmium

    path = Path(filepath)
    if not path.exists():
        msg = f"OSM file {path} does not exist; check the path given to --osm"
        raise InputDataError(msg)
    out = _Collected()
    want = _Wanted.of(default_categories() if categories is None else categories)
    started = time.perf_counter()
    try:
        _relations(path, out, want)
        with tempfile.TemporaryDirectory(prefix="campus_geo_pbf_") as tmpdir:
            table = osmium.index.create_map(node_location_index(path, tmpdir))
            _nodes_and_ways(path, out, table, want)
            records = [*out.records, *_relation_records(out, want)]
            near = _near_schools(out.boxes, records, margin_m)
            records += _basemap_ways(path, near, table, want)
            del table
    except (RuntimeError, KeyError, osmium.InvalidLocationError) as exc:  # libosmium I/O, format
        msg = (
            f"cannot read OSM file {path}: {type(exc).__name__}: {exc}; give an OSM PBF file "
            "(.osm.pbf) as downloaded from Geofabrik or openstreetmap.fr, or an OSM XML file"
        )
        raise InputDataError(msg) from exc
    if out.missing:
        warn_data(
            log,
            f"{path.name}: {len(out.missing)} way(s) left out: a node missing from the file, "
            "or only one node (see the rejects)",
            RejectedRowsWarning,
            stacklevel=None,
        )
    features = gpd.GeoDataFrame(
        pd.DataFrame.from_records(records)
        if records
        else pd.DataFrame({"element": [], "id": [], "geometry": []}),
        geometry="geometry",
        crs=DEFAULT_CRS,
    )
    # as osmnx: sorted by (element, id), empty geometries dropped, made valid, empty columns dropped
    features = features.sort_values(["element", "id"], kind="stable")
    features = features[~(features.geometry.isna() | features.geometry.is_empty)]
    features = features.set_geometry(features.geometry.make_valid()).dropna(
        axis="columns", how="all"
    )
    features.index = pd.Index(features["element"] + "/" + features["id"].astype(str), name="osm_id")
    features = features.drop(columns=["element", "id"])
    # the ways left out, for the rejects (pandas' attrs: metadata that travels with the frame)
    features.attrs["missing_ways"] = list(out.missing)
    log.info(
        "%s: %d features kept (%d relations) in %.1f s",
        path.name,
        len(features),
        len(out.relations),
        time.perf_counter() - started,
    )
    return features
