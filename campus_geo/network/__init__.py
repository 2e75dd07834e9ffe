"""The walking network: the street graph from OSM XML or PBF, and shortest walks on it.

- :mod:`~campus_geo.network.graph`: ``WalkNetwork``, ``walk_network_from_osm``, routes
  between points with part-edges, junctions, road classes;
- :mod:`~campus_geo.network.pbf`: the same graph from an ``.osm.pbf`` file (pyosmium).

It is a measuring instrument of the core: ``screen(..., profile="walk")`` measures on it.
"""

from __future__ import annotations

from campus_geo.network.graph import (
    NON_ROAD_HIGHWAYS,
    ROAD_CLASSES,
    WALK_EXCLUDE,
    WalkNetwork,
    junctions,
    road_class_rank,
    walk_network_from_graph,
    walk_network_from_osm,
    walking_routes,
)
from campus_geo.network.pbf import graph_from_pbf

__all__ = [
    "NON_ROAD_HIGHWAYS",
    "ROAD_CLASSES",
    "WALK_EXCLUDE",
    "WalkNetwork",
    "graph_from_pbf",
    "junctions",
    "road_class_rank",
    "walk_network_from_graph",
    "walk_network_from_osm",
    "walking_routes",
]
