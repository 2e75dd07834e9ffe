"""`campus-geo screen` on a user's own district: the analyses, context versus problems, gates.

Issue "A real district, end to end": everything the demo shows, on the user's data.
The shared extracts are run under every profile in tests/test_cli.py; here the
options of the analyses, the camera table, the checklist registers and the
gate names and warnings, on small files whose values are known.
"""

from __future__ import annotations

import json
import re
import sqlite3

import geopandas as gpd
import openpyxl
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from conftest import EQ_M_PER_DEG, equator_school

from campus_geo import demo
from campus_geo.cli import cli
from campus_geo.layers import layers_from_osm

SCHOOL_REGISTER = demo.DEMO_DIR / "五个百分之百.xlsx"
WATER_REGISTER = demo.DEMO_DIR / "重点水域检查.xlsx"
YES = {"是", "有", "√", "已配备", "1", 1}
#: 80 m due north of the middle of the campus's north edge (lat 0.001), on the ellipsoid
POND_LAT = pyproj.Geod(ellps="WGS84").fwd(0.0, 0.001, 0.0, 80.0)[1]


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


@pytest.fixture
def district(tmp_path):
    """One school at the equator, a café 150 m east, a pond 80 m north, a camera at the gate."""
    schools = tmp_path / "schools.geojson"
    gpd.GeoDataFrame(
        {"id": ["s1"], "name": ["赤道小学"], "township": ["甲镇"]},
        geometry=[equator_school()],
        crs=4326,
    ).to_file(schools, driver="GeoJSON", engine="pyogrio")
    venues = tmp_path / "venues.csv"
    pd.DataFrame(
        {
            "id": ["w1", "p1"],
            "名称": ["近网吧", "小池塘"],
            "category": ["internet_cafe", "water"],
            "经度": [0.001 + 150 / EQ_M_PER_DEG, 0.0],
            "纬度": [0.0, POND_LAT],
        }
    ).to_csv(venues, index=False, encoding="utf-8-sig")
    cameras = tmp_path / "cameras.csv"
    pd.DataFrame(
        {
            "id": ["c1"],
            "经度": [0.001 + 5 / EQ_M_PER_DEG],
            "纬度": [0.0],
            "方向": [90],
            "视场角": [60],
            "可视距离": [40],
            "权属单位": ["区公安局"],
            "接入平台": ["雪亮工程"],
        }
    ).to_csv(cameras, index=False, encoding="utf-8-sig")
    return schools, venues, cameras


def _screen(tmp_path, district, *extra):
    schools, venues, _ = district
    out = tmp_path / "out"
    args = ["-q", "screen", "--schools", schools, "--hazards", venues, "--coords", "wgs84"]
    result = run(*args, "--out", out, "--no-evidence", *extra)
    return result, out


def test_water_is_context_and_the_analyses_run_with_a_camera_table(tmp_path, district):
    _, _, cameras = district
    result, out = _screen(tmp_path, district, "--cameras", cameras, "--coords", "wgs84")
    assert result.exit_code == 0, result.output
    # the pond is context for the drowning analysis, not a finding, form row or count
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert findings["hazard_id"].tolist() == ["w1"]
    assert "Screened 1 schools against 1 venues: 1 findings at 1 schools (1 water" in (
        result.output
    )
    near = pd.read_csv(out / "water_near_schools.csv", encoding="utf-8-sig")
    assert near[["water_id", "water_name"]].values.tolist() == [["p1", "小池塘"]]
    assert near["distance_m"].iloc[0] == pytest.approx(80.0, abs=0.01)
    form = openpyxl.load_workbook(out / "inspection_form.xlsx")["排查表"]
    assert "小池塘" not in form["C4"].value.split("周边水域")[0]
    # the camera table's camera counts for the school's zone; its owner and platform are kept
    coverage = pd.read_csv(out / "camera_coverage.csv", encoding="utf-8-sig")
    assert coverage[["school_id", "cameras"]].values.tolist() == [["s1", 1]]
    cams = gpd.read_file(out / "cameras.gpkg", layer="cameras")
    assert cams[["owner", "platform"]].values.tolist() == [["区公安局", "雪亮工程"]]
    page = (out / "map.html").read_text("utf-8")  # in the GeoJSON of the camera sectors
    assert json.dumps("权属：区公安局，接入：雪亮工程")[1:-1] in page
    # no streets (no --osm): the traffic section says why it did not run
    summary = (out / "summary.html").read_text("utf-8")
    traffic = summary[summary.index('<section id="traffic"') :]
    assert "本次未分析：没有街道网络（交通分析需要 --osm 提供的道路数据）" in traffic
    assert "Not analysed: traffic:" in result.output


def test_analyses_option_chooses_and_names_a_mistyped_one(tmp_path, district):
    result, out = _screen(tmp_path, district, "--analyses", "none")
    assert result.exit_code == 0, result.output
    assert not (out / "water_near_schools.csv").exists()
    assert 'class="analysis"' not in (out / "summary.html").read_text("utf-8")
    result, out = _screen(tmp_path, district, "--analyses", "cameras")
    summary = (out / "summary.html").read_text("utf-8")
    assert '<section id="cameras" class="analysis">' in summary
    assert "本次未分析：未选择（--analyses）" in summary
    bad = CliRunner().invoke(cli, ["screen", "--analyses", "water,trafic"])
    assert bad.exit_code == 2
    assert "unknown analysis trafic; choose from water, traffic, cameras" in bad.output


def _share(column: pd.Series) -> str:
    return f"{column.isin(YES).mean():.0%}"


def test_checklist_rates_on_the_summary_and_cases_in_the_ledger(tmp_path, district):
    ledger = tmp_path / "ledger.sqlite"
    result, out = _screen(
        tmp_path,
        district,
        *("--school-checklist", SCHOOL_REGISTER, "--water-checklist", WATER_REGISTER),
        *("--ledger", ledger),
    )
    assert result.exit_code == 0, result.output
    summary = (out / "summary.html").read_text("utf-8")
    section = summary[summary.index('<section id="checklists"') :]
    section = section[: section.index("</section>")]
    school_table, water_table = section.split("<table>")[1:]
    rows = {
        cells[0]: cells[1:]
        for cells in (
            re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in school_table.split("<tr>")[1:]
        )
        if cells
    }
    # the register read independently: its total row and one township's row, cell by cell
    register = pd.read_excel(SCHOOL_REGISTER, header=1)
    items = ["专职保安员", "防冲撞设施", "校门视频监控", "封闭化管理", "一键式紧急报警"]
    every = register[items].isin(YES).all(axis=1)
    total = [str(len(register)), *(_share(register[c]) for c in items), f"{every.mean():.0%}"]
    assert rows["合计"] == total
    town = register[register["所在乡镇"] == "杏花乡"]
    assert rows["杏花乡"][:2] == [str(len(town)), _share(town["专职保安员"])]
    water = pd.read_excel(WATER_REGISTER, header=1)
    assert f"{len(water)} 处重点水域" in section
    assert "<td>合计</td>" in water_table
    # with --ledger, each missing item is a case of the unit that must fix it
    with sqlite3.connect(ledger) as conn:
        got = dict(
            conn.execute(
                "SELECT category, count(*) FROM cases GROUP BY category ORDER BY category"
            ).fetchall()
        )
    conn.close()
    missing = int((~register[items].isin(YES)).to_numpy().sum())
    assert got["checklist_school"] == missing
    assert got["internet_cafe"] == 1
    assert "water" not in got


def test_gates_are_named_by_their_side_and_a_gateless_run_warns(tmp_path):
    osm = layers_from_osm(demo.DEMO_DIR / "district.osm")
    names = osm.entrances["name"]
    assert names.loc["node/1003658"] == "南门"
    assert names.loc["node/1003667"] == "东南门1"
    assert names.loc["node/1003668"] == "东南门2"
    assert not osm.entrances.duplicated(["school_id", "name"]).any()
    assert names.str.fullmatch(r"(东|西|南|北|东北|东南|西南|西北)门\d?").all()

    # a run measured from gates on schools without any: a warning at the top and on the page


def test_a_run_measured_from_gates_without_gates_warns_at_the_top_and_on_the_page(
    tmp_path, district
):
    result, out = _screen(tmp_path, district, "--profile", "entrance")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Warning: 1 of 1 schools have no gate in the data")
    page = (out / "summary.html").read_text("utf-8")
    assert '<p class="notice" role="alert">1 所学校（共 1 所）的数据中没有校门' in page
    # measured from the outline instead, and the finding says so
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert findings["distance_m"].tolist() == pytest.approx([150.0], abs=0.01)
    assert "no entrance" in findings["notes"].iloc[0]
    quiet, _ = _screen(tmp_path, district)  # the boundary profile needs no gate
    assert "no gate" not in quiet.stderr


def test_the_problems_the_analyses_name_become_cases_once(tmp_path):
    """Gates on an arterial without a signalised crossing, gates no camera sees: cases."""
    from campus_geo.ledger.analysis_cases import sync_analysis_cases

    ledger = tmp_path / "ledger.sqlite"
    out = tmp_path / "out"
    args = ["-q", "screen", "--osm", demo.DEMO_DIR / "district.osm", "--ledger", ledger]
    result = run(*args, "--out", out, "--no-evidence", "--school-maps", "none")
    assert result.exit_code == 0, result.output
    gaps = pd.read_csv(out / "arterial_gaps.csv", encoding="utf-8-sig")
    gates = pd.read_csv(out / "gate_coverage.csv", encoding="utf-8-sig")
    unseen = gates[~gates["seen"]]
    assert (len(gaps), len(unseen)) == (15, 43)
    with sqlite3.connect(ledger) as conn:
        rows = conn.execute(
            "SELECT category, enforcing_unit, participating_units, count(*) FROM cases "
            "WHERE category IN ('traffic_gap', 'camera_gap') GROUP BY category ORDER BY category"
        ).fetchall()
        venue_cases = conn.execute(
            "SELECT count(*) FROM cases WHERE category NOT IN ('traffic_gap', 'camera_gap')"
        ).fetchone()[0]
        named = conn.execute(
            "SELECT hazard_name FROM cases WHERE category = 'camera_gap' AND hazard_id = ?",
            (unseen["entrance_id"].iloc[0],),
        ).fetchone()[0]
    conn.close()
    assert rows == [
        ("camera_gap", "区公安局", "区教体局", 43),
        ("traffic_gap", "区公安局", "区交通运输局、区城市管理局", 15),
    ]
    assert venue_cases == len(pd.read_csv(out / "findings.csv", encoding="utf-8-sig"))
    assert re.fullmatch(r"(东|西|南|北|东北|东南|西南|西北)门\d?无视频监控覆盖", named)
    assert "Analyses: 58 problem cases opened" in result.output
    # the same run again changes nothing; a gate now seen closes its pending case
    again = run(*args, "--out", out, "--no-evidence", "--school-maps", "none")
    assert "Analyses: 0 problem cases opened" in again.output
    assert "0 closed as no longer found, 58 unchanged" in again.output
    osm = layers_from_osm(demo.DEMO_DIR / "district.osm")
    seen = gates.set_index("entrance_id").assign(seen=lambda g: g["seen"])
    seen.loc[unseen["entrance_id"].iloc[0], "seen"] = True
    fixed = sync_analysis_cases(
        ledger, gaps=None, gate_coverage=seen, schools=osm.schools, who="区公安局"
    )
    assert (len(fixed.opened), len(fixed.closed), fixed.unchanged) == (0, 1, 42)
    with sqlite3.connect(ledger) as conn:
        status, why = conn.execute(
            "SELECT c.status, h.why FROM cases c JOIN history h USING (finding_id) "
            "WHERE c.finding_id = ? AND h.field = 'status' ORDER BY h.rowid DESC LIMIT 1",
            (fixed.closed[0],),
        ).fetchone()
    conn.close()
    assert (status, why) == ("resolved", "分析未再发现该问题 (no longer found by the analysis)")


def test_a_project_file_gives_the_cameras_and_the_checklists(tmp_path, district):
    schools, venues, cameras = district
    project = tmp_path / "project.toml"
    project.write_text(
        f"""
[[schools]]
path = "{schools.name}"
coords = "wgs84"

[[hazards]]
path = "{venues.name}"
coords = "wgs84"

[[cameras]]
path = "{cameras.name}"
coords = "wgs84"

[school_checklist]
path = "{SCHOOL_REGISTER.as_posix()}"
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run("-q", "screen", "--project", project, "--out", out, "--no-evidence")
    assert result.exit_code == 0, result.output
    coverage = pd.read_csv(out / "camera_coverage.csv", encoding="utf-8-sig")
    assert coverage[["school_id", "cameras"]].values.tolist() == [["s1", 1]]
    summary = (out / "summary.html").read_text("utf-8")
    assert '<section id="checklists" class="analysis">' in summary
    assert "五个百分之百" in summary
    # every input is hashed onto the page, the project's camera table and register too
    for name in (schools.name, venues.name, cameras.name, SCHOOL_REGISTER.name):
        assert f"<td>{name}</td>" in summary, name
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[[cameras]]\npath = "{cameras.name}"\n', encoding="utf-8")
    refused = run("screen", "--project", bad, "--out", out)
    assert refused.exit_code == 2
    assert "[cameras] cameras.csv has no coords; declare wgs84, gcj02 or bd09" in refused.output


def test_form_reads_its_sources_as_screen_does_undeclared_china_tables_refused(tmp_path):
    """`form` and `screen` share one reading: a table in China must declare its system."""
    schools = tmp_path / "schools.geojson"
    gpd.GeoDataFrame(
        {"id": ["s1"], "name": ["郑州小学"]},
        geometry=[shapely.box(113.650, 34.750, 113.652, 34.752)],
        crs=4326,
    ).to_file(schools, driver="GeoJSON", engine="pyogrio")
    venues = tmp_path / "wangba.csv"
    pd.DataFrame({"id": ["w1"], "名称": ["网吧"], "经度": [113.6535], "纬度": [34.7510]}).to_csv(
        venues, index=False, encoding="utf-8-sig"
    )
    out = tmp_path / "out"
    spec = f"internet_cafe={venues}"
    args = ["-q", "screen", "--schools", schools, "--hazards", spec, "--coords", "gcj02"]
    screened = run(*args, "--out", out, "--no-evidence")
    assert screened.exit_code == 0, screened.output
    findings = out / "findings.gpkg"
    again = ["form", "--findings", findings, "--schools", schools, "--hazards", spec]
    refused = run(*again, "--out", tmp_path / "rebuilt", "--no-evidence")
    assert refused.exit_code == 2
    assert str(venues) in refused.output
    assert "--coords gcj02" in " ".join(refused.output.split())
    rebuilt = run(*again, "--coords", "gcj02", "--out", tmp_path / "rebuilt", "--no-evidence")
    assert rebuilt.exit_code == 0, rebuilt.output
