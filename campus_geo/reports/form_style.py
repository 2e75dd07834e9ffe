"""The inspection form's words and look: its texts in Chinese and English, borders, fonts, page setup.

Shared by the form's sheets (:mod:`campus_geo.reports.form`) and the detail and
summary sheets (:mod:`campus_geo.reports.form_sheets`).
"""

from __future__ import annotations

import unicodedata
from typing import Any, Final

from openpyxl.styles import Border, Font, PatternFill, Side

__all__ = [
    "BODY_FONT",
    "BOLD_FONT",
    "BORDER",
    "FACE",
    "FORM_TEXT",
    "HEAD_FILL",
    "display_width",
    "form_text",
    "label_of",
    "print_setup",
]

FORM_TEXT: Final[dict[str, dict[str, Any]]] = {
    "zh": {
        "title": "校园及周边安全问题排查表",
        "unit": "填报单位：",
        "headers": ["学校名称", "所在乡（镇、街道）、村（社区）", "存在的主要问题", "整治建议"],
        "none": "无",
        "detail": "问题明细",
        "form": "排查表",
        "summary": "汇总",
        "summary_title": "校园及周边安全问题排查结果汇总",
        "counts": "共排查学校 {schools} 所，{with_findings} 所学校存在问题，共 {findings} 处，"
        "其中禁止类 {prohibited} 处。",
        "counts_no_schools": "{with_findings} 所学校存在问题，共 {findings} 处，其中禁止类 {prohibited} 处。",
        "charts": "图表",
        "profile": {
            "boundary": "自校园边界直线量算",
            "entrance": "自校门直线量算",
            "walk": "自校门沿道路步行量算",
        },
        "point": "（校园边界未知，自学校点位量算）",
        "sentence": "{n}. {category}“{name}”，距离{distance:.1f}米（{method}，规定{threshold:g}米）",
        "sentence_unnamed": "{n}. {category}（未命名），距离{distance:.1f}米（{method}，规定{threshold:g}米）",
        "sentence_inside": "{n}. {category}“{name}”，位于校园内（规定校内不得设置）",
        "sentence_inside_unnamed": "{n}. {category}（未命名），位于校园内（规定校内不得设置）",
        # profile="all": the venue's distances under every profile side by side
        "sentence_all": "{n}. {category}“{name}”，距离{distances}，规定{threshold:g}米",
        "sentence_all_unnamed": "{n}. {category}（未命名），距离{distances}，规定{threshold:g}米",
        "profile_short": {"boundary": "边界", "entrance": "校门", "walk": "步行"},
        "distance_part": "{d:.1f}米（{how}）",
        "beyond_part": "超过{d:g}米或不可达（{how}）",
        "parts_sep": "/ ",
        "depends": "，结论取决于量算口径",
        "footer": "第 &P 页，共 &N 页",
        "place_sep": "、",
        "evidence": "证据单",
        "columns": {
            "finding_id": "问题编号",
            "school_id": "学校编号",
            "school_name": "学校名称",
            "township": "乡（镇、街道）",
            "village": "村（社区）",
            "hazard_id": "隐患编号",
            "hazard_name": "隐患名称",
            "category": "类别",
            "rule_id": "规则编号",
            "severity": "严重程度",
            "profile": "量测口径",
            "threshold_m": "规定距离（米）",
            "distance_m": "量得距离（米）",
            "basis": "法律依据",
            "lead_units": "牵头单位",
            "responsible_units": "责任单位",
            "enforcing_units": "执法单位（主办在前）",
            "suggestion": "整治建议",
            "notes": "备注",
            "school_lon": "学校端点经度",
            "school_lat": "学校端点纬度",
            "hazard_lon": "隐患端点经度",
            "hazard_lat": "隐患端点纬度",
            "source": "隐患来源",
            "evidence": "证据单",
        },
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
        "summary": "Summary",
        "summary_title": "Safety screening around schools: summary",
        "counts": "{schools} schools screened; {with_findings} with findings; {findings} findings, "
        "{prohibited} of them prohibited.",
        "counts_no_schools": "{with_findings} schools with findings; {findings} findings, "
        "{prohibited} of them prohibited.",
        "charts": "Charts",
        "profile": {
            "boundary": "straight line from the campus boundary",
            "entrance": "straight line from the gate",
            "walk": "walking route from the gate",
        },
        "point": " (outline unknown: measured from the school point)",
        "sentence": '{n}. {category} "{name}" at {distance:.1f} m ({method}; limit {threshold:g} m)',
        "sentence_unnamed": "{n}. {category} (unnamed) at {distance:.1f} m ({method}; limit {threshold:g} m)",
        "sentence_inside": '{n}. {category} "{name}" inside the campus (not allowed there)',
        "sentence_inside_unnamed": "{n}. {category} (unnamed) inside the campus (not allowed there)",
        "sentence_all": '{n}. {category} "{name}" at {distances}; limit {threshold:g} m',
        "sentence_all_unnamed": "{n}. {category} (unnamed) at {distances}; limit {threshold:g} m",
        "profile_short": {"boundary": "boundary", "entrance": "gate", "walk": "walk"},
        "distance_part": "{d:.1f} m ({how})",
        "beyond_part": "beyond {d:g} m or unreachable ({how})",
        "parts_sep": " / ",
        "depends": "; the verdict depends on the profile",
        "footer": "Page &P of &N",
        "place_sep": ", ",
        "evidence": "evidence",
        "columns": {},
    },
}

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")
#: The form's typeface: 宋体 (SimSun), the usual face of Chinese forms, whose Chinese characters
#: are exactly two Latin characters wide, as :func:`display_width` counts them.
FACE: Final = "宋体"
BODY_FONT = Font(name=FACE, size=11)
BOLD_FONT = Font(name=FACE, size=11, bold=True)


def form_text(lang: str) -> dict[str, Any]:
    """The form's texts in `lang` ("zh" or "en")."""
    if lang not in FORM_TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(FORM_TEXT)}"
        raise ValueError(msg)
    return FORM_TEXT[lang]


def label_of(labels: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """The label of `key` in `lang` (the key itself when unknown)."""
    zh, en = labels.get(key, (key, key))
    return zh if lang == "zh" else en


def display_width(text: str) -> int:
    """Width of `text` in Excel character units: 2 for CJK characters.

    Wide, full-width and ambiguous characters (Chinese punctuation such as
    “ ” take a full cell in a Chinese font) count 2, others 1.

    Examples
    --------
    >>> display_width("网吧 200m")
    9
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def print_setup(
    ws: Any, footer: str, title_rows: str | None, *, one_page_wide: bool = True
) -> None:
    """A4 landscape, centred, page numbers in the footer; one page wide unless told otherwise."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    if one_page_wide:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.6, 0.7
    ws.oddFooter.center.text = footer
    if title_rows:
        ws.print_title_rows = title_rows
