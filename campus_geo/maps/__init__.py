"""Hazard maps that work with no network: the overview, one map per school, ledger statuses.

- :mod:`~campus_geo.maps.hazard`: the public API (``hazard_map``, ``save_map``,
  ``save_school_maps``), zones and validation of the layers;
- :mod:`~campus_geo.maps.view`: what one page shows, its data document and elements;
- :mod:`~campus_geo.maps.data`: compact JSON of geometries and the folium elements using it;
- :mod:`~campus_geo.maps.style`: colours, glyphs, labels (Chinese first, English);
- :mod:`~campus_geo.maps.basemap`: tile services and the offline vector basemap;
- :mod:`~campus_geo.maps.offline`: the vendored Leaflet assets inlined into every page.
"""

from __future__ import annotations

from campus_geo.maps.hazard import (
    BASEMAPS,
    CATEGORY_COLOURS,
    CATEGORY_GLYPHS,
    SEVERITY_COLOURS,
    STATUS_STYLES,
    ZoneGroup,
    hazard_map,
    map_html,
    save_map,
    save_school_maps,
    school_id_from_filename,
    school_map,
    school_map_filename,
    zone_groups,
)
from campus_geo.maps.view import layer_label

__all__ = [
    "BASEMAPS",
    "CATEGORY_COLOURS",
    "CATEGORY_GLYPHS",
    "SEVERITY_COLOURS",
    "STATUS_STYLES",
    "ZoneGroup",
    "hazard_map",
    "layer_label",
    "map_html",
    "save_map",
    "save_school_maps",
    "school_id_from_filename",
    "school_map",
    "school_map_filename",
    "zone_groups",
]
