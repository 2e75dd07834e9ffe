"""The rectification ledger (整改工作台帐): every finding followed until it is closed.

The campaign registers every hazard in a ledger with a responsible unit and
person and a deadline, tracks it until it is fixed, and every unit reports
last month's progress before the 5th. campus_geo keeps the ledger in one
SQLite file (``ledger.sqlite`` by default, WAL mode, versioned schema; see
:mod:`campus_geo.ledger.db`) and still speaks Excel to the people who fill it in.
This module is the public API; the parts live in :mod:`~campus_geo.ledger.sync`,
:mod:`~campus_geo.ledger.actions`, :mod:`~campus_geo.ledger.units`,
:mod:`~campus_geo.ledger.xlsx`, :mod:`~campus_geo.ledger.xlsx_import` and
:mod:`~campus_geo.ledger.monthly`.

Cases
    One case per finding, keyed by its stable ``finding_id`` (see
    :func:`campus_geo.screen.finding_ids`), with a status, the lead units
    (牵头单位), the enforcing unit (执法单位) and participating units (配合单位)
    of the finding's category, a responsible unit (责任单位: the enforcing unit
    until a person reassigns it) and person (责任人), a deadline (整改时限),
    the reason of a dismissal or reopening, how and when it was rectified,
    notes, and the actions 抄告, 督办 and 联合整改. Cases are never deleted.
    A unit's own cases are those it is responsible for, enforces, takes
    part in, was copied or supervises (:mod:`campus_geo.ledger.units`).
Statuses
    待核查 ``pending`` -> 已确认 ``confirmed`` or 误报 ``dismissed`` (a reason is
    required) -> 整改中 ``in_progress`` -> 已整改 ``rectified`` (how, and the
    date). A confirmed hazard fixed at once may go straight to 已整改, and an
    import row that gives how and when may take a 待核查 case there in one
    visit (two steps in the history). A rectified case can be reopened (back
    to 整改中) and a dismissed one (back to 待核查), each with a reason.
    复查已消除 ``resolved`` is set by a screening in which the finding of a
    case not yet verified no longer appears. 逾期 (overdue) is not stored: an
    open case (待核查, 已确认, 整改中) is overdue when today is after its
    deadline. Any other change is refused with a message saying which
    statuses may follow.
History
    Every change of every case is a row of the history table: when, who, which
    field, old -> new, why, and its source (``set``, ``copy``, ``escalate``,
    ``joint``, ``sync run 3``, ``import 台帐.xlsx``). The table is append-only
    (SQLite triggers refuse updates and deletions).
Sync with a screening (:func:`sync_findings`)
    See :mod:`campus_geo.ledger.sync`: new findings open cases assigned to
    their enforcing unit, with a deadline after :data:`DEFAULT_DEADLINE_DAYS`
    days by severity; absent findings close the cases not yet verified and
    flag those being handled; changed screening settings and syncs that close
    more than a fifth of the open cases are refused unless confirmed; a dry
    run shows what a sync would do. Syncing the same findings twice changes
    no case.

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
>>> len(result.opened) == len(findings), len(result.closed)
(True, 0)
>>> case = read_cases(path).loc[result.opened[0]]
>>> case["status"], case["responsible_unit"] == case["enforcing_unit"] != "区委政法委"
('pending', True)
>>> len(sync_findings(path, findings, now=june5).opened)
0
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from campus_geo._errors import LedgerError
from campus_geo.ledger.actions import (
    ACTION_LABELS,
    actions_layer,
    copy_case,
    describe_actions,
    escalate_case,
    joint_case,
)
from campus_geo.ledger.db import (
    CASES_QUERY,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    as_of,
    change_case,
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
from campus_geo.ledger.sync import (
    DEFAULT_DEADLINE_DAYS,
    MAX_CLOSING_SHARE,
    SyncResult,
    read_findings,
    sync_findings,
)
from campus_geo.ledger.units import REPORT_KINDS, add_report, lead_mask, report_month, unit_mask
from campus_geo.ledger.xlsx import export_ledger
from campus_geo.ledger.xlsx_import import Conflict, ImportResult, import_ledger
from campus_geo.settings import DEFAULT_LEDGER

__all__ = [
    "ACTION_LABELS",
    "CLOSED_STATUSES",
    "DEFAULT_DEADLINE_DAYS",
    "DEFAULT_LEDGER",
    "MAX_CLOSING_SHARE",
    "OPEN_STATUSES",
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Conflict",
    "ImportResult",
    "MonthlyReport",
    "SyncResult",
    "actions_layer",
    "copy_case",
    "describe_actions",
    "escalate_case",
    "export_ledger",
    "import_ledger",
    "joint_case",
    "monthly_report",
    "read_cases",
    "read_findings",
    "read_history",
    "read_reports",
    "read_runs",
    "record_report",
    "save_monthly_report",
    "set_case",
    "status_by_finding",
    "sync_findings",
]

log = logging.getLogger(__name__)


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
    expected_version: int | None = None,
    source: str = "set",
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
    expected_version
        The case's ``version`` the person edited (the review desk sends it):
        when the case has changed since, nothing is changed and
        :class:`~campus_geo._errors.ConflictError` says so (None: no check).
    source
        The source recorded in the history (``set``; the desk writes ``desk``).

    Returns
    -------
    dict
        The case after the change.

    Raises
    ------
    ConflictError
        The case changed after `expected_version`.
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
        after = change_case(
            conn,
            finding_id,
            changes,
            at=at,
            who=who,
            why=why or changes.get("reason", ""),
            source=source,
            expected_version=expected_version,
        )
    fid = after["finding_id"]
    log.info("case %s set by %s: %s", fid, who, ", ".join(changes) or "no change")
    return after


def read_cases(
    ledger_path: str | Path,
    *,
    today: dt.date | None = None,
    statuses: Iterable[str] | None = None,
    overdue_only: bool = False,
    unit: str | None = None,
    lead: str | None = None,
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
    unit
        Only the cases that are this unit's own: it is their responsible,
        enforcing or participating unit, takes part in their joint
        rectification, was copied (抄告) or supervises them (督办); see
        :mod:`campus_geo.ledger.units`.
    lead
        Only the cases this unit leads (one of their lead units, 牵头单位).

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
    cases = with_overdue(cases, today or as_of(None).date())
    if statuses is not None:
        cases = cases[cases["status"].isin([status_code(s) for s in statuses])]
    if overdue_only:
        cases = cases[cases["overdue"]]
    if unit is not None:
        cases = cases[unit_mask(cases, unit)]
    if lead is not None:
        cases = cases[lead_mask(cases, lead)]
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
    """The screening runs synced into the ledger, with their inputs' SHA-256 and settings (JSON)."""
    with connect(ledger_path) as conn:
        return pd.read_sql_query("SELECT * FROM runs ORDER BY run_id", conn, index_col="run_id")


def record_report(
    ledger_path: str | Path,
    *,
    unit: str | None = None,
    township: str | None = None,
    month: str | None = None,
    source: str = "record",
    who: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Record that a unit or a township has reported (报送) for a month, e.g. on paper.

    An import of a filled-in 台帐 records its report itself
    (:func:`import_ledger`); this is for the reports that come otherwise.

    Parameters
    ----------
    ledger_path
        The ledger file.
    unit, township
        Who reported: one of the two.
    month
        The month reported on, ``YYYY-MM`` (default: the month before when
        today is the 1st to the 5th, else this month).
    source
        How the report came (kept with it).
    who
        Who records it (default: the login name).
    now
        Time of the record (default: now).

    Returns
    -------
    str
        The month recorded.
    """
    if (unit is None) == (township is None):
        msg = "record_report: name either the unit or the township that reported"
        raise LedgerError(msg)
    at, who = as_of(now), who or default_who()
    kind, name = ("unit", unit) if unit is not None else ("township", township)
    assert name is not None
    month = _month(month) if month else report_month(at.date())
    with connect(ledger_path, check=True) as conn, write_transaction(conn):
        add_report(conn, month=month, kind=kind, name=name, at=at, who=who, source=source)
    log.info("%s %s reported for %s", REPORT_KINDS[kind][1], name, month)
    return month


def _month(text: str) -> str:
    try:
        first = parse_date(f"{text.strip()}-01")
    except ValueError as exc:
        msg = f"month {text!r}: write it as YYYY-MM, e.g. 2023-06"
        raise LedgerError(msg) from exc
    assert first is not None
    return f"{first.year:04d}-{first.month:02d}"


def read_reports(ledger_path: str | Path, month: str | None = None) -> pd.DataFrame:
    """The record of the units' and townships' reports (one row per report received)."""
    with connect(ledger_path) as conn:
        if month is None:
            return pd.read_sql_query("SELECT * FROM reports ORDER BY report_id", conn)
        return pd.read_sql_query(
            "SELECT * FROM reports WHERE month = ? ORDER BY report_id",
            conn,
            params=(_month(month),),
        )


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
