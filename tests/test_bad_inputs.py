"""Issue 19: every bad input gives the file, the row, the column and the fix; nothing is lost.

Each case of the issue, through the command line as a user meets it: the exit
status, the message (file named, row and column where there is one, the fix in
the command line's own terms) and the rows of rejects.csv, cell by cell.
Issue 16.4: a table in China with no declared coordinate system is refused.
"""

from __future__ import annotations

import math

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import EQ_M_PER_DEG, GEOD, equator_school
from shapely.geometry import LineString, Point, Polygon

from campus_geo.cli import cli
from campus_geo.coords import wgs84_to_gcj02

#: A venue 150 m due east of the east edge of the equator school (lon 0.001).
NEAR_LON = 0.001 + 150.0 / EQ_M_PER_DEG


def run(*args):
    """`campus-geo ARGS` as a user runs it: exceptions become exit statuses, never tracebacks."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def screen(out, *args):
    return run("-q", "screen", *args, "--dist", 200, "--no-evidence", "--out", out)


def read_rejects(out):
    return pd.read_csv(out / "rejects.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def cells(out):
    """(file, row, column, reason) of every reject."""
    return read_rejects(out)[["file", "row", "column", "reason"]].values.tolist()


def findings(out):
    return pd.read_csv(out / "findings.csv", encoding="utf-8-sig")


@pytest.fixture
def venues(tmp_path):
    """A GeoJSON of one internet café 150 m east of the equator school (CRS declared)."""
    path = tmp_path / "wangba.geojson"
    gpd.GeoDataFrame(
        {"id": ["w1"], "name": ["近网吧"]}, geometry=[Point(NEAR_LON, 0.0)], crs=4326
    ).to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def school_file(path, rows, crs=4326):
    ids, names, geoms = zip(*rows, strict=True)
    gpd.GeoDataFrame({"id": ids, "name": names}, geometry=list(geoms), crs=crs).to_file(
        path, engine="pyogrio"
    )
    return path


def assert_clean_exit(result, code):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output


# ---------------------------------------------------------------------------
# silently wrong before: now rejects with file, row and column


def test_a_school_at_latitude_134_in_a_table_is_a_reject(tmp_path, venues):
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "id,name,lon,lat\ns1,赤道小学,0.001,0.0\ns2,越界小学,113.0,134.0\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    assert "Rejected 1 input rows" in result.output
    assert cells(out) == [
        [str(schools), "3", "lat", "coordinates out of range (lon 113.0, lat 134.0)"]
    ]
    assert '"name": "越界小学"' in read_rejects(out)["record"].iloc[0]
    assert findings(out)["school_id"].tolist() == ["s1"]


def test_a_school_at_latitude_134_in_a_gis_file_is_a_reject(tmp_path, venues):
    schools = school_file(
        tmp_path / "schools.gpkg",
        [("s1", "赤道小学", equator_school()), ("s2", "越界小学", Point(113.0, 134.0))],
    )
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    assert cells(out) == [
        [
            str(schools),
            "feature 1",
            "geometry",
            "coordinates out of range (lon 113.0, lat 134.0): longitude must be within "
            "-180..180 and latitude within -90..90",
        ]
    ]


def test_only_unusable_schools_left_exits_2_naming_the_file_row_and_column(tmp_path, venues):
    schools = tmp_path / "schools.csv"
    schools.write_text("id,name,lon,lat\ns2,越界小学,113.0,134.0\n", encoding="utf-8")
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 2)
    assert (
        f"campus-geo: error: {schools}: no usable schools left: all 1 row(s) rejected; e.g. row "
        "2, column lat: coordinates out of range (lon 113.0, lat 134.0). Every rejected row is "
        f"in {out / 'rejects.csv'}" in result.output
    )
    assert cells(out) == [
        [str(schools), "2", "lat", "coordinates out of range (lon 113.0, lat 134.0)"]
    ]


def test_a_line_given_as_a_school_is_a_reject(tmp_path, venues):
    schools = school_file(
        tmp_path / "schools.geojson",
        [
            ("s1", "赤道小学", equator_school()),
            ("s2", "路小学", LineString([(0.0, 0.002), (0.001, 0.002)])),
        ],
    )
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    assert cells(out) == [
        [
            str(schools),
            "feature 1",
            "geometry",
            "a LineString cannot be a school (expected Point, Polygon, MultiPolygon); give the "
            "campus outline (a polygon) or a point",
        ]
    ]
    assert findings(out)["school_id"].tolist() == ["s1"]


def test_null_empty_and_zero_area_geometries_are_rejects_naming_the_file(tmp_path, venues):
    schools = school_file(
        tmp_path / "schools.gpkg",
        [
            ("s1", "赤道小学", equator_school()),
            ("s2", "空小学", None),
            ("s3", "无形小学", Polygon()),
            ("s4", "一线小学", Polygon([(0.0, 0.01), (0.001, 0.011), (0.002, 0.012)])),
        ],
    )
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    assert cells(out) == [
        [str(schools), "feature 1", "geometry", "no geometry (null or empty)"],
        [str(schools), "feature 2", "geometry", "no geometry (null or empty)"],
        [
            str(schools),
            "feature 3",
            "geometry",
            "polygon of zero area (its points lie on a line); draw the outline again",
        ],
    ]


def test_an_invalid_outline_in_a_file_is_repaired_with_a_note_not_a_python_call(tmp_path, venues):
    h = 0.001
    bowtie = Polygon([(-h, -h), (h, h), (h, -h), (-h, h)])
    schools = school_file(tmp_path / "schools.geojson", [("s1", "赤道小学", bowtie)])
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    assert "make_valid()" not in result.output
    assert (
        "  - schools.geojson feature 0: invalid polygon (Self-intersection[0 0]) repaired with "
        "make_valid; check the outline in the source" in result.output
    )
    assert findings(out)["distance_m"].tolist() == [150.0]


# ---------------------------------------------------------------------------
# internal errors before: now exit 2 or rejects


@pytest.mark.parametrize("cell", ["inf", "-inf", "1e999", "nan"])
def test_a_non_finite_coordinate_is_a_reject_and_the_map_is_written(tmp_path, cell):
    schools = school_file(tmp_path / "schools.geojson", [("s1", "赤道小学", equator_school())])
    table = tmp_path / "wangba.csv"
    table.write_text(f"id,name,lon,lat\nw1,近网吧,{NEAR_LON!r},0.0\nw2,坏网吧,{cell},0.0\n")
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={table}")
    assert_clean_exit(result, 0)
    value = {"inf": "inf", "-inf": "-inf", "1e999": "inf", "nan": "nan"}[cell]
    assert cells(out) == [[str(table), "3", "lon", f"longitude is not a finite number ({value})"]]
    assert (out / "map.html").stat().st_size > 10_000
    assert findings(out)["hazard_id"].tolist() == ["w1"]


OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <node id="1" lat="-0.001" lon="-0.001"/>
 <node id="2" lat="-0.001" lon="0.001"/>
 <node id="3" lat="0.001" lon="0.001"/>
 <node id="4" lat="0.001" lon="-0.001"/>
 <node id="5" lat="0.0" lon="{near}"><tag k="amenity" v="internet_cafe"/><tag k="name" v="近网吧"/></node>
 <node id="6" lat="0.0005" lon="0.0015"/>
 <node id="7" lat="0.0006" lon="0.0016"/>
 <node id="20" lat="0.0" lon="179.999"/>
 <node id="21" lat="0.0" lon="-179.999"/>
 <node id="22" lat="0.001" lon="-179.999"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="amenity" v="school"/><tag k="name" v="赤道小学"/></way>
 <way id="11"><nd ref="6"/><nd ref="7"/><nd ref="99"/><nd ref="6"/>
  <tag k="amenity" v="fuel"/><tag k="name" v="断油站"/></way>
 <way id="12"><nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="20"/>
  <tag k="amenity" v="fuel"/><tag k="name" v="日界线加油站"/></way>
</osm>
"""


def test_osm_ways_with_missing_nodes_and_antimeridian_crossings_are_rejects(tmp_path):
    osm = tmp_path / "district.osm"
    osm.write_text(OSM.format(near=repr(NEAR_LON)), encoding="utf-8")
    out = tmp_path / "out"
    result = screen(out, "--osm", osm)
    assert_clean_exit(result, 0)
    assert cells(out) == [
        [
            str(osm),
            "way/11",
            "nd",
            "references node(s) 99 missing from the file (a clipped extract?): the way is left "
            "out; extract with complete ways (osmium extract --strategy complete_ways, or "
            "Overpass with (._;>;))",
        ],
        [
            str(osm),
            "way/12",
            "geometry",
            "crosses the antimeridian (longitude -179.999 to 179.999), which campus_geo does "
            "not support; split it at 180 degrees or leave it out",
        ],
    ]
    assert '"name": "断油站"' in read_rejects(out)["record"].iloc[0]
    assert findings(out)[["school_id", "hazard_id"]].values.tolist() == [["way/10", "node/5"]]


def test_pbf_ways_with_missing_nodes_are_rejects_too(tmp_path):
    from conftest import to_pbf

    osm = tmp_path / "district.osm"
    osm.write_text(OSM.format(near=repr(NEAR_LON)), encoding="utf-8")
    pbf = to_pbf(osm, tmp_path)
    out = tmp_path / "out"
    result = screen(out, "--osm", pbf)
    assert_clean_exit(result, 0)
    assert cells(out) == [
        [
            str(pbf),
            "way/11",
            "nd",
            "a node of the way is missing from the file (a clipped extract?), or it has one "
            "node only: the way is left out; extract with complete ways (osmium extract "
            "--strategy complete_ways)",
        ],
        [
            str(pbf),
            "way/12",
            "geometry",
            "crosses the antimeridian (longitude -179.999 to 179.999), which campus_geo does "
            "not support; split it at 180 degrees or leave it out",
        ],
    ]
    assert findings(out)[["school_id", "hazard_id"]].values.tolist() == [["way/10", "node/5"]]


def test_a_gis_shape_across_the_antimeridian_is_a_reject(tmp_path):
    schools = school_file(tmp_path / "schools.geojson", [("s1", "赤道小学", equator_school())])
    hazards = tmp_path / "hazards.geojson"
    gpd.GeoDataFrame(
        {"id": ["w1", "w2"], "name": ["近网吧", "日界线网吧"]},
        geometry=[
            Point(NEAR_LON, 0.0),
            Polygon([(179.9, 0.0), (-179.9, 0.0), (-179.9, 0.1), (179.9, 0.1)]),
        ],
        crs=4326,
    ).to_file(hazards, driver="GeoJSON", engine="pyogrio")
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={hazards}")
    assert_clean_exit(result, 0)
    assert cells(out) == [
        [
            str(hazards),
            "feature 1",
            "geometry",
            "crosses the antimeridian (longitude -179.9 to 179.9), which campus_geo does not "
            "support; split it at 180 degrees or leave it out",
        ]
    ]


def test_out_naming_an_existing_file_exits_2_before_any_work(tmp_path, venues):
    schools = school_file(tmp_path / "schools.geojson", [("s1", "赤道小学", equator_school())])
    taken = tmp_path / "findings.txt"
    taken.write_text("not a folder")
    result = screen(taken, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 2)
    assert (
        f"campus-geo: error: --out {taken} is an existing file, not a folder; give a folder "
        "for the outputs" in result.output
    )
    assert taken.read_text() == "not a folder"
    below = taken / "out"
    result = screen(below, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 2)
    assert (
        f"--out {below}: {taken} is a file, so no folder can be made below it; give a folder"
        in result.output
    )


# ---------------------------------------------------------------------------
# wrong diagnosis before: now the file, the row, the column and the fix


def test_every_row_with_lon_and_lat_swapped_is_fixed_with_a_note(tmp_path):
    schools = tmp_path / "schools.csv"
    schools.write_text("id,name,经度,纬度\ns1,甲小学,34.05,113.85\n", encoding="utf-8")
    hazards = tmp_path / "wangba.csv"
    lon, lat, _ = GEOD.fwd(113.85, 34.05, 90.0, 150.0)
    hazards.write_text(f"id,name,lon,lat\nw1,近网吧,{lon!r},{lat!r}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = screen(
        out,
        "--schools",
        schools,
        "--coords",
        "wgs84",
        "--hazards",
        f"internet_cafe={hazards}",
        "--coords",
        "wgs84",
    )
    assert_clean_exit(result, 0)
    assert "Warnings (1):" in result.output
    assert (
        "  - schools.csv row 2: longitude and latitude swapped (34.05, 113.85); swapped back"
        in result.output
    )
    assert not (out / "rejects.csv").exists()
    assert findings(out)["distance_m"].tolist() == [150.0]


def test_a_table_with_only_a_header_names_the_file(tmp_path, venues):
    schools = tmp_path / "schools.csv"
    schools.write_text("id,name,lon,lat\n", encoding="utf-8")
    result = screen(tmp_path / "out", "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 2)
    assert (
        f"campus-geo: error: {schools}: no data rows below the header (row 1); the file holds "
        "only a header: export the rows as well" in result.output
    )
    assert "no schools given" not in result.output


def test_an_xlsx_of_schools_with_a_title_row_is_read_below_it(tmp_path, venues):
    schools = tmp_path / "schools.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["青禾区中小学名录（2024年）"])
    ws.merge_cells("A1:D1")
    ws.append(["id", "name", "经度", "纬度"])
    ws.append(["s1", "赤道小学", 0.001, 0.0])
    wb.save(schools)
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    assert "Screened 1 schools against 1 venues: 1 findings at 1 schools (" in result.output
    assert findings(out)["distance_m"].tolist() == [150.0]


def test_a_table_without_coordinate_columns_gets_the_fix_in_cli_terms(tmp_path, venues):
    schools = tmp_path / "schools.csv"
    schools.write_text("id,name,地址\ns1,甲小学,人民路1号\n", encoding="utf-8")
    result = screen(tmp_path / "out", "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 2)
    assert f"campus-geo: error: {schools}: no longitude/latitude columns found" in result.output
    assert result.output.rstrip().endswith("rename the columns lon and lat (or 经度 and 纬度)")
    assert "lon=" not in result.output


def test_a_file_without_the_id_column_gets_the_fix_in_cli_terms(tmp_path, venues):
    schools = tmp_path / "schools.geojson"
    gpd.GeoDataFrame({"name": ["赤道小学"]}, geometry=[equator_school()], crs=4326).to_file(
        schools, driver="GeoJSON", engine="pyogrio"
    )
    result = screen(tmp_path / "out", "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 2)
    assert (
        f"campus-geo: error: {schools} has no `id` column (columns: name); add a unique id "
        "column or name the one to use with --id-field" in result.output
    )
    assert "id_field=" not in result.output


def test_rows_without_or_with_duplicate_ids_are_rejects(tmp_path, venues):
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "id,name,lon,lat\ns1,赤道小学,0.001,0.0\n,无号小学,0.0,0.0006\n"
        "s3,重号小学,0.0,0.0007\ns3,重号二小,0.0,0.0008\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    duplicate = "ids must be unique: all rows with it are left out"
    assert cells(out) == [
        [str(schools), "3", "id", "no id: every row needs a unique id"],
        [str(schools), "4", "id", f"duplicate id 's3' (also in 5); {duplicate}"],
        [str(schools), "5", "id", f"duplicate id 's3' (also in 4); {duplicate}"],
    ]


# ---------------------------------------------------------------------------
# issue 16.4: a table in China with no declared coordinate system


@pytest.fixture
def gcj02_case(tmp_path):
    """A school (GeoPackage, WGS 84) and a GCJ-02 table of a café truly 150.00 m east of it."""
    schools = school_file(tmp_path / "schools.gpkg", [("s1", "甲小学", Point(113.85, 34.05))])
    lon, lat, _ = GEOD.fwd(113.85, 34.05, 90.0, 150.0)
    glon, glat = wgs84_to_gcj02(lon, lat)
    table = tmp_path / "amap.csv"
    table.write_text(f"id,名称,经度,纬度\nw1,高德网吧,{float(glon)!r},{float(glat)!r}\n")
    return schools, table


def test_an_undeclared_gcj02_table_is_refused_with_the_fix(tmp_path, gcj02_case):
    schools, table = gcj02_case
    result = screen(tmp_path / "out", "--schools", schools, "--hazards", f"internet_cafe={table}")
    assert_clean_exit(result, 2)
    assert (
        f"campus-geo: error: {table}: the coordinate system of the 经度/纬度 columns is not "
        "declared and the points lie in China" in result.output
    )
    assert (
        "declare it with --coords right after the file on the command line: --coords gcj02 "
        "(Amap, Tencent), --coords bd09 (Baidu) or --coords wgs84 (GPS, OpenStreetMap)"
        in result.output
    )
    assert "coords='gcj02'" not in result.output


def test_a_declared_gcj02_table_finds_the_venue_at_its_true_distance(tmp_path, gcj02_case):
    schools, table = gcj02_case
    out = tmp_path / "out"
    args = ["--schools", schools, "--hazards", f"internet_cafe={table}", "--coords", "gcj02"]
    result = screen(out, *args)
    assert_clean_exit(result, 0)
    assert findings(out)["distance_m"].tolist() == [150.0]  # to the centimetre
    # declared WGS 84 (the user's word): taken as given, the café lands hundreds of metres off
    out2 = tmp_path / "out2"
    args[-1] = "wgs84"
    assert_clean_exit(screen(out2, *args), 0)
    far = findings(out2)["distance_m"].tolist()
    assert far == [] or abs(far[0] - 150.0) > 100


def test_an_undeclared_registry_in_china_is_refused_with_the_fix(tmp_path, gcj02_case):
    schools, table = gcj02_case
    registry = tmp_path / "wangba.csv"
    registry.write_text(table.read_text().replace("id,名称", "序号,企业名称"), encoding="utf-8")
    result = screen(tmp_path / "out", "--schools", schools, "--registry", registry)
    assert_clean_exit(result, 2)
    assert f"{registry}: the coordinate system of the 经度/纬度 columns is not" in result.output
    assert "--coords gcj02 (Amap, Tencent)" in result.output


# ---------------------------------------------------------------------------
# form: findings and sources belong together


def test_form_refuses_findings_of_another_run_with_an_unrelated_osm_file(tmp_path, venues):
    schools = school_file(tmp_path / "schools.geojson", [("s1", "赤道小学", equator_school())])
    run1 = tmp_path / "run1"
    assert_clean_exit(screen(run1, "--schools", schools, "--hazards", f"internet_cafe={venues}"), 0)
    other = tmp_path / "other.osm"
    other.write_text(OSM.format(near=repr(NEAR_LON)), encoding="utf-8")
    out = tmp_path / "forms"
    result = run("-q", "form", "--findings", run1 / "findings.csv", "--osm", other, "--out", out)
    assert_clean_exit(result, 2)
    assert (
        f"campus-geo: error: {run1 / 'findings.csv'}: none of the 1 schools of these findings "
        "(e.g. s1) is in the sources given (--osm, --schools, --roster): the findings come from "
        "another screening or other files" in result.output
    )
    assert not (out / "inspection_form.xlsx").exists()  # nothing hashed as its input


def test_form_warns_of_findings_whose_schools_are_not_in_the_sources(tmp_path, venues):
    both = school_file(
        tmp_path / "both.geojson",
        [("s1", "赤道小学", equator_school()), ("s2", "东小学", Point(NEAR_LON + 0.0005, 0.0))],
    )
    run1 = tmp_path / "run1"
    args = ["--schools", both, "--hazards", f"internet_cafe={venues}"]
    assert_clean_exit(screen(run1, *args), 0)
    assert sorted(findings(run1)["school_id"]) == ["s1", "s2"]
    one = school_file(tmp_path / "one.geojson", [("s1", "赤道小学", equator_school())])
    out = tmp_path / "forms"
    result = run(
        "-q", "form", "--findings", run1 / "findings.csv", "--schools", one,
        "--hazards", f"internet_cafe={venues}", "--no-evidence", "--out", out,
    )  # fmt: skip
    assert_clean_exit(result, 0)
    assert (
        f"  - {run1 / 'findings.csv'}: 1 of the 2 schools of these findings are not in the "
        "sources given: s2; their sheets lack the source's details" in result.output
    )
    assert (out / "inspection_form.xlsx").exists()


def test_the_end_of_the_output_repeats_every_warning(tmp_path, venues):
    schools = tmp_path / "schools.csv"
    schools.write_text("id,name,lon,lat\ns1,赤道小学,0.001,0.0\ns2,无坐标小学,,\n")
    out = tmp_path / "out"
    result = screen(out, "--schools", schools, "--hazards", f"internet_cafe={venues}")
    assert_clean_exit(result, 0)
    tail = result.output[result.output.index("Warnings (1):") :].splitlines()
    assert tail == [
        "Warnings (1):",
        f"  - {schools}: 1 row(s) rejected for bad coordinates",
    ]
    assert findings(out)["school_id"].tolist() == ["s1"]


# ---------------------------------------------------------------------------
# the Python interface: the same checks, in the terms of its arguments


def test_validate_schools_names_every_unusable_geometry_by_id():
    from campus_geo._errors import InputDataError
    from campus_geo._validate import validate_schools

    schools = gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁"], "kind": ["primary"] * 4},
        geometry=[
            Point(113.0, 134.0),
            LineString([(0, 0), (0.001, 0.001)]),
            Polygon([(0, 0), (0.001, 0.001), (0.002, 0.002)]),
            Point(math.inf, 0.0),
        ],
        index=pd.Index(["s1", "s2", "s3", "s4"], name="school_id"),
        crs=4326,
    )
    with pytest.raises(InputDataError) as info:
        validate_schools(schools)
    assert str(info.value) == (
        "`schools` has unusable geometries (school_id: reason): s1: coordinates out of range "
        "(lon 113.0, lat 134.0): longitude must be within -180..180 and latitude within "
        "-90..90; s2: a LineString cannot be a school (expected Point, Polygon, MultiPolygon); "
        "give the campus outline (a polygon) or a point; s3: polygon of zero area (its points "
        "lie on a line); draw the outline again; s4: a coordinate is not a finite number (inf "
        "or NaN); fix or drop those rows"
    )


def test_the_repeated_warnings_are_capped_for_files_of_thousands_of_fixed_rows(capsys):
    import logging

    from campus_geo.cli.common import WarningSummary

    summary = WarningSummary()
    log = logging.getLogger("campus_geo.test_bad_inputs")
    log.addHandler(summary)
    try:
        for row in range(2, 62):
            log.warning("t.csv row %d: longitude and latitude swapped; swapped back", row)
        log.warning("t.csv row 2: longitude and latitude swapped; swapped back")  # once only
    finally:
        log.removeHandler(summary)
    summary.echo()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Warnings (60):"
    assert lines[1] == "  - t.csv row 2: longitude and latitude swapped; swapped back"
    assert lines[50] == "  - t.csv row 51: longitude and latitude swapped; swapped back"
    assert lines[51:] == ["  ... and 10 more in the log above"]
