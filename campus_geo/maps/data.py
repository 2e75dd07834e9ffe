"""How a hazard map's data reaches the page: compact JSON and the folium elements that use it.

The data of a map is one JSON document in a ``<script type="application/json">``
block (``JSON.parse`` reads it faster than a JavaScript literal of the same size).
Coordinates are integers at 1e-6 or 1e-7 degree, each path's first point absolute
and the others as differences from the previous one: about a third of the size
of GeoJSON at the same precision. The folium elements below call the campus_geo
runtime (``static/campus_geo/campus_geo.js``) to build the layers from it; they
are folium ``Layer`` objects, so folium's ``LayerControl`` lists them.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from typing import Any, Final

import folium
import numpy as np
import numpy.typing as npt
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.map import Layer

from campus_geo.adapters.branca import parent_of, set_id, walk
from campus_geo.maps.offline import ASSETS, runtime_css, runtime_js

__all__ = [
    "CLUSTER_ASSETS",
    "SEARCH_ASSETS",
    "DataElement",
    "JsControl",
    "JsLayer",
    "PageTitle",
    "RawElement",
    "encode_geometries",
    "encode_points",
    "fix_ids",
    "script_json",
]

#: Scripts and style sheets of Leaflet.markercluster and Leaflet Control Search (CDN
#: URLs of the vendored versions; offline pages inline the vendored files instead).
CLUSTER_ASSETS: Final = (
    [("markerclusterjs", ASSETS["markerclusterjs"].cdn)],
    [("markerclustercss", ASSETS["markerclustercss"].cdn)],
)
SEARCH_ASSETS: Final = (
    [("Leaflet.Search.js", ASSETS["Leaflet.Search.js"].cdn)],
    [("Leaflet.Search.css", ASSETS["Leaflet.Search.css"].cdn)],
)
_POINT, _LINES, _AREAS = 1, 2, 3
_JINJA_OPEN: Final = re.compile(r"\{(?=[{%#])")


def script_json(obj: Any) -> str:
    """JSON text that is safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` can only occur inside JSON strings, where ``\\u003c``
    means the same; escaped, no text can close the element or open a comment.
    Non-ASCII text stays UTF-8 (a Chinese character is 3 bytes, not 6). A ``{``
    that would open a Jinja tag (``{{``, ``{%``, ``{#``) is escaped too.

    Examples
    --------
    >>> script_json({"name": "</script><img src=x onerror=alert(1)>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cimg src=x onerror=alert(1)\\\\u003e"}'
    >>> script_json(["{{ 7*7 }}"])
    '["\\\\u007b{ 7*7 }}"]'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    # a "{" before "{", "%" or "#" can only be inside a string (after a structural "{"
    # comes '"' or "}"): escaped, no Jinja delimiter is left for folium to evaluate
    text = _JINJA_OPEN.sub("\\\\u007b", text)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _split_paths(
    coords: npt.NDArray[np.float64], path: npt.NDArray[np.int64], n_paths: int, scale: float
) -> list[list[int]]:
    """Delta-encoded integer [lat, lon, ...] lists, one per path."""
    ints = np.rint(coords[:, ::-1] * scale).astype(np.int64)
    deltas = ints.copy()
    deltas[1:] -= ints[:-1]
    starts = np.searchsorted(path, np.arange(n_paths))
    valid = starts < len(path)
    deltas[starts[valid]] = ints[starts[valid]]
    ends = np.append(starts[1:], len(path))
    flat = deltas.ravel().tolist()
    return [flat[2 * a : 2 * b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def encode_geometries(
    geoms: npt.NDArray[np.object_] | list[Any], scale: float
) -> list[list[Any] | None]:
    """Encode lon/lat geometries for the map runtime.

    A geometry becomes ``[1, lat, lon]`` (a point), ``[2, [path, ...]]`` (lines)
    or ``[3, [[ring, ...], ...]]`` (polygons, exterior ring first, without the
    closing point), each path a list of integers at ``1/scale`` degree: the
    first point absolute, the others as differences. Multi-part geometries keep
    their parts; in a collection the polygons win, then the lines; empty → None.

    Parameters
    ----------
    geoms
        Shapely geometries in lon/lat.
    scale
        Integers per degree (1e6: 0.11 m; 1e7: 1.1 cm).

    Examples
    --------
    >>> from shapely import LineString, Point, box
    >>> encode_geometries([Point(113.5, 34.25), LineString([(113.5, 34.25), (113.5001, 34.2502)])], 1e6)
    [[1, 34250000, 113500000], [2, [[34250000, 113500000, 200, 100]]]]
    >>> encode_geometries([box(0, 0, 1, 1)], 10)
    [[3, [[[0, 10, 10, 0, 0, -10, -10, 0]]]]]
    """
    arr = np.asarray(geoms, dtype=object)
    out: list[list[Any] | None] = [None] * len(arr)
    parts, owner = shapely.get_parts(arr, return_index=True)
    kind = shapely.get_type_id(parts)
    points = np.flatnonzero((kind == 0) & ~shapely.is_empty(parts))
    xy = shapely.get_coordinates(parts[points])
    for p, (x, y) in zip(points.tolist(), xy.tolist(), strict=True):
        if out[owner[p]] is None:
            out[owner[p]] = [_POINT, round(y * scale), round(x * scale)]
    lines = np.flatnonzero(np.isin(kind, [1, 2]))
    polys = np.flatnonzero(kind == 3)
    line_paths = _paths(parts[lines], scale, closed=False)
    rings, ring_owner = shapely.get_rings(parts[polys], return_index=True)
    ring_paths = _paths(rings, scale, closed=True)
    grouped: dict[int, list[Any]] = {}
    for p, path in zip(lines.tolist(), line_paths, strict=True):
        grouped.setdefault(int(owner[p]), [_LINES, []])[1].append(path)
    poly_rings: dict[int, list[list[int]]] = {}
    for r, path in zip(ring_owner.tolist(), ring_paths, strict=True):
        poly_rings.setdefault(r, []).append(path)
    for r, ring_list in poly_rings.items():
        g = int(owner[polys[r]])
        if g not in grouped or grouped[g][0] != _AREAS:
            grouped[g] = [_AREAS, []]
        grouped[g][1].append(ring_list)
    for g, value in grouped.items():
        out[g] = value
    return out


def _paths(paths: npt.NDArray[np.object_], scale: float, *, closed: bool) -> list[list[int]]:
    if len(paths) == 0:
        return []
    coords, path = shapely.get_coordinates(paths, return_index=True)
    if closed:  # drop each ring's closing point (Leaflet closes polygons itself)
        last = np.append(path[1:] != path[:-1], True)
        coords, path = coords[~last], path[~last]
    return _split_paths(coords, path.astype(np.int64), len(paths), scale)


def encode_points(lon: npt.ArrayLike, lat: npt.ArrayLike, scale: float) -> list[list[int]]:
    """``[lat, lon]`` integer pairs at ``1/scale`` degree.

    Examples
    --------
    >>> encode_points([113.85], [34.05], 1e6)
    [[34050000, 113850000]]
    """
    lat_i = np.rint(np.asarray(lat, dtype=np.float64) * scale).astype(np.int64)
    lon_i = np.rint(np.asarray(lon, dtype=np.float64) * scale).astype(np.int64)
    pairs: list[list[int]] = np.column_stack([lat_i, lon_i]).tolist()
    return pairs


class RawElement(Element):  # type: ignore[misc]
    """Text put into the page as it is.

    branca compiles the output of every folium macro as a Jinja template once
    more, so any ``{{ ... }}`` in data (a venue's name) would be evaluated when
    the page is rendered: folium's ``Marker(tooltip="{{ 7*7 }}")`` shows 49.
    Everything that comes from the data goes through this element instead.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawElement"
        self.text = text

    def render(self, **kwargs: Any) -> str:  # noqa: ARG002 (branca's signature)
        """The text itself."""
        return self.text


def _figure(element: Element) -> Figure:
    figure = element.get_root()
    if not isinstance(figure, Figure):
        msg = f"{element.get_name()} is drawn only inside a folium Map"
        raise TypeError(msg)
    return figure


def _parent_name(element: Element) -> str:
    parent = parent_of(element)
    if parent is None:
        msg = f"{element.get_name()} must be added to a folium Map first"
        raise TypeError(msg)
    return str(parent.get_name())


class DataElement(MacroElement):  # type: ignore[misc]
    """The map's data (JSON), the campus_geo runtime and its styles.

    In the page's head: the runtime's script and styles (inline: they are
    campus_geo's own). In the body: the JSON block. In the script: the call that
    creates the runtime state for the map, which the other elements use. All
    three are :class:`RawElement`: nothing here is a Jinja template.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CampusGeoData"
        self.json = script_json(data)

    def render(self, **kwargs: Any) -> str:  # noqa: ARG002 (branca's signature)
        """Put the runtime, the data and the call that reads it into the page."""
        figure = _figure(self)
        name = self.get_name()
        runtime = f"<style>{runtime_css()}</style>\n<script>{runtime_js()}</script>"
        figure.header.add_child(RawElement(runtime), name=f"{name}_runtime")
        block = f'<script type="application/json" id="{name}_data">{self.json}</script>'
        figure.html.add_child(RawElement(block), name=f"{name}_data")
        call = f'var {name} = campusGeo.init({_parent_name(self)}, "{name}_data");'
        figure.script.add_child(RawElement(call), name=f"{name}_init")
        return ""


Assets = tuple[list[tuple[str, str]], list[tuple[str, str]]]


def _add_links(element: Element, assets: Assets) -> None:
    """The scripts and style sheets an element needs, once per page (by name)."""
    header = _figure(element).header
    for name, url in assets[0]:
        header.add_child(JavascriptLink(url), name=name)
    for name, url in assets[1]:
        header.add_child(CssLink(url), name=name)


class JsLayer(Layer):  # type: ignore[misc]
    """A layer built by the runtime (``campusGeo.<builder>(state, index)``), listed in LayerControl.

    Its script is a :class:`RawElement` (no Jinja), written when the page is rendered.
    """

    def __init__(
        self,
        state: DataElement,
        builder: str,
        index: int,
        *,
        name: str,
        show: bool = True,
        overlay: bool = True,
        assets: Assets = ([], []),
    ) -> None:
        # the name is HTML to Leaflet's layer control: escaped here
        super().__init__(name=html.escape(name), overlay=overlay, control=True, show=show)
        self._name = "CampusGeoLayer"
        self.state = state
        self.builder = builder
        self.index = int(index)
        self.assets = assets

    def render(self, **kwargs: Any) -> str:  # noqa: ARG002 (branca's signature)
        """Put the call that builds the layer (and adds it to the map when shown) into the page."""
        _add_links(self, self.assets)
        name = self.get_name()
        call = f"var {name} = campusGeo.{self.builder}({self.state.get_name()}, {self.index});"
        if self.show:
            call += f"\n{name}.addTo({_parent_name(self)});"
        _figure(self).script.add_child(RawElement(call), name=name)
        return ""


class JsControl(MacroElement):  # type: ignore[misc]
    """A control or final step built by the runtime (``campusGeo.<builder>(state, arg)``).

    `arg` is an index into the map's data, never data itself.
    """

    def __init__(
        self, state: DataElement, builder: str, arg: int = 0, *, assets: Assets = ([], [])
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "CampusGeoControl"
        self.state = state
        self.builder = builder
        self.arg = int(arg)
        self.assets = assets

    def render(self, **kwargs: Any) -> str:  # noqa: ARG002 (branca's signature)
        """Put the call into the page."""
        _add_links(self, self.assets)
        call = f"campusGeo.{self.builder}({self.state.get_name()}, {self.arg});"
        _figure(self).script.add_child(RawElement(call), name=self.get_name())
        return ""


class PageTitle(MacroElement):  # type: ignore[misc]
    """The page's ``<title>`` (escaped, and not a Jinja template)."""

    def __init__(self, title: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "PageTitle"
        self.title = html.escape(title).replace("{", "&#123;")

    def render(self, **kwargs: Any) -> str:  # noqa: ARG002 (branca's signature)
        """Put the title into the page's head."""
        title = RawElement(f"<title>{self.title}</title>")
        _figure(self).header.add_child(title, name=self.get_name())
        return ""


def fix_ids(m: folium.Map, seed: str) -> None:
    """Give every element of the map an id derived from `seed`, so a page is reproducible.

    folium names the JavaScript variable of each element after a random id; a
    map drawn twice from the same data would differ in every line.
    """
    prefix = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:8]
    for i, element in enumerate(walk(m)):
        set_id(element, f"{prefix}{i:04x}")
