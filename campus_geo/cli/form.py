"""``campus-geo form``: the reports rebuilt from saved findings, one form per township.

The findings of an earlier ``campus-geo screen`` (findings.gpkg or findings.csv) and
the same sources give the form, the summary page, the charts and the evidence sheets
again without screening; ``--split township`` writes one 排查表 per township.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from campus_geo.cli.common import check_out, friendly
from campus_geo.cli.options import (
    ReportOptions,
    categories_for,
    parse_hazard_option,
    report_options,
    save_reports_with_progress,
)
from campus_geo.cli.sources import (
    AdminChoice,
    OrderedArgsCommand,
    check_sources_match,
    gather_inputs,
    load_sources,
    read_admin,
    source_options,
)

if TYPE_CHECKING:
    from campus_geo.sources.layers import Layers

__all__ = ["form"]


@click.command(cls=OrderedArgsCommand)
@click.option(
    "--findings",
    "findings_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="findings.gpkg (exact) or findings.csv written by `campus-geo screen`.",
)
@source_options(again=True)
@click.option(
    "--split",
    type=click.Choice(["township"]),
    default=None,
    help="Also write one 排查表 per township, OUT/forms/<township>.xlsx, its rows that "
    "township's schools, 填报单位 its name (unless --reporting-unit); schools without a "
    "township go to forms/未知乡镇.xlsx, with a warning.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: the folder of --findings).",
)
@click.option(
    "--rules",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The rule table that was screened with (English texts with --lang en).",
)
@click.option("--reporting-unit", default="", help="Text after 填报单位 on the inspection form.")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the form, summary and evidence sheets.",
)
@report_options
@friendly
def form(
    findings_file: Path,
    osm_files: tuple[Path, ...],
    schools_file: Path | None,
    hazard_specs: tuple[str, ...],
    id_field: str,
    registry_files: tuple[Path, ...],
    roster_file: Path | None,
    coords: tuple[str, ...],
    admin_file: Path | None,
    admin_township_field: str | None,
    admin_village_field: str | None,
    split: str | None,
    out: Path | None,
    rules: Path | None,
    reporting_unit: str,
    lang: str,
    all_schools: bool,
    generated_at: str | None,
    evidence: bool,
    pdf: bool,
) -> None:
    """Rebuild the form, summary page and evidence sheets from saved findings.

    \b
    Examples:
      campus-geo form --findings out/findings.gpkg --osm district.osm.bz2
      campus-geo form --findings out/findings.gpkg --schools schools.gpkg \\
          --registry wangba.csv --coords gcj02 --reporting-unit 甲镇 --all-schools
      campus-geo form --findings out/findings.gpkg --osm district.osm.bz2 \\
          --admin 乡镇村界.gpkg --split township

    Writes OUT/inspection_form.xlsx, OUT/summary.html, OUT/charts/*.png and
    OUT/evidence/<finding_id>.html. Nothing is screened again: the findings
    are taken as saved. Give the sources that were screened (the input options
    of `screen`) for the campus outlines and hazard shapes on the maps, the
    sources and data dates of every school and hazard, and --all-schools;
    without them the sheets say what is not known. Every file given is
    hashed (SHA-256) onto the sheets, the findings file too.

    --admin FILE (or the OSM boundaries of the --osm files) fills the
    township and village that the findings lack; --split township then
    writes one form per township beside the district's inspection_form.xlsx.
    """
    from campus_geo.reports.fonts import cjk_font
    from campus_geo.reports.form import findings_from_file
    from campus_geo.reports.townships import findings_with_admin

    categories = categories_for(rules)
    specs = [parse_hazard_option(spec, categories) for spec in hazard_specs]
    del coords  # read per input, in command-line order, by gather_inputs
    if out is not None:
        check_out(out)
    cjk_font()
    findings = findings_from_file(findings_file)
    target = out if out is not None else findings_file.parent
    given = gather_inputs(
        click.get_current_context(),
        osm_files=osm_files,
        schools_file=schools_file,
        specs=specs,
        registry_files=registry_files,
        roster_file=roster_file,
        project=None,
        admin=AdminChoice(admin_file, admin_township_field, admin_village_field),
    )
    admin = read_admin(given.admin[0]) if given.admin else None
    # the same reading as `screen`'s: declared systems, empty files refused
    layers, lines = load_sources(given, id_field=id_field, out=target, categories=categories)
    check_sources_match(findings, findings_file, layers)
    findings = findings_with_admin(findings, schools=layers.schools, admin=(admin, layers.admin))
    if all_schools and not len(layers.schools):
        raise click.UsageError(
            "--all-schools needs the screened schools: pass --osm, --schools and/or --roster"
        )
    target.mkdir(parents=True, exist_ok=True)
    files = (findings_file, *osm_files, schools_file, *(p for _, p in specs), *registry_files)
    inputs = [p for p in (*files, roster_file, admin_file, rules) if p]
    written = save_reports_with_progress(
        findings,
        layers,
        target,
        rules,
        reporting_unit,
        lang,
        inputs,
        ReportOptions(all_schools, generated_at, evidence, pdf),
    )
    if split == "township":
        written.update(
            _township_forms(
                findings,
                layers,
                target,
                rules,
                reporting_unit,
                lang,
                all_schools,
                evidence,
                generated_at,
            )
        )
    click.echo(f"Rebuilt the reports of {len(findings)} findings:")
    click.echo("\n".join(f"  {path}" for path in written.values()))
    if lines:
        click.echo("\n".join(lines))


def _township_forms(
    findings: Any,
    layers: Layers,
    out: Path,
    rules: Path | None,
    reporting_unit: str,
    lang: str,
    all_schools: bool,
    evidence: bool,
    generated_at: str | None,
) -> dict[str, Path]:
    """One 排查表 per township in OUT/forms (`form --split township`)."""
    from campus_geo.reports.provenance import generation_time
    from campus_geo.reports.townships import save_township_forms

    forms = save_township_forms(
        findings,
        out / "forms",
        schools=layers.schools if len(layers.schools) else None,
        reporting_unit=reporting_unit or None,
        lang=lang,
        all_schools=all_schools,
        rules=rules,
        hazards=layers.hazards if len(layers.hazards) else None,
        evidence_dir="../evidence" if evidence and len(findings) else None,
        generated_at=generation_time(generated_at),
    )
    return {f"form:{town}": path for town, path in forms.items()}
