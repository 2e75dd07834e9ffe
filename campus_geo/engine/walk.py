"""The ``walk`` profile inside the screening, and ``profile="all"``.

Kept apart from screen.py (which dispatches to it) so that each module stays
one concept: screen.py measures straight lines, network.py routes on the
street graph, this module joins them.

Walk candidates come from the straight-line ``entrance`` screening at the same
threshold: a walk is never shorter than the straight line from the nearest gate
(the geodesic is the shortest path on the ellipsoid), so no pair within the
walking distance is missed.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo.geodesy import band_crs, nearest_ends, project
from campus_geo.network.graph import WalkNetwork, route_pairs
from campus_geo.rules import Rule
from campus_geo.settings import DEFAULT_CRS, PROFILES

__all__ = [
    "ALL_PROFILE_COLUMNS",
    "NOTE_NO_ENTRANCE_WALK",
    "WALK_SEARCH_FACTOR",
    "expand_all_profiles",
    "mark_profile_dependence",
    "require_network",
    "validate_hazard_entrances",
    "walk_pairs",
]

log = logging.getLogger(__name__)

NOTE_NO_ENTRANCE_WALK = (
    "无校门数据，自校园边界最近点沿路网步行量算 "
    "(no entrance known: walked from the nearest point of the outline)"
)
#: Columns that ``profile="all"`` adds to the findings (and findings.csv).
ALL_PROFILE_COLUMNS: Final = ["profile_dependent", "boundary_m", "entrance_m", "walk_m"]
#: A route longer than this many times the threshold is reported as "beyond" (not searched).
WALK_SEARCH_FACTOR: Final = 10.0
_LABELS: Final = {
    "boundary": ("边界直线", "boundary"),
    "entrance": ("校门直线", "entrance"),
    "walk": ("步行", "walk"),
}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def require_network(network: WalkNetwork | None) -> WalkNetwork:
    """The network, or an error saying how to give one."""
    if network is None:
        msg = (
            "the walk profile measures along the street network, but none was given: pass "
            "network=campus_geo.network.walk_network_from_osm(FILE) (on the command line, "
            "give the streets with --osm FILE)"
        )
        raise InputDataError(msg)
    return network


def validate_hazard_entrances(gdf: object) -> gpd.GeoDataFrame:
    """Check venue entrances (points with a ``hazard_id`` column); return them in EPSG:4326."""
    name = "hazard_entrances"
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"`{name}` must be a GeoDataFrame, got {type(gdf).__name__}"
        raise InputDataError(msg)
    problems = []
    if gdf.crs is None:
        problems.append(f"`{name}` has no CRS; call gdf.set_crs(4326) if it is lon/lat on WGS 84")
    if "hazard_id" not in gdf.columns:
        problems.append(f"`{name}` has no `hazard_id` column; every entrance names its venue")
    not_point = shapely.get_type_id(gdf.geometry.values) != 0
    if not_point.any():
        rows = ", ".join(map(str, gdf.index[not_point][:10]))
        problems.append(f"`{name}` has non-point geometries (rows {rows}); entrances are points")
    if problems:
        raise InputDataError("; ".join(problems), problems)
    return gdf.to_crs(DEFAULT_CRS)


def gate_arrays(
    schools: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None
) -> tuple[IntArray, FloatArray]:
    """School position and lon/lat of every gate of the screened schools."""
    if entrances is None or len(entrances) == 0:
        return np.empty(0, dtype=np.int64), np.empty((0, 2))
    ent = entrances[entrances["school_id"].isin(schools.index)]
    pos = schools.index.get_indexer(ent["school_id"]).astype(np.int64)
    return pos, shapely.get_coordinates(ent.geometry.values)


def walk_pairs(
    cand: dict[str, npt.NDArray[Any]],
    *,
    n_schools: int,
    gate_school: IntArray,
    gate_xy: FloatArray,
    hazard_gate_hazard: IntArray,
    hazard_gate_xy: FloatArray,
    network: WalkNetwork,
    limit: float,
) -> dict[str, npt.NDArray[Any]]:
    """Walking distance of straight-line candidate pairs; keep those within `limit` metres.

    Parameters
    ----------
    cand
        Pairs from the straight ``entrance`` screening at `limit`: ``_school``,
        ``_hazard`` (positions), ``_rule``, ``ends`` (lon/lat of the nearest
        gate or outline point and of the hazard's nearest point).
    gate_school, gate_xy
        School position and lon/lat of every school gate.
    hazard_gate_hazard, hazard_gate_xy
        Hazard position and lon/lat of every known hazard entrance.
    network
        The walking network.
    limit
        Threshold in metres.

    Returns
    -------
    dict
        The kept pairs with ``distance_m`` (walking), ``ends`` (route ends) and
        ``geometry`` (the route).
    """
    s, h, ends = cand["_school"], cand["_hazard"], cand["ends"]
    if not len(s):
        return {**cand, "geometry": np.empty(0, dtype=object)}
    pair_of, uniq = pd.factorize(pd.MultiIndex.from_arrays([s, h]))
    n_pairs = len(uniq)
    first = np.full(n_pairs, -1, dtype=np.int64)
    first[pair_of[::-1]] = np.arange(len(s))[::-1]
    ps, ph, pends = s[first], h[first], ends[first]
    # origins: every gate of a school that has gates; else the outline point nearest the hazard
    has_gate = np.isin(ps, gate_school)
    use = np.isin(gate_school, ps[has_gate])
    outline = np.flatnonzero(~has_gate)
    origin_xy = np.vstack([gate_xy[use], pends[outline, :2]])
    origin_group = np.concatenate([gate_school[use], n_schools + outline])
    pair_group = np.where(has_gate, ps, n_schools + np.arange(n_pairs))
    # targets: the hazard's entrances where known, else its point nearest the school's gates
    hazard_gate = pd.Series(np.arange(len(hazard_gate_hazard))).groupby(hazard_gate_hazard)
    gates_of = hazard_gate.indices
    rows_pair, rows_xy = [], []
    for i in range(n_pairs):
        at = gates_of.get(int(ph[i]))
        if at is None:
            rows_pair.append(np.array([i]))
            rows_xy.append(pends[i : i + 1, 2:])
        else:
            rows_pair.append(np.full(len(at), i))
            rows_xy.append(hazard_gate_xy[at])
    exp_pair = np.concatenate(rows_pair)
    target_xy, exp_target = np.unique(np.vstack(rows_xy), axis=0, return_inverse=True)
    distance, _, geometry = route_pairs(
        network,
        origin_xy,
        origin_group,
        target_xy,
        pair_group[exp_pair],
        exp_target.ravel().astype(np.int64),
        limit=limit,
    )
    # shortest over a hazard's entrances
    order = np.lexsort((distance, exp_pair))
    best = order[np.r_[True, exp_pair[order][1:] != exp_pair[order][:-1]]]
    pair_distance = np.full(n_pairs, np.inf)
    pair_geometry = np.full(n_pairs, None, dtype=object)
    pair_distance[exp_pair[best]] = distance[best]
    pair_geometry[exp_pair[best]] = geometry[best]
    d = pair_distance[pair_of]
    keep = d <= limit
    geoms = pair_geometry[pair_of][keep]
    coords = [np.asarray(g.coords) for g in geoms]
    new_ends = (
        np.array([[c[0][0], c[0][1], c[-1][0], c[-1][1]] for c in coords])
        if coords
        else np.empty((0, 4))
    )
    return {
        "_school": s[keep],
        "_hazard": h[keep],
        "distance_m": d[keep],
        "ends": new_ends,
        "_rule": cand["_rule"][keep],
        "geometry": geoms,
    }


def expand_all_profiles(rules: list[Rule]) -> tuple[list[Rule], dict[str, str]]:
    """Every rule once per profile, and the base rule id of each expanded rule.

    The rule's own profile keeps its id (its findings keep their ids and ledger
    cases); the others are ``<id>@<profile>``. Rules made by ``--dist``
    (``internet_cafe_200m_boundary``) already name their profile. An inside
    rule is kept once: it measures nothing.
    """
    out: list[Rule] = []
    base: dict[str, str] = {}
    for rule in rules:
        if rule.inside:  # decided on the campus outline, under no profile
            out.append(rule)
            base[rule.id] = rule.id
            continue
        suffix = f"_{rule.profile}"
        adhoc = rule.id.endswith(suffix) and rule.id.startswith(f"{rule.category}_")
        root = rule.id[: -len(suffix)] if adhoc else rule.id
        for profile in PROFILES:
            own = rule.id if profile == rule.profile else f"{rule.id}@{profile}"
            rule_id = f"{root}_{profile}" if adhoc else own
            if rule_id in base:
                continue
            out.append(Rule(**{**rule.__dict__, "id": rule_id, "profile": profile}))
            base[rule_id] = root
    return out, base


def _straight(sources: npt.NDArray[np.object_], hazards: npt.NDArray[np.object_]) -> FloatArray:
    """Ellipsoidal straight-line distance of geometry pairs (lon/lat), see geodesy.py."""
    from campus_geo.geodesy import band_of

    reps = shapely.get_coordinates(shapely.point_on_surface(sources))
    bands = band_of(reps[:, 0])
    out = np.empty(len(sources))
    for band in np.unique(bands):
        mask = bands == band
        crs = band_crs(int(band))
        out[mask], _ = nearest_ends(project(sources[mask], crs), project(hazards[mask], crs), crs)
    return out


def mark_profile_dependence(
    findings: gpd.GeoDataFrame,
    base_of: dict[str, str],
    *,
    outline: npt.NDArray[np.object_],
    gates: npt.NDArray[np.object_],
    schools_index: pd.Index,
    hazards: gpd.GeoDataFrame,
    walk: Any,
) -> gpd.GeoDataFrame:
    """Add the distance under every profile and mark findings whose verdict depends on it.

    A (school, hazard, rule) pair is profile-dependent when some profiles put
    the hazard within the threshold and others do not (e.g. 150 m in a straight
    line, 900 m on foot across a river). The missing distances are measured
    here: straight lines exactly, walks up to ten times the threshold (beyond:
    ``inf``). The note of each dependent finding says so in Chinese and English.
    An inside rule (threshold 0 m) is decided on the campus outline under no
    profile: never dependent, its entrance and walk distances not measured (NaN).

    Parameters
    ----------
    findings
        Findings of every profile (rule ids from :func:`expand_all_profiles`).
    base_of
        Rule id -> base rule id.
    outline, gates
        Per school position: the outline (or point) and the gates (MultiPoint,
        or the outline when none).
    schools_index
        Index of the screened schools (positions of `outline`, `gates`).
    hazards
        The screened hazards (EPSG:4326).
    walk
        ``walk(school_positions, hazard_positions, limits) -> distances``.
    """
    if findings.empty:
        return findings.assign(
            profile_dependent=pd.Series(dtype=bool),
            boundary_m=pd.Series(dtype=float),
            entrance_m=pd.Series(dtype=float),
            walk_m=pd.Series(dtype=float),
        )
    key = pd.DataFrame(
        {
            "school_id": findings["school_id"].astype(str).to_numpy(),
            "hazard_id": findings["hazard_id"].astype(str).to_numpy(),
            "base": findings["rule_id"].astype(str).map(base_of).to_numpy(),
            "profile": findings["profile"].astype(str).to_numpy(),
            "distance_m": findings["distance_m"].to_numpy(),
            "threshold_m": findings["threshold_m"].to_numpy(),
        }
    )
    table = key.pivot_table(
        index=["school_id", "hazard_id", "base"],
        columns="profile",
        values="distance_m",
        aggfunc="min",
    ).reindex(columns=list(PROFILES))
    threshold = key.groupby(["school_id", "hazard_id", "base"])["threshold_m"].first()
    s_pos = schools_index.get_indexer(table.index.get_level_values("school_id"))
    h_pos = hazards.index.get_indexer(table.index.get_level_values("hazard_id"))
    h_geoms = np.asarray(hazards.geometry.values, dtype=object)
    inside = (threshold == 0).to_numpy()  # inside rules: no profile to compare
    for profile, sources in (("boundary", outline), ("entrance", gates)):
        miss = table[profile].isna().to_numpy() & ~inside
        if miss.any():
            table.loc[miss, profile] = _straight(sources[s_pos[miss]], h_geoms[h_pos[miss]])
    miss = table["walk"].isna().to_numpy() & ~inside
    if miss.any():
        table.loc[miss, "walk"] = walk(
            s_pos[miss], h_pos[miss], threshold.to_numpy()[miss] * WALK_SEARCH_FACTOR
        )
    within = table.le(threshold, axis=0)
    dependent = within.any(axis=1) & ~within.all(axis=1) & ~inside
    idx = pd.MultiIndex.from_frame(key[["school_id", "hazard_id", "base"]])
    out = findings.copy()
    out["profile_dependent"] = dependent.reindex(idx).to_numpy()
    for profile in PROFILES:
        out[f"{profile}_m"] = table[profile].reindex(idx).to_numpy()
    notes = out["notes"].astype(str).to_numpy().copy()
    for i in np.flatnonzero(out["profile_dependent"].to_numpy()):
        text = _dependence_note(out.iloc[i], float(out["threshold_m"].iloc[i]))
        notes[i] = f"{notes[i]}；{text}" if notes[i] else text
    out["notes"] = pd.array(notes, dtype="str")
    log.info(
        "profile=all: %d of %d findings depend on the profile",
        int(out["profile_dependent"].sum()),
        len(out),
    )
    return out


def _dependence_note(row: pd.Series, threshold: float) -> str:
    zh, en = [], []
    for profile in PROFILES:
        d = float(row[f"{profile}_m"])
        inside = d <= threshold
        label_zh, label_en = _LABELS[profile]
        if np.isfinite(d):
            zh.append(f"{label_zh}{d:.1f}米{'在内' if inside else '超出'}")
            en.append(f"{label_en} {d:.1f} m {'in' if inside else 'out'}")
        else:
            far = threshold * WALK_SEARCH_FACTOR
            zh.append(f"{label_zh}超过{far:g}米或不可达")
            en.append(f"{label_en} beyond {far:g} m or unreachable")
    return (
        f"量算口径影响结论（规定{threshold:g}米）：{'，'.join(zh)} "
        f"(verdict depends on the profile: {', '.join(en)})"
    )
