"""The generated demo district: a fictional county district in Henan, byte-reproducible.

青禾区 of the fictional city 许安市 lies around lon 113.85, lat 34.05 (WGS 84).
Everything in it is made by campus_geo from one seed with ``random.Random(seed)``:
nine townships (乡/镇/街道) tiled by villages and communities, towns with street
grids joined by arterial roads, village hamlets, K-12 schools with campus
outlines and gates (plus non-K-12 decoys), rivers, a canal, ponds and a
reservoir, a few hundred venues of every hazard category, bus stops, crossings,
signals and cameras. Near-threshold school/venue pairs are planted at designed
ellipsoidal distances, and their true distances are measured and written beside
them, for tests.

:func:`generate_demo` writes into one directory:

- ``district.osm``: OSM XML 0.6 (for ``osmnx.features_from_xml`` and
  ``osmnx.graph_from_xml``), WGS 84 coordinates with 7 decimals;
- ``registry.xlsx`` and ``registry_gbk.csv``: business registries with GCJ-02
  coordinates and deliberately dirty rows;
- ``schools_roster.xlsx``: the education bureau's school list (GCJ-02);
- ``五个百分之百.xlsx`` and ``重点水域检查.xlsx``: the campaign's checklist registers
  (per school, per water body), a few items missing by a fixed pattern;
- ``planted.csv``: the planted pairs, design and true distances in metres;
- ``README.md``: what is where, and how it was made.

The same seed gives the same bytes, in any process, on any day. The layout is
built by :mod:`campus_geo.demo.layout` (land, streets, schools) and
:mod:`campus_geo.demo.hazards` (planted pairs, water, venues, traffic, cameras); the
tables are written by :mod:`campus_geo.demo.tables`.
"""

from __future__ import annotations

import csv
import io
import logging
import random
from collections import Counter
from pathlib import Path
from typing import Final

from shapely import STRtree
from shapely.geometry import Point

from campus_geo.demo import hazards, layout, tables
from campus_geo.demo.model import (
    EXCLUSION_M,
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    VARIANTS,
    District,
    School,
)
from campus_geo.demo.osm import min_geodesic_distance, to_lonlat

__all__ = ["DEMO_DIR", "DEMO_FILES", "DEMO_SEED", "generate_demo"]

log = logging.getLogger(__name__)

#: Seed of the committed demo district (the campaign's investigation month).
DEMO_SEED: int = 20230601
#: Where the committed demo district lives: ``data/demo`` in the source tree.
DEMO_DIR: Path = Path(__file__).resolve().parents[2] / "data" / "demo"

#: The files of a demo district, by key (see :func:`generate_demo`).
DEMO_FILES: Final = {
    "osm": "district.osm",
    "registry_xlsx": "registry.xlsx",
    "registry_csv": "registry_gbk.csv",
    "roster": "schools_roster.xlsx",
    "planted": "planted.csv",
    "school_checklist": "五个百分之百.xlsx",
    "water_checklist": "重点水域检查.xlsx",
    "readme": "README.md",
}
_PLANTED_COLUMNS: Final = (
    "school_osm_id",
    "school_name",
    "hazard_osm_id",
    "hazard_name",
    "category",
    "design_m",
    "true_m",
)
_TOLERANCE_M: Final = 0.02  # |true - design| of every planted pair
_DECOYS: Final = ("party_school", "teacher_school", "university")


def generate_demo(dirpath: str | Path = DEMO_DIR, *, seed: int = DEMO_SEED) -> dict[str, Path]:
    """Write the demo district into ``dirpath``.

    Parameters
    ----------
    dirpath
        Output directory, created if missing; existing files of the same names
        are overwritten.
    seed
        Seed of the one ``random.Random`` that makes every choice. The same
        seed always gives byte-identical files.

    Returns
    -------
    dict of str to Path
        Keys ``osm``, ``registry_xlsx``, ``registry_csv``, ``roster``,
        ``planted``, ``school_checklist`` (五个百分之百.xlsx), ``water_checklist``
        (重点水域检查.xlsx), ``readme``.

    Raises
    ------
    RuntimeError
        If a seed gives a district that breaks one of the generator's
        guarantees (a planted pair off its design distance by 0.02 m or more,
        another hazard of a planted pair's category within 400 m of its
        school, a disconnected street network). The default seed does not.

    Examples
    --------
    >>> import tempfile
    >>> paths = generate_demo(tempfile.mkdtemp())
    >>> sorted(paths)
    ['osm', 'planted', 'readme', 'registry_csv', 'registry_xlsx', 'roster', 'school_checklist', 'water_checklist']
    """
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in DEMO_FILES.items()}
    d = _build(seed)
    bounds = (LON_MIN, LAT_MIN, LON_MAX, LAT_MAX)
    paths["osm"].write_bytes(d.osm.to_xml(bounds, "campus_geo demo"))
    paths["planted"].write_bytes(_planted_csv(d))
    registry = tables.write_registry(
        paths["registry_xlsx"], paths["registry_csv"], _registry_venues(d), d.rng
    )
    roster = tables.write_roster(paths["roster"], _roster_schools(d), d.rng)
    checklists = tables.write_checklists(
        paths["school_checklist"], paths["water_checklist"], *_checklist_rows(d)
    )
    facts = _facts(d, seed, registry, roster)
    facts.checklists = checklists
    tables.write_readme(paths["readme"], facts)
    log.info("demo district (seed %d) written to %s", seed, out)
    return paths


def _build(seed: int) -> District:
    d = District(random.Random(seed))
    layout.build_admin(d)
    layout.build_rivers(d)
    layout.build_towns(d)
    layout.build_hamlets(d)
    layout.build_park_paths(d)
    layout.build_schools(d)
    hazards.plant_pairs(d)
    hazards.build_water_bodies(d)
    hazards.scatter_venues(d)
    hazards.add_traffic_and_cameras(d)
    _measure_plants(d)
    _check_isolation(d)
    _check_connected(d)
    return d


# ---------------------------------------------------------------------------
# guarantees


def _school_coords(d: District, school: School) -> list[tuple[float, float]]:
    if school.way:
        return d.osm.coords_ll(school.way)
    return [to_lonlat((school.geom.x, school.geom.y))]


def _measure_plants(d: District) -> None:
    """True ellipsoidal distance of every planted pair, from the written coordinates."""
    for plant in d.plants:
        plant.true_m = min_geodesic_distance(
            _school_coords(d, plant.school), plant.coords, prefilter_m=plant.design_m + 100.0
        )
        if abs(plant.true_m - plant.design_m) >= _TOLERANCE_M:
            msg = (
                f"planted {plant.hazard_name} is {plant.true_m:.3f} m from "
                f"{plant.school.name}, designed {plant.design_m} m"
            )
            raise RuntimeError(msg)


def _check_isolation(d: District) -> None:
    """No other school nearer a planted hazard; nothing else of its category near its school."""
    for plant in d.plants:
        for other in d.schools:
            if other is not plant.school and other.geom.distance(plant.geom) <= plant.design_m:
                msg = f"{other.name} is nearer to planted {plant.hazard_name} than {plant.school.name}"
                raise RuntimeError(msg)
        rivals = [w.geom for w in d.waters if w.ref != plant.hazard_ref]
        if plant.category != "water":
            rivals = [
                Point(v.xy)
                for v in d.venues
                if v.category == plant.category and v.ref != plant.hazard_ref
            ]
        if rivals:
            nearest = STRtree(rivals).query_nearest(plant.school.geom, return_distance=True)
            if float(nearest[1][0]) < EXCLUSION_M:
                msg = f"another {plant.category} hazard is near {plant.school.name}"
                raise RuntimeError(msg)


def _check_connected(d: District) -> None:
    """All highway ways form one network (union-find over shared nodes)."""
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for way in d.osm.ways.values():
        if "highway" in way.tags:
            root = find(way.nodes[0])
            for node in way.nodes[1:]:
                parent[find(node)] = root
    roots = {find(n) for n in list(parent)}
    if len(roots) != 1:
        msg = f"the street network has {len(roots)} components"
        raise RuntimeError(msg)


# ---------------------------------------------------------------------------
# outputs


def _planted_csv(d: District) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(_PLANTED_COLUMNS)
    for p in sorted(d.plants, key=lambda p: (p.category, p.design_m, p.hazard_ref)):
        writer.writerow(
            [
                p.school.ref,
                p.school.name,
                p.hazard_ref,
                p.hazard_name,
                p.category,
                f"{p.design_m:.1f}",
                f"{p.true_m:.3f}",
            ]
        )
    return buf.getvalue().encode("utf-8")


def _registry_venues(d: District) -> list[tables.RegistryVenue]:
    return [
        tables.RegistryVenue(
            name=v.name,
            variant=v.variant,
            category=v.category,
            lon=v.lonlat[0],
            lat=v.lonlat[1],
            township=v.township,
            address=v.address,
            in_osm=bool(v.ref),
            planted=v.planted,
        )
        for v in d.venues
    ]


def _roster_schools(d: District) -> list[tables.RosterSchool]:
    out = []
    for s in d.schools:
        if s.kind in _DECOYS:
            continue
        rep = s.geom.representative_point()
        lon, lat = to_lonlat((rep.x, rep.y))
        out.append(
            tables.RosterSchool(
                name=s.name,
                kind=s.kind,
                township=s.township,
                village=s.village,
                address=s.address,
                lon=lon,
                lat=lat,
                in_osm=s.in_osm,
                node_only=s.node_only,
            )
        )
    return out


def _checklist_rows(d: District) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, township) of the K-12 schools and of the water bodies (township of the nearest school)."""
    order = [t.name for t in d.townships]
    k12 = [s for s in d.schools if s.kind not in _DECOYS]
    schools = sorted(((s.name, s.township) for s in k12), key=lambda r: (order.index(r[1]), r[0]))
    nearest: dict[str, tuple[float, str, str]] = {}  # a river of several ways: one water area
    for w in d.waters:
        for s in k12:
            candidate = (w.geom.distance(s.geom), s.name, s.township)
            nearest[w.name] = min(nearest.get(w.name, candidate), candidate)
    waters = [(name, township) for name, (_, _, township) in nearest.items()]
    waters.sort(key=lambda r: (order.index(r[1]), r[0]))
    return schools, waters


def _water_near(d: District) -> list[tuple[str, str, str, int]]:
    out = []
    for w in d.waters:
        for s in d.schools:
            if s.in_osm and s.kind not in _DECOYS and w.geom.distance(s.geom) <= 200.0:
                out.append((w.name, w.ref, s.name, round(w.geom.distance(s.geom))))
    return sorted(out, key=lambda row: (row[3], row[1], row[2]))


def _tag_text(d: District, ref: str) -> str:
    tags = d.osm.ways[int(ref.split("/")[1])].tags
    return " ".join(f"{k}={v}" for k, v in sorted(tags.items()) if k != "name")


def _tag_count(d: District, key: str, value: str) -> int:
    return sum(1 for tags in d.osm.node_tags.values() if tags.get(key) == value)


def _facts(
    d: District, seed: int, registry: tables.RegistryFacts, roster: tables.RosterFacts
) -> tables.DemoFacts:
    mapped = [s for s in d.schools if s.in_osm]
    osm_venues = [v for v in d.venues if v.ref]
    return tables.DemoFacts(
        seed=seed,
        townships=[(t.name, [v.name for v in t.villages]) for t in d.townships],
        schools_by_kind=dict(Counter(s.kind for s in mapped if s.kind not in _DECOYS)),
        decoys=[
            (s.name, "university" if s.kind == "university" else "school")
            for s in sorted(mapped, key=lambda s: s.name)
            if s.kind in _DECOYS
        ],
        node_only=[s.name for s in mapped if s.node_only],
        roster_only=[s.name for s in d.schools if not s.in_osm],
        gates=sum(len(s.gates) for s in mapped),
        k12_gates=sum(len(s.gates) for s in mapped if s.kind not in _DECOYS),
        venues_by_category=dict(Counter(v.category or "neutral" for v in osm_venues)),
        variants=sorted({v.variant for v in osm_venues}),
        waters=[(w.name, _tag_text(d, w.ref), w.ref) for w in d.waters],
        water_near=_water_near(d),
        bus_stops=_tag_count(d, "highway", "bus_stop"),
        crossings=_tag_count(d, "highway", "crossing"),
        signals=_tag_count(d, "highway", "traffic_signals"),
        cameras=_tag_count(d, "man_made", "surveillance"),
        nodes=len(d.osm.lonlat),
        ways=len(d.osm.ways),
        relations=len(d.osm.relations),
        plants=len(d.plants),
        registry=registry,
        roster=roster,
        variant_table=[
            (cat or "neutral", key, " ".join(f"{k}={v}" for k, v in tags), "、".join(names))
            for key, (cat, tags, names) in sorted(
                VARIANTS.items(), key=lambda kv: (kv[1][0] or "~", kv[0])
            )
        ],
        registry_only=sum(1 for v in d.venues if not v.ref),
        planted_lines=_planted_csv(d).decode("utf-8").splitlines(),
    )
