"""Summaries of the findings: counts by township x category, by lead unit, by category.

:func:`summarise` counts (language-neutral codes); :func:`summary_tables`
turns the counts into titled tables in Chinese or English, the same tables on
the xlsx summary sheet (:mod:`campus_geo.report`) and on the HTML briefing
page written by :func:`save_summary_html`, which adds the charts, the sections
on drowning risk, traffic at gates, camera coverage and measurement profiles
(:mod:`campus_geo.reports.analyses`, given :class:`Analyses`), every finding
grouped by school with a link to its evidence sheet, and the input files with
their SHA-256.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jinja2
import pandas as pd

from campus_geo.category_registry import CategoryRegistry
from campus_geo.reports.analyses import Analyses, Section, analysis_sections
from campus_geo.reports.charts import category_chart, figure_png, township_chart
from campus_geo.reports.fonts import CJKFont
from campus_geo.reports.provenance import Provenance, software_versions
from campus_geo.rules import default_categories
from campus_geo.settings import PROFILES, SEVERITIES, SEVERITY_LABELS

__all__ = [
    "SUMMARY_TEXT",
    "Analyses",
    "Summary",
    "Table",
    "all_profiles",
    "base_rule",
    "one_per_venue",
    "save_summary_html",
    "summarise",
    "summary_tables",
]

log = logging.getLogger(__name__)

SUMMARY_TEXT: Final[dict[str, dict[str, Any]]] = {
    "zh": {
        "html_lang": "zh-CN",
        "summary_title": "校园及周边安全问题排查结果汇总",
        "unit": "填报单位：",
        "generated_at": "生成时间",
        "fig_schools": "排查学校（所）",
        "fig_with_findings": "存在问题的学校（所）",
        "fig_findings": "问题（处）",
        "fig_prohibited": "其中禁止类（处）",
        "method": "距离在 WGS 84 椭球面上量算（Karney 算法），口径见各规则；每处问题附证据单，"
        "列明学校与隐患的来源、规则与法律依据、量测方法、两端点坐标和示意图。",
        "charts": "图表",
        "chart_category": "各类别问题数",
        "chart_township": "各乡镇（街道）问题数",
        "township_table": "按乡镇（街道）和类别统计（处）",
        "lead_table": "按牵头单位统计",
        "category_table": "按类别统计",
        "township": "乡（镇、街道）",
        "lead_unit": "牵头单位",
        "category": "类别",
        "findings": "问题数（处）",
        "schools": "涉及学校（所）",
        "nearest": "最近距离（米）",
        "total": "合计",
        "unknown": "（未知）",
        "by_school": "问题清单（按学校）",
        "col_hazard": "隐患",
        "col_category": "类别",
        "col_distance": "距离（米）",
        "col_threshold": "规定（米）",
        "col_evidence": "证据单",
        "no_findings": "未发现问题。",
        "unnamed": "未命名",
        "inputs": "输入文件",
        "file": "文件",
        "data_date": "数据日期",
        "size": "字节数",
        "no_inputs": "未提供输入文件",
        "place_sep": "、",
    },
    "en": {
        "html_lang": "en",
        "summary_title": "Safety screening around schools: summary",
        "unit": "Reporting unit: ",
        "generated_at": "generated at",
        "fig_schools": "schools screened",
        "fig_with_findings": "schools with findings",
        "fig_findings": "findings",
        "fig_prohibited": "of them prohibited",
        "method": "Distances measured on the WGS 84 ellipsoid (Karney's algorithm) by each rule's "
        "profile; every finding has an evidence sheet with the sources of school and hazard, "
        "the rule and its legal basis, the method, both end points and a map.",
        "charts": "Charts",
        "chart_category": "Findings by category",
        "chart_township": "Findings by township",
        "township_table": "Findings by township and category",
        "lead_table": "By lead unit",
        "category_table": "By category",
        "township": "Township",
        "lead_unit": "Lead unit",
        "category": "Category",
        "findings": "Findings",
        "schools": "Schools",
        "nearest": "Nearest (m)",
        "total": "Total",
        "unknown": "(unknown)",
        "by_school": "Findings by school",
        "col_hazard": "Hazard",
        "col_category": "Category",
        "col_distance": "Distance (m)",
        "col_threshold": "Rule (m)",
        "col_evidence": "Evidence",
        "no_findings": "Nothing found.",
        "unnamed": "unnamed",
        "inputs": "Input files",
        "file": "File",
        "data_date": "Data date",
        "size": "Bytes",
        "no_inputs": "no input files given",
        "place_sep": ", ",
    },
}


def _text(lang: str) -> dict[str, Any]:
    if lang not in SUMMARY_TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(SUMMARY_TEXT)}"
        raise ValueError(msg)
    return SUMMARY_TEXT[lang]


@dataclass(frozen=True)
class Summary:
    """Counts of a set of findings (codes, not labels).

    Attributes
    ----------
    findings
        Number of findings.
    schools_with_findings
        Schools with at least one finding.
    schools_screened
        Schools screened (None when the schools layer was not given).
    prohibited
        Findings of rules with severity ``prohibited``.
    by_township
        Findings per township (rows, "" for unknown) and category (columns,
        in the order of the rule table's categories), without totals.
    by_lead_unit
        Per lead unit (牵头单位; a finding of a rule with two lead units counts
        for both): ``findings``, ``schools`` and one column per severity.
    by_category
        Per category: ``findings``, ``schools``, ``nearest_m`` (metres).
    """

    findings: int
    schools_with_findings: int
    schools_screened: int | None
    prohibited: int
    by_township: pd.DataFrame
    by_lead_unit: pd.DataFrame
    by_category: pd.DataFrame


def all_profiles(findings: pd.DataFrame) -> bool:
    """Whether the findings come from ``profile="all"`` (a distance column per profile)."""
    return all(f"{p}_m" in findings.columns for p in PROFILES)


def base_rule(rule_ids: pd.Series) -> pd.Series:
    """The rule a finding's rule id comes from: ``<rule id>@<profile>`` under ``profile="all"``."""
    return rule_ids.astype(str).str.split("@", n=1).str[0]


def one_per_venue(findings: pd.DataFrame) -> pd.DataFrame:
    """Under ``profile="all"``: one row per (school, venue, rule), in the order given.

    Of the rows of one venue the one measured under the rule's own profile is
    kept (its rule id has no ``@``), else the first; its ``*_m`` columns carry
    the distances under every profile. Other findings are returned as they are.
    """
    if not all_profiles(findings) or findings.empty:
        return findings
    rule_ids = findings["rule_id"].astype(str)
    keys = pd.DataFrame(
        {
            "school": findings["school_id"].astype(str).to_numpy(),
            "hazard": findings["hazard_id"].astype(str).to_numpy(),
            "rule": base_rule(rule_ids).to_numpy(),
            "other": rule_ids.str.contains("@", regex=False).to_numpy(),
            "position": range(len(findings)),
        }
    )
    first = keys.sort_values(["other", "position"], kind="stable").drop_duplicates(
        ["school", "hazard", "rule"]
    )
    return findings.iloc[sorted(first["position"])]


def summarise(
    findings: pd.DataFrame,
    schools: pd.DataFrame | None = None,
    *,
    categories: CategoryRegistry | None = None,
) -> Summary:
    """Count findings by township x category, by lead unit and by category.

    Parameters
    ----------
    findings
        Findings (``school_id``, ``township``, ``category``, ``severity``,
        ``lead_units`` joined with 、, ``distance_m``).
    schools
        The screened schools: townships without findings get a row of zeros
        and the number of schools screened is reported.
    categories
        The order of the categories (the default rule table's when None; others after it).

    Findings screened under every profile (``profile="all"``: rule ids
    ``<rule>@<profile>``) count once per school, venue and rule, as the form lists them.

    Examples
    --------
    >>> f = pd.DataFrame({"school_id": ["a", "a", "b"], "township": ["甲镇", "甲镇", "乙乡"],
    ...     "category": ["lottery", "water", "lottery"], "severity": ["prohibited", "risk", "prohibited"],
    ...     "lead_units": ["区委政法委、区教体局", "区教体局", "区委政法委、区教体局"],
    ...     "distance_m": [150.0, 300.0, 20.5]})
    >>> s = summarise(f)
    >>> s.by_township.loc["甲镇"].to_dict()
    {'lottery': 1, 'water': 1}
    >>> s.by_lead_unit["findings"].to_dict()
    {'区教体局': 3, '区委政法委': 2}
    """
    order = (default_categories() if categories is None else categories).keys
    findings = one_per_venue(findings)  # profile="all": a venue once, not once per profile
    township = findings["township"].fillna("").astype(str)
    category = findings["category"].astype(str)
    present = [c for c in order if c in set(category)] + sorted(set(category) - set(order))
    towns = set(township)
    if schools is not None and "township" in schools.columns:
        towns |= set(schools["township"].fillna("").astype(str))
    by_township = (
        pd.crosstab(township, category)
        .reindex(index=sorted(towns), columns=present, fill_value=0)
        .fillna(0)
        .astype(int)
    )
    by_township.index.name, by_township.columns.name = "township", "category"
    units = findings.assign(
        unit=findings["lead_units"].fillna("").astype(str).str.split("、")
    ).explode("unit")
    units = units[units["unit"].str.strip() != ""]
    severities = [s for s in SEVERITIES if s in set(findings["severity"].astype(str))]
    by_unit = pd.DataFrame(
        {
            "findings": units.groupby("unit").size(),
            "schools": units.groupby("unit")["school_id"].nunique(),
        }
    )
    for severity in severities:
        by_unit[severity] = (
            (units["severity"].astype(str) == severity).groupby(units["unit"]).sum().astype(int)
        )
    by_unit = by_unit.reset_index(names="unit").sort_values(
        ["findings", "unit"], ascending=[False, True]
    )
    by_unit = by_unit.set_index("unit")
    by_category = pd.DataFrame(
        {
            "findings": findings.groupby(category).size(),
            "schools": findings.groupby(category)["school_id"].nunique(),
            "nearest_m": findings.groupby(category)["distance_m"].min(),
        }
    ).reindex(present)
    by_category.index.name = "category"
    return Summary(
        findings=len(findings),
        schools_with_findings=int(findings["school_id"].nunique()),
        schools_screened=None if schools is None else len(schools),
        prohibited=int((findings["severity"].astype(str) == "prohibited").sum()),
        by_township=by_township,
        by_lead_unit=by_unit,
        by_category=by_category,
    )


@dataclass(frozen=True)
class Table:
    """A titled table ready to write: header row, body rows, which rows are totals."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    total_rows: frozenset[int] = frozenset()


def _label(labels: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    zh, en = labels.get(key, (key, key))
    return zh if lang == "zh" else en


def summary_tables(
    summary: Summary, *, lang: str = "zh", categories: CategoryRegistry | None = None
) -> list[Table]:
    """The three summary tables with headers and labels in `lang` (totals included).

    `categories`: the labels of the categories (the default rule table's when None).
    """
    t = _text(lang)
    labels = (default_categories() if categories is None else categories).labels
    bt = summary.by_township
    town_rows: list[list[Any]] = [
        [town or t["unknown"], *(int(v) for v in bt.loc[town]), int(bt.loc[town].sum())]
        for town in bt.index
    ]
    town_rows.append([t["total"], *(int(v) for v in bt.sum(axis=0)), int(bt.to_numpy().sum())])
    township = Table(
        t["township_table"],
        [t["township"], *(_label(labels, c, lang) for c in bt.columns), t["total"]],
        town_rows,
        frozenset({len(town_rows) - 1}),
    )
    bu = summary.by_lead_unit
    severities = [c for c in bu.columns if c in SEVERITY_LABELS]
    lead = Table(
        t["lead_table"],
        [
            t["lead_unit"],
            t["findings"],
            t["schools"],
            *(_label(SEVERITY_LABELS, s, lang) for s in severities),
        ],
        [[unit, *(int(v) for v in row)] for unit, row in bu.iterrows()],
    )
    bc = summary.by_category
    cat_rows: list[list[Any]] = [
        [
            _label(labels, str(c), lang),
            int(r["findings"]),
            int(r["schools"]),
            f"{r['nearest_m']:.1f}",
        ]
        for c, r in bc.iterrows()
    ]
    cat_rows.append([t["total"], summary.findings, summary.schools_with_findings, ""])
    category = Table(
        t["category_table"],
        [t["category"], t["findings"], t["schools"], t["nearest"]],
        cat_rows,
        frozenset({len(cat_rows) - 1}),
    )
    return [township, lead, category]


def _schools_block(
    findings: pd.DataFrame,
    lang: str,
    evidence_dir: str | None,
    labels: dict[str, tuple[str, str]],
) -> list[dict[str, Any]]:
    t = _text(lang)
    blocks = []
    order = findings.sort_values(["township", "village", "school_name", "school_id"], kind="stable")
    for school_id, group in order.groupby("school_id", sort=False):
        first = group.iloc[0]
        place = t["place_sep"].join(p for p in (str(first["township"]), str(first["village"])) if p)
        rows = []
        for finding_id, f in group.sort_values(["distance_m"], kind="stable").iterrows():
            rows.append(
                {
                    "id": str(finding_id),
                    "href": f"{evidence_dir}/{finding_id}.html" if evidence_dir else "",
                    "hazard": str(f["hazard_name"]) or t["unnamed"],
                    "category": _label(labels, str(f["category"]), lang),
                    "distance": f"{float(f['distance_m']):.1f}",
                    "threshold": f"{float(f['threshold_m']):g}",
                }
            )
        blocks.append(
            {
                "name": str(first["school_name"]) or str(school_id),
                "place": place or t["unknown"],
                "findings": rows,
            }
        )
    return blocks


def save_summary_html(
    findings: pd.DataFrame,
    filepath: str | Path,
    *,
    schools: pd.DataFrame | None = None,
    lang: str = "zh",
    reporting_unit: str = "",
    generated_at: dt.datetime,
    provenance: Provenance | None = None,
    evidence_dir: str | None = "evidence",
    font: CJKFont | None = None,
    analyses: Analyses | None = None,
    categories: CategoryRegistry | None = None,
    notices: Sequence[str] = (),
    extra_sections: Sequence[Section] = (),
) -> Path:
    """Write the HTML briefing page: key figures, charts, summary tables, findings by school.

    Self-contained (charts inlined as PNG, no script, no network) and printable on A4.

    Parameters
    ----------
    findings
        The findings.
    filepath
        The .html file to write.
    schools
        The screened schools (for the number screened and townships without findings).
    lang
        "zh" (default) or "en".
    reporting_unit
        Shown under the title.
    generated_at
        The one time on the page.
    provenance
        The input files (names, data dates, SHA-256), when known.
    evidence_dir
        Folder of the evidence sheets relative to the page (links), or None for no links.
    font
        CJK font of the charts.
    analyses
        The water, traffic and camera analyses of the run: a section each
        (溺水防范, 交通安全, 视频监控). Findings screened with ``profile="all"``
        get the section 量算口径 (the findings whose verdict depends on the profile).
    categories
        Labels, colours and order of the categories (the default rule table's when None).
    extra_sections
        Sections after the analyses' (e.g. the checklists' rates by township,
        :func:`campus_geo.reports.analyses.checklist_section`).
    notices
        Warnings of the run shown at the top of the page (e.g. schools without gates
        measured by a gate profile).
    """
    t = _text(lang)
    registry = default_categories() if categories is None else categories
    summary = summarise(findings, schools, categories=registry)
    charts = []
    if len(findings):
        for make, alt in (
            (category_chart, t["chart_category"]),
            (township_chart, t["chart_township"]),
        ):
            png = figure_png(make(findings, lang=lang, font=font, categories=registry), font=font)
            charts.append({"alt": alt, "png": base64.b64encode(png).decode("ascii")})
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("campus_geo", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    page = env.get_template("summary.html.j2").render(
        t=t,
        generated_at=generated_at.isoformat(timespec="seconds"),
        reporting_unit=reporting_unit,
        notices=list(notices),
        figures={
            "schools": summary.schools_screened,
            "with_findings": summary.schools_with_findings,
            "findings": summary.findings,
            "prohibited": summary.prohibited,
        },
        charts=charts,
        tables=[
            {
                "title": table.title,
                "headers": table.headers,
                "rows": [
                    {"cells": row, "total": i in table.total_rows}
                    for i, row in enumerate(table.rows)
                ],
            }
            for table in summary_tables(summary, lang=lang, categories=registry)
        ],
        sections=[*analysis_sections(findings, analyses, lang=lang), *extra_sections],
        schools=_schools_block(findings, lang, evidence_dir, registry.labels),
        evidence=bool(evidence_dir),
        inputs=[
            {
                "name": f.name,
                "data_date": f.data_date or "—",
                "size": f"{f.size:,}",
                "sha256": f.sha256,
            }
            for f in (provenance.files if provenance else ())
        ],
        software=software_versions(),
    )
    path = Path(filepath)
    path.write_text(page, encoding="utf-8", newline="\n")
    log.info("wrote summary page %s", path)
    return path
