"""Options shared by the commands that screen and report: `screen`, `demo` and `form`.

The output and rule options (``--out``, ``--rules``, ``--profile``, ``--dist`` ...), the
report options (``--all-schools``, ``--generated-at``, ``--evidence``, ``--pdf``), the
categories of a run and the reports written with a progress bar. Kept apart from the
commands so that :mod:`campus_geo.cli.main` and :mod:`campus_geo.cli.form` share them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from campus_geo.settings import PROFILES

if TYPE_CHECKING:  # the parts load when a command runs, not for --help
    from campus_geo.category_registry import CategoryRegistry
    from campus_geo.reports.analyses import Analyses
    from campus_geo.sources.layers import Layers

__all__ = [
    "COMMON_OPTIONS",
    "REPORT_OPTIONS",
    "ReportOptions",
    "categories_for",
    "common_options",
    "parse_hazard_option",
    "report_options",
    "save_reports_with_progress",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ReportOptions:
    """Options of the form, summary page and evidence sheets (see `REPORT_OPTIONS`)."""

    all_schools: bool = False
    generated_at: str | None = None
    evidence: bool = True
    pdf: bool = False


def save_reports_with_progress(
    findings: Any,
    layers: Layers,
    out: Path,
    rules: Path | None,
    reporting_unit: str,
    lang: str,
    inputs: list[Path],
    report: ReportOptions,
    analyses: Analyses | None = None,
    notices: Sequence[str] = (),
    extra_sections: Sequence[Any] = (),
) -> dict[str, Path]:
    """Form, summary page, charts and evidence sheets, with a progress bar for the sheets."""
    from campus_geo.reports.form import save_reports

    quiet = logging.getLogger().getEffectiveLevel() > logging.INFO
    with click.progressbar(
        length=len(findings) if report.evidence else 0,
        label="Evidence sheets",
        file=sys.stderr,
        hidden=quiet or not report.evidence or not len(findings),
    ) as bar:
        return save_reports(
            findings,
            out,
            schools=layers.schools if len(layers.schools) else None,
            hazards=layers.hazards if len(layers.hazards) else None,
            entrances=layers.entrances,
            streets=layers.streets,
            inputs=inputs,
            rules=rules,
            reporting_unit=reporting_unit,
            lang=lang,
            all_schools=report.all_schools,
            generated_at=report.generated_at,
            evidence=report.evidence,
            pdf=report.pdf,
            progress=lambda n: bar.update(n - bar.pos),
            analyses=analyses,
            notices=notices,
            extra_sections=extra_sections,
        )


def categories_for(rules: Path | None) -> CategoryRegistry:
    """The hazard categories of a screening: the default table's, with those --rules adds."""
    from campus_geo.rules import default_categories, read_categories

    return default_categories() if rules is None else read_categories(rules)


def parse_hazard_option(value: str, categories: CategoryRegistry) -> tuple[str | None, Path]:
    """``CATEGORY=FILE`` (a category key or name: internet_cafe=, 网吧=) or ``FILE``.

    A mistyped category names the closest ones (difflib).
    """
    if "=" in value:
        name, _, path = value.partition("=")
        key = categories.resolve(name)
        if key is None:
            message = categories.unknown_message(name, f" in {value!r}")
            raise click.BadParameter(message, param_hint="--hazards")
        return key, Path(path)
    return None, Path(value)


COMMON_OPTIONS = [
    click.option(
        "--out",
        "out",
        type=click.Path(path_type=Path),
        default=Path("out"),
        show_default=True,
        help="Folder for findings.csv, findings.gpkg, inspection_form.xlsx, map.html, rejects.csv.",
    ),
    click.option(
        "--rules",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Rule table (TOML) instead of the default one (campus_geo/rules/default.toml).",
    ),
    click.option(
        "--profile",
        type=click.Choice([*PROFILES, "all"]),
        default=None,
        help="How distances are measured: boundary = from any point of the campus outline "
        "(文市函[2003]560号, default of most rules); entrance = from the nearest school gate; "
        "walk = shortest walking route on the streets of the --osm files from any gate; "
        "all = every profile, marking findings whose verdict depends on the profile.",
    ),
    click.option(
        "--dist",
        type=float,
        default=None,
        metavar="M",
        help="Screen every hazard layer at M metres (WGS 84 ellipsoid) instead of the rule table.",
    ),
    click.option(
        "--reporting-unit", default="", help="Text after 填报单位 on the inspection form."
    ),
    click.option(
        "--lang",
        type=click.Choice(["zh", "en"]),
        default="zh",
        show_default=True,
        help="Language of the form and the map.",
    ),
]


REPORT_OPTIONS = [
    click.option(
        "--all-schools",
        is_flag=True,
        help="The inspection form lists every screened school, with 无 where nothing was found.",
    ),
    click.option(
        "--generated-at",
        default=None,
        metavar="TIME",
        help="The one time written on the form, summary and evidence sheets (ISO 8601, e.g. "
        "2023-06-15T10:00:00+08:00); default SOURCE_DATE_EPOCH, else now. Fix it to get "
        "byte-identical outputs from the same inputs.",
    ),
    click.option(
        "--evidence/--no-evidence",
        default=True,
        show_default=True,
        help="Write one evidence sheet per finding (OUT/evidence/<finding_id>.html).",
    ),
    click.option(
        "--pdf",
        is_flag=True,
        help="Also write each evidence sheet as PDF (needs WeasyPrint: pip install 'campus_geo[pdf]').",
    ),
]


def common_options(func: F) -> F:
    """Add the output, rule and report options (`screen`, `demo`) to a command."""
    for option in reversed(COMMON_OPTIONS + REPORT_OPTIONS):
        func = option(func)
    return func


def report_options(func: F) -> F:
    """Add the report options only (`form`) to a command."""
    for option in reversed(REPORT_OPTIONS):
        func = option(func)
    return func
