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
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from campus_geo.analyses.water import form_lines
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine.walk import WALK_SEARCH_FACTOR
from campus_geo.reports.analyses import Section
from campus_geo.reports.charts import save_charts
from campus_geo.reports.evidence import rules_by_id, save_evidence_sheets
from campus_geo.reports.fonts import CJKFont, cjk_font
from campus_geo.reports.form_sheets import detail_sheet, summary_sheet
from campus_geo.reports.form_style import (
    BODY_FONT,
    BOLD_FONT,
    BORDER,
    FACE,
    FORM_TEXT,
    HEAD_FILL,
    display_width,
    form_text,
    label_of,
    print_setup,
)
from campus_geo.reports.provenance import describe_inputs, generation_time, osm_element_ids
from campus_geo.reports.saved_findings import findings_from_file
from campus_geo.reports.summary import (
    Analyses,
    all_profiles,
    base_rule,
    one_per_venue,
    save_summary_html,
)
from campus_geo.reports.workbook import save_workbook_reproducibly
from campus_geo.rules import Rule, categories_of, default_categories, rule_of
from campus_geo.settings import PROFILES

__all__ = [
    "FORM_TEXT",
    "display_width",
    "findings_from_file",
    "problem_sentences",
    "save_inspection_form",
    "save_reports",
]

log = logging.getLogger(__name__)

#: (minimum, maximum) widths of the form's four columns, in Excel character units.
_FORM_WIDTHS: Final = ((14, 28), (16, 26), (40, 72), (28, 46))
#: Points per line of 11-point text, and the padding of a row.
_LINE_PT: Final = 15.0
_ROW_PAD_PT: Final = 4.0


def _categories(
    findings: pd.DataFrame,
    rules: Sequence[Rule] | str | Path | None,
    categories: CategoryRegistry | None,
) -> CategoryRegistry:
    """The categories of a report: those given, else the rule table's, with any the findings have."""
    registry = categories_of(rules) if categories is None else categories
    return registry.with_keys(findings["category"].astype(str)) if len(findings) else registry


def _lines(text: str, width: float) -> int:
    """Lines that `text` takes when wrapped in a column `width` characters wide."""
    usable = max(width - 1.5, 1.0)
    return sum(max(1, math.ceil(display_width(p) / usable)) for p in str(text).split("\n"))


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
    text = form_text(lang)
    labels = (default_categories() if categories is None else categories).labels
    every = all_profiles(findings)
    out = []
    for n, row in enumerate(one_per_venue(findings).itertuples(index=False), start=1):
        values = {
            "n": n,
            "category": label_of(labels, str(row.category), lang),
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
    text = form_text(lang)
    water = water if water is not None else pd.Series(dtype=object)
    # a venue's findings under several profiles (profile="all") sort together, by their rule
    ordered = findings.assign(_rule=base_rule(findings["rule_id"])).sort_values(
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


def _form_sheet(ws: Any, rows: list[list[str]], text: dict[str, Any], reporting_unit: str) -> None:
    ws.title = text["form"]
    ws.append([text["title"]])
    ws.merge_cells("A1:D1")
    ws["A1"].font = Font(name=FACE, size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36
    ws.append([text["unit"] + reporting_unit])
    ws.merge_cells("A2:D2")
    ws["A2"].font = Font(name=FACE, size=12)
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
        cell.font = BOLD_FONT
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
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
            cell.font = BODY_FONT
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = BORDER
    print_setup(ws, text["footer"], "3:3")
    ws.freeze_panes = "A4"


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
    text = form_text(lang)
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
    detail_sheet(detail, findings, hazards, lang, evidence_dir, registry.labels)
    summary_sheet(
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
