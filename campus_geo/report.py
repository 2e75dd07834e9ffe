"""The inspection form (校园及周边安全问题排查表) as a print-ready xlsx.

The layout is the campaign's own (see the plan's attachment): a title, the
reporting unit (填报单位), then one row per school with four columns:
学校名称 | 所在乡（镇、街道）、村（社区） | 存在的主要问题 | 整治建议.
A second sheet lists every finding with all its columns.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from ._xlsx import save_workbook_reproducibly
from .settings import CATEGORY_LABELS

__all__ = ["FORM_TEXT", "problem_sentences", "save_inspection_form"]

log = logging.getLogger(__name__)

FORM_TEXT: Final[dict[str, dict[str, Any]]] = {
    "zh": {
        "title": "校园及周边安全问题排查表",
        "unit": "填报单位：",
        "headers": ["学校名称", "所在乡（镇、街道）、村（社区）", "存在的主要问题", "整治建议"],
        "none": "无",
        "detail": "问题明细",
        "form": "排查表",
        "profile": {"boundary": "自校园边界直线量算", "entrance": "自校门直线量算"},
        "point": "（校园边界未知，自学校点位量算）",
        "sentence": "{n}. {category}“{name}”，距离{distance:.1f}米（{method}，规定{threshold:g}米）",
        "unnamed": "未命名",
        "footer": "第 &P 页，共 &N 页",
    },
    "en": {
        "title": "Inspection form: safety problems in and around schools",
        "unit": "Reporting unit: ",
        "headers": [
            "School",
            "Township / village",
            "Main problems found",
            "Rectification suggestions",
        ],
        "none": "none",
        "detail": "Findings",
        "form": "Form",
        "profile": {
            "boundary": "straight line from the campus boundary",
            "entrance": "straight line from the gate",
        },
        "point": " (outline unknown: measured from the school point)",
        "sentence": '{n}. {category} "{name}" at {distance:.1f} m ({method}; limit {threshold:g} m)',
        "unnamed": "unnamed",
        "footer": "Page &P of &N",
    },
}

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WIDTHS: Final = (26, 30, 70, 46)


def _text(lang: str) -> dict[str, Any]:
    if lang not in FORM_TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(FORM_TEXT)}"
        raise ValueError(msg)
    return FORM_TEXT[lang]


def problem_sentences(findings: pd.DataFrame, *, lang: str = "zh") -> list[str]:
    """Numbered short sentences, one per finding (category, venue, distance to 0.1 m, method).

    Examples
    --------
    >>> f = pd.DataFrame({"category": ["internet_cafe"], "hazard_name": ["星空网咖"],
    ...     "distance_m": [199.46], "profile": ["boundary"], "threshold_m": [200.0], "notes": [""]})
    >>> problem_sentences(f)
    ['1. 上网服务场所“星空网咖”，距离199.5米（自校园边界直线量算，规定200米）']
    """
    text = _text(lang)
    label = 0 if lang == "zh" else 1
    out = []
    for n, row in enumerate(findings.itertuples(index=False), start=1):
        method = text["profile"].get(row.profile, row.profile)
        sentence = text["sentence"].format(
            n=n,
            category=CATEGORY_LABELS.get(str(row.category), (str(row.category),) * 2)[label],
            name=row.hazard_name or text["unnamed"],
            distance=row.distance_m,
            method=method,
            threshold=row.threshold_m,
        )
        if "outline unknown" in str(row.notes):
            sentence += text["point"]
        out.append(sentence)
    return out


def _form_rows(
    findings: gpd.GeoDataFrame, schools: gpd.GeoDataFrame | None, lang: str, all_schools: bool
) -> list[list[str]]:
    text = _text(lang)
    order = ["township", "village", "school_name", "school_id"]
    rows = []
    by_school = dict(
        tuple(findings.sort_values(["rule_id", "distance_m"]).groupby("school_id", sort=False))
    )
    if all_schools and schools is not None:
        ids = schools.sort_values(["township", "village", "name"]).index
    else:
        ids = pd.Index(findings.sort_values(order)["school_id"].unique())
    for school_id in ids:
        group = by_school.get(school_id)
        if group is None:
            school = schools.loc[school_id] if schools is not None else None
            name = str(school["name"]) if school is not None else str(school_id)
            place = (
                "、".join(p for p in (str(school["township"]), str(school["village"])) if p)
                if school is not None
                else ""
            )
            rows.append([name, place, text["none"], text["none"]])
            continue
        first = group.iloc[0]
        place = "、".join(p for p in (first["township"], first["village"]) if p)
        suggestions = list(dict.fromkeys(s for s in group["suggestion"] if s))
        rows.append(
            [
                first["school_name"],
                place,
                "\n".join(problem_sentences(group, lang=lang)),
                "\n".join(f"{i}. {s}" for i, s in enumerate(suggestions, start=1)),
            ]
        )
    return rows


def save_inspection_form(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame | None,
    filepath: str | Path,
    *,
    reporting_unit: str = "",
    lang: str = "zh",
    all_schools: bool = False,
    timestamp: dt.datetime | None = None,
) -> Path:
    """Write the inspection form (排查表) in the campaign's layout, print-ready.

    Parameters
    ----------
    findings
        Findings from :func:`campus_geo.screen.screen`.
    schools
        The screened schools (needed with `all_schools`).
    filepath
        Path of the .xlsx to write.
    reporting_unit
        Text after 填报单位.
    lang
        "zh" (default) or "en".
    all_schools
        One row for every screened school, with 无 where nothing was found.
    timestamp
        Document time stored in the file; fixed when None, so the same
        findings give the same bytes.
    """
    text = _text(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = text["form"]
    ws.append([text["title"]])
    ws.merge_cells("A1:D1")
    ws["A1"].font = Font(name="宋体", size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36
    ws.append([text["unit"] + reporting_unit])
    ws.merge_cells("A2:D2")
    ws["A2"].alignment = Alignment(horizontal="left", vertical="center")
    ws.append(text["headers"])
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
    for row in _form_rows(findings, schools, lang, all_schools):
        ws.append(row)
        r = ws.max_row
        lines = max(str(v).count("\n") + 1 + len(str(v)) // 40 for v in row)
        ws.row_dimensions[r].height = max(30, 15 * lines)
        for cell in ws[r]:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = _BORDER
    for i, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = text["footer"]
    ws.freeze_panes = "A4"
    _detail_sheet(wb.create_sheet(text["detail"]), findings)
    path = save_workbook_reproducibly(wb, filepath, timestamp=timestamp)
    log.info("wrote inspection form %s", path)
    return path


def _detail_sheet(ws: Any, findings: gpd.GeoDataFrame) -> None:
    table = pd.DataFrame(findings.drop(columns="geometry")).reset_index()
    ws.append(list(table.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for values in table.itertuples(index=False):
        ws.append([round(v, 3) if isinstance(v, float) else v for v in values])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
