from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely
from conftest import EQ_M_PER_DEG
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
    findings = screen(schools, hazards).set_index("hazard_id")
    assert findings.loc["way/1", "distance_m"] == pytest.approx(120.0, abs=0.001)
    assert findings.loc["way/2", "distance_m"] == 0.0
    assert "inside or touching" in findings.loc["way/2", "notes"]
    assert findings.loc["way/1", "rule_id"] == "water_500m"


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
    assert list(table.columns) == CSV_COLUMNS
    row = table.set_index("hazard_id").loc["in_19999"]
    assert row["distance_m"] == 199.99
    assert row["hazard_lat"] == 0.0
    assert row["school_lon"] == 0.001
    back = gpd.read_file(paths["gpkg"])
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
