from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely.affinity
from conftest import GEOD, equator_school
from shapely.geometry import Point

from campus_geo import cameras
from campus_geo._errors import InputDataError, RejectedRowsWarning


def cams(rows):
    """rows: (id, lon, lat, direction or None, fov, range)."""
    return gpd.GeoDataFrame(
        {
            "direction_deg": [r[3] if r[3] is not None else np.nan for r in rows],
            "fov_deg": [r[4] for r in rows],
            "range_m": [r[5] for r in rows],
        },
        geometry=[Point(r[1], r[2]) for r in rows],
        index=pd.Index([r[0] for r in rows], name="camera_id"),
        crs=4326,
    )


def sector_area(radius, fov_deg, step=cameras.STEP_DEG):
    """Area of the polygon that approximates a sector: n triangles of angle fov/n."""
    n = max(math.ceil(fov_deg / step), 2)
    return 0.5 * radius**2 * n * math.sin(math.radians(fov_deg / n))


def test_viewsheds_on_the_ellipsoid():
    sheds = cameras.viewsheds(
        cams([("c1", 0.0, 0.0, 90.0, 90.0, 50.0), ("c2", 0.0, 0.0, None, 90.0, 30.0)])
    )
    east, dome = sheds.iloc[0], sheds.iloc[1]
    # 45 triangles of 2 degrees: 1963.10 m² (the true quarter disc is 1963.50)
    assert -GEOD.geometry_area_perimeter(east)[0] == pytest.approx(sector_area(50, 90), abs=0.05)
    assert -GEOD.geometry_area_perimeter(dome)[0] == pytest.approx(sector_area(30, 360), abs=0.05)
    # every arc vertex is 50 m from the camera, azimuths 45..135 degrees (looking east)
    xy = np.asarray(east.exterior.coords)[1:-1]
    az, _, dist = GEOD.inv(np.zeros(len(xy)), np.zeros(len(xy)), xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(dist, 50.0, atol=1e-6)
    assert (az.min(), az.max()) == pytest.approx((45.0, 135.0), abs=1e-6)


@pytest.fixture
def campus():
    schools = gpd.GeoDataFrame(
        {
            "name": ["赤道小学", "无监控小学"],
            "kind": ["primary", "primary"],
            "township": ["甲镇", "乙镇"],
        },
        geometry=[equator_school(), shapely.affinity.translate(equator_school(), 0.05, 0.0)],
        index=pd.Index(["s1", "s2"], name="school_id"),
        crs=4326,
    )
    entrances = gpd.GeoDataFrame(
        {"school_id": ["s1", "s1", "s2"]},
        geometry=[Point(0.001, 0.0), Point(-0.001, 0.0), Point(0.051, 0.0)],
        index=pd.Index(["g_east", "g_west", "g2"], name="entrance_id"),
        crs=4326,
    )
    return schools, entrances


def test_coverage_shares_gates_and_ranking(campus):
    schools, entrances = campus
    # a dome on the east gate sees 30 m all round: half of its disc lies outside the campus
    c = cams([("dome", 0.001, 0.0, None, 90.0, 30.0)])
    table, gates, blind = cameras.camera_coverage(schools, c, entrances=entrances, zone_m=50)
    s1 = table.loc["s1"]
    assert s1["covered_m2"] == pytest.approx(sector_area(30, 360) / 2, rel=2e-4)
    side = GEOD.inv(0.001, -0.001, 0.001, 0.001)[2]
    # the zone: the 50 m ring around the square (its corners rounded, 32 segments per quarter)
    ring = 4 * 2 * 0.001 * 6378137.0 * math.pi / 180 * 50 + 4 * 32 * 0.5 * 50**2 * math.sin(
        math.pi / 64
    )
    assert side == pytest.approx(221.2, abs=0.1)
    assert s1["zone_m2"] == pytest.approx(ring, rel=3e-3)
    assert s1["covered_share"] == pytest.approx(s1["covered_m2"] / s1["zone_m2"])
    assert (s1["gates"], s1["gates_seen"], s1["cameras"]) == (2, 1, 1)
    assert gates.loc["g_east", "seen"]
    assert not gates.loc["g_west", "seen"]
    assert gates.loc["g_east", "covered_share"] == pytest.approx(1.0, abs=2e-3)
    assert gates.loc["g_west", "covered_share"] == 0.0
    # the school with no camera at all has the largest gap: rank 1
    assert table.index.tolist() == ["s2", "s1"]
    assert table.loc["s2", ["rank", "covered_share", "gap_share", "gates_seen"]].tolist() == [
        1,
        0.0,
        1.0,
        0,
    ]
    # blind spots fill the rest of each zone
    by_school = blind.groupby("school_id")["area_m2"].sum()
    assert by_school["s1"] == pytest.approx(s1["zone_m2"] - s1["covered_m2"], rel=1e-6)
    assert by_school["s2"] == pytest.approx(table.loc["s2", "zone_m2"], rel=1e-9)


def test_direction_matters(campus):
    schools, entrances = campus
    looking_in = cams([("c", 0.0011, 0.0, 270.0, 60.0, 40.0)])  # west, into the campus
    looking_out = cams([("c", 0.0011, 0.0, 90.0, 60.0, 40.0)])  # east, along the street
    _, gin, _ = cameras.camera_coverage(schools, looking_in, entrances=entrances, zone_m=50)
    _, gout, _ = cameras.camera_coverage(schools, looking_out, entrances=entrances, zone_m=50)
    assert gin.loc["g_east", "seen"]
    assert not gout.loc["g_east", "seen"]
    assert gout.loc["g_east", "covered_share"] > gin.loc["g_east", "covered_share"]


def test_cameras_from_file_with_defaults_and_rejects(tmp_path):
    path = tmp_path / "cams.csv"
    pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "经度": [0.001, 0.002, None],
            "纬度": [0.0, 0.0, 0.0],
            "方向": [90, None, 10],
            "视场角": [60, None, None],
            "可视距离": [None, 80, None],
        }
    ).to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.warns(RejectedRowsWarning, match=r"cams\.csv: 1 row\(s\) rejected") as record:
        found, rejects = cameras.cameras_from_file(path, fov_deg=70.0)
    assert record[0].filename == __file__
    assert found.index.tolist() == ["a", "b"]
    assert found.loc["a", ["direction_deg", "fov_deg", "range_m"]].tolist() == [90.0, 60.0, 50.0]
    assert np.isnan(found.loc["b", "direction_deg"])
    assert found.loc["b", ["fov_deg", "range_m"]].tolist() == [360.0, 80.0]
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        ["4", "经度", "missing longitude"]  # the shared table parser names what is missing
    ]
    with (
        pytest.raises(InputDataError, match="no `code` column"),
        pytest.warns(RejectedRowsWarning, match=r"cams\.csv: 1 row\(s\) rejected"),
    ):
        cameras.cameras_from_file(path, id_field="code")


def test_outputs_and_layer(campus, tmp_path):
    schools, entrances = campus
    c = cams([("<script>", 0.001, 0.0, None, 90.0, 30.0)])
    table, gates, blind = cameras.camera_coverage(schools, c, entrances=entrances, zone_m=50)
    written = cameras.save_coverage(table, gates, blind, tmp_path)
    csv = pd.read_csv(written["camera_coverage"], encoding="utf-8-sig")
    assert csv["school_id"].tolist() == ["s2", "s1"]
    assert len(gpd.read_file(written["cameras_gpkg"], layer="blind_spots")) == len(blind)
    m = folium.Map()
    cameras.camera_layer(c, blind).add_to(m)
    page = m.get_root().render()
    assert "<script>:" not in page
    assert "\\u0026lt;script\\u0026gt;" in page


def test_demo_cameras():
    from campus_geo import demo, layers

    osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    found = cameras.cameras_from_hazards(osm.hazards)
    assert len(found) == 160
    assert int(found["direction_deg"].isna().sum()) == 4  # camera:type=dome
    assert set(found["fov_deg"]) == {cameras.DEFAULT_FOV_DEG, 360.0}
    table, gates, _ = cameras.camera_coverage(osm.schools, found, entrances=osm.entrances)
    assert (len(gates), int(gates["seen"].sum())) == (124, 81)
    assert table["rank"].tolist() == list(range(1, 77))
    assert table.iloc[0]["gates_seen"] == 0
