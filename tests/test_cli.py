from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import EQ_M_PER_DEG, equator_school

from campus_geo.cli import cli
from campus_geo.screen import CSV_COLUMNS


@pytest.fixture
def files(tmp_path):
    schools = tmp_path / "schools.geojson"
    gpd.GeoDataFrame(
        {"id": ["s1"], "name": ["赤道小学"], "township": ["甲镇"]},
        geometry=[equator_school()],
        crs=4326,
    ).to_file(schools, driver="GeoJSON", engine="pyogrio")
    venues = tmp_path / "wangba.csv"
    pd.DataFrame(
        {
            "id": ["w1", "w2", "w3"],
            "名称": ["近网吧", "远网吧", "无坐标网吧"],
            "经度": [0.001 + 199.99 / EQ_M_PER_DEG, 0.001 + 200.02 / EQ_M_PER_DEG, None],
            "纬度": [0.0, 0.0, None],
        }
    ).to_csv(tmp_path / "wangba.csv", index=False, encoding="utf-8-sig")
    return schools, venues


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_screen_files_end_to_end(tmp_path, files):
    schools, venues = files
    out = tmp_path / "out"
    result = run(
        "-q", "screen", "--schools", schools, "--hazards", f"internet_cafe={venues}", "--out", out
    )
    assert result.exit_code == 0, result.output
    assert "Screened 1 schools against 2 venues: 1 findings at 1 schools (0 water," in result.output
    assert "Rejected 1 input rows" in result.output
    table = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert list(table.columns) == [*CSV_COLUMNS, "类别", "严重程度"]
    assert table[["hazard_id", "distance_m"]].values.tolist() == [["w1", 199.99]]
    assert table[["category", "类别", "severity", "严重程度"]].values.tolist() == [
        ["internet_cafe", "上网服务场所", "prohibited", "禁止"]
    ]
    rejects = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig")
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        [4, "经度/纬度", "missing coordinates"]  # both cells empty: one parser for every table
    ]
    ws = openpyxl.load_workbook(out / "inspection_form.xlsx").active
    assert ws["A4"].value == "赤道小学"
    assert "近网吧" in ws["C4"].value
    assert (out / "map.html").stat().st_size > 10_000
    assert len(gpd.read_file(out / "findings.gpkg")) == 1


def test_a_data_warning_is_shown_once_as_a_log_line(tmp_path, files):
    """A CLI user sees the log line only, not the same text again as a Python warning."""
    schools, venues = files
    command = "import sys; from campus_geo.cli import main; main(sys.argv[1:])"
    args = ["-q", "screen", "--schools", schools, "--hazards", f"internet_cafe={venues}"]
    result = subprocess.run(
        [sys.executable, "-c", command, *map(str, args), "--no-evidence", "--out", tmp_path / "o"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    line = f"WARNING campus_geo.sources.files: {venues}: 1 row(s) rejected for bad coordinates"
    assert result.stderr.count("row(s) rejected") == 1, result.stderr
    assert line in result.stderr.splitlines()
    assert "Warning" not in result.stderr


def test_dist_and_profile_options(tmp_path, files):
    schools, venues = files
    out = tmp_path / "o"
    result = run(
        "screen",
        "--schools",
        schools,
        "--hazards",
        f"internet_cafe={venues}",
        "--dist",
        250,
        "--out",
        out,
    )
    assert result.exit_code == 0
    table = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert table["rule_id"].unique().tolist() == ["internet_cafe_250m_boundary"]
    assert len(table) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["screen", "--osm", "/no/such.osm"], "OSM file /no/such.osm does not exist"),
        (
            ["screen", "--hazards", "casino=x.csv", "--schools", "s.gpkg"],
            "unknown category 'casino'",
        ),
        (["screen"], "no schools given"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_rules_file_exits_2(tmp_path, files):
    schools, venues = files
    rules = tmp_path / "r.toml"
    rules.write_text(
        "[[rule]]\nid = 'x'\ncategory = 'internet_cafe'\ndistance_m = 'far'\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli,
        [
            "screen",
            "--schools",
            str(schools),
            "--hazards",
            f"internet_cafe={venues}",
            "--rules",
            str(rules),
        ],
    )
    assert result.exit_code == 2
    assert "rule #1 (line 1): `distance_m` must be a number of metres, got 'far'" in result.output


def test_duplicate_ids_in_a_file_name_the_rows(tmp_path, files):
    schools, _ = files
    venues = tmp_path / "dup.csv"
    pd.DataFrame({"id": ["a", "a"], "lon": [0.001, 0.001], "lat": [0.0, 0.0]}).to_csv(
        venues, index=False
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["screen", "--schools", str(schools), "--hazards", f"lottery={venues}", "--out", str(out)],
    )
    # both rows go to rejects.csv (which of them is right is not known): nothing usable left
    assert result.exit_code == 2
    assert (
        f"{venues}: no usable hazards left: all 2 row(s) rejected; e.g. row 2, column id: "
        "duplicate id 'a' (also in 3); ids must be unique" in result.output
    )
    rejects = pd.read_csv(out / "rejects.csv", encoding="utf-8-sig", dtype=str)
    assert rejects[["row", "column"]].values.tolist() == [["2", "id"], ["3", "id"]]


@pytest.mark.realdata
@pytest.mark.parametrize(
    "extract", ["beijing_haidian_wudaokou_2017.osm.bz2", "nanjing_xinjiekou_2021.osm.bz2"]
)
@pytest.mark.parametrize("profile", ["boundary", "entrance", "walk", "all"])
def test_real_extracts_write_every_output_under_every_profile(tmp_path, extract, profile):
    """A user's own district (a shared OSM extract, no gates to speak of): every output."""
    from conftest import osm_extract

    out = tmp_path / "out"
    args = ["-q", "screen", "--osm", str(osm_extract(extract)), "--profile", profile]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig", dtype={"finding_id": str})
    # venues only: the 206 and 60 traffic points, the water and the cameras are context
    expected = {
        "beijing_haidian_wudaokou_2017.osm.bz2": {
            "boundary": 1,
            "entrance": 1,
            "walk": 0,
            "all": 2,
        },
        "nanjing_xinjiekou_2021.osm.bz2": {"boundary": 8, "entrance": 8, "walk": 4, "all": 18},
    }
    assert len(findings) == expected[extract][profile]
    assert not {"water", "traffic", "camera"} & set(findings["category"])
    for name in ("findings.gpkg", "inspection_form.xlsx", "summary.html", "map.html"):
        assert (out / name).stat().st_size > 0, name
    # the analyses run on a user's own extract: their sections, tables and map layers
    summary = (out / "summary.html").read_text("utf-8")
    for key in ("water", "traffic", "cameras"):
        assert f'<section id="{key}" class="analysis">' in summary, key
    for name in ("water_near_schools.csv", "gate_traffic.csv", "camera_coverage.csv"):
        assert (out / name).exists(), name
    page = (out / "map.html").read_text("utf-8")
    for layer in ("重点水域", "护学岗候选点", "视频监控覆盖与盲区"):
        assert json.dumps(layer) in page, layer
    assert len(list((out / "evidence").glob("*.html"))) == len(findings)
    # one map per school with findings (the default --school-maps), and the index
    schools = findings["school_id"].nunique()
    maps = sorted(p.name for p in (out / "maps").glob("*.html"))
    assert len(maps) == (schools + 1 if schools else 0)  # no findings: no school maps
    assert "index.html" in maps or not schools
    if profile == "all":  # the form: one line per venue, its profiles side by side
        rule = findings["rule_id"].str.split("@").str[0]
        venues = findings.assign(rule=rule).drop_duplicates(["school_id", "hazard_id", "rule"])
        assert len(venues) < len(findings)
        # the summary counts a venue once, not once per profile
        page = (out / "summary.html").read_text("utf-8")
        assert f'<div class="figure"><b>{len(venues)}</b>问题（处）</div>' in page
        form = openpyxl.load_workbook(out / "inspection_form.xlsx")["排查表"]
        lines = [x for r in form.iter_rows(min_row=4, values_only=True) for x in r[2].split("\n")]
        lines = [x for x in lines if not x.startswith("周边水域：")]  # water nearby: no venue
        assert len(lines) == len(venues)
        measured = [x for x in lines if "（边界）/ " in x]  # not those inside the campus
        assert len(measured) == (venues["threshold_m"] > 0).sum()
        assert all(x.count("（校门）/ ") == 1 and "（步行）" in x for x in measured)


def test_hazards_accept_a_chinese_category_name(tmp_path, files):
    schools, venues = files
    out = tmp_path / "out"
    args = ["-q", "screen", "--schools", schools, "--hazards", f"网吧={venues}", "--out", out]
    result = run(*args, "--no-evidence")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert table[["hazard_id", "category", "enforcing_units"]].values.tolist() == [
        ["w1", "internet_cafe", "区文化广电和旅游局、区公安局"]
    ]
    assert "上网服务场所 internet_cafe: 1" in result.output


def test_a_mistyped_category_gets_did_you_mean(files):
    schools, venues = files
    spec = f"intenet_cafe={venues}"
    result = CliRunner().invoke(cli, ["screen", "--schools", str(schools), "--hazards", spec])
    assert result.exit_code == 2
    assert f"unknown category 'intenet_cafe' in '{spec}'; did you mean 'internet_cafe'?" in (
        " ".join(result.output.split())
    )
    assert "Traceback" not in result.output


def test_a_category_of_the_rules_file_names_a_hazard_layer(tmp_path, files):
    schools, venues = files
    rules = tmp_path / "mine.toml"
    rules.write_text(
        """
[meta]
extends = "default"

[[category]]
key = "trampoline_park"
label = "蹦床馆"
label_en = "trampoline park"
aliases = ["蹦床"]

[[rule]]
id = "trampoline_park_199.995m"
category = "trampoline_park"
distance_m = 199.995
lead_units = ["区委政法委", "区教体局"]
responsible_units = ["区市场监督管理局"]
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    spec = f"蹦床={venues}"
    result = run(
        "-q",
        "screen",
        "--schools",
        schools,
        "--hazards",
        spec,
        "--out",
        out,
        "--rules",
        rules,
        "--no-evidence",
        "--ledger",
        tmp_path / "ledger.sqlite",
    )
    assert result.exit_code == 0, result.output
    assert "蹦床馆 trampoline_park: 1" in result.output
    # the ledger keeps the label of the user's category: its list and export read 蹦床馆
    listing = run("ledger", "list", "--ledger", tmp_path / "ledger.sqlite").output
    assert "蹦床馆" in listing
    assert "trampoline_park" not in listing
    export = tmp_path / "台帐.xlsx"
    assert run("ledger", "export", export, "--ledger", tmp_path / "ledger.sqlite").exit_code == 0
    sheet = openpyxl.load_workbook(export).worksheets[0]
    header = [c.value for c in sheet[3]]
    assert sheet.cell(4, header.index("问题类别") + 1).value == "蹦床馆"
    table = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert table[["hazard_id", "category", "类别", "distance_m"]].values.tolist() == [
        ["w1", "trampoline_park", "蹦床馆", 199.99]
    ]
    assert table["enforcing_units"].tolist() == ["区市场监督管理局"]  # none given: responsible
    without = CliRunner().invoke(cli, ["screen", "--schools", str(schools), "--hazards", spec])
    assert without.exit_code == 2
    assert "unknown category '蹦床'" in without.output


def test_screen_with_a_ledger_refuses_a_sync_made_with_another_distance(tmp_path, files):
    import sqlite3

    schools, venues = files
    db = tmp_path / "ledger.sqlite"
    common = ["-q", "screen", "--schools", schools, "--hazards", f"internet_cafe={venues}"]
    first = run(*common, "--no-evidence", "--out", tmp_path / "a", "--ledger", db)
    assert first.exit_code == 0, first.output

    def state():
        with sqlite3.connect(db) as con:
            cases = con.execute("SELECT finding_id, status, version FROM cases").fetchall()
            return cases, con.execute("SELECT COUNT(*) FROM history").fetchone()[0]

    before = state()
    assert [(c[1]) for c in before[0]] == ["pending"]
    second = run(*common, "--dist", 150, "--no-evidence", "--out", tmp_path / "b", "--ledger", db)
    assert second.exit_code == 2
    assert "dist: None -> 150.0" in second.output
    assert "--accept-changed-settings" in second.output
    assert state() == before  # nothing changed in the ledger
