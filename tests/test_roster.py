"""School rosters (学校名单): kinds, matching to mapped outlines by name and distance, the demo."""

from __future__ import annotations

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from campus_geo import CoordinateWarning, demo
from campus_geo._errors import InputDataError
from campus_geo.cli import cli
from campus_geo.coords import wgs84_to_gcj02
from campus_geo.demo import district as demo_district
from campus_geo.geodesy import geodesic_distance
from campus_geo.layers import layers_from_osm
from campus_geo.roster import schools_from_roster

HEADER = ["学校名称", "学段/类型", "所属乡镇", "所属村（社区）", "地址", "经度", "纬度"]


def write_roster(path, rows, header=HEADER):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "学校名单"
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def mapped(*schools):
    """Mapped schools: (id, name, kind, township, geometry)."""
    return gpd.GeoDataFrame(
        {
            "name": [s[1] for s in schools],
            "kind": [s[2] for s in schools],
            "township": [s[3] for s in schools],
            "village": "",
            "source": [f"osm:{s[0]} (x.osm)" for s in schools],
        },
        geometry=[s[4] for s in schools],
        index=pd.Index([s[0] for s in schools], name="school_id"),
        crs="EPSG:4326",
    )


# two campuses 0.01 degrees apart (about 1 km) near lon 113.85, lat 34.05
CAMPUS_A = box(113.850, 34.050, 113.852, 34.052)
CAMPUS_B = box(113.860, 34.050, 113.862, 34.052)


def test_roster_point_matches_outline_by_name_and_supplies_kind_township_village(tmp_path):
    osm = mapped(
        ("way/1", "柳湾镇中心小学", "primary", "", CAMPUS_A),
        ("way/2", "柳湾镇幼儿园", "kindergarten", "", CAMPUS_B),
    )
    path = write_roster(
        tmp_path / "r.xlsx",
        [["柳湾镇 中心小学", "九年一贯制学校", "柳湾镇", "柿园村", "文昌路1号", 113.8505, 34.0505]],
    )
    roster = schools_from_roster(path, coords="wgs84", schools=osm)
    s = roster.schools.loc["way/1"]
    assert (s["kind"], s["township"], s["village"]) == ("nine_year", "柳湾镇", "柿园村")
    assert s.geometry.equals(CAMPUS_A)  # the outline is measured from, not the roster point
    assert s["source"] == "osm:way/1 (x.osm); roster:r.xlsx#2"
    m = roster.matches.iloc[0]
    assert (m["school_id"], m["how"], m["distance_m"]) == ("way/1", "name+distance", 0.0)
    assert roster.not_on_roster["school_id"].tolist() == ["way/2"]
    assert osm.loc["way/1", "kind"] == "primary"  # the caller's layer is not modified


def test_roster_rows_without_coordinates_match_by_name_within_their_township(tmp_path):
    osm = mapped(
        ("way/1", "中心小学", "primary", "柳湾镇", CAMPUS_A),
        ("way/2", "中心小学", "primary", "石桥镇", CAMPUS_B),
        ("way/3", "实验小学(北校区)", "primary", "石桥镇", box(113.87, 34.05, 113.871, 34.051)),
    )
    rows = [
        ["中心小学", "小学", "石桥镇", "石门村", "", None, None],
        ["中心小学", "小学", "", "", "", None, None],  # which one? not guessed
        ["实验小学（北校区）", "", "石桥镇", "", "", None, None],
    ]
    roster = schools_from_roster(write_roster(tmp_path / "r.xlsx", rows), schools=osm)
    assert roster.matches[["row", "school_id", "how"]].values.tolist() == [
        ["2", "way/2", "name"],
        ["4", "way/3", "name"],
    ]
    assert roster.unmatched[["row", "reason"]].values.tolist() == [
        ["3", "no coordinates and no mapped school of this name; add 经度/纬度 or map the campus"]
    ]
    assert roster.rejects[["row", "column"]].values.tolist() == [["3", "经度/纬度"]]


def test_point_inside_an_outline_of_the_same_kind_matches_despite_the_name(tmp_path):
    osm = mapped(("way/1", "第三小学", "primary", "", CAMPUS_A))
    rows = [
        ["青禾区城关镇第三完全小学", "小学", "", "", "", 113.851, 34.051],  # inside, other spelling
        ["阳光幼儿园", "幼儿园", "", "", "", 113.8512, 34.0512],  # inside, another kind: own school
    ]
    roster = schools_from_roster(
        write_roster(tmp_path / "r.xlsx", rows), coords="wgs84", schools=osm
    )
    assert roster.matches[["row", "school_id", "how"]].values.tolist() == [
        ["2", "way/1", "inside outline (names differ)"]
    ]
    added = roster.schools.loc["roster:阳光幼儿园"]
    assert added["kind"] == "kindergarten"
    assert added.geometry.equals(Point(113.8512, 34.0512))
    assert added["source"] == "roster:r.xlsx#3"
    assert roster.schools.loc["way/1", "alt_names"] == "青禾区城关镇第三完全小学"


def test_far_point_with_the_name_matches_by_name_and_warns(tmp_path, caplog):
    osm = mapped(("way/1", "柳湾镇中心小学", "primary", "柳湾镇", CAMPUS_A))
    rows = [["柳湾镇中心小学", "小学", "柳湾镇", "", "", 113.95, 34.05]]  # ~9 km away
    with pytest.warns(CoordinateWarning) as record:
        roster = schools_from_roster(
            write_roster(tmp_path / "r.xlsx", rows), coords="wgs84", schools=osm
        )
    assert roster.matches[["school_id", "how"]].values.tolist() == [["way/1", "name"]]
    assert [str(w.message) for w in record] == [
        "r.xlsx row 2 柳湾镇中心小学: its point is over 300 m from the mapped school of that "
        "name (way/1); the mapped geometry is used"
    ]
    assert str(record[0].message) in caplog.text


def test_undeclared_roster_coordinates_in_china_are_refused(tmp_path):
    """Issue 16.4 (was: taken as WGS 84 with a warning): the fix in each interface's terms."""
    rows = [["柳湾镇中心小学", "小学", "柳湾镇", "", "", 113.85, 34.05]]
    path = write_roster(tmp_path / "plain.xlsx", rows)
    with pytest.raises(InputDataError, match=r"plain\.xlsx: the coordinate system") as e:
        schools_from_roster(path)
    assert "coords='wgs84' (GPS, OpenStreetMap)" in str(e.value)
    assert "--coords wgs84 (GPS, OpenStreetMap)" in e.value.cli_message
    roster = schools_from_roster(path, coords="wgs84")
    assert roster.schools.geometry.iloc[0].equals(Point(113.85, 34.05))


def test_swapped_roster_coordinates_are_swapped_back_with_a_warning(tmp_path, caplog):
    rows = [["柳湾镇中心小学", "小学", "柳湾镇", "", "", 34.05, 113.85]]
    with pytest.warns(CoordinateWarning) as record:
        roster = schools_from_roster(write_roster(tmp_path / "swap.xlsx", rows), coords="wgs84")
    assert roster.schools.geometry.iloc[0].equals(Point(113.85, 34.05))
    assert [str(w.message) for w in record] == [
        "swap.xlsx row 2: longitude and latitude swapped (34.05, 113.85); swapped back"
    ]
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert logged == [str(record[0].message)]


def test_kind_from_column_in_chinese_or_english_else_from_the_name(tmp_path):
    rows = [
        ["甲校", "中等职业学校", "", "", "", 113.80, 34.0],
        ["乙校", "special", "", "", "", 113.81, 34.0],
        ["丙镇第二初级中学", "", "", "", "", 113.82, 34.0],
        ["丁镇中心幼儿园", "学前", "", "", "", 113.83, 34.0],
    ]
    roster = schools_from_roster(write_roster(tmp_path / "r.xlsx", rows), coords="wgs84")
    assert roster.schools["kind"].tolist() == ["vocational", "special", "middle", "kindergarten"]


def test_roster_without_coordinate_columns_needs_mapped_schools(tmp_path):
    path = write_roster(
        tmp_path / "r.xlsx", [["青禾区第一小学", "小学"]], header=["学校名称", "学段"]
    )
    roster = schools_from_roster(path)
    assert len(roster.schools) == 0
    assert roster.unmatched["name"].tolist() == ["青禾区第一小学"]


# ---------------------------------------------------------------------------
# the demo district


@pytest.fixture(scope="module")
def district():
    return layers_from_osm(demo.DEMO_DIR / "district.osm")


@pytest.fixture(scope="module")
def demo_roster(district):
    return schools_from_roster(
        demo.DEMO_DIR / "schools_roster.xlsx", coords="gcj02", schools=district.schools
    )


def test_demo_roster_matches_every_mapped_school(demo_roster, district):
    r = demo_roster
    assert r.rows_read == 77
    assert len(r.matches) == 76
    assert r.matches["how"].value_counts().to_dict() == {"name": 39, "name+distance": 37}
    assert r.matches["school_id"].is_unique
    assert set(r.matches["school_id"]) == set(district.schools.index)
    assert r.unmatched.empty
    assert r.not_on_roster.empty
    # spelled differently in the roster (data/demo/README.md)
    names = r.matches.set_index("roster_name")["school_name"]
    assert names["柳湾镇 中心小学"] == "柳湾镇中心小学"
    assert names["青禾区实验小学(北校区)"] == "青禾区实验小学（北校区）"
    # located rows lie in (or at centimetres from) their outline: GCJ-02 6 decimals converted back
    assert r.matches["distance_m"].max() < 0.5


def test_demo_roster_only_school_at_its_true_position(demo_roster):
    d = demo_district._build(demo.DEMO_SEED)
    truth = next(s for s in demo_district._roster_schools(d) if s.name == "杏花乡王庄小学")
    assert not truth.in_osm
    school = demo_roster.schools.loc["roster:杏花乡王庄小学"]
    assert (school["kind"], school["township"], school["village"]) == (
        "primary",
        "杏花乡",
        "后营村",
    )
    distance = float(geodesic_distance(school.geometry.x, school.geometry.y, truth.lon, truth.lat))
    assert distance < 0.5
    glon, glat = wgs84_to_gcj02(truth.lon, truth.lat)
    assert (round(float(glon), 6), round(float(glat), 6)) == (
        113.787619,
        34.000358,
    )  # the xlsx cell


def test_cli_roster_with_its_own_coords(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "-q", "screen", "--osm", str(demo.DEMO_DIR / "district.osm"),
            "--roster", str(demo.DEMO_DIR / "schools_roster.xlsx"), "--coords", "gcj02",
            "--no-evidence", "--out", str(out),
        ],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Screened 77 schools" in result.output
    assert (
        "Roster: 77 rows read, 76 matched to mapped schools, 1 added as points, 0 unmatched; "
        "0 mapped schools not on the roster." in result.output
    )
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert "杏花乡王庄小学" in set(findings["school_name"])
