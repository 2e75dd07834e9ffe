"""Basemaps of the hazard maps: tile services and the offline vector basemap.

Tile services:

- ``osm``: OpenStreetMap's standard tiles (WGS 84 coordinates; slow or
  unreachable from many networks in China).
- ``tianditu``: 天地图, the national platform's vector map with its label layer
  (CGCS2000, which agrees with WGS 84 to within a few centimetres: no shift).
  Needs a key (``tk``), from the argument or the ``TIANDITU_KEY`` variable; the
  key is written into the page, so use a browser-type key limited to your
  domain or address.
- ``amap``: 高德地图 (AutoNavi) road tiles, drawn in GCJ-02: every overlay is
  shifted from WGS 84 into GCJ-02 to sit on the right street.
- ``none``: no tiles at all; the streets, water and buildings of the loaded
  data are drawn as an offline vector basemap. The default for offline exports.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from campus_geo._errors import InputDataError
from campus_geo.settings import BASEMAPS

__all__ = [
    "BASEMAPS",
    "OSM_ATTRIBUTION",
    "Basemap",
    "TileSpec",
    "basemap",
    "street_class",
    "vector_styles",
    "water_class",
]

#: Attribution that every map drawn from OpenStreetMap data must show.
OSM_ATTRIBUTION: Final = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


@dataclass(frozen=True)
class TileSpec:
    """One tile layer: URL template, subdomains, zoom limit and attribution (HTML)."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """A basemap choice.

    Attributes
    ----------
    key
        ``none``, ``osm``, ``tianditu`` or ``amap``.
    label
        Name (Chinese, English).
    crs
        Coordinate system of the basemap: ``wgs84`` or ``gcj02``; overlays are
        shifted into it.
    note
        What the legend says about the basemap's coordinates (Chinese, English).
    tiles
        Tile layers, bottom first (none for the vector basemap).
    """

    key: str
    label: tuple[str, str]
    crs: str
    note: tuple[str, str]
    tiles: tuple[TileSpec, ...] = ()


_TIANDITU_URL: Final = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_TIANDITU_ATTRIBUTION: Final = "&copy; 天地图 Tianditu (国家地理信息公共服务平台)"
_KEY_PATTERN: Final = re.compile(r"^[A-Za-z0-9]{8,64}$")

#: Basemap names accepted by :func:`campus_geo.maps.hazard_map`.


def basemap(key: str, *, tianditu_key: str | None = None, lang: str = "zh") -> Basemap:
    """The basemap called `key`, with its tile layers.

    Parameters
    ----------
    key
        One of :data:`BASEMAPS`.
    tianditu_key
        Tianditu key; when None, the ``TIANDITU_KEY`` environment variable.
    lang
        ``zh`` or ``en``: the language of Tianditu's label layer.

    Raises
    ------
    InputDataError
        Unknown basemap, or ``tianditu`` without a usable key.

    Examples
    --------
    >>> basemap("amap").crs
    'gcj02'
    >>> basemap("osm").tiles[0].url
    'https://tile.openstreetmap.org/{z}/{x}/{y}.png'
    """
    if key == "none":
        return Basemap(
            "none",
            (
                "离线矢量底图（道路、水系、建筑）",
                "offline vector basemap (streets, water, buildings)",
            ),
            "wgs84",
            ("坐标：WGS 84，无需联网", "coordinates: WGS 84, no network needed"),
        )
    if key == "osm":
        tile = TileSpec(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png", OSM_ATTRIBUTION, "", max_zoom=19
        )
        return Basemap(
            "osm",
            ("OpenStreetMap", "OpenStreetMap"),
            "wgs84",
            ("底图坐标：WGS 84", "basemap coordinates: WGS 84"),
            (tile,),
        )
    if key == "tianditu":
        token = tianditu_key or os.environ.get("TIANDITU_KEY", "")
        if not _KEY_PATTERN.match(token):
            msg = (
                "the tianditu basemap needs a Tianditu key (天地图 tk, letters and digits): "
                "pass --tianditu-key KEY or set the TIANDITU_KEY environment variable "
                "(get one at console.tianditu.gov.cn), or choose --basemap none"
            )
            raise InputDataError(msg)
        labels = "cva" if lang == "zh" else "eva"
        tiles = tuple(
            TileSpec(
                _TIANDITU_URL.format(layer=layer, key=token), _TIANDITU_ATTRIBUTION, "01234567"
            )
            for layer in ("vec", labels)
        )
        return Basemap(
            "tianditu",
            ("天地图", "Tianditu"),
            "wgs84",
            (
                "底图坐标：CGCS2000（与 WGS 84 相差数厘米，未偏移）",
                "basemap coordinates: CGCS2000 (within centimetres of WGS 84; no shift)",
            ),
            tiles,
        )
    if key == "amap":
        tile = TileSpec(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            "&copy; 高德地图 AutoNavi",
            "1234",
        )
        return Basemap(
            "amap",
            ("高德地图", "Amap (AutoNavi)"),
            "gcj02",
            (
                "底图坐标：GCJ-02（高德）；图上各图层已由 WGS 84 换算为 GCJ-02 显示，"
                "距离仍在 WGS 84 椭球面上量算",
                "basemap coordinates: GCJ-02 (Amap); every layer is shifted from WGS 84 "
                "into GCJ-02 for display; distances are measured on the WGS 84 ellipsoid",
            ),
            (tile,),
        )
    msg = f"unknown basemap {key!r}; expected one of {', '.join(BASEMAPS)}"
    raise InputDataError(msg)


# street classes of the vector basemap, drawn from the first (paths) to the last (major)
_STREET_CLASSES: Final[dict[str, tuple[str, ...]]] = {
    "path": (
        "footway",
        "path",
        "pedestrian",
        "steps",
        "cycleway",
        "track",
        "bridleway",
        "corridor",
    ),
    "minor": ("residential", "unclassified", "living_street", "service", "road", "busway"),
    "medium": ("secondary", "secondary_link", "tertiary", "tertiary_link"),
    "major": ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link"),
}
_WATER_LINES: Final = {"river": "river", "canal": "river"}


def _first(values: pd.Series) -> pd.Series:
    """The first value of list-valued OSM tags (osmnx gives a list for merged ways)."""
    return values.map(lambda v: v[0] if isinstance(v, list) and v else v)


def street_class(highway: pd.Series) -> pd.Series:
    """Basemap class (path, minor, medium, major) of each OSM ``highway`` value.

    Examples
    --------
    >>> street_class(pd.Series(["primary", "footway", "service", "construction"])).tolist()
    ['major', 'path', 'minor', 'minor']
    """
    lookup = {tag: cls for cls, tags in _STREET_CLASSES.items() for tag in tags}
    return _first(highway).map(lookup).fillna("minor").astype(str)


def water_class(water: gpd.GeoDataFrame) -> pd.Series:
    """Basemap class of each water feature: ``area``, ``river`` (wide line) or ``stream``."""
    areal = water.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    kind = _first(water["water"]) if "water" in water.columns else pd.Series("", index=water.index)
    lines = kind.map(_WATER_LINES).fillna("stream")
    return pd.Series(np.where(areal, "area", lines), index=water.index, dtype=object)


def vector_styles() -> dict[str, dict[str, dict[str, Any]]]:
    """Styles of the vector basemap's parts and classes (colours after OSM Carto).

    ``minzoom``: the class is drawn from that zoom level on (as on tiled basemaps).
    """
    return {
        "water_areas": {"area": {"color": "#aad3df", "weight": 0, "fill": "#aad3df"}},
        "buildings": {
            "building": {"color": "#c4b6ab", "weight": 0.6, "fill": "#d9d0c9", "minzoom": 14}
        },
        "water_lines": {
            "river": {"color": "#8cc4d6", "weight": 4},
            "stream": {"color": "#8cc4d6", "weight": 2, "minzoom": 12},
        },
        "streets": {
            "path": {"color": "#e0907e", "weight": 1.2, "dash": "3 3", "minzoom": 15},
            "minor": {"color": "#ffffff", "weight": 3, "casing": "#c8c0b8", "minzoom": 13},
            "medium": {"color": "#f7fabf", "weight": 4.5, "casing": "#b9b48a", "minzoom": 10},
            "major": {"color": "#fcd6a4", "weight": 6, "casing": "#c29a66"},
        },
    }
