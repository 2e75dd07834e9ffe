"""Shared fixtures: hand-built layers with explicit CRS and hand-checkable numbers."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NoReturn

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import Point, Polygon

ROOT = Path(__file__).resolve().parent.parent
SHARED_OSM = ROOT.parent / "shared" / "data" / "osm"
GEOD = pyproj.Geod(ellps="WGS84")
#: metres per degree of longitude along the equator (the equator is a geodesic): a * pi / 180
EQ_M_PER_DEG = 6378137.0 * math.pi / 180.0


#: In CI (.ci/run sets CAMPUS_GEO_REQUIRE_ALL=1; CI=true does the same) the browser and
#: real-data tests must run: what they need missing fails them instead of skipping them.
REQUIRE_ALL = os.environ.get("CAMPUS_GEO_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"


def unavailable(reason: str, fix: str) -> NoReturn:
    """Skip the test for `reason` on a developer's machine; fail it in CI (REQUIRE_ALL)."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason}, and CI requires it: {fix}", pytrace=False)
    pytest.skip(reason)


def osm_extract(name: str) -> Path:
    """Path of a real OSM extract in ../shared/data/osm; skipped when absent, failed in CI."""
    path = SHARED_OSM / name
    if not path.exists():
        unavailable(
            f"real OSM extract {path} is absent (it lives in ../shared/data/osm, never in the repo)",
            "check out the repository beside ../shared",
        )
    return path


def to_pbf(src: Path, dirpath: Path) -> Path:
    """The same OSM data as PBF in `dirpath`, written by pyosmium."""
    import osmium

    pbf = dirpath / (src.name.split(".")[0] + ".osm.pbf")
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    return pbf


def equator_school(half_side_deg: float = 0.001) -> Polygon:
    """A square campus centred on (0, 0) whose east edge lies on the meridian lon = +half_side_deg."""
    h = half_side_deg
    return Polygon([(-h, -h), (h, -h), (h, h), (-h, h)])


@pytest.fixture
def equator_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One school on the equator and point venues due east of its east edge.

    By symmetry the nearest point of the east edge to a venue on the equator is
    (h, 0), and the distance is the equatorial arc a * delta_lon: 199.99 m is in,
    200.02 m is out, 150 m is in.
    """
    h = 0.001
    schools = gpd.GeoDataFrame(
        {"name": ["赤道小学"], "kind": ["primary"], "township": ["甲镇"], "village": ["乙村"]},
        geometry=[equator_school(h)],
        index=gpd.pd.Index(["s1"], name="school_id"),
        crs="EPSG:4326",
    )
    dists = {"in_19999": 199.99, "out_20002": 200.02, "in_150": 150.0}
    hazards = gpd.GeoDataFrame(
        {
            "name": ["网吧甲", "网吧乙", "网吧丙"],
            "category": ["internet_cafe"] * 3,
        },
        geometry=[Point(h + d / EQ_M_PER_DEG, 0.0) for d in dists.values()],
        index=gpd.pd.Index(list(dists), name="hazard_id"),
        crs="EPSG:4326",
    )
    return schools, hazards
