"""The ``campus-geo`` command.

Exit status: 0 on success; 2 on bad input, with one paragraph naming the file,
row and column and the fix; 1 on an unexpected internal error (its traceback
only with ``--debug``). The library logs; this module configures logging.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from ._errors import CampusGeoError
from .layers import (
    REJECT_COLUMNS,
    Layers,
    empty_layers,
    hazards_from_file,
    layers_from_osm,
    schools_from_file,
)
from .settings import CATEGORIES, CATEGORY_LABELS, PROFILES

__all__ = ["main"]

log = logging.getLogger("campus_geo")
F = TypeVar("F", bound=Callable[..., Any])


def _friendly(func: F) -> F:
    """Turn campus_geo errors into exit status 2 with their message, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise  # usage errors: click prints them and exits with 2
        except CampusGeoError as exc:
            if debug:
                raise
            click.echo(f"campus-geo: error: {exc}", err=True)
            sys.exit(2)
        except Exception as exc:
            if debug:
                raise
            click.echo(
                f"campus-geo: internal error: {type(exc).__name__}: {exc}. "
                "Run again with --debug for the traceback and report it with the input files.",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


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


def _summary(layers: Layers, findings: Any, written: dict[str, Path]) -> str:
    lines = [
        f"Screened {len(layers.schools)} schools against {len(layers.hazards)} hazards: "
        f"{len(findings)} findings at {findings['school_id'].nunique() if len(findings) else 0} schools."
    ]
    if len(findings):
        counts = findings.groupby("category").size().sort_values(ascending=False)
        lines += [f"  {CATEGORY_LABELS.get(c, (c, c))[0]} {c}: {n}" for c, n in counts.items()]
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
) -> None:
    from .maps import hazard_map, save_map
    from .report import save_inspection_form
    from .screen import save_findings, screen

    out.mkdir(parents=True, exist_ok=True)
    findings = screen(
        layers.schools,
        layers.hazards,
        rules=rules,
        profile=profile,
        dist=dist,
        entrances=layers.entrances,
    )
    written = save_findings(findings, out)
    written["form"] = save_inspection_form(
        findings,
        layers.schools,
        out / "inspection_form.xlsx",
        reporting_unit=reporting_unit,
        lang=lang,
    )
    written["map"] = save_map(
        hazard_map(findings, layers.schools, layers.hazards, lang=lang), out / "map.html"
    )
    rejects_path = out / "rejects.csv"
    if len(layers.rejects):
        layers.rejects.reindex(columns=REJECT_COLUMNS).to_csv(
            rejects_path, index=False, encoding="utf-8-sig"
        )
        written["rejects"] = rejects_path
    elif rejects_path.exists():
        rejects_path.unlink()
    click.echo(_summary(layers, findings, written))


def _parse_hazard_option(value: str) -> tuple[str | None, Path]:
    if "=" in value:
        category, _, path = value.partition("=")
        if category not in CATEGORIES:
            raise click.BadParameter(
                f"unknown category {category!r} in {value!r}; expected one of {', '.join(CATEGORIES)}",
                param_hint="--hazards",
            )
        return category, Path(path)
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
        type=click.Choice(PROFILES),
        default=None,
        help="How distances are measured: boundary = from any point of the campus outline "
        "(文市函[2003]560号, default of most rules); entrance = from the nearest school gate.",
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


def _common(func: F) -> F:
    for option in reversed(_COMMON_OPTIONS):
        func = option(func)
    return func


@cli.command()
@click.option(
    "--osm",
    "osm_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="OpenStreetMap XML (.osm, .osm.bz2): schools, gates and classified hazards. Repeatable.",
)
@click.option(
    "--schools",
    "schools_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Schools: GeoJSON/GPKG/Shapefile/GeoParquet, or CSV/XLSX with lon/lat; needs id and name.",
)
@click.option(
    "--hazards",
    "hazard_specs",
    multiple=True,
    metavar="CATEGORY=FILE",
    help="A hazard layer, e.g. internet_cafe=wangba.csv (or FILE with a category column). Repeatable.",
)
@click.option(
    "--id-field", default="id", show_default=True, help="Id column of --schools/--hazards files."
)
@click.option(
    "--coords",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Coordinate system of lon/lat tables (Amap/Tencent give gcj02, Baidu bd09).",
)
@_common
@_friendly
def screen(
    osm_files: tuple[Path, ...],
    schools_file: Path | None,
    hazard_specs: tuple[str, ...],
    id_field: str,
    coords: str,
    out: Path,
    rules: Path | None,
    profile: str | None,
    dist: float | None,
    reporting_unit: str,
    lang: str,
) -> None:
    """Screen schools against hazard layers and write findings, form and map.

    \b
    Examples:
      campus-geo screen --osm district.osm.bz2 --out results
      campus-geo screen --schools schools.gpkg --hazards internet_cafe=wangba.csv --dist 200
      campus-geo screen --osm city.osm --profile entrance --rules my_rules.toml

    Sources combine: schools and hazards from every --osm file, plus --schools
    and each --hazards file. Rows that cannot be used go to OUT/rejects.csv.
    """
    specs = [_parse_hazard_option(spec) for spec in hazard_specs]  # syntax first, then files
    layers = empty_layers()
    for path in osm_files:
        layers = layers + layers_from_osm(path)
    if schools_file is not None:
        schools, rejects = schools_from_file(schools_file, id_field=id_field, coords=coords)
        layers = layers + Layers(
            schools=schools,
            entrances=empty_layers().entrances,
            hazards=empty_layers().hazards,
            rejects=rejects,
        )
    for category, path in specs:
        hazards, rejects = hazards_from_file(
            path, category=category, id_field=id_field, coords=coords
        )
        layers = layers + Layers(
            schools=empty_layers().schools,
            entrances=empty_layers().entrances,
            hazards=hazards,
            rejects=rejects,
        )
    if not len(layers.schools):
        raise click.UsageError("no schools given: pass --osm FILE and/or --schools FILE")
    if not len(layers.hazards):
        raise click.UsageError("no hazards given: pass --osm FILE and/or --hazards CATEGORY=FILE")
    _run(
        layers,
        out,
        rules=rules,
        profile=profile,
        dist=dist,
        reporting_unit=reporting_unit,
        lang=lang,
    )


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
@_common
@_friendly
def demo(
    regenerate: bool,
    data_dir: Path | None,
    out: Path,
    rules: Path | None,
    profile: str | None,
    dist: float | None,
    reporting_unit: str,
    lang: str,
) -> None:
    """Generate the fictional demo district and screen it end to end.

    The district (青禾区, fictional names, placed in Henan) is made by
    campus_geo itself from a fixed seed: schools with outlines and gates,
    streets, rivers and ponds, venues of every hazard category, a business
    registry. Outputs go to --out (make demo uses maps/demo).
    """
    from . import demo as demo_mod

    directory = data_dir or demo_mod.DEMO_DIR
    osm = directory / "district.osm"
    if regenerate or not osm.exists():
        click.echo(f"Generating the demo district in {directory} ...")
        demo_mod.generate_demo(directory)
    layers = layers_from_osm(osm)
    _run(
        layers,
        out,
        rules=rules,
        profile=profile,
        dist=dist,
        reporting_unit=reporting_unit or "青禾区校园及周边安全专项整治工作领导小组办公室（演示）",
        lang=lang,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``campus-geo`` console script."""
    cli.main(args=argv, prog_name="campus-geo")
