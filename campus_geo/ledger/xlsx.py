"""The ledger as an Excel workbook (台帐.xlsx) for the offices to fill in.

The export has one row per case under Chinese headers (English with
``lang="en"``): white columns are filled in by people (责任单位, 责任人, 整改时限,
状态 as a drop-down list, 误报/重开原因, 整改措施, 整改完成日期, 备注), grey ones
are written by campus_geo and ignored on import (the units of the case: 牵头,
执法, 配合; the flag; 督办, 抄告 and 联合整改). A second sheet holds the history
of every case. Two hidden columns carry each row's case version and a
checksum of its white cells as exported, and a hidden sheet the ledger's id
and revision, and the unit or townships the file was exported for: what
:mod:`campus_geo.ledger.xlsx_import` needs to read the edits back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from campus_geo._errors import LedgerError
from campus_geo.ledger.attachments import ATTACHMENT_KINDS, attachment_path
from campus_geo.ledger.db import (
    CASES_QUERY,
    EDITABLE_FIELDS,
    FIELD_LABELS,
    FLAG_LABELS,
    OPEN_STATUSES,
    STATUS_LABELS,
    as_of,
    connect,
    parse_date,
    read_transaction,
    status_code,
    with_overdue,
)
from campus_geo.ledger.labels import read_category_labels
from campus_geo.ledger.units import (
    UNIT_FIELDS,
    case_units,
    unit_mask,
)
from campus_geo.reports.workbook import save_workbook_reproducibly
from campus_geo.settings import CATEGORY_LABELS

__all__ = [
    "COLUMNS",
    "EXPORT_FORMAT",
    "HEADER_FIELDS",
    "META_SHEET",
    "cell_text",
    "export_ledger",
    "row_checksum",
]

log = logging.getLogger(__name__)

#: What the hidden sheet of an export says it is.
EXPORT_FORMAT: Final = "campus_geo ledger export"
#: Name of the hidden sheet with the ledger's id and revision.
META_SHEET: Final = "_campus_geo"
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
    _Column("enforcing_unit", "执法单位", "Enforcing unit", 14),
    _Column("participating_units", "配合单位", "Participating units", 16),
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
    _Column("supervisor", "督办单位", "Supervised by", 12),
    _Column("supervised_on", "督办日期", "Supervised on", 11),
    _Column("copied_to", "抄告单位", "Copied to", 16),
    _Column("joint_units", "联合整改单位", "Joint rectification with", 16),
    _Column("opened_on", "立案日期", "Opened on", 11),
    _Column("version", "版本", "version", 6, hidden=True),
    _Column("checksum", "校验", "checksum", 12, hidden=True),
)
#: The field of each header, Chinese or English.
HEADER_FIELDS: Final = {name: c.field for c in COLUMNS for name in (c.zh, c.en)}
_DATES: Final = ("deadline", "rectified_on", "opened_on", "supervised_on")

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
        "files": "附件",
        "files_headers": "问题编号|学校名称|场所名称|类型|文件名|SHA-256|上传人|时间|链接",
        "open": "打开",
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
        "files": "Attachments",
        "files_headers": "Case id|School|Hazard|Kind|File name|SHA-256|By|When|Link",
        "open": "open",
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


def cell_text(field: str, value: Any) -> str:
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


def row_checksum(values: Mapping[str, str]) -> str:
    """The checksum of a row's white cells (their :func:`cell_text`), as kept in the export."""
    text = json.dumps([values[f] for f in EDITABLE_FIELDS], ensure_ascii=False)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def _flag(case: Mapping[str, Any], label: int) -> str:
    """The sync's flag, and "not found by screening since" for an open case."""
    parts = [FLAG_LABELS.get(str(case.get("flag") or ""), ("", ""))[label]]
    if case.get("absent_since") and case.get("status") in OPEN_STATUSES:
        parts.append(
            f"筛查未再发现（{case['absent_since']}起）"
            if label == 0
            else f"not found by screening since {case['absent_since']}"
        )
    return "；".join(p for p in parts if p)


def _user_category_labels(ledger_path: str | Path, category: pd.Series, lang: str) -> pd.Series:
    """A user's own categories by the labels the ledger recorded.

    The default categories stay keys here: :func:`_cell_value` labels them.
    """
    names = read_category_labels(ledger_path)
    pick = 0 if lang == "zh" else 1
    return category.map(lambda c: c if c in CATEGORY_LABELS else names.get(c, (c, c))[pick])


def _cell_value(field: str, case: Mapping[str, Any], lang: str, yes: str) -> Any:
    label = 0 if lang == "zh" else 1
    value = case.get(field)
    if field == "flag":
        return _flag(case, label)
    labels = {"status": STATUS_LABELS, "category": CATEGORY_LABELS}
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
        values["checksum"] = row_checksum({f: cell_text(f, values[f]) for f in EDITABLE_FIELDS})
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


def _write_files_sheet(
    ws: Any, files: list[dict[str, Any]], cases: pd.DataFrame, *, base: Path, lang: str
) -> None:
    """The attachments of the exported cases, each linked to its stored file.

    The links are relative to the xlsx's folder (``ledger_files/...`` when the
    xlsx is written beside the ledger), so they open wherever both are copied together.
    """
    label = 0 if lang == "zh" else 1
    text = _text(lang)
    ws.append(text["files_headers"].split("|"))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
    for f in files:
        case = cases.loc[f["finding_id"]]
        target = Path(f["path"]).resolve()
        link = Path(os.path.relpath(target, base.resolve())).as_posix()
        ws.append(
            [
                f["finding_id"],
                case["school_name"],
                case["hazard_name"],
                ATTACHMENT_KINDS.get(f["kind"], (f["kind"],) * 2)[label],
                f["filename"],
                f["sha256"],
                f["who"],
                f["at"],
                text["open"],
            ]
        )
        cell = ws.cell(ws.max_row, 9)
        cell.hyperlink = link
        cell.font = Font(color="0563C1", underline="single")
    for letter, width in zip("ABCDEFGHI", (18, 22, 20, 12, 24, 66, 12, 20, 8), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def export_ledger(
    ledger_path: str | Path,
    filepath: str | Path,
    *,
    lang: str = "zh",
    today: dt.date | None = None,
    townships: Iterable[str] | None = None,
    unit: str | None = None,
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
        township office. Each file imports back on its own, as the
        townships' monthly report.
    unit
        Only the cases that are this unit's own (see
        :mod:`campus_geo.ledger.units`): one file per unit; it imports back
        on its own, as the unit's monthly report.
    timestamp
        Document time stored in the file (default: midnight of `today`): the
        same ledger exported with the same `today` gives the same bytes.

    Returns
    -------
    pathlib.Path
    """
    text = _text(lang)
    today = today or as_of(None).date()
    with connect(ledger_path) as conn, read_transaction(conn):
        cases = pd.read_sql_query(CASES_QUERY, conn, index_col="finding_id")
        cases["category"] = _user_category_labels(ledger_path, cases["category"], lang)
        history = pd.read_sql_query(
            "SELECT h.*, c.school_name, c.hazard_name FROM history h "
            "JOIN cases c USING (finding_id) ORDER BY h.history_id",
            conn,
        )
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        files = [dict(r) for r in conn.execute("SELECT * FROM attachments ORDER BY attachment_id")]
        revision = int(
            conn.execute("SELECT coalesce(max(history_id), 0) FROM history").fetchone()[0]
        )
    townships = None if townships is None else list(townships)
    if townships is not None:
        wanted = townships
        unknown = sorted(set(wanted) - set(cases["township"]))
        if unknown:
            msg = (
                f"no case in township(s) {', '.join(unknown)}; the ledger's townships are "
                f"{', '.join(sorted(set(cases['township'])))}"
            )
            raise LedgerError(msg)
        cases = cases[cases["township"].isin(wanted)]
    if unit is not None:
        mine = unit_mask(cases, unit)
        if not mine.any():
            msg = f"no case of unit {unit!r} in the ledger; {_known_units(cases)}"
            raise LedgerError(msg)
        cases = cases[mine]
    history = history[history["finding_id"].isin(cases.index)]
    cases = with_overdue(cases, today)
    wb = Workbook()
    ws = wb.active
    ws.title = text["sheet"]
    _write_ledger_sheet(ws, cases, lang=lang, today=today, revision=revision)
    _write_history_sheet(wb.create_sheet(text["history"]), history, lang)
    files = [f for f in files if f["finding_id"] in cases.index]
    if files:  # a sheet of attachments, each linked to its file beside the ledger
        for f in files:
            f["path"] = attachment_path(ledger_path, f["sha256"], f["media_type"])
        base = Path(filepath).parent
        _write_files_sheet(wb.create_sheet(text["files"]), files, cases, base=base, lang=lang)
    info = wb.create_sheet(META_SHEET)
    for key, value in (
        ("format", EXPORT_FORMAT),
        ("format_version", 2),
        ("ledger_id", meta["ledger_id"]),
        ("revision", revision),
        ("exported_on", today.isoformat()),
        ("lang", lang),
        ("unit", unit or ""),
        ("townships", "、".join(townships or [])),
    ):
        info.append([key, value])
    info.sheet_state = "hidden"
    stamp = timestamp or dt.datetime.combine(today, dt.time())
    path = save_workbook_reproducibly(wb, filepath, timestamp=stamp)
    log.info("exported %d cases (revision %d) to %s", len(cases), revision, path)
    return path


def _known_units(cases: pd.DataFrame) -> str:
    units = sorted({u for c in cases[list(UNIT_FIELDS)].to_dict("records") for u in case_units(c)})
    return "its units are " + ("、".join(units) if units else "none yet")
