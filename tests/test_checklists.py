"""Campaign checklists (五个百分之百, key water areas): registers -> cases and rates by township."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from campus_geo import demo
from campus_geo.cli import cli
from campus_geo.ledger import sync_findings
from campus_geo.ledger.cases import monthly_report, save_monthly_report
from campus_geo.ledger.checklists import (
    SCHOOL_ITEMS,
    WATER_ITEMS,
    case_ids,
    import_checklists,
    read_register,
)

SCHOOLS = demo.DEMO_DIR / "五个百分之百.xlsx"
WATER = demo.DEMO_DIR / "重点水域检查.xlsx"
JUNE20 = dt.datetime(2023, 6, 20, 9, 0)
YES = {"是", "有", "√", "已配备", "1"}
NO = {"否", "无", "×", "未配备", "0"}
UNITS = {
    "guard": ("区教体局", "区公安局"),
    "anti_collision": ("区教体局", "区公安局"),
    "gate_video": ("区公安局", ""),
    "closed": ("区教体局", "区公安局"),
    "alarm": ("区教体局", "区公安局"),
}


def register_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header (row 2) and data rows of a demo register, cells as text."""
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    text = [["" if c is None else str(c) for c in row] for row in rows]
    return text[1], text[2:]


def expected_cases() -> Counter[tuple[str, str, str, str]]:
    """(category, item, responsible unit, participating units) of each missing item, from the cells."""
    out: Counter[tuple[str, str, str, str]] = Counter()
    header, rows = register_rows(SCHOOLS)
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        for item, (label, _) in SCHOOL_ITEMS.items():
            assert cells[label] in YES | NO
            if cells[label] in NO:
                out["checklist_school", item, *UNITS[item]] += 1
    header, rows = register_rows(WATER)
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        owner = cells["责任主体"]
        for item, (label, _) in WATER_ITEMS.items():
            missing = not owner if item == "owner" else cells[label] in NO
            if missing:
                out["checklist_water", item, "区水利局", "" if item == "owner" else owner] += 1
    return out


def expected_rates(path: Path, items: list[str], *, all_five: bool) -> dict[str, list[float]]:
    """Township -> [count, share with each item (, all)], and 合计, from the register cells."""
    header, rows = register_rows(path)
    by_town: dict[str, list[list[bool]]] = {}
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        has = [bool(cells[i]) if i == "责任主体" else cells[i] in YES for i in items]
        if all_five:
            has.append(all(has))
        by_town.setdefault(cells["所在乡镇"], []).append(has)
    everything = [h for town in by_town.values() for h in town]
    by_town["合计"] = everything

    def shares(flags: list[list[bool]]) -> list[float]:
        return [len(flags), *(sum(f[j] for f in flags) / len(flags) for j in range(len(flags[0])))]

    return {town: shares(flags) for town, flags in by_town.items()}


@pytest.fixture
def checked(tmp_path):
    path = tmp_path / "ledger.sqlite"
    result = import_checklists(path, schools=SCHOOLS, water=WATER, now=JUNE20, who="tester")
    return path, result


def test_demo_registers_are_generated(tmp_path):
    written = demo.generate_demo(tmp_path)
    for key in ("school_checklist", "water_checklist"):
        committed = demo.DEMO_DIR / written[key].name
        assert written[key].read_bytes() == committed.read_bytes()
    assert "五个百分之百.xlsx" in written["readme"].read_text(encoding="utf-8")


def test_demo_registers_give_the_expected_cases(checked):
    path, result = checked
    expected = expected_cases()
    assert len(result.opened) == sum(expected.values()) > 0
    assert not result.closed
    assert not result.reopened
    assert not result.rejected
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT category, hazard_id, responsible_unit, participating_units, enforcing_unit, "
            "status, severity FROM cases"
        ).fetchall()
        history = conn.execute("SELECT field, old, new, who FROM history").fetchall()
    assert Counter(r[:4] for r in rows) == expected
    assert all(r[2] == r[4] and r[5] == "pending" and r[6] == "risk" for r in rows)
    assert history == [("status", None, "pending", "tester")] * len(rows)
    # every water area with an owner and a missing item has its owner as participating unit
    assert {r[3] for r in rows if r[0] == "checklist_water"} - {""}


def test_case_ids_are_stable():
    ids = case_ids("school", ["甲小学", "乙小学"], "guard")
    assert ids == case_ids("school", ["甲小学", "乙小学"], "guard")
    assert ids[0] != case_ids("school", ["甲小学"], "alarm")[0]
    assert ids[0] != case_ids("water", ["甲小学"], "guard")[0]
    assert all(len(i) == 16 for i in ids)


def test_rates_in_the_monthly_report_cell_by_cell(checked, tmp_path):
    path, _ = checked
    report = monthly_report(path, "2023-06", today=dt.date(2023, 7, 3))
    written = save_monthly_report(report, tmp_path / "out")
    wb = openpyxl.load_workbook(written["xlsx"])
    assert wb.sheetnames == [
        "按责任单位",
        "按牵头单位",
        "按乡镇（街道）",
        "逾期问题清单",
        "督办抄告联合整改",
        "报送情况",
        "五个百分之百",
    ]
    rows = list(wb["五个百分之百"].iter_rows(values_only=True))
    school_labels = [label for label, _ in SCHOOL_ITEMS.values()]
    water_labels = [label for label, _ in WATER_ITEMS.values()]
    for header, expected in (
        (
            ["学校数", *school_labels, "五项全部"],
            expected_rates(SCHOOLS, school_labels, all_five=True),
        ),
        (["水域数", *water_labels], expected_rates(WATER, water_labels, all_five=False)),
    ):
        at = next(i for i, r in enumerate(rows) if list(r[1 : len(header) + 1]) == header)
        assert rows[at][0] == "乡镇（街道）"
        table = rows[at + 1 : at + 1 + len(expected)]
        assert [r[0] for r in table][-1] == "合计"
        assert {r[0] for r in table} == set(expected)
        for row in table:
            want = expected[row[0]]
            assert row[1] == want[0]
            assert list(row[2 : len(header) + 1]) == pytest.approx(want[1:], abs=5e-5)
    html = written["html"].read_text(encoding="utf-8")
    assert "id='checklists'" in html
    assert "五项全部" in html


def test_a_second_import_changes_nothing(checked):
    path, first = checked
    with sqlite3.connect(path) as conn:
        before = conn.execute("SELECT * FROM cases ORDER BY finding_id").fetchall()
        n_history = conn.execute("SELECT count(*) FROM history").fetchone()[0]
    again = import_checklists(path, schools=SCHOOLS, water=WATER, now=JUNE20 + dt.timedelta(1))
    assert (again.opened, again.closed, again.reopened) == ((), (), ())
    assert again.unchanged == len(first.opened)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM cases ORDER BY finding_id").fetchall() == before
        assert conn.execute("SELECT count(*) FROM history").fetchone()[0] == n_history


def _fixed_register(tmp_path: Path) -> tuple[Path, str, str]:
    """A copy of the school register with its first missing item now present."""
    wb = openpyxl.load_workbook(SCHOOLS)
    ws = wb.active
    for row in ws.iter_rows(min_row=3):
        for cell in row[3:8]:
            if str(cell.value) in NO:
                item = list(SCHOOL_ITEMS)[cell.column - 4]
                name = str(row[1].value)
                cell.value = "已配备"
                out = tmp_path / "五个百分之百_复查.xlsx"
                wb.save(out)
                return out, name, item
    raise AssertionError("no missing item in the demo register")


def test_an_item_fixed_closes_its_case_with_history(checked, tmp_path):
    path, first = checked
    fixed, name, item = _fixed_register(tmp_path)
    (fid,) = case_ids("school", [name], item)
    later = JUNE20 + dt.timedelta(days=10)
    result = import_checklists(path, schools=fixed, now=later, who="tester")
    assert result.closed == (fid,)
    assert not result.opened
    with sqlite3.connect(path) as conn:
        status, closed_on = conn.execute(
            "SELECT status, closed_on FROM cases WHERE finding_id = ?", (fid,)
        ).fetchone()
        history = conn.execute(
            "SELECT field, old, new, why FROM history WHERE finding_id = ? ORDER BY history_id",
            (fid,),
        ).fetchall()
    assert (status, closed_on) == ("resolved", later.date().isoformat())
    assert [h[:3] for h in history] == [
        ("status", None, "pending"),
        ("status", "pending", "resolved"),
    ]
    assert "五个百分之百_复查.xlsx" in history[1][3]
    # the school rates follow the last register: one more school with the item
    before, after = first.rates["school"], result.rates["school"]
    assert after.loc["合计", item] == pytest.approx(before.loc["合计", item] + 1 / 77)


def test_missing_again_reopens(checked, tmp_path):
    path, _ = checked
    fixed, name, item = _fixed_register(tmp_path)
    (fid,) = case_ids("school", [name], item)
    import_checklists(path, schools=fixed, now=JUNE20 + dt.timedelta(days=10))
    result = import_checklists(path, schools=SCHOOLS, now=JUNE20 + dt.timedelta(days=20))
    assert result.reopened == (fid,)
    with sqlite3.connect(path) as conn:
        assert conn.execute(
            "SELECT status, flag FROM cases WHERE finding_id = ?", (fid,)
        ).fetchone() == ("pending", "reappeared")


def test_an_unknown_value_is_a_rejected_row(tmp_path):
    csv = tmp_path / "五个百分之百.csv"
    csv.write_text(
        "学校名称,所在乡镇,专职保安员,防冲撞设施,校门视频监控,封闭化管理,一键式紧急报警\n"
        "甲小学,甲镇,是,否,有,无,√\n"
        "乙小学,甲镇,是,也许,有,有,有\n"
        "丙小学,乙镇,1,0,,1,1\n",
        encoding="gbk",
    )
    table, rejected = read_register(csv, "school")
    assert list(table["name"]) == ["甲小学"]
    assert [(r.file, r.row, r.column) for r in rejected] == [
        ("五个百分之百.csv", 3, "防冲撞设施"),
        ("五个百分之百.csv", 4, "校门视频监控"),
    ]
    assert "也许" in rejected[0].reason
    result = import_checklists(tmp_path / "l.sqlite", schools=csv, now=JUNE20)
    assert len(result.opened) == 2  # 甲小学: 防冲撞设施, 封闭化管理
    assert len(result.rejected) == 2


def test_a_screening_sync_leaves_checklist_cases_alone(checked):
    path, first = checked
    empty = pd.DataFrame(
        columns=[
            "finding_id", "school_id", "school_name", "township", "village", "hazard_id",
            "hazard_name", "category", "rule_id", "severity", "lead_units", "distance_m",
            "threshold_m",
        ]
    )  # fmt: skip
    result = sync_findings(path, empty, now=JUNE20 + dt.timedelta(days=1))
    assert result.closed == ()
    assert result.open_before == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM cases WHERE status = 'pending'").fetchone()[
            0
        ] == len(first.opened)


def test_cli(tmp_path):
    ledger_path = tmp_path / "l.sqlite"
    args = ["ledger", "checklist", "--schools", SCHOOLS, "--water", WATER, "--ledger", ledger_path]
    result = CliRunner().invoke(cli, list(map(str, args)))
    assert result.exit_code == 0, result.output
    n = sum(expected_cases().values())
    assert f"Checklists: {n} cases opened, 0 closed" in result.output
    assert "五项全部" in result.output
    assert "合计\t77" in result.output
    again = CliRunner().invoke(cli, list(map(str, args)))
    assert f"0 cases opened, 0 closed as present in the register, 0 reopened, {n} unchanged" in (
        again.output
    )
