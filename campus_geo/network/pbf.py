"""The street graph of an OSM PBF file, the same graph as ``osmnx.graph_from_xml`` gives.

Private to :mod:`campus_geo.network` (``walk_network_from_osm("x.osm.pbf")``).
osmnx reads only OSM XML. The canonical layers cannot carry the walking graph
either: :attr:`campus_geo.layers.Layers.streets` keeps a street's ``highway``
and ``name`` but neither its node ids (needed to join streets at their shared
nodes, not where lines merely cross: a bridge over a street) nor the tags of
the walk filter (``access``, ``foot``, ``area``, ``sidewalk``...), and from PBF
it holds only the streets near schools. So the PBF file is streamed here with
pyosmium (as :mod:`campus_geo.sources.osm_pbf` does for the layers), keeping only the
``highway`` ways, their node ids and coordinates (through libosmium's node
location index) and the way tags osmnx would keep.

**Same graph.** The ways become the JSON elements that osmnx's XML parser makes
(``{"type": "way", "id", "nodes", "tags"}`` and ``{"type": "node", "id",
"lat", "lon"}``) and go through osmnx's own graph builder,
(:mod:`campus_geo.adapters.osmnx`): the same nodes in the same order
(ascending id, the order of a sorted OSM file), the same edges with the same
attributes (``osmid``, ``oneway``, ``reversed``, ``length``). The builder is
private API of osmnx, used there only; ``tests/test_network.py`` also checks
that a PBF and its XML give the same walk findings. Coordinates are PBF's fixed-point integers divided by 1e7,
the same doubles as the 7-decimal XML text parsed.

Differences from the XML path, none of which the walking network reads: the
graph holds only nodes of ``highway`` ways (osmnx adds every node of the file,
and the walk filter drops the ones no walkable edge reaches), and its nodes
carry no tags (``highway=traffic_signals`` on a node is read from the hazards
layer, not from the graph). A way with a node missing from the file is left
out with a warning (osmnx would fail on it).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from campus_geo._errors import InputDataError, RejectedRowsWarning, warn_data
from campus_geo.adapters.osmnx import graph_from_elements

__all__ = ["DISK_INDEX_BYTES", "graph_from_pbf", "node_location_index"]

log = logging.getLogger(__name__)

#: Files larger than this keep node locations in a disk-backed index (temporary file).
DISK_INDEX_BYTES: Final = 256 * 1024 * 1024


def node_location_index(path: Path, tmpdir: str) -> str:
    """The libosmium node-location index for `path`: in memory, or on disk in `tmpdir`.

    Shared with the layer reader (:mod:`campus_geo.sources.osm_pbf`).
    """
    if path.stat().st_size > DISK_INDEX_BYTES:
        return f"sparse_file_array,{Path(tmpdir) / 'node_locations.idx'}"
    return "flex_mem"


def _elements(path: Path, way_tags: Sequence[str], storage: str) -> list[dict[str, Any]]:
    """The highway ways of `path` and their nodes, as the JSON elements osmnx's XML parser makes."""
    import osmium

    keep = frozenset(way_tags)
    highways = osmium.filter.KeyFilter("highway")
    highways.enable_for(osmium.osm.WAY)
    table: Any = osmium.index.create_map(storage)  # a LocationTable; typed as str upstream
    # every node goes through the location index; only the highway ways reach Python
    proc = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations(table)
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(highways)
    )
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[dict[str, Any]] = []
    missing = 0
    way: Any  # ways only (the entity filter drops the nodes)
    for way in proc:
        try:
            located = [(n.ref, n.lat, n.lon) for n in way.nodes]
        except osmium.InvalidLocationError:
            missing += 1
            continue
        nodes.update((ref, (lat, lon)) for ref, lat, lon in located)
        tags = {t.k: t.v for t in way.tags if t.k in keep}
        ways.append(
            {"type": "way", "id": way.id, "nodes": [r for r, _, _ in located], "tags": tags}
        )
    if missing:
        warn_data(
            log,
            f"{path}: {missing} highway way(s) left out: a node missing from the file",
            RejectedRowsWarning,
            stacklevel=None,
        )
    elements = [
        {"type": "node", "id": ref, "lat": lat, "lon": lon}
        for ref, (lat, lon) in sorted(nodes.items())
    ]
    return elements + ways


def graph_from_pbf(filepath: str | Path, *, way_tags: Sequence[str]) -> Any:
    """The unsimplified street graph of an OSM PBF file, as ``graph_from_xml`` builds it.

    Both directions of every way (``bidirectional=True``: a pedestrian may walk
    against one-way traffic), every component kept; the caller filters and simplifies.

    Parameters
    ----------
    filepath
        An ``.osm.pbf`` file (pyosmium also reads .osm, .osm.bz2, .o5m).
    way_tags
        The way tags to keep as edge attributes (osmnx's ``useful_tags_way``).

    Returns
    -------
    networkx.MultiDiGraph

    Raises
    ------
    InputDataError
        A missing or unreadable file, or one without streets.

    Warns
    -----
    RejectedRowsWarning
        Highway ways left out because a node is missing from the file.
    """
    import osmium

    path = Path(filepath)
    if not path.exists():
        msg = f"OSM file {path} does not exist; check the path given to --osm"
        raise InputDataError(msg)
    try:
        with tempfile.TemporaryDirectory(prefix="campus_geo_walk_") as tmpdir:
            # a province's node locations do not fit in memory: a disk-backed index (as the layers)
            elements = _elements(path, way_tags, node_location_index(path, tmpdir))
    except (RuntimeError, KeyError, osmium.InvalidLocationError) as exc:  # libosmium I/O, format
        msg = (
            f"cannot read the street network of {path}: {type(exc).__name__}: {exc}; give an "
            "OSM PBF file (.osm.pbf) as downloaded from Geofabrik, or an OSM XML file"
        )
        raise InputDataError(msg) from exc
    if not any(e["type"] == "way" for e in elements):
        msg = (
            f"{path} has no streets (highway=* ways): the walk profile needs the streets of "
            "the area; add them to the extract"
        )
        raise InputDataError(msg)
    graph = graph_from_elements(elements, bidirectional=True)
    log.info(
        "%s: street graph of %d nodes and %d edges",
        path.name,
        graph.number_of_nodes(),
        graph.number_of_edges(),
    )
    return graph
