"""osmnx's graph and geometry builders, fed with OSM elements read by pyosmium.

osmnx reads only OSM XML; campus_geo streams PBF files with pyosmium and hands
what it read to osmnx's own builders, so a PBF gives the very graph and the very
feature geometries the XML path gives (same node order, same edge attributes
``osmid``, ``oneway``, ``reversed``, ``length``; same rings, holes and
multipolygons), instead of re-implementations that would drift. The builders are
private API of osmnx 2 (``graph_from_xml`` and ``features_from_xml`` call them):
pinned by ``osmnx>=2.0,<3`` and ``tests/test_adapters.py``, which compares them
with ``osmnx.graph_from_xml`` and ``osmnx.features_from_xml`` on the same data.
"""

from __future__ import annotations

from typing import Any

__all__ = ["graph_from_elements", "relation_geometry", "way_geometry"]


def graph_from_elements(elements: list[dict[str, Any]], *, bidirectional: bool) -> Any:
    """The unsimplified ``networkx.MultiDiGraph`` osmnx builds from OSM JSON elements.

    Parameters
    ----------
    elements
        ``{"type": "node", "id", "lat", "lon"}`` and ``{"type": "way", "id", "nodes",
        "tags"}`` dicts, as osmnx's XML parser makes them.
    bidirectional
        Whether one-way streets get edges both ways (True for walking).
    """
    from osmnx.graph import _create_graph

    return _create_graph([{"elements": elements}], bidirectional=bidirectional)


def way_geometry(
    way_id: int, refs: list[int], tags: dict[str, str], coords: dict[int, tuple[float, float]]
) -> Any:
    """A way's LineString or Polygon as osmnx decides it from its tags (area or line).

    `coords` maps each node id of `refs` to its (lon, lat).
    """
    from osmnx.features import _build_way_geometry

    return _build_way_geometry(way_id, refs, tags, coords)


def relation_geometry(members: list[dict[str, Any]], member_geoms: dict[Any, Any]) -> Any:
    """A multipolygon or boundary relation's (Multi)Polygon, rings assembled by osmnx."""
    from osmnx.features import _build_relation_geometry

    return _build_relation_geometry(members, member_geoms)
