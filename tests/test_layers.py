from __future__ import annotations

import bz2

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from _truth import truth_distance
from conftest import osm_extract
from shapely.geometry import Point, Polygon

from campus_geo import CoordinateWarning, InputDataError, RejectedRowsWarning
from campus_geo.layers import (
    hazards_from_file,
    layers_from_features,
    layers_from_osm,
    read_table_points,
    schools_from_file,
)
from campus_geo.screen import screen


@pytest.fixture(scope="module")
def nanjing():
    return layers_from_osm(osm_extract("nanjing_xinjiekou_2021.osm.bz2"))


@pytest.fixture(scope="module")
def beijing():
    return layers_from_osm(osm_extract("beijing_haidian_wudaokou_2017.osm.bz2"))


@pytest.mark.realdata
def test_nanjing_ninth_middle_school_is_flagged_with_party_ktv(nanjing):
    schools, hazards = nanjing.schools, nanjing.hazards
    school = schools.loc["way/444227092"]
    assert school["name"] == "南京市第九中学"
    assert school.geometry.geom_type == "Polygon"
    ktv = hazards.loc["node/1492963343"]
    assert (ktv["name"], ktv["category"], ktv["subcategory"]) == (
        "Party时代KTV",
        "entertainment",
        "amenity=bar",
    )
    findings = screen(schools, hazards, entrances=nanjing.entrances)
    hit = findings[
        (findings["school_id"] == "way/444227092") & (findings["hazard_id"] == "node/1492963343")
    ]
    assert len(hit) == 1
    row = hit.iloc[0]
    assert row["rule_id"] == "entertainment_200m"
    assert row["distance_m"] == pytest.approx(
        truth_distance(school.geometry, ktv.geometry), abs=0.01
    )
    assert row["distance_m"] == pytest.approx(183.586, abs=0.001)


@pytest.mark.realdata
@pytest.mark.parametrize("extract", ["nanjing", "beijing"])
def test_screen_of_geoparquet_files_equals_screen_of_frames_on_real_extracts(
    extract, request, tmp_path
):
    """A district's layers written as GeoParquet and screened from their paths (the venues
    read as columns): the same findings as from the frames, to the bit."""
    osm = request.getfixturevalue(extract)
    osm.schools.to_parquet(tmp_path / "schools.parquet")
    osm.hazards.to_parquet(tmp_path / "hazards.parquet")
    osm.entrances.to_parquet(tmp_path / "entrances.parquet")
    got = screen(
        tmp_path / "schools.parquet",
        tmp_path / "hazards.parquet",
        entrances=tmp_path / "entrances.parquet",
    )
    expected = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert shapely.equals_exact(got.geometry.values, expected.geometry.values, tolerance=0).all()
    if extract == "nanjing":  # the party KTV of 南京市第九中学, as above
        hit = got[(got["school_id"] == "way/444227092") & (got["hazard_id"] == "node/1492963343")]
        assert hit["distance_m"].iloc[0] == pytest.approx(183.586, abs=0.001)
    else:  # 中关村中学 and the 蚂蚁 bar taken as an internet café, below
        assert list(got["hazard_id"]) == ["node/1747551911"]
        assert got["distance_m"].iloc[0] == pytest.approx(125.899, abs=0.001)


@pytest.mark.realdata
def test_nanjing_non_k12_schools_are_excluded_with_reasons(nanjing):
    reasons = nanjing.excluded.set_index("name")["reason"]
    assert reasons["秦淮区委党校"] == "党校"
    assert reasons["秦淮区教师进修学校"] == "进修学校"
    assert reasons["南京五中"] == "point inside outline way/445000100"
    assert len(nanjing.schools) == 14
    assert nanjing.schools.index.is_unique
    assert (
        nanjing.schools.loc["way/318197098", "kind"] == "kindergarten"
    )  # 五老村幼儿园, tagged amenity=school


@pytest.mark.realdata
def test_beijing_zhongguancun_middle_school_is_flagged_with_mayi_bar_as_internet_cafe(beijing):
    # the 中关村中学 node lies inside the outline 中关村中学分校: one campus, measured from the outline
    school = beijing.schools.loc["way/226936163"]
    assert "中关村中学" in school["alt_names"].split("；")
    bar = beijing.hazards.loc["node/1747551911"]
    assert (bar["name"], bar["category"], bar["subcategory"]) == (
        "蚂蚁吧",
        "internet_cafe",
        "internet_access=terminal",
    )
    findings = screen(beijing.schools, beijing.hazards)
    hit = findings[(findings["hazard_id"] == "node/1747551911")]
    assert hit["school_id"].tolist() == ["way/226936163"]
    assert hit["distance_m"].iloc[0] == pytest.approx(
        truth_distance(school.geometry, bar.geometry), abs=0.01
    )
    assert hit["rule_id"].iloc[0] == "internet_cafe_200m"


@pytest.mark.realdata
def test_beijing_university_affiliated_schools_stay_universities_go(beijing):
    assert beijing.schools.loc["way/412298166", "name"] == "清华大学附属中学"
    assert beijing.schools.loc["way/226628792", "kind"] == "kindergarten"
    reasons = beijing.excluded.set_index("school_id")["reason"]
    assert reasons["way/30663333"] == "amenity=university"


def test_osm_errors_name_the_file(tmp_path):
    with pytest.raises(InputDataError, match=r"OSM file .*missing.osm does not exist"):
        layers_from_osm(tmp_path / "missing.osm")
    bad = tmp_path / "bad.osm.bz2"
    bad.write_bytes(bz2.compress(b"<osm><node id='1' lat='x'"))
    with pytest.raises(InputDataError, match=r"cannot read OSM file .*bad.osm.bz2"):
        layers_from_osm(bad)


def test_geojson_hazards_with_an_id_column(tmp_path):
    path = tmp_path / "wangba.geojson"
    gpd.GeoDataFrame(
        {"id": ["w1", "w2"], "name": ["甲网吧", "乙网吧"]},
        geometry=[Point(113.85, 34.05), Point(113.86, 34.05)],
        crs=4326,
    ).to_file(path, driver="GeoJSON", engine="pyogrio")
    hazards, rejects = hazards_from_file(path, category="internet_cafe")
    assert hazards.index.tolist() == ["w1", "w2"]
    assert hazards.index.name == "hazard_id"
    assert hazards["category"].tolist() == ["internet_cafe"] * 2
    assert hazards["source"].iloc[1] == "file:wangba.geojson#feature 1"
    assert rejects.empty


def test_gis_file_without_id_field(tmp_path):
    path = tmp_path / "s.gpkg"
    gpd.GeoDataFrame(
        {"name": ["甲小学"]}, geometry=[Point(113.85, 34.05).buffer(0.001)], crs=4326
    ).to_file(path, engine="pyogrio")
    # a Python user is told of the argument, a command-line user of the option
    with pytest.raises(InputDataError, match=r"s.gpkg has no `id` column .*id_field=") as info:
        schools_from_file(path)
    assert info.value.cli_message.endswith("name the one to use with --id-field")
    schools, _ = schools_from_file(path, id_field="name")
    assert schools.loc["甲小学", "kind"] == "primary"


def test_csv_rows_without_coordinates_go_to_rejects(tmp_path, caplog):
    path = tmp_path / "venues.csv"
    path.write_text(
        "id,名称,经度,纬度\nv1,星空网咖,113.85,34.05\nv2,无坐标网吧,,\nv3,坏坐标,abc,34.0\nv4,越界,200,34\n",
        encoding="gb18030",
    )
    with pytest.warns(RejectedRowsWarning) as record:
        hazards, rejects = hazards_from_file(path, category="internet_cafe", coords="wgs84")
    assert [str(w.message) for w in record] == [f"{path}: 3 row(s) rejected for bad coordinates"]
    assert record[0].filename == __file__  # the call of hazards_from_file, not a campus_geo line
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert logged == [str(record[0].message)]
    assert hazards.index.tolist() == ["v1"]
    assert hazards.loc["v1", "name"] == "星空网咖"
    assert rejects["row"].tolist() == ["3", "4", "5"]
    # the reasons of the registry reader (one parser for every table): the cell at fault
    assert rejects["column"].tolist() == ["经度/纬度", "经度", "经度"]
    assert rejects["reason"].tolist() == [
        "missing coordinates",
        "longitude is not a number: 'abc'",
        "coordinates out of range (lon 200.0, lat 34.0)",
    ]
    assert "无坐标网吧" in rejects["record"].iloc[0]


def test_read_table_points_warns_at_the_callers_line(tmp_path, caplog):
    path = tmp_path / "points.csv"
    path.write_text("id,lon,lat\na,113.85,34.05\nb,,34.05\n", encoding="utf-8")
    with pytest.warns(RejectedRowsWarning) as record:
        points, rejects = read_table_points(path, coords="wgs84")
    assert points.index.tolist() == [0]
    assert rejects[["row", "column"]].values.tolist() == [["3", "lon"]]
    assert [str(w.message) for w in record] == [f"{path}: 1 row(s) rejected for bad coordinates"]
    assert record[0].filename == __file__
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert logged == [str(record[0].message)]


def test_an_invalid_campus_outline_is_repaired_with_a_warning(caplog):
    bowtie = Polygon([(113.85, 34.05), (113.851, 34.051), (113.851, 34.05), (113.85, 34.051)])
    features = gpd.GeoDataFrame(
        {"amenity": ["school"], "name": ["柳湾镇中心小学"]},
        geometry=[bowtie],
        index=pd.Index(["way/1"]),
        crs="EPSG:4326",
    )
    with pytest.warns(CoordinateWarning) as record:
        layers = layers_from_features(features, source="t.osm")
    outline = layers.schools.geometry.iloc[0]
    assert outline.is_valid
    assert outline.equals(shapely.make_valid(bowtie))  # both halves of the bow tie are kept
    assert [str(w.message) for w in record] == [
        "repaired 1 invalid campus outline(s) with make_valid: way/1"
    ]
    assert record[0].filename == __file__
    assert str(record[0].message) in caplog.text


def test_gcj02_table_is_converted_to_wgs84(tmp_path):
    from campus_geo.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(113.85, 34.05)
    path = tmp_path / "amap.csv"
    pd.DataFrame({"id": ["a"], "lon": [float(glon)], "lat": [float(glat)]}).to_csv(
        path, index=False
    )
    points, _ = read_table_points(path, coords="gcj02")
    assert points.geometry.x.iloc[0] == pytest.approx(113.85, abs=1e-9)
    assert points.geometry.y.iloc[0] == pytest.approx(34.05, abs=1e-9)


def test_table_without_coordinate_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,name\n1,a\n", encoding="utf-8")
    with pytest.raises(
        InputDataError, match=r"t.csv: no longitude/latitude columns found .*pass lon= and lat="
    ) as info:
        read_table_points(path)
    assert info.value.cli_message.endswith("rename the columns lon and lat (or 经度 and 纬度)")
