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
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from campus_geo import ledger
from campus_geo._errors import ConflictError, InputDataError, LedgerError
from campus_geo.cli import cli
from campus_geo.ledger.db import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    STATUSES,
    TRANSITIONS,
    _migrate,
)
from campus_geo.ledger.units import split_units
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
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        assert {"meta", "runs", "cases", "history", "reports"} <= tables
        assert "overdue" not in [r[1] for r in conn.execute("PRAGMA table_info(cases)")]
        with pytest.raises(sqlite3.IntegrityError, match=r"append-only"):
            conn.execute("UPDATE history SET who = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match=r"append-only"):
            conn.execute("DELETE FROM history")
        with pytest.raises(sqlite3.IntegrityError, match=r"never deleted"):
            conn.execute("DELETE FROM cases")
        with pytest.raises(sqlite3.IntegrityError, match=r"CHECK"):
            conn.execute("UPDATE cases SET status = 'overdue'")
        with pytest.raises(sqlite3.IntegrityError, match=r"CHECK"):
            conn.execute("UPDATE cases SET supervised_on = 'next week'")
        conn.execute(
            "INSERT INTO reports (month, kind, name, at, who, source) "
            "VALUES ('2023-06', 'unit', '区公安局', 'x', 'y', 'z')"
        )
        with pytest.raises(sqlite3.IntegrityError, match=r"append-only"):
            conn.execute("DELETE FROM reports")
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
    assert "reads versions up to 3" in str(err.value)
    assert "pip install -U campus_geo" in str(err.value)
    assert dump(three) == before


def test_missing_ledger_names_the_command_that_creates_it(path):
    with pytest.raises(LedgerError, match=r"there is no ledger at .*campus-geo ledger sync"):
        ledger.read_cases(path)
    assert not path.exists()


def test_migration_steps_run_in_order_after_a_backup(three):
    steps = {
        **MIGRATIONS,
        4: "ALTER TABLE cases ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;",
        5: "CREATE INDEX cases_priority ON cases (priority);\n"
        "UPDATE cases SET priority = 1 WHERE severity = 'prohibited';",
    }
    conn = sqlite3.connect(three, isolation_level=None)
    _migrate(conn, three, target=5, steps=steps)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
    rows = conn.execute("SELECT severity, priority FROM cases ORDER BY severity").fetchall()
    assert rows == [("notice", 0), ("prohibited", 1), ("risk", 0)]
    conn.close()
    backup = three.with_name("ledger.sqlite.v3.bak")
    with sqlite3.connect(backup) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 3
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


def test_sync_opens_cases_with_the_enforcing_unit_and_default_deadlines(three):
    cases = ledger.read_cases(three, today=dt.date(2023, 6, 6))
    # findings without enforcing_units: the first responsible unit enforces, never the lead
    assert cases.loc[
        fid(F1), ["status", "lead_unit", "enforcing_unit", "responsible_unit", "deadline"]
    ].tolist() == [
        "pending",
        "区委政法委",
        "区公安局",
        "区公安局",
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
    result = ledger.sync_findings(
        three, make_findings(F1), inputs=[osm], confirm_closing=True, now=at("2023-07-10")
    )
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
    ledger.sync_findings(three, make_findings(F2, F3), confirm_closing=True, now=at("2023-06-20"))
    assert ledger.read_cases(three).loc[fid(F1), "status"] == "resolved"
    result = ledger.sync_findings(three, make_findings(F1, F2, F3), now=at("2023-07-10"))
    assert result.reopened == (fid(F1),)
    case = ledger.read_cases(three).loc[fid(F1)]
    assert case[["status", "flag", "deadline"]].tolist() == ["pending", "reappeared", "2023-08-09"]


def test_a_sync_that_closes_more_than_a_fifth_of_the_open_cases_asks_for_yes(path):
    ledger.sync_findings(path, many_findings(30), now=JUNE5)
    # 6 of 30 absent: a fifth exactly, allowed
    result = ledger.sync_findings(path, many_findings(30).iloc[6:], now=at("2023-06-06"))
    assert (len(result.closed), result.open_before) == (6, 30)
    before = dump(path)
    with pytest.raises(LedgerError) as err:
        ledger.sync_findings(path, many_findings(30).iloc[11:], now=at("2023-06-07"))
    assert str(err.value).startswith(
        "this sync would open 0 cases and close 5 of the 24 open cases as resolved in data: "
        "more than 20% of them; nothing was changed."
    )
    assert "sync with --partial" in str(err.value)
    assert "confirm with --yes (Python: confirm_closing=True)" in str(err.value)
    assert dump(path) == before
    result = ledger.sync_findings(
        path, many_findings(30).iloc[11:], confirm_closing=True, now=at("2023-06-07")
    )
    assert len(result.closed) == 5
    assert ledger.read_runs(path)["closed"].tolist() == [0, 6, 5]


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
    "执法单位",
    "配合单位",
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
    "督办单位",
    "督办日期",
    "抄告单位",
    "联合整改单位",
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
    assert [ws.cell(r1, c).value for c in (3, 5, 6, 7, 8, 9, 10, 11, 12, 13)] == [
        "甲镇",
        "赤道小学",
        "网吧甲",
        "上网服务场所",
        150.0,
        200,
        "区委政法委",
        "区公安局",
        None,
        "区公安局",
    ]
    assert ws.cell(r1, 15).value == dt.datetime(2023, 7, 5)
    assert ws.cell(r1, 15).number_format == "yyyy-mm-dd"
    assert (ws.cell(r1, 16).value, ws.cell(r1, 17).value) == ("待核查", "是")
    assert ws.cell(rows[fid(F3)], 16).value == "误报"
    assert ws.cell(rows[fid(F3)], 18).value == "校门已改至另一侧"
    assert ws.column_dimensions["AB"].hidden
    assert ws.column_dimensions["AC"].hidden
    assert ws.cell(r1, 28).value == 1
    status_dv = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(status_dv) == 1
    assert status_dv[0].formula1 == '"待核查,已确认,误报,整改中,已整改,复查已消除"'
    assert str(status_dv[0].sqref) == "P4:P6"
    formats = {str(c.sqref): [r.formula for r in c.rules] for c in ws.conditional_formatting}
    assert formats["Q4:Q6"] == [['Q4<>""']]  # 是否逾期 in red
    (grey,) = [ranges.split() for ranges, rules in formats.items() if rules == [["TRUE"]]]
    assert {"A4:A6", "AC4:AC6", "J4:J6", "K4:K6", "L4:L6", "W4:W6", "Z4:Z6"} <= set(grey)
    assert not {"M4:M6", "N4:N6", "O4:O6", "P4:P6", "R4:R6", "U4:U6"} & set(grey)  # to fill
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
    assert (meta["unit"], meta["townships"]) == (None, None)  # empty cells: the whole ledger


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
    assert [ws.cell(5, c).value for c in (7, 16, 17)] == ["internet café", "pending", "yes"]


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
    ws.cell(7, 16).value = "已确认"
    wb.save(filled)
    before = dump(three)
    with pytest.raises(InputDataError) as err:
        ledger.import_ledger(three, filled, now=at("2023-06-16"))
    expected = {
        rows[fid(F1)]: f"filled.xlsx row {rows[fid(F1)]}, case {fid(F1)}: cannot go from 待核查 "
        "pending to 已整改 rectified: from 待核查 the next status is 已确认 or 误报 (or 已整改 in "
        "one visit: give 整改措施 and 整改完成日期)",
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
    wb.worksheets[0].delete_cols(14)  # 责任人 removed
    wb.save(tmp_path / "cut.xlsx")
    with pytest.raises(InputDataError, match=r"column\(s\) 责任人 \(Responsible person\) missing"):
        ledger.import_ledger(three, tmp_path / "cut.xlsx")


def test_an_english_export_imports_back(three, tmp_path):
    exported = ledger.export_ledger(
        three, tmp_path / "l.xlsx", lang="en", today=dt.date(2023, 6, 12)
    )
    wb = openpyxl.load_workbook(exported)
    ws = wb.worksheets[0]
    ws.cell(4, 16).value = "confirmed"
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
    assert wb.sheetnames == [
        "按责任单位",
        "按牵头单位",
        "按乡镇（街道）",
        "逾期问题清单",
        "督办抄告联合整改",
        "报送情况",
    ]
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


# --- units, 抄告 / 督办 / 联合整改, reports ------------------------------------------------


def test_a_case_stores_its_lead_enforcing_and_participating_units(path):
    f5 = {
        "hazard_id": "k1",
        "hazard_name": "星光KTV",
        "category": "entertainment",
        "rule_id": "entertainment_200m",
        "responsible_units": "区公安局、区文化广电和旅游局、区市场监督管理局",
        "enforcing_units": "区文化广电和旅游局、区公安局",
    }
    f6 = {  # a unit whose name holds the separator: 各乡（镇、街道）
        "hazard_id": "w2",
        "category": "water",
        "rule_id": "water_500m",
        "responsible_units": "区水利局、各乡（镇、街道）",
        "enforcing_units": "",
    }
    f7 = {"hazard_id": "x1", "lead_units": "区委政法委、区教体局", "responsible_units": ""}
    ledger.sync_findings(path, make_findings(f5, f6, f7), now=JUNE5)
    cases = ledger.read_cases(path)
    columns = [
        "lead_units",
        "lead_unit",
        "enforcing_unit",
        "participating_units",
        "responsible_unit",
    ]
    assert cases.loc[fid(f5), columns].tolist() == [
        "区委政法委、区教体局",
        "区委政法委",
        "区文化广电和旅游局",
        "区公安局",
        "区文化广电和旅游局",
    ]
    # no enforcing units from the rule table: the responsible units in their order
    assert cases.loc[fid(f6), columns[2:]].tolist() == ["区水利局", "各乡（镇、街道）", "区水利局"]
    # no unit at all but the lead: only then does the lead become responsible
    assert cases.loc[fid(f7), columns[2:]].tolist() == ["区委政法委", "区教体局", "区委政法委"]
    why = ledger.read_history(path, fid(f5)).iloc[0]["why"]
    assert why.startswith("第1次筛查立案，责任单位区文化广电和旅游局")


def test_a_units_own_cases(three):
    ledger.copy_case(three, fid(F2), "甲镇人民政府", who="区公安局", now=at("2023-06-10"))
    ledger.escalate_case(
        three, fid(F3), supervisor="区委政法委", deadline="2023-07-01", now=at("2023-06-10")
    )
    ledger.set_case(three, fid(F1), responsible_unit="区城市管理局", now=at("2023-06-10"))
    ledger.joint_case(
        three,
        fid(F1),
        lead="区城市管理局",
        participants=["区住房和城乡建设局"],
        now=at("2023-06-11"),
    )

    def own(unit: str) -> list[str]:
        return sorted(ledger.read_cases(three, unit=unit).index)

    assert own("区公安局") == sorted([fid(F1), fid(F2), fid(F3)])  # enforcing unit of all three
    assert own("甲镇人民政府") == [fid(F2)]  # copied (抄告)
    assert own("区委政法委") == [fid(F3)]  # supervises (督办); the cases it leads are not its own
    assert own("区城市管理局") == [fid(F1)]  # responsible after reassignment
    assert own("区住房和城乡建设局") == [fid(F1)]  # joint rectification
    assert own("区教体局") == []
    assert sorted(ledger.read_cases(three, lead="区教体局").index) == sorted([fid(F1), fid(F2)])


def test_copy_escalate_and_joint_are_checked_changes_with_history(three):
    copied = ledger.copy_case(
        three,
        fid(F2)[:8],
        ["甲镇人民政府", "区水利局"],
        why="属地管理",
        who="区公安局",
        now=at("2023-06-10"),
    )
    assert (copied["copied_to"], copied["version"]) == ("甲镇人民政府、区水利局", 1)
    again = ledger.copy_case(
        three, fid(F2), "区水利局、乙镇人民政府", who="区公安局", now=at("2023-06-11")
    )
    assert again["copied_to"] == "甲镇人民政府、区水利局、乙镇人民政府"
    escalated = ledger.escalate_case(
        three,
        fid(F1),
        supervisor="区委政法委",
        deadline="2023年7月20日",
        why="逾期未整改",
        who="政法委 李明",
        now=at("2023-07-08"),
    )
    assert [escalated[k] for k in ("supervisor", "supervised_on", "deadline", "version")] == [
        "区委政法委",
        "2023-07-08",
        "2023-07-20",
        2,
    ]
    joint = ledger.joint_case(
        three,
        fid(F3),
        lead="区公安局交警大队",
        participants="区交通运输局、丙镇人民政府",
        why="需多部门联合整治",
        who="区委政法委",
        now=at("2023-07-09"),
    )
    assert [joint["responsible_unit"], joint["joint_units"], joint["version"]] == [
        "区公安局交警大队",
        "区交通运输局、丙镇人民政府",
        2,
    ]
    history = ledger.read_history(three)
    actions = history[history["source"].isin(["copy", "escalate", "joint"])]
    assert actions[
        ["finding_id", "field", "old", "new", "who", "why", "source"]
    ].values.tolist() == [
        [fid(F2), "copied_to", "", "甲镇人民政府、区水利局", "区公安局", "属地管理", "copy"],
        [
            fid(F2),
            "copied_to",
            "甲镇人民政府、区水利局",
            "甲镇人民政府、区水利局、乙镇人民政府",
            "区公安局",
            "抄告",
            "copy",
        ],
        [fid(F1), "supervisor", "", "区委政法委", "政法委 李明", "逾期未整改", "escalate"],
        [fid(F1), "supervised_on", None, "2023-07-08", "政法委 李明", "逾期未整改", "escalate"],
        [fid(F1), "deadline", "2023-07-05", "2023-07-20", "政法委 李明", "逾期未整改", "escalate"],
        [
            fid(F3),
            "responsible_unit",
            "区公安局",
            "区公安局交警大队",
            "区委政法委",
            "需多部门联合整治",
            "joint",
        ],
        [
            fid(F3),
            "joint_units",
            "",
            "区交通运输局、丙镇人民政府",
            "区委政法委",
            "需多部门联合整治",
            "joint",
        ],
    ]
    assert actions["at"].tolist()[2:5] == ["2023-07-08T10:00:00"] * 3
    assert ledger.describe_actions(ledger.read_cases(three).loc[fid(F3)]) == (
        "联合整改：区公安局交警大队牵头，区交通运输局、丙镇人民政府参与"
    )


def test_actions_are_refused_with_the_reason_and_change_nothing(three):
    ledger.set_case(three, fid(F3), status="误报", reason="非隐患", now=at("2023-06-10"))
    before = dump(three)
    with pytest.raises(
        LedgerError, match=r"抄告 \(copied\) applies to open cases; this one is 误报"
    ):
        ledger.copy_case(three, fid(F3), "丙镇人民政府", now=at("2023-06-11"))
    with pytest.raises(LedgerError, match=r"new deadline 2023-06-01 of 督办 is before today"):
        ledger.escalate_case(
            three, fid(F1), supervisor="区委政法委", deadline="2023-06-01", now=at("2023-06-11")
        )
    with pytest.raises(LedgerError, match=r"needs the supervising unit"):
        ledger.escalate_case(
            three, fid(F1), supervisor=" ", deadline="2023-07-01", now=at("2023-06-11")
        )
    with pytest.raises(
        LedgerError, match=r"lead unit 区公安局 is also named among the participants"
    ):
        ledger.joint_case(
            three, fid(F1), lead="区公安局", participants=["区公安局", "区城市管理局"]
        )
    with pytest.raises(LedgerError, match=r"name at least one unit"):
        ledger.copy_case(three, fid(F1), [])
    assert dump(three) == before


def test_handled_cases_no_longer_found_stay_open_with_a_note(three):
    ledger.set_case(three, fid(F1), status="已确认", now=at("2023-06-10"))
    ledger.set_case(three, fid(F2), status="已确认", now=at("2023-06-10"))
    ledger.set_case(three, fid(F2), status="整改中", now=at("2023-06-11"))
    result = ledger.sync_findings(three, make_findings(F3), now=at("2023-07-10"))
    assert (result.closed, result.kept_open) == ((), (fid(F1), fid(F2)))
    assert result.summary().endswith("2 cases being handled no longer found: kept open.")
    cases = ledger.read_cases(three)
    assert cases.loc[
        [fid(F1), fid(F2)], ["status", "absent_since", "closed_on"]
    ].values.tolist() == [
        ["confirmed", "2023-07-10", None],
        ["in_progress", "2023-07-10", None],
    ]
    last = ledger.read_history(three, fid(F1)).iloc[-1]
    assert [last["field"], last["old"], last["new"], last["source"]] == [
        "absent_since",
        None,
        "2023-07-10",
        "sync run 2",
    ]
    assert last["why"].startswith("2023-07-10第2次筛查未再发现；案件在办，未自动办结")
    assert "no longer found by the screening of 2023-07-10, run 2; kept open" in last["why"]
    # noted once; the export's 标记 shows it
    again = ledger.sync_findings(three, make_findings(F3), now=at("2023-07-11"))
    assert again.kept_open == (fid(F1), fid(F2))
    assert len(ledger.read_history(three, fid(F1))) == 3
    # found again: the note is cleared, with its history
    found = ledger.sync_findings(three, make_findings(F1, F3), now=at("2023-07-12"))
    assert found.updated == (fid(F1),)
    case = ledger.read_cases(three).loc[fid(F1)]
    assert case["status"] == "confirmed"
    assert pd.isna(case["absent_since"])
    assert (
        ledger.read_history(three, fid(F1))
        .iloc[-1]["why"]
        .startswith("2023-07-10起未再发现，第4次筛查再次发现")
    )


def test_a_responsible_unit_nobody_set_follows_the_enforcing_unit(three):
    ledger.set_case(three, fid(F2), responsible_unit="乙镇人民政府", now=at("2023-06-10"))
    changed = make_findings(
        F1 | {"enforcing_units": "区文化广电和旅游局"},
        F2 | {"enforcing_units": "区水利局、区应急管理局"},
        F3,
    )
    result = ledger.sync_findings(three, changed, now=at("2023-06-20"))
    assert result.updated == (fid(F1), fid(F2))
    cases = ledger.read_cases(three)
    columns = ["enforcing_unit", "participating_units", "responsible_unit"]
    assert cases.loc[fid(F1), columns].tolist() == ["区文化广电和旅游局", "", "区文化广电和旅游局"]
    # a unit a person chose stays
    assert cases.loc[fid(F2), columns].tolist() == ["区水利局", "区应急管理局", "乙镇人民政府"]
    history = ledger.read_history(three, fid(F1)).iloc[1:]
    assert history[["field", "old", "new"]].values.tolist() == [
        ["enforcing_unit", "区公安局", "区文化广电和旅游局"],
        ["responsible_unit", "区公安局", "区文化广电和旅游局"],
    ]
    assert "；责任单位按管理权限确定为区文化广电和旅游局" in history.iloc[0]["why"]


def v1_ledger(path: Path) -> None:
    """A ledger as campus_geo wrote it with schema version 1 (区委政法委 responsible)."""
    conn = sqlite3.connect(path, isolation_level=None)
    _migrate(conn, path, target=1)
    conn.execute(
        "INSERT INTO runs (at, who, source, findings_digest, inputs, n_findings, partial, opened) "
        "VALUES ('2023-06-05T09:00:00', '专项办', 'findings (in memory)', 'x', '{}', 2, 0, 2)"
    )
    for spec in (F1, F4):
        f = make_findings(spec).iloc[0]
        conn.execute(
            "INSERT INTO cases (finding_id, status, school_id, school_name, township, village, "
            "hazard_id, hazard_name, category, rule_id, severity, distance_m, threshold_m, "
            "lead_units, lead_unit, responsible_unit, deadline, opened_on, opened_run) VALUES "
            "(?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '区委政法委', '区委政法委', "
            "'2023-07-05', '2023-06-05', 1)",
            (
                fid(spec),
                *(
                    f[c]
                    for c in (
                        "school_id",
                        "school_name",
                        "township",
                        "village",
                        "hazard_id",
                        "hazard_name",
                        "category",
                        "rule_id",
                        "severity",
                        "distance_m",
                        "threshold_m",
                        "lead_units",
                    )
                ),
            ),
        )
        conn.execute(
            "INSERT INTO history (finding_id, at, who, field, old, new, why, source, run_id) "
            "VALUES (?, '2023-06-05T09:00:00', '专项办', 'status', NULL, 'pending', '', "
            "'sync run 1', 1)",
            (fid(spec),),
        )
    conn.execute(
        "UPDATE cases SET responsible_unit = '甲镇人民政府', version = 2 WHERE finding_id = ?",
        (fid(F4),),
    )
    conn.execute(
        "INSERT INTO history (finding_id, at, who, field, old, new, why, source) VALUES "
        "(?, '2023-06-06T09:00:00', '专项办', 'responsible_unit', '区委政法委', '甲镇人民政府', "
        "'', 'set')",
        (fid(F4),),
    )
    conn.close()


def test_an_old_ledger_migrates_and_its_cases_get_their_units_at_the_next_sync(path):
    v1_ledger(path)
    cases = ledger.read_cases(path)  # opening it migrates it
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("SELECT settings FROM runs").fetchall() == [("{}",)]
    conn.close()
    with sqlite3.connect(path.with_name("ledger.sqlite.v1.bak")) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    old.close()
    assert cases.loc[
        [fid(F1), fid(F4)], ["responsible_unit", "enforcing_unit"]
    ].values.tolist() == [
        ["区委政法委", ""],
        ["甲镇人民政府", ""],
    ]
    # the same rules as the cases show: no settings changed, no confirmation needed
    result = ledger.sync_findings(path, make_findings(F1, F4), now=at("2023-06-20"))
    assert (result.settings_changes, result.updated) == ((), (fid(F1), fid(F4)))
    cases = ledger.read_cases(path)
    assert cases.loc[fid(F1), ["enforcing_unit", "responsible_unit"]].tolist() == ["区公安局"] * 2
    assert cases.loc[fid(F4), ["enforcing_unit", "responsible_unit"]].tolist() == [
        "区公安局",
        "甲镇人民政府",  # set by a person under schema 1: stays
    ]
    last = ledger.read_history(path, fid(F1)).iloc[-1]
    assert [last["field"], last["old"], last["new"], last["source"]] == [
        "responsible_unit",
        "区委政法委",
        "区公安局",
        "sync run 2",
    ]


def test_one_visit_rectification_in_an_import(three, tmp_path):
    exported = ledger.export_ledger(three, tmp_path / "台帐.xlsx", today=dt.date(2023, 6, 12))
    filled = edit(
        exported,
        tmp_path / "filled.xlsx",
        {
            fid(F1): {
                "状态": "已整改",
                "整改措施": "核查时已停业，营业执照已注销",
                "整改完成日期": dt.datetime(2023, 6, 14),
                "责任人": "王建国",
            }
        },
    )
    result = ledger.import_ledger(three, filled, who="甲镇综治办", now=at("2023-06-16"))
    assert (result.applied, result.one_visit) == ((fid(F1),), (fid(F1),))
    assert "1 rectified in one visit." in result.summary()
    case = ledger.read_cases(three).loc[fid(F1)]
    assert case[["status", "rectified_on", "closed_on", "version"]].tolist() == [
        "rectified",
        "2023-06-14",
        "2023-06-16",
        3,
    ]
    history = ledger.read_history(three, fid(F1)).iloc[1:]
    assert history[["field", "old", "new", "who"]].values.tolist() == [
        ["status", "pending", "confirmed", "甲镇综治办"],
        ["status", "confirmed", "rectified", "甲镇综治办"],
        ["responsible_person", "", "王建国", "甲镇综治办"],
        ["rectification", "", "核查时已停业，营业执照已注销", "甲镇综治办"],
        ["rectified_on", None, "2023-06-14", "甲镇综治办"],
    ]
    assert history.iloc[0]["why"] == "一次到位：核查时已整改 (one visit: found already rectified)"
    assert set(history["source"]) == {"import filled.xlsx (revision 3)"}


def test_an_import_is_the_monthly_report_of_the_unit_or_township(three, tmp_path):
    by_unit = ledger.export_ledger(
        three, tmp_path / "公安.xlsx", unit="区公安局", today=dt.date(2023, 7, 3)
    )
    meta = {
        r[0]: r[1]
        for r in openpyxl.load_workbook(by_unit)["_campus_geo"].iter_rows(values_only=True)
    }
    assert meta["unit"] == "区公安局"
    result = ledger.import_ledger(three, by_unit, who="公安 张三", now=at("2023-07-03"))
    assert result.reports == (("2023-06", "unit", "区公安局"),)  # made by the 5th: June's report
    assert "report for 2023-06 of the unit 区公安局 recorded." in result.summary()
    town = ledger.export_ledger(
        three, tmp_path / "丙镇.xlsx", townships=["丙镇"], today=dt.date(2023, 7, 6)
    )
    assert ledger.import_ledger(three, town, now=at("2023-07-06")).reports == (
        ("2023-07", "township", "丙镇"),
    )
    whole = ledger.export_ledger(three, tmp_path / "all.xlsx", today=dt.date(2023, 7, 6))
    assert ledger.import_ledger(three, whole, who="甲镇", now=at("2023-07-06")).reports == (
        ("2023-07", "township", "甲镇"),
    )
    assert ledger.import_ledger(three, whole, who="区教体局", now=at("2023-07-06")).reports == (
        ("2023-07", "unit", "区教体局"),  # a lead unit of the ledger
    )
    assert ledger.import_ledger(three, whole, who="张三", now=at("2023-07-06")).reports == ()
    assert ledger.import_ledger(three, whole, now=at("2023-07-06")).reports == ()  # login name
    assert ledger.import_ledger(
        three, whole, unit="区城市管理局", month="2023-6", now=at("2023-07-20")
    ).reports == (("2023-06", "unit", "区城市管理局"),)
    assert ledger.record_report(
        three, township="甲镇", source="纸质报表", now=at("2023-07-04")
    ) == ("2023-06")
    reports = ledger.read_reports(three, "2023-06")
    assert reports[["kind", "name", "who", "source"]].values.tolist()[1:] == [
        ["unit", "区城市管理局", reports["who"].iloc[1], "import all.xlsx (revision 3)"],
        ["township", "甲镇", reports["who"].iloc[2], "纸质报表"],
    ]
    report = ledger.monthly_report(three, "2023-06", today=dt.date(2023, 7, 5))
    assert report.reported[["kind", "name", "reported", "source"]].values.tolist() == [
        ["unit", "区公安局", True, "import 公安.xlsx (revision 3)"],
        ["unit", "区城市管理局", True, "import all.xlsx (revision 3)"],
        ["township", "丙镇", False, ""],
        ["township", "甲镇", True, "纸质报表"],
    ]
    with pytest.raises(LedgerError, match=r"name either the unit or the township"):
        ledger.record_report(three)


def test_monthly_report_by_responsible_unit_with_actions_and_reports(two_months, tmp_path):
    ledger.escalate_case(
        two_months,
        fid(F2),
        supervisor="区委政法委",
        deadline="2023-08-31",
        who="区委政法委",
        now=at("2023-07-21"),
    )
    ledger.copy_case(two_months, fid(F4), "丙镇人民政府", who="区公安局", now=at("2023-07-22"))
    ledger.joint_case(
        two_months,
        fid(F3),
        lead="区公安局交警大队",
        participants="区交通运输局",
        who="区委政法委",
        now=at("2023-07-23"),
    )
    ledger.record_report(
        two_months, unit="区公安局", source="纸质报表", who="收文", now=at("2023-08-02")
    )
    ledger.record_report(two_months, township="丙镇", who="收文", now=at("2023-08-03"))
    report = ledger.monthly_report(two_months, "2023-07", today=dt.date(2023, 8, 4))
    assert report.by_responsible_unit.index.tolist() == ["区公安局", "区公安局交警大队", "合计"]
    assert report.by_responsible_unit.loc[
        "区公安局", ["cases", "opened", "closed", "open", "overdue"]
    ].tolist() == [
        3,
        1,
        1,
        2,
        0,  # F2, overdue since 07-15, is under 督办 with a new deadline
    ]
    assert report.action_counts == {"escalate": 1, "copy": 1, "joint": 1}
    assert report.actions[["day", "action", "units", "deadline", "who"]].values.tolist() == [
        ["2023-07-21", "escalate", "区委政法委", "2023-08-31", "区委政法委"],
        ["2023-07-22", "copy", "丙镇人民政府", "", "区公安局"],
        ["2023-07-23", "joint", "区公安局交警大队；区交通运输局", "", "区委政法委"],
    ]
    assert report.reporters("unit", reported=True) == ["区公安局"]
    assert report.reporters("unit", reported=False) == ["区公安局交警大队"]
    assert report.reporters("township", reported=False) == ["甲镇"]
    files = ledger.save_monthly_report(report, tmp_path)
    wb = openpyxl.load_workbook(files["xlsx"])
    ws = wb["按责任单位"]
    assert [ws.cell(r, 1).value for r in range(4, 6)] == [
        "本月督办 1 件，抄告 1 件，联合整改 1 件。",
        "报送情况：单位已报送 1/2，乡镇（街道）已报送 1/2。",
    ]
    assert [c.value for c in ws[7]][:3] == ["责任单位", "累计立案", "本月新增"]
    assert [c.value for c in ws[8]] == ["区公安局", 3, 1, 0, 1, 1, 0, 0, 2, 0]
    assert [c.value for c in ws[10]][:2] == ["合计", 4]
    done = wb["报送情况"]
    assert [c.value for c in done[3]] == [
        "类型",
        "单位或乡镇（街道）",
        "报送情况",
        "报送时间",
        "操作人",
        "来源",
    ]
    assert [[c.value for c in done[r]][:5] for r in range(4, 8)] == [
        ["单位", "区公安局", "已报送", "2023-08-02T10:00:00", "收文"],
        ["单位", "区公安局交警大队", "未报送", None, None],
        ["乡镇（街道）", "丙镇", "已报送", "2023-08-03T10:00:00", "收文"],
        ["乡镇（街道）", "甲镇", "未报送", None, None],
    ]
    actions = wb["督办抄告联合整改"]
    # print-ready: dates are dates, A4 with the header row repeated, fitted to the width
    assert [c.value for c in actions[4]][:3] == [dt.datetime(2023, 7, 21), "督办", fid(F2)]
    assert actions["A4"].number_format == "yyyy-mm-dd"
    for ws in wb.worksheets:
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert actions.print_title_rows == "$3:$3"
    assert actions.page_setup.orientation == "landscape"
    page = files["html"].read_text("utf-8")
    assert "<h2>按责任单位</h2>" in page
    assert "<p id='reports'>报送情况：单位已报送 1/2，乡镇（街道）已报送 1/2。</p>" in page
    assert "<td>区公安局交警大队</td><td>未报送</td>" in page
    # one unit's own report
    mine = ledger.monthly_report(
        two_months, "2023-07", today=dt.date(2023, 8, 4), unit="丙镇人民政府"
    )
    assert (mine.totals["cases"], mine.unit) == (1, "丙镇人民政府")
    assert mine.reported[["kind", "name", "reported"]].values.tolist() == [
        ["unit", "丙镇人民政府", False],
        ["township", "丙镇", True],
    ]
    title = ledger.save_monthly_report(mine, tmp_path / "mine")["html"].read_text("utf-8")
    assert "<h1>校园及周边安全问题整改工作月报（2023年7月）（丙镇人民政府）</h1>" in title


# --- a safe sync: settings, dry run, confirmation ----------------------------------------


def test_a_sync_with_other_settings_is_refused_until_confirmed(path, tmp_path):
    ledger.sync_findings(path, many_findings(9), inputs=[], now=JUNE5)
    ledger.set_case(
        path, fid({"school_id": "s0", "hazard_id": "h0"}), status="已确认", now=at("2023-06-06")
    )
    other = (
        many_findings(9).iloc[:4].assign(rule_id="internet_cafe_100m_boundary", threshold_m=100.0)
    )
    other.index = pd.Index(
        finding_ids(other["school_id"], other["hazard_id"], other["rule_id"]), name="finding_id"
    )
    before = dump(path)
    with pytest.raises(LedgerError) as err:
        ledger.sync_findings(path, other, now=at("2023-06-10"))
    assert str(err.value) == (
        "the screening settings differ from those of the ledger's last sync (run 1 of "
        "2023-06-05): category internet_cafe: screened with internet_cafe_100m_boundary "
        "(100 m, boundary) instead of internet_cafe_200m (200 m, boundary). Finding ids include "
        "the rule id, so this sync would open 4 cases and close 8 of the 9 open cases as resolved "
        "in data (1 being handled kept open); nothing was changed. Preview it with `campus-geo "
        "ledger sync --dry-run`; if the new settings are meant, sync with "
        "--accept-changed-settings and --yes, as it closes more than a fifth of the open cases "
        "(Python: accept_changed_settings=True, confirm_closing=True), or sync into a new ledger"
    )
    preview = ledger.sync_findings(path, other, dry_run=True, now=at("2023-06-10"))
    assert dump(path) == before
    assert (len(preview.opened), len(preview.closed), len(preview.kept_open)) == (4, 8, 1)
    with pytest.raises(LedgerError, match=r"closes? .*more than 20%"):
        ledger.sync_findings(path, other, accept_changed_settings=True, now=at("2023-06-10"))
    assert dump(path) == before
    done = ledger.sync_findings(
        path, other, accept_changed_settings=True, confirm_closing=True, now=at("2023-06-10")
    )
    assert (done.opened, done.closed, done.kept_open) == (
        preview.opened,
        preview.closed,
        preview.kept_open,
    )
    settings = json.loads(ledger.read_runs(path).loc[2, "settings"])
    assert settings["rules"] == {
        "internet_cafe_100m_boundary": {
            "category": "internet_cafe",
            "profile": "boundary",
            "threshold_m": 100.0,
        }
    }
    assert settings["accepted_changes"] == list(preview.settings_changes)
    # the next sync compares with these settings: the same findings again need nothing
    assert ledger.sync_findings(path, other, now=at("2023-06-11")).settings_changes == ()


def test_what_counts_as_other_settings(path, tmp_path):
    osm, registry = tmp_path / "district.osm", tmp_path / "wangba.csv"
    osm.write_text("<osm/>", encoding="utf-8")
    registry.write_text("id\n", encoding="utf-8")
    ledger.sync_findings(
        path,
        make_findings(F1, F2, F3),
        inputs=[osm, registry],
        settings={"dist": None},
        now=JUNE5,
    )

    def changes(findings, inputs=(osm, registry), **kwargs):
        return ledger.sync_findings(
            path, findings, inputs=inputs, dry_run=True, **kwargs
        ).settings_changes

    same = make_findings(F1, F2, F3)
    assert changes(same) == ()
    assert changes(make_findings(F1, F2)) == ()  # a rule without findings now: venues gone
    assert changes(same, settings={"dist": 100}) == ("dist: None -> 100",)
    assert changes(same, inputs=(osm,)) == ("input wangba.csv of the last sync not given now",)
    assert changes(same, inputs=(osm,), partial=True) == ()
    walk = make_findings(F1 | {"profile": "walk"}, F2, F3)
    assert changes(walk) == ("rule internet_cafe_200m: 200 m, boundary -> 200 m, walk",)
    wider = make_findings(F1, F2 | {"threshold_m": 800.0}, F3)
    assert changes(wider) == ("rule water_500m: 500 m, boundary -> 800 m, boundary",)


# --- durability: kill in the middle, concurrent writers -----------------------------------

KILL_SCRIPT = r"""
import os, sys, time
from pathlib import Path
from campus_geo.ledger import xlsx_import as _ledger_xlsx
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
        ws.cell(row, 14).value = f"责任人{row}"
        ws.cell(row, 16).value = "已确认"
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
    # today in Beijing (the ledger's zone, Asia/Shanghai), whatever the machine's clock says
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
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


def save_findings_table(findings: pd.DataFrame, filepath: Path) -> Path:
    """Findings as a findings.csv (without geometry), as campus-geo screen writes it."""
    findings.reset_index().to_csv(filepath, index=False, encoding="utf-8-sig")
    return filepath


def test_cli_copy_escalate_joint_units_and_reports(three, tmp_path):
    db = three
    out = run(
        "ledger",
        "copy",
        fid(F2)[:8],
        "--to",
        "甲镇人民政府",
        "--to",
        "区水利局",
        "--why",
        "属地管理",
        "--who",
        "区公安局",
        "--ledger",
        db,
    ).output
    assert out == (
        f"Case {fid(F2)} (待核查):\n  copied_to:  -> 甲镇人民政府、区水利局  [copy, 区公安局]\n"
    )
    out = run(
        "ledger",
        "escalate",
        fid(F1),
        "--by",
        "区委政法委",
        "--deadline",
        "2099-12-31",
        "--who",
        "区委政法委",
        "--ledger",
        db,
    ).output
    assert "  supervisor:  -> 区委政法委  [escalate, 区委政法委]" in out
    assert "  deadline: 2023-07-05 -> 2099-12-31  [escalate, 区委政法委]" in out
    out = run(
        "ledger",
        "joint",
        fid(F3),
        "--lead",
        "区公安局交警大队",
        "--with",
        "区交通运输局",
        "--with",
        "丙镇人民政府",
        "--ledger",
        db,
    ).output
    assert "  responsible_unit: 区公安局 -> 区公安局交警大队  [joint, " in out
    assert "  joint_units:  -> 区交通运输局、丙镇人民政府  [joint, " in out
    listing = run(
        "ledger", "list", "--unit", "区水利局", "--today", "2023-06-06", "--ledger", db
    ).output
    assert listing.startswith("1 cases, 0 overdue.")
    assert "抄告：甲镇人民政府、区水利局" in listing
    assert run("ledger", "list", "--lead", "区教体局", "--ledger", db).output.startswith("2 cases")
    none = run("ledger", "list", "--unit", "区体育局", "--ledger", db).output
    assert none.splitlines()[1].startswith("No case of 区体育局 in the ledger; its units: ")
    shown = run("ledger", "show", fid(F1), "--ledger", db).output
    assert "督办/抄告 actions   督办：区委政法委（" in shown
    assert "执法单位 enforces   区公安局" in shown
    bad = run(
        "ledger",
        "escalate",
        fid(F1),
        "--by",
        "区委政法委",
        "--deadline",
        "2020-01-01",
        "--ledger",
        db,
        ok=False,
    )
    assert bad.exit_code == 2
    assert "of 督办 is before today" in bad.output
    xlsx = tmp_path / "交警.xlsx"
    assert (
        "Wrote"
        in run("ledger", "export", xlsx, "--unit", "区公安局交警大队", "--ledger", db).output
    )
    assert list(sheet_rows(xlsx)) == [fid(F3)]
    out = run("ledger", "import", xlsx, "--month", "2023-06", "--ledger", db).output
    assert "  report for 2023-06 of the unit 区公安局交警大队 recorded." in out
    out = run(
        "ledger",
        "reported",
        "--month",
        "2023-06",
        "--township",
        "甲镇",
        "--how",
        "纸质",
        "--ledger",
        db,
    ).output
    assert out == "Recorded: 甲镇 reported for 2023-06.\n"
    month = run(
        "ledger",
        "monthly",
        "--month",
        "2023-06",
        "--today",
        "2023-07-05",
        "--ledger",
        db,
        "--out",
        tmp_path / "r",
    ).output
    assert "Townships reported: 1 of 2 (甲镇); not yet: 丙镇." in month
    # 区公安局 was responsible for the June cases; the traffic police reported for June too
    assert "Units reported: 1 of 2 (区公安局交警大队); not yet: 区公安局." in month


def test_cli_sync_dry_run_and_confirmations(path, tmp_path):
    first = save_findings_table(many_findings(10), tmp_path / "a.csv")
    run("ledger", "sync", "--findings", first, "--ledger", path)
    fewer = save_findings_table(many_findings(10).iloc[:5], tmp_path / "b.csv")
    before = dump(path)
    dry = run("ledger", "sync", "--findings", fewer, "--ledger", path, "--dry-run").output
    assert dry.splitlines()[:2] == [
        "Dry run (nothing changed): the sync would open 0 cases, close 5 of the 10 open cases "
        "as resolved in data, reopen 0, update 0; 5 unchanged.",
        "It closes more than a fifth of the open cases: a sync needs --yes.",
    ]
    refused = run("ledger", "sync", "--findings", fewer, "--ledger", path, ok=False)
    assert refused.exit_code == 2
    assert "close 5 of the 10 open cases as resolved in data: more than 20%" in refused.output
    assert dump(path) == before
    done = run("ledger", "sync", "--findings", fewer, "--ledger", path, "--yes").output
    assert done.startswith("Ledger run 2: 0 cases opened, 5 closed as resolved in data")


# --- the demo's two months ---------------------------------------------------------------


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    from campus_geo.demo.story import run_ledger_story

    return run_ledger_story(tmp_path_factory.mktemp("story"))


def test_demo_story_counts(story):
    # one case per prohibited venue found (water, crossings, cameras are context), and
    # one per missing item of the two checklist registers
    assert len(story.june.opened) == 179
    assert story.checklists is not None
    assert len(story.checklists.opened) == 38
    # every row of the filled-in 台帐 applied but the one the police had changed
    assert len(story.imported.applied) == 216
    (conflict,) = story.imported.conflicts
    assert conflict.finding_id == story.conflict_case
    assert conflict.ledger_values == {"responsible_person": "民警 孙立平"}
    cases = ledger.read_cases(story.path, today=dt.date(2023, 8, 3))
    assert cases.loc[story.conflict_case, "responsible_person"] == "民警 孙立平"
    assert cases.loc[story.conflict_case, ["rule_id", "enforcing_unit"]].tolist() == [
        "checklist_school.gate_video",
        "区公安局",
    ]
    june = story.reports["2023-06"].totals
    # 2 lottery duplicates dismissed, 8 internet cafés rectified
    assert june == {
        "cases": 217,
        "opened": 217,
        "reopened": 0,
        "closed": 10,
        "rectified": 8,
        "dismissed": 2,
        "resolved": 0,
        "open": 207,
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
    # the open cases of the closed venues were all confirmed: data alone closes none of them
    assert story.july.closed == ()
    kept = cases.loc[list(story.july.kept_open)]
    assert len(kept) == 8
    assert set(kept["hazard_id"]) <= set(story.closed_venues)
    assert set(kept["absent_since"]) == {"2023-07-10"}
    # arcades, and a closed café's case at a second school; checked on site and rectified
    assert kept["category"].value_counts().to_dict() == {"arcade": 6, "internet_cafe": 2}
    assert story.progress["verified"] == story.july.kept_open
    assert set(kept["status"]) == {"rectified"}
    assert set(kept["rectification"]) == {"现场核实：场所已关闭"}
    july = story.reports["2023-07"].totals
    assert july == {
        "cases": 217,
        "opened": 0,
        "reopened": 1,
        "closed": 11,
        "rectified": 11,
        "dismissed": 0,
        "resolved": 0,
        "open": 197,
        "overdue": 111,  # the lottery case under 督办 has a new deadline
    }
    # the overdue cases at the end of July: open prohibited cases (due 07-05) and the
    # key water areas' missing signs, fences, patrols and owners (07-10)
    overdue = story.reports["2023-07"].overdue
    assert set(overdue["deadline"]) == {"2023-07-05", "2023-07-10"}
    assert (overdue["deadline"] == "2023-07-10").sum() == 10
    # (the report lists categories by their label)
    assert set(overdue.loc[overdue["deadline"] == "2023-07-10", "category"]) == {"重点水域防护"}
    # 214 confirmed after the import; 18 in rectification, 8 of them rectified; 8 no longer
    # found, checked and rectified; one rectified café reopened; 3 entertainment venues
    # rectified in July
    assert cases["status"].value_counts().to_dict() == {
        "confirmed": 189,
        "rectified": 18,
        "in_progress": 8,
        "dismissed": 2,
    }


def test_demo_story_is_consistent_with_its_findings(story):
    cases = ledger.read_cases(story.path, today=dt.date(2023, 8, 3))
    gone = cases["hazard_id"].isin(story.closed_venues)
    # every case of a closed venue is closed; those that were open were resolved in data
    assert set(cases.loc[gone, "status"]) <= {"rectified", "dismissed"}
    assert (cases["status"] == "resolved").sum() == len(story.july.closed) == 0
    history = ledger.read_history(story.path)
    sources = set(history["source"])
    assert {
        "sync run 1",
        "sync run 2",
        "set",
        "copy",
        "escalate",
        "import ledger_2023-06-12_filled.xlsx (revision 217)",
        "checklist 五个百分之百.xlsx",
        "checklist 重点水域检查.xlsx",
    } <= sources
    # the culture bureau's two reports changed notes; the townships' reports changed nothing
    assert len(sources) == 10
    assert {r.source.split(" (")[0] for r in story.unit_reports} == {
        "import ledger_区文化广电和旅游局_2023-07-03_filled.xlsx",
        "import ledger_区文化广电和旅游局_2023-08-02_filled.xlsx",
        "import ledger_杏花乡_2023-08-02_filled.xlsx",
        "import ledger_石桥镇_2023-08-02_filled.xlsx",
        "import ledger_桃源乡_2023-08-02_filled.xlsx",
    }
    for key in ("monthly_2023-06_html", "monthly_2023-07_xlsx", "ledger_xlsx", "filled"):
        assert story.files[key].exists()
    ws = openpyxl.load_workbook(story.files["ledger_xlsx"]).worksheets[0]
    assert ws.max_row == 3 + 217


def test_demo_story_map_colours_the_july_findings_by_status(story, tmp_path):
    from campus_geo import demo
    from campus_geo.demo.story import save_story_map
    from campus_geo.layers import layers_from_osm

    district = layers_from_osm(demo.DEMO_DIR / "district.osm")
    page = save_story_map(story, district, tmp_path / "ledger_map.html").read_text("utf-8")
    counts = dict(re.findall(r'\["line","([^"]+)","#[0-9a-f]{6}","",(\d+)\]', page))
    # the July findings at the end of July: the July report's 101 overdue venue cases (its
    # 10 overdue checklist cases have no measured line), the confirmed ones not yet due
    # (and the one under 督办), 3 rectified venues still in the data, 2 dismissed
    assert counts == {
        "逾期": "101",
        "已确认": "58",
        "待核查": "0",
        "整改中": "0",
        "已整改": "3",
        "复查已消除": "0",
        "误报": "2",
        "台帐无记录": "0",
    }
    assert sum(map(int, counts.values())) == len(story.july_findings)
    # the basemap its legend names: the district's streets, water and buildings
    blocks = re.findall(
        r'<script type="application/json" id="[^"]+_data">(.*?)</script>', page, re.S
    )
    base = json.loads(blocks[0])["base"]
    features = [len(part["features"]) for part in base["layers"]]
    assert len(features) == 3  # water, buildings, streets (as map.html draws them)
    assert min(features) > 0
    # the open case under 督办 is ringed at its venue; the one under 抄告 is a key water
    # area's checklist case, which has no place on the map (the register has no coordinates)
    assert f"{json.dumps('督办、抄告、联合整改')} : feature_group_" in page
    assert len(re.findall(r"var circle_marker_\w+ = L\.circleMarker\(", page)) == 1
    cases = ledger.read_cases(story.path)
    case = cases.loc[story.escalated_case]
    assert f"{case['hazard_name']}（{case['school_name']}）：督办：区委政法委（2023-07-12）" in page
    assert "抄告：" not in page


@pytest.fixture(scope="module")
def district():
    from campus_geo import demo
    from campus_geo.layers import layers_from_osm

    return layers_from_osm(demo.DEMO_DIR / "district.osm")


@pytest.fixture(scope="module")
def june_findings(district):
    return screen(district.schools, district.hazards, entrances=district.entrances)


def units_of(findings: pd.DataFrame) -> pd.Series:
    """Each finding's enforcing units, as the ledger reads them (responsible units before)."""
    column = "enforcing_units" if "enforcing_units" in findings.columns else "responsible_units"
    fallback = findings["responsible_units"].astype(str)
    units = findings[column].astype(str).where(findings[column].astype(str) != "", fallback)
    return units.map(split_units)


def test_demo_cases_belong_to_their_enforcing_units(story, june_findings):
    cases = ledger.read_cases(story.path)
    checklist = cases["category"].isin(["checklist_school", "checklist_water"])
    assert checklist.sum() == 38
    cases = cases[~checklist]  # the venues' cases: one per finding of the June screening
    assert len(cases) == len(june_findings)
    units = units_of(june_findings).reindex(cases.index)
    assert (cases["enforcing_unit"] == units.str[0]).all()
    assert (cases["participating_units"] == units.str[1:].map("、".join)).all()
    # no case belongs to a coordinating body: each to the unit that enforces its category
    assert not cases["responsible_unit"].isin(["区委政法委"]).any()
    assert (cases["responsible_unit"] == cases["enforcing_unit"]).all()
    assert (cases["lead_unit"] == "区委政法委").sum() > 0  # the lead stays recorded


def test_demo_list_by_unit_gives_the_units_own_cases(story, june_findings):
    listing = run("ledger", "list", "--unit", "区市场监督管理局", "--ledger", story.path).output
    listed = set(re.findall(r"^([0-9a-f]{16}) ", listing, flags=re.MULTILINE))
    units = units_of(june_findings)
    expected = set(units.index[units.map(lambda u: "区市场监督管理局" in u)])
    assert listed == expected
    assert listing.startswith(f"{len(expected)} cases, ")
    assert len(expected) > 18  # more than the cases it leads the enforcement of


def test_demo_copy_and_escalation_are_in_the_history_with_who(story):
    cases = ledger.read_cases(story.path, today=dt.date(2023, 8, 3))
    copied = cases.loc[story.copied_case]
    assert (copied["category"], copied["copied_to"]) == (
        "checklist_water",
        f"{copied['township']}人民政府",
    )
    (row,) = (
        ledger.read_history(story.path, story.copied_case)
        .query("source == 'copy'")
        .to_dict("records")
    )
    assert (row["field"], row["who"], row["at"]) == (
        "copied_to",
        copied["responsible_unit"],
        "2023-06-21T09:00:00",
    )
    escalated = cases.loc[story.escalated_case]
    assert escalated[
        ["category", "supervisor", "supervised_on", "deadline", "overdue"]
    ].tolist() == [
        "lottery",
        "区委政法委",
        "2023-07-12",
        "2023-08-15",
        False,
    ]
    rows = ledger.read_history(story.path, story.escalated_case).query("source == 'escalate'")
    assert rows[["field", "old", "new", "who", "why"]].values.tolist() == [
        ["supervisor", "", "区委政法委", "区委政法委", "逾期未整改，挂牌督办"],
        ["supervised_on", None, "2023-07-12", "区委政法委", "逾期未整改，挂牌督办"],
        ["deadline", "2023-07-05", "2023-08-15", "区委政法委", "逾期未整改，挂牌督办"],
    ]
    listing = run(
        "ledger", "list", "--unit", "区委政法委", "--today", "2023-08-03", "--ledger", story.path
    ).output
    assert listing.startswith("1 cases, 0 overdue.")
    assert "督办：区委政法委（2023-07-12）" in listing


def test_demo_monthly_report_by_unit_and_who_reported(story):
    june, july = story.reports["2023-06"], story.reports["2023-07"]
    assert june.reporters("unit", reported=True) == ["区文化广电和旅游局"]
    assert july.reporters("township", reported=True) == ["杏花乡", "桃源乡", "石桥镇"]
    assert len(july.reporters("township", reported=False)) == 6
    assert july.action_counts == {"escalate": 1, "copy": 0, "joint": 0}
    assert june.action_counts == {"escalate": 0, "copy": 1, "joint": 0}
    by_unit = july.by_responsible_unit
    assert by_unit.loc["合计", "cases"] == 217
    assert "区委政法委" not in by_unit.index
    wb = openpyxl.load_workbook(story.files["monthly_2023-07_xlsx"])
    ws = wb["按责任单位"]
    header = next(r for r in range(1, 12) if ws.cell(r, 1).value == "责任单位")
    rows = {
        ws.cell(r, 1).value: [c.value for c in ws[r]][1:] for r in range(header + 1, ws.max_row + 1)
    }
    for unit, counts in by_unit.iterrows():
        assert rows[unit] == counts.tolist()
    assert rows["合计"][7:9] == [197, 111]  # open at the end of July, overdue
    reported = wb["报送情况"]
    cells = {
        reported.cell(r, 2).value: [reported.cell(r, c).value for c in (1, 3, 5)]
        for r in range(4, reported.max_row + 1)
    }
    assert cells["区文化广电和旅游局"] == ["单位", "已报送", "区文化广电和旅游局"]
    assert cells["杏花乡"] == ["乡镇（街道）", "已报送", "杏花乡综治办 王建国"]
    assert cells["区市场监督管理局"] == ["单位", "未报送", None]
    assert cells["苇塘镇"] == ["乡镇（街道）", "未报送", None]
    monthly = run(
        "ledger",
        "monthly",
        "--month",
        "2023-07",
        "--today",
        "2023-08-03",
        "--ledger",
        story.path,
        "--out",
        story.path.parent / "cli",
    ).output
    assert "1 supervised (督办), 0 copied (抄告), 0 joint." in monthly
    assert "Townships reported: 3 of 9 (杏花乡、桃源乡、石桥镇); not yet: " in monthly
    assert re.search(
        r"Units reported: 1 of \d+ \(区文化广电和旅游局\); not yet: .*区市场监督管理局", monthly
    )
    assert "Reported for 2023-07: units 区文化广电和旅游局; townships 杏花乡、桃源乡、石桥镇." in (
        story.summary()
    )


def test_demo_sync_with_a_changed_distance_is_refused_previewed_then_applied(
    story, district, tmp_path
):
    import shutil

    db = tmp_path / "ledger.sqlite"
    shutil.copy(story.path, db)
    near = screen(district.schools, district.hazards, entrances=district.entrances, dist=100)
    files = save_findings(near, tmp_path / "dist100")

    def state() -> tuple[list, int]:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT * FROM cases ORDER BY finding_id").fetchall()
            count = conn.execute("SELECT count(*) FROM history").fetchone()[0]
        conn.close()
        return rows, count

    before = state()
    refused = run("ledger", "sync", "--findings", files["gpkg"], "--ledger", db, ok=False)
    assert refused.exit_code == 2
    assert refused.output.startswith(
        "campus-geo: error: the screening settings differ from those of the ledger's last sync "
        "(run 2 of 2023-07-10): category arcade: screened with arcade_100m_boundary (100 m, "
        "boundary) instead of arcade_200m (200 m, boundary);"
    )
    assert "nothing was changed" in refused.output
    assert state() == before
    dry = run("ledger", "sync", "--findings", files["gpkg"], "--ledger", db, "--dry-run").output
    assert state() == before
    counts = re.search(
        r"would open (\d+) cases, close (\d+) of the (\d+) open cases as resolved in data, "
        r"reopen (\d+), update (\d+); (\d+) unchanged\. (\d+) cases being handled",
        dry,
    )
    opened, closed, open_before, reopened, updated, unchanged, kept = map(int, counts.groups())
    # every finding id changes with the rule id: all open; all 159 open venue cases are
    # confirmed or in rectification, so data alone closes none of them (the 38 checklist
    # cases are not the screening's: a sync never touches them)
    assert (opened, closed, open_before, reopened, updated, unchanged) == (
        len(near),
        0,
        159,
        0,
        0,
        0,
    )
    assert kept == 159
    assert "Screening settings differ from the last sync:" in dry
    assert (
        "  category lottery: screened with lottery_100m_boundary (100 m, boundary) instead of "
        "lottery_200m" in dry
    )
    assert "category water" not in dry  # --dist applies to problem categories only
    done = run(
        "ledger", "sync", "--findings", files["gpkg"], "--ledger", db, "--accept-changed-settings"
    ).output
    assert done.startswith(
        f"Ledger run 3: {opened} cases opened, 0 closed as resolved in data, 0 reopened, "
        f"0 updated, 0 unchanged. {kept} cases being handled no longer found: kept open."
    )
    rows, count = state()
    assert (len(rows), count) == (len(before[0]) + opened, before[1] + opened + kept)
    notes = ledger.read_history(db).query("source == 'sync run 3' and field == 'absent_since'")
    assert len(notes) == kept
    assert "no longer found by the screening of" in notes["why"].iloc[0]


# --- the version a person saw: a stale edit is a conflict, never an overwrite -------------


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(three):
    case_id = fid(F1)
    version = int(ledger.read_cases(three).loc[case_id, "version"])
    ledger.set_case(
        three, case_id, status="confirmed", who="甲", now=at("2023-06-06"), expected_version=version
    )
    before = dump(three)
    with pytest.raises(ConflictError, match=rf"you edited version {version}, it is now version "):
        ledger.set_case(
            three,
            case_id,
            notes="乙的备注",
            who="乙",
            now=at("2023-06-07"),
            expected_version=version,
        )
    with pytest.raises(ConflictError, match=r"last change: 甲"):
        ledger.escalate_case(
            three,
            case_id,
            supervisor="区委政法委",
            deadline="2023-07-01",
            now=at("2023-06-07"),
            expected_version=version,
        )
    assert dump(three) == before
    after = ledger.set_case(
        three, case_id, notes="乙的备注", who="乙", expected_version=version + 1
    )
    assert (after["notes"], after["version"]) == ("乙的备注", version + 2)
    assert ledger.read_history(three, case_id)["who"].tolist()[-2:] == ["甲", "乙"]
