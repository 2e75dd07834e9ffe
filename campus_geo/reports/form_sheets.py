"""The inspection form's second and third sheets: every finding, and the summary with charts.

The detail sheet lists every finding with all its columns (labels in the form's
language, distances to the millimetre, a link to its evidence sheet); the summary
sheet counts by township x category, by lead unit and by category
(:func:`campus_geo.reports.summary.summary_tables`), with the two charts.
"""

from __future__ import annotations

import io
import math
from typing import Any, Final

import pandas as pd
from openpyxl.drawing.image import Image as XLImage
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from campus_geo.category_registry import CategoryRegistry
from campus_geo.reports.charts import category_chart, figure_png, township_chart
from campus_geo.reports.fonts import CJKFont
from campus_geo.reports.form_style import (
    BORDER,
    HEAD_FILL,
    display_width,
    form_text,
    label_of,
    print_setup,
)
from campus_geo.reports.summary import Table, summarise, summary_tables
from campus_geo.screen import CSV_COLUMNS
from campus_geo.settings import CATEGORY_LABELS, SEVERITY_LABELS

__all__ = ["detail_sheet", "detail_value", "summary_sheet", "write_table"]

_DETAIL_MAX_WIDTH: Final = 44
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


def detail_value(
    column: str, value: Any, lang: str, labels: dict[str, tuple[str, str]] = CATEGORY_LABELS
) -> Any:
    """A findings value as the detail sheet shows it: labels in `lang`, rounded numbers."""
    if column == "category":
        return label_of(labels, str(value), lang)
    if column == "severity":
        return label_of(SEVERITY_LABELS, str(value), lang)
    if column == "profile":
        return form_text(lang)["profile"].get(str(value), str(value))
    if isinstance(value, float):
        return (
            "" if math.isnan(value) else round(value, 7 if column.endswith(("_lon", "_lat")) else 3)
        )
    return "" if value is None or value is pd.NA else value


def detail_sheet(
    ws: Any,
    findings: pd.DataFrame,
    hazards: pd.DataFrame | None,
    lang: str,
    evidence_dir: str | None,
    category_labels: dict[str, tuple[str, str]] = CATEGORY_LABELS,
) -> None:
    """The sheet of every finding: all its columns, labelled in `lang`, with its evidence link."""
    text = form_text(lang)
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
            detail_value(column, value, lang, category_labels)
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
        cell.fill = HEAD_FILL
        cell.border = BORDER
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
    print_setup(ws, text["footer"], "1:1", one_page_wide=False)
    ws.print_title_cols = "A:C"


def write_table(ws: Any, row: int, table: Table) -> int:
    """Write a titled table at `row` (column A on); return the next free row."""
    ws.cell(row=row, column=1, value=table.title).font = Font(bold=True, size=12)
    for col, header in enumerate(table.headers, start=1):
        cell = ws.cell(row=row + 1, column=col, value=header)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, values in enumerate(table.rows):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row + 2 + i, column=col, value=value)
            cell.border = BORDER
            if i in table.total_rows:
                cell.font = Font(bold=True)
                cell.fill = HEAD_FILL
    return row + 2 + len(table.rows) + 1


def summary_sheet(
    ws: Any,
    findings: pd.DataFrame,
    schools: pd.DataFrame | None,
    lang: str,
    font: CJKFont | None,
    categories: CategoryRegistry | None = None,
) -> None:
    """The summary sheet: counts by township, lead unit and category, and the two charts."""
    text = form_text(lang)
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
        row = write_table(ws, row, table)
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
    print_setup(ws, text["footer"], None)
    ws.page_setup.orientation = "portrait"
