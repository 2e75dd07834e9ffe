"""Write tiny OSM XML files by hand for the walking-network tests."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr


class OsmBuilder:
    """Nodes and ways with tags, written as OSM XML 0.6 (ids from 1)."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[float, float], int] = {}
        self.node_tags: dict[int, dict[str, str]] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []

    def node(self, lon: float, lat: float, **tags: str) -> int:
        key = (round(lon, 9), round(lat, 9))
        if key not in self.nodes:
            self.nodes[key] = len(self.nodes) + 1
        nid = self.nodes[key]
        if tags:
            self.node_tags.setdefault(nid, {}).update(tags)
        return nid

    def way(self, points: list[tuple[float, float]], **tags: str) -> int:
        self.ways.append(([self.node(x, y) for x, y in points], dict(tags)))
        return 1000 + len(self.ways)

    def write(self, path: Path) -> Path:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
        for (lon, lat), nid in self.nodes.items():
            tags = self.node_tags.get(nid, {})
            attrs = f'id="{nid}" lat="{lat:.9f}" lon="{lon:.9f}" version="1"'
            if tags:
                lines.append(f"  <node {attrs}>")
                lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
                lines.append("  </node>")
            else:
                lines.append(f"  <node {attrs}/>")
        for i, (refs, tags) in enumerate(self.ways, start=1001):
            lines.append(f'  <way id="{i}" version="1">')
            lines += [f'    <nd ref="{r}"/>' for r in refs]
            lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            lines.append("  </way>")
        lines.append("</osm>")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
