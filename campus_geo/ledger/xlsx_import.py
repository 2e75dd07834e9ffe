"""Reading a filled-in 台帐 back into the ledger: every row checked, all applied or none.

On import, a row whose white cells differ from the checksum kept in the file
(:func:`campus_geo.ledger.xlsx.row_checksum`) was edited in the file; if the
case's version in the ledger has moved since the export, it was edited
there too, and the row is a conflict (reported, not applied) unless both
sides made the same edit.

The import checks every row first (unknown case, illegal transition, bad
date, missing reason ...) and applies all rows or none, in one transaction.
A row may take a case from 待核查 to 已整改 in one visit when it gives how
(整改措施) and when (整改完成日期) it was rectified: the history records
待核查 -> 已确认 -> 已整改. The import is the monthly report (报送) of the
unit or township it comes from (see :mod:`campus_geo.ledger.units`): the one
named, else the one the file was exported for, else `who` when it names a
unit or township of the ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from campus_geo._errors import InputDataError, LedgerError
from campus_geo.ledger.db import (
    EDITABLE_FIELDS,
    FIELD_LABELS,
    STATUS_LABELS,
    apply_change,
    as_of,
    check_change,
    connect,
    default_who,
    parse_date,
    write_transaction,
)
from campus_geo.ledger.units import UNIT_FIELDS, add_report, case_units, report_month
from campus_geo.ledger.xlsx import (
    COLUMNS,
    EXPORT_FORMAT,
    HEADER_FIELDS,
    META_SHEET,
    cell_text,
    row_checksum,
)

__all__ = ["Conflict", "ImportResult", "import_ledger"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Conflict:
    """A row edited both in the file and in the ledger since the export (not applied).

    Attributes
    ----------
    row
        Row number in the sheet.
    finding_id
        The case.
    fields
        Fields whose value in the file differs from the ledger's.
    file_values, ledger_values
        Those fields' values in the file and in the ledger.
    changed_by, changed_at
        Who last changed the case in the ledger since the export, and when.
    """

    row: int
    finding_id: str
    fields: tuple[str, ...]
    file_values: dict[str, str]
    ledger_values: dict[str, str]
    changed_by: str
    changed_at: str

    def describe(self) -> str:
        """One line naming the row, the case and both values of each field."""

        def shown(field: str, value: str) -> str:
            return STATUS_LABELS[value][0] if field == "status" else value

        parts = ", ".join(
            f"{FIELD_LABELS[f][0]} file {shown(f, self.file_values[f])!r} / "
            f"ledger {shown(f, self.ledger_values[f])!r}"
            for f in self.fields
        )
        return (
            f"row {self.row}, case {self.finding_id}: edited in the file and by "
            f"{self.changed_by} at {self.changed_at} since the export ({parts}); "
            "not applied: settle it with `campus-geo ledger set`"
        )


@dataclass(frozen=True)
class ImportResult:
    """What an import applied.

    Attributes
    ----------
    applied
        Case ids changed by the import.
    conflicts
        Rows edited in both places since the export, not applied.
    unchanged
        Rows with nothing to apply.
    source
        The history's source of the changes (file name and export revision).
    one_visit
        Cases taken from 待核查 to 已整改 in one row (among `applied`).
    reports
        The monthly reports the import counts as: (month, kind, name), kind
        ``unit`` or ``township``.
    """

    applied: tuple[str, ...]
    conflicts: tuple[Conflict, ...]
    unchanged: int
    source: str
    one_visit: tuple[str, ...] = ()
    reports: tuple[tuple[str, str, str], ...] = ()

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [
            f"{self.source[0].upper()}{self.source[1:]}: {len(self.applied)} cases changed, "
            f"{self.unchanged} rows unchanged, {len(self.conflicts)} conflicts."
            + (f" {len(self.one_visit)} rectified in one visit." if self.one_visit else "")
        ]
        lines += [f"  conflict: {c.describe()}" for c in self.conflicts]
        lines += [f"  report for {m} of the {k} {n} recorded." for m, k, n in self.reports]
        return "\n".join(lines)


@dataclass(frozen=True)
class _FileRow:
    row: int
    cells: dict[str, Any]


def _open_workbook(path: Path) -> Any:
    if not path.is_file():
        msg = f"{path} does not exist; give the xlsx written by `campus-geo ledger export`"
        raise InputDataError(msg)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, InvalidFileException) as exc:
        msg = (
            f"cannot read {path} as an xlsx workbook ({exc}); save it in Excel as "
            "'Excel Workbook (*.xlsx)' and import that file"
        )
        raise InputDataError(msg) from exc


def _header_row(ws: Any) -> tuple[int, dict[str, int]] | None:
    for number, values in enumerate(ws.iter_rows(max_row=10, values_only=True), start=1):
        fields = {HEADER_FIELDS.get(str(v).strip()): i for i, v in enumerate(values) if v}
        if "finding_id" in fields:
            fields.pop(None, None)
            return number, {str(k): v for k, v in fields.items()}
    return None


def _read_workbook(path: Path) -> tuple[dict[str, Any], list[_FileRow]]:
    """The export's metadata and its rows (cells by field), or an InputDataError."""
    wb = _open_workbook(path)
    try:
        if META_SHEET not in wb.sheetnames:
            msg = (
                f"{path} is not a ledger export of campus_geo (it has no {META_SHEET} sheet); "
                "export the ledger with `campus-geo ledger export`, fill that file in and import it"
            )
            raise InputDataError(msg)
        meta = {
            str(row[0]): row[1]
            for row in wb[META_SHEET].iter_rows(values_only=True)
            if row and row[0] is not None
        }
        if meta.get("format") != EXPORT_FORMAT:
            msg = f"{path}: its {META_SHEET} sheet is not that of a campus_geo ledger export"
            raise InputDataError(msg)
        for ws in wb.worksheets:
            # some programs store wrong sheet dimensions; read every row that is there
            ws.reset_dimensions()
            found = _header_row(ws)
            if found is not None:
                break
        else:
            msg = f"{path}: no sheet has the header 问题编号 (Case id); do not rename the headers"
            raise InputDataError(msg)
        header, columns = found
        needed = ("finding_id", "version", "checksum", *EDITABLE_FIELDS)
        missing = [c for c in COLUMNS if c.field in needed and c.field not in columns]
        if missing:
            names = ", ".join(f"{c.zh} ({c.en})" for c in missing)
            msg = (
                f"{path}, sheet {ws.title}: column(s) {names} missing; the import needs every "
                "white column and the hidden 版本/校验 columns: export again and keep the columns"
            )
            raise InputDataError(msg)
        rows = []
        for number, values in enumerate(
            ws.iter_rows(min_row=header + 1, values_only=True), start=header + 1
        ):
            cells = {f: values[i] if i < len(values) else None for f, i in columns.items()}
            if any(v not in (None, "") for v in cells.values()):
                rows.append(_FileRow(number, cells))
        return meta, rows
    finally:
        wb.close()


def _header(field: str) -> str:
    return next(f"{c.zh}" for c in COLUMNS if c.field == field)


def _file_values(row: _FileRow, where: str) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    problems = []
    for field in EDITABLE_FIELDS:
        try:
            values[field] = cell_text(field, row.cells[field])
        except (ValueError, LedgerError) as exc:
            problems.append(f"{where}, column {_header(field)}: {exc}")
    return values, problems


def _stamp(row: _FileRow, where: str, problems: list[str]) -> tuple[int, str]:
    """The row's exported (version, checksum); a problem is added when they are unusable."""
    version, checksum = row.cells["version"], row.cells["checksum"]
    try:
        return int(version), str(checksum).strip() if checksum else ""
    except (TypeError, ValueError):
        problems.append(
            f"{where}: the hidden columns 版本/校验 are empty or changed ({version!r}); "
            "copy rows only within one exported file, or export again"
        )
        return -1, ""


@dataclass
class _Plan:
    changes: list[tuple[dict[str, Any], dict[str, Any]]]
    conflicts: list[Conflict]
    problems: list[str]
    unchanged: int = 0


def _one_visit(case: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    """A 待核查 case found already rectified: the row gives how and when."""
    new = {**case, **changes}
    return (
        case["status"] == "pending"
        and changes.get("status") == "rectified"
        and bool(cell_text("rectification", new["rectification"]))
        and bool(new["rectified_on"])
    )


def _plan_row(
    plan: _Plan,
    row: _FileRow,
    case: dict[str, Any],
    where: str,
    *,
    conn: Any,
    revision: int,
    today: dt.date,
    abort_on_conflict: bool,
) -> None:
    values, problems = _file_values(row, where)
    version, checksum = _stamp(row, where, problems)
    if problems:
        plan.problems += problems
        return
    current = {f: cell_text(f, case[f]) for f in EDITABLE_FIELDS}
    if row_checksum(values) == checksum or values == current:
        plan.unchanged += 1  # not edited in the file, or the ledger already has the edit
        return
    if version != case["version"]:
        last = conn.execute(
            "SELECT who, at FROM history WHERE finding_id = ? AND history_id > ? "
            "ORDER BY history_id DESC LIMIT 1",
            (case["finding_id"], revision),
        ).fetchone()
        differ = tuple(f for f in EDITABLE_FIELDS if values[f] != current[f])
        conflict = Conflict(
            row=row.row,
            finding_id=case["finding_id"],
            fields=differ,
            file_values={f: values[f] for f in differ},
            ledger_values={f: current[f] for f in differ},
            changed_by=last["who"] if last else "?",
            changed_at=last["at"] if last else "?",
        )
        plan.conflicts.append(conflict)
        if abort_on_conflict:
            plan.problems.append(f"{where}: conflict: {conflict.describe()}")
        return
    changes: dict[str, Any] = {f: values[f] for f in EDITABLE_FIELDS if values[f] != current[f]}
    if _one_visit(case, changes):
        confirmed = {**case, "status": "confirmed"}
        found = check_change(case, {"status": "confirmed"}, today=today)
        found += check_change(confirmed, changes, today=today)
    else:
        found = check_change(case, changes, today=today)
        if case["status"] == "pending" and changes.get("status") == "rectified":
            found = [f"{p} (or 已整改 in one visit: give 整改措施 and 整改完成日期)" for p in found]
    if found:
        plan.problems += [f"{where}, case {case['finding_id']}: {p}" for p in found]
        return
    plan.changes.append((case, changes))


def _reporters(
    conn: Any, meta: Mapping[str, Any], *, unit: str | None, township: str | None, who: str | None
) -> list[tuple[str, str]]:
    """Who the import reports for: (kind, name) (see the module's docstring)."""
    named = [("township", township), ("unit", unit)]
    found = [(kind, str(name).strip()) for kind, name in named if name and str(name).strip()]
    if found:
        return found
    if meta.get("unit"):
        return [("unit", str(meta["unit"]))]
    if meta.get("townships"):
        return [("township", t) for t in str(meta["townships"]).split("、") if t]
    if not who:
        return []
    townships = {r[0] for r in conn.execute("SELECT DISTINCT township FROM cases")}
    if who in townships:
        return [("township", who)]
    units = set()
    for row in conn.execute(f"SELECT lead_units, {', '.join(UNIT_FIELDS)} FROM cases"):
        units.update(case_units(dict(row)))
        units.update(str(row["lead_units"]).split("、"))
    return [("unit", who)] if who in units else []


def import_ledger(
    ledger_path: str | Path,
    filepath: str | Path,
    *,
    who: str | None = None,
    now: dt.datetime | None = None,
    on_conflict: str = "skip",
    unit: str | None = None,
    township: str | None = None,
    month: str | None = None,
) -> ImportResult:
    """Read an edited export back into the ledger: every row checked, all applied or none.

    Parameters
    ----------
    ledger_path
        The ledger file the workbook was exported from.
    filepath
        The edited .xlsx.
    who
        Recorded in the history (default: the login name).
    now
        Time of the import (default: now).
    on_conflict
        ``"skip"`` (default): rows edited both in the file and in the ledger
        since the export are reported and left out, the other rows applied;
        ``"abort"``: any conflict stops the import and nothing is applied.
    unit, township
        The import is the monthly report of this unit or township. Default:
        the unit or townships the file was exported for, else `who` when it
        names a unit or a township of the ledger, else no report is recorded.
    month
        The month reported on, ``YYYY-MM`` (default: the month before when the
        import is made on the 1st to the 5th, else the month of the import).

    Returns
    -------
    ImportResult

    Raises
    ------
    InputDataError
        Naming the row and column of every problem found: an unknown case, a
        duplicated row, an illegal transition, a bad date, a missing reason;
        nothing is applied then. Also for a file that is not an export of
        this ledger.
    """
    if on_conflict not in ("skip", "abort"):
        msg = f"on_conflict must be 'skip' or 'abort', got {on_conflict!r}"
        raise ValueError(msg)
    path = Path(filepath)
    meta, rows = _read_workbook(path)
    revision = int(meta.get("revision") or 0)
    source = f"import {path.name} (revision {revision})"
    at, who_given = as_of(now), who
    who = who or default_who()
    month = _report_month(month, at)
    plan = _Plan([], [], [])
    with connect(ledger_path, check=True) as conn, write_transaction(conn):
        ledger_id = conn.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0]
        if meta.get("ledger_id") != ledger_id:
            msg = (
                f"{path} was exported from another ledger (id {meta.get('ledger_id')}), "
                f"not from {ledger_path} (id {ledger_id}); import it into the ledger it came from"
            )
            raise InputDataError(msg)
        cases = {r["finding_id"]: dict(r) for r in conn.execute("SELECT * FROM cases")}
        _plan_rows(plan, rows, cases, path, conn=conn, revision=revision, at=at, abort=on_conflict)
        if plan.problems:
            msg = (
                f"{len(plan.problems)} problem(s) in {path}; nothing was imported. "
                + "; ".join(plan.problems[:8])
                + ("; ..." if len(plan.problems) > 8 else "")
            )
            raise InputDataError(msg, plan.problems)
        one_visit = _apply_plan(conn, plan, at=at, who=who, source=source)
        reporters = _reporters(conn, meta, unit=unit, township=township, who=who_given)
        for kind, name in reporters:
            add_report(conn, month=month, kind=kind, name=name, at=at, who=who, source=source)
    result = ImportResult(
        applied=tuple(case["finding_id"] for case, _ in plan.changes),
        conflicts=tuple(plan.conflicts),
        unchanged=plan.unchanged,
        source=source,
        one_visit=tuple(one_visit),
        reports=tuple((month, kind, name) for kind, name in reporters),
    )
    log.info("%s", result.summary())
    return result


def _report_month(month: str | None, at: dt.datetime) -> str:
    if not month:
        return report_month(at.date())
    try:
        first = parse_date(f"{month.strip()}-01")
    except ValueError as exc:
        msg = f"month {month!r}: write it as YYYY-MM, e.g. 2023-06"
        raise LedgerError(msg) from exc
    assert first is not None
    return f"{first.year:04d}-{first.month:02d}"


def _plan_rows(
    plan: _Plan,
    rows: list[_FileRow],
    cases: Mapping[str, dict[str, Any]],
    path: Path,
    *,
    conn: Any,
    revision: int,
    at: dt.datetime,
    abort: str,
) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        where = f"{path.name} row {row.row}"
        fid = cell_text("notes", row.cells["finding_id"]).lower()
        if fid in seen:
            plan.problems.append(f"{where}: case {fid} also in row {seen[fid]}")
        elif fid not in cases:
            plan.problems.append(
                f"{where}, column 问题编号: unknown case {fid!r}; rows cannot be added "
                "in the file (new cases come from screenings)"
            )
        else:
            seen[fid] = row.row
            _plan_row(
                plan,
                row,
                cases[fid],
                where,
                conn=conn,
                revision=revision,
                today=at.date(),
                abort_on_conflict=abort == "abort",
            )


def _apply_plan(conn: Any, plan: _Plan, *, at: dt.datetime, who: str, source: str) -> list[str]:
    """Apply the planned rows; the ids of the cases rectified in one visit."""
    one_visit = []
    for planned, changes in plan.changes:
        case = planned
        if "status" in changes:
            changes["flag"] = ""
        why = changes.get("reason", "") if "status" in changes else ""
        if _one_visit(case, changes):
            apply_change(
                conn,
                case,
                {"status": "confirmed", "flag": ""},
                at=at,
                who=who,
                why="一次到位：核查时已整改 (one visit: found already rectified)",
                source=source,
            )
            case = {**case, "status": "confirmed", "flag": "", "version": case["version"] + 1}
            one_visit.append(case["finding_id"])
        apply_change(conn, case, changes, at=at, who=who, why=why, source=source)
    return one_visit
