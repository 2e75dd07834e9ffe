"""The inspection form (校园及周边安全问题排查表) as a print-ready xlsx, and every report of a run.

The form's first sheet is the campaign's own layout (the plan's attachment): a
title, the reporting unit (填报单位), then one row per school with four columns
学校名称 | 所在乡（镇、街道）、村（社区） | 存在的主要问题 | 整治建议; problems as
short numbered sentences (category, venue, distance to 0.1 m, method),
suggestions from the rule table merged per school. Print-ready: A4 landscape,
borders, wrapped text, the header row repeated on every page, column widths
fitted to the text, page numbers. The second sheet lists every finding with
all its columns (and a link to its evidence sheet); the third summarises by
township x category, by lead unit (牵头单位) and by category, with the charts.

:func:`save_reports` writes everything a run hands over: the form,
``summary.html`` (:mod:`campus_geo.summary`), the charts as PNG and one
evidence sheet per finding (:mod:`campus_geo.evidence`). The same inputs and
"generated at" time give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XLImage
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from campus_geo.analyses.water import form_lines
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine.walk import WALK_SEARCH_FACTOR
from campus_geo.reports.analyses import Section
from campus_geo.reports.charts import category_chart, figure_png, save_charts, township_chart
from campus_geo.reports.evidence import rules_by_id, save_evidence_sheets
from campus_geo.reports.fonts import CJKFont, cjk_font
from campus_geo.reports.provenance import describe_inputs, generation_time, osm_element_ids
from campus_geo.reports.saved_findings import findings_from_file
from campus_geo.reports.summary import Analyses, Table, save_summary_html, summarise, summary_tables
from campus_geo.reports.workbook import save_workbook_reproducibly
from campus_geo.rules import Rule, categories_of, default_categories, rule_of
from campus_geo.screen import CSV_COLUMNS
from campus_geo.settings import CATEGORY_LABELS, PROFILES, SEVERITY_LABELS

__all__ = [
    "FORM_TEXT",
    "display_width",
    "findings_from_file",
    "problem_sentences",
    "save_inspection_form",
    "save_reports",
]

log = logging.getLogger(__name__)

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

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")
#: The form's typeface: 宋体 (SimSun), the usual face of Chinese forms, whose Chinese characters
#: are exactly two Latin characters wide, as :func:`display_width` counts them.
_FACE: Final = "宋体"
_BODY = Font(name=_FACE, size=11)
_BOLD = Font(name=_FACE, size=11, bold=True)
#: (minimum, maximum) widths of the form's four columns, in Excel character units.
_FORM_WIDTHS: Final = ((14, 28), (16, 26), (40, 72), (28, 46))
_DETAIL_MAX_WIDTH: Final = 44
#: Points per line of 11-point text, and the padding of a row.
_LINE_PT: Final = 15.0
_ROW_PAD_PT: Final = 4.0
#: Excel shows pictures at 96 pixels per inch; charts are rendered at this many for print.
_CHART_DPI: Final = 150
#: Columns of the detail sheet: those of findings.csv, in its order (extra columns follow).
_DETAIL_COLUMNS: Final = tuple(CSV_COLUMNS)
#: Number formats of the detail sheet: distances to the millimetre, end points to 7 decimals.
_FORMATS: Final = {
    "threshold_m": "0.###",
    "distance_m": "0.000",
    "school_lon": "0.0000000",
    "school_lat": "0.0000000",
    "hazard_lon": "0.0000000",
    "hazard_lat": "0.0000000",
}


def _text(lang: str) -> dict[str, Any]:
    if lang not in FORM_TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(FORM_TEXT)}"
        raise ValueError(msg)
    return FORM_TEXT[lang]


def _categories(
    findings: pd.DataFrame,
    rules: Sequence[Rule] | str | Path | None,
    categories: CategoryRegistry | None,
) -> CategoryRegistry:
    """The categories of a report: those given, else the rule table's, with any the findings have."""
    registry = categories_of(rules) if categories is None else categories
    return registry.with_keys(findings["category"].astype(str)) if len(findings) else registry


def _label(labels: dict[str, tuple[str, str]], key: str, lang: str) -> str:
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


def _lines(text: str, width: float) -> int:
    """Lines that `text` takes when wrapped in a column `width` characters wide."""
    usable = max(width - 1.5, 1.0)
    return sum(max(1, math.ceil(display_width(p) / usable)) for p in str(text).split("\n"))


def _all_profiles(findings: pd.DataFrame) -> bool:
    """Whether the findings come from ``profile="all"`` (a distance column per profile)."""
    return all(f"{p}_m" in findings.columns for p in PROFILES)


def _base_rule(rule_ids: pd.Series) -> pd.Series:
    """The rule a finding's rule id comes from: ``<rule id>@<profile>`` under ``profile="all"``."""
    return rule_ids.astype(str).str.split("@", n=1).str[0]


def _one_per_venue(findings: pd.DataFrame) -> pd.DataFrame:
    """Under ``profile="all"``: one row per (school, venue, rule), in the order given.

    Of the rows of one venue the one measured under the rule's own profile is
    kept (its rule id has no ``@``), else the first; its ``*_m`` columns carry
    the distances under every profile. Other findings are returned as they are.
    """
    if not _all_profiles(findings) or findings.empty:
        return findings
    rule_ids = findings["rule_id"].astype(str)
    keys = pd.DataFrame(
        {
            "school": findings["school_id"].astype(str).to_numpy(),
            "hazard": findings["hazard_id"].astype(str).to_numpy(),
            "rule": _base_rule(rule_ids).to_numpy(),
            "other": rule_ids.str.contains("@", regex=False).to_numpy(),
            "position": range(len(findings)),
        }
    )
    first = keys.sort_values(["other", "position"], kind="stable").drop_duplicates(
        ["school", "hazard", "rule"]
    )
    return findings.iloc[sorted(first["position"])]


def _distances_side_by_side(row: Any, text: dict[str, Any]) -> str:
    """``183.6米（边界）/ 201.2米（校门）/ 240.0米（步行）``: a venue under every profile."""
    parts = []
    for profile in PROFILES:
        d = float(getattr(row, f"{profile}_m"))
        how = text["profile_short"][profile]
        if math.isnan(d):
            continue
        if math.isinf(d):
            far = float(row.threshold_m) * WALK_SEARCH_FACTOR
            parts.append(text["beyond_part"].format(d=far, how=how))
        else:
            parts.append(text["distance_part"].format(d=d, how=how))
    return str(text["parts_sep"]).join(parts)


def problem_sentences(
    findings: pd.DataFrame, *, lang: str = "zh", categories: CategoryRegistry | None = None
) -> list[str]:
    """Numbered short sentences, one per venue (category, venue, distance to 0.1 m, method).

    Findings of ``profile="all"`` (columns ``boundary_m``, ``entrance_m``,
    ``walk_m``) list a venue found under several profiles once, its distances
    side by side, and say when the verdict depends on the profile. A finding of
    an inside rule (threshold 0 m) says the venue lies inside the campus.
    `categories`: the labels of the categories (the default rule table's when None).

    Examples
    --------
    >>> f = pd.DataFrame({"category": ["internet_cafe"], "hazard_name": ["星空网咖"],
    ...     "distance_m": [199.46], "profile": ["boundary"], "threshold_m": [200.0], "notes": [""]})
    >>> problem_sentences(f)
    ['1. 上网服务场所“星空网咖”，距离199.5米（自校园边界直线量算，规定200米）']
    >>> problem_sentences(f.assign(category="traffic", hazard_name="", distance_m=16.04, threshold_m=100.0))
    ['1. 交通风险点（未命名），距离16.0米（自校园边界直线量算，规定100米）']
    >>> both = pd.concat([f, f.assign(profile="walk", distance_m=240.0)]).assign(
    ...     school_id="s1", hazard_id="h1", rule_id=["cafe_200m", "cafe_200m@walk"],
    ...     boundary_m=199.46, entrance_m=201.2, walk_m=240.0, profile_dependent=True)
    >>> problem_sentences(both.assign(hazard_name="网咖"))
    ['1. 上网服务场所“网咖”，距离199.5米（边界）/ 201.2米（校门）/ 240.0米（步行），规定200米，结论取决于量算口径']
    >>> problem_sentences(f.assign(category="tuck_shop", hazard_name="园内小卖部", distance_m=0.0,
    ...     threshold_m=0.0))
    ['1. 小卖部/小超市“园内小卖部”，位于校园内（规定校内不得设置）']
    """
    text = _text(lang)
    labels = (default_categories() if categories is None else categories).labels
    every = _all_profiles(findings)
    out = []
    for n, row in enumerate(_one_per_venue(findings).itertuples(index=False), start=1):
        values = {
            "n": n,
            "category": _label(labels, str(row.category), lang),
            "name": row.hazard_name,
            "threshold": row.threshold_m,
        }
        if row.threshold_m == 0:  # an inside rule: the venue lies in the campus
            key = "sentence_inside" if row.hazard_name else "sentence_inside_unnamed"
            sentence = text[key].format(**values)
        elif every:
            key = "sentence_all" if row.hazard_name else "sentence_all_unnamed"
            sentence = text[key].format(**values, distances=_distances_side_by_side(row, text))
            if bool(getattr(row, "profile_dependent", False)):
                sentence += text["depends"]
        else:
            key = "sentence" if row.hazard_name else "sentence_unnamed"
            sentence = text[key].format(
                **values,
                distance=row.distance_m,
                method=text["profile"].get(row.profile, row.profile),
            )
        if "outline unknown" in str(row.notes):
            sentence += text["point"]
        out.append(sentence)
    return out


def _suggestions(group: pd.DataFrame, lang: str, rules: dict[str, Rule]) -> list[str]:
    """The distinct suggestions of a school's findings, in rule order, in `lang`."""
    out = []
    for rule_id, category, suggestion in zip(
        group["rule_id"].astype(str),
        group["category"].astype(str),
        group["suggestion"],
        strict=True,
    ):
        rule = rules.get(rule_id) or rules.get(category)
        text = str(suggestion or "")
        if lang == "en" and rule is not None and rule.suggestion_en:
            text = rule.suggestion_en
        if text:
            out.append(text)
    return list(dict.fromkeys(out))


def _water_tip(rules: dict[str, Rule], lang: str) -> str:
    """The water rule's suggestion in `lang` (for a school whose water is no finding)."""
    rule = rule_of("water", rules.values())
    if rule is None:
        return ""
    return (rule.suggestion_en if lang == "en" else "") or rule.suggestion


def _form_rows(
    findings: pd.DataFrame,
    schools: pd.DataFrame | None,
    lang: str,
    all_schools: bool,
    rules: dict[str, Rule],
    water: pd.Series | None = None,
    categories: CategoryRegistry | None = None,
) -> list[list[str]]:
    text = _text(lang)
    water = water if water is not None else pd.Series(dtype=object)
    # a venue's findings under several profiles (profile="all") sort together, by their rule
    ordered = findings.assign(_rule=_base_rule(findings["rule_id"])).sort_values(
        ["_rule", "distance_m"], kind="stable"
    )
    by_school = dict(tuple(ordered.drop(columns="_rule").groupby("school_id", sort=False)))
    if all_schools and schools is not None:
        order = schools.assign(_id=schools.index.astype(str)).sort_values(
            ["township", "village", "name", "_id"], kind="stable"
        )
        ids = list(order["_id"])
    else:
        ids = list(
            findings.sort_values(
                ["township", "village", "school_name", "school_id"], kind="stable"
            )["school_id"].unique()
        )
        ids += [str(s) for s in water.index if s not in by_school]  # water, no finding
    rows = []
    for school_id in ids:
        group = by_school.get(school_id)
        line = str(water.get(school_id, "") or "")
        if group is None:
            known = schools is not None and school_id in schools.index
            school = schools.loc[school_id] if known and schools is not None else None
            name = str(school["name"]) if school is not None else str(school_id)
            parts = (
                (str(school.get("township", "") or ""), str(school.get("village", "") or ""))
                if school is not None
                else ()
            )
            tip = _water_tip(rules, lang) if line else ""
            place = text["place_sep"].join(p for p in parts if p)
            rows.append([name, place, line or text["none"], f"1. {tip}" if tip else text["none"]])
            continue
        first = group.iloc[0]
        place = text["place_sep"].join(
            p for p in (str(first["township"] or ""), str(first["village"] or "")) if p
        )
        suggestions = _suggestions(group, lang, rules)
        problems = problem_sentences(group, lang=lang, categories=categories)
        problems += [line] if line else []
        tip = _water_tip(rules, lang) if line else ""
        if tip and "water" not in set(group["category"].astype(str)):
            suggestions = list(dict.fromkeys([*suggestions, tip]))
        rows.append(
            [
                str(first["school_name"]),
                place,
                "\n".join(problems),
                "\n".join(f"{i}. {s}" for i, s in enumerate(suggestions, start=1)) or text["none"],
            ]
        )
    return rows


def _print_setup(
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


def _form_sheet(ws: Any, rows: list[list[str]], text: dict[str, Any], reporting_unit: str) -> None:
    ws.title = text["form"]
    ws.append([text["title"]])
    ws.merge_cells("A1:D1")
    ws["A1"].font = Font(name=_FACE, size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36
    ws.append([text["unit"] + reporting_unit])
    ws.merge_cells("A2:D2")
    ws["A2"].font = Font(name=_FACE, size=12)
    ws["A2"].alignment = Alignment(horizontal="left", vertical="center")
    ws.row_dimensions[2].height = 22
    ws.append(text["headers"])
    widths = []
    for col, (low, high) in enumerate(_FORM_WIDTHS):
        longest = max(
            [display_width(text["headers"][col]) + 2]
            + [display_width(line) + 2 for row in rows for line in str(row[col]).split("\n")]
        )
        widths.append(float(min(max(longest, low), high)))
        ws.column_dimensions[get_column_letter(col + 1)].width = widths[-1]
    for cell in ws[3]:
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
    ws.row_dimensions[3].height = (
        _LINE_PT * max(_lines(h, w) for h, w in zip(text["headers"], widths, strict=True))
        + _ROW_PAD_PT
    )
    for row in rows:
        ws.append(row)
        r = ws.max_row
        lines = max(_lines(v, w) for v, w in zip(row, widths, strict=True))
        ws.row_dimensions[r].height = _LINE_PT * lines + _ROW_PAD_PT
        for cell in ws[r]:
            cell.font = _BODY
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = _BORDER
    _print_setup(ws, text["footer"], "3:3")
    ws.freeze_panes = "A4"


def _detail_value(
    column: str, value: Any, lang: str, labels: dict[str, tuple[str, str]] = CATEGORY_LABELS
) -> Any:
    """A findings value as the detail sheet shows it: labels in `lang`, rounded numbers."""
    if column == "category":
        return _label(labels, str(value), lang)
    if column == "severity":
        return _label(SEVERITY_LABELS, str(value), lang)
    if column == "profile":
        return _text(lang)["profile"].get(str(value), str(value))
    if isinstance(value, float):
        return (
            "" if math.isnan(value) else round(value, 7 if column.endswith(("_lon", "_lat")) else 3)
        )
    return "" if value is None or value is pd.NA else value


def _detail_sheet(
    ws: Any,
    findings: pd.DataFrame,
    hazards: pd.DataFrame | None,
    lang: str,
    evidence_dir: str | None,
    category_labels: dict[str, tuple[str, str]] = CATEGORY_LABELS,
) -> None:
    text = _text(lang)
    table = pd.DataFrame(findings.drop(columns="geometry", errors="ignore")).reset_index()
    columns = [c for c in _DETAIL_COLUMNS if c in table.columns]
    columns += [
        c for c in table.columns if c not in _DETAIL_COLUMNS
    ]  # e.g. walk_m of --profile all
    extra = ["source"] if hazards is not None and "source" in hazards.columns else []
    labels = [text["columns"].get(c, c) for c in [*columns, *extra]]
    if evidence_dir:
        labels.append(text["columns"].get("evidence", "evidence"))
    ws.append(labels)
    source = (
        hazards["source"].reindex(table["hazard_id"].astype(str)).fillna("").astype(str).tolist()
        if extra and hazards is not None
        else []
    )
    for i, record in enumerate(table[columns].itertuples(index=False)):
        values = [
            _detail_value(column, value, lang, category_labels)
            for column, value in zip(columns, record, strict=True)
        ]
        if extra:
            values.append(source[i])
        ws.append(values)
        if evidence_dir:
            cell = ws.cell(row=ws.max_row, column=len(values) + 1, value=text["evidence"])
            cell.hyperlink = f"{evidence_dir}/{record[0]}.html"
            cell.style = "Hyperlink"
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        cell.border = _BORDER
    for col, label in enumerate(labels, start=1):
        key = (columns + extra + ["evidence"])[col - 1]
        letter = get_column_letter(col)
        if key in _FORMATS:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = _FORMATS[key]
        longest = max(
            [display_width(label)]
            + [
                display_width(str(c.value or ""))
                for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col)
            ]
        )
        ws.column_dimensions[letter].width = min(longest + 2, _DETAIL_MAX_WIDTH)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    # a wide table: printed across pages at full size, ids and school name on each page
    _print_setup(ws, text["footer"], "1:1", one_page_wide=False)
    ws.print_title_cols = "A:C"


def _write_table(ws: Any, row: int, table: Table) -> int:
    """Write a titled table at `row` (column A on); return the next free row."""
    ws.cell(row=row, column=1, value=table.title).font = Font(bold=True, size=12)
    for col, header in enumerate(table.headers, start=1):
        cell = ws.cell(row=row + 1, column=col, value=header)
        cell.font = Font(bold=True)
        cell.fill = _HEAD_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, values in enumerate(table.rows):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row + 2 + i, column=col, value=value)
            cell.border = _BORDER
            if i in table.total_rows:
                cell.font = Font(bold=True)
                cell.fill = _HEAD_FILL
    return row + 2 + len(table.rows) + 1


def _summary_sheet(
    ws: Any,
    findings: pd.DataFrame,
    schools: pd.DataFrame | None,
    lang: str,
    font: CJKFont | None,
    categories: CategoryRegistry | None = None,
) -> None:
    text = _text(lang)
    summary = summarise(findings, schools, categories=categories)
    ws.append([text["summary_title"]])
    ws["A1"].font = Font(size=16, bold=True)
    key = "counts" if summary.schools_screened is not None else "counts_no_schools"
    ws.append(
        [
            text[key].format(
                schools=summary.schools_screened,
                with_findings=summary.schools_with_findings,
                findings=summary.findings,
                prohibited=summary.prohibited,
            )
        ]
    )
    row = 4
    tables = summary_tables(summary, lang=lang, categories=categories)
    for table in tables:
        row = _write_table(ws, row, table)
    width = max(len(t.headers) for t in tables)
    ws.column_dimensions["A"].width = max(
        display_width(str(r[0])) + 2 for t in tables for r in [t.headers, *t.rows]
    )
    for col in range(2, width + 1):
        ws.column_dimensions[get_column_letter(col)].width = 12
    if len(findings) and font is not None:
        ws.cell(row=row, column=1, value=text["charts"]).font = Font(bold=True, size=12)
        row += 1
        for make in (category_chart, township_chart):
            fig = make(findings, lang=lang, font=font, categories=categories)
            png = figure_png(fig, dpi=_CHART_DPI, font=font)
            image = XLImage(io.BytesIO(png))
            # shown at its physical size (Excel counts 96 px per inch), printed at 150 dpi
            image.width = round(image.width * 96 / _CHART_DPI)
            image.height = round(image.height * 96 / _CHART_DPI)
            ws.add_image(image, f"A{row}")
            row += math.ceil(image.height / 20) + 2
    _print_setup(ws, text["footer"], None)
    ws.page_setup.orientation = "portrait"


def save_inspection_form(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame | None,
    filepath: str | Path,
    *,
    reporting_unit: str = "",
    lang: str = "zh",
    all_schools: bool = False,
    rules: Sequence[Rule] | str | Path | None = None,
    hazards: gpd.GeoDataFrame | None = None,
    charts: bool = True,
    evidence_dir: str | None = None,
    generated_at: dt.datetime | None = None,
    font: CJKFont | None = None,
    water_lines: pd.Series | None = None,
    categories: CategoryRegistry | None = None,
) -> Path:
    """Write the inspection form (排查表) in the campaign's layout, print-ready.

    Sheets: the form (one row per school), every finding with all its columns
    (问题明细), and the summary by township x category and by lead unit with
    the charts (汇总).

    Parameters
    ----------
    findings
        Findings from :func:`campus_geo.screen.screen` (or read back from findings.gpkg).
    schools
        The screened schools (needed with `all_schools`; counts schools screened).
    filepath
        Path of the .xlsx to write.
    reporting_unit
        Text after 填报单位.
    lang
        "zh" (default) or "en".
    all_schools
        One row for every screened school, with 无 where nothing was found.
    rules
        Rule table (English suggestions with ``lang="en"``); the default one when None.
    hazards
        The hazards layer: its ``source`` column is added to the detail sheet.
    charts
        Embed the charts in the summary sheet (needs a CJK font, see :mod:`campus_geo.fonts`).
    evidence_dir
        Folder of the evidence sheets relative to the form: each finding links to its sheet.
    generated_at
        Document time stored in the file; a fixed date when None, so the same
        findings give the same bytes.
    font
        CJK font of the charts (found when None and `charts`).
    water_lines
        Per school id, its line of water nearby (:func:`campus_geo.water.form_lines`),
        added to its problems (a school with water but no finding gets a row).
    categories
        Labels and colours of the categories: the rule table's when None (a TOML
        file or a :class:`~campus_geo.rules.RuleTable` brings its own).
    """
    text = _text(lang)
    if all_schools and schools is None:
        msg = "all_schools=True needs the schools layer (schools=...)"
        raise ValueError(msg)
    registry = _categories(findings, rules, categories)
    lookup = rules_by_id(rules)
    wb = Workbook()
    _form_sheet(
        wb.active,
        _form_rows(findings, schools, lang, all_schools, lookup, water_lines, registry),
        text,
        reporting_unit,
    )
    detail = wb.create_sheet(text["detail"])
    _detail_sheet(detail, findings, hazards, lang, evidence_dir, registry.labels)
    _summary_sheet(
        wb.create_sheet(text["summary"]),
        findings,
        schools,
        lang,
        (font or cjk_font()) if charts else None,
        registry,
    )
    stamp = None
    if generated_at is not None:
        stamp = (
            generated_at.astimezone(dt.UTC).replace(tzinfo=None)
            if generated_at.tzinfo
            else generated_at
        )
    path = save_workbook_reproducibly(wb, filepath, timestamp=stamp)
    log.info("wrote inspection form %s", path)
    return path


def save_reports(
    findings: gpd.GeoDataFrame,
    dirpath: str | Path,
    *,
    schools: gpd.GeoDataFrame | None = None,
    hazards: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    inputs: Iterable[str | Path] = (),
    rules: Sequence[Rule] | str | Path | None = None,
    reporting_unit: str = "",
    lang: str = "zh",
    all_schools: bool = False,
    generated_at: dt.datetime | str | None = None,
    evidence: bool = True,
    pdf: bool = False,
    progress: Callable[[int], None] | None = None,
    analyses: Analyses | None = None,
    categories: CategoryRegistry | None = None,
    notices: Sequence[str] = (),
    extra_sections: Sequence[Section] = (),
) -> dict[str, Path]:
    """Write the form, the summary page, the charts and the evidence sheets of a run.

    Writes into `dirpath`: ``inspection_form.xlsx``, ``summary.html``,
    ``charts/findings_by_category.png``, ``charts/findings_by_township.png``
    and ``evidence/<finding_id>.html`` (and ``.pdf`` with `pdf`).

    Parameters
    ----------
    findings
        The findings of :func:`campus_geo.screen.screen` or read back from findings.gpkg.
    dirpath
        Output folder (created).
    schools, hazards, entrances, streets
        The layers screened: outlines, hazard shapes, gates and streets for the
        maps, ``source`` columns for provenance; None where not known.
    inputs
        Every input file: hashed (SHA-256) and, for OSM files, dated on each sheet.
    rules
        Rule table (English texts with ``lang="en"``); the default one when None.
    reporting_unit
        Text after 填报单位.
    lang
        "zh" (default) or "en".
    all_schools
        The form lists every screened school (无 where nothing was found).
    generated_at
        The one time on every output (datetime or ISO 8601 text); else
        ``SOURCE_DATE_EPOCH``; else now.
    evidence
        Write the evidence sheets.
    pdf
        Also write each evidence sheet as PDF (needs ``campus_geo[pdf]``).
    progress
        Called with the number of evidence sheets written so far.
    analyses
        The water, traffic and camera analyses of the run: their sections on the
        summary page, and each school's water nearby on the form.
    categories
        Labels, colours and order of the hazard categories: the rule table's
        when None (a TOML file or a :class:`~campus_geo.rules.RuleTable` brings its own).

    Returns
    -------
    dict
        Paths by kind: ``form``, ``summary``, ``chart_category``, ``chart_township``, ``evidence``.
    """
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    registry = _categories(findings, rules, categories)
    stamp = generation_time(generated_at)
    font = cjk_font()
    provenance = describe_inputs(inputs, osm_elements=osm_element_ids(schools, hazards))
    written: dict[str, Path] = {}
    evidence_dir = "evidence" if evidence and len(findings) else None
    written["form"] = save_inspection_form(
        findings,
        schools,
        out / "inspection_form.xlsx",
        reporting_unit=reporting_unit,
        lang=lang,
        all_schools=all_schools,
        rules=rules,
        hazards=hazards,
        evidence_dir=evidence_dir,
        generated_at=stamp,
        font=font,
        water_lines=None
        if analyses is None or analyses.water_near is None
        else form_lines(analyses.water_near, lang=lang),
        categories=registry,
    )
    written["summary"] = save_summary_html(
        findings,
        out / "summary.html",
        schools=schools,
        lang=lang,
        reporting_unit=reporting_unit,
        generated_at=stamp,
        provenance=provenance,
        evidence_dir=evidence_dir,
        font=font,
        analyses=analyses,
        categories=registry,
        notices=notices,
        extra_sections=extra_sections,
    )
    if len(findings):
        charts = save_charts(findings, out / "charts", lang=lang, font=font, categories=registry)
        for key, path in charts.items():
            written[f"chart_{key}"] = path
    if evidence:
        save_evidence_sheets(
            findings,
            out / "evidence",
            schools=schools,
            hazards=hazards,
            entrances=entrances,
            streets=streets,
            inputs=provenance,
            rules=rules,
            lang=lang,
            generated_at=stamp,
            reporting_unit=reporting_unit,
            pdf=pdf,
            font=font,
            progress=progress,
            categories=registry,
        )
        written["evidence"] = out / "evidence"
    return written
