"""Summaries: counts by township x category and by lead unit, and the HTML briefing page."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pandas as pd
import pytest
from PIL import Image

from campus_geo import demo, layers
from campus_geo.screen import screen
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
    assert summary.by_township.to_numpy().sum() == len(findings) == summary.findings == 317
    assert summary.schools_screened == 76
    assert summary.schools_with_findings == findings["school_id"].nunique()
    assert summary.prohibited == int((findings["severity"] == "prohibited").sum())
    # every finding counts once for each of its rule's lead units
    units = findings["lead_units"].str.split("、").explode()
    assert summary.by_lead_unit["findings"].to_dict() == units.value_counts().to_dict()
    assert (
        summary.by_lead_unit.loc["区公安局", "findings"]
        == (findings["category"] == "traffic").sum()
    )
    water = findings[findings["category"] == "water"]
    assert summary.by_category.loc["water", "nearest_m"] == water["distance_m"].min()
    assert summary.by_category.loc["water", "schools"] == water["school_id"].nunique()


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
    assert '<div class="figure"><b>317</b>问题（处）</div>' in page
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
