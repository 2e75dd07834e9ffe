"""One 排查表 per township: `form --split township` and `save_township_forms`."""

from __future__ import annotations

import unicodedata

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from _demo_areas import write_demo_areas
from click.testing import CliRunner

from campus_geo import demo
from campus_geo._errors import CampusGeoWarning
from campus_geo.cli import cli
from campus_geo.reports.townships import (
    findings_with_admin,
    save_township_forms,
    township_file_name,
    townships_of,
)
from campus_geo.screen import screen
from campus_geo.sources.admin import admin_from_file, assign_admin
from campus_geo.sources.layers import layers_from_osm


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def form_rows(path):
    """(填报单位 line, [(学校名称, 所在乡（镇、街道）、村（社区）, problems), ...]) of a form."""
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in ws[3]] == [
        "学校名称",
        "所在乡（镇、街道）、村（社区）",
        "存在的主要问题",
        "整治建议",
    ]
    rows = [(r[0], r[1], r[2]) for r in ws.iter_rows(min_row=4, values_only=True)]
    return ws["A2"].value, rows


def _key(name):
    return unicodedata.normalize("NFKC", name).replace(" ", "")


@pytest.fixture(scope="module")
def district():
    return layers_from_osm(demo.DEMO_DIR / "district.osm", admin_areas=False)


@pytest.fixture(scope="module")
def truth():
    """Each demo school's township and village, as the generator put them (its roster)."""
    roster = pd.read_excel(demo.DEMO_DIR / "schools_roster.xlsx")
    return roster.assign(key=roster["学校名称"].map(_key)).set_index("key")[
        ["所属乡镇", "所属村（社区）"]
    ]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, district):
    """The demo's schools without township (a GIS file), two venue categories, the areas file."""
    folder = tmp_path_factory.mktemp("towns")
    schools = folder / "schools.gpkg"
    district.schools.reset_index()[["school_id", "name", "geometry"]].rename(
        columns={"school_id": "id"}
    ).to_file(schools, engine="pyogrio")
    hazards = folder / "venues.gpkg"
    venues = district.hazards[district.hazards["category"].isin(["internet_cafe", "lottery"])]
    venues.reset_index()[["hazard_id", "name", "category", "geometry"]].rename(
        columns={"hazard_id": "id"}
    ).to_file(hazards, engine="pyogrio")
    areas = write_demo_areas(district, folder / "乡镇村界.gpkg")
    return schools, hazards, areas


def test_screen_with_admin_then_form_split_township_writes_each_townships_own_form(
    tmp_path, inputs, truth
):
    schools, hazards, areas = inputs
    out = tmp_path / "out"
    common = ["--schools", schools, "--admin", areas, "--no-evidence"]
    result = run(
        "-q", "screen", *common, "--hazards", hazards, "--out", out, "--school-maps", "none"
    )
    assert result.exit_code == 0, result.output
    assert "Townships: 76 of 76 schools placed in 9 townships." in result.output
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    expected = truth.loc[findings["school_name"].map(_key)]
    assert findings["township"].tolist() == expected["所属乡镇"].tolist()
    assert findings["village"].tolist() == expected["所属村（社区）"].tolist()

    result = run("-q", "form", "--findings", out / "findings.gpkg", *common, "--split", "township")
    assert result.exit_code == 0, result.output
    per_town = findings.groupby("township")["school_name"].agg(lambda n: sorted(set(n)))
    forms = sorted(p.name for p in (out / "forms").glob("*.xlsx"))
    assert forms == sorted(f"{t}.xlsx" for t in per_town.index)
    assert len(forms) == findings["township"].nunique() == 9
    everyone = []
    for township, names in per_town.items():
        unit, rows = form_rows(out / "forms" / f"{township}.xlsx")
        assert unit == f"填报单位：{township}"
        assert sorted(r[0] for r in rows) == names  # exactly the township's schools
        assert all(r[1].startswith(f"{township}、") for r in rows)
        everyone += [r[0] for r in rows]
    # the district roll-up lists every school once, and the township forms share them out
    unit, rollup = form_rows(out / "inspection_form.xlsx")
    assert unit == "填报单位："
    assert sorted(r[0] for r in rollup) == sorted(everyone) == sorted(set(findings["school_name"]))
    # the same rows, cell for cell, in the roll-up and in the township forms
    rollup_rows = {r[0]: r for r in rollup}
    for township in per_town.index:
        for row in form_rows(out / "forms" / f"{township}.xlsx")[1]:
            assert row == rollup_rows[row[0]]


def test_form_fills_townships_from_the_areas_where_the_findings_have_none(tmp_path, inputs, truth):
    """Findings screened without --admin get their townships when the form is rebuilt with it."""
    schools, hazards, areas = inputs
    out = tmp_path / "out"
    args = ["-q", "screen", "--schools", schools, "--hazards", hazards, "--no-evidence"]
    assert run(*args, "--out", out, "--school-maps", "none").exit_code == 0
    assert (pd.read_csv(out / "findings.csv", encoding="utf-8-sig")["township"].isna()).all()
    # without --schools: each school is placed by its end of the measured line
    result = run(
        "-q", "form", "--findings", out / "findings.gpkg", "--admin", areas, "--split", "township",
        "--reporting-unit", "青禾区教体局", "--no-evidence", "--out", tmp_path / "again",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    forms = sorted((tmp_path / "again" / "forms").glob("*.xlsx"))
    assert len(forms) == 9
    for path in forms:
        unit, rows = form_rows(path)
        assert unit == "填报单位：青禾区教体局"  # --reporting-unit on every form
        assert {truth.loc[_key(r[0]), "所属乡镇"] for r in rows} == {path.stem}


@pytest.fixture(scope="module")
def placed(district):
    """The demo's schools in the townships of its OSM boundaries."""
    return assign_admin(district.schools, district.admin)


@pytest.fixture(scope="module")
def findings(district, placed):
    return screen(placed, district.hazards, entrances=district.entrances)


def test_schools_without_a_township_go_to_the_unknown_townships_form(tmp_path, district, findings):
    placed = district.schools.assign(township="甲镇")
    placed.loc[placed.index[:2], "township"] = ""
    lost = set(placed["name"][:2])
    found = findings.assign(township=placed["township"].reindex(findings["school_id"]).to_numpy())
    with pytest.warns(CampusGeoWarning, match=r"2 school\(s\) have no township: .*未知乡镇.xlsx"):
        forms = save_township_forms(found, tmp_path, schools=placed, all_schools=True)
    assert sorted(forms) == ["", "甲镇"]
    assert forms[""].name == "未知乡镇.xlsx"
    unit, rows = form_rows(forms[""])
    assert unit == "填报单位："  # an unknown township reports for no one
    assert {r[0] for r in rows} == lost
    assert len(form_rows(forms["甲镇"])[1]) == 74


def test_all_schools_lists_a_townships_schools_without_findings_and_a_rerun_cleans_up(
    tmp_path, placed, findings
):
    schools = placed
    assert schools.loc["way/2000306", "township"] == "石桥镇"
    quiet = findings[findings["school_id"] != "way/2000306"]
    assert "way/2000306" not in set(quiet["school_id"])
    forms = save_township_forms(quiet, tmp_path, schools=schools, all_schools=True)
    rows = form_rows(forms["石桥镇"])[1]
    mine = [r for r in rows if r[0] == "石桥镇第二初级中学"]
    assert mine == [("石桥镇第二初级中学", "石桥镇、姚店村", "无")]
    town = schools[schools["township"] == "石桥镇"]
    assert sorted(r[0] for r in rows) == sorted(town["name"])
    # a re-run where 石桥镇 is renamed: its old form goes, a file of the user's stays
    (tmp_path / "notes.xlsx").write_bytes(b"mine")
    renamed = schools.assign(township=schools["township"].replace("石桥镇", "石桥街道"))
    again = save_township_forms(
        # a school's texts are categoricals: renamed as one, or as text (astype("str"))
        quiet.assign(township=quiet["township"].cat.rename_categories({"石桥镇": "石桥街道"})),
        tmp_path,
        schools=renamed,
        all_schools=True,
    )
    names = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert "石桥镇.xlsx" not in names
    assert "石桥街道.xlsx" in names
    assert "notes.xlsx" in names
    assert len(names) == len(again) + 1 == 10


def test_townships_of_prefers_the_findings_township():
    findings = pd.DataFrame({"school_id": ["a", "a", "b"], "township": ["", "甲镇", ""]})
    schools = pd.DataFrame({"township": ["乙镇", "乙镇", "丙镇"]}, index=["a", "b", "c"])
    assert townships_of(findings, schools).to_dict() == {"a": "甲镇", "b": "乙镇"}
    every = townships_of(findings, schools, all_schools=True)
    assert every.to_dict() == {"c": "丙镇", "a": "甲镇", "b": "乙镇"}


def test_findings_with_admin_keeps_values_and_fills_from_schools_then_areas(inputs, findings):
    areas = admin_from_file(inputs[2])
    known = findings[findings["hazard_name"] == "和顺网咖"].iloc[0]
    assert (known["school_name"], known["village"]) == ("柳湾镇丁楼小学", "丁楼村")
    findings = gpd.GeoDataFrame(
        {
            "school_id": ["a", "b", "c"],
            "township": ["自有镇", "", ""],
            "village": ["", "", ""],
            # 柳湾镇丁楼小学's end of its measured line to 和顺网咖, and a point in no area
            "school_lon": [113.7, known["school_lon"], 120.0],
            "school_lat": [34.0, known["school_lat"], 30.0],
        },
        geometry=gpd.points_from_xy([0, 0, 0], [0, 0, 0]),
        crs=4326,
    )
    schools = pd.DataFrame({"township": ["乙镇"], "village": ["乙村"]}, index=["a"])
    out = findings_with_admin(findings, schools=schools, admin=[None, areas])
    assert out[["township", "village"]].to_numpy().tolist() == [
        ["自有镇", "乙村"],
        ["柳湾镇", "丁楼村"],
        ["", ""],
    ]
    assert findings["township"].tolist() == ["自有镇", "", ""]  # not changed


@pytest.mark.parametrize(
    ("name", "file_name"),
    [
        ("柳湾镇", "柳湾镇"),
        ("东城/西城街道", "东城_西城街道"),
        ('a:b*c?"d"', "a_b_c__d_"),
        ("CON", "_CON"),
    ],
)
def test_township_file_names_are_safe_everywhere(name, file_name):
    assert township_file_name(name) == file_name


def test_a_project_file_names_the_areas_and_a_bad_column_exits_2(tmp_path, inputs, truth):
    schools, hazards, areas = inputs
    project = tmp_path / "project.toml"
    project.write_text(
        f'[schools]\npath = "{schools}"\ncoords = "wgs84"\n\n'
        f'[[hazards]]\npath = "{hazards}"\ncoords = "wgs84"\n\n'
        f'[admin]\npath = "{areas}"\ntownship_field = "乡镇"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run("-q", "screen", "--project", project, "--out", out, "--no-evidence",
                 "--school-maps", "none")  # fmt: skip
    assert result.exit_code == 0, result.output
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert (
        findings["township"].tolist()
        == truth.loc[findings["school_name"].map(_key), "所属乡镇"].tolist()
    )
    result = run("-q", "screen", "--schools", schools, "--hazards", hazards, "--admin", areas,
                 "--admin-township-field", "XZMC", "--out", out)  # fmt: skip
    assert result.exit_code == 2
    assert "has no column `XZMC` (given as the township field" in result.output
    assert "--admin-township-field" in result.output
