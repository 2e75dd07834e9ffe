"""Interactive hazard maps (folium / Leaflet).

The overview shows every school's outline and its zone (the geodesic buffer at
the rule distance, see :func:`campus_geo.geodesy.geodesic_buffer`), hazards by
category, and the measured line of every finding with its distance. Every name
and value shown is HTML-escaped before it reaches the page, so a venue called
``<img src=x onerror=alert(1)>`` shows as text.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any, Final

import folium
import geopandas as gpd
import pandas as pd

from .geodesy import geodesic_buffer
from .settings import CATEGORY_LABELS, DEFAULT_CRS

__all__ = ["CATEGORY_COLOURS", "hazard_map", "save_map"]

log = logging.getLogger(__name__)

CATEGORY_COLOURS: Final[dict[str, str]] = {
    "internet_cafe": "#d62728",
    "entertainment": "#9467bd",
    "arcade": "#e377c2",
    "lottery": "#ff7f0e",
    "tobacco_alcohol": "#8c564b",
    "dangerous_site": "#000000",
    "vendor": "#bcbd22",
    "care_centre": "#17becf",
    "water": "#1f77b4",
    "traffic": "#7f7f7f",
    "camera": "#2ca02c",
    "other": "#aaaaaa",
}
_OSM_ATTRIBUTION: Final = "© OpenStreetMap contributors"


def _escaped(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Copy with the given columns as escaped strings (safe for innerHTML)."""
    out = gpd.GeoDataFrame(geometry=gdf.geometry.to_crs(DEFAULT_CRS).values, crs=DEFAULT_CRS)
    for col in columns:
        values = gdf[col] if col in gdf.columns else pd.Series("", index=gdf.index)
        out[col] = [html.escape(str(v)) for v in values.fillna("")]
    return out


def _label(category: str, lang: str) -> str:
    zh, en = CATEGORY_LABELS.get(category, (category, category))
    return zh if lang == "zh" else en


def _add_zones(m: folium.Map, schools: gpd.GeoDataFrame, zone_m: float, lang: str) -> None:
    outlines = schools[schools.geometry.geom_type != "Point"]
    zones = geodesic_buffer(schools, zone_m)
    zone_layer = gpd.GeoDataFrame({"name": schools["name"]}, geometry=zones, crs=DEFAULT_CRS)
    group = folium.FeatureGroup(
        name=f"{zone_m:g} 米安全区" if lang == "zh" else f"{zone_m:g} m zone"
    )
    folium.GeoJson(
        _escaped(zone_layer, ["name"]).to_json(),
        name="zones",
        style_function=lambda _f: {
            "color": "#d62728",
            "weight": 1,
            "fillOpacity": 0.06,
            "dashArray": "4",
        },
    ).add_to(group)
    group.add_to(m)
    school_group = folium.FeatureGroup(name="学校" if lang == "zh" else "Schools")
    folium.GeoJson(
        _escaped(outlines, ["name", "kind", "township", "village"]).to_json(),
        name="schools",
        style_function=lambda _f: {"color": "#1a9850", "weight": 2, "fillOpacity": 0.25},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        popup=folium.GeoJsonPopup(fields=["name", "kind", "township", "village"], labels=False),
    ).add_to(school_group)
    for _, school in schools[schools.geometry.geom_type == "Point"].iterrows():
        folium.CircleMarker(
            [school.geometry.y, school.geometry.x],
            radius=6,
            color="#1a9850",
            fill=True,
            tooltip=html.escape(str(school["name"])),
        ).add_to(school_group)
    school_group.add_to(m)


def _add_hazards(m: folium.Map, hazards: gpd.GeoDataFrame, lang: str) -> None:
    for category, group in hazards.groupby("category", sort=True):
        colour = CATEGORY_COLOURS.get(str(category), "#aaaaaa")
        layer = folium.FeatureGroup(
            name=_label(str(category), lang), show=category not in ("traffic", "camera")
        )
        data = _escaped(group, ["name", "subcategory", "address"])
        data["label"] = html.escape(_label(str(category), lang))
        folium.GeoJson(
            data.to_json(),
            name=str(category),
            marker=folium.CircleMarker(
                radius=5, weight=1, fill=True, fill_opacity=0.8, color=colour
            ),
            style_function=lambda _f, c=colour: {
                "color": c,
                "fillColor": c,
                "weight": 2,
                "fillOpacity": 0.3,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name", "label"], labels=False),
            popup=folium.GeoJsonPopup(
                fields=["name", "label", "subcategory", "address"], labels=False
            ),
        ).add_to(layer)
        layer.add_to(m)


def _add_findings(m: folium.Map, findings: gpd.GeoDataFrame, lang: str) -> None:
    if findings.empty:
        return
    data = _escaped(findings, ["school_name", "hazard_name", "rule_id", "basis", "suggestion"])
    data["category"] = [html.escape(_label(c, lang)) for c in findings["category"]]
    data["distance"] = [
        f"{d:.1f} 米" if lang == "zh" else f"{d:.1f} m" for d in findings["distance_m"]
    ]
    layer = folium.FeatureGroup(name="量算线" if lang == "zh" else "Measured lines")
    folium.GeoJson(
        data.to_json(),
        name="findings",
        style_function=lambda _f: {"color": "#d62728", "weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=["hazard_name", "distance"], labels=False),
        popup=folium.GeoJsonPopup(
            fields=[
                "school_name",
                "hazard_name",
                "category",
                "distance",
                "rule_id",
                "basis",
                "suggestion",
            ],
            aliases=(
                ["学校", "场所", "类别", "距离", "规则", "依据", "整治建议"]
                if lang == "zh"
                else ["School", "Venue", "Category", "Distance", "Rule", "Basis", "Suggestion"]
            ),
        ),
    ).add_to(layer)
    layer.add_to(m)


def hazard_map(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    *,
    zone_m: float = 200.0,
    lang: str = "zh",
    tiles: str | None = "OpenStreetMap",
) -> folium.Map:
    """Overview map of schools, their zones, hazards and the measured lines of findings.

    Parameters
    ----------
    findings
        Findings from :func:`campus_geo.screen.screen`.
    schools, hazards
        Canonical layers (any CRS; shown in EPSG:4326).
    zone_m
        Radius of the drawn zone in metres (WGS 84 ellipsoid).
    lang
        "zh" or "en" for labels.
    tiles
        Basemap tiles for folium, or None for no basemap.
    """
    bounds = schools.to_crs(DEFAULT_CRS).total_bounds
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    if tiles:
        folium.TileLayer(tiles, attr=_OSM_ATTRIBUTION, name="OpenStreetMap").add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    _add_zones(m, schools, zone_m, lang)
    shown = hazards[hazards["category"] != "restricted"]
    _add_hazards(m, shown, lang)
    _add_findings(m, findings, lang)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def save_map(m: Any, filepath: str | Path) -> Path:
    """Write a folium map as one HTML file."""
    path = Path(filepath)
    path.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(path))
    log.info("wrote map %s", path)
    return path
