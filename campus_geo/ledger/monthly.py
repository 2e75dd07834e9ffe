"""The monthly progress report of the rectification ledger (due by the 5th), xlsx and HTML.

Every unit reports last month's progress before the 5th. The report is
computed from the ledger's history, so it describes the month as it was at
its end even when it is written days later: cases opened, reopened and
closed during the month (closed: rectified, dismissed or resolved in data,
and still closed at the month's end), cases open at the end and how many of
them were overdue, by responsible unit (责任单位, as at the month's end), by
lead unit (牵头单位) and by township, with the list of overdue cases, the
actions of the month (督办, 抄告, 联合整改) and the record of who has
reported (报送): every responsible unit and township with cases to handle
in the month, reported or not yet, and anyone else who reported.
``unit=`` restricts the report to one unit's own cases.

The situation is that at the end of the month's last day; while the month
is not over, at the end of today. An open case is overdue at the end of a
day when its deadline is that day or earlier (its deadline has passed at
midnight), the same rule as "today after the deadline" in the ledger lists.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from campus_geo._errors import LedgerError
from campus_geo.ledger.checklists import checklist_rates, rate_labels
from campus_geo.ledger.db import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    STATUS_LABELS,
    connect,
    read_transaction,
)
from campus_geo.ledger.db import (
    as_of as now_local,
)
from campus_geo.ledger.labels import read_category_labels
from campus_geo.ledger.units import REPORT_KINDS, join_units, split_units, unit_mask
from campus_geo.reports.workbook import save_workbook_reproducibly

__all__ = [
    "ACTION_COLUMNS",
    "COUNT_COLUMNS",
    "REPORTED_COLUMNS",
    "MonthlyReport",
    "monthly_report",
    "save_monthly_report",
]

log = logging.getLogger(__name__)

#: Columns of the count tables, with (Chinese, English) headers.
COUNT_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "cases": ("累计立案", "cases so far"),
    "opened": ("本月新增", "opened"),
    "reopened": ("本月重新打开", "reopened"),
    "closed": ("本月办结", "closed"),
    "rectified": ("其中已整改", "of which rectified"),
    "dismissed": ("其中误报", "of which dismissed"),
    "resolved": ("其中复查已消除", "of which resolved in data"),
    "open": ("月末在办", "open at month end"),
    "overdue": ("其中逾期", "of which overdue"),
}
_OVERDUE_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "finding_id": ("问题编号", "Case id"),
    "township": ("乡镇（街道）", "Township"),
    "village": ("村（社区）", "Village"),
    "school_name": ("学校名称", "School"),
    "hazard_name": ("场所名称", "Hazard"),
    "category": ("问题类别", "Category"),
    "lead_unit": ("牵头单位", "Lead unit"),
    "responsible_unit": ("责任单位", "Responsible unit"),
    "responsible_person": ("责任人", "Responsible person"),
    "deadline": ("整改时限", "Deadline"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "status": ("状态", "Status"),
}
#: Columns of the list of the month's actions.
ACTION_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "day": ("日期", "Date"),
    "action": ("事项", "Action"),
    "finding_id": ("问题编号", "Case id"),
    "township": ("乡镇（街道）", "Township"),
    "school_name": ("学校名称", "School"),
    "hazard_name": ("场所名称", "Hazard"),
    "units": ("单位", "Units"),
    "deadline": ("整改时限", "Deadline"),
    "who": ("操作人", "By"),
    "why": ("原因", "Why"),
}
#: Columns of the record of reports.
REPORTED_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "kind": ("类型", "Kind"),
    "name": ("单位或乡镇（街道）", "Unit or township"),
    "reported": ("报送情况", "Reported"),
    "at": ("报送时间", "Reported at"),
    "who": ("操作人", "By"),
    "source": ("来源", "Source"),
}
_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "校园及周边安全问题整改工作月报（{year}年{month}月）",
        "as_of": "统计截至 {as_of} 日终；逾期指整改时限已过（{as_of} 或更早）仍未办结的问题。",
        "partial": "本月尚未结束，数据截至今日。",
        "summary": (
            "累计立案 {cases} 件；本月新增 {opened} 件，重新打开 {reopened} 件，办结 {closed} 件"
            "（已整改 {rectified}、误报 {dismissed}、复查已消除 {resolved}）；"
            "月末在办 {open} 件，其中逾期 {overdue} 件。"
        ),
        "by_responsible": "按责任单位",
        "by_unit": "按牵头单位",
        "by_township": "按乡镇（街道）",
        "overdue": "逾期问题清单",
        "actions": "督办抄告联合整改",
        "actions_title": "本月督办、抄告及联合整改",
        "reported_title": "报送情况（每月5日前报送上月进展）",
        "reported_sheet": "报送情况",
        "responsible": "责任单位",
        "unit": "牵头单位",
        "township": "乡镇（街道）",
        "total": "合计",
        "none": "无逾期问题。",
        "no_actions": "本月无督办、抄告或联合整改。",
        "unassigned": "（未指定）",
        "for_unit": "（{unit}）",
        "reported_line": (
            "报送情况：单位已报送 {units_done}/{units_all}，乡镇（街道）已报送 "
            "{towns_done}/{towns_all}。"
        ),
        "actions_line": "本月督办 {escalate} 件，抄告 {copy} 件，联合整改 {joint} 件。",
        "yes": "已报送",
        "no": "未报送",
        "escalate": "督办",
        "copy": "抄告",
        "joint": "联合整改",
        "checklists": "五个百分之百",
        "checklists_title": "“五个百分之百”及重点水域落实情况（按乡镇，最近一次登记表导入）",
        "checklist_school": "学校“五个百分之百”落实率",
        "checklist_water": "重点水域防护落实率",
    },
    "en": {
        "title": "Rectification ledger: monthly report, {year}-{month:02d}",
        "as_of": (
            "Situation at the end of {as_of}; overdue: open cases whose deadline "
            "({as_of} or earlier) has passed."
        ),
        "partial": "The month is not over: figures as of today.",
        "summary": (
            "{cases} cases so far; this month {opened} opened, {reopened} reopened, {closed} "
            "closed ({rectified} rectified, {dismissed} dismissed, {resolved} resolved in data); "
            "{open} open at the end, {overdue} of them overdue."
        ),
        "by_responsible": "By responsible unit",
        "by_unit": "By lead unit",
        "by_township": "By township",
        "overdue": "Overdue cases",
        "actions": "Supervised, copied, joint",
        "actions_title": "Supervised (督办), copied (抄告) and joint cases this month",
        "reported_title": "Reports received (due by the 5th of the next month)",
        "reported_sheet": "Reports",
        "responsible": "Responsible unit",
        "unit": "Lead unit",
        "township": "Township",
        "total": "Total",
        "none": "No overdue cases.",
        "no_actions": "No case supervised, copied or made joint this month.",
        "unassigned": "(not assigned)",
        "for_unit": " ({unit})",
        "reported_line": (
            "Reports: {units_done} of {units_all} units, {towns_done} of {towns_all} townships."
        ),
        "actions_line": "This month {escalate} supervised, {copy} copied, {joint} made joint.",
        "yes": "reported",
        "no": "not yet",
        "escalate": "supervised",
        "copy": "copied",
        "joint": "joint",
        "checklists": "Checklists",
        "checklists_title": (
            "Campaign checklists by township (share with each item; last register imported)"
        ),
        "checklist_school": "Schools: the five 100% items (五个百分之百)",
        "checklist_water": "Key water areas",
    },
}
_TRACKED: Final = ("status", "deadline", "responsible_unit", "responsible_person")
#: History fields of the actions, by action.
_ACTION_FIELDS: Final = {"supervisor": "escalate", "copied_to": "copy", "joint_units": "joint"}


@dataclass(frozen=True)
class MonthlyReport:
    """The monthly progress report of a ledger.

    Attributes
    ----------
    month
        The month, ``YYYY-MM``.
    as_of
        The day whose end the report describes: the month's last day, or
        today while the month is not over.
    complete
        False while the month is not over.
    by_lead_unit, by_township
        Counts (:data:`COUNT_COLUMNS`) by lead unit and by township, with a
        ``合计`` total row.
    overdue
        The cases overdue at the end of `as_of`, most overdue first.
    lang
        Language of the labels in the tables.
    by_responsible_unit
        Counts by responsible unit (责任单位) at the end of `as_of`, with a total row.
    actions
        The month's 督办, 抄告 and 联合整改 (:data:`ACTION_COLUMNS`; ``action``
        is ``escalate``, ``copy`` or ``joint``), in order.
    reported
        Who has reported for the month (:data:`REPORTED_COLUMNS`): ``kind``
        ``unit`` or ``township``; ``reported`` (bool) with the first report's
        time, who recorded it and its source. Units and townships with cases
        to handle in the month come first (reported or not), then anyone
        else who reported.
    unit
        The unit whose own cases the report covers (None: every case).
    checklist_rates
        Rates by township of the campaign checklists last imported (``school``:
        五个百分之百, ``water``: 重点水域; see
        :func:`campus_geo.ledger.checklists.checklist_rates`); empty when none
        was imported.
    """

    month: str
    as_of: dt.date
    complete: bool
    by_lead_unit: pd.DataFrame
    by_township: pd.DataFrame
    overdue: pd.DataFrame
    lang: str = "zh"
    by_responsible_unit: pd.DataFrame = field(default_factory=pd.DataFrame)
    actions: pd.DataFrame = field(default_factory=pd.DataFrame)
    reported: pd.DataFrame = field(default_factory=pd.DataFrame)
    unit: str | None = None
    checklist_rates: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        """The total row as a dict."""
        return {str(k): int(v) for k, v in self.by_lead_unit.iloc[-1].items()}

    def reporters(self, kind: str, *, reported: bool) -> list[str]:
        """The units (`kind` ``unit``) or townships that have (not yet) reported."""
        table = self.reported
        if table.empty:
            return []
        chosen = table[(table["kind"] == kind) & (table["reported"] == reported)]
        return [str(n) for n in chosen["name"]]

    @property
    def action_counts(self) -> dict[str, int]:
        """Number of cases supervised, copied and made joint in the month."""
        counts = dict.fromkeys(("escalate", "copy", "joint"), 0)
        if not self.actions.empty:
            for key, n in self.actions.groupby("action")["finding_id"].nunique().items():
                counts[str(key)] = int(n)
        return counts


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", month.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        msg = f"month {month!r}: write it as YYYY-MM, e.g. 2023-06"
        raise LedgerError(msg)
    first = dt.date(int(match.group(1)), int(match.group(2)), 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def _values_at(cases: pd.DataFrame, history: pd.DataFrame, field: str, day: str) -> pd.Series:
    """Each case's `field` at the end of `day`, rebuilt from the history."""
    h = history[history["field"] == field]
    values = cases[field].astype(object).copy()
    after = h[h["day"] > day].groupby("finding_id")["old"].first()
    before = h[h["day"] <= day].groupby("finding_id")["new"].last()
    values.loc[after.index] = after.to_numpy()
    values.loc[before.index] = before.to_numpy()
    return values


def _counts(frame: pd.DataFrame, key: str, total: str) -> pd.DataFrame:
    flags = frame[[*COUNT_COLUMNS]].astype("int64")
    table = flags.groupby(frame[key].to_numpy()).sum()
    table.index.name = key
    table.loc[total] = flags.sum()
    return table.astype("int64")


def _actions(events: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """One row per action of the month, from its history rows (one per field changed)."""
    rows = []
    by_case = cases.to_dict("index")
    for keys, group in events.groupby(["finding_id", "at", "source"], sort=False):
        fid, at, action = (str(k) for k in keys)  # type: ignore[union-attr]
        case = by_case[fid]
        new = dict(zip(group["field"], group["new"], strict=True))
        old = dict(zip(group["field"], group["old"], strict=True))
        if action == "escalate":
            units = new.get("supervisor") or case["supervisor"]
        elif action == "copy":
            units = join_units(
                u
                for u in split_units(new.get("copied_to"))
                if u not in split_units(old.get("copied_to"))
            )
        else:
            lead = new.get("responsible_unit") or case["responsible_unit"]
            units = f"{lead}；{new.get('joint_units') or case['joint_units']}"
        rows.append(
            {
                "day": str(at)[:10],
                "action": action,
                "finding_id": fid,
                "township": case["township"],
                "school_name": case["school_name"],
                "hazard_name": case["hazard_name"],
                "units": units,
                "deadline": new.get("deadline") or "",
                "who": group["who"].iloc[0],
                "why": group["why"].iloc[0],
            }
        )
    return pd.DataFrame(rows, columns=list(ACTION_COLUMNS))


def _reported(
    frame: pd.DataFrame, reports: pd.DataFrame, *, unit: str | None, unassigned: str
) -> pd.DataFrame:
    """Who was to report for the month (units and townships with cases to handle) and who did."""
    active = frame[frame["open"] | frame["closed"] | frame["opened"] | frame["reopened"]]
    expected = {
        "unit": [unit] if unit else sorted(set(active["responsible_unit"]) - {unassigned}),
        "township": sorted(set(active["township"]) - {unassigned}),
    }
    first = reports.sort_values("report_id").drop_duplicates(["kind", "name"])
    rows = []
    for kind, names in expected.items():
        mine = first[first["kind"] == kind].set_index("name")
        others = [n for n in mine.index if n not in names and not (unit and kind == "unit")]
        for name in [*names, *others]:
            done = name in mine.index
            rows.append(
                {
                    "kind": kind,
                    "name": name,
                    "reported": done,
                    "at": mine.loc[name, "at"] if done else "",
                    "who": mine.loc[name, "who"] if done else "",
                    "source": mine.loc[name, "source"] if done else "",
                }
            )
    return pd.DataFrame(rows, columns=list(REPORTED_COLUMNS)).astype({"reported": bool})


def _read(
    ledger_path: str | Path, first: dt.date, day: str, month: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Cases, the history of the tracked fields, the month's actions, its reports, checklist rates."""
    with connect(ledger_path) as conn, read_transaction(conn):
        cases = pd.read_sql_query(
            "SELECT * FROM cases ORDER BY township, school_name, rule_id, finding_id",
            conn,
            index_col="finding_id",
        )
        history = pd.read_sql_query(
            "SELECT finding_id, at, field, old, new FROM history WHERE field IN "
            f"({', '.join('?' * len(_TRACKED))}) ORDER BY history_id",
            conn,
            params=_TRACKED,
        )
        events = pd.read_sql_query(
            "SELECT finding_id, at, field, old, new, who, why, source FROM history "
            "WHERE source IN ('escalate', 'copy', 'joint') AND substr(at, 1, 10) BETWEEN ? AND ? "
            "ORDER BY history_id",
            conn,
            params=(first.isoformat(), day),
        )
        reports = pd.read_sql_query(
            "SELECT * FROM reports WHERE month = ? ORDER BY report_id", conn, params=(month,)
        )
        rates = checklist_rates(conn)
    return cases, history, events, reports, rates


def monthly_report(
    ledger_path: str | Path,
    month: str,
    *,
    today: dt.date | None = None,
    lang: str = "zh",
    unit: str | None = None,
) -> MonthlyReport:
    """Compute the monthly report of `month` (``YYYY-MM``) from the ledger's history.

    Parameters
    ----------
    ledger_path
        The ledger file.
    month
        The month reported on, e.g. ``"2023-06"``.
    today
        Today's date (default: today); a month not over yet is reported as of today.
    lang
        Language of the labels in the tables ("zh" or "en").
    unit
        Only the cases that are this unit's own (see :mod:`campus_geo.ledger.units`).

    Returns
    -------
    MonthlyReport
    """
    if lang not in _TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(_TEXT)}"
        raise ValueError(msg)
    text = _TEXT[lang]
    label = 0 if lang == "zh" else 1
    first, last = _month_bounds(month)
    today = today or now_local(None).date()
    if today < first:
        msg = f"the month {month} has not begun (today is {today}); nothing to report"
        raise LedgerError(msg)
    complete = today > last
    as_of = last if complete else today
    day = as_of.isoformat()
    month = f"{first.year:04d}-{first.month:02d}"
    cases, history, events, reports, rates = _read(ledger_path, first, day, month)
    if unit is not None:
        cases = cases[unit_mask(cases, unit)]
        history = history[history["finding_id"].isin(cases.index)]
        events = events[events["finding_id"].isin(cases.index)]
    history["day"] = history["at"].str[:10]
    state = {field: _values_at(cases, history, field, day) for field in _TRACKED}
    status = history[(history["field"] == "status") & (history["day"] <= day)]
    status_at = status.groupby("finding_id")["new"].last().reindex(cases.index)
    last_change = status.groupby("finding_id")["day"].last().reindex(cases.index)
    in_month = status[status["day"] >= first.isoformat()]
    frame = pd.DataFrame(index=cases.index)
    frame["cases"] = status_at.notna()
    frame["opened"] = cases.index.isin(in_month.loc[in_month["old"].isna(), "finding_id"])
    reopen = in_month["old"].isin(CLOSED_STATUSES) & in_month["new"].isin(OPEN_STATUSES)
    frame["reopened"] = cases.index.isin(in_month.loc[reopen, "finding_id"])
    closed_now = status_at.isin(CLOSED_STATUSES) & (last_change >= first.isoformat())
    frame["closed"] = closed_now
    for code in CLOSED_STATUSES:
        frame[code] = closed_now & (status_at == code)
    frame["open"] = status_at.isin(OPEN_STATUSES)
    deadline = state["deadline"]
    frame["overdue"] = frame["open"] & deadline.notna() & (deadline.fillna("9999") <= day)
    frame["lead_unit"] = cases["lead_unit"].replace("", text["unassigned"])
    frame["responsible_unit"] = state["responsible_unit"].fillna("").replace("", text["unassigned"])
    frame["township"] = cases["township"].replace("", text["unassigned"])
    frame = frame[frame["cases"]]
    overdue = cases.loc[frame.index[frame["overdue"]]].copy()
    for field_name in _TRACKED:
        overdue[field_name] = state[field_name].loc[overdue.index]
    reference = pd.Timestamp(as_of + dt.timedelta(days=1))
    overdue["days_overdue"] = (reference - pd.to_datetime(overdue["deadline"])).dt.days
    overdue["status"] = [STATUS_LABELS[s][label] for s in overdue["status"]]
    names = read_category_labels(ledger_path)  # a user's own categories too
    overdue["category"] = [names.get(c, (c, c))[label] for c in overdue["category"]]
    overdue = overdue.reset_index().sort_values(
        ["days_overdue", "township", "school_name", "finding_id"],
        ascending=[False, True, True, True],
    )[list(_OVERDUE_COLUMNS)]
    return MonthlyReport(
        month=month,
        as_of=as_of,
        complete=complete,
        by_lead_unit=_counts(frame, "lead_unit", text["total"]),
        by_township=_counts(frame, "township", text["total"]),
        overdue=overdue.reset_index(drop=True),
        lang=lang,
        by_responsible_unit=_counts(frame, "responsible_unit", text["total"]),
        actions=_actions(events, cases),
        reported=_reported(frame, reports, unit=unit, unassigned=text["unassigned"]),
        unit=unit,
        checklist_rates=rates,
    )


def _headers(columns: dict[str, tuple[str, str]], lang: str) -> list[str]:
    return [labels[0 if lang == "zh" else 1] for labels in columns.values()]


def _title_lines(report: MonthlyReport, lang: str) -> list[str]:
    """Title, as-of line, summary, actions of the month, reports received."""
    text = _TEXT[lang]
    year, month = (int(x) for x in report.month.split("-"))
    title = text["title"].format(year=year, month=month)
    if report.unit:
        title += text["for_unit"].format(unit=report.unit)
    lines = [title, text["as_of"].format(as_of=report.as_of.isoformat())]
    if not report.complete:
        lines[1] += " " + text["partial"]
    lines.append(text["summary"].format(**report.totals))
    lines.append(text["actions_line"].format(**report.action_counts))
    counts = {}
    for kind, key in (("unit", "units"), ("township", "towns")):
        done = len(report.reporters(kind, reported=True))
        counts[f"{key}_done"] = done
        counts[f"{key}_all"] = done + len(report.reporters(kind, reported=False))
    lines.append(text["reported_line"].format(**counts))
    return lines


def _action_rows(report: MonthlyReport, lang: str) -> list[list[Any]]:
    text = _TEXT[lang]
    return [
        [text[v] if k == "action" else v for k, v in row.items()]
        for row in report.actions.to_dict("records")
    ]


def _reported_rows(report: MonthlyReport, lang: str) -> list[list[Any]]:
    text = _TEXT[lang]
    label = 0 if lang == "zh" else 1
    return [
        [
            REPORT_KINDS[row["kind"]][label],
            row["name"],
            text["yes"] if row["reported"] else text["no"],
            row["at"],
            row["who"],
            row["source"],
        ]
        for row in report.reported.to_dict("records")
    ]


_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _cell_value(value: Any) -> Any:
    """A date written as ISO text becomes a date (sorted and filtered as one in Excel)."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    return value


def _write_table(ws: Any, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws.append([title])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
    ws.append(header)
    if not ws.print_title_rows:  # the first table's header repeats on every printed page
        ws.print_title_rows = f"{ws.max_row}:{ws.max_row}"
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        ws.append([_cell_value(v) for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    ws.append([])


def _print_setup(ws: Any) -> None:
    """A4, the columns fitted to the page width (landscape when wide), page numbers."""
    wide = ws.max_column > 8
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if wide else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "&P / &N"


def _count_tables(report: MonthlyReport) -> list[tuple[str, str, pd.DataFrame]]:
    """(title key, header key, table) of the count tables, in order."""
    return [
        ("by_responsible", "responsible", report.by_responsible_unit),
        ("by_unit", "unit", report.by_lead_unit),
        ("by_township", "township", report.by_township),
    ]


def _sheet(wb: Any, name: str, title: str) -> Any:
    ws = wb.create_sheet(name[:31])
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=16)
    return ws


def _save_xlsx(report: MonthlyReport, path: Path, lang: str, stamp: dt.datetime) -> Path:
    text = _TEXT[lang]
    lines = _title_lines(report, lang)
    wb = Workbook()
    wb.remove(wb.active)
    counts = _headers(COUNT_COLUMNS, lang)
    for number, (title, key, table) in enumerate(_count_tables(report)):
        sheet = _sheet(wb, text[title], lines[0])
        if number == 0:
            for line in lines[1:]:
                sheet.append([line])
        _write_table(
            sheet,
            text[title],
            [text[key], *counts],
            [[name, *map(int, values)] for name, values in table.iterrows()],
        )
        sheet.column_dimensions["A"].width = 22
        for i in range(2, len(counts) + 2):
            sheet.column_dimensions[get_column_letter(i)].width = 11
    overdue_ws = _sheet(wb, text["overdue"], lines[0])
    _write_table(
        overdue_ws,
        text["overdue"],
        _headers(_OVERDUE_COLUMNS, lang),
        report.overdue.to_numpy().tolist() or [[text["none"]]],
    )
    for i, width in enumerate((18, 11, 11, 22, 20, 14, 12, 14, 10, 11, 8, 10), start=1):
        overdue_ws.column_dimensions[get_column_letter(i)].width = width
    for sheet_key, title, columns, rows, widths in (
        (
            "actions",
            "actions_title",
            ACTION_COLUMNS,
            _action_rows(report, lang) or [[text["no_actions"]]],
            (11, 9, 18, 11, 22, 20, 26, 11, 16, 30),
        ),
        (
            "reported_sheet",
            "reported_title",
            REPORTED_COLUMNS,
            _reported_rows(report, lang),
            (12, 22, 10, 20, 20, 36),
        ),
    ):
        ws = _sheet(wb, text[sheet_key], lines[0])
        _write_table(ws, text[title], _headers(columns, lang), rows)
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
    if report.checklist_rates:
        _checklist_sheet(wb, report, lang, lines[0])
    for ws in wb.worksheets:
        _print_setup(ws)
    return save_workbook_reproducibly(wb, path, timestamp=stamp)


def _rate_rows(kind: str, table: pd.DataFrame, lang: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a checklist rates table: township, count, shares (0..1, 4 decimals)."""
    labels = rate_labels(kind)
    header = [_TEXT[lang]["township"], *(labels[c] for c in table.columns)]
    rows = [
        [str(name), int(row["count"]), *(round(float(row[c]), 4) for c in table.columns[1:])]
        for name, row in table.iterrows()
    ]
    return header, rows


def _checklist_sheet(wb: Any, report: MonthlyReport, lang: str, title: str) -> None:
    """The sheet of the checklist rates by township (shares formatted as percentages)."""
    text = _TEXT[lang]
    ws = _sheet(wb, text["checklists"], title)
    ws.append([text["checklists_title"]])
    ws.append([])
    for kind, table in report.checklist_rates.items():
        header, rows = _rate_rows(kind, table, lang)
        _write_table(ws, text[f"checklist_{kind}"], header, rows)
        for row in ws.iter_rows(min_row=ws.max_row - len(rows), max_row=ws.max_row - 1):
            for cell in row[2:]:
                cell.number_format = "0.0%"
    ws.column_dimensions["A"].width = 16
    for i in range(2, 9):
        ws.column_dimensions[get_column_letter(i)].width = 13


def _html_table(header: list[str], rows: list[list[Any]], last_is_total: bool) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        total = last_is_total and i == len(rows) - 1
        cells = "".join(
            f"<td class='n'>{v}</td>" if isinstance(v, int) else f"<td>{html.escape(str(v))}</td>"
            for v in row
        )
        body.append(f"<tr class='total'>{cells}</tr>" if total else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# print-ready: A4 landscape with page numbers, tables within the page width (cells wrap),
# headers repeated on every page (thead), a table row never split across pages
_CSS: Final = (
    "@page{size:A4 landscape;margin:12mm;"
    "@bottom-center{content:counter(page) ' / ' counter(pages);font-size:8pt}}"
    "body{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif;"
    "margin:2em;color:#222;max-width:273mm}"
    "table{border-collapse:collapse;margin:0.5em 0 1.5em;width:100%;table-layout:auto}"
    "th,td{border:1px solid #999;padding:3px 6px;overflow-wrap:anywhere}th{background:#e6e6e6}"
    "td.n{text-align:right;white-space:nowrap}tr.total td{font-weight:bold;background:#f5f5f5}"
    "thead{display:table-header-group}tr{break-inside:avoid;page-break-inside:avoid}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em;break-after:avoid}"
    "@media print{body{margin:0;max-width:none;font-size:9pt}}"
)


def _save_html(report: MonthlyReport, path: Path, lang: str) -> Path:
    text = _TEXT[lang]
    lines = _title_lines(report, lang)
    counts = _headers(COUNT_COLUMNS, lang)
    parts = [
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
        f"<meta charset='utf-8'><title>{html.escape(lines[0])}</title>"
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(lines[0])}</h1>",
        f"<p>{html.escape(lines[1])}</p><p id='summary'>{html.escape(lines[2])}</p>",
        f"<p id='actions'>{html.escape(lines[3])}</p><p id='reports'>{html.escape(lines[4])}</p>",
    ]
    for title, key, table in _count_tables(report):
        rows = [[str(name), *map(int, values)] for name, values in table.iterrows()]
        parts.append(f"<h2>{html.escape(text[title])}</h2>")
        parts.append(_html_table([text[key], *counts], rows, last_is_total=True))
    parts.append(f"<h2>{html.escape(text['overdue'])}</h2>")
    if len(report.overdue):
        rows = [
            [int(v) if k == "days_overdue" else v for k, v in r.items()]
            for r in report.overdue.to_dict("records")
        ]
        parts.append(_html_table(_headers(_OVERDUE_COLUMNS, lang), rows, last_is_total=False))
    else:
        parts.append(f"<p>{html.escape(text['none'])}</p>")
    parts.append(f"<h2>{html.escape(text['actions_title'])}</h2>")
    if len(report.actions):
        header = _headers(ACTION_COLUMNS, lang)
        parts.append(_html_table(header, _action_rows(report, lang), last_is_total=False))
    else:
        parts.append(f"<p>{html.escape(text['no_actions'])}</p>")
    parts.append(f"<h2 id='reported'>{html.escape(text['reported_title'])}</h2>")
    parts.append(
        _html_table(
            _headers(REPORTED_COLUMNS, lang), _reported_rows(report, lang), last_is_total=False
        )
    )
    if report.checklist_rates:
        parts.append(f"<h2 id='checklists'>{html.escape(text['checklists_title'])}</h2>")
        for kind, table in report.checklist_rates.items():
            header, rows = _rate_rows(kind, table, lang)
            shown = [[r[0], r[1], *(f"{v:.1%}" for v in r[2:])] for r in rows]
            parts.append(f"<h3>{html.escape(text[f'checklist_{kind}'])}</h3>")
            parts.append(_html_table(header, shown, last_is_total=True))
    parts.append("</body></html>\n")
    path.write_text("".join(parts), encoding="utf-8")
    return path


def save_monthly_report(
    report: MonthlyReport,
    dirpath: str | Path,
    *,
    lang: str | None = None,
    timestamp: dt.datetime | None = None,
) -> dict[str, Path]:
    """Write ``monthly_YYYY-MM.xlsx`` and ``monthly_YYYY-MM.html`` into `dirpath`.

    Parameters
    ----------
    report
        From :func:`monthly_report`.
    dirpath
        Output folder, created if missing.
    lang
        "zh" or "en" (default: the report's language; its tables keep theirs).
    timestamp
        Document time stored in the xlsx (default: midnight after `as_of`),
        so the same report gives the same bytes.

    Returns
    -------
    dict
        ``{"xlsx": path, "html": path}``.
    """
    lang = lang or report.lang
    if lang not in _TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(_TEXT)}"
        raise ValueError(msg)
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    stamp = timestamp or dt.datetime.combine(report.as_of + dt.timedelta(days=1), dt.time())
    written = {
        "xlsx": _save_xlsx(report, out / f"monthly_{report.month}.xlsx", lang, stamp),
        "html": _save_html(report, out / f"monthly_{report.month}.html", lang),
    }
    log.info("wrote the monthly report %s to %s", report.month, out)
    return written
