from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import pytest
from conftest import EQ_M_PER_DEG, GEOD, equator_school
from shapely.geometry import LineString, Point, Polygon

from campus_geo import water


def east(m: float) -> float:
    """Longitude m metres east of the square school's east wall (lon 0.001) along the equator."""
    return 0.001 + m / EQ_M_PER_DEG


@pytest.fixture
def layers():
    schools = gpd.GeoDataFrame(
        {
            "name": ["赤道小学", "东岸幼儿园", "远方中学"],
            "kind": ["primary", "kindergarten", "middle"],
            "township": ["甲镇", "甲镇", "乙镇"],
            "village": ["", "", ""],
            "pupils": [800, 120, 2000],
        },
        geometry=[
            equator_school(),
            Polygon(
                [(east(400), -0.0005), (east(450), -0.0005), (east(450), 0.0), (east(400), 0.0)]
            ),
            Point(0.0, 0.3),
        ],
        index=pd.Index(["s1", "s2", "s3"], name="school_id"),
        crs=4326,
    )
    river_south = LineString([(east(120), -0.01), (east(120), 0.0)])
    river_north = LineString([(east(120), 0.0), (east(120), 0.01)])
    pond = Polygon(
        [(east(300), -0.0002), (east(320), -0.0002), (east(320), 0.0002), (east(300), 0.0002)]
    )
    far_pond = Point(GEOD.fwd(0.0, 0.3, 0.0, 400.0)[:2])
    hazards = gpd.GeoDataFrame(
        {
            "name": ["甲河", "甲河", "<b>乙塘</b>", "丙水库", "丁塘", "某网吧"],
            "category": ["water", "water", "water", "water", "water", "internet_cafe"],
            "subcategory": [
                "waterway=river",
                "waterway=river",
                "natural=water",
                "natural=water",
                "natural=water",
                "amenity=internet_cafe",
            ],
        },
        geometry=[
            river_south,
            river_north,
            pond,
            Point(east(600), 0.0),
            far_pond,
            Point(east(10), 0.0),
        ],
        index=pd.Index(["w1", "w2", "w3", "w4", "w5", "n1"], name="hazard_id"),
        crs=4326,
    )
    return schools, hazards


def test_water_near_schools_distances_types_and_bodies(layers):
    schools, hazards = layers
    near = water.water_near_schools(schools, hazards)
    assert near["threshold_m"].unique().tolist() == [500.0]
    got = near.set_index(["school_id", "water_id"])["distance_m"]
    # the river runs along a meridian 120 m east of the east wall (equatorial arc); a line
    # hazard's nearest point is found on its chord in the band projection: exact to 0.1 mm
    assert got[("s1", "w1")] == pytest.approx(120.0, abs=1e-4)
    assert got[("s1", "w2")] == pytest.approx(120.0, abs=1e-4)
    assert got[("s1", "w3")] == pytest.approx(300.0, abs=1e-4)
    assert ("s1", "w4") not in got.index  # 600 m: beyond the water rule's 500 m
    assert got[("s2", "w3")] == pytest.approx(80.0, abs=1e-4)
    assert got[("s2", "w1")] == pytest.approx(280.0, abs=1e-4)
    assert got[("s2", "w4")] == pytest.approx(150.0, abs=1e-6)
    assert got[("s3", "w5")] == pytest.approx(400.0, abs=1e-6)
    row = near[(near["school_id"] == "s1") & (near["water_id"] == "w3")].iloc[0]
    assert row["water_type"] == "pond"
    # the nearest point lies on the pond's west edge, the line starts on the school's east wall
    assert row["water_lon"] == pytest.approx(east(300), abs=1e-9)
    assert -0.0002 - 1e-12 <= row["water_lat"] <= 0.0002 + 1e-12
    assert row.geometry.coords[0][0] == pytest.approx(0.001, abs=1e-9)
    # two touching ways of one river are one body
    assert set(near.loc[near["water_id"].isin(["w1", "w2"]), "body_id"]) == {"w1"}
    assert near["pupils"].tolist()[:1] == [120.0]  # s2's pond, nearest pair first
    narrow = water.water_near_schools(schools, hazards, dist=100)
    assert narrow[["school_id", "water_id"]].values.tolist() == [["s2", "w3"]]


def test_key_water_areas_ranked_by_schools_then_pupils(layers):
    schools, hazards = layers
    near = water.water_near_schools(schools, hazards)
    bodies = water.key_water_areas(near, hazards)
    # two schools each: pond and river tie on pupils (920): the nearer threat (80 m) first;
    # one school each: 丁塘 threatens 2000 pupils at 400 m, 丙水库 120 pupils at 150 m
    assert bodies.index.tolist() == ["w3", "w1", "w5", "w4"]
    assert bodies["rank"].tolist() == [1, 2, 3, 4]
    river, pond = bodies.loc["w1"], bodies.loc["w3"]
    assert river["features"] == "w1;w2"
    assert river["water_type"] == "river"
    assert (river["schools"], river["pupils"]) == (2, 920.0)
    assert (pond["schools"], pond["pupils"]) == (2, 920.0)
    assert pond["min_distance_m"] == pytest.approx(80.0, abs=1e-6)
    assert pond["school_names"] == "东岸幼儿园、赤道小学"
    assert bodies.loc["w5", ["schools", "pupils"]].tolist() == [1, 2000.0]
    # pupils unknown for one school: the sum is over the known ones
    schools.loc["s1", "pupils"] = None
    bodies = water.key_water_areas(water.water_near_schools(schools, hazards), hazards)
    assert bodies.loc["w1", "pupils"] == 120.0


def test_water_types_from_tags_and_names():
    table = pd.DataFrame(
        {
            "name": ["幸福渠", "青龙水库", "月湖", "", "小溪", "", "长江"],
            "subcategory": [
                "waterway=canal",
                "natural=water",
                "natural=water",
                "landuse=reservoir",
                "natural=water",
                "natural=water",
                "natural=water",
            ],
            "water": [None, None, None, None, None, "pond", None],
        }
    )
    assert water.water_types(table).tolist() == [
        "canal",
        "reservoir",
        "lake",
        "reservoir",
        "stream",
        "pond",
        "river",
    ]


def test_form_lines_outputs_and_map_layer(layers, tmp_path):
    schools, hazards = layers
    near = water.water_near_schools(schools, hazards)
    lines = water.form_lines(near)
    assert lines["s1"] == "周边水域：1. 甲河（河流）120.0米；2. <b>乙塘</b>（坑塘）300.0米"
    assert water.form_lines(near, lang="en")["s2"].startswith(
        "Water nearby: 1. <b>乙塘</b> (pond) 80.0 m"
    )
    bodies = water.key_water_areas(near, hazards)
    written = water.save_water(near, bodies, tmp_path)
    table = pd.read_csv(written["water_near"], encoding="utf-8-sig")
    assert table.loc[table["water_id"] == "w3", "distance_m"].tolist() == [80.0, 300.0]
    ranked = pd.read_csv(written["water_areas"], encoding="utf-8-sig")
    assert ranked["body_id"].tolist() == ["w3", "w1", "w5", "w4"]
    assert len(gpd.read_file(written["water_gpkg"], layer="key_water_areas")) == 4
    m = folium.Map()
    water.water_layer(near, bodies).add_to(m)
    page = m.get_root().render()
    # the label reaches the page HTML-escaped (folium writes JSON with \u escapes)
    assert "\\u0026lt;b\\u0026gt;\\u4e59\\u5858" in page
    assert "\\u003cb\\u003e" not in page
    assert "<b>" not in page


def test_no_water_gives_empty_tables(layers):
    schools, hazards = layers
    dry = hazards[hazards["category"] != "water"]
    near = water.water_near_schools(schools, dry)
    assert near.empty
    assert water.key_water_areas(near, dry).empty


def test_demo_water_matches_the_planted_canal_and_readme():
    from campus_geo import demo
    from campus_geo import layers as layers_mod

    osm = layers_mod.layers_from_osm(demo.DEMO_DIR / "district.osm")
    near = water.water_near_schools(osm.schools, osm.hazards)
    canal = near[(near["school_name"] == "枣林镇杨湾小学") & (near["water_name"] == "幸福渠")]
    assert canal["distance_m"].iloc[0] == pytest.approx(199.700, abs=0.001)  # planted.csv
    first = near.iloc[0]
    assert (first["school_name"], first["water_name"], first["water_type"]) == (
        "青禾区特殊教育学校",
        "玉带河",
        "river",
    )
    bodies = water.key_water_areas(near, osm.hazards)
    top = bodies.iloc[0]
    assert (top.name, top["name"], top["schools"]) == ("way/2000042", "玉带河", 5)
    assert top["features"] == "way/2000042;way/2000043"
    assert set(bodies["water_type"]) == {"river", "pond", "canal"}


def test_map_layer_draws_a_body_of_lines_and_areas(layers):
    schools, hazards = layers
    area = Polygon(
        [(east(118), -0.002), (east(122), -0.002), (east(122), 0.002), (east(118), 0.002)]
    )
    river_area = gpd.GeoDataFrame(
        {"name": ["甲河"], "category": ["water"], "subcategory": ["natural=water"]},
        geometry=[area],
        index=pd.Index(["w9"], name="hazard_id"),
        crs=4326,
    )
    both = pd.concat([hazards, river_area])
    near = water.water_near_schools(schools, both)
    bodies = water.key_water_areas(near, both)
    assert bodies.loc["w1", "features"] == "w1;w2;w9"
    assert bodies.loc["w1", "geometry"].geom_type == "GeometryCollection"
    m = folium.Map()
    water.water_layer(near, bodies).add_to(m)  # no warning about GeometryCollections
    assert m.get_root().render().count('"type": "Polygon"') >= 2


def test_form_lines_reach_the_inspection_form(layers, tmp_path):
    from openpyxl import load_workbook

    from campus_geo.report import save_inspection_form
    from campus_geo.rules import default_rules
    from campus_geo.screen import screen

    schools, hazards = layers
    cafe_rule = [r for r in default_rules() if r.id == "internet_cafe_200m"]
    findings = screen(schools, hazards, rules=cafe_rule)  # the cafe only: water is no finding
    assert findings["school_id"].tolist() == ["s1"]
    lines = water.form_lines(water.water_near_schools(schools, hazards))
    path = save_inspection_form(
        findings, schools, tmp_path / "form.xlsx", charts=False, water_lines=lines
    )
    form = load_workbook(path)["排查表"]
    rows = [[c.value for c in row] for row in form.iter_rows(min_row=4)]
    assert [r[0] for r in rows] == ["赤道小学", "东岸幼儿园", "远方中学"]  # water-only ones too
    assert rows[0][2].split("\n") == [
        "1. 上网服务场所“某网吧”，距离10.0米（自校园边界直线量算，规定200米）",
        "周边水域：1. 甲河（河流）120.0米；2. <b>乙塘</b>（坑塘）300.0米",
    ]
    assert rows[0][3].split("\n")[-1] == "2. 设置警示标志和防护设施，落实巡查看护"
    assert rows[1] == [
        "东岸幼儿园",
        "甲镇",
        "周边水域：1. <b>乙塘</b>（坑塘）80.0米；2. 丙水库（水库）150.0米；3. 甲河（河流）280.0米",
        "1. 设置警示标志和防护设施，落实巡查看护",
    ]
    assert rows[2][2] == "周边水域：1. 丁塘（坑塘）400.0米"  # measured from the school's point
    # screened with the water rule, the water is a finding: its line joins, no second tip
    everything = screen(schools, hazards)
    english = water.form_lines(water.water_near_schools(schools, hazards), lang="en")
    path = save_inspection_form(
        everything, schools, tmp_path / "all.xlsx", charts=False, water_lines=english, lang="en"
    )
    rows = {
        r[0].value: [c.value for c in r] for r in load_workbook(path)["Form"].iter_rows(min_row=4)
    }
    assert rows["赤道小学"][2].split("\n")[-1] == (
        "Water nearby: 1. 甲河 (river) 120.0 m; 2. <b>乙塘</b> (pond) 300.0 m"
    )
    assert rows["赤道小学"][3].count("Put up warning signs and barriers; organise patrols") == 1
