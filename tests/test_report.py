from __future__ import annotations

import openpyxl
import pytest

from campus_geo.report import problem_sentences, save_inspection_form
from campus_geo.screen import screen


@pytest.fixture
def findings(equator_layers):
    schools, hazards = equator_layers
    return schools, screen(schools, hazards)


def test_form_layout_and_cells(tmp_path, findings):
    schools, found = findings
    path = save_inspection_form(found, schools, tmp_path / "form.xlsx", reporting_unit="甲镇综治办")
    wb = openpyxl.load_workbook(path)
    ws = wb["排查表"]
    assert ws["A1"].value == "校园及周边安全问题排查表"
    assert "A1:D1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value == "填报单位：甲镇综治办"
    assert [c.value for c in ws[3]] == [
        "学校名称",
        "所在乡（镇、街道）、村（社区）",
        "存在的主要问题",
        "整治建议",
    ]
    assert ws["A4"].value == "赤道小学"
    assert ws["B4"].value == "甲镇、乙村"
    assert ws["C4"].value.splitlines() == [
        "1. 上网服务场所“网吧丙”，距离150.0米（自校园边界直线量算，规定200米）",
        "2. 上网服务场所“网吧甲”，距离200.0米（自校园边界直线量算，规定200米）",
    ]
    assert ws["D4"].value == "1. 依法关停或责令迁出校园周边200米范围"
    assert ws.max_row == 4
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$3:$3"
    assert ws["C4"].alignment.wrap_text
    detail = wb["问题明细"]
    header = [c.value for c in detail[1]]
    assert header[:3] == ["finding_id", "school_id", "school_name"]
    assert detail.max_row == 3


def test_every_school_option_writes_none(tmp_path, findings):
    schools, found = findings
    path = save_inspection_form(found.iloc[:0], schools, tmp_path / "f.xlsx", all_schools=True)
    ws = openpyxl.load_workbook(path)["排查表"]
    assert [c.value for c in ws[4]] == ["赤道小学", "甲镇、乙村", "无", "无"]


def test_form_is_byte_reproducible(tmp_path, findings):
    schools, found = findings
    a = save_inspection_form(found, schools, tmp_path / "a.xlsx").read_bytes()
    b = save_inspection_form(found, schools, tmp_path / "b.xlsx").read_bytes()
    assert a == b


def test_english_layout(tmp_path, findings):
    schools, found = findings
    ws = openpyxl.load_workbook(
        save_inspection_form(found, schools, tmp_path / "e.xlsx", lang="en")
    )["Form"]
    assert ws["A1"].value == "Inspection form: safety problems in and around schools"
    assert ws["C4"].value.startswith(
        '1. internet café "网吧丙" at 150.0 m (straight line from the campus boundary'
    )


def test_sentences_round_to_a_decimetre(findings):
    _, found = findings
    assert problem_sentences(found)[1].endswith("距离200.0米（自校园边界直线量算，规定200米）")
