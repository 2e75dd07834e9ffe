"""What a run hands to people: the 排查表, the summary, evidence sheets, charts.

- :mod:`~campus_geo.reports.form`: the inspection form (排查表) xlsx and every report of a run;
- :mod:`~campus_geo.reports.townships`: one 排查表 per township;
- :mod:`~campus_geo.reports.saved_findings`: findings read back from findings.gpkg/csv;
- :mod:`~campus_geo.reports.summary`: counts by township, unit and category; summary.html;
- :mod:`~campus_geo.reports.analyses`: the summary's water, traffic, camera sections;
- :mod:`~campus_geo.reports.evidence`: one evidence sheet per finding;
- :mod:`~campus_geo.reports.charts`, :mod:`~campus_geo.reports.fonts`: charts and the CJK font;
- :mod:`~campus_geo.reports.provenance`: file hashes, OSM dates, software versions;
- :mod:`~campus_geo.reports.workbook`: byte-reproducible xlsx.
"""

from __future__ import annotations

from campus_geo.reports.charts import (
    category_chart,
    figure_png,
    figure_svg,
    finding_map,
    save_charts,
    township_chart,
)
from campus_geo.reports.evidence import SHEET_TEXT, evidence_html, rules_by_id, save_evidence_sheets
from campus_geo.reports.fonts import (
    CJK_FAMILIES,
    FONT_ENV,
    CJKFont,
    cjk_font,
    cjk_style,
    figure_style,
)
from campus_geo.reports.form import (
    FORM_TEXT,
    display_width,
    problem_sentences,
    save_inspection_form,
    save_reports,
)
from campus_geo.reports.provenance import (
    InputFile,
    OsmElement,
    Provenance,
    SourceRef,
    describe_inputs,
    generation_time,
    osm_element_ids,
    parse_source,
    parse_sources,
    software_versions,
)
from campus_geo.reports.saved_findings import findings_from_file
from campus_geo.reports.summary import (
    SUMMARY_TEXT,
    Analyses,
    Summary,
    Table,
    save_summary_html,
    summarise,
    summary_tables,
)
from campus_geo.reports.townships import (
    UNKNOWN_TOWNSHIP,
    findings_with_admin,
    save_township_forms,
    township_file_name,
    townships_of,
)

__all__ = [
    "CJK_FAMILIES",
    "FONT_ENV",
    "FORM_TEXT",
    "SHEET_TEXT",
    "SUMMARY_TEXT",
    "UNKNOWN_TOWNSHIP",
    "Analyses",
    "CJKFont",
    "InputFile",
    "OsmElement",
    "Provenance",
    "SourceRef",
    "Summary",
    "Table",
    "category_chart",
    "cjk_font",
    "cjk_style",
    "describe_inputs",
    "display_width",
    "evidence_html",
    "figure_png",
    "figure_style",
    "figure_svg",
    "finding_map",
    "findings_from_file",
    "findings_with_admin",
    "generation_time",
    "osm_element_ids",
    "parse_source",
    "parse_sources",
    "problem_sentences",
    "rules_by_id",
    "save_charts",
    "save_evidence_sheets",
    "save_inspection_form",
    "save_reports",
    "save_summary_html",
    "save_township_forms",
    "software_versions",
    "summarise",
    "summary_tables",
    "township_chart",
    "township_file_name",
    "townships_of",
]
