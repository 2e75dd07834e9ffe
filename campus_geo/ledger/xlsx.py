"""The ledger as an Excel workbook (台帐.xlsx): export for the offices, import of their edits.

The export has one row per case under Chinese headers (English with
``lang="en"``): white columns are filled in by people (责任单位, 责任人, 整改时限,
状态 as a drop-down list, 误报/重开原因, 整改措施, 整改完成日期, 备注), grey ones
are written by campus_geo and ignored on import. A second sheet holds the
history of every case. Two hidden columns carry each row's case version and
a checksum of its white cells as exported, and a hidden sheet the ledger's id
and revision: on import, a row whose white cells differ from their checksum
was edited in the file; if the case's version in the ledger has moved since
the export, it was edited there too, and the row is a conflict (reported,
not applied) unless both sides made the same edit.

The import checks every row first (unknown case, illegal transition, bad
date, missing reason ...) and applies all rows or none, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from campus_geo._errors import InputDataError, LedgerError
from campus_geo.ledger.db import (
    CASES_QUERY,
    EDITABLE_FIELDS,
    FIELD_LABELS,
    FLAG_LABELS,
    STATUS_LABELS,
    apply_change,
    as_of,
    check_change,
    connect,
    default_who,
    parse_date,
    read_transaction,
    status_code,
    with_overdue,
    write_transaction,
)
from campus_geo.reports.workbook import save_workbook_reproducibly
from campus_geo.settings import CATEGORY_LABELS

__all__ = ["COLUMNS", "Conflict", "ImportResult", "export_ledger", "import_ledger"]

log = logging.getLogger(__name__)

_FORMAT: Final = "campus_geo ledger export"
_META_SHEET: Final = "_campus_geo"
_FIRST_ROW: Final = 4  # title, note, headers, then the cases


@dataclass(frozen=True)
class _Column:
    field: str
    zh: str
    en: str
    width: float
    editable: bool = False
    hidden: bool = False


#: Columns of the ledger sheet, in order.
COLUMNS: Final = (
    _Column("row", "序号", "No.", 6),
    _Column("finding_id", "问题编号", "Case id", 18),
    _Column("township", "乡镇（街道）", "Township", 11),
    _Column("village", "村（社区）", "Village", 11),
    _Column("school_name", "学校名称", "School", 22),
    _Column("hazard_name", "场所名称", "Hazard", 20),
    _Column("category", "问题类别", "Category", 14),
    _Column("distance_m", "量算距离（米）", "Distance (m)", 9),
    _Column("threshold_m", "规定距离（米）", "Limit (m)", 9),
    _Column("lead_unit", "牵头单位", "Lead unit", 12),
    _Column("responsible_unit", "责任单位", "Responsible unit", 14, editable=True),
    _Column("responsible_person", "责任人", "Responsible person", 10, editable=True),
    _Column("deadline", "整改时限", "Deadline", 11, editable=True),
    _Column("status", "状态", "Status", 11, editable=True),
    _Column("overdue", "是否逾期", "Overdue", 7),
    _Column("reason", "误报/重开原因", "Reason (dismissal, reopening)", 20, editable=True),
    _Column("rectification", "整改措施", "Rectification (how)", 22, editable=True),
    _Column("rectified_on", "整改完成日期", "Rectified on", 11, editable=True),
    _Column("notes", "备注", "Notes", 20, editable=True),
    _Column("flag", "标记", "Flag", 14),
    _Column("opened_on", "立案日期", "Opened on", 11),
    _Column("version", "版本", "version", 6, hidden=True),
    _Column("checksum", "校验", "checksum", 12, hidden=True),
)
_BY_HEADER: Final = {name: c.field for c in COLUMNS for name in (c.zh, c.en)}
_DATES: Final = ("deadline", "rectified_on", "opened_on")

_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "sheet": "整改台帐",
        "history": "变更记录",
        "title": "校园及周边安全问题整改工作台帐",
        "note": (
            "导出日期：{today}（是否逾期按此日判定）；台帐修订号：{revision}。"
            "白色列由责任单位填写，灰色列由系统生成、导入时不读取；状态请从下拉列表选择，"
            "“逾期”由整改时限自动判定；请勿增删列、修改问题编号。"
        ),
        "yes": "是",
        "history_headers": "时间|问题编号|学校名称|场所名称|变更项|原值|新值|操作人|原因|来源",
        "status_error": "请从下拉列表选择状态（逾期由整改时限自动判定，不是状态）",
        "date_error": "请填写日期，例如 2023-07-01",
    },
    "en": {
        "sheet": "Ledger",
        "history": "History",
        "title": "Rectification ledger: safety problems in and around schools",
        "note": (
            "Exported on {today} (overdue as of that day); ledger revision {revision}. "
            "White columns are filled in by the responsible units; grey ones are written by "
            "campus_geo and ignored on import. Pick the status from the list; overdue follows "
            "from the deadline. Do not add or remove columns or change the case ids."
        ),
        "yes": "yes",
        "history_headers": "Time|Case id|School|Hazard|Field|Old|New|Who|Why|Source",
        "status_error": "Pick a status from the list (overdue follows from the deadline)",
        "date_error": "Enter a date, e.g. 2023-07-01",
    },
}

_HEADER_FILL: Final = PatternFill("solid", fgColor="D9D9D9")
_EDIT_HEADER_FILL: Final = PatternFill("solid", fgColor="FFF2CC")
_GREY: Final = PatternFill("solid", fgColor="F2F2F2")
_DATE_FORMAT: Final = "yyyy-mm-dd"


def _text(lang: str) -> dict[str, str]:
    if lang not in _TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(_TEXT)}"
        raise ValueError(msg)
    return _TEXT[lang]


def _normal(field: str, value: Any) -> str:
    """The canonical text of an editable value, as hashed and compared.

    Raises ``ValueError`` (bad date) or ``LedgerError`` (unknown status).
    """
    if field == "status":
        return status_code(value)
    if field in _DATES:
        parsed = parse_date(value)
        return "" if parsed is None else parsed.isoformat()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a text cell (e.g. a phone extension)
    return str(value).replace("\r\n", "\n").strip()


def _checksum(values: Mapping[str, str]) -> str:
    text = json.dumps([values[f] for f in EDITABLE_FIELDS], ensure_ascii=False)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def _cell_value(field: str, case: Mapping[str, Any], lang: str, yes: str) -> Any:
    label = 0 if lang == "zh" else 1
    value = case.get(field)
    labels = {"status": STATUS_LABELS, "category": CATEGORY_LABELS, "flag": FLAG_LABELS}
    if field in labels:
        return labels[field].get(str(value), (str(value),) * 2)[label]
    if field == "overdue":
        return yes if value else ""
    if field in _DATES:
        return dt.date.fromisoformat(str(value)) if value else None
    if field in ("distance_m", "threshold_m"):
        return round(float(value or 0.0), 1)
    return value


def _write_ledger_sheet(
    ws: Any, cases: pd.DataFrame, *, lang: str, today: dt.date, revision: int
) -> None:
    text = _text(lang)
    last = get_column_letter(len(COLUMNS))
    ws.append([text["title"]])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    ws.append([text["note"].format(today=today.isoformat(), revision=revision)])
    ws.merge_cells(f"A2:{last}2")
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[2].height = 32
    ws.append([c.zh if lang == "zh" else c.en for c in COLUMNS])
    for cell, column in zip(ws[3], COLUMNS, strict=True):
        cell.font = Font(bold=True)
        cell.fill = _EDIT_HEADER_FILL if column.editable else _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for number, (fid, case) in enumerate(cases.iterrows(), start=1):
        values: dict[str, Any] = {str(k): None if pd.isna(v) else v for k, v in case.items()}
        values.update(finding_id=fid, row=number)
        values["checksum"] = _checksum({f: _normal(f, values[f]) for f in EDITABLE_FIELDS})
        ws.append([_cell_value(c.field, values, lang, text["yes"]) for c in COLUMNS])
    end = ws.max_row
    grey = []
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = column.width
        ws.column_dimensions[letter].hidden = column.hidden
        if not column.editable:
            grey.append(f"{letter}{_FIRST_ROW}:{letter}{max(end, _FIRST_ROW)}")
        if column.field in _DATES:
            for (cell,) in ws.iter_rows(
                min_row=_FIRST_ROW, max_row=end, min_col=index, max_col=index
            ):
                cell.number_format = _DATE_FORMAT
        if column.field == "overdue":
            first = f"{letter}{_FIRST_ROW}"
            ws.conditional_formatting.add(
                f"{first}:{letter}{max(end, _FIRST_ROW)}",
                FormulaRule(formula=[f'{first}<>""'], font=Font(color="C00000", bold=True)),
            )
    # one conditional format greys the generated columns: a fill per cell would make
    # openpyxl's save several times slower for a ledger of thousands of cases
    ws.conditional_formatting.add(" ".join(grey), FormulaRule(formula=["TRUE"], fill=_GREY))
    _add_validations(ws, lang, end)
    ws.freeze_panes = f"C{_FIRST_ROW}"
    ws.auto_filter.ref = f"A3:{last}{max(end, 3)}"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _add_validations(ws: Any, lang: str, end: int) -> None:
    text = _text(lang)
    label = 0 if lang == "zh" else 1
    rows = max(end, _FIRST_ROW)
    fields = [c.field for c in COLUMNS]
    status_col = get_column_letter(fields.index("status") + 1)
    choices = ",".join(labels[label] for labels in STATUS_LABELS.values())
    status = DataValidation(
        type="list",
        formula1=f'"{choices}"',
        allow_blank=False,
        showErrorMessage=True,
        errorTitle=FIELD_LABELS["status"][label],
        error=text["status_error"],
    )
    status.add(f"{status_col}{_FIRST_ROW}:{status_col}{rows}")
    ws.add_data_validation(status)
    dates = DataValidation(
        type="date",
        operator="between",
        formula1="36526",  # 2000-01-01 as an Excel serial day
        formula2="73415",  # 2100-12-31
        allow_blank=True,
        showErrorMessage=True,
        error=text["date_error"],
    )
    for name in ("deadline", "rectified_on"):
        col = get_column_letter(fields.index(name) + 1)
        dates.add(f"{col}{_FIRST_ROW}:{col}{rows}")
    ws.add_data_validation(dates)


def _history_value(field: str, value: Any, label: int) -> Any:
    if value is None or pd.isna(value):
        return ""
    if field == "status":
        return STATUS_LABELS.get(str(value), (str(value),) * 2)[label]
    if field == "flag":
        return FLAG_LABELS.get(str(value), (str(value),) * 2)[label]
    return value


def _write_history_sheet(ws: Any, history: pd.DataFrame, lang: str) -> None:
    label = 0 if lang == "zh" else 1
    ws.append(_text(lang)["history_headers"].split("|"))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for h in history.to_dict("records"):
        field = str(h["field"])
        ws.append(
            [
                h["at"],
                h["finding_id"],
                h["school_name"],
                h["hazard_name"],
                FIELD_LABELS.get(field, (field, field))[label],
                _history_value(field, h["old"], label),
                _history_value(field, h["new"], label),
                h["who"],
                h["why"],
                h["source"],
            ]
        )
    for letter, width in zip("ABCDEFGHIJ", (20, 18, 22, 20, 12, 16, 16, 12, 40, 18), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:J{max(ws.max_row, 1)}"


def export_ledger(
    ledger_path: str | Path,
    filepath: str | Path,
    *,
    lang: str = "zh",
    today: dt.date | None = None,
    townships: Iterable[str] | None = None,
    timestamp: dt.datetime | None = None,
) -> Path:
    """Write the ledger as an xlsx 台帐 to fill in: one row per case, history on a second sheet.

    Parameters
    ----------
    ledger_path
        The ledger file.
    filepath
        The .xlsx to write.
    lang
        "zh" (default) or "en" headers and labels; either can be imported.
    today
        The date overdue is judged on (default: today).
    townships
        Only the cases (and their history) of these townships: one file per
        township office. Each file imports back on its own.
    timestamp
        Document time stored in the file (default: midnight of `today`): the
        same ledger exported with the same `today` gives the same bytes.

    Returns
    -------
    pathlib.Path
    """
    text = _text(lang)
    today = today or dt.date.today()
    with connect(ledger_path) as conn, read_transaction(conn):
        cases = pd.read_sql_query(CASES_QUERY, conn, index_col="finding_id")
        history = pd.read_sql_query(
            "SELECT h.*, c.school_name, c.hazard_name FROM history h "
            "JOIN cases c USING (finding_id) ORDER BY h.history_id",
            conn,
        )
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        revision = int(
            conn.execute("SELECT coalesce(max(history_id), 0) FROM history").fetchone()[0]
        )
    if townships is not None:
        wanted = list(townships)
        unknown = sorted(set(wanted) - set(cases["township"]))
        if unknown:
            msg = (
                f"no case in township(s) {', '.join(unknown)}; the ledger's townships are "
                f"{', '.join(sorted(set(cases['township'])))}"
            )
            raise LedgerError(msg)
        cases = cases[cases["township"].isin(wanted)]
        history = history[history["finding_id"].isin(cases.index)]
    cases = with_overdue(cases, today)
    wb = Workbook()
    ws = wb.active
    ws.title = text["sheet"]
    _write_ledger_sheet(ws, cases, lang=lang, today=today, revision=revision)
    _write_history_sheet(wb.create_sheet(text["history"]), history, lang)
    info = wb.create_sheet(_META_SHEET)
    for key, value in (
        ("format", _FORMAT),
        ("format_version", 1),
        ("ledger_id", meta["ledger_id"]),
        ("revision", revision),
        ("exported_on", today.isoformat()),
        ("lang", lang),
    ):
        info.append([key, value])
    info.sheet_state = "hidden"
    stamp = timestamp or dt.datetime.combine(today, dt.time())
    path = save_workbook_reproducibly(wb, filepath, timestamp=stamp)
    log.info("exported %d cases (revision %d) to %s", len(cases), revision, path)
    return path


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
    """

    applied: tuple[str, ...]
    conflicts: tuple[Conflict, ...]
    unchanged: int
    source: str

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [
            f"{self.source[0].upper()}{self.source[1:]}: {len(self.applied)} cases changed, "
            f"{self.unchanged} rows unchanged, {len(self.conflicts)} conflicts."
        ]
        lines += [f"  conflict: {c.describe()}" for c in self.conflicts]
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
        fields = {_BY_HEADER.get(str(v).strip()): i for i, v in enumerate(values) if v}
        if "finding_id" in fields:
            fields.pop(None, None)
            return number, {str(k): v for k, v in fields.items()}
    return None


def _read_workbook(path: Path) -> tuple[dict[str, Any], list[_FileRow]]:
    """The export's metadata and its rows (cells by field), or an InputDataError."""
    wb = _open_workbook(path)
    try:
        if _META_SHEET not in wb.sheetnames:
            msg = (
                f"{path} is not a ledger export of campus_geo (it has no {_META_SHEET} sheet); "
                "export the ledger with `campus-geo ledger export`, fill that file in and import it"
            )
            raise InputDataError(msg)
        meta = {
            str(row[0]): row[1]
            for row in wb[_META_SHEET].iter_rows(values_only=True)
            if row and row[0] is not None
        }
        if meta.get("format") != _FORMAT:
            msg = f"{path}: its {_META_SHEET} sheet is not that of a campus_geo ledger export"
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
            values[field] = _normal(field, row.cells[field])
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
    current = {f: _normal(f, case[f]) for f in EDITABLE_FIELDS}
    if _checksum(values) == checksum or values == current:
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
    found = check_change(case, changes, today=today)
    if found:
        plan.problems += [f"{where}, case {case['finding_id']}: {p}" for p in found]
        return
    plan.changes.append((case, changes))


def import_ledger(
    ledger_path: str | Path,
    filepath: str | Path,
    *,
    who: str | None = None,
    now: dt.datetime | None = None,
    on_conflict: str = "skip",
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
    at, who = as_of(now), who or default_who()
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
        seen: dict[str, int] = {}
        for row in rows:
            where = f"{path.name} row {row.row}"
            fid = _normal("notes", row.cells["finding_id"]).lower()
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
                    abort_on_conflict=on_conflict == "abort",
                )
        if plan.problems:
            msg = (
                f"{len(plan.problems)} problem(s) in {path}; nothing was imported. "
                + "; ".join(plan.problems[:8])
                + ("; ..." if len(plan.problems) > 8 else "")
            )
            raise InputDataError(msg, plan.problems)
        for case, changes in plan.changes:
            if "status" in changes:
                changes["flag"] = ""
            why = changes.get("reason", "") if "status" in changes else ""
            apply_change(conn, case, changes, at=at, who=who, why=why, source=source)
    result = ImportResult(
        applied=tuple(case["finding_id"] for case, _ in plan.changes),
        conflicts=tuple(plan.conflicts),
        unchanged=plan.unchanged,
        source=source,
    )
    log.info("%s", result.summary())
    return result
