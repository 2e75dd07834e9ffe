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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._validate import validate_entrances, validate_hazards, validate_schools
from .geodesy import band_crs, band_of, degrees_margin, measured_lines, planar_margin
from .rules import Rule, adhoc_rules, default_rules, read_rules
from .settings import DEFAULT_CRS, PROFILES

__all__ = ["CSV_COLUMNS", "FINDING_COLUMNS", "finding_ids", "save_findings", "screen"]

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


@dataclass(frozen=True)
class _Group:
    profile: str
    distance_m: float
    rules: tuple[Rule, ...]


def finding_ids(
    school_ids: Sequence[str], hazard_ids: Sequence[str], rule_ids: Sequence[str]
) -> list[str]:
    """Stable ids of findings: the first 16 hex digits of SHA-1 of "school|hazard|rule".

    Stable across runs, machines and versions, so a ledger can follow a finding
    from one monthly screening to the next.

    Examples
    --------
    >>> finding_ids(["way/1"], ["node/2"], ["internet_cafe_200m"])
    ['55a2a9e99841fdc6']
    """
    return [
        hashlib.sha1(f"{s}|{h}|{r}".encode(), usedforsecurity=False).hexdigest()[:16]
        for s, h, r in zip(school_ids, hazard_ids, rule_ids, strict=True)
    ]


def _resolve_rules(
    rules: Sequence[Rule] | str | Path | None,
    profile: str | None,
    dist: float | None,
    categories: list[str],
) -> list[Rule]:
    if profile is not None and profile not in PROFILES:
        msg = f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}"
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


def _candidates(
    src: npt.NDArray[np.object_],
    school_idx: npt.NDArray[np.int64],
    haz: gpd.GeoDataFrame,
    hazard_pos: npt.NDArray[np.int64],
    band: int,
    dist: float,
) -> pd.DataFrame:
    """Measure every (school, hazard) pair of one band within `dist` metres."""
    crs = band_crs(band)
    school_geoms = gpd.GeoSeries(src[school_idx], crs=DEFAULT_CRS).to_crs(crs).values
    hazard_geoms = haz.geometry.iloc[hazard_pos].to_crs(crs).values
    tree = shapely.STRtree(hazard_geoms)
    left, right = tree.query(school_geoms, predicate="dwithin", distance=planar_margin(dist))
    lines, distance, ends = measured_lines(school_geoms[left], hazard_geoms[right], crs)
    keep = distance <= dist
    return pd.DataFrame(
        {
            "_school": school_idx[left[keep]],
            "_hazard": hazard_pos[right[keep]],
            "distance_m": distance[keep],
            "geometry": lines[keep],
            "school_lon": ends[keep, 0],
            "school_lat": ends[keep, 1],
            "hazard_lon": ends[keep, 2],
            "hazard_lat": ends[keep, 3],
        }
    )


def _screen_group(
    group: _Group,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    src: npt.NDArray[np.object_],
    bands: npt.NDArray[np.int64],
    rule_pos: dict[str, int],
) -> pd.DataFrame:
    categories = sorted({r.category for r in group.rules})
    kinds = sorted({k for r in group.rules for k in r.kinds})
    hazard_mask = hazards["category"].isin(categories).to_numpy()
    school_mask = schools["kind"].isin(kinds).to_numpy()
    if not hazard_mask.any() or not school_mask.any():
        return pd.DataFrame()
    hazard_all = np.flatnonzero(hazard_mask)
    hb = shapely.bounds(hazards.geometry.values[hazard_all])
    parts = []
    for band in np.unique(bands[school_mask]):
        school_idx = np.flatnonzero(school_mask & (bands == band))
        sb = shapely.total_bounds(src[school_idx])
        dlon, dlat = degrees_margin(group.distance_m, sb)
        near = (
            (hb[:, 0] <= sb[2] + dlon)
            & (hb[:, 2] >= sb[0] - dlon)
            & (hb[:, 1] <= sb[3] + dlat)
            & (hb[:, 3] >= sb[1] - dlat)
        )
        if near.any():
            parts.append(
                _candidates(src, school_idx, hazards, hazard_all[near], int(band), group.distance_m)
            )
    if not parts:
        return pd.DataFrame()
    pairs = pd.concat(parts, ignore_index=True)
    # attach the rules that apply to each pair's (school kind, hazard category)
    pairs["kind"] = schools["kind"].to_numpy()[pairs["_school"].to_numpy()]
    pairs["category"] = hazards["category"].to_numpy()[pairs["_hazard"].to_numpy()]
    table = pd.DataFrame(
        [
            {"kind": k, "category": r.category, "_rule": rule_pos[r.id]}
            for r in group.rules
            for k in r.kinds
        ]
    )
    return pairs.merge(table, on=["kind", "category"], how="inner")


def _rule_columns(rules: list[Rule]) -> dict[str, npt.NDArray[np.object_]]:
    """Finding columns that come from the rule, one entry per rule (indexed by rule position)."""
    return {
        "rule_id": np.array([r.id for r in rules], dtype=object),
        "severity": np.array([r.severity for r in rules], dtype=object),
        "profile": np.array([r.profile for r in rules], dtype=object),
        "threshold_m": np.array([r.distance_m for r in rules], dtype=np.float64),
        "basis": np.array([r.basis for r in rules], dtype=object),
        "lead_units": np.array(["、".join(r.lead_units) for r in rules], dtype=object),
        "responsible_units": np.array(
            ["、".join(r.responsible_units) for r in rules], dtype=object
        ),
        "suggestion": np.array([r.suggestion for r in rules], dtype=object),
    }


def _text_column(gdf: gpd.GeoDataFrame, name: str) -> npt.NDArray[np.object_]:
    if name not in gdf.columns:
        return np.full(len(gdf), "", dtype=object)
    values: npt.NDArray[np.object_] = gdf[name].fillna("").astype(str).to_numpy(dtype=object)
    return values


def _findings_frame(
    pairs: pd.DataFrame,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    notes: npt.NDArray[np.object_],
    rules: list[Rule],
) -> gpd.GeoDataFrame:
    s = pairs["_school"].to_numpy()
    h = pairs["_hazard"].to_numpy()
    r = pairs["_rule"].to_numpy()
    distance = pairs["distance_m"].to_numpy()
    # order: school, rule, distance, hazard (input positions: cheap and deterministic)
    order = np.lexsort((h, distance, r, s))
    s, h, r, distance = s[order], h[order], r[order], distance[order]
    school_ids = schools.index.to_numpy(dtype=object)[s].astype(str)
    hazard_ids = hazards.index.to_numpy(dtype=object)[h].astype(str)
    by_rule = _rule_columns(rules)
    note = notes[s].astype(object)
    inside = np.flatnonzero(distance == 0.0)
    note[inside] = [f"{n}；{NOTE_INSIDE}" if n else NOTE_INSIDE for n in note[inside]]
    data = {
        "school_id": school_ids,
        "school_name": _text_column(schools, "name")[s],
        "township": _text_column(schools, "township")[s],
        "village": _text_column(schools, "village")[s],
        "hazard_id": hazard_ids,
        "hazard_name": _text_column(hazards, "name")[h],
        "category": hazards["category"].to_numpy(dtype=object)[h],
        "rule_id": by_rule["rule_id"][r],
        "severity": by_rule["severity"][r],
        "profile": by_rule["profile"][r],
        "threshold_m": by_rule["threshold_m"][r],
        "distance_m": distance,
        "basis": by_rule["basis"][r],
        "lead_units": by_rule["lead_units"][r],
        "responsible_units": by_rule["responsible_units"][r],
        "suggestion": by_rule["suggestion"][r],
        "notes": note,
    }
    for column in ("school_lon", "school_lat", "hazard_lon", "hazard_lat"):
        data[column] = pairs[column].to_numpy()[order]
    ids = finding_ids(school_ids, hazard_ids, data["rule_id"])
    index = pd.Index(ids, name="finding_id")
    geometry = pairs["geometry"].to_numpy()[order]
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
        Override every rule's measurement profile (``"boundary"`` or
        ``"entrance"``); with `dist`, the profile of the ad-hoc rules.
    dist
        Screen every hazard category present at this distance in metres
        (WGS 84 ellipsoid) instead of the rule table's distances.
    entrances
        Points with a ``school_id`` column: the gates used by the ``entrance``
        profile. A school with none is measured from its outline (noted).

    Returns
    -------
    geopandas.GeoDataFrame
        The findings, indexed by ``finding_id``, with the columns
        :data:`FINDING_COLUMNS` plus the end points ``school_lon``,
        ``school_lat``, ``hazard_lon``, ``hazard_lat``; geometry the measured
        line in EPSG:4326. Distances in metres on the WGS 84 ellipsoid.

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
    rule_list = _resolve_rules(rules, profile, dist, categories)
    types = shapely.get_type_id(schools.geometry.values)
    is_point = types == 0
    reps = shapely.get_coordinates(shapely.point_on_surface(schools.geometry.values))
    bands = band_of(reps[:, 0])
    rule_pos = {rule.id: i for i, rule in enumerate(rule_list)}
    results = []
    for group in _groups(rule_list):
        if group.profile == "entrance":
            src, has_entrance = _entrance_geometries(schools, entrances)
            notes = np.where(
                has_entrance, "", np.where(is_point, NOTE_POINT_SCHOOL, NOTE_NO_ENTRANCE)
            )
        else:
            src = np.asarray(schools.geometry.values, dtype=object)
            notes = np.where(is_point, NOTE_POINT_SCHOOL, "")
        pairs = _screen_group(group, schools, hazards, src, bands, rule_pos)
        log.info(
            "%s profile at %g m: %d findings from %d rules",
            group.profile,
            group.distance_m,
            len(pairs),
            len(group.rules),
        )
        if len(pairs):
            results.append((pairs, np.asarray(notes, dtype=object)))
    if not results:
        return _empty_findings()
    if len(results) == 1:
        pairs, notes = results[0]
        return _findings_frame(pairs, schools, hazards, notes, rule_list)
    # groups differ in their notes (profile): build each, then order all by school and rule
    frames = [_findings_frame(p, schools, hazards, n, rule_list) for p, n in results]
    findings = pd.concat(frames)
    position = schools.index.get_indexer(findings["school_id"])
    rank = findings["rule_id"].map(rule_pos).to_numpy()
    order = np.lexsort((findings["distance_m"].to_numpy(), rank, position))
    findings = findings.iloc[order]
    return gpd.GeoDataFrame(findings, geometry="geometry", crs=DEFAULT_CRS)


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
    table = table.reindex(columns=CSV_COLUMNS)
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
