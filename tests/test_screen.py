from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely
import shapely.affinity
from conftest import EQ_M_PER_DEG, equator_school
from shapely.geometry import LineString, Point

from campus_geo.rules import Rule, default_rules
from campus_geo.screen import CSV_COLUMNS, FINDING_COLUMNS, finding_ids, save_findings, screen


def test_threshold_classification_to_the_centimetre(equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards)
    assert sorted(findings["hazard_id"]) == ["in_150", "in_19999"]
    d = findings.set_index("hazard_id")["distance_m"]
    assert d["in_19999"] == pytest.approx(199.99, abs=0.001)
    assert d["in_150"] == pytest.approx(150.0, abs=0.001)
    row = findings.set_index("hazard_id").loc["in_19999"]
    assert row["rule_id"] == "internet_cafe_200m"
    assert row["threshold_m"] == 200.0
    assert row["severity"] == "prohibited"
    assert row["profile"] == "boundary"
    assert row["school_name"] == "赤道小学"
    assert row["township"] == "甲镇"
    assert row["lead_units"] == "区委政法委、区教体局"
    # the measured line runs from the east wall (0.001, 0) to the venue
    coords = list(row.geometry.coords)
    assert coords[0] == pytest.approx((0.001, 0.0), abs=1e-9)
    assert coords[1] == pytest.approx((0.001 + 199.99 / EQ_M_PER_DEG, 0.0), abs=1e-12)


def test_findings_schema_and_ids(equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards)
    assert list(findings.columns[: len(FINDING_COLUMNS)]) == FINDING_COLUMNS
    assert findings.index.name == "finding_id"
    assert findings.crs.to_epsg() == 4326
    expected = finding_ids(["s1"], ["in_150"], ["internet_cafe_200m"])[0]
    assert expected in findings.index
    # stable: the same inputs give the same ids and rows
    pd.testing.assert_frame_equal(
        findings.drop(columns="geometry"), screen(schools, hazards).drop(columns="geometry")
    )


def test_inputs_are_not_mutated(equator_layers):
    schools, hazards = equator_layers
    before_s, before_h = schools.copy(), hazards.copy()
    screen(schools, hazards, dist=500)
    pd.testing.assert_frame_equal(schools, before_s)
    pd.testing.assert_frame_equal(hazards, before_h)


def test_dist_overrides_the_rule_table(equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards, dist=160)
    assert list(findings["hazard_id"]) == ["in_150"]
    assert findings["rule_id"].iloc[0] == "internet_cafe_160m_boundary"
    assert findings["threshold_m"].iloc[0] == 160.0


def test_other_crs_is_accepted_and_measured_on_the_ellipsoid(equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools.to_crs(3857), hazards.to_crs(32631))
    assert findings.set_index("hazard_id")["distance_m"]["in_19999"] == pytest.approx(
        199.99, abs=0.001
    )


def test_entrance_profile_measures_from_the_gate(equator_layers):
    schools, hazards = equator_layers
    # a gate in the middle of the south wall: venue in_150 lies 150 m east of the east wall
    gate = Point(0.0, -0.001)
    entrances = gpd.GeoDataFrame(
        {"school_id": ["s1"]}, geometry=[gate], index=pd.Index(["g1"], name="entrance_id"), crs=4326
    )
    findings = screen(schools, hazards, dist=400, profile="entrance", entrances=entrances)
    d = findings.set_index("hazard_id")["distance_m"]
    from campus_geo.geodesy import geodesic_distance

    venue = hazards.geometry["in_150"]
    assert d["in_150"] == pytest.approx(
        float(geodesic_distance(0.0, -0.001, venue.x, venue.y)), abs=1e-6
    )
    assert (findings["profile"] == "entrance").all()
    assert (findings["notes"] == "").all()


def test_entrance_profile_without_gates_falls_back_to_outline_with_a_note(equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards, profile="entrance")
    assert len(findings) == 2
    assert findings["notes"].str.contains("no entrance known").all()


def test_point_school_is_measured_from_the_point_with_a_note(equator_layers):
    schools, hazards = equator_layers
    points = schools.set_geometry([Point(0.0, 0.0)], crs=4326)
    findings = screen(points, hazards, dist=350)
    d = findings.set_index("hazard_id")["distance_m"]
    # from the centre point: 0.001 degree of equator (111.319 m) farther than from the east wall
    assert d["in_19999"] == pytest.approx(199.99 + 0.001 * EQ_M_PER_DEG, abs=0.001)
    assert findings["notes"].str.contains("outline unknown").all()


def test_line_and_polygon_hazards(equator_layers):
    schools, _ = equator_layers
    river = LineString([(0.001 + 120 / EQ_M_PER_DEG, -0.01), (0.001 + 120 / EQ_M_PER_DEG, 0.01)])
    pond = Point(0.0, 0.0).buffer(0.0005)  # overlaps the campus: distance 0
    hazards = gpd.GeoDataFrame(
        {"name": ["小河", "池塘"], "category": ["water", "water"]},
        geometry=[river, pond],
        index=pd.Index(["way/1", "way/2"], name="hazard_id"),
        crs=4326,
    )
    # water is context for the drowning analysis: screened only when asked for
    findings = screen(schools, hazards, context=True).set_index("hazard_id")
    assert findings.loc["way/1", "distance_m"] == pytest.approx(120.0, abs=0.001)
    assert findings.loc["way/2", "distance_m"] == 0.0
    assert "inside or touching" in findings.loc["way/2", "notes"]
    assert findings.loc["way/1", "rule_id"] == "water_500m"


def test_context_categories_are_not_problems_and_dist_leaves_them_out(equator_layers):
    """Water, traffic points and cameras are context for the analyses, never findings."""
    schools, venues = equator_layers
    offset = 0.001 + 50 / EQ_M_PER_DEG  # 50 m east of the campus edge
    context = gpd.GeoDataFrame(
        {"name": ["池塘", "人行横道", "摄像头"], "category": ["water", "traffic", "camera"]},
        geometry=[Point(offset, 0.0), Point(offset, 0.0001), Point(offset, -0.0001)],
        index=pd.Index(["way/7", "node/8", "node/9"], name="hazard_id"),
        crs=4326,
    )
    hazards = pd.concat([venues, context])
    for kwargs in ({}, {"dist": 100.0}, {"profile": "entrance"}):
        found = screen(schools, hazards, **kwargs)
        assert set(found["hazard_id"]) == set(screen(schools, venues, **kwargs)["hazard_id"])
        assert not set(found["category"]) & {"water", "traffic", "camera"}
    # asked for, they are measured as any hazard (the drowning analysis does this)
    both = screen(schools, hazards, dist=100.0, context=True).set_index("hazard_id")
    assert both.loc["way/7", "distance_m"] == pytest.approx(50.0, abs=0.01)
    assert {"node/8", "node/9"} <= set(both.index)


def test_rule_kinds_limit_which_schools_are_screened(equator_layers):
    schools, hazards = equator_layers
    only_kg = [
        Rule(id="kg_only", category="internet_cafe", kinds=("kindergarten",), distance_m=300)
    ]
    assert screen(schools, hazards, rules=only_kg).empty
    kg = schools.assign(kind="kindergarten")
    assert len(screen(kg, hazards, rules=only_kg)) == 3


def test_no_findings_gives_an_empty_layer_with_the_columns(equator_layers):
    schools, hazards = equator_layers
    empty = screen(schools, hazards, dist=10)
    assert empty.empty
    assert list(empty.columns[: len(FINDING_COLUMNS)]) == FINDING_COLUMNS
    assert empty.crs.to_epsg() == 4326


def test_multipoint_entrances_pick_the_nearest_gate(equator_layers):
    schools, hazards = equator_layers
    entrances = gpd.GeoDataFrame(
        {"school_id": ["s1", "s1"]},
        geometry=[Point(0.001, 0.0), Point(-0.001, 0.0)],
        index=pd.Index(["g1", "g2"], name="entrance_id"),
        crs=4326,
    )
    findings = screen(schools, hazards, profile="entrance", dist=250, entrances=entrances)
    d = findings.set_index("hazard_id")["distance_m"]
    assert d["in_150"] == pytest.approx(150.0, abs=0.001)


def test_save_findings_writes_csv_and_gpkg(tmp_path, equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards)
    paths = save_findings(findings, tmp_path)
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese correctly
    table = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert list(table.columns) == [*CSV_COLUMNS, "类别", "严重程度"]  # codes, then labels
    row = table.set_index("hazard_id").loc["in_19999"]
    assert row["distance_m"] == 199.99
    assert row["hazard_lat"] == 0.0
    assert row["school_lon"] == 0.001
    # the units that act on the finding, the main one first, right after the responsible units
    assert CSV_COLUMNS.index("enforcing_units") == CSV_COLUMNS.index("responsible_units") + 1
    assert row["enforcing_units"] == "区文化广电和旅游局、区公安局"
    assert row["responsible_units"].startswith("区检察院、区公安局、区文化广电和旅游局")
    back = gpd.read_file(paths["gpkg"])
    assert back["enforcing_units"].tolist() == ["区文化广电和旅游局、区公安局"] * 2
    assert len(back) == 2
    assert back.geometry.geom_type.unique().tolist() == ["LineString"]


def test_default_rules_cover_the_four_prohibitions():
    by_category = {r.category: r for r in default_rules()}
    for category in ("internet_cafe", "entertainment", "arcade", "lottery"):
        assert by_category[category].distance_m == 200.0
        assert by_category[category].severity == "prohibited"


def test_venue_in_a_courtyard_hole_is_measured_to_the_hole(equator_layers):
    """A venue in a hole of the campus polygon is outside the campus: distance to the hole's ring."""
    schools, _ = equator_layers
    d = 0.0005
    courtyard = [(-d, -d), (d, -d), (d, d), (-d, d)]
    ring = schools.geometry.iloc[0].exterior.coords
    with_hole = schools.set_geometry([shapely.Polygon(ring, [courtyard])], crs=4326)
    venue = Point(0.0, 0.0)  # centre of the courtyard: 0.0005 degree of equator from its walls
    hazards = gpd.GeoDataFrame(
        {"name": ["院内网吧"], "category": ["internet_cafe"]},
        geometry=[venue],
        index=pd.Index(["c1"], name="hazard_id"),
        crs=4326,
    )
    row = screen(with_hole, hazards).iloc[0]
    from campus_geo.geodesy import geodesic_distance

    # nearest wall of the courtyard: north/south walls (lat +-0.0005) are nearer than east/west
    expected = min(
        float(geodesic_distance(0.0, 0.0, 0.0, d)), float(geodesic_distance(0.0, 0.0, d, 0.0))
    )
    assert row["distance_m"] == pytest.approx(expected, abs=1e-6)
    assert "inside" not in row["notes"]
    inside = screen(schools, hazards).iloc[0]
    assert inside["distance_m"] == 0.0
    assert list(inside.geometry.coords) == [(0.0, 0.0), (0.0, 0.0)]


def test_a_corner_is_the_school_end_exactly():
    """Beyond a corner the nearest point is the corner: its own coordinates, not a round trip
    through the band's projection, and the distance is the geodesic to it."""
    corner = (116.3874, 39.9133)
    school = shapely.box(116.3864, 39.9123, *corner)
    schools = gpd.GeoDataFrame(
        {"name": ["角小学"], "kind": ["primary"]},
        geometry=[school],
        index=pd.Index(["s1"], name="school_id"),
        crs="EPSG:4326",
    )
    lon, lat, _ = pyproj.Geod(ellps="WGS84").fwd(*corner, 45.0, 120.0)
    hazards = gpd.GeoDataFrame(
        {"name": ["网吧"], "category": ["internet_cafe"]},
        geometry=[Point(lon, lat)],
        index=pd.Index(["h1"], name="hazard_id"),
        crs="EPSG:4326",
    )
    row = screen(schools, hazards).iloc[0]
    assert (row["school_lon"], row["school_lat"]) == corner
    assert row["distance_m"] == pytest.approx(120.0, abs=1e-6)
    assert row.geometry.coords[0] == corner


# --- inside rules and categories of the user's own ---------------------------------------


def _kindergarten_and_shops() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A kindergarten on the equator (half side 0.001 degrees) and shops in, on and around it."""
    h = 0.001
    schools = gpd.GeoDataFrame(
        {"name": ["赤道幼儿园", "赤道职业学校"], "kind": ["kindergarten", "vocational"]},
        geometry=[equator_school(h), shapely.affinity.translate(equator_school(h), xoff=0.01)],
        index=pd.Index(["k1", "v1"], name="school_id"),
        crs="EPSG:4326",
    )
    shops = {
        "inside": Point(0.0, 0.0),
        "on_edge": Point(h, h / 3),  # on the east wall, between two corners
        "on_corner": Point(h, h),
        "out_1m": Point(h + 1.0 / EQ_M_PER_DEG, 0.0),
        "out_1cm": Point(-h - 0.01 / EQ_M_PER_DEG, 0.0),
        "vocational": Point(0.01, 0.0),  # inside a school the rule does not cover
    }
    hazards = gpd.GeoDataFrame(
        {"name": [f"小卖部{k}" for k in shops], "category": "tuck_shop"},
        geometry=list(shops.values()),
        index=pd.Index(list(shops), name="hazard_id"),
        crs="EPSG:4326",
    )
    return schools, hazards


def test_inside_rule_finds_the_shop_inside_the_kindergarten_and_none_outside():
    schools, hazards = _kindergarten_and_shops()
    findings = screen(schools, hazards)
    assert findings["rule_id"].unique().tolist() == ["tuck_shop_inside"]
    found = findings.set_index("hazard_id")
    # inside and on the outline (boundary included: decided on the lon/lat polygon itself)
    assert sorted(found.index) == ["inside", "on_corner", "on_edge"]
    assert found["distance_m"].tolist() == [0.0, 0.0, 0.0]
    assert found["threshold_m"].tolist() == [0.0, 0.0, 0.0]
    assert found.loc["inside", "school_id"] == "k1"
    assert "位于校园内" in found.loc["inside", "notes"]
    assert found.loc["inside", "enforcing_units"] == "区教体局、区市场监督管理局"
    # the measured line is the venue itself
    assert list(found.loc["on_edge"].geometry.coords) == [(0.001, 0.001 / 3)] * 2
    # one metre or one centimetre outside is outside, whatever profile is asked for
    for profile in ("entrance", None):
        again = screen(schools, hazards, profile=profile, dist=None)
        assert sorted(again["hazard_id"]) == ["inside", "on_corner", "on_edge"]
    # --dist keeps the inside rule (a distance means nothing for it)
    assert sorted(screen(schools, hazards, dist=50)["hazard_id"]) == sorted(found.index)


def test_inside_rule_from_an_osm_file(tmp_path):
    from _osm_xml import OsmBuilder

    from campus_geo.sources.layers import layers_from_osm

    h = 0.001
    osm = OsmBuilder()
    ring = [(-h, -h), (h, -h), (h, h), (-h, h), (-h, -h)]
    osm.way(ring, amenity="kindergarten", name="赤道幼儿园")
    osm.node(0.0, 0.0, shop="convenience")  # unnamed: a 小卖部 by its weak tag
    osm.node(0.0, h / 2, shop="convenience", name="鸿运福彩投注站")  # a lottery outlet by name
    osm.node(h + 1.0 / EQ_M_PER_DEG, 0.0, shop="kiosk", name="园外小卖部")
    layers = layers_from_osm(osm.write(tmp_path / "k.osm"))
    hazards = layers.hazards
    assert hazards.index.tolist() == ["node/5", "node/6", "node/7"]
    assert hazards["category"].tolist() == ["tuck_shop", "lottery", "tuck_shop"]
    findings = screen(layers.schools, hazards)
    got = sorted(
        zip(findings["hazard_id"], findings["rule_id"], findings["distance_m"], strict=True)
    )
    # the kiosk 1 m outside the kindergarten is no finding
    assert got == [("node/5", "tuck_shop_inside", 0.0), ("node/6", "lottery_200m", 0.0)]


USER_RULES = """
[meta]
extends = "default"

[[category]]
key = "trampoline_park"
label = "蹦床馆"
label_en = "trampoline park"
osm_tags = ["leisure=trampoline_park"]
name_keywords = ["蹦床"]

[[rule]]
id = "trampoline_park_150m"
category = "trampoline_park"
kinds = ["小学"]
distance_m = 150
severity = "notice"
lead_units = ["区委政法委", "区教体局"]
responsible_units = ["区文化广电和旅游局", "区市场监督管理局"]
enforcing_units = ["区市场监督管理局"]
"""


def _user_rules(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(USER_RULES, encoding="utf-8")
    return path


def test_a_category_defined_only_in_the_users_table_is_screened_from_osm(tmp_path):
    from _osm_xml import OsmBuilder

    from campus_geo.rules import read_categories
    from campus_geo.sources.layers import layers_from_osm

    h = 0.001
    osm = OsmBuilder()
    osm.way([(-h, -h), (h, -h), (h, h), (-h, h), (-h, -h)], amenity="school", name="赤道小学")
    east = {"tag": 100.0, "name": 120.0, "far": 180.0, "cafe": 50.0}
    osm.node(h + east["tag"] / EQ_M_PER_DEG, 0.0, leisure="trampoline_park")
    osm.node(h + east["name"] / EQ_M_PER_DEG, 0.0, shop="yes", name="欢乐蹦床乐园")
    osm.node(h + east["far"] / EQ_M_PER_DEG, 0.0, leisure="trampoline_park", name="远处蹦床")
    osm.node(h + east["cafe"] / EQ_M_PER_DEG, 0.0, amenity="internet_cafe", name="星空网咖")
    path = osm.write(tmp_path / "park.osm")
    rules = _user_rules(tmp_path)
    # without the user's categories the park is no hazard
    assert layers_from_osm(path).hazards["category"].tolist() == ["internet_cafe"]
    layers = layers_from_osm(path, categories=read_categories(rules))
    hazards = layers.hazards
    assert hazards["category"].tolist() == ["trampoline_park"] * 3 + ["internet_cafe"]
    assert hazards["subcategory"].tolist() == [
        "leisure=trampoline_park",
        "name:蹦床",
        "leisure=trampoline_park",
        "amenity=internet_cafe",
    ]
    findings = screen(layers.schools, hazards, rules=rules)
    got = findings.set_index("hazard_name")
    assert sorted(got.index) == ["", "星空网咖", "欢乐蹦床乐园"]
    assert got.loc["", "rule_id"] == "trampoline_park_150m"
    assert got.loc["", "distance_m"] == pytest.approx(100.0, abs=0.01)
    assert got.loc["欢乐蹦床乐园", "distance_m"] == pytest.approx(120.0, abs=0.01)
    assert got.loc["欢乐蹦床乐园", "enforcing_units"] == "区市场监督管理局"
    assert got.loc["星空网咖", "rule_id"] == "internet_cafe_200m"  # the default rules stay


def test_a_category_defined_only_in_the_users_table_is_screened_from_a_geodataframe(
    tmp_path, equator_layers
):
    from campus_geo import InputDataError
    from campus_geo.rules import read_rules

    schools, _ = equator_layers
    hazards = gpd.GeoDataFrame(
        {"name": ["甲蹦床馆", "乙蹦床馆"], "category": ["trampoline_park"] * 2},
        geometry=[Point(0.001 + d / EQ_M_PER_DEG, 0.0) for d in (149.99, 150.02)],
        index=pd.Index(["p1", "p2"], name="hazard_id"),
        crs="EPSG:4326",
    )
    rules = _user_rules(tmp_path)
    for given in (rules, read_rules(rules)):  # a TOML file, or the RuleTable read from it
        findings = screen(schools, hazards, rules=given)
        assert findings["hazard_id"].tolist() == ["p1"]
        assert findings["distance_m"].iloc[0] == pytest.approx(149.99, abs=0.001)
        assert findings["category"].tolist() == ["trampoline_park"]
    # the default table does not know it, and a typo is named with the fix
    with pytest.raises(InputDataError, match="unknown category value\\(s\\) trampoline_park"):
        screen(schools, hazards)
    with pytest.raises(InputDataError, match="trampolin_park"):
        screen(schools, hazards.assign(category="trampolin_park"), rules=rules)


def test_a_bad_lonlat_layer_is_refused_by_its_check_though_it_is_indexed_beside_it(
    equator_layers,
):
    """A hazards layer in lon/lat is indexed on a thread while it is checked: what the
    check finds is what is raised, whatever the index made of the bad rows."""
    from campus_geo import InputDataError

    schools, _ = equator_layers
    hazards = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"], "category": ["lottery", "lottery", "casino"]},
        geometry=[Point(0.002, 0.0), None, Point(float("nan"), 0.0)],
        index=pd.Index(["h1", "h1", "h3"], name="hazard_id"),
        crs="EPSG:4326",
    )
    with pytest.raises(InputDataError) as err:
        screen(schools, hazards)
    message = str(err.value)
    assert "duplicate hazard_id values: h1" in message
    assert "unknown category value(s) casino" in message
    assert "h3" in message  # the point without usable coordinates, by its id


def test_a_schools_texts_and_the_category_are_categoricals_of_the_texts_found(tmp_path):
    # three schools 0.01 degrees apart on the equator; the third has no venue near it
    schools = gpd.GeoDataFrame(
        {
            "name": ["乙小学", "甲中学", "丙小学"],
            "kind": ["primary", "middle", "primary"],
            "township": ["城关镇", "城关镇", "河口乡"],
        },
        geometry=[shapely.affinity.translate(equator_school(), 0.01 * i) for i in range(3)],
        index=pd.Index(["s2", "s1", "s3"], name="school_id"),
        crs="EPSG:4326",
    )
    near = {"h1": (0, "internet_cafe"), "h2": (0, "lottery"), "h3": (0.01, "internet_cafe")}
    hazards = gpd.GeoDataFrame(
        {"name": ["网吧甲", "彩票乙", "网吧丙"], "category": [c for _, c in near.values()]},
        geometry=[Point(x + 0.001 + 100 / EQ_M_PER_DEG, 0.0) for x, _ in near.values()],
        index=pd.Index(list(near), name="hazard_id"),
        crs="EPSG:4326",
    )
    findings = screen(schools, hazards)
    assert findings["hazard_id"].tolist() == ["h1", "h2", "h3"]
    # each a code a finding; the categories are the texts found, sorted (no 丙小学, 河口乡)
    assert findings["school_name"].cat.categories.tolist() == ["乙小学", "甲中学"]
    assert findings["school_name"].tolist() == ["乙小学", "乙小学", "甲中学"]
    assert findings["school_id"].cat.categories.tolist() == ["s1", "s2"]
    assert findings["township"].cat.categories.tolist() == ["城关镇"]
    assert findings["village"].tolist() == ["", "", ""]
    assert findings["category"].cat.categories.tolist() == ["internet_cafe", "lottery"]
    assert findings["category"].value_counts().to_dict() == {"internet_cafe": 2, "lottery": 1}
    # a rule's texts: the categories are those of the screening's rules (all but the
    # context ones), sorted, found or not
    screened = sorted(r.id for r in default_rules() if r.category not in ("water", "traffic"))
    assert findings["rule_id"].cat.categories.tolist() == screened
    assert "arcade_200m" in screened
    rule_ids = ["internet_cafe_200m", "lottery_200m", "internet_cafe_200m"]
    assert findings["rule_id"].tolist() == rule_ids
    # used as text: compared, searched, grouped
    assert (findings["school_name"] == "甲中学").tolist() == [False, False, True]
    assert findings["school_name"].str.contains("小学").tolist() == [True, True, False]
    assert findings.groupby("school_id", observed=True).size().to_dict() == {"s1": 1, "s2": 2}
    # a text not among the categories is written to the column made text first
    with pytest.raises(TypeError, match="new category"):
        findings.loc[findings.index[0], "township"] = "河口乡"
    findings["township"] = findings["township"].astype("str")
    findings.loc[findings.index[0], "township"] = "河口乡"
    assert findings["township"].tolist() == ["河口乡", "城关镇", "城关镇"]
    # written and read back as text
    save_findings(findings, tmp_path)
    back = gpd.read_file(tmp_path / "findings.gpkg")
    assert back["school_name"].tolist() == ["乙小学", "乙小学", "甲中学"]
    assert back["category"].tolist() == ["internet_cafe", "lottery", "internet_cafe"]
