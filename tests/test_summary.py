"""Summaries: counts by township x category and by lead unit, and the HTML briefing page."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import io
import re

import pandas as pd
import pytest
from PIL import Image

from campus_geo import demo, layers
from campus_geo.screen import screen
from campus_geo.settings import CATEGORY_LABELS
from campus_geo.summary import save_summary_html, summarise, summary_tables

STAMP = dt.datetime(2023, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="module")
def district():
    osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    return osm, screen(osm.schools, osm.hazards, entrances=osm.entrances)


def test_counts_match_the_findings(district):
    osm, findings = district
    summary = summarise(findings, osm.schools)
    expected = pd.crosstab(findings["township"], findings["category"])
    got = summary.by_township.loc[expected.index, expected.columns]
    assert (got.to_numpy() == expected.to_numpy()).all()
    # venues only: water, traffic points and cameras are context for the analyses
    assert summary.by_township.to_numpy().sum() == len(findings) == summary.findings == 179
    assert summary.schools_screened == 76
    assert summary.schools_with_findings == findings["school_id"].nunique()
    assert summary.prohibited == int((findings["severity"] == "prohibited").sum())
    # every finding counts once for each of its rule's lead units
    units = findings["lead_units"].str.split("、").explode()
    assert summary.by_lead_unit["findings"].to_dict() == units.value_counts().to_dict()
    # measures (10), (11) and (12) of the plan have the same two lead units
    assert summary.by_lead_unit["findings"].to_dict() == {"区委政法委": 179, "区教体局": 179}
    arcades = findings[findings["category"] == "arcade"]
    assert summary.by_category.loc["arcade", "nearest_m"] == arcades["distance_m"].min()
    assert round(summary.by_category.loc["arcade", "nearest_m"], 2) == 10.63
    assert summary.by_category.loc["arcade", "schools"] == arcades["school_id"].nunique() == 25
    assert not {"water", "traffic", "camera"} & set(summary.by_category.index)


def test_townships_without_findings_get_zero_rows():
    findings = pd.DataFrame(
        {
            "school_id": ["a"],
            "township": ["甲镇"],
            "category": ["lottery"],
            "severity": ["prohibited"],
            "lead_units": ["区委政法委、区教体局"],
            "distance_m": [12.5],
        }
    )
    schools = pd.DataFrame({"township": ["甲镇", "乙乡"]}, index=["a", "b"])
    summary = summarise(findings, schools)
    assert summary.by_township.to_dict() == {"lottery": {"乙乡": 0, "甲镇": 1}}
    township, lead, category = summary_tables(summary)
    assert township.headers == ["乡（镇、街道）", "彩票销售点", "合计"]
    assert township.rows == [["乙乡", 0, 0], ["甲镇", 1, 1], ["合计", 1, 1]]
    assert township.total_rows == frozenset({2})
    assert lead.headers == ["牵头单位", "问题数（处）", "涉及学校（所）", "禁止"]
    assert lead.rows == [["区委政法委", 1, 1, 1], ["区教体局", 1, 1, 1]]
    assert category.rows == [["彩票销售点", 1, 1, "12.5"], ["合计", 1, 1, ""]]
    english = summary_tables(summary, lang="en")[1]
    assert english.headers == ["Lead unit", "Findings", "Schools", "prohibited"]


def test_summary_page(district, tmp_path):
    osm, findings = district
    hostile = findings.copy()
    hostile.iloc[0, hostile.columns.get_loc("hazard_name")] = "<img src=x onerror=alert(1)>"
    path = save_summary_html(
        hostile, tmp_path / "summary.html", schools=osm.schools, generated_at=STAMP,
        reporting_unit="青禾区",
    )  # fmt: skip
    page = path.read_text(encoding="utf-8")
    assert "<title>校园及周边安全问题排查结果汇总</title>" in page
    assert "2023-06-15T10:00:00+08:00" in page
    assert '<div class="figure"><b>76</b>排查学校（所）</div>' in page
    assert '<div class="figure"><b>179</b>问题（处）</div>' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "<script" not in page
    # one evidence link per finding, and the two charts as PNG
    links = re.findall(r'<a href="evidence/([0-9a-f]{16})\.html">', page)
    assert sorted(links) == sorted(findings.index)
    charts = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(charts) == 2
    assert Image.open(io.BytesIO(base64.b64decode(charts[0]))).format == "PNG"
    again = save_summary_html(
        hostile, tmp_path / "again.html", schools=osm.schools, generated_at=STAMP,
        reporting_unit="青禾区",
    )  # fmt: skip
    assert again.read_bytes() == path.read_bytes()


# --- the sections of the water, traffic and camera analyses, and of the profiles -----------


@pytest.fixture(scope="module")
def analyses(district):
    from campus_geo import network
    from campus_geo.cli.analyses import run_analyses

    osm, _ = district
    return run_analyses(osm, network.walk_network_from_osm(demo.DEMO_DIR / "district.osm"))


def section(page: str, key: str) -> str:
    start = page.index(f'<section id="{key}" class="analysis">')
    return page[start : page.index("</section>", start)]


def table_rows(part: str, n: int = 0) -> list[list[str]]:
    """The cells (text, lines joined by newlines) of the `n`-th table of a page part."""
    table = re.findall(r"<table>(.*?)</table>", part, re.S)[n]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell.replace("<br>", "\n")))
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    ]


def test_summary_page_has_a_section_per_analysis(district, analyses, tmp_path):
    osm, findings = district
    page = save_summary_html(
        findings, tmp_path / "s.html", schools=osm.schools, generated_at=STAMP, analyses=analyses
    ).read_text(encoding="utf-8")
    starts = [page.index(f'<section id="{key}"') for key in ("water", "traffic", "cameras")]
    assert starts == sorted(starts)
    assert starts[-1] < page.index("<h2>问题清单（按学校）</h2>")
    assert '<section id="profiles"' not in page  # screened with the rules' own profiles
    assert "<script" not in page

    water = section(page, "water")
    assert "<h2>溺水防范</h2>" in water
    assert "距校园边界500米内有水域的学校 19 所，涉及水体 7 处。" in water
    rows = table_rows(water)
    assert (
        "|".join(rows[0]) == "位次|水体|类型|威胁学校（所）|学生数（人）|最近的学校|最近距离（米）"
    )
    assert rows[1] == ["1", "玉带河", "河流", "5", "—", "青禾区特殊教育学校", "43.8"]
    assert [r[1] for r in rows[1:]] == analyses.water_bodies.sort_values("rank")["name"].tolist()

    traffic = section(page, "traffic")
    assert (
        "校门步行100米内的交通风险点 168 处；无信号灯过街设施的主干道临校路段 15 处；"
        "61 所学校有护学岗候选点。"
    ) in traffic
    gaps = table_rows(traffic, 0)
    assert len(gaps) == 1 + len(analyses.gaps) == 16
    # gates by their side of the campus, road classes in Chinese beside the OSM code
    road = "次干路（secondary）"
    assert ["柳湾镇中心小学", "西门", "文昌路", road, "11.2", "500米内没有"] in gaps
    assert ["枣林镇九年一贯制学校", "北门", "人民路", road, "11.8", "161.2"] in gaps
    posts = dict(table_rows(traffic, 1)[1:])
    assert posts["枣林镇中心幼儿园"] == (
        "1. 信号灯路口：兴业路，有信号灯，距校门78.1米\n2. 人行横道：文化街，无信号灯，距校门9.2米"
    )
    assert len(posts) == 50  # of 61 schools with candidates: the rest are in guard_posts.csv
    assert "另有 11 行未列出，全部见 guard_posts.csv。" in traffic

    cameras = section(page, "cameras")
    assert "摄像头 160 个；81/124 个校门在摄像头视野内；学校周边200米范围覆盖率中位数" in cameras
    ranked = table_rows(cameras, 0)
    assert ranked[1] == ["1", "苇塘镇前营小学", "苇塘镇", "0", "0.0%", "0/3"]
    assert ranked[2] == ["2", "苇塘镇第二小学", "苇塘镇", "1", "0.9%", "0/3"]
    unseen = table_rows(cameras, 1)[1:]
    gates = [line for _, cell in unseen for line in cell.split("\n")]
    assert len(gates) == int((~analyses.gate_coverage["seen"]).sum()) == 43
    assert unseen[0] == [
        "苇塘镇前营小学",
        "东南门（0%）\n东门2（0%）\n东门1（0%）",  # node/1004046, 1004047, 1004048
    ]


def test_analysis_sections_in_english_with_pupils_and_escaped_names(district, analyses, tmp_path):
    from campus_geo import water

    osm, findings = district
    schools = osm.schools.assign(
        pupils=range(100, 100 + len(osm.schools)),
        name=osm.schools["name"].replace("青禾区特殊教育学校", "<img src=x onerror=alert(1)>"),
    )
    near = water.water_near_schools(schools, osm.hazards)
    bodies = water.key_water_areas(near, osm.hazards)
    counted = dataclasses.replace(analyses, water_near=near, water_bodies=bodies)
    page = save_summary_html(
        findings, tmp_path / "en.html", schools=schools, generated_at=STAMP, lang="en",
        analyses=counted,
    ).read_text(encoding="utf-8")  # fmt: skip
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    part = section(page, "water")
    assert "<h2>Drowning risk</h2>" in part
    assert "19 schools have water within 500 m of their outline; 7 water bodies." in part
    yudai = near[near["body_id"] == "way/2000042"].drop_duplicates("school_id")
    pupils = int(schools["pupils"].reindex(yudai["school_id"]).sum())
    assert len(yudai) == 5
    assert table_rows(part)[1] == [
        "1", "玉带河", "river", "5", f"{pupils:,}", "<img src=x onerror=alert(1)>", "43.8",
    ]  # fmt: skip
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in part
    assert "<h2>Traffic at gates</h2>" in section(page, "traffic")
    assert "81 of 124 gates inside a camera&#39;s view" in section(page, "cameras")


def test_profile_section_lists_the_findings_whose_verdict_depends_on_it(district, tmp_path):
    _, findings = district
    first = findings.iloc[[0]]
    by_gate = first.set_axis(["f_entrance"]).assign(profile="entrance", rule_id="r@entrance")
    steady = findings.iloc[[1]]
    table = pd.concat([first, by_gate, steady]).assign(
        profile_dependent=[True, True, False],
        boundary_m=[150.0, 150.0, 20.0],
        entrance_m=[150.0, 150.0, 25.0],
        walk_m=[float("inf"), float("inf"), 30.0],
        threshold_m=[200.0, 200.0, 200.0],
    )
    page = save_summary_html(
        table, tmp_path / "p.html", generated_at=STAMP, evidence_dir=None
    ).read_text(encoding="utf-8")
    part = section(page, "profiles")
    assert "<h2>量算口径</h2>" in part
    assert (
        "按全部量算口径排查：2 处问题（1 组学校与隐患）的结论随量算口径而变，共 3 处问题。" in part
    )
    rows = table_rows(part)
    assert "|".join(rows[0]) == "学校|隐患|类别|规定（米）|边界直线（米）|校门直线（米）|步行（米）"
    row = first.iloc[0]
    assert rows[1:] == [
        [row["school_name"], row["hazard_name"], CATEGORY_LABELS[row["category"]][0], "200",
         "150.0", "150.0", "超过2000或不可达"],
    ]  # fmt: skip
    plain = save_summary_html(findings, tmp_path / "q.html", generated_at=STAMP)
    assert 'class="analysis"' not in plain.read_text(encoding="utf-8")
