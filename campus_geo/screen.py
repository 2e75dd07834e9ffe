"""Screening: which hazards lie within a rule's distance of which school.

``screen(schools, hazards)`` returns the findings: one row per (school,
hazard, rule) whose WGS 84 ellipsoidal distance, measured by the rule's
profile, is at most the rule's threshold. Each finding's geometry is the
measured line between the two nearest points (see geodesy.py for how it is
measured and how exact it is).

The work is vectorised: one spatial-index query per longitude band and
(profile, distance) group, nearest points on coordinate arrays (GEOS for other
geometries than points), the ellipsoidal distance from the geocentric chord
(GeographicLib beyond 10 km). No Python loop runs per school or per pair.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from campus_geo._validate import validate_hazards
from campus_geo.adapters.numpy import huge_pages_off
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine.columns import (
    MAX_CATEGORIES,
    HazardTable,
    SchoolInput,
    hazard_table,
    read_hazard_table,
    read_hazards_frame,
    read_school_input,
)
from campus_geo.engine.findings import (
    FINDING_COLUMNS,
    NOTE_INSIDE,
    NOTE_NO_ENTRANCE,
    NOTE_POINT_SCHOOL,
    NOTE_TEXTS,
    empty_findings,
    findings_frame,
    frame_texts,
)
from campus_geo.engine.ids import fnv1a64, id_hash, id_strings
from campus_geo.engine.pairs import (
    ALL_PROFILES,
    Group,
    entrance_geometries,
    group_plans,
    merge_groups,
    prepare_setup,
    resolve_rules,
    screen_blocks,
    screen_group,
    screening_categories,
    sorted_pairs,
    straight_profiles,
)
from campus_geo.engine.parallel import collector_paused
from campus_geo.engine.walk import (
    ALL_PROFILE_COLUMNS,
    expand_all_profiles,
    gate_arrays,
    mark_profile_dependence,
    require_network,
    validate_hazard_entrances,
    walk_pairs,
)
from campus_geo.geodesy import (
    band_crs,
    band_of,
    nearest_ends,
    project,
)
from campus_geo.network.graph import WalkNetwork
from campus_geo.rules import Rule, default_categories
from campus_geo.settings import DEFAULT_CRS, SEVERITY_LABELS

__all__ = [
    "ALL_PROFILES",
    "CSV_COLUMNS",
    "FINDING_COLUMNS",
    "LABEL_COLUMNS",
    "NOTE_INSIDE",
    "NOTE_NO_ENTRANCE",
    "NOTE_POINT_SCHOOL",
    "finding_ids",
    "save_findings",
    "screen",
]

log = logging.getLogger(__name__)


def finding_ids(
    school_ids: Sequence[str], hazard_ids: Sequence[str], rule_ids: Sequence[str]
) -> list[str]:
    """Stable ids of findings: 16 hex digits of a 64-bit hash of school, hazard and rule ids.

    Stable across runs, machines and library versions (the hash is defined in
    :mod:`campus_geo.engine.ids`), so a ledger can follow a finding from one monthly
    screening to the next. Vectorised: about 0.1 s per million findings.

    Examples
    --------
    >>> finding_ids(["way/1"], ["node/2"], ["internet_cafe_200m"])
    ['a4145f876b968d84']
    """
    hashes = id_hash(fnv1a64(school_ids), fnv1a64(hazard_ids), fnv1a64(rule_ids))
    return list(id_strings(hashes, check_unique=False))


# no cyclic garbage collection meanwhile: a full collection walks every object, and a
# screening creates one per measured line (see collector_paused)
@collector_paused()
@huge_pages_off()  # fresh huge pages cost more than they save here (adapters.numpy)
def screen(
    schools: gpd.GeoDataFrame | str | Path,
    hazards: gpd.GeoDataFrame | str | Path,
    *,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    entrances: gpd.GeoDataFrame | str | Path | None = None,
    network: WalkNetwork | None = None,
    hazard_entrances: gpd.GeoDataFrame | None = None,
    workers: int | None = None,
    categories: CategoryRegistry | None = None,
    context: bool = False,
) -> gpd.GeoDataFrame:
    """Find the hazards within each rule's distance of each school.

    Parameters
    ----------
    schools
        Canonical schools layer: index ``school_id``, columns ``name``, ``kind``,
        ``township``, ``village``; geometry the campus outline (Polygon or
        MultiPolygon) or a Point when the outline is unknown. Any CRS.
    hazards
        Canonical hazards layer: index ``hazard_id``, columns ``name``,
        ``category``; any geometry type. Any CRS.

        `schools`, `hazards` and `entrances` may also be GeoParquet files (or
        folders of parts) named by their paths. A hazards file is then read as
        columns (:func:`campus_geo.engine.columns.read_hazard_table`): its
        points never become shapely objects nor its ids Python strings, which
        for millions of venues is most of the time and memory of reading them
        with ``geopandas.read_parquet`` (the ``walk`` and ``"all"`` profiles
        read the file with geopandas: they need the frame).
    rules
        Rule table: a list of :class:`~campus_geo.rules.Rule` (such as a
        :class:`~campus_geo.rules.RuleTable` from :func:`~campus_geo.rules.read_rules`),
        a TOML file path, or None for the default table. An inside rule
        (``inside = true``) flags the venues inside the campus outline, boundary
        included (distance 0).
    profile
        Override every rule's measurement profile (``"boundary"``,
        ``"entrance"`` or ``"walk"``); with `dist`, the profile of the ad-hoc
        rules. ``"all"`` runs every rule under every profile (the rule's own
        profile keeps its rule id, the others are ``<rule id>@<profile>``) and
        adds the columns ``profile_dependent``, ``boundary_m``, ``entrance_m``,
        ``walk_m``: a finding is profile-dependent when the hazard is within
        the threshold under some profiles and not under others (its note says so).
    dist
        Screen every hazard category present at this distance in metres
        (WGS 84 ellipsoid) instead of the rule table's distances.
    entrances
        Points with a ``school_id`` column: the gates used by the ``entrance``
        and ``walk`` profiles. A school with none is measured from its outline (noted).
    network
        The walking network (:func:`campus_geo.network.walk_network_from_osm`),
        needed by the ``walk`` profile: the shortest route on the street graph
        from any gate to the hazard (its entrance if known, else its point
        nearest the gates), with part-edges; its length on the WGS 84
        ellipsoid is the distance and the route is the finding's geometry.
    hazard_entrances
        Points with a ``hazard_id`` column: entrances of venues, used by the
        ``walk`` profile when known.
    workers
        Threads measuring the candidate pairs when there are more than about
        260,000 of them (numpy, pyproj and GEOS release the GIL; see
        ``campus_geo.engine.parallel``). None: one per CPU core available. The
        findings are the same for any number.
    categories
        The hazard categories a hazard may have: the rule table's by default
        (the default table's, those its TOML file adds, and any a rule names).

    Returns
    -------
    geopandas.GeoDataFrame
        The findings, indexed by ``finding_id``, with the columns
        :data:`FINDING_COLUMNS` plus the end points ``school_lon``,
        ``school_lat``, ``hazard_lon``, ``hazard_lat``; geometry the measured
        line (walk: the route) in EPSG:4326. Distances in metres on the WGS 84
        ellipsoid. The straight measured lines are held as their end points
        (:class:`campus_geo.adapters.geopandas.LineEnds`) and become shapely
        LineStrings when first used as geometries: filtering, sorting and
        writing the table cost no GEOS object per finding.

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    >>> bool((findings["distance_m"] <= findings["threshold_m"]).all())
    True
    """
    table, registry = screening_categories(rules, categories)
    skip = () if context else registry.context_keys

    def walks() -> bool:  # whether a rule is measured on the streets, before reading the file
        keys = list(registry.keys)
        return profile in ("walk", ALL_PROFILES) or any(
            r.profile == "walk" for r in resolve_rules(table, profile, dist, keys, skip)
        )

    def project(ready: SchoolInput) -> SchoolInput:
        return ready.projected(straight_profiles(table, profile, dist, list(registry.keys), skip))

    prep = _SchoolsPrep(lambda: read_school_input(schools, entrances), project)
    given, ready = _hazard_input(hazards, registry.keys, walks, prep)
    schools, entrances = ready.layer, ready.gates
    hazards, haz, present = given.frame, given.table.haz, given.present
    if profile == ALL_PROFILES:
        rule_list, base_of = expand_all_profiles(resolve_rules(table, None, dist, present, skip))
    else:
        rule_list = resolve_rules(table, profile, dist, present, skip)
    walking = any(r.profile == "walk" for r in rule_list)
    net = require_network(network) if walking else None
    if hazard_entrances is not None:
        hazard_entrances = validate_hazard_entrances(hazard_entrances)
    setup = prepare_setup(
        schools,
        haz,
        given.table.hashes,
        rule_list,
        entrances,
        workers,
        hazard_rank=given.table.rank,
        sources=ready.sources,
    )
    gates = setup.gates
    plans = list(group_plans(setup))
    found = []
    # the straight-line groups in blocks of schools, each block on a worker thread
    straight = [plan for plan in plans if plan.group.profile != "walk"]
    ids, names, rank = given.table.ids, given.table.names, given.table.rank
    texts = frame_texts(schools, ids, names, NOTE_TEXTS, haz.categories, hazard_rank=rank)
    # alone: no walk group's pairs to merge with, so the positions need not be kept
    alone = len(straight) == len(plans)
    pairs = screen_blocks(setup, straight, texts=texts, positions=not alone) if straight else {}
    del texts, given, ids, names  # taken: the findings hold their own texts
    per_rule = np.bincount(pairs["_rule"], minlength=len(rule_list)) if pairs else None
    position = {rule.id: i for i, rule in enumerate(rule_list)}
    for plan in straight:
        rows = [position[rule.id] for rule in plan.group.rules]
        _log_group(plan.group, 0 if per_rule is None else int(per_rule[rows].sum()))
    if pairs and len(pairs["_rule"]):
        found.append(pairs)
    # the walk groups: their straight-line candidates walked on the network
    for plan in (plan for plan in plans if plan.group.profile == "walk"):
        group = plan.group
        pairs = screen_group(plan.candidates(setup.ctx), setup.ctx)
        if pairs:
            assert net is not None
            assert hazards is not None  # a walk reads the hazards as a frame
            pairs = _walk_group(pairs, schools, entrances, hazards, hazard_entrances, net, group)
            pairs = sorted_pairs(pairs, len(rule_list))
        count = len(pairs["_rule"]) if pairs else 0
        _log_group(group, count)
        if count:
            pairs["_note"] = setup.note_codes[group.profile][pairs["_school"]]
            found.append(pairs)
    if not found:
        findings = empty_findings()
    else:
        pairs = found[0] if len(found) == 1 else merge_groups(found, len(rule_list))
        category, vocabulary = haz.category, haz.categories
        del haz, setup  # the spatial index and projected outlines are done with
        findings = findings_frame(
            pairs, schools, hazards, category, NOTE_TEXTS, rule_list, vocabulary
        )
    if profile != ALL_PROFILES:
        return findings

    assert hazards is not None  # "all" reads the hazards as a frame

    def walk(s: npt.NDArray[np.int64], h: npt.NDArray[np.int64], limits: Any) -> Any:
        assert net is not None
        assert hazards is not None
        return _walk_distances(s, h, limits, schools, entrances, hazards, hazard_entrances, net)

    return mark_profile_dependence(
        findings,
        base_of,
        outline=np.asarray(schools.geometry.values, dtype=object),
        gates=gates,
        schools_index=schools.index,
        hazards=hazards,
        walk=walk,
    )


@dataclass(frozen=True)
class _HazardInput:
    """The hazards as screen() measures them, from a GeoDataFrame or a GeoParquet file."""

    frame: gpd.GeoDataFrame | None  # validated; None: read as columns
    table: HazardTable  # ids, names, hashes, indexed arrays
    present: list[str]  # the categories present


@dataclass(frozen=True)
class _SchoolsPrep:
    """How screen() prepares its schools, in two steps it places beside the hazards' reading."""

    read: Callable[[], SchoolInput]  # the schools and gates, validated
    project: Callable[[SchoolInput], SchoolInput]  # with what the rules measure from projected


def _hazard_input(
    hazards: gpd.GeoDataFrame | str | Path,
    keys: tuple[str, ...],
    walks: Callable[[], bool],
    prep: _SchoolsPrep,
) -> tuple[_HazardInput, SchoolInput]:
    """Validate the hazards, or read a file of them; as columns unless the rules walk.

    `walks()`: whether some rule is measured on the street network (or ``"all"``
    compares the profiles), which takes the hazards as a frame; so do more
    categories than the columns' one-byte codes hold.

    The schools are prepared (`prep`) where a core is idle. Beside a file read as
    columns, on a thread while its points are decoded (the province's 50,000
    schools: 0.92x the time of preparing them first, 8 paired runs). Otherwise they
    are read first, so that their problems are raised before the hazards', and a
    GeoDataFrame's are projected while its points are indexed; else when the groups
    need them (:func:`~campus_geo.engine.pairs.group_plans`).
    """
    if isinstance(hazards, str | Path) and len(keys) <= MAX_CATEGORIES and not walks():
        with ThreadPoolExecutor(max_workers=1) as pool:
            early = pool.submit(lambda: prep.project(prep.read()))
            table, ready = read_hazard_table(Path(hazards), early.result, keys)
        present = sorted(keys[c] for c in np.unique(table.haz.category))
        return _HazardInput(None, table, present), ready
    ready = prep.read()
    projected: list[SchoolInput] = []
    given = _frame_input(hazards, keys, walks, lambda: projected.append(prep.project(ready)))
    return given, projected[0] if projected else ready


def _frame_input(
    hazards: gpd.GeoDataFrame | str | Path,
    keys: tuple[str, ...],
    walks: Callable[[], bool],
    meanwhile: Callable[[], object],
) -> _HazardInput:
    """The hazards validated as a frame (a file read with geopandas), and their table.

    ``meanwhile()`` runs while a layer in lon/lat is indexed on a thread, after it is
    validated (the longer of the two by half a second at five million venues).
    """
    if isinstance(hazards, str | Path):
        frame = read_hazards_frame(Path(hazards), keys)
        return _HazardInput(frame, hazard_table(frame, keys), sorted(frame["category"].unique()))
    # a walk reads the layer by hazard position: the table keeps its rows' order; else it
    # is stored in the points' index order, as a file read as columns is
    ordered = not walks()
    if isinstance(hazards, gpd.GeoDataFrame) and _in_lonlat(hazards):
        # indexed on a thread while the layer is checked (shapely and numpy release the
        # GIL; 5 million venues: 1.7 s instead of 2.3); validation is in lon/lat already,
        # so the index is that of the layer it returns; a problem it finds is what is raised
        with ThreadPoolExecutor(max_workers=1) as pool:
            indexing = pool.submit(hazard_table, hazards, keys, index_order=ordered)
            frame = validate_hazards(hazards, categories=keys)
            meanwhile()
            table = indexing.result()
    else:
        frame = validate_hazards(hazards, categories=keys)
        table = hazard_table(frame, keys, index_order=ordered)
    present = sorted(frame["category"].unique())
    # the frame's rows are not the table's positions when it is ordered: not handed on
    return _HazardInput(None if table.rank is not None else frame, table, present)


def _in_lonlat(layer: gpd.GeoDataFrame) -> bool:
    return layer.crs is not None and bool(layer.crs.equals(DEFAULT_CRS))


def _log_group(group: Group, count: int) -> None:
    log.info(
        "%s profile at %g m: %d findings from %d rules",
        group.profile,
        group.distance_m,
        count,
        len(group.rules),
    )


def _walk_group(
    pairs: dict[str, npt.NDArray[Any]],
    schools: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None,
    hazards: gpd.GeoDataFrame,
    hazard_entrances: gpd.GeoDataFrame | None,
    network: WalkNetwork,
    group: Group,
) -> dict[str, npt.NDArray[Any]]:
    """Walk the straight-line candidates of one (walk, distance) group on the network."""
    gate_school, gate_xy = gate_arrays(schools, entrances)
    if hazard_entrances is not None and len(hazard_entrances):
        he = hazard_entrances[hazard_entrances["hazard_id"].isin(hazards.index)]
        he_pos = hazards.index.get_indexer(he["hazard_id"]).astype(np.int64)
        he_xy = shapely.get_coordinates(he.geometry.values)
    else:
        he_pos, he_xy = np.empty(0, dtype=np.int64), np.empty((0, 2))
    return walk_pairs(
        pairs,
        n_schools=len(schools),
        gate_school=gate_school,
        gate_xy=gate_xy,
        hazard_gate_hazard=he_pos,
        hazard_gate_xy=he_xy,
        network=network,
        limit=group.distance_m,
    )


def _walk_distances(
    s: npt.NDArray[np.int64],
    h: npt.NDArray[np.int64],
    limits: npt.NDArray[np.float64],
    schools: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None,
    hazards: gpd.GeoDataFrame,
    hazard_entrances: gpd.GeoDataFrame | None,
    network: WalkNetwork,
) -> npt.NDArray[np.float64]:
    """Walking distance of (school, hazard) position pairs, up to `limits` (inf beyond)."""
    src, _ = entrance_geometries(schools, entrances)
    out = np.full(len(s), np.inf)
    for limit in np.unique(limits):
        rows = np.flatnonzero(limits == limit)
        group = Group("walk", float(limit), ())
        cand = {
            "_school": s[rows],
            "_hazard": h[rows],
            "_rule": rows,
            "ends": _pair_ends(src[s[rows]], np.asarray(hazards.geometry.values)[h[rows]]),
        }
        walked = _walk_group(cand, schools, entrances, hazards, hazard_entrances, network, group)
        out[walked["_rule"]] = walked["distance_m"]
    return out


def _pair_ends(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    """Lon/lat end points of the nearest points of each pair (measured in band projections)."""
    reps = shapely.get_coordinates(shapely.point_on_surface(a))
    bands = band_of(reps[:, 0])
    ends = np.empty((len(a), 4))
    for band in np.unique(bands):
        mask = bands == band
        crs = band_crs(int(band))
        _, ends[mask] = nearest_ends(project(a[mask], crs), project(b[mask], crs), crs)
    return ends


#: Columns of findings.csv, in order (other tools read them by name).
CSV_COLUMNS = [
    "finding_id",
    *FINDING_COLUMNS,
    "school_lon",
    "school_lat",
    "hazard_lon",
    "hazard_lat",
]


#: Columns findings.csv adds at its end for its readers: the Chinese labels beside the codes.
LABEL_COLUMNS: Final = ["类别", "严重程度"]


def save_findings(
    findings: gpd.GeoDataFrame,
    dirpath: str | Path,
    *,
    categories: CategoryRegistry | None = None,
) -> dict[str, Path]:
    """Write findings.csv (UTF-8 with BOM, for Excel) and findings.gpkg into `dirpath`.

    Distances are written to the millimetre, end points to 7 decimals (~1 cm).
    findings.csv keeps the codes (``category``, ``severity``) and adds their
    Chinese labels after the fixed columns (:data:`LABEL_COLUMNS`: 类别, 严重程度;
    `categories`: the labels of a user's categories, the default table's when
    None); ``profile="all"`` adds its comparison columns at the end.

    Returns
    -------
    dict
        ``{"csv": path, "gpkg": path}``.
    """
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(findings.drop(columns="geometry")).reset_index()
    # profile="all" adds its comparison columns after the fixed ones
    extra = [c for c in ALL_PROFILE_COLUMNS if c in table.columns]
    registry = categories if categories is not None else default_categories()
    table["类别"] = [registry.label(str(c)) for c in table["category"]]
    table["严重程度"] = [SEVERITY_LABELS.get(str(s), (s, s))[0] for s in table["severity"]]
    table = table.reindex(columns=[*CSV_COLUMNS, *LABEL_COLUMNS, *extra])
    for c in extra[1:]:
        table[c] = table[c].round(3)
    table["distance_m"] = table["distance_m"].round(3)
    for c in ("school_lon", "school_lat", "hazard_lon", "hazard_lat"):
        table[c] = table[c].round(7)
    csv_path = out / "findings.csv"
    table.to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    gpkg_path = out / "findings.gpkg"
    if gpkg_path.exists():
        gpkg_path.unlink()
    layer = findings.reset_index()
    if layer.empty:
        layer = empty_findings().reset_index()
    layer.to_file(gpkg_path, layer="findings", driver="GPKG", engine="pyogrio")
    log.info("wrote %d findings to %s and %s", len(findings), csv_path, gpkg_path)
    return {"csv": csv_path, "gpkg": gpkg_path}
