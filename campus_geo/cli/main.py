"""The ``campus-geo`` command.

Exit status: 0 on success; 2 on bad input, with one paragraph naming the file,
row and column and the fix; 1 on an unexpected internal error (its traceback
only with ``--debug``). The library logs; this module configures logging.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from campus_geo._errors import CampusGeoWarning
from campus_geo._version import __version__
from campus_geo.cli.analyses import (
    ANALYSES,
    Checklists,
    analysis_network,
    checklist_sections,
    gate_notices,
    needs_network,
    network_for,
    parse_analyses,
    read_cameras,
    run_analyses,
    save_analyses,
)
from campus_geo.cli.common import WarningSummary, check_out, friendly
from campus_geo.cli.form import form as form_command
from campus_geo.cli.ledger import (
    import_checklist_cases,
    run_demo_story,
    sync_analysis_problems,
    sync_screening,
)
from campus_geo.cli.ledger import ledger as ledger_commands
from campus_geo.cli.maps import MapChoices, map_options, save_maps
from campus_geo.cli.options import (
    ReportOptions,
    categories_for,
    common_options,
    parse_hazard_option,
    save_reports_with_progress,
)
from campus_geo.cli.scale import save_parquet_copy, scale_options, screener
from campus_geo.cli.serve import serve as serve_command
from campus_geo.cli.sources import (
    AdminChoice,
    OrderedArgsCommand,
    add_registry_and_roster,
    gather_inputs,
    input_systems,
    load_sources,
    require_layers,
    source_options,
)

if TYPE_CHECKING:  # the parts load when a command runs, not for --help
    from campus_geo.category_registry import CategoryRegistry
    from campus_geo.sources.layers import Layers

__all__ = ["main"]

log = logging.getLogger("campus_geo")
F = TypeVar("F", bound=Callable[..., Any])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="campus-geo")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug messages).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors (for bug reports).")
def cli(verbose: int, quiet: bool, debug: bool) -> None:
    """campus_geo: find what the law forbids around schools, and prove it.

    Every school is screened against hazard layers (internet cafés, KTV, game
    halls, lottery shops, fuel stations, water, traffic points ...) by the
    rule table: the distance is measured on the WGS 84 ellipsoid from the
    campus outline (or the gates), to the centimetre, and every finding
    keeps its measured line as evidence.

    Start with `campus-geo demo`, then `campus-geo screen --help`.
    """
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if debug:
        logging.getLogger().setLevel(logging.DEBUG)
    # the data warnings (coordinate system assumed, rows rejected ...) are logged as well:
    # a Python warning would print each of them a second time
    ctx = click.get_current_context()
    ctx.with_resource(warnings.catch_warnings(action="ignore", category=CampusGeoWarning))
    # the end of the output repeats every warning of the run, under a heading
    summary = WarningSummary()
    logging.getLogger("campus_geo").addHandler(summary)

    def repeat_warnings() -> None:
        logging.getLogger("campus_geo").removeHandler(summary)
        summary.echo()

    ctx.call_on_close(repeat_warnings)


cli.add_command(ledger_commands, name="ledger")
cli.add_command(serve_command, name="serve")


def _summary(
    layers: Layers, findings: Any, written: dict[str, Path], categories: CategoryRegistry
) -> str:
    context = layers.hazards["category"].astype(str).isin(categories.context_keys)
    lines = [
        f"Screened {len(layers.schools)} schools against {int((~context).sum())} venues: "
        f"{len(findings)} findings at {findings['school_id'].nunique() if len(findings) else 0} "
        f"schools ({int(context.sum())} water, traffic and camera features are context for "
        "the analyses, not findings)."
    ]
    if len(findings):
        counts = findings.groupby("category").size().sort_values(ascending=False)
        lines += [f"  {categories.label(str(c))} {c}: {n}" for c, n in counts.items()]
    if len(layers.excluded):
        lines.append(f"Excluded {len(layers.excluded)} non-K-12 or duplicate school features.")
    if len(layers.rejects):
        lines.append(f"Rejected {len(layers.rejects)} input rows: see {written.get('rejects')}.")
    lines.append("Wrote:")
    lines += [f"  {path}" for path in written.values()]
    return "\n".join(lines)


def _run(
    layers: Layers,
    out: Path,
    *,
    rules: Path | None,
    profile: str | None,
    dist: float | None,
    reporting_unit: str,
    lang: str,
    ledger: Path | None = None,
    inputs: list[Path] | None = None,
    report: ReportOptions | None = None,
    network: Any = None,
    maps: MapChoices | None = None,
    analyses_chosen: tuple[str, ...] = (),
    cameras: Any = None,
    checklists: Checklists | None = None,
) -> None:
    from campus_geo.reports.fonts import cjk_font
    from campus_geo.screen import save_findings, screen
    from campus_geo.sources.layers import REJECT_COLUMNS

    report = report or ReportOptions()
    cjk_font()  # fail before screening, not after, when no font can draw the Chinese labels
    out.mkdir(parents=True, exist_ok=True)
    notices = gate_notices(layers, profile, rules)
    for notice in notices["en"]:  # at the top of the run; the summary page says it too
        click.echo(f"Warning: {notice}", err=True)
    findings = screener(screen)(
        layers.schools,
        layers.hazards,
        rules=rules,
        profile=profile,
        dist=dist,
        entrances=layers.entrances,
        # the street network measures walks; the traffic analysis alone does not need it here
        network=network if needs_network(profile, rules) else None,
    )
    written = save_findings(findings, out, categories=categories_for(rules))
    written.update(save_parquet_copy(findings, out))  # --engine dask: findings.parquet too
    # with a ledger, the map colours each finding by its case's status
    # the ledger records how this screening was made and refuses a sync made otherwise
    settings = {"profile": profile, "dist": dist}
    status = (
        None
        if ledger is None
        else sync_screening(
            ledger,
            findings,
            inputs or [],
            settings=settings,
            labels=categories_for(rules).labels,
        )
    )
    if ledger is not None and checklists is not None and any(checklists):
        import_checklist_cases(ledger, checklists)  # each missing item a case of its unit
    # drowning risk, traffic at gates, cameras: computed once for the summary, form and map
    analyses = (
        run_analyses(
            layers, network, rules=rules, lang=lang, which=analyses_chosen, cameras=cameras
        )
        if analyses_chosen
        else None
    )
    written.update(
        save_reports_with_progress(
            findings,
            layers,
            out,
            rules,
            reporting_unit,
            lang,
            inputs or [],
            report,
            analyses,
            notices[lang],
            checklist_sections(checklists, lang=lang),
        )
    )
    written.update(
        save_maps(
            findings,
            layers,
            out,
            rules=rules,
            profile=profile,
            dist=dist,
            lang=lang,
            status=status,
            maps=maps,
            analyses=analyses,
        )
    )
    lines: list[str] = []
    if analyses is not None:
        tables, lines = save_analyses(analyses, out)
        written.update(tables)
        if ledger is not None:  # the problems they name: gates without crossings or cameras
            lines.append(sync_analysis_problems(ledger, analyses, layers.schools))
    rejects_path = out / "rejects.csv"
    if len(layers.rejects):
        layers.rejects.reindex(columns=REJECT_COLUMNS).to_csv(
            rejects_path, index=False, encoding="utf-8-sig"
        )
        written["rejects"] = rejects_path
    elif rejects_path.exists():
        rejects_path.unlink()
    summary = _summary(layers, findings, written, categories_for(rules))
    click.echo("\n".join([summary, *lines]))


@cli.command(cls=OrderedArgsCommand)
@source_options(again=False)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Sync the findings into this rectification ledger (created if missing) and colour "
    "the map by case status; see `campus-geo ledger --help`.",
)
@click.option(
    "--cameras",
    "cameras_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Camera table (CSV/XLSX: id, lon/lat, direction, field of view, range, owner, "
    "platform) for the camera coverage, beside the OSM man_made=surveillance cameras; "
    "--coords after it as for the other tables.",
)
@click.option(
    "--school-checklist",
    "school_checklist",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The schools' 五个百分之百 register (xlsx/CSV: 学校名称, 所在乡镇, 专职保安员, 防冲撞设施, "
    "校门视频监控, 封闭化管理, 一键式紧急报警): rates by township in summary.html; with "
    "--ledger, each missing item becomes a case.",
)
@click.option(
    "--water-checklist",
    "water_checklist",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The key water areas register (重点水域: 水域名称, 所在乡镇, 警示标志, 防护栏, 巡查, "
    "责任主体), as --school-checklist.",
)
@click.option(
    "--analyses",
    "analyses_option",
    default="all",
    show_default=True,
    metavar="LIST",
    help="Analyses to run beside the screening: water, traffic, cameras (comma-separated), "
    "all or none. Water and traffic points and cameras are context for them, never "
    "findings; traffic needs the streets of an --osm file.",
)
@map_options
@common_options
@friendly
@scale_options
def screen(
    school_checklist: Path | None,
    water_checklist: Path | None,
    cameras_file: Path | None,
    analyses_option: str,
    maps: MapChoices,
    osm_files: tuple[Path, ...],
    schools_file: Path | None,
    hazard_specs: tuple[str, ...],
    id_field: str,
    project_file: Path | None,
    registry_files: tuple[Path, ...],
    roster_file: Path | None,
    coords: tuple[str, ...],
    admin_file: Path | None,
    admin_township_field: str | None,
    admin_village_field: str | None,
    ledger_path: Path | None,
    out: Path,
    rules: Path | None,
    profile: str | None,
    dist: float | None,
    reporting_unit: str,
    lang: str,
    all_schools: bool,
    generated_at: str | None,
    evidence: bool,
    pdf: bool,
) -> None:
    """Screen schools against hazard layers and write findings, form, evidence and map.

    \b
    Examples:
      campus-geo screen --osm district.osm.bz2 --out results
      campus-geo screen --schools schools.gpkg --hazards internet_cafe=wangba.csv --dist 200
      campus-geo screen --osm city.osm --profile entrance --rules my_rules.toml

      campus-geo screen --osm henan.osm.pbf --registry wangba.csv --coords gcj02 \\
          --roster 学校名单.xlsx --coords gcj02

    Sources combine: schools and hazards from every --osm file (XML or PBF),
    plus --schools, each --hazards file, each --registry (its venues merged
    with the OSM venues they duplicate: OUT/merged.csv), the --roster and the
    inputs of a --project file. Rows that cannot be used, and unclassified
    registry rows, go to OUT/rejects.csv.

    Each school's township and village (所在乡（镇、街道）、村（社区）): the
    roster's, else the school's own (--schools columns, OSM addr:* tags), else
    the --admin area containing it, else the OSM boundary=administrative area.
    """
    from campus_geo.sources.layers import (
        Layers,
        empty_layers,
    )

    check_out(out)  # before hours of work, not after
    categories = categories_for(rules)
    specs = [parse_hazard_option(spec, categories) for spec in hazard_specs]  # before the files
    del coords  # read per input, in command-line order, by gather_inputs
    inputs = gather_inputs(
        click.get_current_context(),
        osm_files=osm_files,
        schools_file=schools_file,
        specs=specs,
        registry_files=registry_files,
        roster_file=roster_file,
        project=project_file,
        admin=AdminChoice(admin_file, admin_township_field, admin_village_field),
    )
    osm_files = tuple(inputs.osm)
    layers, source_lines = load_sources(inputs, id_field=id_field, out=out, categories=categories)
    chosen = parse_analyses(analyses_option)
    camera_files = list(inputs.cameras)
    if cameras_file is not None:  # the command line's, then the project file's
        system = input_systems(click.get_current_context()).of("--cameras")
        camera_files.insert(0, (cameras_file, system))
    cameras, camera_rejects = read_cameras(camera_files, id_field=id_field)
    layers = layers + Layers(
        schools=empty_layers().schools,
        entrances=empty_layers().entrances,
        hazards=empty_layers().hazards,
        rejects=camera_rejects,
    )
    school_checklist = school_checklist or next(iter(inputs.school_checklist), None)
    water_checklist = water_checklist or next(iter(inputs.water_checklist), None)
    require_layers(layers, inputs, out)
    _run(
        layers,
        out,
        rules=rules,
        profile=profile,
        dist=dist,
        reporting_unit=reporting_unit,
        lang=lang,
        ledger=ledger_path,
        inputs=list(
            dict.fromkeys(
                [
                    *inputs.files,
                    *[p for p in (cameras_file, school_checklist, water_checklist, rules) if p],
                ]
            )
        ),
        report=ReportOptions(all_schools, generated_at, evidence, pdf),
        network=analysis_network(osm_files, walking=needs_network(profile, rules), which=chosen),
        maps=maps,
        analyses_chosen=chosen,
        cameras=cameras,
        checklists=(school_checklist, water_checklist),
    )
    if source_lines:
        click.echo("\n".join(source_lines))


@cli.command()
@click.option(
    "--regenerate",
    is_flag=True,
    help="Regenerate the demo district's data (data/demo/) from its seed before screening.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the demo data lives (default: data/demo in the source tree).",
)
@map_options
@common_options
@friendly
def demo(
    maps: MapChoices,
    regenerate: bool,
    data_dir: Path | None,
    out: Path,
    rules: Path | None,
    profile: str | None,
    dist: float | None,
    reporting_unit: str,
    lang: str,
    all_schools: bool,
    generated_at: str | None,
    evidence: bool,
    pdf: bool,
) -> None:
    """Generate the fictional demo district and screen it end to end.

    The district (青禾区, fictional names, placed in Henan) is made by
    campus_geo itself from a fixed seed: schools with outlines and gates,
    streets, rivers and ponds, venues of every hazard category, a business
    registry. Outputs go to --out (make demo uses maps/demo), with two months
    of the rectification ledger (OUT/ledger.sqlite, the 台帐 and the June and
    July reports).
    """
    from campus_geo.demo import district as demo_mod
    from campus_geo.demo.district import DEMO_FILES
    from campus_geo.sources.layers import layers_from_osm

    directory = data_dir or demo_mod.DEMO_DIR
    osm = directory / "district.osm"
    if regenerate or not osm.exists():
        click.echo(f"Generating the demo district in {directory} ...")
        demo_mod.generate_demo(directory)
    categories = categories_for(rules)
    layers = layers_from_osm(osm, categories=categories)
    # the registries (GCJ-02, one GBK CSV with dirty rows) and the roster through the screen path
    demo_tables = [directory / "registry.xlsx", directory / "registry_gbk.csv"]
    layers, source_lines = add_registry_and_roster(
        layers,
        registry_files=demo_tables,
        registry_systems=["gcj02", "gcj02"],
        roster_file=directory / "schools_roster.xlsx",
        roster_system="gcj02",
        out=out,
        categories=categories,
    )
    network = network_for([osm])
    _run(
        layers,
        out,
        rules=rules,
        profile=profile,
        dist=dist,
        reporting_unit=reporting_unit or "青禾区校园及周边安全专项整治工作领导小组办公室（演示）",
        lang=lang,
        inputs=[p for p in (osm, *demo_tables, directory / "schools_roster.xlsx", rules) if p],
        report=ReportOptions(all_schools, generated_at, evidence, pdf),
        network=network,
        maps=maps,
        analyses_chosen=ANALYSES,  # water, traffic, cameras: tables, summary, form, map
        # the campaign's checklist registers: their rates in summary.html (the story's
        # ledger imports them as cases)
        checklists=(
            directory / DEMO_FILES["school_checklist"],
            directory / DEMO_FILES["water_checklist"],
        ),
    )
    click.echo("\n".join(source_lines))
    # two months of the rectification ledger (default rules): OUT/ledger.sqlite, monthly reports
    run_demo_story(out, layers, osm)


cli.add_command(form_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``campus-geo`` console script."""
    cli.main(args=argv, prog_name="campus-geo")
