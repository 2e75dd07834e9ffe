"""The rectification ledger (整改工作台帐): every finding followed until it is closed.

The campaign registers every hazard in a ledger with a responsible unit and
person and a deadline, tracks it until it is fixed, and every unit reports
last month's progress before the 5th. campus_geo keeps the ledger in one
SQLite file (``ledger.sqlite`` by default, WAL mode, versioned schema; see
``_ledger_db``) and still speaks Excel to the people who fill it in.

Cases
    One case per finding, keyed by its stable ``finding_id`` (see
    :func:`campus_geo.screen.finding_ids`), with a status, the lead unit
    (牵头单位), a responsible unit (责任单位) and person (责任人), a deadline
    (整改时限), the reason of a dismissal or reopening, how and when it was
    rectified, and notes. Cases are never deleted.
Statuses
    待核查 ``pending`` -> 已确认 ``confirmed`` or 误报 ``dismissed`` (a reason is
    required) -> 整改中 ``in_progress`` -> 已整改 ``rectified`` (how, and the
    date). A confirmed hazard fixed at once may go straight to 已整改. A
    rectified case can be reopened (back to 整改中) and a dismissed one (back to
    待核查), each with a reason. 复查已消除 ``resolved`` is set by a screening
    in which the finding no longer appears. 逾期 (overdue) is not stored: an
    open case (待核查, 已确认, 整改中) is overdue when today is after its deadline.
    Any other change is refused with a message saying which statuses may follow.
History
    Every change of every case is a row of the history table: when, who, which
    field, old -> new, why, and its source (``set``, ``sync run 3``,
    ``import 台帐.xlsx``). The table is append-only (SQLite triggers refuse
    updates and deletions).
Sync with a screening (:func:`sync_findings`)
    A new finding opens a case (待核查) with the rule's first lead unit as the
    responsible unit and a deadline after :data:`DEFAULT_DEADLINE_DAYS` days
    by severity (30 days for ``prohibited``, 60 for ``risk`` and ``notice``).
    An open case whose finding is absent is closed as 复查已消除, and the run
    (with the SHA-256 of its inputs) is recorded. A rectified case whose
    hazard is still found is reopened (整改中) and flagged; a case resolved in
    data that is found again goes back to 待核查, flagged, with a new deadline.
    Syncing the same findings twice changes no case.

Examples
--------
>>> import datetime as dt, tempfile
>>> from pathlib import Path
>>> from campus_geo import demo, layers
>>> from campus_geo.screen import screen
>>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
>>> findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
>>> path = Path(tempfile.mkdtemp()) / "ledger.sqlite"
>>> june5 = dt.datetime(2023, 6, 5, 9, 0)
>>> result = sync_findings(path, findings, who="区教体局", now=june5)
>>> len(result.opened), len(result.closed)
(317, 0)
>>> case = read_cases(path).iloc[0]
>>> case["status"], case["responsible_unit"], case["deadline"]
('pending', '区委政法委', '2023-07-05')
>>> len(sync_findings(path, findings, now=june5).opened)
0
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from campus_geo._errors import InputDataError, LedgerError
from campus_geo.ledger.db import (
    CASES_QUERY,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    apply_change,
    as_of,
    check_change,
    connect,
    default_who,
    parse_date,
    read_transaction,
    resolve_case_id,
    status_code,
    with_overdue,
    write_transaction,
)
from campus_geo.ledger.monthly import MonthlyReport, monthly_report, save_monthly_report
from campus_geo.ledger.xlsx import Conflict, ImportResult, export_ledger, import_ledger
from campus_geo.settings import DEFAULT_LEDGER

__all__ = [
    "CLOSED_STATUSES",
    "DEFAULT_DEADLINE_DAYS",
    "DEFAULT_LEDGER",
    "OPEN_STATUSES",
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Conflict",
    "ImportResult",
    "MonthlyReport",
    "SyncResult",
    "export_ledger",
    "import_ledger",
    "monthly_report",
    "read_cases",
    "read_findings",
    "read_history",
    "read_runs",
    "save_monthly_report",
    "set_case",
    "status_by_finding",
    "sync_findings",
]

log = logging.getLogger(__name__)

#: File name of the ledger when none is given.
#: Days from opening a case to its default deadline, by the rule's severity.
#: Prohibited venues (网吧, KTV, 彩票 ...) get a month, as the campaign's
#: rectification phase asks for immediate fixes; risks and notices two months.
#: A severity not listed gets the longest of these.
DEFAULT_DEADLINE_DAYS: Final[Mapping[str, int]] = {"prohibited": 30, "risk": 60, "notice": 60}

_TEXT_COLUMNS: Final = (
    "school_id",
    "school_name",
    "township",
    "village",
    "hazard_id",
    "hazard_name",
    "category",
    "rule_id",
    "severity",
    "lead_units",
)
_NUMBER_COLUMNS: Final = ("distance_m", "threshold_m")
#: Case fields copied from each screening (changes are recorded in the history).
_SNAPSHOT: Final = (
    "school_name",
    "township",
    "village",
    "hazard_name",
    "category",
    "severity",
    "distance_m",
    "threshold_m",
    "lead_units",
    "lead_unit",
)


@dataclass(frozen=True)
class SyncResult:
    """What one sync of a screening did to the ledger.

    Attributes
    ----------
    run_id
        Number of the run in the ledger's ``runs`` table.
    opened, closed, reopened, updated
        Case ids: new cases; open cases closed as 复查已消除 (finding absent);
        rectified or resolved cases found again; cases whose finding's data
        (names, distance ...) changed.
    unchanged
        Number of findings whose case did not change.
    """

    run_id: int
    opened: tuple[str, ...]
    closed: tuple[str, ...]
    reopened: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: int
    inputs: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the command line."""
        return (
            f"Ledger run {self.run_id}: {len(self.opened)} cases opened, {len(self.closed)} "
            f"closed as resolved in data, {len(self.reopened)} reopened, {len(self.updated)} "
            f"updated, {self.unchanged} unchanged."
        )


def _findings_table(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The columns the ledger keeps, indexed by finding_id; problems named by row."""
    table = pd.DataFrame(frame)
    if "finding_id" not in table.columns:
        if table.index.name != "finding_id":
            msg = (
                f"{source} has no finding_id column; give the findings written by campus-geo screen"
            )
            raise InputDataError(msg)
        table = table.reset_index()
    missing = [c for c in (*_TEXT_COLUMNS, *_NUMBER_COLUMNS) if c not in table.columns]
    if missing:
        msg = (
            f"{source} lacks the column(s) {', '.join(missing)}; give findings.gpkg or "
            "findings.csv as written by campus-geo screen"
        )
        raise InputDataError(msg)
    problems = []
    ids = table["finding_id"].astype(object).fillna("").astype(str).str.strip()
    text = ids.to_numpy()
    # row numbers as in a spreadsheet: the header is row 1
    empty = np.flatnonzero(text == "")
    problems += [f"{source} row {pos + 2}, column finding_id: empty" for pos in empty[:10]]
    dupes = np.flatnonzero(ids.duplicated(keep=False).to_numpy() & (text != ""))
    if len(dupes):
        rows = ", ".join(f"{pos + 2} ({text[pos]})" for pos in dupes[:10])
        problems.append(f"{source}: duplicate finding_id in rows {rows}")
    out = pd.DataFrame(index=pd.Index(ids, name="finding_id", dtype="str"))
    for column in _TEXT_COLUMNS:
        values = table[column].astype(object)  # screen() gives categoricals for rule texts
        out[column] = values.where(values.notna(), "").astype(str).str.strip().to_numpy()
    out["lead_unit"] = [units.split("、")[0].strip() for units in out["lead_units"]]
    for column in _NUMBER_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce")
        for pos in np.flatnonzero(values.isna().to_numpy())[:10]:
            problems.append(f"{source} row {pos + 2}, column {column}: not a number of metres")
        out[column] = values.round(3).to_numpy()
    if problems:
        msg = f"{len(problems)} problem(s) in the findings: " + "; ".join(problems[:5])
        raise InputDataError(msg, problems)
    return out


def read_findings(filepath: str | Path) -> pd.DataFrame:
    """Read findings written by :func:`campus_geo.screen.save_findings` (.gpkg or .csv).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``finding_id``, with the columns the ledger keeps;
        distances in metres rounded to the millimetre.
    """
    path = Path(filepath)
    if not path.is_file():
        msg = f"findings file {path} does not exist; run `campus-geo screen` first"
        raise InputDataError(msg)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    elif suffix in (".gpkg", ".geojson", ".parquet", ".fgb"):
        import pyogrio

        table = pyogrio.read_dataframe(path, read_geometry=False)
    else:
        msg = f"findings file {path}: expected findings.gpkg or findings.csv, got {suffix!r}"
        raise InputDataError(msg)
    return _findings_table(table, source=str(path))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _sha256(filepath: str | Path) -> str:
    digest = hashlib.sha256()
    try:
        with Path(filepath).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        msg = f"cannot read input {filepath} to record its hash: {exc.strerror}"
        raise InputDataError(msg) from exc
    return digest.hexdigest()


def _digest(table: pd.DataFrame) -> str:
    """SHA-256 of the sorted finding ids with their distances (mm): what a run saw."""
    text = "\n".join(
        f"{i}\t{d:.3f}" for i, d in sorted(zip(table.index, table["distance_m"], strict=True))
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _deadline_days(deadline_days: Mapping[str, int] | None) -> dict[str, int]:
    days = dict(DEFAULT_DEADLINE_DAYS)
    for severity, value in (deadline_days or {}).items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            msg = f"deadline_days[{severity!r}] must be a positive number of days, got {value!r}"
            raise LedgerError(msg)
        days[severity] = value
    return days


def _deadline(severity: str, opened: dt.date, days: Mapping[str, int]) -> str:
    return (opened + dt.timedelta(days=days.get(severity, max(days.values())))).isoformat()


def _open_cases(
    conn: sqlite3.Connection,
    table: pd.DataFrame,
    *,
    at: dt.datetime,
    who: str,
    run_id: int,
    days: Mapping[str, int],
) -> None:
    today = at.date().isoformat()
    rows = []
    for fid, f in zip(table.index, _records(table), strict=True):
        rows.append(
            {
                **{k: f[k] for k in (*_TEXT_COLUMNS, *_NUMBER_COLUMNS, "lead_unit")},
                "finding_id": fid,
                "status": "pending",
                "responsible_unit": f["lead_unit"],
                "deadline": _deadline(f["severity"], at.date(), days),
                "opened_on": today,
                "opened_run": run_id,
            }
        )
    if not rows:
        return
    columns = list(rows[0])
    conn.executemany(
        f"INSERT INTO cases ({', '.join(columns)}) "  # column names are ours
        f"VALUES ({', '.join('?' * len(columns))})",
        [tuple(r[c] for c in columns) for r in rows],
    )
    conn.executemany(
        "INSERT INTO history (finding_id, at, who, field, old, new, why, source, run_id) "
        "VALUES (?, ?, ?, 'status', NULL, 'pending', ?, ?, ?)",
        [
            (
                r["finding_id"],
                at.isoformat(),
                who,
                f"第{run_id}次筛查立案 (opened by screening run {run_id})",
                f"sync run {run_id}",
                run_id,
            )
            for r in rows
        ],
    )


def _refresh_case(
    conn: sqlite3.Connection,
    case: Mapping[str, Any],
    finding: Mapping[str, Any],
    *,
    at: dt.datetime,
    who: str,
    run_id: int,
    days: Mapping[str, int],
) -> str:
    """Update a case whose finding is in the screening; 'reopened', 'updated' or ''."""
    changes: dict[str, Any] = {k: finding[k] for k in _SNAPSHOT if finding[k] != case[k]}
    why = f"第{run_id}次筛查数据更新 (screening run {run_id})"
    if case["status"] == "rectified":
        changes.update(status="in_progress", flag="reopened")
        why = (
            f"{case['rectified_on']}已整改，第{run_id}次筛查仍发现该隐患 (hazard still found by "
            f"screening run {run_id} after it was rectified on {case['rectified_on']})"
        )
    elif case["status"] == "resolved":
        changes.update(
            status="pending",
            flag="reappeared",
            deadline=_deadline(finding["severity"], at.date(), days),
        )
        why = (
            f"复查已消除后第{run_id}次筛查再次发现 (found again by screening run {run_id} "
            "after it was resolved in data)"
        )
    if not changes:
        return ""
    apply_change(
        conn, case, changes, at=at, who=who, why=why, source=f"sync run {run_id}", run_id=run_id
    )
    return "reopened" if "status" in changes else "updated"


def _close_missing(
    conn: sqlite3.Connection,
    cases: Iterable[Mapping[str, Any]],
    *,
    at: dt.datetime,
    who: str,
    run_id: int,
    evidence: str,
) -> list[str]:
    closed = []
    for case in cases:
        if case["status"] not in OPEN_STATUSES:
            continue
        why = f"第{run_id}次筛查未再发现 (finding absent from screening run {run_id}; {evidence})"
        apply_change(
            conn,
            case,
            {"status": "resolved", "flag": ""},
            at=at,
            who=who,
            why=why,
            source=f"sync run {run_id}",
            run_id=run_id,
        )
        closed.append(case["finding_id"])
    return closed


def sync_findings(
    ledger_path: str | Path,
    findings: pd.DataFrame | str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    partial: bool = False,
    deadline_days: Mapping[str, int] | None = None,
    who: str | None = None,
    now: dt.datetime | None = None,
) -> SyncResult:
    """Bring the ledger up to date with a screening, in one transaction.

    Parameters
    ----------
    ledger_path
        The ledger file; created when it does not exist.
    findings
        Findings from :func:`campus_geo.screen.screen`, or the path of the
        findings.gpkg / findings.csv it wrote.
    inputs
        Files the screening read (OSM extracts, registries, rules); their
        SHA-256 is recorded with the run, with that of a findings file.
    partial
        The screening covered only part of the area or of the hazard layers:
        open and reopen cases, but close none.
    deadline_days
        Days to the default deadline by severity, overriding
        :data:`DEFAULT_DEADLINE_DAYS`.
    who
        Recorded in the history (default: the login name).
    now
        Time of the run (default: now); tests and replays pass a fixed time.

    Returns
    -------
    SyncResult
    """
    inputs = list(inputs)
    if isinstance(findings, str | Path):
        table = read_findings(findings)
        inputs.insert(0, findings)
        source = str(findings)
    else:
        table = _findings_table(findings, source="findings")
        source = "findings (in memory)"
    days = _deadline_days(deadline_days)
    hashes = {str(p): _sha256(p) for p in inputs}
    at, who = as_of(now), who or default_who()
    digest = _digest(table)
    evidence = f"findings {digest[:12]}; inputs " + (
        ", ".join(f"{Path(p).name} {h[:12]}" for p, h in hashes.items()) or "not recorded"
    )
    with connect(ledger_path, create=True, check=True) as conn, write_transaction(conn):
        cursor = conn.execute(
            "INSERT INTO runs (at, who, source, findings_digest, inputs, n_findings, partial) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at.isoformat(), who, source, digest, json.dumps(hashes), len(table), int(partial)),
        )
        run_id = int(cursor.lastrowid or 0)
        existing = {r["finding_id"]: dict(r) for r in conn.execute("SELECT * FROM cases")}
        new = ~table.index.isin(list(existing))
        _open_cases(conn, table[new], at=at, who=who, run_id=run_id, days=days)
        outcome: dict[str, list[str]] = {"reopened": [], "updated": [], "": []}
        for fid, finding in zip(table.index[~new], _records(table[~new]), strict=True):
            what = _refresh_case(
                conn, existing[fid], finding, at=at, who=who, run_id=run_id, days=days
            )
            outcome[what].append(fid)
        closed: list[str] = []
        if not partial:
            present = set(table.index)
            absent = (case for fid, case in existing.items() if fid not in present)
            closed = _close_missing(conn, absent, at=at, who=who, run_id=run_id, evidence=evidence)
            still_open = sum(case["status"] in OPEN_STATUSES for case in existing.values())
            if len(closed) > 10 and 2 * len(closed) > still_open:
                log.warning(
                    "this screening closes %d of the %d open cases as resolved in data. Finding "
                    "ids include the rule id: if the rule table (or --dist/--profile) or the "
                    "area screened changed, sync with --partial or into another ledger",
                    len(closed),
                    still_open,
                )
        result = SyncResult(
            run_id=run_id,
            opened=tuple(table.index[new]),
            closed=tuple(closed),
            reopened=tuple(outcome["reopened"]),
            updated=tuple(outcome["updated"]),
            unchanged=len(outcome[""]),
            inputs=hashes,
        )
        conn.execute(
            "UPDATE runs SET opened = ?, closed = ?, reopened = ?, updated = ? WHERE run_id = ?",
            (len(result.opened), len(closed), len(result.reopened), len(result.updated), run_id),
        )
    log.info("%s (%s)", result.summary(), ledger_path)
    return result


def _iso(value: dt.date | str | None, what: str) -> str | None:
    try:
        parsed = parse_date(value)
    except ValueError as exc:
        msg = f"{what}: {exc}"
        raise LedgerError(msg) from exc
    return None if parsed is None else parsed.isoformat()


def set_case(
    ledger_path: str | Path,
    finding_id: str,
    *,
    status: str | None = None,
    responsible_unit: str | None = None,
    responsible_person: str | None = None,
    deadline: dt.date | str | None = None,
    reason: str | None = None,
    rectification: str | None = None,
    rectified_on: dt.date | str | None = None,
    notes: str | None = None,
    why: str = "",
    who: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Change one case as a person would, checked against the workflow.

    Parameters
    ----------
    ledger_path
        The ledger file.
    finding_id
        The case id, or a unique prefix of at least 6 characters.
    status
        New status: a code (``confirmed``) or a label (已确认, confirmed).
    responsible_unit, responsible_person, deadline, reason, rectification, rectified_on, notes
        New values (None leaves a field as it is). Dates as ``datetime.date``
        or text (2023-07-01, 2023/7/1, 2023年7月1日).
    why
        Why, for the history (default: `reason`).
    who
        Recorded in the history (default: the login name).
    now
        Time of the change (default: now).

    Returns
    -------
    dict
        The case after the change.

    Raises
    ------
    LedgerError
        Unknown case, illegal transition (the message says which statuses may
        follow), a dismissal or reopening without a reason, a rectification
        without how and when, a bad date. Nothing is changed then.
    """
    given: dict[str, Any] = {
        "status": None if status is None else status_code(status),
        "responsible_unit": responsible_unit,
        "responsible_person": responsible_person,
        "deadline": None if deadline is None else _iso(deadline, "deadline"),
        "reason": reason,
        "rectification": rectification,
        "rectified_on": None if rectified_on is None else _iso(rectified_on, "rectified_on"),
        "notes": notes,
    }
    # in the order of EDITABLE_FIELDS, so that the history lists the status change first
    changes = {
        key: value.strip() if isinstance(value, str) else value
        for key, value in given.items()
        if value is not None
    }
    at, who = as_of(now), who or default_who()
    with connect(ledger_path, check=True) as conn, write_transaction(conn):
        fid = resolve_case_id(conn, finding_id)
        case = dict(conn.execute("SELECT * FROM cases WHERE finding_id = ?", (fid,)).fetchone())
        problems = check_change(case, changes, today=at.date())
        if problems:
            msg = f"case {fid}: " + "; ".join(problems) + "; nothing was changed"
            raise LedgerError(msg)
        if changes.get("status", case["status"]) != case["status"]:
            changes["flag"] = ""
        apply_change(
            conn, case, changes, at=at, who=who, why=why or changes.get("reason", ""), source="set"
        )
        after = dict(conn.execute("SELECT * FROM cases WHERE finding_id = ?", (fid,)).fetchone())
    log.info("case %s set by %s: %s", fid, who, ", ".join(changes) or "no change")
    return after


def read_cases(
    ledger_path: str | Path,
    *,
    today: dt.date | None = None,
    statuses: Iterable[str] | None = None,
    overdue_only: bool = False,
) -> pd.DataFrame:
    """The ledger's cases, with overdue derived from the deadline.

    Parameters
    ----------
    ledger_path
        The ledger file.
    today
        The date overdue is judged on (default: today).
    statuses
        Only cases in these statuses (codes or labels).
    overdue_only
        Only overdue cases.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``finding_id``, ordered by township, school, rule and
        distance; dates as ISO text; ``overdue`` (bool) and ``days_overdue``
        (days since the deadline for an open case past it, else 0).
    """
    with connect(ledger_path) as conn:
        cases = pd.read_sql_query(
            CASES_QUERY,
            conn,
            index_col="finding_id",
        )
    cases = with_overdue(cases, today or dt.date.today())
    if statuses is not None:
        cases = cases[cases["status"].isin([status_code(s) for s in statuses])]
    if overdue_only:
        cases = cases[cases["overdue"]]
    return cases


def read_history(ledger_path: str | Path, finding_id: str | None = None) -> pd.DataFrame:
    """The history of every case, or of one (id or unique prefix), oldest first."""
    with connect(ledger_path) as conn, read_transaction(conn):
        if finding_id is None:
            history = pd.read_sql_query("SELECT * FROM history ORDER BY history_id", conn)
        else:
            fid = resolve_case_id(conn, finding_id)
            history = pd.read_sql_query(
                "SELECT * FROM history WHERE finding_id = ? ORDER BY history_id",
                conn,
                params=(fid,),
            )
    history["run_id"] = history["run_id"].astype("Int64")
    for column in ("old", "new"):  # None: no value before (a new case) or after (a cleared date)
        history[column] = history[column].astype(object).where(history[column].notna(), None)
    return history


def read_runs(ledger_path: str | Path) -> pd.DataFrame:
    """The screening runs synced into the ledger, with their inputs' SHA-256 (JSON)."""
    with connect(ledger_path) as conn:
        return pd.read_sql_query("SELECT * FROM runs ORDER BY run_id", conn, index_col="run_id")


def status_by_finding(
    ledger_path: str | Path, *, today: dt.date | None = None, overdue: bool = True
) -> pd.Series:
    """Each case's status by finding id, for colouring maps.

    Parameters
    ----------
    ledger_path
        The ledger file.
    today
        The date overdue is judged on (default: today).
    overdue
        Give ``"overdue"`` instead of the status of open cases past their deadline.

    Returns
    -------
    pandas.Series
        Index ``finding_id``, values status codes (:data:`STATUSES`, and
        ``"overdue"``), name ``status``.
    """
    cases = read_cases(ledger_path, today=today)
    status = cases["status"].copy()
    if overdue:
        status[cases["overdue"]] = "overdue"
    return status.rename("status")
