"""Screening: which hazards lie within a rule's distance of which school.

``screen(schools, hazards)`` returns the findings: one row per (school,
hazard, rule) whose WGS 84 ellipsoidal distance, measured by the rule's
profile, is at most the rule's threshold. Each finding's geometry is the
measured line between the two nearest points (see geodesy.py for how it is
measured and how exact it is).

The work is vectorised: one spatial-index query per longitude band and
(profile, distance) group, GEOS for the nearest points, GeographicLib for the
ellipsoidal distance. No Python loop runs per school or per pair.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._validate import validate_entrances, validate_hazards, validate_schools
from ._walk import (
    ALL_PROFILE_COLUMNS,
    NOTE_NO_ENTRANCE_WALK,
    expand_all_profiles,
    gate_arrays,
    mark_profile_dependence,
    require_network,
    validate_hazard_entrances,
    walk_pairs,
)
from .geodesy import (
    band_crs,
    band_of,
    degrees_margin,
    from_band,
    geodesic_distance,
    nearest_ends,
    nearest_on_segments,
    outline_segments,
    project,
    to_band,
)
from .network import WalkNetwork
from .rules import Rule, adhoc_rules, default_rules, read_rules
from .settings import CATEGORIES, DEFAULT_CRS, PROFILES, SCHOOL_KINDS

__all__ = [
    "ALL_PROFILES",
    "CSV_COLUMNS",
    "FINDING_COLUMNS",
    "finding_ids",
    "save_findings",
    "screen",
]

log = logging.getLogger(__name__)

#: Columns of the findings layer, in order (findings.csv adds the end points).
FINDING_COLUMNS = [
    "school_id",
    "school_name",
    "township",
    "village",
    "hazard_id",
    "hazard_name",
    "category",
    "rule_id",
    "severity",
    "profile",
    "threshold_m",
    "distance_m",
    "basis",
    "lead_units",
    "responsible_units",
    "suggestion",
    "notes",
]

NOTE_POINT_SCHOOL = "校园边界未知，自学校点位量算 (outline unknown: measured from the school point)"
NOTE_NO_ENTRANCE = "无校门数据，自校园边界量算 (no entrance known: measured from the outline)"
NOTE_INSIDE = "位于校园内或紧邻围墙 (inside or touching the campus)"
#: The `profile` value that runs every profile and marks the findings whose verdict depends on it.
ALL_PROFILES = "all"


@dataclass(frozen=True)
class _Group:
    profile: str
    distance_m: float
    rules: tuple[Rule, ...]


def _hash_ids(keys: Iterable[str]) -> list[str]:
    return [hashlib.sha1(k.encode(), usedforsecurity=False).hexdigest()[:16] for k in keys]


def finding_ids(
    school_ids: Sequence[str], hazard_ids: Sequence[str], rule_ids: Sequence[str]
) -> list[str]:
    """Stable ids of findings: the first 16 hex digits of SHA-1 of "school|hazard|rule".

    Stable across runs, machines and versions, so a ledger can follow a finding
    from one monthly screening to the next. (SHA-1 is computed per finding in
    Python: about 0.4 s per million findings.)

    Examples
    --------
    >>> finding_ids(["way/1"], ["node/2"], ["internet_cafe_200m"])
    ['55a2a9e99841fdc6']
    """
    return _hash_ids(
        f"{s}|{h}|{r}" for s, h, r in zip(school_ids, hazard_ids, rule_ids, strict=True)
    )


def _resolve_rules(
    rules: Sequence[Rule] | str | Path | None,
    profile: str | None,
    dist: float | None,
    categories: list[str],
) -> list[Rule]:
    if profile is not None and profile not in (*PROFILES, ALL_PROFILES):
        msg = f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)} or all"
        raise ValueError(msg)
    base = (
        default_rules()
        if rules is None
        else read_rules(rules)
        if isinstance(rules, str | Path)
        else list(rules)
    )
    if dist is not None:
        return adhoc_rules(categories, dist, profile=profile or "boundary", base=base)
    if profile is not None:
        return [
            Rule(**{**r.__dict__, "profile": profile})
            for r in base  # type: ignore[arg-type]
        ]
    return base


def _groups(rules: list[Rule]) -> list[_Group]:
    keyed: dict[tuple[str, float], list[Rule]] = {}
    for rule in rules:
        keyed.setdefault((rule.profile, rule.distance_m), []).append(rule)
    return [_Group(p, d, tuple(rs)) for (p, d), rs in sorted(keyed.items())]


def _entrance_geometries(
    schools: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """MultiPoint of each school's entrances; the outline where none is known."""
    geoms = schools.geometry.values.copy()
    has = np.zeros(len(schools), dtype=bool)
    if entrances is None or len(entrances) == 0:
        return np.asarray(geoms, dtype=object), has
    ent = entrances[entrances["school_id"].isin(schools.index)]
    pos = schools.index.get_indexer(ent["school_id"])
    present, dense = np.unique(pos, return_inverse=True)
    order = np.argsort(dense, kind="stable")
    multi = shapely.multipoints(
        shapely.get_coordinates(ent.geometry.values[order]), indices=dense[order]
    )
    out = np.asarray(geoms, dtype=object)
    out[present] = multi
    has[present] = True
    return out, has


@dataclass(frozen=True)
class _Hazards:
    """Per-screening arrays of the hazards layer, computed once."""

    geoms: npt.NDArray[np.object_]
    point_xy: npt.NDArray[np.float64]
    category: npt.NDArray[np.int64]
    tree: shapely.STRtree


def _prepare_hazards(hazards: gpd.GeoDataFrame) -> _Hazards:
    geoms = np.asarray(hazards.geometry.values, dtype=object)
    bounds = shapely.bounds(geoms)
    # a point's bounds are its coordinates: keep them, NaN for other geometry types
    is_point = shapely.get_type_id(geoms) == 0
    point_xy = np.where(is_point[:, None], bounds[:, :2], np.nan)
    codes = pd.Categorical(hazards["category"], categories=CATEGORIES).codes.astype(np.int64)
    # one index over the layer in lon/lat, queried with each school's box grown by the
    # rule distance in degrees: no hazard is projected before it is a candidate
    return _Hazards(geoms, point_xy, codes, shapely.STRtree(geoms))


def _measure_band(
    src: npt.NDArray[np.object_],
    s: npt.NDArray[np.int64],
    h: npt.NDArray[np.int64],
    haz: _Hazards,
    band: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Ellipsoidal distance and end points (lon/lat) of candidate pairs of one band.

    Pairs with a point hazard take the coordinate path (nearest point on the
    school's outline segments, computed in numpy); other hazards go through GEOS
    ``shortest_line``. Both find the nearest points in the band's transverse
    Mercator; the distance between them is measured on the ellipsoid.
    """
    crs = band_crs(band)
    schools, local = np.unique(s, return_inverse=True)
    outline = project(src[schools], crs)
    distance = np.empty(len(s))
    ends = np.empty((len(s), 4))
    point = ~np.isnan(haz.point_xy[h, 0])
    if point.any():
        lon, lat = haz.point_xy[h[point], 0], haz.point_xy[h[point], 1]
        x, y = to_band(crs).transform(lon, lat)
        offsets, segments = outline_segments(outline)
        qx, qy = nearest_on_segments(x, y, local[point], offsets, segments)
        areal = np.isin(shapely.get_type_id(outline), [3, 6])
        shapely.prepare(outline[areal])
        inside = areal[local[point]] & shapely.contains_xy(outline[local[point]], x, y)
        qlon, qlat = from_band(crs).transform(qx, qy)
        # a venue inside the campus: both ends are the venue itself (distance 0)
        qlon, qlat = np.where(inside, lon, qlon), np.where(inside, lat, qlat)
        ends[point] = np.column_stack([qlon, qlat, lon, lat])
        distance[point] = geodesic_distance(qlon, qlat, lon, lat)
    if not point.all():
        other = ~point
        uniq, where = np.unique(h[other], return_inverse=True)
        shapes = project(haz.geoms[uniq], crs)[where]
        distance[other], ends[other] = nearest_ends(outline[local[other]], shapes, crs)
    return distance, ends


def _rule_lookup(group: _Group, rule_pos: dict[str, int]) -> list[npt.NDArray[np.int64]]:
    """Tables [kind code, category code] -> rule position (-1: none); one table per overlap."""
    tables: list[npt.NDArray[np.int64]] = []
    for rule in group.rules:
        c = CATEGORIES.index(rule.category)
        for kind in rule.kinds:
            k = SCHOOL_KINDS.index(kind)
            table = next((t for t in tables if t[k, c] < 0), None)
            if table is None:
                table = np.full((len(SCHOOL_KINDS), len(CATEGORIES)), -1, dtype=np.int64)
                tables.append(table)
            table[k, c] = rule_pos[rule.id]
    return tables


def _screen_group(
    group: _Group,
    school_kind: npt.NDArray[np.int64],
    haz: _Hazards,
    src: npt.NDArray[np.object_],
    bands: npt.NDArray[np.int64],
    rule_pos: dict[str, int],
) -> dict[str, npt.NDArray[Any]]:
    tables = _rule_lookup(group, rule_pos)
    applies = np.any([t >= 0 for t in tables], axis=0)
    eligible = np.flatnonzero(applies.any(axis=1)[school_kind])
    if not eligible.size:
        return {}
    # candidates: hazards whose bounds meet the school's box grown by the distance
    b = shapely.bounds(src[eligible])
    dlon, dlat = degrees_margin(group.distance_m, b)
    boxes = shapely.box(b[:, 0] - dlon, b[:, 1] - dlat, b[:, 2] + dlon, b[:, 3] + dlat)
    q_school, h = haz.tree.query(boxes)
    s = eligible[q_school]
    relevant = applies[school_kind[s], haz.category[h]]
    s, h = s[relevant], h[relevant]
    distance = np.empty(len(s))
    ends = np.empty((len(s), 4))
    pair_band = bands[s]
    for band in np.unique(pair_band):
        in_band = np.flatnonzero(pair_band == band)
        distance[in_band], ends[in_band] = _measure_band(
            src, s[in_band], h[in_band], haz, int(band)
        )
    keep = distance <= group.distance_m
    pairs = {
        "_school": s[keep],
        "_hazard": h[keep],
        "distance_m": distance[keep],
        "ends": ends[keep],
    }
    # attach the rule(s) that apply to each pair's (school kind, hazard category)
    k = school_kind[pairs["_school"]]
    c = haz.category[pairs["_hazard"]]
    out: dict[str, list[npt.NDArray[Any]]] = {key: [] for key in (*pairs, "_rule")}
    for table in tables:
        rule = table[k, c]
        hit = rule >= 0
        for key, values in pairs.items():
            out[key].append(values[hit])
        out["_rule"].append(rule[hit])
    return {key: np.concatenate(values) for key, values in out.items()}


def _str_column(gdf: gpd.GeoDataFrame, name: str) -> pd.api.extensions.ExtensionArray:
    """A text column as a pandas string array ("" for missing), to be indexed with take."""
    if name not in gdf.columns:
        return pd.array([""] * len(gdf), dtype="str")
    values: pd.api.extensions.ExtensionArray = pd.array(
        gdf[name].fillna("").astype("str"), dtype="str"
    )
    return values


def _findings_frame(
    pairs: dict[str, npt.NDArray[Any]],
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    notes: npt.NDArray[np.object_],
    rules: list[Rule],
) -> gpd.GeoDataFrame:
    """Assemble findings with pandas string arrays (take by position, no per-row Python)."""
    s, h, r, distance = pairs["_school"], pairs["_hazard"], pairs["_rule"], pairs["distance_m"]
    # order: school, rule, distance, hazard (input positions: cheap and deterministic)
    order = np.lexsort((h, distance, r, s))
    s, h, r, distance = s[order], h[order], r[order], distance[order]

    def rule_text(values: list[str]) -> pd.Categorical:
        # few distinct texts repeated per finding: a categorical shares them (no copies)
        uniques, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
        return pd.Categorical.from_codes(codes[r], categories=pd.Index(uniques, dtype="str"))

    school_ids = pd.array(schools.index.astype("str"), dtype="str").take(s)
    hazard_ids = pd.array(hazards.index.astype("str"), dtype="str").take(h)
    rule_ids = rule_text([x.id for x in rules])
    note = pd.array(notes, dtype="str").take(s)
    inside = np.flatnonzero(distance == 0.0)
    if inside.size:
        note[inside] = [f"{n}；{NOTE_INSIDE}" if n else NOTE_INSIDE for n in note[inside]]
    ends = pairs["ends"][order]
    data = {
        "school_id": school_ids,
        "school_name": _str_column(schools, "name").take(s),
        "township": _str_column(schools, "township").take(s),
        "village": _str_column(schools, "village").take(s),
        "hazard_id": hazard_ids,
        "hazard_name": _str_column(hazards, "name").take(h),
        "category": _str_column(hazards, "category").take(h),
        "rule_id": rule_ids,
        "severity": rule_text([x.severity for x in rules]),
        "profile": rule_text([x.profile for x in rules]),
        "threshold_m": np.array([x.distance_m for x in rules], dtype=np.float64)[r],
        "distance_m": distance,
        "basis": rule_text([x.basis for x in rules]),
        "lead_units": rule_text(["、".join(x.lead_units) for x in rules]),
        "responsible_units": rule_text(["、".join(x.responsible_units) for x in rules]),
        "suggestion": rule_text([x.suggestion for x in rules]),
        "notes": note,
        "school_lon": ends[:, 0],
        "school_lat": ends[:, 1],
        "hazard_lon": ends[:, 2],
        "hazard_lat": ends[:, 3],
    }
    keys = (
        pd.Series(school_ids)
        + "|"
        + pd.Series(hazard_ids)
        + "|"
        + pd.Series(rule_ids.astype("str"), dtype="str")
    )
    index = pd.Index(_hash_ids(keys.tolist()), name="finding_id", dtype="str")
    # the measured line; for the walk profile, the route
    lines = (
        pairs["geometry"][order]
        if "geometry" in pairs
        else shapely.linestrings(ends.reshape(-1, 2, 2))
    )
    geometry = gpd.GeoSeries(lines, crs=DEFAULT_CRS, index=index)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=DEFAULT_CRS, index=index)


def _empty_findings() -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=float if c.endswith("_m") else object) for c in FINDING_COLUMNS}
    for c in ("school_lon", "school_lat", "hazard_lon", "hazard_lat"):
        cols[c] = pd.Series(dtype=float)
    empty = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=DEFAULT_CRS), crs=DEFAULT_CRS)
    empty.index.name = "finding_id"
    return empty


def screen(
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    *,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    network: WalkNetwork | None = None,
    hazard_entrances: gpd.GeoDataFrame | None = None,
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
    rules
        Rule table: a list of :class:`~campus_geo.rules.Rule`, a TOML file path,
        or None for the default table.
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

    Returns
    -------
    geopandas.GeoDataFrame
        The findings, indexed by ``finding_id``, with the columns
        :data:`FINDING_COLUMNS` plus the end points ``school_lon``,
        ``school_lat``, ``hazard_lon``, ``hazard_lat``; geometry the measured
        line (walk: the route) in EPSG:4326. Distances in metres on the WGS 84
        ellipsoid.

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    >>> bool((findings["distance_m"] <= findings["threshold_m"]).all())
    True
    """
    schools = validate_schools(schools)
    hazards = validate_hazards(hazards)
    if entrances is not None:
        entrances = validate_entrances(entrances)
    categories = sorted(hazards["category"].unique())
    if profile == ALL_PROFILES:
        rule_list, base_of = expand_all_profiles(_resolve_rules(rules, None, dist, categories))
    else:
        rule_list = _resolve_rules(rules, profile, dist, categories)
    walking = any(r.profile == "walk" for r in rule_list)
    net = require_network(network) if walking else None
    if hazard_entrances is not None:
        hazard_entrances = validate_hazard_entrances(hazard_entrances)
    haz = _prepare_hazards(hazards)
    school_kind = pd.Categorical(schools["kind"], categories=SCHOOL_KINDS).codes.astype(np.int64)
    is_point = shapely.get_type_id(schools.geometry.values) == 0
    reps = shapely.get_coordinates(shapely.point_on_surface(schools.geometry.values))
    bands = band_of(reps[:, 0])
    rule_pos = {rule.id: i for i, rule in enumerate(rule_list)}
    results = []
    gates, has_entrance = _entrance_geometries(schools, entrances)
    for group in _groups(rule_list):
        if group.profile == "entrance":
            src = gates
            notes = np.where(
                has_entrance, "", np.where(is_point, NOTE_POINT_SCHOOL, NOTE_NO_ENTRANCE)
            )
        elif group.profile == "walk":
            src = gates
            notes = np.where(
                has_entrance, "", np.where(is_point, NOTE_POINT_SCHOOL, NOTE_NO_ENTRANCE_WALK)
            )
        else:
            src = np.asarray(schools.geometry.values, dtype=object)
            notes = np.where(is_point, NOTE_POINT_SCHOOL, "")
        pairs = _screen_group(group, school_kind, haz, src, bands, rule_pos)
        if group.profile == "walk" and pairs:
            assert net is not None
            pairs = _walk_group(pairs, schools, entrances, hazards, hazard_entrances, net, group)
        count = len(pairs["_rule"]) if pairs else 0
        log.info(
            "%s profile at %g m: %d findings from %d rules",
            group.profile,
            group.distance_m,
            count,
            len(group.rules),
        )
        if count:
            results.append(_findings_frame(pairs, schools, hazards, notes, rule_list))
    if not results:
        findings = _empty_findings()
    elif len(results) == 1:
        findings = results[0]
    else:
        # several (profile, distance) groups: order all findings by school, rule, distance
        findings = pd.concat(results)
        position = schools.index.get_indexer(findings["school_id"])
        rank = findings["rule_id"].map(rule_pos).to_numpy()
        order = np.lexsort((findings["distance_m"].to_numpy(), rank, position))
        findings = gpd.GeoDataFrame(findings.iloc[order], geometry="geometry", crs=DEFAULT_CRS)
    if profile != ALL_PROFILES:
        return findings

    def walk(s: npt.NDArray[np.int64], h: npt.NDArray[np.int64], limits: Any) -> Any:
        assert net is not None
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


def _walk_group(
    pairs: dict[str, npt.NDArray[Any]],
    schools: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None,
    hazards: gpd.GeoDataFrame,
    hazard_entrances: gpd.GeoDataFrame | None,
    network: WalkNetwork,
    group: _Group,
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
    src, _ = _entrance_geometries(schools, entrances)
    out = np.full(len(s), np.inf)
    for limit in np.unique(limits):
        rows = np.flatnonzero(limits == limit)
        group = _Group("walk", float(limit), ())
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


def save_findings(findings: gpd.GeoDataFrame, dirpath: str | Path) -> dict[str, Path]:
    """Write findings.csv (UTF-8 with BOM, for Excel) and findings.gpkg into `dirpath`.

    Distances are written to the millimetre, end points to 7 decimals (~1 cm).

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
    table = table.reindex(columns=[*CSV_COLUMNS, *extra])
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
        layer = _empty_findings().reset_index()
    layer.to_file(gpkg_path, layer="findings", driver="GPKG", engine="pyogrio")
    log.info("wrote %d findings to %s and %s", len(findings), csv_path, gpkg_path)
    return {"csv": csv_path, "gpkg": gpkg_path}
