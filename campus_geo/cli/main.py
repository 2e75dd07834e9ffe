"""The ``campus-geo`` command.

Exit status: 0 on success; 2 on bad input, with one paragraph naming the file,
row and column and the fix; 1 on an unexpected internal error (its traceback
only with ``--debug``). The library logs; this module configures logging.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    run_analyses,
    save_analyses,
)
from campus_geo.cli.common import WarningSummary, check_out, friendly
from campus_geo.cli.ledger import (
    import_checklist_cases,
    run_demo_story,
    sync_analysis_problems,
    sync_screening,
)
from campus_geo.cli.ledger import ledger as ledger_commands
from campus_geo.cli.maps import MapChoices, map_options, save_maps
from campus_geo.cli.scale import save_parquet_copy, scale_options, screener
from campus_geo.cli.serve import serve as serve_command
from campus_geo.cli.sources import (
    AdminChoice,
    OrderedArgsCommand,
    add_registry_and_roster,
    check_sources_match,
    gather_inputs,
    input_systems,
    read_admin,
    refuse_if_empty,
    require_layers,
    source_options,
)
from campus_geo.settings import PROFILES

if TYPE_CHECKING:  # the parts load when a command runs, not for --help
    from campus_geo.category_registry import CategoryRegistry
    from campus_geo.reports.analyses import Analyses
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
    report: _ReportOptions | None = None,
    network: Any = None,
    maps: MapChoices | None = None,
    analyses_chosen: tuple[str, ...] = (),
    cameras: Any = None,
    checklists: Checklists | None = None,
) -> None:
    from campus_geo.reports.fonts import cjk_font
    from campus_geo.screen import save_findings, screen
    from campus_geo.sources.layers import REJECT_COLUMNS

    report = report or _ReportOptions()
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
    written = save_findings(findings, out, categories=_categories(rules))
    written.update(save_parquet_copy(findings, out))  # --engine dask: findings.parquet too
    # with a ledger, the map colours each finding by its case's status
    # the ledger records how this screening was made and refuses a sync made otherwise
    settings = {"profile": profile, "dist": dist}
    status = (
        None
        if ledger is None
        else sync_screening(ledger, findings, inputs or [], settings=settings)
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
        _save_reports(
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
    summary = _summary(layers, findings, written, _categories(rules))
    click.echo("\n".join([summary, *lines]))


@dataclass(frozen=True)
class _ReportOptions:
    """Options of the form, summary page and evidence sheets (see `_REPORT_OPTIONS`)."""

    all_schools: bool = False
    generated_at: str | None = None
    evidence: bool = True
    pdf: bool = False


def _save_reports(
    findings: Any,
    layers: Layers,
    out: Path,
    rules: Path | None,
    reporting_unit: str,
    lang: str,
    inputs: list[Path],
    report: _ReportOptions,
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


def _categories(rules: Path | None) -> CategoryRegistry:
    """The hazard categories of a screening: the default table's, with those --rules adds."""
    from campus_geo.rules import default_categories, read_categories

    return default_categories() if rules is None else read_categories(rules)


def _parse_hazard_option(value: str, categories: CategoryRegistry) -> tuple[str | None, Path]:
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


_COMMON_OPTIONS = [
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


_REPORT_OPTIONS = [
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


def _common(func: F) -> F:
    for option in reversed(_COMMON_OPTIONS + _REPORT_OPTIONS):
        func = option(func)
    return func


def _report_options(func: F) -> F:
    for option in reversed(_REPORT_OPTIONS):
        func = option(func)
    return func


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
@_common
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
        hazards_from_file,
        layers_from_osm,
        schools_from_file,
    )

    check_out(out)  # before hours of work, not after
    categories = _categories(rules)
    specs = [_parse_hazard_option(spec, categories) for spec in hazard_specs]  # before the files
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
    layers = empty_layers()
    for path in osm_files:  # townships after every source: --admin areas before OSM's
        layers = layers + layers_from_osm(path, admin_areas=False, categories=categories)
    for path, system in inputs.schools:
        schools, rejects = schools_from_file(path, id_field=id_field, coords=system)
        refuse_if_empty("schools", path, schools, [layers.rejects, rejects], out)
        layers = layers + Layers(
            schools=schools,
            entrances=empty_layers().entrances,
            hazards=empty_layers().hazards,
            rejects=rejects,
        )
    for category, path, system in inputs.hazards:
        hazards, rejects = hazards_from_file(
            path, category=category, id_field=id_field, coords=system, categories=categories
        )
        refuse_if_empty("hazards", path, hazards, [layers.rejects, rejects], out)
        layers = layers + Layers(
            schools=empty_layers().schools,
            entrances=empty_layers().entrances,
            hazards=hazards,
            rejects=rejects,
        )
    layers, source_lines = add_registry_and_roster(
        layers,
        registry_files=[p for p, _ in inputs.registry],
        registry_systems=[system for _, system in inputs.registry],
        roster_file=inputs.roster[0][0] if inputs.roster else None,
        roster_system=inputs.roster[0][1] if inputs.roster else None,
        out=out,
        admin=read_admin(inputs.admin[0]) if inputs.admin else None,
        categories=categories,
    )
    chosen = parse_analyses(analyses_option)
    cameras = None
    if cameras_file is not None:
        from campus_geo.analyses.cameras import cameras_from_file

        system = input_systems(click.get_current_context()).of("--cameras")
        cameras, camera_rejects = cameras_from_file(cameras_file, id_field=id_field, coords=system)
        layers = layers + Layers(
            schools=empty_layers().schools,
            entrances=empty_layers().entrances,
            hazards=empty_layers().hazards,
            rejects=camera_rejects,
        )
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
        inputs=[
            *inputs.files,
            *[p for p in (cameras_file, school_checklist, water_checklist, rules) if p],
        ],
        report=_ReportOptions(all_schools, generated_at, evidence, pdf),
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
@_common
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
    categories = _categories(rules)
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
        report=_ReportOptions(all_schools, generated_at, evidence, pdf),
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


def _load_sources(
    osm_files: tuple[Path, ...],
    schools_file: Path | None,
    specs: list[tuple[str | None, Path]],
    id_field: str,
    registry_files: tuple[Path, ...],
    roster_file: Path | None,
    out: Path,
    admin: Any = None,
    categories: CategoryRegistry | None = None,
) -> tuple[Layers, list[str]]:
    """Every given source read and combined as `screen` reads them (per-input --coords).

    Returns the layers and the lines that report registries, rosters and townships.
    """
    from campus_geo.sources.layers import (
        Layers,
        empty_layers,
        hazards_from_file,
        layers_from_osm,
        schools_from_file,
    )

    systems = input_systems(click.get_current_context())
    layers = empty_layers()
    for path in osm_files:
        layers = layers + layers_from_osm(path, admin_areas=False, categories=categories)
    if schools_file is not None:
        schools, rejects = schools_from_file(
            schools_file, id_field=id_field, coords=systems.of("--schools") or "wgs84"
        )
        layers = layers + Layers(
            schools=schools,
            entrances=empty_layers().entrances,
            hazards=empty_layers().hazards,
            rejects=rejects,
        )
    for k, (category, path) in enumerate(specs):
        hazards, rejects = hazards_from_file(
            path,
            category=category,
            id_field=id_field,
            coords=systems.of("--hazards", k) or "wgs84",
            categories=categories,
        )
        layers = layers + Layers(
            schools=empty_layers().schools,
            entrances=empty_layers().entrances,
            hazards=hazards,
            rejects=rejects,
        )
    return add_registry_and_roster(
        layers,
        registry_files=list(registry_files),
        registry_systems=[systems.of("--registry", k) for k in range(len(registry_files))],
        roster_file=roster_file,
        roster_system=systems.of("--roster"),
        out=out,
        admin=admin,
        categories=categories,
    )


@cli.command(cls=OrderedArgsCommand)
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
@_report_options
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

    categories = _categories(rules)
    specs = [_parse_hazard_option(spec, categories) for spec in hazard_specs]
    del coords  # read per input, in command-line order, by input_systems
    if out is not None:
        check_out(out)
    cjk_font()
    findings = findings_from_file(findings_file)
    target = out if out is not None else findings_file.parent
    choice = gather_inputs(
        click.get_current_context(),
        osm_files=(),
        schools_file=None,
        specs=[],
        registry_files=(),
        roster_file=None,
        project=None,
        admin=AdminChoice(admin_file, admin_township_field, admin_village_field),
    ).admin
    admin = read_admin(choice[0]) if choice else None
    layers, lines = _load_sources(
        osm_files,
        schools_file,
        specs,
        id_field,
        registry_files,
        roster_file,
        target,
        admin,
        categories=categories,
    )
    check_sources_match(findings, findings_file, layers)
    findings = findings_with_admin(findings, schools=layers.schools, admin=(admin, layers.admin))
    if all_schools and not len(layers.schools):
        raise click.UsageError(
            "--all-schools needs the screened schools: pass --osm, --schools and/or --roster"
        )
    target.mkdir(parents=True, exist_ok=True)
    files = (findings_file, *osm_files, schools_file, *(p for _, p in specs), *registry_files)
    inputs = [p for p in (*files, roster_file, admin_file, rules) if p]
    written = _save_reports(
        findings,
        layers,
        target,
        rules,
        reporting_unit,
        lang,
        inputs,
        _ReportOptions(all_schools, generated_at, evidence, pdf),
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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``campus-geo`` console script."""
    cli.main(args=argv, prog_name="campus-geo")
