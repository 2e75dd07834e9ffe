"""The walking network and the shortest walking routes on it.

The ``walk`` profile (文市发〔2014〕41号 pilots, 粤文旅规〔2023〕1号) measures "the
shortest walking distance under traffic rules between any entrance of the venue
and any entrance of the school". This module gives that distance.

The graph
---------
:func:`walk_network_from_osm` reads OSM XML with :func:`osmnx.graph_from_xml`
(``bidirectional=True``: a pedestrian may walk against one-way traffic), and
OSM PBF into the same graph with pyosmium (:mod:`campus_geo.network.pbf`).
``graph_from_xml`` takes no ``network_type`` and turns every way into edges
(admin boundaries, campus outlines, rivers), so the walkable ways are selected
here with the same tag rules that osmnx applies for ``network_type="walk"``
when it queries Overpass (:data:`WALK_EXCLUDE`): a ``highway`` that is not a
motorway, cycleway, platform, construction...; not ``area=yes``,
``access=private``, ``foot=no``, ``service=private`` or a street whose sidewalks
are mapped as separate ways. The largest connected component is kept (a stray
footway that joins nothing cannot carry a walk), then osmnx simplifies the graph.

Lengths on the ellipsoid
------------------------
osmnx measures edge lengths with the haversine formula on a sphere of radius
6,371,009 m, which is off the WGS 84 ellipsoid by up to 0.56 % (north-south at the
equator; +0.25 % north-south and -0.22 % east-west at latitude 34). Every
edge length is recomputed here on the WGS 84 ellipsoid with ``pyproj.Geod``
(GeographicLib), each segment between consecutive OSM nodes taken as a
geodesic; osmnx's ``length`` attribute is not used.

Part-edges
----------
A school gate or a venue is joined to the nearest point ON the nearest edge,
not to the nearest node: the edge is split there, and the route walks the leg
from the point to the edge (its ellipsoidal length) plus the part of the edge
up to the next junction. Two points on the same edge walk straight along it.
The nearest point is found in a transverse Mercator centred on the network (a
plane is needed to find it; every length is then measured on the ellipsoid).

Routing
-------
:func:`scipy.sparse.csgraph.dijkstra` on the split graph: one multi-source
search per group of origins (all the gates of a school), bounded by the rule
distance, so a city of 100,000 edges costs milliseconds per school (see
``benchmarks/walk_bench.py``). The route's geometry (gate -> edge -> ... ->
venue) is returned as a LineString in lon/lat: it is the evidence of a walk
finding.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo.geodesy import GEOD, from_band, local_crs, to_band
from campus_geo.settings import DEFAULT_CRS

__all__ = [
    "NON_ROAD_HIGHWAYS",
    "ROAD_CLASSES",
    "WALK_EXCLUDE",
    "WalkNetwork",
    "junctions",
    "road_class_rank",
    "walk_network_from_graph",
    "walk_network_from_osm",
    "walking_routes",
]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Tag rules that exclude a way from walking: (tag, regular expression searched in its value).
#: The same rules as osmnx's ``network_type="walk"`` Overpass filter (osmnx 2.1) plus its
#: default ``access!~private``.
WALK_EXCLUDE: Final[tuple[tuple[str, str], ...]] = (
    ("area", "yes"),
    ("access", "private"),
    (
        "highway",
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services",
    ),
    ("foot", "no"),
    ("service", "private"),
    ("sidewalk", "separate"),
    ("sidewalk:both", "separate"),
    ("sidewalk:left", "separate"),
    ("sidewalk:right", "separate"),
)
#: Road classes from the busiest down (traffic analysis ranks by this order).
ROAD_CLASSES: Final = (
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
)
#: Ways for people on foot only: they join gates to streets but are no road a car drives on.
NON_ROAD_HIGHWAYS: Final = (
    "footway",
    "path",
    "pedestrian",
    "steps",
    "track",
    "bridleway",
    "corridor",
    "elevator",
    "escalator",
)
_TAGS_NEEDED: Final = (*(tag for tag, _ in WALK_EXCLUDE), "name")
_EXCLUDE_RE: Final = tuple((tag, re.compile(pattern)) for tag, pattern in WALK_EXCLUDE)


def road_class_rank(highway: pd.Series) -> pd.Series:
    """Rank of each ``highway`` value: 0 for trunk, 1 for trunk_link... ; non-roads rank last.

    Examples
    --------
    >>> road_class_rank(pd.Series(["primary", "footway", "residential"])).tolist()
    [2, 13, 9]
    """
    rank = {c: i for i, c in enumerate(ROAD_CLASSES)}
    return highway.map(lambda h: rank.get(str(h), len(ROAD_CLASSES))).astype("int64")


def _first(value: Any) -> Any:
    """Keep one value of a tag that osmnx merged into a list (a set's, in no fixed order).

    The busiest road class; among names, the first in text order.
    """
    if isinstance(value, list):
        if not value:
            return None
        rank = {c: i for i, c in enumerate(ROAD_CLASSES)}
        return min(value, key=lambda v: (rank.get(v, len(ROAD_CLASSES)), str(v)))
    return value


def _walkable(data: dict[str, Any]) -> bool:
    if "highway" not in data:
        return False
    for tag, pattern in _EXCLUDE_RE:
        values = data.get(tag)
        if values is None:
            continue
        for value in values if isinstance(values, list) else [values]:
            if pattern.search(str(value)):
                return False
    return True


@contextmanager
def _osmnx_way_tags(tags: Sequence[str]) -> Any:
    """Make osmnx keep the way tags the walk filter reads, for one call (its setting is global)."""
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys([*before, *tags]))
    try:
        yield ox
    finally:
        ox.settings.useful_tags_way = before


def walk_network_from_osm(
    filepath: str | Path | Sequence[str | Path],
    *,
    simplify: bool = True,
    retain_all: bool = False,
) -> WalkNetwork:
    """Read the walking network of one or more OSM files (XML .osm/.osm.bz2, or PBF .osm.pbf).

    Parameters
    ----------
    filepath
        An OSM file or several (their graphs are joined on shared node ids). PBF
        is streamed by pyosmium into the graph osmnx builds from the same data in
        XML (see :mod:`campus_geo.network.pbf`).
    simplify
        Merge chains of degree-2 nodes into single edges (osmnx ``simplify_graph``).
    retain_all
        Keep every connected component, not only the largest.

    Returns
    -------
    WalkNetwork

    Examples
    --------
    >>> from campus_geo import demo
    >>> net = walk_network_from_osm(demo.DEMO_DIR / "district.osm")
    >>> sorted(set(net.edges["highway"]))
    ['footway', 'primary', 'residential', 'secondary', 'tertiary']
    """
    import networkx as nx

    paths = [Path(filepath)] if isinstance(filepath, str | Path) else [Path(p) for p in filepath]
    graphs = []
    with _osmnx_way_tags(_TAGS_NEEDED) as ox:
        for path in paths:
            if not path.exists():
                msg = f"OSM file {path} does not exist; check the path given to --osm"
                raise InputDataError(msg)
            if path.name.lower().endswith(".pbf"):  # streamed by pyosmium, the same graph
                from campus_geo.network.pbf import graph_from_pbf

                graphs.append(graph_from_pbf(path, way_tags=ox.settings.useful_tags_way))
                continue
            try:
                graphs.append(
                    ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
                )
            except Exception as exc:  # osmnx raises many kinds (XML, KeyError, EOF...)
                msg = (
                    f"cannot read the street network of {path}: {type(exc).__name__}: {exc}; "
                    "give an OSM XML file (.osm or .osm.bz2) whose ways have all their nodes"
                )
                raise InputDataError(msg) from exc
    graph = graphs[0] if len(graphs) == 1 else nx.compose_all(graphs)
    # the graph is ours: filter it in place (a copy of a city graph costs seconds)
    return _walk_network(graph, simplify=simplify, retain_all=retain_all)


def walk_network_from_graph(
    graph: Any, *, simplify: bool = True, retain_all: bool = False
) -> WalkNetwork:
    """Build the walking network from an unsimplified osmnx graph (any ways, any tags).

    Parameters
    ----------
    graph
        A ``networkx.MultiDiGraph`` as :func:`osmnx.graph_from_xml` returns it
        (``simplify=False``): nodes with ``x`` (lon) and ``y`` (lat) in WGS 84,
        edges with OSM tags. Edges without a walkable ``highway`` are dropped.
    simplify, retain_all
        As in :func:`walk_network_from_osm`.
    """
    return _walk_network(graph.copy(), simplify=simplify, retain_all=retain_all)


def _walk_network(walk: Any, *, simplify: bool, retain_all: bool) -> WalkNetwork:
    """Filter `walk` in place to its walkable (largest) part, simplify, and index it."""
    import networkx as nx
    import osmnx as ox

    drop = [(u, v, k) for u, v, k, d in walk.edges(keys=True, data=True) if not _walkable(d)]
    dropped = len(drop)
    if dropped == walk.number_of_edges():
        msg = (
            "the OSM data has no walkable ways (highway=* other than motorways, cycleways, "
            "platforms...): the walk profile needs the streets of the area; add them to the extract"
        )
        raise InputDataError(msg)
    walk.remove_edges_from(drop)
    if retain_all:
        walk.remove_nodes_from([n for n, d in walk.degree() if d == 0])
    else:
        largest = max(nx.weakly_connected_components(walk), key=len)
        walk.remove_nodes_from([n for n in list(walk.nodes) if n not in largest])
    if simplify and not walk.graph.get("simplified"):
        walk = ox.simplify_graph(walk)
    log.info(
        "walking network: %d nodes, %d edges (%d non-walkable edges dropped%s)",
        walk.number_of_nodes(),
        walk.number_of_edges(),
        dropped,
        "" if retain_all else ", largest component kept",
    )
    return WalkNetwork(walk)


class WalkNetwork:
    """A walkable street graph with ellipsoidal edge lengths, ready for routing.

    Attributes
    ----------
    graph
        The filtered osmnx ``MultiDiGraph`` (both directions of every way).
    nodes
        GeoDataFrame indexed by OSM node id: ``street_degree`` (number of
        distinct road edges, footways excluded) and point geometry (EPSG:4326).
    edges
        GeoDataFrame, one row per street segment (one direction only): ``u``,
        ``v`` (OSM node ids), ``highway``, ``name``, ``length_m`` (WGS 84
        ellipsoid) and the LineString from ``u`` to ``v`` (EPSG:4326).
    crs
        The transverse Mercator in which nearest points on edges are found.
    """

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        node_ids = pd.Index(list(graph.nodes), name="node_id")
        xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in node_ids], dtype=float)
        position = {n: i for i, n in enumerate(node_ids)}
        rows = []
        for u, v, data in graph.edges(data=True):
            # every way is in the graph in both directions: keep the one from the lower node
            # (a way given in one direction only is kept as it is); self-loops never help
            if u == v or (position[u] > position[v] and graph.has_edge(v, u)):
                continue
            rows.append((u, v, _first(data.get("highway")), _first(data.get("name")), data))
        # one edge order whatever the order the graph was built in (XML or PBF: the same rows)
        rows.sort(
            key=lambda r: (
                position[r[0]],
                position[r[1]],
                r[4].get("length", 0.0),
                str(r[4].get("osmid")),
            )
        )
        u_pos = np.array([position[r[0]] for r in rows], dtype=np.int64)
        v_pos = np.array([position[r[1]] for r in rows], dtype=np.int64)
        # simplified edges carry their geometry; the others are straight from u to v
        geoms = np.array([r[4].get("geometry") for r in rows], dtype=object)
        straight = np.flatnonzero(pd.isna(geoms))
        if straight.size:
            ends = np.stack([xy[u_pos[straight]], xy[v_pos[straight]]], axis=1)
            geoms[straight] = shapely.linestrings(ends)
        self._xy = xy
        self._u, self._v = u_pos, v_pos
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        self._coords: FloatArray = np.asarray(coords, dtype=np.float64)
        self._offsets = np.searchsorted(owner, np.arange(len(rows) + 1)).astype(np.int64)
        step = np.zeros(len(coords))
        same = owner[1:] == owner[:-1]
        _, _, seg = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
        step[1:] = np.where(same, seg, 0.0)
        cum = np.cumsum(step)
        self._cum: FloatArray = (
            cum - cum[self._offsets[:-1]][owner]
        )  # ellipsoidal metres along each edge
        self.length = self._cum[self._offsets[1:] - 1].copy()
        self.crs = local_crs(gpd.GeoSeries(shapely.points(xy), crs=DEFAULT_CRS))
        x, y = to_band(self.crs).transform(coords[:, 0], coords[:, 1])
        self._pxy = np.column_stack([x, y])
        # planar position of each vertex along its edge, edges laid end to end (for snap)
        pstep = np.zeros(len(coords))
        pstep[1:] = np.where(same, np.hypot(*(self._pxy[1:] - self._pxy[:-1]).T), 0.0)
        pcum = np.cumsum(pstep)
        pcum -= pcum[self._offsets[:-1]][owner]
        self._width = float(pcum.max()) + 1.0 if len(pcum) else 1.0
        self._pkey = pcum + owner * self._width
        projected = shapely.linestrings(self._pxy, indices=owner)
        self._projected = projected
        self._tree = shapely.STRtree(projected)
        road = np.array([str(r[2]) not in NON_ROAD_HIGHWAYS for r in rows], dtype=bool)
        self._road = road
        self.edges = gpd.GeoDataFrame(
            {
                "u": [r[0] for r in rows],
                "v": [r[1] for r in rows],
                "highway": pd.array([r[2] for r in rows], dtype="str"),
                "name": [r[3] if isinstance(r[3], str) else "" for r in rows],
                "length_m": self.length,
            },
            geometry=geoms,
            crs=DEFAULT_CRS,
        )
        self.edges.index.name = "edge"
        degree = np.bincount(u_pos[road], minlength=len(node_ids)) + np.bincount(
            v_pos[road], minlength=len(node_ids)
        )
        self.nodes = gpd.GeoDataFrame(
            {"street_degree": degree},
            geometry=shapely.points(xy),
            index=node_ids,
            crs=DEFAULT_CRS,
        )

    def __repr__(self) -> str:
        return f"WalkNetwork({len(self.nodes)} nodes, {len(self.edges)} edges)"

    def snap(
        self, lon: FloatArray, lat: FloatArray, *, roads_only: bool = False
    ) -> dict[str, npt.NDArray[Any]]:
        """Nearest point on the nearest edge of each point (lon/lat, degrees).

        Parameters
        ----------
        lon, lat
            Points in WGS 84 degrees.
        roads_only
            Only edges that are roads (no footways, paths, steps...).

        Returns
        -------
        dict
            ``edge`` (row of :attr:`edges`), ``t`` (metres along the edge from
            ``u``, WGS 84), ``seg`` (segment of the edge holding the point),
            ``lon``, ``lat`` (the point on the edge) and ``leg_m`` (ellipsoidal
            distance from the point to it).
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        x, y = to_band(self.crs).transform(lon, lat)
        points = shapely.points(x, y)
        if roads_only:
            subset = np.flatnonzero(self._road)
            hit = subset[
                shapely.STRtree(self._projected[subset]).query_nearest(points, all_matches=False)[1]
            ]
        else:
            hit = self._tree.query_nearest(points, all_matches=False)[1]
        lines = self._projected[hit]
        along = shapely.line_locate_point(lines, points)
        on = shapely.get_coordinates(shapely.line_interpolate_point(lines, along))
        # which segment holds the point: the last vertex at or before it along the edge
        first = self._offsets[:-1]
        seg = np.searchsorted(self._pkey, hit * self._width + along, side="right") - 1 - first[hit]
        seg = np.clip(seg, 0, np.diff(self._offsets)[hit] - 2)
        plon, plat = from_band(self.crs).transform(on[:, 0], on[:, 1])
        vertex = self._coords[first[hit] + seg]
        _, _, into = GEOD.inv(vertex[:, 0], vertex[:, 1], plon, plat)
        t = np.clip(self._cum[first[hit] + seg] + into, 0.0, self.length[hit])
        _, _, leg = GEOD.inv(lon, lat, plon, plat)
        return {
            "edge": hit.astype(np.int64),
            "t": t,
            "seg": seg.astype(np.int64),
            "lon": np.asarray(plon, dtype=np.float64),
            "lat": np.asarray(plat, dtype=np.float64),
            "leg_m": np.asarray(leg, dtype=np.float64),
        }

    @property
    def projected_edges(self) -> npt.NDArray[np.object_]:
        """Each edge as a LineString in the network's metric band projection (``crs``)."""
        lines: npt.NDArray[np.object_] = self._projected
        return lines

    def edge_coords(self, edge: int) -> FloatArray:
        """Lon/lat vertices of one edge, from ``u`` to ``v``."""
        return self._coords[self._offsets[edge] : self._offsets[edge + 1]]

    def edge_cum(self, edge: int) -> FloatArray:
        """Ellipsoidal metres from ``u`` to each vertex of one edge."""
        return self._cum[self._offsets[edge] : self._offsets[edge + 1]]


def junctions(network: WalkNetwork, *, min_degree: int = 3) -> gpd.GeoDataFrame:
    """Road junctions: nodes where at least `min_degree` road edges meet (footways not counted).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``junction/<node id>``; ``node_id``, ``street_degree``,
        ``highway`` (the busiest road class meeting there), ``name`` (the
        names of the roads meeting there) and ``road_name`` (the busiest
        road's name); points in EPSG:4326.
    """
    edges = network.edges[network._road]
    ends = pd.concat(
        [
            pd.DataFrame({"node": edges["u"], "highway": edges["highway"], "name": edges["name"]}),
            pd.DataFrame({"node": edges["v"], "highway": edges["highway"], "name": edges["name"]}),
        ]
    )
    ends["rank"] = road_class_rank(ends["highway"])
    nodes = network.nodes[network.nodes["street_degree"] >= min_degree]
    ends = ends[ends["node"].isin(nodes.index)].sort_values(["node", "rank"])
    top = ends.groupby("node").first()
    names = (
        ends[ends["name"] != ""].groupby("node")["name"].agg(lambda n: "/".join(dict.fromkeys(n)))
    )
    return gpd.GeoDataFrame(
        {
            "node_id": nodes.index,
            "street_degree": nodes["street_degree"].to_numpy(),
            "highway": top["highway"].reindex(nodes.index).to_numpy(),
            "name": names.reindex(nodes.index).fillna("").to_numpy(),
            "road_name": top["name"].reindex(nodes.index).fillna("").to_numpy(),
        },
        geometry=nodes.geometry.to_numpy(),
        index=pd.Index([f"junction/{n}" for n in nodes.index], name="junction_id"),
        crs=DEFAULT_CRS,
    )


# --------------------------------------------------------------------------- routing


class _Router:
    """The network split at every origin and target point, as a sparse graph for scipy.

    Nodes: the network's nodes (0..n-1), then one node per distinct point on an
    edge (the split points), then one leaf per origin/target point, joined to
    its split point by its leg. Written here rather than by adding nodes to the
    networkx graph because scipy's Dijkstra over a CSR matrix is two orders of
    magnitude faster than networkx's, and the split is vectorised.
    """

    def __init__(self, network: WalkNetwork, lon: FloatArray, lat: FloatArray) -> None:
        self.network = network
        n = len(network.nodes)
        snap = network.snap(lon, lat)
        self.snap = snap
        edge, t = snap["edge"], snap["t"]
        length = network.length[edge]
        at_u, at_v = t <= 0.0, t >= length
        inner = ~(at_u | at_v)
        # one split node per distinct (edge, t) inside an edge
        keys = pd.MultiIndex.from_arrays([edge[inner], t[inner]])
        codes, uniq = pd.factorize(keys, sort=True)
        split_edge = uniq.get_level_values(0).to_numpy(dtype=np.int64)
        split_t = uniq.get_level_values(1).to_numpy(dtype=np.float64)
        first_of = np.full(len(uniq), -1, dtype=np.int64)
        first_of[codes[::-1]] = np.flatnonzero(inner)[::-1]
        access = np.empty(len(lon), dtype=np.int64)
        access[at_u] = network._u[edge[at_u]]
        access[at_v & ~at_u] = network._v[edge[at_v & ~at_u]]
        access[inner] = n + codes
        self.n_split = len(uniq)
        self.leaf0 = n + self.n_split
        self.n_nodes = self.leaf0 + len(lon)
        # node coordinates (lon/lat) of every routing node
        split_lon = snap["lon"][first_of] if len(uniq) else np.empty(0)
        split_lat = snap["lat"][first_of] if len(uniq) else np.empty(0)
        self.node_lon = np.concatenate([network._xy[:, 0], split_lon, lon])
        self.node_lat = np.concatenate([network._xy[:, 1], split_lat, lat])
        self._node_xy: list[tuple[float, float]] = list(
            zip(self.node_lon.tolist(), self.node_lat.tolist(), strict=True)
        )
        # stops along every edge: u at 0, split nodes at t, v at L; consecutive stops are pieces
        m = len(network.length)
        stop_edge = np.concatenate([np.arange(m), split_edge, np.arange(m)])
        stop_t = np.concatenate([np.zeros(m), split_t, network.length])
        stop_node = np.concatenate([network._u, n + np.arange(len(uniq)), network._v])
        stop_kind = np.concatenate([np.zeros(m), np.ones(len(uniq)), np.full(m, 2.0)])
        order = np.lexsort((stop_kind, stop_t, stop_edge))
        stop_edge, stop_t, stop_node = stop_edge[order], stop_t[order], stop_node[order]
        piece = np.flatnonzero(stop_edge[1:] == stop_edge[:-1])
        a, b = stop_node[piece], stop_node[piece + 1]
        w = stop_t[piece + 1] - stop_t[piece]
        leaf = self.leaf0 + np.arange(len(lon))
        # a piece records its edge and the positions of its ends on it (for the geometry)
        self.piece_edge = np.concatenate([stop_edge[piece], np.full(len(lon), -1)])
        self.piece_ta = np.concatenate([stop_t[piece], np.zeros(len(lon))])
        self.piece_tb = np.concatenate([stop_t[piece + 1], np.zeros(len(lon))])
        src = np.concatenate([a, leaf])
        dst = np.concatenate([b, access])
        weight = np.concatenate([w, snap["leg_m"]])
        self._build(src, dst, weight)

    def _build(self, src: IntArray, dst: IntArray, weight: FloatArray) -> None:
        from scipy.sparse import csr_array

        k = np.arange(len(src))
        rows = np.concatenate([src, dst])
        cols = np.concatenate([dst, src])
        weights = np.concatenate([weight, weight])
        piece = np.concatenate([k, k])
        forward = np.concatenate([np.ones(len(k), bool), np.zeros(len(k), bool)])
        # parallel edges (two ways between the same nodes): keep the shortest
        order = np.lexsort((weights, cols, rows))
        rows, cols, weights = rows[order], cols[order], weights[order]
        piece, forward = piece[order], forward[order]
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        rows, cols, weights = rows[first], cols[first], weights[first]
        # explicit zeros are edges for scipy.sparse.csgraph (a gate on a node has a 0 m leg);
        # built from sorted (row, col) so that arc p of the matrix is row p of these arrays
        indptr = np.searchsorted(rows, np.arange(self.n_nodes + 1)).astype(np.int64)
        self.matrix = csr_array((weights, cols, indptr), shape=(self.n_nodes, self.n_nodes))
        self._indptr, self._cols = indptr, cols
        self._arc_piece, self._arc_forward = piece[first], forward[first]

    def search(
        self, sources: IntArray, limit: float | None
    ) -> tuple[FloatArray, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        from scipy.sparse.csgraph import dijkstra

        dist, pred, origin = dijkstra(
            self.matrix,
            directed=True,
            indices=self.leaf0 + sources,
            min_only=True,
            limit=np.inf if limit is None else float(limit),
            return_predecessors=True,
        )
        return dist, pred, origin

    def path(self, pred: npt.NDArray[np.int32], target_leaf: int) -> shapely.LineString:
        """LineString (lon/lat) of the route ending at a leaf, from the predecessor array.

        Built with Python lists: a route has a handful of pieces, and numpy's per-call
        overhead would cost more than the work.
        """
        nodes = [target_leaf]
        while pred[nodes[-1]] >= 0:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        coords: list[tuple[float, float]] = [self._node_xy[nodes[0]]]
        for a, b in itertools.pairwise(nodes):
            for xy in self._piece_coords(a, b):
                last = coords[-1]
                # drop repeated points (a 0 m leg; an access point on a vertex): 1e-12 deg = 0.1 um
                if abs(xy[0] - last[0]) > 1e-12 or abs(xy[1] - last[1]) > 1e-12:
                    coords.append(xy)
        if len(coords) == 1:
            coords.append(coords[0])
        return shapely.LineString(coords)

    def _piece_coords(self, a: int, b: int) -> list[tuple[float, float]]:
        """Vertices after `a` up to `b` of the piece of edge (or leg) between two routing nodes."""
        lo, hi = self._indptr[a], self._indptr[a + 1]
        arc = lo + int(np.searchsorted(self._cols[lo:hi], b))
        piece, forward = int(self._arc_piece[arc]), bool(self._arc_forward[arc])
        edge = int(self.piece_edge[piece])
        if edge < 0:  # a leg from a point to the edge: a short straight (geodesic) segment
            return [self._node_xy[b]]
        ta, tb = self.piece_ta[piece], self.piece_tb[piece]
        first, last = self.network._offsets[edge], self.network._offsets[edge + 1]
        cum = self.network._cum[first:last]
        inner = [
            tuple(xy) for xy in self.network._coords[first:last][(cum > ta) & (cum < tb)].tolist()
        ]
        if not forward:
            inner.reverse()
        return [*inner, self._node_xy[b]]


def _points_lonlat(points: gpd.GeoSeries | gpd.GeoDataFrame, name: str) -> tuple[Any, Any]:
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is None:
        msg = f"`{name}` has no CRS; call set_crs(4326) if the coordinates are lon/lat on WGS 84"
        raise InputDataError(msg)
    geoms = geoms.to_crs(DEFAULT_CRS)
    if len(geoms) and not (shapely.get_type_id(geoms.values) == 0).all():
        msg = f"`{name}` must be points (gates, venues); take representative points first"
        raise InputDataError(msg)
    xy = shapely.get_coordinates(geoms.values)
    return xy[:, 0], xy[:, 1]


def route_pairs(
    network: WalkNetwork,
    origin_lonlat: FloatArray,
    origin_group: IntArray,
    target_lonlat: FloatArray,
    pair_group: IntArray,
    pair_target: IntArray,
    *,
    limit: float | None,
    paths: bool = True,
) -> tuple[FloatArray, IntArray, npt.NDArray[np.object_]]:
    """Walking distance of (origin group, target) pairs given as positions (internal API).

    Returns
    -------
    distance_m
        Per pair; ``inf`` when the target is not reached within `limit`.
    origin
        Position of the origin the route starts from (-1 when unreached).
    geometry
        Route LineStrings (None when unreached or `paths` is False).
    """
    lon = np.concatenate([origin_lonlat[:, 0], target_lonlat[:, 0]])
    lat = np.concatenate([origin_lonlat[:, 1], target_lonlat[:, 1]])
    router = _Router(network, lon, lat)
    n_origins = len(origin_lonlat)
    distance = np.full(len(pair_group), np.inf)
    origin = np.full(len(pair_group), -1, dtype=np.int64)
    geometry = np.full(len(pair_group), None, dtype=object)
    if not len(pair_group):
        return distance, origin, geometry
    by_group = pd.Series(np.arange(n_origins)).groupby(origin_group).indices
    pair_order = np.argsort(pair_group, kind="stable")
    bounds = np.searchsorted(pair_group[pair_order], np.unique(pair_group), side="left")
    groups = np.unique(pair_group)
    ends = np.r_[bounds[1:], len(pair_order)]
    for g, start, stop in zip(groups, bounds, ends, strict=True):
        rows = pair_order[start:stop]
        dist, pred, src = router.search(np.asarray(by_group[g], dtype=np.int64), limit)
        leaves = router.leaf0 + n_origins + pair_target[rows]
        d = dist[leaves]
        reached = np.isfinite(d) & (d <= (np.inf if limit is None else limit))
        distance[rows[reached]] = d[reached]
        origin[rows[reached]] = src[leaves[reached]] - router.leaf0
        if paths:
            for row, leaf in zip(rows[reached], leaves[reached], strict=True):
                geometry[row] = router.path(pred, int(leaf))
    return distance, origin, geometry


def walking_routes(
    network: WalkNetwork,
    origins: gpd.GeoSeries | gpd.GeoDataFrame,
    targets: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    groups: Sequence[Any] | pd.Series | None = None,
    pairs: pd.DataFrame | None = None,
    limit: float | None = None,
) -> gpd.GeoDataFrame:
    """Shortest walking routes from groups of origins to targets, on the ellipsoid.

    A route starts at the origin point, walks its leg to the nearest point on the
    nearest edge, follows the network (split edges: part-edges count) and walks
    the target's leg from the nearest point of its edge. Lengths are metres on
    the WGS 84 ellipsoid.

    Parameters
    ----------
    network
        From :func:`walk_network_from_osm`.
    origins
        Points (any CRS), e.g. school gates; their index labels the ``origin`` column.
    targets
        Points (any CRS), e.g. venues; their index labels the ``target`` column.
    groups
        One label per origin: the distance of a group is from its nearest
        origin (all the gates of one school). Default: each origin alone,
        labelled by its index.
    pairs
        Columns ``group`` and ``target``: measure these pairs (one row each, in
        this order; ``inf`` distance and no geometry when unreachable within
        `limit`). Default: every target within `limit` of every group.
    limit
        Longest route in metres (WGS 84); needed when `pairs` is None.

    Returns
    -------
    geopandas.GeoDataFrame
        ``group``, ``target``, ``origin``, ``distance_m``; geometry the route
        (LineString, EPSG:4326).

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> net = walk_network_from_osm(demo.DEMO_DIR / "district.osm")
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> gates = osm.entrances[osm.entrances["school_id"] == "way/2000294"]  # 桃源乡九年一贯制学校
    >>> stops = osm.hazards[osm.hazards["subcategory"] == "highway=bus_stop"]
    >>> near = walking_routes(net, gates, stops, groups=gates["school_id"], limit=100)
    >>> near[["group", "target", "origin"]].values.tolist()
    [['way/2000294', 'node/1004748', 'node/1003687']]
    >>> round(float(near["distance_m"].iloc[0]), 3)
    47.545
    """
    olon, olat = _points_lonlat(origins, "origins")
    tlon, tlat = _points_lonlat(targets, "targets")
    origin_labels = origins.index
    group_labels = pd.Series(
        origin_labels if groups is None else np.asarray(groups, dtype=object), dtype=object
    )
    group_codes, group_uniques = pd.factorize(group_labels)
    if pairs is None:
        if limit is None:
            msg = "walking_routes needs `limit` (metres) when `pairs` is not given"
            raise ValueError(msg)
        pair_group = np.repeat(np.arange(len(group_uniques)), len(targets))
        pair_target = np.tile(np.arange(len(targets)), len(group_uniques))
    else:
        pair_group = pd.Index(group_uniques).get_indexer(pairs["group"])
        pair_target = targets.index.get_indexer(pairs["target"])
        if (pair_group < 0).any() or (pair_target < 0).any():
            msg = "`pairs` names a group or target that is not among the origins' groups/targets"
            raise ValueError(msg)
    distance, origin, geometry = route_pairs(
        network,
        np.column_stack([olon, olat]),
        group_codes.astype(np.int64),
        np.column_stack([tlon, tlat]),
        pair_group.astype(np.int64),
        pair_target.astype(np.int64),
        limit=limit,
    )
    keep = np.ones(len(distance), bool) if pairs is not None else np.isfinite(distance)
    out = gpd.GeoDataFrame(
        {
            "group": np.asarray(group_uniques, dtype=object)[pair_group[keep]],
            "target": np.asarray(targets.index, dtype=object)[pair_target[keep]],
            "origin": pd.Series(
                np.asarray(origin_labels, dtype=object)[np.maximum(origin[keep], 0)]
            ).where(origin[keep] >= 0, None),
            "distance_m": distance[keep],
        },
        geometry=gpd.GeoSeries(geometry[keep], crs=DEFAULT_CRS),
        crs=DEFAULT_CRS,
    )
    return (
        out.sort_values(["group", "distance_m"], kind="stable").reset_index(drop=True)
        if (pairs is None)
        else out
    )
