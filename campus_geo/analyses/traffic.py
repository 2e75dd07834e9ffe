"""Traffic risk at school gates and guard-post (护学岗) candidates.

Campaign measure (11): traffic order at gates, guard posts at rush hours. This
module works on the walking network (:mod:`campus_geo.network`), so every
distance is the walk from the gate, in metres on the WGS 84 ellipsoid:

- :func:`traffic_points`: crossings, traffic signals, bus stops and level
  crossings from the hazards layer (category ``traffic``), plus the road
  junctions of the network, each with the road it lies on (the nearest road
  edge: class and name) and whether it is signalised.
- :func:`gate_traffic`: every traffic point within a walking distance of each
  gate (default: the traffic rule's distance, 100 m in the default table).
- :func:`arterial_gaps`: arterial roads (trunk, primary, secondary) that pass
  a gate (come within :data:`PASS_M` in a straight line) with no signalised
  crossing on that road within a walking distance of the gate: flagged.
- :func:`guard_post_candidates`: per school, the crossings, junctions and
  unprotected arterial frontages near its gates, ranked: busiest road class
  first, then unsignalised before signalised, then nearest the gate.
- :func:`traffic_layer`: a folium layer of the above.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo.geodesy import GEOD, from_band, to_band
from campus_geo.network.graph import WalkNetwork, junctions, road_class_rank, walking_routes
from campus_geo.rules import Rule, rule_of
from campus_geo.settings import DEFAULT_CRS

__all__ = [
    "ARTERIAL_CLASSES",
    "GUARD_KINDS",
    "PASS_M",
    "SIGNAL_RADIUS_M",
    "arterial_gaps",
    "gate_traffic",
    "guard_post_candidates",
    "save_traffic",
    "traffic_distance",
    "traffic_layer",
    "traffic_points",
]

log = logging.getLogger(__name__)

#: Road classes counted as arterial (主干道/次干道).
ARTERIAL_CLASSES: Final = (
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
)
#: An arterial "passes" a gate when it comes this close to it (metres, straight line).
PASS_M: Final = 50.0
#: A crossing or junction with a traffic_signals point this close (metres) is signalised.
SIGNAL_RADIUS_M: Final = 20.0
#: Kinds of point where a guard post can stand.
GUARD_KINDS: Final = ("crossing", "signals", "junction", "level_crossing", "gate_frontage")
KIND_LABELS: Final[dict[str, tuple[str, str]]] = {
    "crossing": ("人行横道", "crossing"),
    "signals": ("信号灯路口", "traffic signals"),
    "bus_stop": ("公交站", "bus stop"),
    "junction": ("路口", "junction"),
    "level_crossing": ("铁路道口", "level crossing"),
    "gate_frontage": ("校门前主干道（无信号灯过街）", "arterial at the gate (no signals)"),
    "other": ("交通点", "traffic point"),
}
_SUB_KINDS: Final = {
    "highway=crossing": "crossing",
    "highway=traffic_signals": "signals",
    "highway=bus_stop": "bus_stop",
    "railway=level_crossing": "level_crossing",
}


def traffic_distance(rules: list[Rule] | None = None) -> float:
    """The traffic rule's distance in metres (walked from the gates); default table when None."""
    rule = rule_of("traffic", rules)
    if rule is None:
        msg = "the rule table has no traffic rule; give the distance (dist=... metres)"
        raise ValueError(msg)
    return rule.distance_m


def traffic_points(hazards: gpd.GeoDataFrame, network: WalkNetwork) -> gpd.GeoDataFrame:
    """Traffic points of the hazards layer plus the network's road junctions.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``point_id`` (the hazard id, or ``junction/<node>``):
        ``kind`` (crossing, signals, bus_stop, level_crossing, junction),
        ``name``, ``signalised``, ``road_class``, ``road_name`` (the nearest
        road), ``road_m`` (metres to it), ``road_edge`` (its row in
        ``network.edges``); points in EPSG:4326.
    """
    raw = hazards[hazards["category"] == "traffic"].to_crs(DEFAULT_CRS)
    sub = raw.get("subcategory", pd.Series("", index=raw.index)).fillna("").astype(str)
    kind = sub.map(lambda s: _SUB_KINDS.get(s, "other"))
    geoms = shapely.point_on_surface(raw.geometry.values)
    points = gpd.GeoDataFrame(
        {"kind": kind.to_numpy(), "name": raw.get("name", "").fillna("").astype(str).to_numpy()},
        geometry=geoms,
        index=raw.index.astype(str),
        crs=DEFAULT_CRS,
    )
    signal_tag = (
        raw["crossing"].astype(str).eq("traffic_signals").to_numpy()
        if "crossing" in raw.columns
        else np.zeros(len(raw), dtype=bool)
    )
    nodes = junctions(network)
    # a junction mapped as a traffic point (signals on the junction node) is that point
    node_ids = nodes["node_id"].astype(str).radd("node/")
    same = node_ids.isin(points.index).to_numpy()
    on_junction = nodes[same].set_axis(node_ids[same].to_numpy())
    nodes = nodes[~same]
    joined = gpd.GeoDataFrame(
        {"kind": "junction", "name": nodes["name"].to_numpy()},
        geometry=nodes.geometry.values,
        index=nodes.index,
        crs=DEFAULT_CRS,
    )
    out = pd.concat([points, joined])
    out.index.name = "point_id"
    xy = shapely.get_coordinates(out.geometry.values)
    # signalised: a signals point itself, a crossing tagged crossing=traffic_signals, or a
    # signals point within SIGNAL_RADIUS_M (checked on the ellipsoid after a planar search)
    x, y = to_band(network.crs).transform(xy[:, 0], xy[:, 1])
    planar = shapely.points(x, y)
    is_signal = (out["kind"] == "signals").to_numpy()
    tree = shapely.STRtree(planar[is_signal])
    near, sig = tree.query(planar, predicate="dwithin", distance=SIGNAL_RADIUS_M * 1.01)
    sig_xy = xy[is_signal][sig]
    _, _, d = GEOD.inv(xy[near, 0], xy[near, 1], sig_xy[:, 0], sig_xy[:, 1])
    close = np.zeros(len(out), dtype=bool)
    close[near[d <= SIGNAL_RADIUS_M]] = True
    out["signalised"] = is_signal | close | np.r_[signal_tag, np.zeros(len(joined), bool)]
    snap = network.snap(xy[:, 0], xy[:, 1], roads_only=True)
    edges = network.edges.iloc[snap["edge"]]
    # a junction lies on every road meeting there: it takes the busiest
    is_junction = np.r_[np.zeros(len(points), bool), np.ones(len(joined), bool)]
    out["road_class"] = np.where(
        is_junction, np.r_[np.full(len(points), ""), nodes["highway"]], edges["highway"]
    )
    out["road_name"] = np.where(
        is_junction, np.r_[np.full(len(points), ""), nodes["road_name"]], edges["name"]
    )
    # a point on a junction node (signals) also takes the junction's busiest road
    at = out.index.isin(on_junction.index)
    out.loc[at, "road_class"] = on_junction["highway"].reindex(out.index[at]).to_numpy()
    out.loc[at, "road_name"] = on_junction["road_name"].reindex(out.index[at]).to_numpy()
    out["road_m"] = snap["leg_m"]
    out["road_edge"] = snap["edge"]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=DEFAULT_CRS)


def _school_names(entrances: gpd.GeoDataFrame, schools: gpd.GeoDataFrame | None) -> pd.Series:
    ids = entrances["school_id"].astype(str)
    if schools is None or "name" not in schools.columns:
        return pd.Series(ids.to_numpy(), index=entrances.index)
    names = schools["name"].astype(str).reindex(ids).fillna("")
    return pd.Series(names.to_numpy(), index=entrances.index)


def gate_traffic(
    network: WalkNetwork,
    entrances: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    *,
    schools: gpd.GeoDataFrame | None = None,
    dist: float | None = None,
    rules: list[Rule] | None = None,
    points: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Traffic points within a walking distance of each gate.

    Parameters
    ----------
    network
        The walking network.
    entrances
        Gates (points with ``school_id``), indexed by ``entrance_id``.
    hazards
        The hazards layer (its ``traffic`` rows).
    schools
        For the school names.
    dist
        Walking distance in metres (WGS 84); default the traffic rule's (100 m).
    rules
        Rule table to take the traffic rule from (default table when None).
    points
        :func:`traffic_points` when already computed.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (gate, point): ``entrance_id``, ``school_id``,
        ``school_name``, ``point_id`` and the point's columns, ``distance_m``
        (walk); geometry the route from the gate.

    Examples
    --------
    >>> from campus_geo import demo, layers, network
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> net = network.walk_network_from_osm(demo.DEMO_DIR / "district.osm")
    >>> near = gate_traffic(net, osm.entrances, osm.hazards, schools=osm.schools)
    >>> sorted(near["kind"].unique())
    ['bus_stop', 'crossing', 'junction', 'signals']
    """
    limit = float(dist) if dist is not None else traffic_distance(rules)
    pts = traffic_points(hazards, network) if points is None else points
    gates = entrances.to_crs(DEFAULT_CRS)
    routes = walking_routes(network, gates, pts, limit=limit)
    info = pd.DataFrame(pts.drop(columns="geometry"))
    out = gpd.GeoDataFrame(
        {
            "entrance_id": routes["group"].astype(str).to_numpy(),
            "school_id": gates["school_id"].astype(str).reindex(routes["group"]).to_numpy(),
            "school_name": _school_names(gates, schools).reindex(routes["group"]).to_numpy(),
            "point_id": routes["target"].astype(str).to_numpy(),
            **{c: info[c].reindex(routes["target"]).to_numpy() for c in info.columns},
            "distance_m": routes["distance_m"].to_numpy(),
        },
        geometry=routes.geometry.values,
        crs=DEFAULT_CRS,
    )
    log.info("traffic points within %g m of %d gates: %d", limit, len(gates), len(out))
    return out


def arterial_gaps(
    network: WalkNetwork,
    entrances: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    *,
    schools: gpd.GeoDataFrame | None = None,
    dist: float | None = None,
    rules: list[Rule] | None = None,
    pass_m: float = PASS_M,
    classes: tuple[str, ...] = ARTERIAL_CLASSES,
) -> gpd.GeoDataFrame:
    """Arterial roads passing a gate with no signalised crossing within `dist` metres on foot.

    A road (its edges grouped by name; an unnamed edge on its own) passes a
    gate when it comes within `pass_m` metres of it in a straight line. It is
    flagged when no signalised point (signals, a crossing tagged or within
    :data:`SIGNAL_RADIUS_M` of signals) on that road can be walked to from the
    gate within `dist` metres (default: the traffic rule's distance).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per flagged (gate, road): ``entrance_id``, ``school_id``,
        ``school_name``, ``road_name``, ``road_class``, ``road_edge``,
        ``gate_to_road_m`` (ellipsoidal), ``nearest_signal_m`` (walk to the
        nearest signalised point on that road, searched up to five times
        `dist`; NaN beyond), ``frontage_lon``/``frontage_lat`` (the road's
        point nearest the gate); geometry the line gate -> road.
    """
    limit = float(dist) if dist is not None else traffic_distance(rules)
    gates = entrances.to_crs(DEFAULT_CRS)
    edges = network.edges
    arterial = np.flatnonzero(edges["highway"].isin(classes).to_numpy())
    road_key = np.where(
        edges["name"].to_numpy() != "", edges["name"].to_numpy(), "edge/" + edges.index.astype(str)
    )
    gxy = shapely.get_coordinates(gates.geometry.values)
    to_plane = to_band(network.crs)
    gx, gy = to_plane.transform(gxy[:, 0], gxy[:, 1])
    gate_pts = shapely.points(gx, gy)
    lines = network.projected_edges[arterial]
    g, e = shapely.STRtree(lines).query(gate_pts, predicate="dwithin", distance=pass_m * 1.01)
    foot = shapely.get_coordinates(shapely.shortest_line(gate_pts[g], lines[e]))[1::2]
    flon, flat = from_band(network.crs).transform(foot[:, 0], foot[:, 1])
    _, _, d = GEOD.inv(gxy[g, 0], gxy[g, 1], flon, flat)
    near = pd.DataFrame(
        {"gate": g, "edge": arterial[e], "road": road_key[arterial[e]], "d": d, "lon": flon}
    ).assign(lat=flat)
    near = near[near["d"] <= pass_m].sort_values("d", kind="stable")
    near = near.drop_duplicates(["gate", "road"])
    # signalised points and the road each lies on
    sig = points[points["signalised"].to_numpy()]
    sig_road = pd.Series(road_key[sig["road_edge"].to_numpy().astype(int)], index=sig.index)
    reach = walking_routes(network, gates, sig, limit=5.0 * limit)
    reach = reach.assign(road=sig_road.reindex(reach["target"]).to_numpy())
    best = reach.groupby(["group", "road"])["distance_m"].min()
    gate_ids = gates.index.astype(str).to_numpy()
    key = pd.MultiIndex.from_arrays([gate_ids[near["gate"].to_numpy()], near["road"].to_numpy()])
    nearest_signal = best.reindex(key).to_numpy()
    flagged = ~(nearest_signal <= limit)
    near = near[flagged]
    nearest_signal = nearest_signal[flagged]
    gate_pos = near["gate"].to_numpy()
    out = gpd.GeoDataFrame(
        {
            "entrance_id": gate_ids[gate_pos],
            "school_id": gates["school_id"].astype(str).to_numpy()[gate_pos],
            "school_name": _school_names(gates, schools).to_numpy()[gate_pos],
            "road_name": edges["name"].to_numpy()[near["edge"].to_numpy()],
            "road_class": edges["highway"].to_numpy()[near["edge"].to_numpy()],
            "road_edge": near["edge"].to_numpy(),
            "gate_to_road_m": near["d"].to_numpy(),
            "nearest_signal_m": nearest_signal,
            "frontage_lon": near["lon"].to_numpy(),
            "frontage_lat": near["lat"].to_numpy(),
        },
        geometry=shapely.linestrings(
            np.stack([gxy[gate_pos], np.column_stack([near["lon"], near["lat"]])], axis=1).reshape(
                -1, 2, 2
            )
        )
        if len(near)
        else gpd.GeoSeries([], crs=DEFAULT_CRS),
        crs=DEFAULT_CRS,
    )
    log.info("arterial roads passing gates without signals within %g m: %d", limit, len(out))
    return out


def guard_post_candidates(
    gate_points: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame, *, lang: str = "zh"
) -> gpd.GeoDataFrame:
    """Guard-post (护学岗) candidates per school, ranked.

    Candidates: the crossings, signals, junctions and level crossings of
    :func:`gate_traffic` (each once per school, from its nearest gate) and the
    flagged arterial frontages of :func:`arterial_gaps` (where the school has no
    crossing or junction on that road yet). Ranked per school:
    busiest road class first (:data:`campus_geo.network.ROAD_CLASSES`), then
    unsignalised before signalised (a post is most needed where no signal stops
    the traffic), then nearest the gate.

    Returns
    -------
    geopandas.GeoDataFrame
        ``school_id``, ``school_name``, ``rank`` (1 = first), ``point_id``,
        ``kind``, ``name``, ``road_class``, ``road_name``, ``signalised``,
        ``distance_m`` (walk from the nearest gate; for a frontage the straight
        distance), ``entrance_id``, ``reason``; the candidate's point.
    """
    cols = ["school_id", "school_name", "point_id", "kind", "name", "road_class"]
    cols += ["road_name", "signalised", "distance_m", "entrance_id"]
    pts = gate_points[gate_points["kind"].isin(GUARD_KINDS)]
    pts = pts.sort_values("distance_m", kind="stable").drop_duplicates(["school_id", "point_id"])
    table = pd.DataFrame(pts[cols])
    point_geoms = [shapely.Point(g.coords[-1]) for g in pts.geometry.values]
    frontage = pd.DataFrame(
        {
            "school_id": gaps["school_id"],
            "school_name": gaps["school_name"],
            "point_id": "frontage/" + gaps["entrance_id"] + "/" + gaps["road_name"].astype(str),
            "kind": "gate_frontage",
            "name": gaps["road_name"],
            "road_class": gaps["road_class"],
            "road_name": gaps["road_name"],
            "signalised": False,
            "distance_m": gaps["gate_to_road_m"],
            "entrance_id": gaps["entrance_id"],
        }
    )
    frontage_geoms = np.asarray(shapely.points(gaps["frontage_lon"], gaps["frontage_lat"]))
    # one frontage per school and road (its nearest gate), and none where the school already
    # has a crossing or junction on that road: the post stands there
    crossed = set(
        zip(
            table.loc[table["kind"] != "bus_stop", "school_id"],
            table.loc[table["kind"] != "bus_stop", "road_name"],
            strict=True,
        )
    )
    keep = ~frontage.duplicated(["school_id", "road_name"]).to_numpy() & np.array(
        [
            (s, r) not in crossed
            for s, r in zip(frontage["school_id"], frontage["road_name"], strict=True)
        ],
        dtype=bool,
    )
    frontage = frontage[keep]
    table = pd.concat([table, frontage[cols]], ignore_index=True)
    geoms = np.array(point_geoms + list(frontage_geoms[keep]), dtype=object)
    table["_class"] = road_class_rank(table["road_class"]).to_numpy()
    order = np.lexsort(
        (
            table["distance_m"].to_numpy(dtype=float),
            table["signalised"].to_numpy(dtype=bool),
            table["_class"].to_numpy(),
            table["school_id"].to_numpy(dtype=str),
        )
    )
    table, geoms = table.iloc[order].reset_index(drop=True), geoms[order]
    table["rank"] = table.groupby("school_id").cumcount() + 1
    table["reason"] = [_reason(r, lang) for r in table.itertuples()]
    table = table.drop(columns="_class")
    return gpd.GeoDataFrame(
        table[["school_id", "school_name", "rank", *cols[2:], "reason"]],
        geometry=gpd.GeoSeries(geoms, crs=DEFAULT_CRS),
        crs=DEFAULT_CRS,
    )


def _reason(row: Any, lang: str) -> str:
    zh = lang == "zh"
    kind = KIND_LABELS.get(str(row.kind), KIND_LABELS["other"])[0 if zh else 1]
    road = str(row.road_name or row.road_class)
    signal = (
        ("有信号灯" if row.signalised else "无信号灯")
        if zh
        else ("signalised" if row.signalised else "no signals")
    )
    if zh:
        return f"{kind}，{road}（{row.road_class}），{signal}，距校门{float(row.distance_m):.1f}米"
    return f"{kind} on {road} ({row.road_class}), {signal}, {float(row.distance_m):.1f} m from the gate"


def save_traffic(
    gate_points: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    dirpath: str | Path,
) -> dict[str, Path]:
    """Write gate_traffic.csv, arterial_gaps.csv, guard_posts.csv (UTF-8 BOM) and traffic.gpkg."""
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    gpkg = out / "traffic.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    for key, name, gdf in (
        ("traffic_gates", "gate_traffic", gate_points),
        ("traffic_gaps", "arterial_gaps", gaps),
        ("guard_posts", "guard_posts", candidates),
    ):
        path = out / f"{name}.csv"
        table = pd.DataFrame(gdf.drop(columns="geometry"))
        for col in ("distance_m", "road_m", "gate_to_road_m", "nearest_signal_m"):
            if col in table.columns:
                table[col] = table[col].astype(float).round(3)
        table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        written[key] = path
        if len(gdf):
            gdf.to_file(gpkg, layer=name, engine="pyogrio")
    written["traffic_gpkg"] = gpkg
    return written


def traffic_layer(
    candidates: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    top: int = 3,
    show: bool = True,
) -> Any:
    """A folium FeatureGroup: the `top` guard-post candidates of each school and the gaps.

    Candidates are numbered circles (1 = first choice), unsignalised ones red;
    flagged arterial frontages are red lines from the gate. Labels are escaped
    and inert in folium's templates (:func:`campus_geo.maps.view.layer_label`);
    `show`: drawn on opening.
    """
    import folium

    from campus_geo.maps.view import layer_label

    zh = lang == "zh"
    group = folium.FeatureGroup(name="护学岗候选点" if zh else "Guard-post candidates", show=show)
    best = candidates[candidates["rank"] <= top]
    for row in best.itertuples():
        label = layer_label(f"{row.school_name} #{row.rank}: {row.reason}")
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=8 - min(int(row.rank), 4),
            color="#2b8cbe" if row.signalised else "#e34a33",
            fill=True,
            fill_opacity=0.9,
            tooltip=label,
        ).add_to(group)
    if len(gaps):
        data = gpd.GeoDataFrame(geometry=gaps.geometry.values, crs=DEFAULT_CRS)
        data["label"] = [
            layer_label(
                f"{s}：{r or c}无信号灯过街设施（{d:.1f}米）"
                if zh
                else f"{s}: {r or c} has no signalised crossing ({d:.1f} m)"
            )
            for s, r, c, d in zip(
                gaps["school_name"],
                gaps["road_name"],
                gaps["road_class"],
                gaps["gate_to_road_m"],
                strict=True,
            )
        ]
        folium.GeoJson(
            data.to_json(),
            name="arterial_gaps",
            style_function=lambda _f: {"color": "#e34a33", "weight": 4},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(group)
    return group
