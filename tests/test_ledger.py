"""The rectification ledger: sync, workflow, Excel round trip, monthly report, durability."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from campus_geo import ledger
from campus_geo._errors import InputDataError, LedgerError
from campus_geo.cli import cli
from campus_geo.ledger.db import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    STATUSES,
    TRANSITIONS,
    _migrate,
)
from campus_geo.screen import finding_ids, save_findings, screen

JUNE5 = dt.datetime(2023, 6, 5, 9, 0)


def make_findings(*specs: dict) -> pd.DataFrame:
    """Findings as screen() returns them (without geometry), ids from school|hazard|rule."""
    rows = []
    for spec in specs:
        row = {
            "school_id": "s1",
            "school_name": "赤道小学",
            "township": "甲镇",
            "village": "乙村",
            "hazard_id": "h1",
            "hazard_name": "网吧甲",
            "category": "internet_cafe",
            "rule_id": "internet_cafe_200m",
            "severity": "prohibited",
            "profile": "boundary",
            "threshold_m": 200.0,
            "distance_m": 150.0,
            "basis": "",
            "lead_units": "区委政法委、区教体局",
            "responsible_units": "区公安局",
            "suggestion": "",
            "notes": "",
        }
        row.update(spec)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.index = pd.Index(
        finding_ids(frame["school_id"], frame["hazard_id"], frame["rule_id"]), name="finding_id"
    )
    return frame


F1 = {"hazard_id": "h1"}
F2 = {
    "hazard_id": "w1",
    "hazard_name": "王家塘",
    "category": "water",
    "rule_id": "water_500m",
    "severity": "risk",
    "distance_m": 320.5,
    "threshold_m": 500.0,
    "lead_units": "区教体局",
}
F3 = {
    "school_id": "s2",
    "school_name": "丙镇小学",
    "township": "丙镇",
    "village": "丁村",
    "hazard_id": "t1",
    "hazard_name": "学校站",
    "category": "traffic",
    "rule_id": "traffic_100m",
    "severity": "notice",
    "distance_m": 35.0,
    "threshold_m": 100.0,
    "lead_units": "区公安局",
}
F4 = {"school_id": "s2", "school_name": "丙镇小学", "township": "丙镇", "hazard_id": "h2"}


def fid(spec: dict) -> str:
    return str(make_findings(spec).index[0])


def dump(path: Path) -> list[str]:
    """Every row of every table (what "the ledger exactly as before" means)."""
    with sqlite3.connect(path) as conn:
        lines = list(conn.iterdump())
    conn.close()
    return lines


@pytest.fixture
def path(tmp_path):
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def three(path):
    """A ledger with F1 (prohibited), F2 (risk) and F3 (notice) opened on 2023-06-05."""
    ledger.sync_findings(path, make_findings(F1, F2, F3), who="专项办", now=JUNE5)
    return path


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour))


# --- the file: WAL, schema, refusals ------------------------------------------------------


def test_new_ledger_is_wal_with_versioned_append_only_schema(three):
    with sqlite3.connect(three) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        assert {"meta", "runs", "cases", "history"} <= tables
        assert "overdue" not in [r[1] for r in conn.execute("PRAGMA table_info(cases)")]
        with pytest.raises(sqlite3.IntegrityError, match=r"append-only"):
            conn.execute("UPDATE history SET who = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match=r"append-only"):
            conn.execute("DELETE FROM history")
        with pytest.raises(sqlite3.IntegrityError, match=r"never deleted"):
            conn.execute("DELETE FROM cases")
        with pytest.raises(sqlite3.IntegrityError, match=r"CHECK"):
            conn.execute("UPDATE cases SET status = 'overdue'")
    conn.close()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    bad = tmp_path / "ledger.sqlite"
    bad.write_bytes(b"PK\x03\x04 this is a zip, not a ledger" * 10)
    with pytest.raises(
        LedgerError, match=r"not a campus_geo ledger \(it is not an SQLite database"
    ):
        ledger.read_cases(bad)
    with pytest.raises(LedgerError, match=r"not a campus_geo ledger"):
        ledger.sync_findings(bad, make_findings(F1), now=JUNE5)
    assert bad.read_bytes().startswith(b"PK\x03\x04")


def test_a_damaged_ledger_is_refused_and_left_alone(three):
    data = bytearray(three.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[page : 3 * page] = b"\xa5" * (2 * page)  # two pages of the B-trees overwritten
    three.write_bytes(bytes(data))
    with pytest.raises(LedgerError, match=r"is damaged .*nothing was changed. Restore it"):
        ledger.sync_findings(three, make_findings(F1, F2, F3, F4), now=JUNE5)
    assert three.read_bytes() == bytes(data)


def test_another_programs_database_is_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.close()
    with pytest.raises(LedgerError, match=r"an SQLite database with tables customers"):
        ledger.sync_findings(other, make_findings(F1), now=JUNE5)


def test_a_newer_schema_is_refused_with_the_fix(three):
    with sqlite3.connect(three) as conn:
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = dump(three)
    with pytest.raises(LedgerError) as err:
        ledger.set_case(three, fid(F1), status="confirmed")
    assert "has schema version 7, written by a newer campus_geo" in str(err.value)
    assert "reads versions up to 1" in str(err.value)
    assert "pip install -U campus_geo" in str(err.value)
    assert dump(three) == before


def test_missing_ledger_names_the_command_that_creates_it(path):
    with pytest.raises(LedgerError, match=r"there is no ledger at .*campus-geo ledger sync"):
        ledger.read_cases(path)
    assert not path.exists()


def test_migration_steps_run_in_order_after_a_backup(three):
    steps = {
        **MIGRATIONS,
        2: "ALTER TABLE cases ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;",
        3: "CREATE INDEX cases_priority ON cases (priority);\n"
        "UPDATE cases SET priority = 1 WHERE severity = 'prohibited';",
    }
    conn = sqlite3.connect(three, isolation_level=None)
    _migrate(conn, three, target=3, steps=steps)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    rows = conn.execute("SELECT severity, priority FROM cases ORDER BY severity").fetchall()
    assert rows == [("notice", 0), ("prohibited", 1), ("risk", 0)]
    conn.close()
    backup = three.with_name("ledger.sqlite.v1.bak")
    with sqlite3.connect(backup) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 1
        assert old.execute("SELECT count(*) FROM cases").fetchone()[0] == 3
    old.close()


def test_a_busy_ledger_gives_up_with_a_message(three, monkeypatch):
    monkeypatch.setattr("campus_geo.ledger.db.BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(three, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LedgerError, match=r"is busy: another process"):
            ledger.set_case(three, fid(F1), notes="x")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert ledger.set_case(three, fid(F1), notes="x")["notes"] == "x"


# --- sync with screenings ----------------------------------------------------------------


def test_sync_opens_cases_with_the_lead_unit_and_default_deadlines(three):
    cases = ledger.read_cases(three, today=dt.date(2023, 6, 6))
    assert cases.loc[fid(F1), ["status", "lead_unit", "responsible_unit", "deadline"]].tolist() == [
        "pending",
        "区委政法委",
        "区委政法委",
        "2023-07-05",  # prohibited: 30 days
    ]
    assert cases.loc[fid(F2), "deadline"] == "2023-08-04"  # risk: 60 days
    assert cases.loc[fid(F3), ["responsible_unit", "deadline"]].tolist() == [
        "区公安局",
        "2023-08-04",
    ]
    assert cases.loc[fid(F2), "distance_m"] == 320.5
    history = ledger.read_history(three)
    assert len(history) == 3
    assert history.iloc[0][["field", "old", "new", "who", "source"]].tolist() == [
        "status",
        None,
        "pending",
        "专项办",
        "sync run 1",
    ]
    assert history.iloc[0]["at"] == "2023-06-05T09:00:00"


def test_deadline_days_are_configurable(path):
    ledger.sync_findings(
        path, make_findings(F1, F2), deadline_days={"prohibited": 15, "risk": 45}, now=JUNE5
    )
    cases = ledger.read_cases(path)
    assert cases.loc[[fid(F1), fid(F2)], "deadline"].tolist() == ["2023-06-20", "2023-07-20"]
    with pytest.raises(LedgerError, match=r"deadline_days\['risk'\] must be a positive number"):
        ledger.sync_findings(path, make_findings(F1), deadline_days={"risk": 0})


def test_syncing_the_same_findings_twice_changes_nothing(three):
    tables = [line for line in dump(three) if 'INTO "runs"' not in line]
    second = ledger.sync_findings(three, make_findings(F1, F2, F3), now=at("2023-06-06"))
    assert (second.opened, second.closed, second.reopened, second.updated) == ((), (), (), ())
    assert second.unchanged == 3
    assert [line for line in dump(three) if 'INTO "runs"' not in line] == tables
    runs = ledger.read_runs(three)
    assert runs[["n_findings", "opened", "closed", "reopened", "updated"]].values.tolist() == [
        [3, 3, 0, 0, 0],
        [3, 0, 0, 0, 0],
    ]


def test_an_absent_finding_closes_its_case_with_the_run_and_input_hashes(three, tmp_path):
    osm = tmp_path / "district.osm"
    osm.write_bytes(b"<osm version='0.6'/>\n")
    ledger.set_case(three, fid(F3), status="dismissed", reason="非隐患", now=at("2023-06-07"))
    result = ledger.sync_findings(three, make_findings(F1), inputs=[osm], now=at("2023-07-10"))
    assert result.closed == (fid(F2),)  # F3 was dismissed: already closed, left alone
    case = ledger.read_cases(three).loc[fid(F2)]
    assert (case["status"], case["closed_on"]) == ("resolved", "2023-07-10")
    digest = hashlib.sha256(b"<osm version='0.6'/>\n").hexdigest()
    assert result.inputs == {str(osm): digest}
    runs = ledger.read_runs(three)
    assert json.loads(runs.loc[result.run_id, "inputs"]) == {str(osm): digest}
    why = ledger.read_history(three, fid(F2)).iloc[-1]["why"]
    assert why.startswith("第2次筛查未再发现 (finding absent from screening run 2; findings ")
    assert f"district.osm {digest[:12]}" in why
    assert ledger.read_cases(three).loc[fid(F3), "status"] == "dismissed"


def test_a_rectified_case_still_found_is_reopened_and_flagged(three):
    ledger.set_case(three, fid(F1), status="confirmed", now=at("2023-06-10"))
    ledger.set_case(
        three,
        fid(F1),
        status="rectified",
        rectification="已停业",
        rectified_on="2023-06-20",
        now=at("2023-06-21"),
    )
    result = ledger.sync_findings(three, make_findings(F1, F2, F3), now=at("2023-07-10"))
    assert result.reopened == (fid(F1),)
    case = ledger.read_cases(three).loc[fid(F1)]
    assert (case["status"], case["flag"], case["closed_on"]) == ("in_progress", "reopened", None)
    last = ledger.read_history(three, fid(F1)).iloc[-3:]
    assert last[["field", "old", "new"]].values.tolist() == [
        ["status", "rectified", "in_progress"],
        ["flag", "", "reopened"],
        ["rectified_on", "2023-06-20", None],  # rectifying it again needs a new date
    ]
    assert "2023-06-20已整改，第2次筛查仍发现该隐患" in last.iloc[0]["why"]
    again = ledger.sync_findings(three, make_findings(F1, F2, F3), now=at("2023-07-11"))
    assert again.reopened == ()
    # a person's next status change clears the flag
    ledger.set_case(
        three,
        fid(F1),
        status="rectified",
        rectification="已搬离",
        rectified_on="2023-07-12",
        now=at("2023-07-12"),
    )
    assert ledger.read_cases(three).loc[fid(F1), "flag"] == ""


def test_a_case_resolved_in_data_found_again_is_pending_with_a_new_deadline(three):
    ledger.sync_findings(three, make_findings(F2, F3), now=at("2023-06-20"))
    assert ledger.read_cases(three).loc[fid(F1), "status"] == "resolved"
    result = ledger.sync_findings(three, make_findings(F1, F2, F3), now=at("2023-07-10"))
    assert result.reopened == (fid(F1),)
    case = ledger.read_cases(three).loc[fid(F1)]
    assert case[["status", "flag", "deadline"]].tolist() == ["pending", "reappeared", "2023-08-09"]


def test_a_sync_that_closes_most_open_cases_warns(path, caplog):
    ledger.sync_findings(path, many_findings(30), now=JUNE5)
    other_rules = many_findings(30).assign(rule_id="internet_cafe_200m_boundary")
    other_rules.index = pd.Index(
        finding_ids(other_rules["school_id"], other_rules["hazard_id"], other_rules["rule_id"]),
        name="finding_id",
    )
    with caplog.at_level("WARNING", logger="campus_geo.ledger"):
        result = ledger.sync_findings(path, other_rules, now=at("2023-06-06"))
    assert (len(result.opened), len(result.closed)) == (30, 30)
    assert "closes 30 of the 30 open cases as resolved in data" in caplog.text
    assert "sync with --partial or into another ledger" in caplog.text


def test_a_partial_screening_closes_nothing(three):
    result = ledger.sync_findings(three, make_findings(F1, F4), partial=True, now=at("2023-06-20"))
    assert (result.opened, result.closed) == ((fid(F4),), ())
    assert set(ledger.read_cases(three)["status"]) == {"pending"}


def test_changed_finding_data_is_recorded_without_a_new_version(three):
    ledger.set_case(three, fid(F2), responsible_unit="枣林镇政府", now=at("2023-06-10"))
    moved = make_findings(
        F1 | {"distance_m": 149.25, "hazard_name": "网吧甲（新址）"},
        F2 | {"lead_units": "区水利局、区教体局"},  # the rule table changed
        F3,
    )
    result = ledger.sync_findings(three, moved, now=at("2023-06-20"))
    assert result.updated == (fid(F1), fid(F2))
    cases = ledger.read_cases(three)
    assert (cases.loc[fid(F1), "distance_m"], cases.loc[fid(F1), "version"]) == (149.25, 1)
    changes = ledger.read_history(three, fid(F1)).iloc[1:]
    assert sorted(changes[["field", "old", "new", "source"]].values.tolist()) == [
        ["distance_m", "150.0", "149.25", "sync run 2"],
        ["hazard_name", "网吧甲", "网吧甲（新址）", "sync run 2"],
    ]
    # the lead unit follows the rules; the responsible unit a person chose stays
    assert cases.loc[fid(F2), ["lead_unit", "responsible_unit", "version"]].tolist() == [
        "区水利局",
        "枣林镇政府",
        2,
    ]


def test_findings_files_csv_and_gpkg_make_the_same_ledger(tmp_path, equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards)
    files = save_findings(findings, tmp_path / "out")
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    ra = ledger.sync_findings(a, files["csv"], now=JUNE5)
    ledger.sync_findings(b, files["gpkg"], now=JUNE5)
    cases_a, cases_b = ledger.read_cases(a), ledger.read_cases(b)
    pd.testing.assert_frame_equal(cases_a, cases_b)
    assert sorted(cases_a["distance_m"]) == [150.0, 199.99]
    assert ra.inputs == {str(files["csv"]): hashlib.sha256(files["csv"].read_bytes()).hexdigest()}


def test_findings_without_the_needed_columns_are_refused_by_name(path, tmp_path):
    bad = make_findings(F1).drop(columns=["lead_units", "severity"])
    with pytest.raises(InputDataError, match=r"lacks the column.s. severity, lead_units"):
        ledger.sync_findings(path, bad)
    table = make_findings(F1, F2).reset_index().astype({"distance_m": object})
    table.loc[1, "finding_id"] = table.loc[0, "finding_id"]
    table.loc[0, "distance_m"] = "far"
    csv = tmp_path / "findings.csv"
    table.to_csv(csv, index=False, encoding="utf-8-sig")
    with pytest.raises(InputDataError) as err:
        ledger.sync_findings(path, csv)
    assert err.value.problems == [
        f"{csv}: duplicate finding_id in rows 2 ({fid(F1)}), 3 ({fid(F1)})",
        f"{csv} row 2, column distance_m: not a number of metres",
    ]
    assert not path.exists()


# --- the workflow ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path_to", "target", "message"),
    [
        (
            [],
            "rectified",
            "cannot go from 待核查 pending to 已整改 rectified: "
            "from 待核查 the next status is 已确认 or 误报",
        ),
        ([], "in_progress", "from 待核查 the next status is 已确认 or 误报"),
        (["confirmed"], "pending", "from 已确认 the next status is 整改中 or 已整改 or 误报"),
        (["confirmed", "in_progress"], "dismissed", "from 整改中 the next status is 已整改"),
        (["dismissed"], "confirmed", "from 误报 the next status is 待核查"),
    ],
)
def test_illegal_transitions_are_refused_with_the_allowed_ones(three, path_to, target, message):
    for status in path_to:
        ledger.set_case(three, fid(F1), status=status, reason="核查", now=at("2023-06-10"))
    before = dump(three)
    with pytest.raises(LedgerError) as err:
        ledger.set_case(
            three,
            fid(F1),
            status=target,
            reason="x",
            rectification="y",
            rectified_on="2023-06-11",
            now=at("2023-06-12"),
        )
    assert message in str(err.value)
    assert str(err.value).endswith("nothing was changed")
    assert dump(three) == before


def test_transition_table_is_the_documented_workflow():
    assert set(TRANSITIONS) == set(STATUSES)
    assert TRANSITIONS["pending"] == ("confirmed", "dismissed")
    assert "resolved" not in {s for nexts in TRANSITIONS.values() for s in nexts}


def test_required_reasons_and_rectification_details(three):
    with pytest.raises(LedgerError, match=r"a dismissal \(误报\) needs a reason"):
        ledger.set_case(three, fid(F1), status="误报", now=at("2023-06-10"))
    ledger.set_case(three, fid(F1), status="已确认", now=at("2023-06-10"))
    with pytest.raises(LedgerError, match=r"needs how it was rectified .* and the date"):
        ledger.set_case(three, fid(F1), status="已整改", rectification="关停", now=at("2023-06-11"))
    with pytest.raises(LedgerError, match=r"rectification date 2023-06-30 is later than today"):
        ledger.set_case(
            three,
            fid(F1),
            status="rectified",
            rectification="关停",
            rectified_on="2023/6/30",
            now=at("2023-06-11"),
        )
    with pytest.raises(LedgerError, match=r"'2023-13-01' is not a date"):
        ledger.set_case(three, fid(F1), deadline="2023-13-01")
    with pytest.raises(LedgerError, match=r"deadline 2023-06-01 is before the case was opened"):
        ledger.set_case(three, fid(F1), deadline="2023-06-01")
    with pytest.raises(LedgerError, match=r"逾期 .overdue. is not a status"):
        ledger.set_case(three, fid(F1), status="逾期")
    case = ledger.set_case(
        three,
        fid(F1),
        status="rectified",
        rectification="关停",
        rectified_on="2023年6月11日",
        who="区文广旅局",
        now=at("2023-06-11", 15),
    )
    assert (case["status"], case["rectified_on"], case["closed_on"]) == (
        "rectified",
        "2023-06-11",
        "2023-06-11",
    )
    with pytest.raises(LedgerError, match=r"reopening a closed case needs a reason"):
        ledger.set_case(three, fid(F1), status="整改中", now=at("2023-06-12"))
    reopened = ledger.set_case(
        three, fid(F1), status="整改中", reason="督查发现仍在营业", now=at("2023-06-12")
    )
    assert (reopened["status"], reopened["closed_on"], reopened["version"]) == (
        "in_progress",
        None,
        4,
    )
    last = ledger.read_history(three, fid(F1)).iloc[-3:]
    assert last[["field", "old", "new", "why", "source"]].values.tolist() == [
        ["status", "rectified", "in_progress", "督查发现仍在营业", "set"],
        ["reason", "", "督查发现仍在营业", "督查发现仍在营业", "set"],
        ["rectified_on", "2023-06-11", None, "督查发现仍在营业", "set"],
    ]
    with pytest.raises(LedgerError, match=r"needs how it was rectified .* and the date"):
        ledger.set_case(three, fid(F1), status="rectified", now=at("2023-06-13"))


def test_overdue_is_derived_from_the_deadline_and_today(three):
    assert not ledger.read_cases(three, today=dt.date(2023, 7, 5))["overdue"].any()
    cases = ledger.read_cases(three, today=dt.date(2023, 7, 8))
    assert cases.loc[fid(F1), ["overdue", "days_overdue"]].tolist() == [True, 3]
    assert cases["overdue"].sum() == 1
    status = ledger.status_by_finding(three, today=dt.date(2023, 7, 8))
    assert status.to_dict() == {fid(F1): "overdue", fid(F2): "pending", fid(F3): "pending"}
    assert status.name == "status"
    assert status.index.name == "finding_id"
    plain = ledger.status_by_finding(three, today=dt.date(2023, 7, 8), overdue=False)
    assert plain[fid(F1)] == "pending"
    assert list(ledger.read_cases(three, today=dt.date(2023, 7, 8), overdue_only=True).index) == [
        fid(F1)
    ]


def test_cases_are_named_by_id_or_a_unique_prefix(three):
    case = ledger.set_case(three, fid(F1)[:7].upper(), responsible_person="王建国")
    assert (case["finding_id"], case["responsible_person"]) == (fid(F1), "王建国")
    with pytest.raises(LedgerError, match=r"there is no case 'ffffffffff' in the ledger"):
        ledger.set_case(three, "ffffffffff", notes="x")
    with pytest.raises(LedgerError, match=r"no case 'abc'"):
        ledger.set_case(three, "abc", notes="x")  # too short to be a prefix


# --- the Excel round trip ----------------------------------------------------------------

HEADERS = [
    "序号",
    "问题编号",
    "乡镇（街道）",
    "村（社区）",
    "学校名称",
    "场所名称",
    "问题类别",
    "量算距离（米）",
    "规定距离（米）",
    "牵头单位",
    "责任单位",
    "责任人",
    "整改时限",
    "状态",
    "是否逾期",
    "误报/重开原因",
    "整改措施",
    "整改完成日期",
    "备注",
    "标记",
    "立案日期",
    "版本",
    "校验",
]


def sheet_rows(path: Path) -> dict[str, int]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    return {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1)}


def edit(path: Path, out: Path, edits: dict[str, dict[str, object]]) -> Path:
    """Change cells by case id and header, as a person would in Excel."""
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    col = {c.value: c.column for c in ws[3]}
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1)}
    for case, cells in edits.items():
        for header, value in cells.items():
            ws.cell(rows[case], col[header]).value = value
    wb.save(out)
    return out


def test_export_layout_drop_down_history_and_hidden_columns(three, tmp_path):
    ledger.set_case(
        three,
        fid(F3),
        status="误报",
        reason="校门已改至另一侧",
        who="区公安局",
        now=at("2023-06-10"),
    )
    path = ledger.export_ledger(three, tmp_path / "台帐.xlsx", today=dt.date(2023, 7, 8))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["整改台帐", "变更记录", "_campus_geo"]
    assert wb["_campus_geo"].sheet_state == "hidden"
    ws = wb["整改台帐"]
    assert ws["A1"].value == "校园及周边安全问题整改工作台帐"
    assert "导出日期：2023-07-08" in ws["A2"].value
    assert [c.value for c in ws[3]] == HEADERS
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1)}
    assert ws.max_row == 6
    r1 = rows[fid(F1)]
    assert [ws.cell(r1, c).value for c in (3, 5, 6, 7, 8, 9, 10, 11)] == [
        "甲镇",
        "赤道小学",
        "网吧甲",
        "上网服务场所",
        150.0,
        200,
        "区委政法委",
        "区委政法委",
    ]
    assert ws.cell(r1, 13).value == dt.datetime(2023, 7, 5)
    assert ws.cell(r1, 13).number_format == "yyyy-mm-dd"
    assert (ws.cell(r1, 14).value, ws.cell(r1, 15).value) == ("待核查", "是")
    assert ws.cell(rows[fid(F3)], 14).value == "误报"
    assert ws.cell(rows[fid(F3)], 16).value == "校门已改至另一侧"
    assert ws.column_dimensions["V"].hidden
    assert ws.column_dimensions["W"].hidden
    assert ws.cell(r1, 22).value == 1
    status_dv = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(status_dv) == 1
    assert status_dv[0].formula1 == '"待核查,已确认,误报,整改中,已整改,复查已消除"'
    assert str(status_dv[0].sqref) == "N4:N6"
    formats = {str(c.sqref): [r.formula for r in c.rules] for c in ws.conditional_formatting}
    assert formats["O4:O6"] == [['O4<>""']]  # 是否逾期 in red
    (grey,) = [ranges.split() for ranges, rules in formats.items() if rules == [["TRUE"]]]
    assert "A4:A6" in grey
    assert "W4:W6" in grey
    assert "J4:J6" in grey
    assert not {"K4:K6", "L4:L6", "M4:M6", "N4:N6", "P4:P6", "S4:S6"} & set(grey)  # white: to fill
    history = wb["变更记录"]
    assert [c.value for c in history[1]][:7] == [
        "时间",
        "问题编号",
        "学校名称",
        "场所名称",
        "变更项",
        "原值",
        "新值",
    ]
    assert history.max_row == 1 + 5
    assert [c.value for c in history[5]][4:9] == [
        "状态",
        "待核查",
        "误报",
        "区公安局",
        "校门已改至另一侧",
    ]
    meta = {r[0]: r[1] for r in wb["_campus_geo"].iter_rows(values_only=True)}
    assert meta["revision"] == 5
    assert meta["format"] == "campus_geo ledger export"


def test_export_is_byte_reproducible(three, tmp_path):
    a = ledger.export_ledger(three, tmp_path / "a.xlsx", today=dt.date(2023, 6, 12))
    b = ledger.export_ledger(three, tmp_path / "b.xlsx", today=dt.date(2023, 6, 12))
    c = ledger.export_ledger(three, tmp_path / "c.xlsx", today=dt.date(2023, 7, 12))
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_export_by_township_imports_back_on_its_own(three, tmp_path):
    path = ledger.export_ledger(
        three, tmp_path / "丙镇.xlsx", townships=["丙镇"], today=dt.date(2023, 6, 12)
    )
    wb = openpyxl.load_workbook(path)
    assert [wb.worksheets[0].cell(r, 2).value for r in range(4, wb.worksheets[0].max_row + 1)] == [
        fid(F3)
    ]
    assert {c.value for c in wb["变更记录"]["B"][1:]} == {fid(F3)}
    edit(path, path, {fid(F3): {"状态": "已确认"}})
    assert ledger.import_ledger(three, path).applied == (fid(F3),)
    with pytest.raises(LedgerError, match=r"no case in township.s. 乙镇; the ledger's townships"):
        ledger.export_ledger(three, tmp_path / "x.xlsx", townships=["乙镇"])


def test_english_export(three, tmp_path):
    path = ledger.export_ledger(
        three, tmp_path / "ledger.xlsx", lang="en", today=dt.date(2023, 7, 8)
    )
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in ws[3]][:4] == ["No.", "Case id", "Township", "Village"]
    # rows by township: 丙镇 (F3) before 甲镇 (F1, F2)
    assert [ws.cell(r, 2).value for r in (4, 5, 6)] == [fid(F3), fid(F1), fid(F2)]
    assert [ws.cell(5, c).value for c in (7, 14, 15)] == ["internet café", "pending", "yes"]


def test_import_applies_the_edited_rows_with_history(three, tmp_path):
    exported = ledger.export_ledger(three, tmp_path / "台帐.xlsx", today=dt.date(2023, 6, 12))
    filled = edit(
        exported,
        tmp_path / "filled.xlsx",
        {
            fid(F1): {"状态": "已确认", "责任人": "王建国", "整改时限": dt.datetime(2023, 6, 30)},
            fid(F3): {"状态": "误报", "误报/重开原因": "公交站在校门对面，已设护学岗"},
        },
    )
    result = ledger.import_ledger(three, filled, who="甲镇综治办", now=at("2023-06-16"))
    assert sorted(result.applied) == sorted([fid(F1), fid(F3)])
    assert (result.unchanged, result.conflicts) == (1, ())
    cases = ledger.read_cases(three)
    assert cases.loc[fid(F1), ["status", "responsible_person", "deadline", "version"]].tolist() == [
        "confirmed",
        "王建国",
        "2023-06-30",
        2,
    ]
    assert cases.loc[fid(F3), ["status", "reason", "closed_on"]].tolist() == [
        "dismissed",
        "公交站在校门对面，已设护学岗",
        "2023-06-16",
    ]
    history = ledger.read_history(three, fid(F3)).iloc[1:]
    assert history[["field", "old", "new", "who", "why", "source"]].values.tolist() == [
        [
            "status",
            "pending",
            "dismissed",
            "甲镇综治办",
            "公交站在校门对面，已设护学岗",
            "import filled.xlsx (revision 3)",
        ],
        [
            "reason",
            "",
            "公交站在校门对面，已设护学岗",
            "甲镇综治办",
            "公交站在校门对面，已设护学岗",
            "import filled.xlsx (revision 3)",
        ],
    ]
    # importing the same file again changes nothing
    before = dump(three)
    again = ledger.import_ledger(three, filled, now=at("2023-06-17"))
    assert (again.applied, again.conflicts, again.unchanged) == ((), (), 3)
    assert dump(three) == before


def test_import_reports_every_problem_by_row_and_applies_nothing(three, tmp_path):
    exported = ledger.export_ledger(three, tmp_path / "台帐.xlsx", today=dt.date(2023, 6, 12))
    rows = sheet_rows(exported)
    filled = edit(
        exported,
        tmp_path / "filled.xlsx",
        {
            fid(F1): {"状态": "已整改", "责任人": "王建国"},  # pending -> rectified: illegal
            fid(F2): {"整改时限": "下个月", "责任人": "李秀英"},  # bad date
            fid(F3): {"状态": "误报"},  # no reason
        },
    )
    wb = openpyxl.load_workbook(filled)
    ws = wb.worksheets[0]
    ws.cell(7, 2).value = "0123456789abcdef"  # a row added by hand
    ws.cell(7, 14).value = "已确认"
    wb.save(filled)
    before = dump(three)
    with pytest.raises(InputDataError) as err:
        ledger.import_ledger(three, filled, now=at("2023-06-16"))
    expected = {
        rows[fid(F1)]: f"filled.xlsx row {rows[fid(F1)]}, case {fid(F1)}: cannot go from 待核查 "
        "pending to 已整改 rectified: from 待核查 the next status is 已确认 or 误报",
        rows[fid(F2)]: f"filled.xlsx row {rows[fid(F2)]}, column 整改时限: '下个月' is not a date; "
        "write it as 2023-07-01",
        rows[fid(F3)]: f"filled.xlsx row {rows[fid(F3)]}, case {fid(F3)}: a dismissal (误报) needs "
        "a reason (误报/重开原因)",
        7: "filled.xlsx row 7, column 问题编号: unknown case '0123456789abcdef'; rows cannot be "
        "added in the file (new cases come from screenings)",
    }
    assert err.value.problems == [expected[row] for row in sorted(expected)]
    assert str(err.value).startswith(f"4 problem(s) in {filled}; nothing was imported.")
    assert dump(three) == before


def test_a_row_edited_in_both_places_is_a_conflict_not_overwritten(three, tmp_path):
    exported = ledger.export_ledger(three, tmp_path / "台帐.xlsx", today=dt.date(2023, 6, 12))
    ledger.set_case(
        three,
        fid(F3),
        status="confirmed",
        responsible_person="交警 孙立平",
        who="区公安局交警大队",
        now=at("2023-06-13", 15),
    )
    ledger.set_case(
        three, fid(F2), responsible_person="李秀英", who="区教体局", now=at("2023-06-13", 16)
    )
    filled = edit(
        exported,
        tmp_path / "filled.xlsx",
        {
            fid(F1): {"状态": "已确认"},
            fid(F2): {"责任人": "李秀英"},  # the same edit in both places: no conflict
            fid(F3): {"状态": "已确认", "责任人": "丙镇 周丽"},
        },
    )
    result = ledger.import_ledger(three, filled, now=at("2023-06-16"))
    assert result.applied == (fid(F1),)
    assert result.unchanged == 1
    (conflict,) = result.conflicts
    assert (conflict.finding_id, conflict.fields) == (fid(F3), ("responsible_person",))
    assert conflict.file_values == {"responsible_person": "丙镇 周丽"}
    assert conflict.ledger_values == {"responsible_person": "交警 孙立平"}
    assert (conflict.changed_by, conflict.changed_at) == ("区公安局交警大队", "2023-06-13T15:00:00")
    assert "not applied: settle it with `campus-geo ledger set`" in conflict.describe()
    assert ledger.read_cases(three).loc[fid(F3), "responsible_person"] == "交警 孙立平"
    # on_conflict="abort": nothing at all
    ledger.set_case(three, fid(F1), notes="跟进", now=at("2023-06-17"))
    before = dump(three)
    refiled = edit(filled, tmp_path / "refiled.xlsx", {fid(F2): {"备注": "已设警示牌"}})
    with pytest.raises(InputDataError, match=r"conflict: row .* case " + fid(F3)):
        ledger.import_ledger(three, refiled, on_conflict="abort", now=at("2023-06-18"))
    assert dump(three) == before


def test_files_that_are_not_an_export_of_this_ledger_are_refused(three, tmp_path, path):
    exported = ledger.export_ledger(three, tmp_path / "台帐.xlsx", today=dt.date(2023, 6, 12))
    other = tmp_path / "other.sqlite"
    ledger.sync_findings(other, make_findings(F1), now=JUNE5)
    with pytest.raises(InputDataError, match=r"was exported from another ledger"):
        ledger.import_ledger(other, exported)
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    with pytest.raises(InputDataError, match=r"is not a ledger export of campus_geo"):
        ledger.import_ledger(three, plain)
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"cannot read .*notes.xlsx as an xlsx workbook"):
        ledger.import_ledger(three, text)
    wb = openpyxl.load_workbook(exported)
    wb.worksheets[0].delete_cols(12)  # 责任人 removed
    wb.save(tmp_path / "cut.xlsx")
    with pytest.raises(InputDataError, match=r"column\(s\) 责任人 \(Responsible person\) missing"):
        ledger.import_ledger(three, tmp_path / "cut.xlsx")


def test_an_english_export_imports_back(three, tmp_path):
    exported = ledger.export_ledger(
        three, tmp_path / "l.xlsx", lang="en", today=dt.date(2023, 6, 12)
    )
    wb = openpyxl.load_workbook(exported)
    ws = wb.worksheets[0]
    ws.cell(4, 14).value = "confirmed"
    wb.save(exported)
    result = ledger.import_ledger(three, exported, now=at("2023-06-13"))
    assert len(result.applied) == 1
    assert ledger.read_cases(three).loc[ws.cell(4, 2).value, "status"] == "confirmed"


# --- the monthly report ------------------------------------------------------------------


@pytest.fixture
def two_months(three):
    """June and July: a dismissal, a confirmation, a reopening, a new case, a rectification."""
    ledger.set_case(three, fid(F3), status="dismissed", reason="非隐患", now=at("2023-06-10"))
    ledger.set_case(
        three, fid(F1), status="confirmed", responsible_person="王建国", now=at("2023-06-20")
    )
    ledger.set_case(three, fid(F1), status="in_progress", now=at("2023-07-03"))
    ledger.set_case(three, fid(F2), status="confirmed", now=at("2023-07-03"))
    ledger.set_case(
        three, fid(F3), status="pending", reason="校门改建后重新核查", now=at("2023-07-05")
    )
    ledger.sync_findings(three, make_findings(F1, F2, F3, F4), now=at("2023-07-08"))
    ledger.set_case(
        three, fid(F2), deadline="2023-07-15", responsible_person="李秀英", now=at("2023-07-20")
    )
    ledger.set_case(
        three,
        fid(F1),
        status="rectified",
        rectification="已停业",
        rectified_on="2023-07-24",
        now=at("2023-07-25"),
    )
    return three


def test_june_report_is_rebuilt_from_the_history(two_months):
    report = ledger.monthly_report(two_months, "2023-06", today=dt.date(2023, 8, 2))
    assert (report.month, report.as_of, report.complete) == ("2023-06", dt.date(2023, 6, 30), True)
    assert report.totals == {
        "cases": 3,
        "opened": 3,
        "reopened": 0,
        "closed": 1,
        "rectified": 0,
        "dismissed": 1,
        "resolved": 0,
        "open": 2,
        "overdue": 0,
    }
    assert report.by_lead_unit.loc["区公安局", ["cases", "dismissed", "open"]].tolist() == [1, 1, 0]
    assert report.overdue.empty


def test_july_report_counts_and_overdue_list(two_months):
    report = ledger.monthly_report(two_months, "2023-07", today=dt.date(2023, 8, 2))
    assert report.totals == {
        "cases": 4,
        "opened": 1,
        "reopened": 1,
        "closed": 1,
        "rectified": 1,
        "dismissed": 0,
        "resolved": 0,
        "open": 3,
        "overdue": 1,
    }
    assert report.by_lead_unit.index.tolist() == ["区公安局", "区委政法委", "区教体局", "合计"]
    assert report.by_lead_unit.loc[
        "区委政法委", ["cases", "opened", "closed", "open"]
    ].tolist() == [
        2,
        1,
        1,
        1,
    ]
    assert report.by_township.loc["丙镇", ["cases", "opened", "reopened", "open"]].tolist() == [
        2,
        1,
        1,
        2,
    ]
    assert report.overdue[
        ["finding_id", "school_name", "responsible_person", "deadline", "days_overdue", "status"]
    ].values.tolist() == [[fid(F2), "赤道小学", "李秀英", "2023-07-15", 17, "已确认"]]


def test_a_month_not_over_is_reported_as_of_today(two_months):
    report = ledger.monthly_report(two_months, "2023-07", today=dt.date(2023, 7, 10))
    assert (report.as_of, report.complete) == (dt.date(2023, 7, 10), False)
    # F1's deadline 07-05 has passed and it was still in progress on the 10th
    assert report.overdue[
        ["finding_id", "days_overdue", "status", "responsible_person"]
    ].values.tolist() == [[fid(F1), 6, "整改中", "王建国"]]
    assert report.totals["open"] == 4  # F1 in progress, F2 confirmed, F3 reopened, F4 new
    with pytest.raises(LedgerError, match=r"the month 2023-09 has not begun"):
        ledger.monthly_report(two_months, "2023-09", today=dt.date(2023, 8, 2))
    with pytest.raises(LedgerError, match=r"write it as YYYY-MM"):
        ledger.monthly_report(two_months, "July")


def test_english_monthly_report(two_months, tmp_path):
    report = ledger.monthly_report(two_months, "2023-07", today=dt.date(2023, 8, 2), lang="en")
    assert report.by_township.index[-1] == "Total"
    assert report.overdue["status"].tolist() == ["confirmed"]
    page = ledger.save_monthly_report(report, tmp_path)["html"].read_text("utf-8")
    assert "<h1>Rectification ledger: monthly report, 2023-07</h1>" in page
    assert "3 open at the end, 1 of them overdue." in page
    assert "<th>of which overdue</th>" in page


def test_monthly_files_xlsx_and_escaped_html(two_months, tmp_path):
    ledger.sync_findings(
        two_months,
        make_findings(F2, F3, F4, {"hazard_id": "x", "hazard_name": "<script>alert(1)</script>"}),
        now=at("2023-07-26"),
    )
    report = ledger.monthly_report(two_months, "2023-08", today=dt.date(2023, 9, 4))
    files = ledger.save_monthly_report(report, tmp_path)
    page = files["html"].read_text("utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "校园及周边安全问题整改工作月报（2023年8月）" in page
    # F1 (rectified) is absent and stays rectified; at the end of August F2 (due 07-15),
    # F3 (08-04), F4 (08-07) and x (08-25) are overdue
    assert "月末在办 4 件，其中逾期 4 件" in page
    wb = openpyxl.load_workbook(files["xlsx"])
    assert wb.sheetnames == ["按牵头单位", "按乡镇（街道）", "逾期问题清单"]
    ws = wb["按牵头单位"]
    assert ws["A1"].value == "校园及周边安全问题整改工作月报（2023年8月）"
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "牵头单位")
    assert [c.value for c in ws[header]][:3] == ["牵头单位", "累计立案", "本月新增"]
    total = next(r for r in range(header, ws.max_row + 1) if ws.cell(r, 1).value == "合计")
    assert ws.cell(total, 2).value == 5
    overdue = wb["逾期问题清单"]
    assert overdue.cell(3, 1).value == "问题编号"
    assert overdue.max_row == 3 + 4
    assert [overdue.cell(r, 11).value for r in range(4, 8)] == [48, 28, 25, 7]
    again = ledger.save_monthly_report(report, tmp_path / "again")
    assert again["xlsx"].read_bytes() == files["xlsx"].read_bytes()


# --- durability: kill in the middle, concurrent writers -----------------------------------

KILL_SCRIPT = r"""
import os, sys, time
from pathlib import Path
from campus_geo.ledger import xlsx as _ledger_xlsx
from campus_geo.ledger import import_ledger

ledger_path, xlsx, marker, stop_at = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
real = _ledger_xlsx.apply_change
count = 0

def apply_then_stall(conn, *args, **kwargs):
    global count
    count += 1
    if count == 1:
        conn.execute("PRAGMA cache_size = 2")  # spill uncommitted pages into the WAL file
    changed = real(conn, *args, **kwargs)
    if count == stop_at:
        wal = os.path.getsize(ledger_path + "-wal")
        marker.write_text(f"{count} {conn.total_changes} {wal}")
        time.sleep(600)
    return changed

_ledger_xlsx.apply_change = apply_then_stall
import_ledger(ledger_path, xlsx, who="killed")
"""


def many_findings(n: int) -> pd.DataFrame:
    return make_findings(*({"school_id": f"s{i // 3}", "hazard_id": f"h{i}"} for i in range(n)))


def run_python(script: str, *args: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 180) -> str:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the writer ended early: {proc.communicate()[1].decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            pytest.fail("the writer never reached the point where it is killed")
        time.sleep(0.05)
    time.sleep(0.05)
    return path.read_text()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_process_killed_in_the_middle_of_an_import_leaves_the_ledger_as_before(path, tmp_path):
    n = 600
    ledger.sync_findings(path, many_findings(n), now=JUNE5)
    exported = ledger.export_ledger(path, tmp_path / "台帐.xlsx", today=dt.date(2023, 6, 12))
    wb = openpyxl.load_workbook(exported)
    ws = wb.worksheets[0]
    for row in range(4, ws.max_row + 1):
        ws.cell(row, 12).value = f"责任人{row}"
        ws.cell(row, 14).value = "已确认"
    wb.save(tmp_path / "filled.xlsx")
    before = dump(path)
    marker = tmp_path / "stalled"
    proc = run_python(KILL_SCRIPT, path, tmp_path / "filled.xlsx", marker, 400)
    count, changes, wal = map(int, wait_for(marker, proc).split())
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # the killed import had changed 400 cases (and written their history), and SQLite had
    # already written part of that uncommitted transaction into the WAL file
    assert count == 400
    assert changes >= 400 * 3
    assert wal > 100_000
    assert dump(path) == before
    assert set(ledger.read_cases(path)["status"]) == {"pending"}
    # the ledger is usable: the same import now applies every row
    result = ledger.import_ledger(path, tmp_path / "filled.xlsx", now=at("2023-06-16"))
    assert len(result.applied) == n
    assert len(ledger.read_history(path)) == n + 2 * n  # opened; status and person


WRITER_SCRIPT = r"""
import random, sys, time
from pathlib import Path
from campus_geo.ledger import set_case

ledger_path, case, name, go, n = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
go.with_name(f"ready-{name}").touch()  # imports done
while not go.exists():
    time.sleep(0.005)
for i in range(n):
    set_case(ledger_path, case, notes=f"{name}-{i}", who=name)
    # a pause as between two people's edits: SQLite's lock is not fair, and a writer that
    # reconnects at once can keep the other waiting until it has finished
    time.sleep(random.uniform(0, 0.03))
"""


def test_two_concurrent_writers_lose_no_update(three, tmp_path):
    n = 40
    go = tmp_path / "go"
    case = fid(F1)
    writers = [run_python(WRITER_SCRIPT, three, case, name, go, n) for name in ("A", "B")]
    for name, proc in zip("AB", writers, strict=True):
        wait_for(tmp_path / f"ready-{name}", proc)  # both interpreters started and waiting
    go.touch()
    for proc in writers:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    history = ledger.read_history(three, case)
    notes = history[history["field"] == "notes"]
    assert len(notes) == 2 * n
    # each change starts from the value the previous one left: no write was based on a stale read
    assert notes["old"].tolist()[1:] == notes["new"].tolist()[:-1]
    assert sorted(notes["new"]) == sorted(f"{w}-{i}" for w in "AB" for i in range(n))
    assert set(notes["who"]) == {"A", "B"}
    runs = (notes["who"] != notes["who"].shift()).sum()
    assert runs >= 3, "the two writers did not write at the same time"
    final = ledger.read_cases(three).loc[case]
    assert final["version"] == 1 + 2 * n
    assert final["notes"] == notes["new"].iloc[-1]


# --- the command line --------------------------------------------------------------------


def run(*args: object, ok: bool = True):
    result = CliRunner().invoke(cli, list(map(str, args)))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def test_cli_ledger_commands(tmp_path, equator_layers):
    schools, hazards = equator_layers
    files = save_findings(screen(schools, hazards), tmp_path / "out")
    db = tmp_path / "ledger.sqlite"
    out = run("ledger", "sync", "--findings", files["gpkg"], "--ledger", db).output
    assert "Ledger run 1: 2 cases opened, 0 closed as resolved in data" in out
    out = run("ledger", "sync", "--findings", files["gpkg"], "--ledger", db).output
    assert "0 cases opened" in out
    assert "2 unchanged" in out
    cases = ledger.read_cases(db)
    first = cases.index[0]
    listing = run("ledger", "list", "--ledger", db, "--today", "2023-06-06").output
    assert listing.startswith("2 cases, 0 overdue.")
    assert first in listing
    assert "待核查" in listing
    assert "网吧丙" in listing
    late = dt.date.fromisoformat(cases["deadline"].iloc[0]) + dt.timedelta(days=3)
    listing = run("ledger", "list", "--ledger", db, "--overdue", "--today", late).output
    assert listing.startswith("2 cases, 2 overdue.")
    out = run("ledger", "set", first[:8], "--status", "已确认", "--person", "张三", "--ledger", db)
    assert "status: pending -> confirmed" in out.output
    assert "responsible_person:  -> 张三" in out.output
    bad = run("ledger", "set", first, "--status", "pending", "--ledger", db, ok=False)
    assert bad.exit_code == 2
    assert "cannot go from 已确认 confirmed to 待核查 pending" in bad.output
    assert "Traceback" not in bad.output
    shown = run("ledger", "show", first, "--ledger", db).output
    assert f"问题编号 case       {first}" in shown
    assert "status: pending -> confirmed" in shown
    assert "[set]" in shown
    xlsx = tmp_path / "台帐.xlsx"
    assert "Wrote" in run("ledger", "export", xlsx, "--ledger", db).output
    edit(xlsx, xlsx, {first: {"备注": "已约谈经营者"}})
    out = run("ledger", "import", xlsx, "--ledger", db, "--who", "甲镇").output
    assert "1 cases changed, 1 rows unchanged, 0 conflicts" in out
    assert ledger.read_cases(db).loc[first, "notes"] == "已约谈经营者"
    today = dt.date.today()
    month = f"{today.year:04d}-{today.month:02d}"
    out = run("ledger", "monthly", "--month", month, "--ledger", db, "--out", tmp_path / "r").output
    assert f"{month} (as of {today}): 2 opened" in out
    assert (tmp_path / "r" / f"monthly_{month}.html").exists()


def test_cli_ledger_errors_exit_2_with_one_paragraph(tmp_path):
    broken = tmp_path / "ledger.sqlite"
    broken.write_text("hello", encoding="utf-8")
    for args in (
        ["ledger", "list", "--ledger", broken],
        ["ledger", "monthly", "--month", "2023-6x", "--ledger", broken],
        ["ledger", "list", "--ledger", tmp_path / "none.sqlite"],
        ["ledger", "sync", "--findings", tmp_path / "nope.gpkg", "--ledger", broken],
    ):
        result = run(*args, ok=False)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("campus-geo: error: ")
        assert "Traceback" not in result.output
        assert result.output.count("\n") == 1
    assert (
        "there is no ledger at"
        in run("ledger", "list", "--ledger", tmp_path / "n.sqlite", ok=False).output
    )
    assert run("ledger", "list", "--today", "someday", "--ledger", broken, ok=False).exit_code == 2


def test_screen_with_a_ledger_syncs_the_findings(tmp_path, equator_layers):
    schools, hazards = equator_layers
    schools_file, hazards_file = tmp_path / "schools.gpkg", tmp_path / "wangba.gpkg"
    schools.reset_index(names="id").to_file(schools_file, engine="pyogrio")
    hazards.reset_index(names="id").to_file(hazards_file, engine="pyogrio")
    db = tmp_path / "ledger.sqlite"
    args = (
        "-q",
        "screen",
        "--schools",
        schools_file,
        "--hazards",
        f"internet_cafe={hazards_file}",
        "--ledger",
        db,
        "--out",
        tmp_path / "out",
        "--no-evidence",
    )
    out = run(*args).output
    assert "Ledger run 1: 2 cases opened" in out
    runs = ledger.read_runs(db)
    assert json.loads(runs.loc[1, "inputs"]) == {
        str(schools_file): hashlib.sha256(schools_file.read_bytes()).hexdigest(),
        str(hazards_file): hashlib.sha256(hazards_file.read_bytes()).hexdigest(),
    }
    near = ledger.read_cases(db).sort_values("distance_m").index[0]
    ledger.set_case(db, near, status="误报", reason="场所已迁至校门另一侧")
    assert "0 cases opened" in run(*args).output
    # the map's lines are coloured by ledger status, and its legend counts them
    page = (tmp_path / "out" / "map.html").read_text("utf-8")
    assert "量算线（按台帐状态）" in page
    assert re.search(r'\["line","待核查","#[0-9a-f]{6}","",1\]', page)
    assert re.search(r'\["line","误报","#[0-9a-f]{6}","",1\]', page)


# --- the demo's two months ---------------------------------------------------------------


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    from campus_geo.demo.story import run_ledger_story

    return run_ledger_story(tmp_path_factory.mktemp("story"))


def test_demo_story_counts(story):
    assert len(story.june.opened) == 317
    # every row of the filled-in 台帐 applied but the one the traffic police had changed
    assert len(story.imported.applied) == 316
    (conflict,) = story.imported.conflicts
    assert conflict.finding_id == story.conflict_case
    assert conflict.ledger_values == {"responsible_person": "交警 孙立平"}
    cases = ledger.read_cases(story.path, today=dt.date(2023, 8, 3))
    assert cases.loc[story.conflict_case, "responsible_person"] == "交警 孙立平"
    june = story.reports["2023-06"].totals
    # 22 traffic-signal cases and 2 lottery duplicates dismissed, 8 internet cafés rectified
    assert june == {
        "cases": 317,
        "opened": 317,
        "reopened": 0,
        "closed": 32,
        "rectified": 8,
        "dismissed": 24,
        "resolved": 0,
        "open": 285,
        "overdue": 0,
    }
    # July: 7 internet cafés and 4 arcades closed; the 8th café is still there
    assert len(story.closed_venues) == 11
    assert len(story.july.reopened) == 1
    assert len(story.july.opened) == 0
    assert story.july.reopened[0] == story.progress["rectified"][7]
    assert cases.loc[story.july.reopened[0], ["status", "flag"]].tolist() == [
        "in_progress",
        "reopened",
    ]
    closed = cases.loc[list(story.july.closed)]
    assert len(closed) == 8
    assert set(closed["status"]) == {"resolved"}
    assert set(closed["hazard_id"]) <= set(story.closed_venues)
    # open cases of the closed venues: arcades, and a closed café's case at a second school
    assert closed["category"].value_counts().to_dict() == {"arcade": 6, "internet_cafe": 2}
    july = story.reports["2023-07"].totals
    assert july == {
        "cases": 317,
        "opened": 0,
        "reopened": 1,
        "closed": 11,
        "rectified": 3,
        "dismissed": 0,
        "resolved": 8,
        "open": 275,
        "overdue": 126,
    }
    # the overdue cases at the end of July: open prohibited cases (due 07-05) and water (07-10)
    overdue = story.reports["2023-07"].overdue
    assert set(overdue["deadline"]) == {"2023-07-05", "2023-07-10"}
    assert (overdue["deadline"] == "2023-07-10").sum() == 24
    # 293 confirmed after the import; 18 in rectification, 8 of them rectified; 8 resolved in
    # data; one rectified café reopened; 3 entertainment venues rectified in July
    assert cases["status"].value_counts().to_dict() == {
        "confirmed": 267,
        "dismissed": 24,
        "rectified": 10,
        "in_progress": 8,
        "resolved": 8,
    }


def test_demo_story_is_consistent_with_its_findings(story):
    cases = ledger.read_cases(story.path, today=dt.date(2023, 8, 3))
    gone = cases["hazard_id"].isin(story.closed_venues)
    # every case of a closed venue is closed; those that were open were resolved in data
    assert set(cases.loc[gone, "status"]) <= {"resolved", "rectified", "dismissed"}
    assert (cases["status"] == "resolved").sum() == len(story.july.closed)
    history = ledger.read_history(story.path)
    assert set(history["source"]) == {
        "sync run 1",
        "sync run 2",
        "set",
        "import ledger_2023-06-12_filled.xlsx (revision 317)",
    }
    for key in ("monthly_2023-06_html", "monthly_2023-07_xlsx", "ledger_xlsx", "filled"):
        assert story.files[key].exists()
    ws = openpyxl.load_workbook(story.files["ledger_xlsx"]).worksheets[0]
    assert ws.max_row == 3 + 317


def test_demo_story_map_colours_the_july_findings_by_status(story, tmp_path):
    from campus_geo import demo
    from campus_geo.demo.story import save_story_map
    from campus_geo.layers import layers_from_osm

    district = layers_from_osm(demo.DEMO_DIR / "district.osm")
    page = save_story_map(story, district, tmp_path / "ledger_map.html").read_text("utf-8")
    counts = dict(re.findall(r'\["line","([^"]+)","#[0-9a-f]{6}","",(\d+)\]', page))
    # the July findings at the end of July: the July report's 126 overdue cases, the
    # confirmed ones not yet due, 3 rectified venues still in the data, 24 dismissed
    assert counts == {
        "逾期": "126",
        "已确认": "149",
        "待核查": "0",
        "整改中": "0",
        "已整改": "3",
        "复查已消除": "0",
        "误报": "24",
        "台帐无记录": "0",
    }
    assert sum(map(int, counts.values())) == len(story.july_findings)
