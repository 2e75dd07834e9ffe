"""The demo district's own township layout written as an areas file, as a county office has it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from campus_geo.sources.admin import assign_admin
from campus_geo.sources.layers import Layers


def write_demo_areas(osm: Layers, path: Path, *, suffix: str = "") -> Path:
    """The 9 townships and 31 villages of the demo's OSM boundaries as one GeoPackage.

    Columns 乡镇 and 村（社区） (a village row names its township); `suffix` is added to
    every township's name, to tell the file's names from the OSM ones.
    """
    areas = osm.admin
    towns = areas[areas["level"] == "township"]
    villages = areas[areas["level"] == "village"]
    centres = gpd.GeoDataFrame(geometry=villages.geometry.representative_point(), crs=4326)
    village_towns = assign_admin(centres, towns)["township"]
    gpd.GeoDataFrame(
        {
            "乡镇": [t + suffix for t in [*towns["township"], *village_towns]],
            "村（社区）": [""] * len(towns) + list(villages["village"]),
        },
        geometry=[*towns.geometry, *villages.geometry],
        crs=4326,
    ).to_file(path, engine="pyogrio")
    return path
