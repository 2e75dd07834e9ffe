"""The generated demo district: reproducible bytes, readable by the real loaders, screened exactly."""

from __future__ import annotations

import filecmp

import pandas as pd
import pytest
from _truth import truth_distance

from campus_geo import demo
from campus_geo.analyses import water
from campus_geo.layers import layers_from_osm
from campus_geo.screen import screen


@pytest.fixture(scope="module")
def district():
    return layers_from_osm(demo.DEMO_DIR / "district.osm")


@pytest.fixture(scope="module")
def findings(district):
    return screen(district.schools, district.hazards, entrances=district.entrances)


@pytest.fixture(scope="module")
def planted():
    return pd.read_csv(demo.DEMO_DIR / "planted.csv", encoding="utf-8")


def test_regeneration_is_byte_identical(tmp_path):
    written = demo.generate_demo(tmp_path)
    assert set(written) == {
        "osm",
        "registry_xlsx",
        "registry_csv",
        "roster",
        "planted",
        "school_checklist",
        "water_checklist",
        "readme",
    }
    for path in written.values():
        committed = demo.DEMO_DIR / path.name
        assert filecmp.cmp(path, committed, shallow=False), f"{path.name} differs from data/demo"


def test_district_content(district):
    schools = district.schools
    assert len(schools) == 76
    assert schools["kind"].value_counts().to_dict() == {
        "primary": 32,
        "kindergarten": 29,
        "middle": 8,
        "nine_year": 4,
        "high": 1,
        "vocational": 1,
        "special": 1,
    }
    assert (schools["township"] != "").all()
    assert (schools["village"] != "").all()
    assert schools["township"].nunique() >= 8
    assert (schools.geometry.geom_type == "Point").sum() == 3
    assert set(district.excluded["name"]) == {"青禾区委党校", "青禾区教师进修学校", "许安理工学院"}
    assert len(district.entrances) == 124
    counts = district.hazards["category"].value_counts()
    for category in (
        "internet_cafe",
        "entertainment",
        "arcade",
        "lottery",
        "tobacco_alcohol",
        "dangerous_site",
        "vendor",
        "care_centre",
        "water",
        "traffic",
        "camera",
    ):
        assert counts[category] > 0
    # neutral places are not hazards
    assert "青禾区人民医院" not in set(district.hazards["name"])


def test_planted_pairs_are_classified_and_measured_exactly(district, findings, planted):
    assert len(planted) >= 16
    inside = planted[planted["true_m"] <= 200.0]
    close = planted[(planted["true_m"] - 200.0).abs() <= 1.0]
    assert (close["true_m"] < 200).sum() >= 5
    assert (close["true_m"] > 200).sum() >= 5
    found = findings.set_index(["school_id", "hazard_id"])["distance_m"]
    # water is context for the drowning analysis, which measures it as screen(context=True)
    near = water.water_near_schools(district.schools, district.hazards)
    drowning = near.set_index(["school_id", "water_id"])["distance_m"]
    assert not (findings["category"] == "water").any()
    for row in planted.itertuples():
        key = (row.school_osm_id, row.hazard_osm_id)
        school = district.schools.geometry[row.school_osm_id]
        hazard = district.hazards.geometry[row.hazard_osm_id]
        truth = truth_distance(school, hazard)
        assert truth == pytest.approx(row.true_m, abs=0.002)
        threshold = 500.0 if row.category == "water" else 200.0
        measured = drowning if row.category == "water" else found
        if truth <= threshold:
            assert key in measured.index, f"{row.hazard_name} at {truth:.3f} m not flagged"
            assert measured[key] == pytest.approx(truth, abs=0.01)
        else:
            assert key not in measured.index
    assert len(inside) >= 10


def test_named_internet_cafe_just_inside(findings):
    row = findings[
        (findings["hazard_name"] == "和顺网咖") & (findings["school_name"] == "柳湾镇丁楼小学")
    ]
    assert len(row) == 1
    assert row["distance_m"].iloc[0] == pytest.approx(199.4, abs=0.01)
    assert row["category"].iloc[0] == "internet_cafe"
    assert row["township"].iloc[0] == "柳湾镇"


@pytest.mark.parametrize(
    ("school", "venue"),
    [
        ("苇塘镇初级中学", "张记网吧"),
        ("石桥镇第一初级中学", "聚友歌舞厅"),
        ("青禾区第三小学", "阳光棋牌室"),
    ],
)
def test_named_venues_just_outside_are_not_flagged(findings, school, venue):
    flagged = findings.loc[findings["school_name"] == school, "hazard_name"]
    assert len(flagged) > 0  # the school has other findings (traffic, water ...)
    assert venue not in set(flagged)


def test_polygon_fuel_station_measured_to_its_nearest_edge(findings):
    row = findings[
        (findings["hazard_id"] == "way/2000485") & (findings["school_name"] == "石桥镇中心小学")
    ]
    assert row["distance_m"].iloc[0] == pytest.approx(199.6, abs=0.01)
    assert row["rule_id"].iloc[0] == "dangerous_site_200m"


def test_every_finding_is_within_its_threshold_and_ids_are_unique(findings):
    assert findings.index.is_unique
    assert (findings["distance_m"] <= findings["threshold_m"]).all()
    # every venue rule measures from the outline (the traffic rule's entrance profile is
    # the guard-post analysis's: traffic points are context, not findings)
    assert set(findings["profile"]) == {"boundary"}


def test_demo_command_runs_the_analyses_once_into_summary_form_map_and_tables(
    tmp_path, monkeypatch
):
    import json

    from click.testing import CliRunner
    from openpyxl import load_workbook

    from campus_geo.analyses import water
    from campus_geo.cli import cli

    calls = []
    measure = water.water_near_schools

    def counted(*args, **kwargs):
        calls.append(1)
        return measure(*args, **kwargs)

    monkeypatch.setattr(water, "water_near_schools", counted)
    out = tmp_path / "out"
    args = ["-q", "demo", "--out", str(out), "--no-evidence", "--school-maps", "none"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(calls) == 1  # computed once for the summary, the form, the map and the tables
    assert (
        "Water within 500 m: 19 schools, 7 water bodies; key water area #1 玉带河 threatens "
        "5 schools." in result.output
    )
    assert "15 arterial frontages without signalised crossing" in result.output
    assert str(out / "key_water_areas.csv") in result.output
    # the ledger story as the README tells it (OSM and the two registries, the checklists)
    for line in (
        "06-05 Ledger run 1: 196 cases opened, 0 closed as resolved in data",
        "06-05 checklists: 38 missing items opened as cases.",
        "233 cases changed, 0 rows unchanged, 1 conflicts.",
        "June: 234 opened, 10 closed, 224 open at the end, 0 overdue.",
        "July: 1 reopened, 11 closed, 214 open at the end, 124 overdue.",
    ):
        assert line in result.output, line
    # the checklists' rates on the summary page: the registers beside the district
    assert '<section id="checklists" class="analysis">' in (out / "summary.html").read_text(
        encoding="utf-8"
    )
    summary = (out / "summary.html").read_text(encoding="utf-8")
    for text in (
        '<section id="water" class="analysis">',
        "距校园边界500米内有水域的学校 19 所，涉及水体 7 处。",
        "无信号灯过街设施的主干道临校路段 15 处",
        "摄像头 160 个；81/124 个校门在摄像头视野内",
    ):
        assert text in summary
    page = (out / "map.html").read_text(encoding="utf-8")
    for name in ("重点水域", "护学岗候选点", "视频监控覆盖与盲区"):
        assert f"{json.dumps(name)} : feature_group_" in page
    form = load_workbook(out / "inspection_form.xlsx")["排查表"]
    problems = {r[0].value: r[2].value for r in form.iter_rows(min_row=4)}
    assert (
        problems["青禾区特殊教育学校"]
        .split("\n")[-1]
        .startswith("周边水域：1. 玉带河（河流）43.8米")
    )
    assert sum("周边水域：" in p for p in problems.values()) == 19
    bodies = pd.read_csv(out / "key_water_areas.csv", encoding="utf-8-sig")
    assert bodies[["rank", "name", "schools"]].iloc[0].tolist() == [1, "玉带河", 5]
