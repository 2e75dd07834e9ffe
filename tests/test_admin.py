"""Townships and villages: areas from a GIS file or from OSM, and the schools placed in them."""

from __future__ import annotations

import unicodedata
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _demo_areas import write_demo_areas
from _osm_xml import OsmBuilder
from conftest import osm_extract
from shapely.geometry import Point, box

from campus_geo import demo
from campus_geo._errors import CampusGeoWarning, InputDataError, RejectedRowsWarning
from campus_geo.coords import gcj02_to_wgs84, wgs84_to_gcj02
from campus_geo.sources.admin import admin_from_features, admin_from_file, assign_admin
from campus_geo.sources.layers import layers_from_osm

# Two townships side by side on the meridian lon = 113.0: 甲镇 west, 乙镇 east; each split
# at lat 34.0 into a south and a north village, 乙镇's north village smaller than its south one.
TOWNS = [("甲镇", box(112.99, 33.99, 113.0, 34.01)), ("乙镇", box(113.0, 33.99, 113.01, 34.01))]
VILLAGES = [
    ("甲镇", "甲南村", box(112.99, 33.99, 113.0, 34.0)),
    ("甲镇", "甲北村", box(112.99, 34.0, 113.0, 34.01)),
    ("乙镇", "乙南村", box(113.0, 33.99, 113.01, 34.0)),
    ("乙镇", "乙北社区", box(113.0, 34.0, 113.005, 34.005)),
]


def areas_frame(town_col="乡镇名称", village_col="村名称", crs="EPSG:4326"):
    """Both levels in one table, as a county's 乡镇村界 layer has them."""
    rows = [(t, "", g) for t, g in TOWNS] + list(VILLAGES)
    return gpd.GeoDataFrame(
        {town_col: [r[0] for r in rows], village_col: [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs=crs,
    )


@pytest.fixture
def areas_file(tmp_path):
    path = tmp_path / "乡镇村界.gpkg"
    areas_frame().to_file(path, engine="pyogrio")
    return path


def schools_frame():
    """Hand-placed schools; the comments give where each representative point falls."""
    return gpd.GeoDataFrame(
        {
            "name": ["甲南小学", "跨界中学", "边线幼儿园", "界外小学", "名单小学", "同镇小学"],
            "township": ["", "", "", "", "丙镇", "甲镇"],
            "village": ["", "", "", "", "", ""],
        },
        geometry=[
            box(112.994, 33.994, 112.996, 33.996),  # inside 甲南村
            # a campus across the township border, 1/3 in 甲镇 and 2/3 in 乙镇: its
            # representative point (the middle of its widest row) is at lon 113.001, in 乙镇
            box(112.998, 34.002, 113.004, 34.004),
            Point(113.002, 34.0),  # on the edge of 乙南村 and 乙北社区: the smaller wins
            Point(113.05, 34.0),  # in no area
            Point(112.995, 34.005),  # the roster says 丙镇; the area is 甲北村 of 甲镇
            Point(112.995, 34.005),  # the roster says 甲镇: its village is filled
        ],
        index=pd.Index([f"s{i}" for i in range(1, 7)], name="school_id"),
        crs="EPSG:4326",
    )


def test_a_file_of_townships_and_villages_places_every_school(areas_file):
    admin = admin_from_file(areas_file)
    assert admin.crs.to_epsg() == 4326
    assert admin.index.name == "admin_id"
    assert admin["level"].tolist() == ["township"] * 2 + ["village"] * 4
    assert admin.loc["乡镇村界.gpkg#5", ["township", "village"]].tolist() == ["乙镇", "乙北社区"]
    schools = schools_frame()
    before = schools.copy()
    with pytest.warns(CampusGeoWarning, match="1 school\\(s\\) got no village") as record:
        placed = assign_admin(schools, admin)
    assert "名单小学 (township 丙镇, village area in 甲镇)" in str(record[0].message)
    pd.testing.assert_frame_equal(schools, before)  # the caller's frame is never changed
    assert placed is not schools
    assert placed.index.equals(schools.index)
    assert placed.geometry.equals(schools.geometry)
    assert placed[["township", "village"]].to_numpy().tolist() == [
        ["甲镇", "甲南村"],
        ["乙镇", "乙北社区"],
        ["乙镇", "乙北社区"],
        ["", ""],
        ["丙镇", ""],  # the roster's township is kept, and no village of another township
        ["甲镇", "甲北村"],
    ]
    # the border campus: its representative point, not most of its area, decides
    rep = shapely.point_on_surface(schools.geometry["s2"])
    assert (rep.x, rep.y) == pytest.approx((113.001, 34.003))


def test_assigning_twice_changes_nothing_and_keeps_values_a_school_has(areas_file):
    admin = admin_from_file(areas_file)
    schools = schools_frame().assign(village=["自有村", "", "", "", "", ""])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CampusGeoWarning)
        once = assign_admin(schools, admin)
        twice = assign_admin(once, admin)
    pd.testing.assert_frame_equal(once, twice)
    assert once.loc["s1", ["township", "village"]].tolist() == ["甲镇", "自有村"]


@pytest.mark.parametrize(
    ("columns", "kwargs"),
    [
        (("township", "village"), {}),
        (("所属乡镇（街道）", "村（社区）"), {}),
        (("XZMC", "CMC"), {"township_field": "XZMC", "village_field": "CMC"}),
        (("乡镇街道名", "社区村名"), {}),  # no known header: the one holding 乡镇 / 村
    ],
)
def test_name_columns_are_detected_or_named(tmp_path, columns, kwargs):
    path = tmp_path / "areas.gpkg"
    areas_frame(*columns).to_file(path, engine="pyogrio")
    admin = admin_from_file(path, **kwargs)
    assert admin["township"].tolist() == ["甲镇", "乙镇", "甲镇", "甲镇", "乙镇", "乙镇"]
    assert admin["village"].tolist()[2:] == ["甲南村", "甲北村", "乙南村", "乙北社区"]


def test_a_file_without_names_or_crs_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"code": ["410101"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(path)
    # the fix in each interface's terms: the argument for Python, the option for the CLI
    with pytest.raises(InputDataError, match="township_field= and/or village_field=") as info:
        admin_from_file(path)
    assert info.value.cli_message.endswith(
        "--admin-township-field COLUMN and/or --admin-village-field COLUMN"
    )
    with pytest.raises(InputDataError, match="has no column `XZMC`"):
        admin_from_file(path, township_field="XZMC")
    shp = tmp_path / "areas.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # pyogrio's own warning
        gpd.GeoDataFrame({"乡镇": ["甲镇"]}, geometry=[box(0, 0, 1, 1)]).to_file(
            shp, encoding="utf-8"
        )
    with pytest.raises(InputDataError, match="has no CRS; add one"):
        admin_from_file(shp)
    with pytest.raises(InputDataError, match="does not exist"):
        admin_from_file(tmp_path / "missing.gpkg")


def test_rows_that_are_no_named_polygon_are_left_out_and_named(tmp_path):
    path = tmp_path / "areas.gpkg"
    frame = gpd.GeoDataFrame(
        {"乡镇": ["甲镇", None, "乙镇"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), Point(3, 3)],
        crs=4326,
    )
    frame.to_file(path, engine="pyogrio")
    with pytest.warns(
        RejectedRowsWarning,
        match="2 row\\(s\\) left out.*feature 1 \\(no name\\), feature 2 \\(Point\\)",
    ):
        admin = admin_from_file(path)
    assert admin["township"].tolist() == ["甲镇"]


def test_a_projected_cgcs2000_file_places_schools_as_its_lonlat_twin(tmp_path):
    path = tmp_path / "areas.gpkg"
    # CGCS2000 / 3-degree Gauss-Kruger CM 114E: a county's survey layer
    areas_frame().to_crs("EPSG:4547").to_file(path, engine="pyogrio")
    admin = admin_from_file(path)
    assert admin.crs.to_epsg() == 4326
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CampusGeoWarning)
        placed = assign_admin(schools_frame(), admin)
        twin = assign_admin(
            schools_frame(),
            areas_frame().rename(columns={"乡镇名称": "township", "村名称": "village"}),
        )
    pd.testing.assert_frame_equal(placed, twin)


def test_a_file_traced_on_amap_is_moved_from_gcj02(tmp_path):
    path = tmp_path / "areas.gpkg"
    square = box(113.0, 34.0, 113.01, 34.01)
    lon, lat = wgs84_to_gcj02(*np.asarray(square.exterior.coords).T)
    traced = shapely.Polygon(np.column_stack([lon, lat]))
    gpd.GeoDataFrame({"乡镇": ["甲镇"]}, geometry=[traced], crs=4326).to_file(path)
    admin = admin_from_file(path, coords="gcj02")
    back = np.asarray(admin.geometry.iloc[0].exterior.coords)
    expected = np.column_stack(gcj02_to_wgs84(lon, lat))
    assert np.abs(back - expected).max() < 1e-12
    assert np.abs(back - np.asarray(square.exterior.coords)).max() < 1e-6  # about 0.1 m
    # a school 1 m inside the true edge is inside once moved, outside in the traced file
    school = gpd.GeoDataFrame(geometry=[Point(113.0 + 1 / 92_000, 34.005)], crs=4326)
    assert assign_admin(school, admin)["township"].tolist() == ["甲镇"]
    raw = admin_from_file(path)
    assert assign_admin(school, raw)["township"].tolist() == [""]


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).replace(" ", "")


def test_the_demo_districts_own_township_layout_as_a_file_places_all_76_schools(tmp_path):
    """The demo's 9 townships and 31 villages written as a GeoPackage, as an office would have it.

    Truth: the township and village the generator put each school in, as its roster lists them.
    """
    osm = layers_from_osm(demo.DEMO_DIR / "district.osm", admin_areas=False)
    assert (osm.schools["township"] == "").all()  # no addr:town tags: only areas can say
    assert (osm.admin["level"].value_counts().to_dict()) == {"village": 31, "township": 9}
    path = write_demo_areas(osm, tmp_path / "青禾区乡镇村界.gpkg")
    placed = assign_admin(osm.schools, admin_from_file(path))
    roster = pd.read_excel(demo.DEMO_DIR / "schools_roster.xlsx")
    truth = roster.assign(key=roster["学校名称"].map(_name_key)).set_index("key")
    got = placed.assign(key=placed["name"].map(_name_key)).set_index("key")
    assert len(got) == 76
    assert got.index.isin(truth.index).all()
    assert got["township"].tolist() == truth.loc[got.index, "所属乡镇"].tolist()
    assert got["village"].tolist() == truth.loc[got.index, "所属村（社区）"].tolist()
    assert got["township"].nunique() == 9


def test_osm_boundaries_fill_townships_after_a_schools_own_tags(tmp_path):
    osm = OsmBuilder()
    ring = [(113.0, 34.0), (113.01, 34.0), (113.01, 34.01), (113.0, 34.01), (113.0, 34.0)]
    osm.way(
        ring, boundary="administrative", admin_level="8", name="Jia Town", **{"name:zh": "甲镇"}
    )
    half = [(113.0, 34.0), (113.005, 34.0), (113.005, 34.01), (113.0, 34.01), (113.0, 34.0)]
    osm.way(half, boundary="administrative", admin_level="10", name="乙村")
    outline = [(113.001, 34.001), (113.002, 34.001), (113.002, 34.002), (113.001, 34.002)]
    osm.way([*outline, outline[0]], amenity="school", name="甲镇乙村小学")
    osm.node(113.008, 34.005, amenity="kindergarten", name="甲镇幼儿园", **{"addr:town": "丙镇"})
    path = osm.write(tmp_path / "towns.osm")

    layers = layers_from_osm(path)
    assert layers.admin[["township", "village", "level"]].to_numpy().tolist() == [
        ["甲镇", "", "township"],  # name:zh before name
        ["", "乙村", "village"],
    ]
    schools = layers.schools.set_index("name")
    assert schools.loc["甲镇乙村小学", ["township", "village"]].tolist() == ["甲镇", "乙村"]
    # the kindergarten's own addr:town wins over the area around it; it is in no village
    assert schools.loc["甲镇幼儿园", ["township", "village"]].tolist() == ["丙镇", ""]
    unfilled = layers_from_osm(path, admin_areas=False).schools.set_index("name")
    assert unfilled.loc["甲镇乙村小学", ["township", "village"]].tolist() == ["", ""]
    assert admin_from_features(pd.DataFrame({"name": ["x"]})).empty


@pytest.mark.realdata
@pytest.mark.parametrize(
    "extract", ["beijing_haidian_wudaokou_2017.osm.bz2", "nanjing_xinjiekou_2021.osm.bz2"]
)
def test_shared_extracts_have_no_township_areas_so_a_file_gives_them(tmp_path, extract):
    """Neither extract holds a township or village area (Nanjing has only cut pieces of its
    districts' admin_level 6 boundaries, Beijing none): every school's township comes from a file.
    """
    osm = layers_from_osm(osm_extract(extract))
    assert osm.admin.empty
    assert (osm.schools["township"] == "").all()
    minx, miny, maxx, maxy = osm.schools.total_bounds
    middle = round((minx + maxx) / 2, 4)
    path = tmp_path / "towns.gpkg"
    gpd.GeoDataFrame(
        {"街道": ["西区街道（测试）", "东区街道（测试）"]},
        geometry=[
            box(minx - 0.01, miny - 0.01, middle, maxy + 0.01),
            box(middle, miny - 0.01, maxx + 0.01, maxy + 0.01),
        ],
        crs=4326,
    ).to_file(path, engine="pyogrio")
    placed = assign_admin(osm.schools, admin_from_file(path))
    rep_lon = shapely.get_x(shapely.point_on_surface(np.asarray(osm.schools.geometry.values)))
    expected = np.where(rep_lon < middle, "西区街道（测试）", "东区街道（测试）")
    assert placed["township"].tolist() == expected.tolist()
    assert set(placed["township"]) == {"西区街道（测试）", "东区街道（测试）"}
