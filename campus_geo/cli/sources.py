"""Registries, rosters and per-input coordinate systems for the ``campus-geo`` command.

Private to :mod:`campus_geo.cli`. Each input declares its own coordinate system
by a ``--coords`` given right after it::

    campus-geo screen --osm city.osm.pbf --registry wangba.csv --coords gcj02 \\
        --registry caipiao.xlsx --coords bd09 --roster 学校名单.xlsx --coords gcj02

A ``--coords`` before every input file is the default of the table inputs that
declare none. OSM data is WGS 84 by definition. click collects options by name,
not by position, so the command class records the order of the raw arguments
(:class:`OrderedArgsCommand`) and :func:`input_systems` pairs them up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from campus_geo.settings import COORDINATE_SYSTEMS

if TYPE_CHECKING:  # the parts load when a command runs, not for --help
    from campus_geo.sources.layers import Layers

__all__ = [
    "INPUT_OPTIONS",
    "InputSystems",
    "Inputs",
    "OrderedArgsCommand",
    "add_registry_and_roster",
    "gather_inputs",
    "input_systems",
    "project_option",
    "read_project",
    "registry_options",
]

log = logging.getLogger(__name__)

#: Options whose value is an input file that may declare a coordinate system.
INPUT_OPTIONS: Final = ("--osm", "--schools", "--hazards", "--registry", "--roster")
_ARGS_KEY: Final = "campus_geo.raw_args"


class OrderedArgsCommand(click.Command):
    """A click command that keeps its raw arguments in order (``ctx.meta``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Record the arguments, then parse them as click does."""
        ctx.meta[_ARGS_KEY] = list(args)
        return super().parse_args(ctx, args)


@dataclass
class InputSystems:
    """The coordinate system declared for each input file option, in order of appearance.

    ``declared["--registry"][k]`` is the system of the k-th ``--registry``
    (None: not declared); ``default`` the system of a leading ``--coords``.
    """

    declared: dict[str, list[str | None]] = field(default_factory=dict)
    default: str | None = None

    def of(self, option: str, k: int = 0) -> str | None:
        """System of the k-th `option` input, else the default, else None."""
        systems = self.declared.get(option, [])
        own = systems[k] if k < len(systems) else None
        return own if own is not None else self.default


def _split(arg: str, args: list[str], i: int) -> tuple[str, str | None, int]:
    """Option name, its value and the index after it (``--x=v`` or ``--x v``)."""
    if "=" in arg:
        name, _, value = arg.partition("=")
        return name, value, i + 1
    return arg, (args[i + 1] if i + 1 < len(args) else None), i + 2


def input_systems(ctx: click.Context) -> InputSystems:
    """Pair each ``--coords`` with the input file option given right before it.

    Raises
    ------
    click.UsageError
        A system named twice for one input, an unknown system, or one other
        than WGS 84 for OSM data.
    """
    from campus_geo.coords import normalise_system

    args = ctx.meta.get(_ARGS_KEY, [])
    out = InputSystems()
    last: tuple[str, int] | None = None
    i = 0
    while i < len(args):
        name, value, after = _split(args[i], args, i)
        if name in INPUT_OPTIONS:
            out.declared.setdefault(name, []).append(None)
            last = (name, len(out.declared[name]) - 1)
            i = after
            continue
        if name != "--coords" or value is None:
            i += 1
            continue
        try:
            system = normalise_system(value)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        if last is None:
            out.default = system
        elif out.declared[last[0]][last[1]] is not None:
            msg = f"--coords given twice for the {last[0]} input before it; give one per input"
            raise click.UsageError(msg)
        elif last[0] == "--osm" and system != "wgs84":
            msg = "OpenStreetMap data is WGS 84 by definition; --coords after --osm must be wgs84"
            raise click.UsageError(msg)
        else:
            out.declared[last[0]][last[1]] = system
        i = after
    return out


def project_option(func: Any) -> Any:
    """The ``--project`` option of ``screen``."""
    return click.option(
        "--project",
        "project_file",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        default=None,
        help="Project file (TOML) listing inputs, each with its coords: [[osm]], [schools], "
        "[[hazards]] (with category), [[registry]], [roster]; added to the command line's.",
    )(func)


def registry_options(func: Any) -> Any:
    """The ``--registry`` and ``--roster`` options (``screen``, ``form``)."""
    func = click.option(
        "--roster",
        "roster_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="School roster (学校名单, CSV/XLSX): matched to the mapped schools by name and "
        "distance; supplies kind, township, village; roster-only schools with coordinates are "
        "added as points. Follow it with --coords SYSTEM.",
    )(func)
    return click.option(
        "--registry",
        "registry_files",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        help="Business registry or licence list (CSV in UTF-8/GBK/GB18030, or XLSX): venues "
        "classified by licence, business scope and name; duplicates merged, also with OSM "
        "venues. Repeatable; follow each with --coords SYSTEM ("
        + "/".join(COORDINATE_SYSTEMS)
        + ").",
    )(func)


def add_registry_and_roster(
    layers: Layers,
    *,
    registry_files: list[Path],
    registry_systems: list[str | None],
    roster_file: Path | None,
    roster_system: str | None,
    out: Path,
) -> tuple[Layers, list[str]]:
    """Add registry venues (merged with the OSM venues they duplicate) and the roster.

    Writes OUT/merged.csv (every row merged into another record) when a
    registry is given. Returns the new layers and the summary lines.
    """
    import pandas as pd

    from campus_geo.sources.registry import MERGE_COLUMNS, hazards_from_registry, merge_with_osm
    from campus_geo.sources.roster import schools_from_roster

    lines: list[str] = []
    if roster_file is not None:
        roster = schools_from_roster(roster_file, coords=roster_system, schools=layers.schools)
        layers = replace(
            layers,
            schools=roster.schools,
            rejects=pd.concat([layers.rejects, roster.rejects], ignore_index=True),
        )
        lines.append(roster.summary())
        lines += [
            f"  unmatched: {r.name} ({Path(str(r.file)).name} row {r.row})"
            for r in roster.unmatched.itertuples()
        ]
    if registry_files:
        registry = hazards_from_registry(registry_files, coords=registry_systems)
        duplicates = len(registry.merged)
        hazards, registry = merge_with_osm(layers.hazards, registry)
        layers = replace(
            layers,
            hazards=hazards,
            rejects=pd.concat([layers.rejects, registry.rejects], ignore_index=True),
        )
        out.mkdir(parents=True, exist_ok=True)
        merged_path = out / "merged.csv"
        registry.merged.reindex(columns=MERGE_COLUMNS).to_csv(
            merged_path, index=False, encoding="utf-8-sig"
        )
        c = registry.counts
        lines.append(
            f"{registry.summary()}\n  merged: {duplicates} registry duplicates, "
            f"{c['merged'] - duplicates} into the OSM venues they duplicate (see {merged_path}); "
            "rejected and unclassified rows are in rejects.csv."
        )
    return layers, lines


# ---------------------------------------------------------------------------
# project files

_PROJECT_KEYS: Final = ("osm", "schools", "hazards", "registry", "roster")


@dataclass
class Inputs:
    """Every input of one screening with its declared coordinate system."""

    osm: list[Path] = field(default_factory=list)
    schools: list[tuple[Path, str]] = field(default_factory=list)
    hazards: list[tuple[str | None, Path, str]] = field(default_factory=list)
    registry: list[tuple[Path, str | None]] = field(default_factory=list)
    roster: list[tuple[Path, str | None]] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        """Every input file (for the evidence sheets' hashes)."""
        return [
            *self.osm,
            *(p for p, _ in self.schools),
            *(p for _, p, _ in self.hazards),
            *(p for p, _ in self.registry),
            *(p for p, _ in self.roster),
        ]


def _entries(project: Path, key: str, value: Any) -> list[dict[str, Any]]:
    tables = value if isinstance(value, list) else [value]
    for i, table in enumerate(tables):
        where = f"{project}: [{key}] entry {i + 1}"
        if not isinstance(table, dict) or "path" not in table:
            msg = f'{where} needs a path, e.g. path = "data/{key}.csv"'
            raise click.UsageError(msg)
        unknown = set(table) - {"path", "coords", "category"}
        if unknown or ("category" in table and key != "hazards"):
            bad = ", ".join(
                sorted(unknown | ({"category"} & set(table) if key != "hazards" else set()))
            )
            msg = f"{where}: unknown key(s) {bad}; expected path, coords (and category for hazards)"
            raise click.UsageError(msg)
    return list(tables)


def read_project(filepath: Path) -> Inputs:
    """Read a project file (TOML) listing the inputs, each with its ``coords``.

    Example::

        [[osm]]
        path = "henan-latest.osm.pbf"

        [[registry]]
        path = "网吧名录.csv"
        coords = "gcj02"

        [[hazards]]
        path = "彩票网点.xlsx"
        category = "lottery"
        coords = "bd09"

        [roster]
        path = "学校名单.xlsx"
        coords = "gcj02"

    Paths are relative to the project file's folder. ``coords`` is required for
    every table input (schools, hazards, registry, roster): a project file
    declares every system, nothing is assumed.
    """
    import tomllib

    from campus_geo.coords import normalise_system

    try:
        data = tomllib.loads(filepath.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"cannot read project file {filepath}: {exc}"
        raise click.UsageError(msg) from exc
    unknown = set(data) - set(_PROJECT_KEYS)
    if unknown:
        msg = f"{filepath}: unknown section(s) {', '.join(sorted(unknown))}; expected {', '.join(_PROJECT_KEYS)}"
        raise click.UsageError(msg)
    inputs = Inputs()
    for key in _PROJECT_KEYS:
        for entry in _entries(filepath, key, data.get(key, [])):
            path = (filepath.parent / entry["path"]).resolve()
            system = entry.get("coords")
            if key != "osm" and system is None:
                msg = f"{filepath}: [{key}] {entry['path']} has no coords; declare wgs84, gcj02 or bd09"
                raise click.UsageError(msg)
            try:
                canonical = normalise_system(system or "wgs84")
            except ValueError as exc:
                raise click.UsageError(f"{filepath}: [{key}] {entry['path']}: {exc}") from exc
            if key == "osm" and canonical != "wgs84":
                msg = (
                    f"{filepath}: [osm] {entry['path']}: OpenStreetMap data is WGS 84 by definition"
                )
                raise click.UsageError(msg)
            if key == "osm":
                inputs.osm.append(path)
            elif key == "schools":
                inputs.schools.append((path, canonical))
            elif key == "hazards":
                inputs.hazards.append((entry.get("category"), path, canonical))
            elif key == "registry":
                inputs.registry.append((path, canonical))
            else:
                inputs.roster.append((path, canonical))
    return inputs


def gather_inputs(
    ctx: click.Context,
    *,
    osm_files: tuple[Path, ...],
    schools_file: Path | None,
    specs: list[tuple[str | None, Path]],
    registry_files: tuple[Path, ...],
    roster_file: Path | None,
    project: Path | None,
) -> Inputs:
    """The command line's inputs with their declared systems, then the project file's."""
    systems = input_systems(ctx)
    inputs = Inputs(
        osm=list(osm_files),
        schools=[(schools_file, systems.of("--schools") or "wgs84")] if schools_file else [],
        hazards=[(c, p, systems.of("--hazards", k) or "wgs84") for k, (c, p) in enumerate(specs)],
        registry=[(p, systems.of("--registry", k)) for k, p in enumerate(registry_files)],
        roster=[(roster_file, systems.of("--roster"))] if roster_file else [],
    )
    if project is not None:
        more = read_project(project)
        inputs.osm += more.osm
        inputs.schools += more.schools
        inputs.hazards += more.hazards
        inputs.registry += more.registry
        inputs.roster += more.roster
    for key in ("schools", "roster"):
        if len(getattr(inputs, key)) > 1:
            msg = f"one {key} file per screening (given {len(getattr(inputs, key))})"
            raise click.UsageError(msg)
    return inputs
