"""Sync a screening into the ledger: open, close and reopen cases, and refuse what looks wrong.

A new finding opens a case (待核查) whose responsible unit is its enforcing
unit (see :mod:`campus_geo.ledger.units`) and whose deadline follows the
rule's severity. For a finding already in the ledger the case takes the
finding's new data (names, distance, units: each change in the history); a
responsible unit that no person set follows the enforcing unit; a rectified
case still found is reopened (整改中, flagged) and a case resolved in data
found again is 待核查 again with a new deadline.

A finding absent from the screening closes its case as 复查已消除 only when
nobody has verified the case yet (待核查). A case being handled (已确认,
整改中) stays open: a unit has confirmed the hazard and answers for it, and a
venue missing from one screening may be missing from the data only (an
extract not yet updated, a renamed venue, other settings). Its history says
"no longer found by the screening of <date>" and ``absent_since`` keeps the
date until the unit closes it or a screening finds it again.

Three guards, each with a preview (``dry_run=True``, ``--dry-run``) that
changes nothing:

- the **screening settings** of each run are recorded in ``runs.settings``
  (see :mod:`campus_geo.ledger.runs`: the rules as the findings show them,
  the names of the input files, what the caller declares with
  ``settings=``). A sync whose settings differ from the last sync's is
  refused, with the difference, unless ``accept_changed_settings=True``;
- a sync that would close more than a fifth (:data:`MAX_CLOSING_SHARE`) of
  the open cases is refused unless ``confirm_closing=True``;
- ``partial=True`` (a screening of part of the area or of the layers)
  closes nothing and skips the comparison of input files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from campus_geo._errors import InputDataError, LedgerError
from campus_geo.ledger.db import (
    OPEN_STATUSES,
    apply_change,
    as_of,
    connect,
    default_who,
    write_transaction,
)
from campus_geo.ledger.runs import last_settings, run_settings, settings_differences
from campus_geo.ledger.units import join_units, split_units

__all__ = [
    "ANALYSIS_CATEGORIES",
    "CHECKLIST_CATEGORIES",
    "DEFAULT_DEADLINE_DAYS",
    "MAX_CLOSING_SHARE",
    "SyncResult",
    "insert_cases",
    "read_findings",
    "sync_findings",
]

log = logging.getLogger(__name__)

#: Days from opening a case to its default deadline, by the rule's severity.
#: Prohibited venues (网吧, KTV, 彩票 ...) get a month, as the campaign's
#: rectification phase asks for immediate fixes; risks and notices two months.
#: A severity not listed gets the longest of these.
DEFAULT_DEADLINE_DAYS: Final[Mapping[str, int]] = {"prohibited": 30, "risk": 60, "notice": 60}
#: Largest share of the open cases a sync closes without ``confirm_closing=True``.
MAX_CLOSING_SHARE: Final = 0.2
#: Statuses of cases being handled: never closed by a screening alone.
HANDLED_STATUSES: Final = ("confirmed", "in_progress")
#: Categories of the cases of the campaign checklists (五个百分之百, key water areas):
#: a screening never closes or updates them (see :mod:`campus_geo.ledger.checklists`).
CHECKLIST_CATEGORIES: Final = ("checklist_school", "checklist_water")
#: Categories of the problems the analyses name (:mod:`campus_geo.ledger.analysis_cases`):
#: opened and closed by the analyses only, never by a screening sync.
ANALYSIS_CATEGORIES: Final = ("traffic_gap", "camera_gap")
_NOT_SCREENED: Final = (*CHECKLIST_CATEGORIES, *ANALYSIS_CATEGORIES)

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
#: Columns read when present: ``enforcing_units`` (from the rule table's competences),
#: else ``responsible_units``, name the enforcing and participating units.
_OPTIONAL_COLUMNS: Final = ("profile", "responsible_units", "enforcing_units")
_NUMBER_COLUMNS: Final = ("distance_m", "threshold_m")
_CASE_COLUMNS: Final = (
    *_TEXT_COLUMNS,
    *_NUMBER_COLUMNS,
    "lead_unit",
    "enforcing_unit",
    "participating_units",
)
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
    "enforcing_unit",
    "participating_units",
)


@dataclass(frozen=True)
class SyncResult:
    """What one sync of a screening did to the ledger (or would do: `dry_run`).

    Attributes
    ----------
    run_id
        Number of the run in the ledger's ``runs`` table (of a dry run: the
        number the run would get).
    opened, closed, reopened, updated
        Case ids: new cases; open cases closed as 复查已消除 (finding absent,
        case not yet verified); rectified or resolved cases found again;
        cases whose finding's data (names, distance, units ...) changed.
    unchanged
        Number of findings whose case did not change.
    inputs
        SHA-256 of each input file.
    kept_open
        Cases being handled (已确认, 整改中) whose finding is absent: kept
        open, with a note in the history the first time.
    settings_changes
        How the screening settings differ from the last sync's (empty: same).
    open_before
        Open cases before the sync.
    dry_run
        Nothing was changed: the counts say what the sync would do.
    """

    run_id: int
    opened: tuple[str, ...]
    closed: tuple[str, ...]
    reopened: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: int
    inputs: dict[str, str] = field(default_factory=dict)
    kept_open: tuple[str, ...] = ()
    settings_changes: tuple[str, ...] = ()
    open_before: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        """One line for the command line (a dry run: what the sync would do, and the differences)."""
        kept = (
            f" {len(self.kept_open)} cases being handled no longer found: kept open."
            if self.kept_open
            else ""
        )
        if not self.dry_run:
            return (
                f"Ledger run {self.run_id}: {len(self.opened)} cases opened, {len(self.closed)} "
                f"closed as resolved in data, {len(self.reopened)} reopened, {len(self.updated)} "
                f"updated, {self.unchanged} unchanged.{kept}"
            )
        lines = [
            f"Dry run (nothing changed): the sync would open {len(self.opened)} cases, close "
            f"{len(self.closed)} of the {self.open_before} open cases as resolved in data, reopen "
            f"{len(self.reopened)}, update {len(self.updated)}; {self.unchanged} unchanged.{kept}"
        ]
        if self.settings_changes:
            lines.append("Screening settings differ from the last sync:")
            lines += [f"  {change}" for change in self.settings_changes]
        return "\n".join(lines)

    @property
    def closes_too_many(self) -> bool:
        """True when the sync closes more than :data:`MAX_CLOSING_SHARE` of the open cases."""
        return len(self.closed) > MAX_CLOSING_SHARE * self.open_before


def _units(table: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """Lead unit, enforcing unit and participating units of each finding."""
    lead = [(split_units(u) or [""])[0] for u in table["lead_units"]]
    enforcing, participating = [], []
    for row in table[["enforcing_units", "responsible_units", "lead_units"]].itertuples(
        index=False
    ):
        units = split_units(row[0]) or split_units(row[1]) or split_units(row[2])
        enforcing.append(units[0] if units else "")
        participating.append(join_units(units[1:]))
    return lead, enforcing, participating


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
    for column in (*_TEXT_COLUMNS, *_OPTIONAL_COLUMNS):
        if column not in table.columns:
            out[column] = ""
            continue
        values = table[column].astype(object)  # screen() gives categoricals for rule texts
        out[column] = values.where(values.notna(), "").astype(str).str.strip().to_numpy()
    out["lead_unit"], out["enforcing_unit"], out["participating_units"] = _units(out)
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
        Indexed by ``finding_id``, with the columns the ledger keeps (the
        lead, enforcing and participating units among them); distances in
        metres rounded to the millimetre.
    """
    path = Path(filepath)
    if not path.is_file():
        msg = f"findings file {path} does not exist; run `campus-geo screen` first"
        raise InputDataError(msg)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".gpkg", ".geojson", ".parquet", ".fgb"):
        msg = f"findings file {path}: expected findings.gpkg or findings.csv, got {suffix!r}"
        raise InputDataError(msg)
    import pyogrio.errors

    try:
        if suffix == ".csv":
            table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        else:
            table = pyogrio.read_dataframe(path, read_geometry=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = "empty" if isinstance(exc, pd.errors.EmptyDataError) else "not UTF-8 CSV"
        msg = (
            f"findings file {path} is not a findings table ({reason}); give the findings.gpkg "
            "or findings.csv that `campus-geo screen` wrote"
        )
        raise InputDataError(msg) from exc
    except pyogrio.errors.DataSourceError as exc:
        msg = (
            f"findings file {path} cannot be read as a GIS file ({exc}); give the "
            "findings.gpkg or findings.csv that `campus-geo screen` wrote"
        )
        raise InputDataError(msg) from exc
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


# --- the plan of a sync ------------------------------------------------------------------


@dataclass
class _Plan:
    opened: list[str] = field(default_factory=list)
    # (case, changes, kind): kind "reopened", "updated" or "found" (absent before, found again)
    refresh: list[tuple[dict[str, Any], dict[str, Any], str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)  # handled and absent

    def outcome(self, kind: str) -> tuple[str, ...]:
        return tuple(c["finding_id"] for c, _, k in self.refresh if k == kind)


def _person_set_units(conn: sqlite3.Connection) -> set[str]:
    """Cases whose responsible unit a person set (by hand, import or joint rectification)."""
    return {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT finding_id FROM history "
            "WHERE field = 'responsible_unit' AND source NOT LIKE 'sync run %'"
        )
    }


def _refresh(
    case: Mapping[str, Any],
    finding: Mapping[str, Any],
    *,
    person_set: bool,
    today: dt.date,
    days: Mapping[str, int],
) -> tuple[dict[str, Any], str]:
    """The changes of a case whose finding is in the screening, and their kind ('' for none)."""
    changes: dict[str, Any] = {k: finding[k] for k in _SNAPSHOT if finding[k] != case[k]}
    enforcing = finding["enforcing_unit"]
    if not person_set and enforcing and case["responsible_unit"] != enforcing:
        changes["responsible_unit"] = enforcing
    kind = "updated" if changes else ""
    if case["absent_since"]:
        changes["absent_since"] = None
        kind = "found"
    if case["status"] == "rectified":
        changes.update(status="in_progress", flag="reopened")
        kind = "reopened"
    elif case["status"] == "resolved":
        changes.update(
            status="pending",
            flag="reappeared",
            deadline=_deadline(finding["severity"], today, days),
        )
        kind = "reopened"
    return changes, kind


def _plan(
    table: pd.DataFrame,
    existing: Mapping[str, dict[str, Any]],
    person_set: set[str],
    *,
    partial: bool,
    today: dt.date,
    days: Mapping[str, int],
) -> _Plan:
    plan = _Plan()
    present = set(table.index)
    for fid, finding in zip(table.index, _records(table), strict=True):
        case = existing.get(fid)
        if case is None:
            plan.opened.append(fid)
            continue
        changes, kind = _refresh(
            case, finding, person_set=fid in person_set, today=today, days=days
        )
        if kind:
            plan.refresh.append((case, changes, kind))
        else:
            plan.unchanged.append(fid)
    if not partial:
        for fid, case in existing.items():
            if fid in present:
                continue
            if case["status"] == "pending":
                plan.closed.append(case)
            elif case["status"] in HANDLED_STATUSES:
                plan.kept.append(case)
    return plan


# --- writing ----------------------------------------------------------------------------


def insert_cases(
    conn: sqlite3.Connection,
    rows: list[dict[str, Any]],
    *,
    at: dt.datetime,
    who: str,
    why: Callable[[Mapping[str, Any]], str],
    source: str,
    run_id: int | None = None,
) -> None:
    """Insert new cases (status 待核查) with the history row of each opening.

    The one path that opens cases: the screening sync and the campaign
    checklists (:mod:`campus_geo.ledger.checklists`). Inside the caller's
    write transaction; each row holds the case's columns (``finding_id``,
    ``status`` and ``responsible_unit`` among them); `why` gives the history
    text of a row.
    """
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
        "VALUES (?, ?, ?, 'status', NULL, ?, ?, ?, ?)",
        [(r["finding_id"], at.isoformat(), who, r["status"], why(r), source, run_id) for r in rows],
    )


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
                **{k: f[k] for k in _CASE_COLUMNS},
                "finding_id": fid,
                "status": "pending",
                "responsible_unit": f["enforcing_unit"] or f["lead_unit"],
                "deadline": _deadline(f["severity"], at.date(), days),
                "opened_on": today,
                "opened_run": run_id,
            }
        )
    insert_cases(
        conn,
        rows,
        at=at,
        who=who,
        why=lambda r: (
            f"第{run_id}次筛查立案，责任单位{r['responsible_unit']} "
            f"(opened by screening run {run_id}; responsible unit: the enforcing unit)"
        ),
        source=f"sync run {run_id}",
        run_id=run_id,
    )


def _why(case: Mapping[str, Any], changes: Mapping[str, Any], kind: str, run_id: int) -> str:
    if kind == "reopened" and case["status"] == "rectified":
        return (
            f"{case['rectified_on']}已整改，第{run_id}次筛查仍发现该隐患 (hazard still found by "
            f"screening run {run_id} after it was rectified on {case['rectified_on']})"
        )
    if kind == "reopened":
        return (
            f"复查消除后第{run_id}次筛查再次发现 (found again by screening run {run_id} "
            "after it was resolved in data)"
        )
    why = f"第{run_id}次筛查数据更新 (screening run {run_id})"
    if kind == "found":
        why = (
            f"{case['absent_since']}起未再发现，第{run_id}次筛查再次发现 (found again by "
            f"screening run {run_id})"
        )
    if "responsible_unit" in changes:
        why += (
            f"；责任单位按管理权限确定为{changes['responsible_unit']} (responsible unit: "
            "the unit that enforces the category by competence)"
        )
    return why


def _apply(
    conn: sqlite3.Connection,
    plan: _Plan,
    table: pd.DataFrame,
    *,
    at: dt.datetime,
    who: str,
    run_id: int,
    days: Mapping[str, int],
    evidence: str,
) -> None:
    source = f"sync run {run_id}"
    _open_cases(conn, table.loc[plan.opened], at=at, who=who, run_id=run_id, days=days)
    for case, changes, kind in plan.refresh:
        why = _why(case, changes, kind, run_id)
        apply_change(conn, case, changes, at=at, who=who, why=why, source=source, run_id=run_id)
    absent = f"第{run_id}次筛查未再发现 (finding absent from screening run {run_id}; {evidence})"
    for case in plan.closed:
        apply_change(
            conn,
            case,
            {"status": "resolved", "flag": ""},
            at=at,
            who=who,
            why=absent,
            source=source,
            run_id=run_id,
        )
    day = at.date().isoformat()
    for case in plan.kept:
        if case["absent_since"]:
            continue  # noted by an earlier run
        why = (
            f"{day}第{run_id}次筛查未再发现；案件在办，未自动办结，请责任单位核实后办结 (no longer "
            f"found by the screening of {day}, run {run_id}; kept open because it is being "
            f"handled: the responsible unit closes it after checking; {evidence})"
        )
        apply_change(
            conn, case, {"absent_since": day}, at=at, who=who, why=why, source=source, run_id=run_id
        )


def _refusal(result: SyncResult, baseline: tuple[int, str, dict[str, Any]] | None) -> str:
    counts = (
        f"this sync would open {len(result.opened)} cases and close {len(result.closed)} of the "
        f"{result.open_before} open cases as resolved in data"
        + (f" ({len(result.kept_open)} being handled kept open)" if result.kept_open else "")
    )
    if result.settings_changes and baseline is not None:
        run_id, day, _ = baseline
        also = (
            " and --yes, as it closes more than a fifth of the open cases (Python: "
            "accept_changed_settings=True, confirm_closing=True)"
            if result.closes_too_many
            else " (Python: accept_changed_settings=True)"
        )
        return (
            f"the screening settings differ from those of the ledger's last sync (run {run_id} "
            f"of {day}): {'; '.join(result.settings_changes)}. Finding ids include the rule id, "
            f"so {counts}; nothing was changed. Preview it with `campus-geo ledger sync "
            "--dry-run`; if the new settings are meant, sync with --accept-changed-settings"
            f"{also}, or sync into a new ledger"
        )
    return (
        f"{counts}: more than {MAX_CLOSING_SHARE:.0%} of them; nothing was changed. If the "
        "screening covered only part of the area or of the hazard layers, sync with --partial; "
        "if those venues are really gone, confirm with --yes (Python: confirm_closing=True)"
    )


def _has_ledger(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def sync_findings(
    ledger_path: str | Path,
    findings: pd.DataFrame | str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    partial: bool = False,
    deadline_days: Mapping[str, int] | None = None,
    settings: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    accept_changed_settings: bool = False,
    confirm_closing: bool = False,
    who: str | None = None,
    now: dt.datetime | None = None,
) -> SyncResult:
    """Bring the ledger up to date with a screening, in one transaction.

    Parameters
    ----------
    ledger_path
        The ledger file; created when it does not exist (not by a dry run).
    findings
        Findings from :func:`campus_geo.screen.screen`, or the path of the
        findings.gpkg / findings.csv it wrote.
    inputs
        Files the screening read (OSM extracts, registries, rules); their
        SHA-256 is recorded with the run, with that of a findings file, and
        their names are part of the screening settings.
    partial
        The screening covered only part of the area or of the hazard layers:
        open and reopen cases, but close none.
    deadline_days
        Days to the default deadline by severity, overriding
        :data:`DEFAULT_DEADLINE_DAYS`.
    settings
        Settings of the screening to record and compare besides those the
        findings show (e.g. ``{"rules": "my_rules.toml", "dist": None}``):
        JSON-ready values.
    dry_run
        Change nothing; the result says what the sync would do and how the
        settings differ (see :meth:`SyncResult.summary`).
    accept_changed_settings
        Sync even when the screening settings differ from the last sync's.
    confirm_closing
        Sync even when it closes more than :data:`MAX_CLOSING_SHARE` of the
        open cases.
    who
        Recorded in the history (default: the login name).
    now
        Time of the run (default: now); tests and replays pass a fixed time.

    Returns
    -------
    SyncResult

    Raises
    ------
    LedgerError
        Settings changed or too many cases closed without the confirmation
        (the message shows the difference and the counts; nothing is changed),
        or a ledger that cannot be used.
    """
    inputs = list(inputs)
    if isinstance(findings, str | Path):
        table = read_findings(findings)
        sources = [Path(p).name for p in inputs]
        inputs.insert(0, findings)
        source = str(findings)
    else:
        table = _findings_table(findings, source="findings")
        sources = [Path(p).name for p in inputs]
        source = "findings (in memory)"
    days = _deadline_days(deadline_days)
    hashes = {str(p): _sha256(p) for p in inputs}
    at, who = as_of(now), who or default_who()
    recorded = run_settings(table, sources, settings)
    path = Path(ledger_path)
    if dry_run and not _has_ledger(path):
        return SyncResult(1, tuple(table.index), (), (), (), 0, hashes, dry_run=True)
    with connect(path, create=not dry_run, check=not dry_run) as conn:
        result = _sync(
            conn,
            table,
            at=at,
            who=who,
            days=days,
            partial=partial,
            run=(source, hashes, recorded),
            dry_run=dry_run,
            accept_changed_settings=accept_changed_settings,
            confirm_closing=confirm_closing,
        )
    log.info("%s (%s)", result.summary(), ledger_path)
    return result


def _sync(
    conn: sqlite3.Connection,
    table: pd.DataFrame,
    *,
    at: dt.datetime,
    who: str,
    days: Mapping[str, int],
    partial: bool,
    run: tuple[str, dict[str, str], dict[str, Any]],
    dry_run: bool,
    accept_changed_settings: bool,
    confirm_closing: bool,
) -> SyncResult:
    source, hashes, recorded = run
    with write_transaction(conn):
        # the campaign checklists' cases are opened and closed by their registers only,
        # the analyses' problems by the analyses
        marks = ", ".join("?" * len(_NOT_SCREENED))
        existing = {
            r["finding_id"]: dict(r)
            for r in conn.execute(
                f"SELECT * FROM cases WHERE category NOT IN ({marks})",  # our constants
                _NOT_SCREENED,
            )
        }
        plan = _plan(
            table,
            existing,
            _person_set_units(conn),
            partial=partial,
            today=at.date(),
            days=days,
        )
        baseline = last_settings(conn)
        changes = (
            [] if baseline is None else settings_differences(baseline[2], recorded, partial=partial)
        )
        next_run = int(conn.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchone()[0])
        result = SyncResult(
            run_id=next_run,
            opened=tuple(plan.opened),
            closed=tuple(c["finding_id"] for c in plan.closed),
            reopened=plan.outcome("reopened"),
            updated=plan.outcome("updated") + plan.outcome("found"),
            unchanged=len(plan.unchanged),
            inputs=hashes,
            kept_open=tuple(c["finding_id"] for c in plan.kept),
            settings_changes=tuple(changes),
            open_before=sum(c["status"] in OPEN_STATUSES for c in existing.values()),
            dry_run=dry_run,
        )
        if dry_run:
            return result
        if changes and not accept_changed_settings:
            raise LedgerError(_refusal(result, baseline))
        if result.closes_too_many and not confirm_closing:
            raise LedgerError(_refusal(result, None))
        if changes:
            recorded = {**recorded, "accepted_changes": changes}
            log.warning("screening settings changed, accepted: %s", "; ".join(changes))
        digest = _digest(table)
        evidence = f"findings {digest[:12]}; inputs " + (
            ", ".join(f"{Path(p).name} {h[:12]}" for p, h in hashes.items()) or "not recorded"
        )
        conn.execute(
            "INSERT INTO runs (run_id, at, who, source, findings_digest, inputs, n_findings, "
            "partial, opened, closed, reopened, updated, settings) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                next_run,
                at.isoformat(),
                who,
                source,
                digest,
                json.dumps(hashes),
                len(table),
                int(partial),
                len(result.opened),
                len(result.closed),
                len(result.reopened),
                len(result.updated),
                json.dumps(recorded, ensure_ascii=False),
            ),
        )
        _apply(conn, plan, table, at=at, who=who, run_id=next_run, days=days, evidence=evidence)
    return result
