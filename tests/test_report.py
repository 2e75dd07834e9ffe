"""The inspection form xlsx, all reports of a run, and `campus-geo form`."""

from __future__ import annotations

import datetime as dt
import filecmp
import re

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import EQ_M_PER_DEG, equator_school

from campus_geo import demo, layers
from campus_geo.cli import cli
from campus_geo.report import (
    display_width,
    findings_from_file,
    problem_sentences,
    save_inspection_form,
    save_reports,
)
from campus_geo.screen import save_findings, screen

STAMP = dt.datetime(2023, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
HEADERS = ["学校名称", "所在乡（镇、街道）、村（社区）", "存在的主要问题", "整治建议"]


@pytest.fixture
def findings(equator_layers):
    schools, hazards = equator_layers
    return schools, screen(schools, hazards)


@pytest.fixture(scope="module")
def district():
    osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    return osm, screen(osm.schools, osm.hazards, entrances=osm.entrances)


def test_form_layout_and_cells(tmp_path, findings):
    schools, found = findings
    path = save_inspection_form(
        found, schools, tmp_path / "form.xlsx", reporting_unit="甲镇综治办", evidence_dir="evidence"
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["排查表", "问题明细", "汇总"]
    ws = wb["排查表"]
    assert ws["A1"].value == "校园及周边安全问题排查表"
    assert {str(r) for r in ws.merged_cells.ranges} == {"A1:D1", "A2:D2"}
    assert ws["A2"].value == "填报单位：甲镇综治办"
    assert [c.value for c in ws[3]] == HEADERS
    assert ws["A4"].value == "赤道小学"
    assert ws["B4"].value == "甲镇、乙村"
    lines = [
        "1. 上网服务场所“网吧丙”，距离150.0米（自校园边界直线量算，规定200米）",
        "2. 上网服务场所“网吧甲”，距离200.0米（自校园边界直线量算，规定200米）",
    ]
    assert ws["C4"].value.splitlines() == lines
    assert ws["D4"].value == "1. 依法关停或责令迁出校园周边200米范围"
    assert ws.max_row == 4
    # print-ready: A4 landscape one page wide, header row repeated, page numbers, borders, wrap
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$3:$3"
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert ws["C4"].alignment.wrap_text
    assert ws["C4"].border.left.style == "thin"
    assert (ws["C4"].font.name, ws["A3"].font.b) == ("宋体", True)
    # widths fitted to the longest line (CJK characters count two), rows tall enough for it
    assert ws.column_dimensions["C"].width == min(display_width(lines[0]) + 2, 72) == 72
    assert ws.column_dimensions["D"].width == display_width(ws["D4"].value) + 2 == 40
    assert ws.column_dimensions["A"].width == 14  # the minimum
    # each 71-wide sentence wraps once in the 72-wide column (1.5 of it is cell padding)
    assert ws.row_dimensions[4].height == 15 * 4 + 4
    detail = wb["问题明细"]
    header = [c.value for c in detail[1]]
    assert header[:3] == ["问题编号", "学校编号", "学校名称"]
    assert header[-1] == "证据单"
    row = {h: c.value for h, c in zip(header, detail[2], strict=True)}
    first = found.iloc[0]
    assert row["问题编号"] == first.name
    assert row["类别"] == "上网服务场所"
    assert row["量得距离（米）"] == round(first["distance_m"], 3) == 150.0
    assert row["隐患端点经度"] == round(first["hazard_lon"], 7)
    assert detail.cell(2, len(header)).hyperlink.target == f"evidence/{first.name}.html"
    assert detail.max_row == 3
    assert detail.print_title_cols == "$A:$C"
    assert detail.freeze_panes == "B2"


def test_every_school_option_writes_none(tmp_path, findings):
    schools, found = findings
    path = save_inspection_form(found.iloc[:0], schools, tmp_path / "f.xlsx", all_schools=True)
    ws = openpyxl.load_workbook(path)["排查表"]
    assert [c.value for c in ws[4]] == ["赤道小学", "甲镇、乙村", "无", "无"]
    with pytest.raises(ValueError, match="all_schools=True needs the schools layer"):
        save_inspection_form(found, None, tmp_path / "g.xlsx", all_schools=True)


def test_form_is_byte_reproducible(tmp_path, findings):
    schools, found = findings
    a = save_inspection_form(found, schools, tmp_path / "a.xlsx", generated_at=STAMP).read_bytes()
    b = save_inspection_form(found, schools, tmp_path / "b.xlsx", generated_at=STAMP).read_bytes()
    assert a == b
    c = save_inspection_form(found, schools, tmp_path / "c.xlsx").read_bytes()
    assert c != a  # only the document time differs
    assert b"2023-06-15T02:00:00Z" in _core(tmp_path / "a.xlsx")


def _core(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read("docProps/core.xml")


def test_english_layout(tmp_path, findings):
    schools, found = findings
    wb = openpyxl.load_workbook(
        save_inspection_form(found, schools, tmp_path / "e.xlsx", lang="en")
    )
    assert wb.sheetnames == ["Form", "Findings", "Summary"]
    ws = wb["Form"]
    assert ws["A1"].value == "Inspection form: safety problems in and around schools"
    assert ws["B4"].value == "甲镇, 乙村"
    assert ws["C4"].value.startswith(
        '1. internet café "网吧丙" at 150.0 m (straight line from the campus boundary'
    )
    assert ws["D4"].value == "1. Close the venue or order it to move out of the 200 m zone"
    assert [c.value for c in wb["Findings"][1]][:2] == ["finding_id", "school_id"]


def test_sentences_round_to_a_decimetre(findings):
    _, found = findings
    assert problem_sentences(found)[1].endswith("距离200.0米（自校园边界直线量算，规定200米）")


def test_demo_form_rows_and_summary_against_the_findings(tmp_path, district):
    osm, found = district
    path = save_inspection_form(found, osm.schools, tmp_path / "demo.xlsx", all_schools=True)
    wb = openpyxl.load_workbook(path)
    ws = wb["排查表"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    assert len(rows) == 76
    # a planted pair: 金马网络会所 at 150.0 m from the outline of 苇塘镇中心小学
    _, place, problems, suggestions = rows["苇塘镇中心小学"]
    assert place.startswith("苇塘镇、")
    assert re.search(
        r"^\d+\. 上网服务场所“金马网络会所”，距离150\.0米（自校园边界直线量算，规定200米）$",
        problems,
        flags=re.MULTILINE,
    )
    assert re.search(r"^\d+\. 依法关停或责令迁出校园周边200米范围$", suggestions, re.MULTILINE)
    assert len(problems.splitlines()) == (found["school_name"] == "苇塘镇中心小学").sum()
    without = [r for r in rows.values() if r[2] == "无"]
    # venues only (water, crossings and cameras are context): five schools have none
    assert len(without) == 76 - found["school_id"].nunique() == 5
    # the summary sheet's township x category table equals the findings table's counts
    summary = wb["汇总"]
    cells = list(summary.iter_rows(min_row=5, values_only=True))
    header = [c for c in cells[0] if c]
    body = {r[0]: r[1 : len(header)] for r in cells[1:] if r[0] and r[0] != "合计"}
    labels = dict(zip(header[1:-1], sorted(found["category"].unique(), key=_order), strict=True))
    expected = pd.crosstab(found["township"], found["category"])
    for town, counts in body.items():
        if town == "按牵头单位统计":
            break
        for label, n in zip(header[1:-1], counts, strict=False):
            assert n == expected.loc[town, labels[label]], (town, label)
        assert counts[-1] == expected.loc[town].sum()
    total = next(r for r in cells if r[0] == "合计")
    assert total[len(header) - 1] == len(found) == 179
    unit_rows = _table(summary, "按牵头单位统计")
    # measures (10), (11) and (12) of the plan have the same two lead units
    assert unit_rows["区委政法委"][0] == unit_rows["区教体局"][0] == len(found)
    assert len(summary._images) == 2
    assert wb["问题明细"].max_row == 180


def _order(category):
    from campus_geo.settings import CATEGORIES

    return CATEGORIES.index(category)


def _table(ws, title):
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == title) + 2
    out = {}
    for r in rows[start:]:
        if r[0] is None:
            break
        out[r[0]] = r[1:]
    return out


def test_findings_read_back_give_the_same_form(tmp_path, district):
    osm, found = district
    save_findings(found, tmp_path)
    back = findings_from_file(tmp_path / "findings.gpkg")
    assert list(back.index) == list(found.index)
    assert np.array_equal(back["distance_m"].to_numpy(), found["distance_m"].to_numpy())
    assert back.geometry.iloc[5].equals_exact(found.geometry.iloc[5], 0)
    a = save_inspection_form(found, osm.schools, tmp_path / "a.xlsx", generated_at=STAMP)
    b = save_inspection_form(back, osm.schools, tmp_path / "b.xlsx", generated_at=STAMP)
    assert a.read_bytes() == b.read_bytes()
    csv = findings_from_file(tmp_path / "findings.csv")
    assert np.allclose(csv["distance_m"], found["distance_m"], atol=0.0005)
    assert np.allclose(csv.geometry.iloc[0].coords, found.geometry.iloc[0].coords, atol=1e-7)


def test_bad_findings_files_are_named(tmp_path):
    from campus_geo import InputDataError

    with pytest.raises(InputDataError, match="does not exist"):
        findings_from_file(tmp_path / "none.gpkg")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="is not a findings file: it lacks the column"):
        findings_from_file(other)


def test_reports_of_a_run_are_byte_identical(tmp_path, district):
    osm, found = district
    one_school = found[found["school_name"] == "苇塘镇中心小学"]
    outputs = []
    for name in ("a", "b"):
        outputs.append(
            save_reports(
                one_school,
                tmp_path / name,
                schools=osm.schools,
                hazards=osm.hazards,
                entrances=osm.entrances,
                streets=osm.streets,
                inputs=[demo.DEMO_DIR / "district.osm"],
                generated_at=STAMP,
                reporting_unit="青禾区",
            )
        )
    a, b = outputs
    assert sorted(a) == ["chart_category", "chart_township", "evidence", "form", "summary"]
    sheets = sorted(p.name for p in a["evidence"].iterdir())
    assert sheets == sorted(f"{i}.html" for i in one_school.index)
    for key in ("form", "summary", "chart_category", "chart_township"):
        assert filecmp.cmp(a[key], b[key], shallow=False), key
    for sheet in sheets:
        assert filecmp.cmp(a["evidence"] / sheet, b["evidence"] / sheet, shallow=False)


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
            "id": ["w1", "w2"],
            "名称": ["近网吧", "远网吧"],
            "经度": [0.001 + 199.99 / EQ_M_PER_DEG, 0.001 + 120.0 / EQ_M_PER_DEG],
            "纬度": [0.0, 0.0],
        }
    ).to_csv(venues, index=False, encoding="utf-8-sig")
    return schools, venues


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_screen_then_form_rebuilds_the_reports(tmp_path, files):
    schools, venues = files
    out = tmp_path / "out"
    sources = ["--schools", schools, "--hazards", f"internet_cafe={venues}"]
    stamp = ["--generated-at", "2023-06-15T10:00:00+08:00"]
    result = run("-q", "screen", *sources, *stamp, "--out", out)
    assert result.exit_code == 0, result.output
    ids = sorted(pd.read_csv(out / "findings.csv")["finding_id"])
    assert sorted(p.stem for p in (out / "evidence").glob("*.html")) == ids
    assert (out / "summary.html").exists()
    assert (out / "charts" / "findings_by_township.png").exists()
    sheet = (out / "evidence" / f"{ids[0]}.html").read_text(encoding="utf-8")
    assert "wangba.csv" in sheet
    assert "2023-06-15T10:00:00+08:00" in sheet
    again = tmp_path / "again"
    result = run(
        "-q", "form", "--findings", out / "findings.gpkg", *sources, *stamp, "--out", again
    )
    assert result.exit_code == 0, result.output
    assert "Rebuilt the reports of 2 findings" in result.output
    assert filecmp.cmp(out / "inspection_form.xlsx", again / "inspection_form.xlsx", shallow=False)
    rebuilt = (again / "evidence" / f"{ids[0]}.html").read_text(encoding="utf-8")
    assert "findings.gpkg" in rebuilt  # the findings file is an input of the rebuild
    # without the sources the form still rebuilds, and the sheets say the outline is not known
    bare = tmp_path / "bare"
    result = run("-q", "form", "--findings", out / "findings.gpkg", "--out", bare, "--no-evidence")
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(bare / "inspection_form.xlsx")["排查表"]
    assert ws["A4"].value == "赤道小学"
    assert not (bare / "evidence").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["form", "--findings", "/no/such.gpkg"], "findings file /no/such.gpkg does not exist"),
        (
            ["form", "--findings", "{gpkg}", "--all-schools"],
            "--all-schools needs the screened schools",
        ),
        (["screen", "--schools", "{schools}", "--generated-at", "noon"], "is not an ISO 8601 time"),
    ],
)
def test_form_errors_exit_2(tmp_path, files, args, message):
    schools, venues = files
    out = tmp_path / "o"
    assert run("-q", "screen", "--schools", schools, "--hazards", f"internet_cafe={venues}",
               "--out", out, "--no-evidence").exit_code == 0  # fmt: skip
    args = [a.format(gpkg=out / "findings.gpkg", schools=schools) for a in args]
    if args[0] == "screen":
        args += ["--hazards", f"internet_cafe={venues}", "--out", tmp_path / "p"]
    result = CliRunner().invoke(cli, list(map(str, args)))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_font_stops_screen_before_it_starts(tmp_path, files, monkeypatch):
    schools, venues = files
    monkeypatch.setenv("CAMPUS_GEO_CJK_FONT", str(tmp_path / "nofont.ttf"))
    result = CliRunner().invoke(
        cli,
        ["screen", "--schools", str(schools), "--hazards", f"internet_cafe={venues}",
         "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is not a font file" in result.output
    assert not (tmp_path / "o" / "findings.csv").exists()


def test_profile_all_gives_one_form_line_per_venue_with_the_profiles_side_by_side(
    tmp_path, district
):
    from campus_geo.network import walk_network_from_osm

    osm, _ = district
    network = walk_network_from_osm(demo.DEMO_DIR / "district.osm")
    found = screen(
        osm.schools, osm.hazards, entrances=osm.entrances, profile="all", network=network
    )
    venues = found.assign(rule=found["rule_id"].str.split("@").str[0]).drop_duplicates(
        ["school_id", "hazard_id", "rule"]
    )
    assert len(found) > len(venues)  # a venue found under several profiles has several rows
    path = save_inspection_form(found, osm.schools, tmp_path / "form.xlsx", charts=False)
    wb = openpyxl.load_workbook(path)
    rows = list(wb["排查表"].iter_rows(min_row=4, values_only=True))
    lines = {r[0]: r[2].split("\n") for r in rows}
    assert sum(len(v) for v in lines.values()) == len(venues)
    per_school = venues.groupby("school_name").size()
    assert {k: len(v) for k, v in lines.items()} == per_school.to_dict()
    assert wb["问题明细"].max_row == len(found) + 1  # the detail sheet keeps every finding
    # 和顺网咖 at 柳湾镇丁楼小学: 199.4 m from the outline, in under one profile only
    row = venues[
        (venues["hazard_name"] == "和顺网咖") & (venues["school_name"] == "柳湾镇丁楼小学")
    ]
    assert len(row) == 1
    b, e, w = (float(row[f"{p}_m"].iloc[0]) for p in ("boundary", "entrance", "walk"))
    assert round(b, 1) == 199.4
    line = next(x for x in lines["柳湾镇丁楼小学"] if "和顺网咖" in x)
    assert line.split(". ", 1)[1] == (
        f"上网服务场所“和顺网咖”，距离{b:.1f}米（边界）/ {e:.1f}米（校门）/ {w:.1f}米（步行），"
        "规定200米" + ("，结论取决于量算口径" if bool(row["profile_dependent"].iloc[0]) else "")
    )
    assert line.count("和顺网咖") == 1
    assert sum("和顺网咖" in x for x in lines["柳湾镇丁楼小学"]) == 1


def test_a_users_category_and_an_inside_finding_on_the_form(tmp_path):
    from campus_geo.category_registry import Category
    from campus_geo.rules import default_categories

    cats = default_categories().merged([Category("trampoline_park", "蹦床馆", "trampoline park")])
    f = pd.DataFrame(
        {
            "category": ["trampoline_park", "tuck_shop"],
            "hazard_name": ["甲蹦床馆", ""],
            "distance_m": [120.004, 0.0],
            "profile": ["boundary", "boundary"],
            "threshold_m": [150.0, 0.0],
            "notes": ["", "位于校园内或紧邻围墙 (inside or touching the campus)"],
        }
    )
    assert problem_sentences(f, categories=cats) == [
        "1. 蹦床馆“甲蹦床馆”，距离120.0米（自校园边界直线量算，规定150米）",
        "2. 小卖部/小超市（未命名），位于校园内（规定校内不得设置）",
    ]
    assert problem_sentences(f, lang="en", categories=cats)[1] == (
        "2. tuck shop / small store (小卖部, 小超市) (unnamed) inside the campus (not allowed there)"
    )
    # without the user's categories the key stands for the label
    assert problem_sentences(f)[0].startswith("1. trampoline_park“甲蹦床馆”")
