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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from campus_geo.settings import COORDINATE_SYSTEMS

if TYPE_CHECKING:  # the parts load when a command runs, not for --help
    import geopandas as gpd
    import pandas as pd

    from campus_geo.category_registry import CategoryRegistry
    from campus_geo.sources.layers import Layers

__all__ = [
    "INPUT_OPTIONS",
    "REJECTS_FILE",
    "SOURCE_HELP",
    "AdminChoice",
    "InputSystems",
    "Inputs",
    "OrderedArgsCommand",
    "add_registry_and_roster",
    "admin_options",
    "check_sources_match",
    "gather_inputs",
    "input_systems",
    "load_sources",
    "project_option",
    "read_admin",
    "read_project",
    "refuse_if_empty",
    "registry_options",
    "require_layers",
    "source_options",
    "write_rejects",
]

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

#: Options whose value is an input file that may declare a coordinate system.
INPUT_OPTIONS: Final = (
    "--osm",
    "--schools",
    "--hazards",
    "--registry",
    "--roster",
    "--admin",
    "--cameras",
)
_ARGS_KEY: Final = "campus_geo.raw_args"
#: Name of the rejects table in the output folder.
REJECTS_FILE: Final = "rejects.csv"


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


@dataclass(frozen=True)
class AdminChoice:
    """The ``--admin`` options: the areas file, its name columns and its coordinate system."""

    path: Path | None = None
    township_field: str | None = None
    village_field: str | None = None
    system: str | None = None


def admin_options(func: Any) -> Any:
    """The ``--admin``, ``--admin-township-field`` and ``--admin-village-field`` options."""
    options = [
        click.option(
            "--admin",
            "admin_file",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="Township and village areas (polygons; GeoPackage, Shapefile, GeoJSON, any "
            "format GDAL reads) for 所在乡（镇、街道）、村（社区）: fills the schools that the "
            "roster and their own data leave without one, before the OSM boundaries "
            "(boundary=administrative, admin_level 7-8 townships, 9-10 villages) of the --osm "
            "files. Follow it with --coords gcj02 only for a file traced on Amap.",
        ),
        click.option(
            "--admin-township-field",
            default=None,
            metavar="COLUMN",
            help="Column of --admin with the township names (default: detected, e.g. 乡镇, "
            "街道, township).",
        ),
        click.option(
            "--admin-village-field",
            default=None,
            metavar="COLUMN",
            help="Column of --admin with the village or community names (default: detected, "
            "e.g. 村, 社区, village).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def read_admin(choice: AdminChoice) -> gpd.GeoDataFrame | None:
    """The areas of ``--admin`` (None without it)."""
    if choice.path is None:
        return None
    from campus_geo.sources.admin import admin_from_file

    return admin_from_file(
        choice.path,
        township_field=choice.township_field,
        village_field=choice.village_field,
        coords=choice.system,
    )


def _with_admin(layers: Layers, admin: gpd.GeoDataFrame | None) -> Layers:
    """Schools with their empty township and village filled: --admin areas, then OSM's."""
    from campus_geo.sources.admin import assign_admin

    schools = layers.schools
    for areas in (admin, layers.admin):
        if areas is not None and len(areas) and len(schools):
            schools = assign_admin(schools, areas)
    return replace(layers, schools=schools)


def _admin_lines(layers: Layers, admin: gpd.GeoDataFrame | None) -> list[str]:
    """The summary line on townships; a warning naming the schools left without one."""
    from campus_geo._errors import CampusGeoWarning, warn_data

    areas = [a for a in (admin, layers.admin) if a is not None and len(a)]
    if not areas or not len(layers.schools):
        return []
    towns = layers.schools["township"].fillna("").astype(str)
    missing = layers.schools[towns == ""]
    line = (
        f"Townships: {int((towns != '').sum())} of {len(towns)} schools placed in "
        f"{towns[towns != ''].nunique()} townships"
    )
    if len(missing):
        names = "、".join(missing["name"].astype(str).head(10))
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        warn_data(
            log,
            f"{len(missing)} school(s) lie in no township area and have no township: "
            f"{names}{more}; give a roster with 乡镇 or an --admin file that covers them",
            CampusGeoWarning,
            stacklevel=None,
        )
        line += f"; {len(missing)} without (未知乡镇): {names}{more}"
    return [line + "."]


def add_registry_and_roster(
    layers: Layers,
    *,
    registry_files: list[Path],
    registry_systems: list[str | None],
    roster_file: Path | None,
    roster_system: str | None,
    out: Path,
    admin: gpd.GeoDataFrame | None = None,
    categories: CategoryRegistry | None = None,
) -> tuple[Layers, list[str]]:
    """Add registry venues (merged with the OSM venues they duplicate), the roster and townships.

    Each school's empty township and village are filled from the `admin`
    areas (``--admin``), then from the OSM areas of the layers, before the
    roster is matched (it matches names within a township) and again after
    it, for the schools it adds; the roster's own values replace any other
    (see :func:`campus_geo.sources.admin.assign_admin`). Writes
    OUT/merged.csv (every row merged into another record) when a registry is
    given. `categories`: the hazard categories that classify the registry rows
    (the default rule table's when None). Returns the new layers and the summary lines.
    """
    import pandas as pd

    from campus_geo.sources.registry import MERGE_COLUMNS, hazards_from_registry, merge_with_osm
    from campus_geo.sources.roster import schools_from_roster

    lines: list[str] = []
    layers = _with_admin(layers, admin)
    if roster_file is not None:
        roster = schools_from_roster(roster_file, coords=roster_system, schools=layers.schools)
        layers = _with_admin(
            replace(
                layers,
                schools=roster.schools,
                rejects=pd.concat([layers.rejects, roster.rejects], ignore_index=True),
            ),
            admin,
        )
        lines.append(roster.summary())
        lines += [
            f"  unmatched: {r.name} ({Path(str(r.file)).name} row {r.row})"
            for r in roster.unmatched.itertuples()
        ]
    if registry_files:
        registry = hazards_from_registry(
            registry_files, coords=registry_systems, categories=categories
        )
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
    return layers, lines + _admin_lines(layers, admin)


def write_rejects(rejects: pd.DataFrame, out: Path) -> Path:
    """Write the rejected rows (file, row, column, reason, record) to OUT/rejects.csv."""
    from campus_geo.sources.checks import REJECT_COLUMNS

    path = out / REJECTS_FILE
    out.mkdir(parents=True, exist_ok=True)
    rejects.reindex(columns=REJECT_COLUMNS).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def load_sources(
    inputs: Inputs,
    *,
    id_field: str,
    out: Path,
    categories: CategoryRegistry | None = None,
) -> tuple[Layers, list[str]]:
    """Every input of a run read and combined: the one path of `screen` and of `form`.

    OSM files first (their administrative areas after every source), then the
    schools and hazard files, each with its declared coordinate system (an
    undeclared table of points in China is refused), a file with no usable row
    stopping the run (:func:`refuse_if_empty`), then the registries, the roster
    and the township areas (:func:`add_registry_and_roster`). Returns the layers
    and the lines that report registries, rosters and townships.
    """
    from campus_geo.sources.layers import (
        Layers,
        empty_layers,
        hazards_from_file,
        layers_from_osm,
        schools_from_file,
    )

    layers = empty_layers()
    for path in inputs.osm:  # townships after every source: --admin areas before OSM's
        layers = layers + layers_from_osm(path, admin_areas=False, categories=categories)
    none = empty_layers()
    for path, system in inputs.schools:
        schools, rejects = schools_from_file(path, id_field=id_field, coords=system)
        refuse_if_empty("schools", path, schools, [layers.rejects, rejects], out)
        layers = layers + Layers(
            schools=schools, entrances=none.entrances, hazards=none.hazards, rejects=rejects
        )
    for category, path, system in inputs.hazards:
        hazards, rejects = hazards_from_file(
            path, category=category, id_field=id_field, coords=system, categories=categories
        )
        refuse_if_empty("hazards", path, hazards, [layers.rejects, rejects], out)
        layers = layers + Layers(
            schools=none.schools, entrances=none.entrances, hazards=hazards, rejects=rejects
        )
    return add_registry_and_roster(
        layers,
        registry_files=[p for p, _ in inputs.registry],
        registry_systems=[system for _, system in inputs.registry],
        roster_file=inputs.roster[0][0] if inputs.roster else None,
        roster_system=inputs.roster[0][1] if inputs.roster else None,
        out=out,
        admin=read_admin(inputs.admin[0]) if inputs.admin else None,
        categories=categories,
    )


def refuse_if_empty(
    what: str, path: Path, kept: gpd.GeoDataFrame, every: list[pd.DataFrame], out: Path
) -> None:
    """Stop (exit 2) when a file given for `what` has no usable row left, rejects written first.

    Raises
    ------
    InputDataError
        Naming the file, the number of rejected rows and the first of them
        (row, column, reason); OUT/rejects.csv holds them all.
    """
    import pandas as pd

    from campus_geo._errors import InputDataError

    if len(kept):
        return
    rejects = pd.concat([r for r in every if len(r)]) if any(len(r) for r in every) else every[0]
    own = rejects[rejects["file"].astype(str) == str(path)] if len(rejects) else rejects
    where = write_rejects(rejects, out)
    first = own.iloc[0] if len(own) else None
    example = (
        f"; e.g. row {first['row']}, column {first['column']}: {first['reason']}"
        if first is not None
        else ""
    )
    msg = (
        f"{path}: no usable {what} left: all {len(own)} row(s) rejected{example}. Every rejected "
        f"row is in {where} (file, row, column, reason); fix them and run again"
    )
    raise InputDataError(msg)


def require_layers(layers: Layers, inputs: Inputs, out: Path) -> None:
    """Stop when no school or no hazard is left, naming the files given (rejects written).

    Raises
    ------
    click.UsageError
        No source of schools (or hazards) was given at all.
    InputDataError
        Sources were given but left nothing usable.
    """
    from campus_geo._errors import InputDataError

    for what, layer, files, options in (
        (
            "schools",
            layers.schools,
            [*inputs.osm, *(p for p, _ in inputs.schools), *(p for p, _ in inputs.roster)],
            "--osm FILE, --schools FILE and/or --roster FILE",
        ),
        (
            "hazards",
            layers.hazards,
            [*inputs.osm, *(p for _, p, _ in inputs.hazards), *(p for p, _ in inputs.registry)],
            "--osm FILE, --hazards CATEGORY=FILE and/or --registry FILE",
        ),
    ):
        if len(layer):
            continue
        if not files:
            raise click.UsageError(f"no {what} given: pass {options}")
        where = (
            f"; every rejected row is in {write_rejects(layers.rejects, out)}"
            if len(layers.rejects)
            else ""
        )
        msg = (
            f"no usable {what} in {', '.join(map(str, files))}: none of their rows and features "
            f"is a {what[:-1]} that can be screened{where}; add {options} with {what}"
        )
        raise InputDataError(msg)


def check_sources_match(findings: pd.DataFrame, findings_file: Path, layers: Layers) -> None:
    """Refuse sources that share no school or hazard with the findings; warn of a partial match.

    The evidence sheets hash every source given as an input of the findings:
    a file from another screening must not be certified as one.

    Raises
    ------
    InputDataError
        None of the findings' schools (or hazards) is in the sources given.
    """
    import pandas as pd

    from campus_geo._errors import CampusGeoWarning, InputDataError, warn_data

    if not len(findings):
        return
    for what, column, layer, options in (
        ("schools", "school_id", layers.schools, "--osm, --schools, --roster"),
        ("hazards", "hazard_id", layers.hazards, "--osm, --hazards, --registry"),
    ):
        if not len(layer) or column not in findings.columns:
            continue
        ids = pd.Index(findings[column].astype(str).unique())
        missing = ids.difference(layer.index.astype(str))
        if len(missing) == len(ids):
            msg = (
                f"{findings_file}: none of the {len(ids)} {what} of these findings (e.g. "
                f"{', '.join(missing[:3])}) is in the sources given ({options}): the findings come "
                "from another screening or other files. Give the files that were screened, or "
                f"leave out the {what} sources"
            )
            raise InputDataError(msg)
        if len(missing):
            warn_data(
                log,
                f"{findings_file}: {len(missing)} of the {len(ids)} {what} of these findings are "
                f"not in the sources given: {', '.join(missing[:10])}; their sheets lack the "
                "source's details (were the sources changed since the screening?)",
                CampusGeoWarning,
                stacklevel=None,
            )


# ---------------------------------------------------------------------------
# project files

_PROJECT_KEYS: Final = (
    "osm",
    "schools",
    "hazards",
    "registry",
    "roster",
    "admin",
    "cameras",
    "school_checklist",
    "water_checklist",
)
#: Sections whose files have no coordinates (the checklist registers) or declare their own.
_NO_COORDS: Final = ("osm", "admin", "school_checklist", "water_checklist")
#: Keys of an entry besides path and coords, by section.
_EXTRA_KEYS: Final = {"hazards": {"category"}, "admin": {"township_field", "village_field"}}


@dataclass
class Inputs:
    """Every input of one screening with its declared coordinate system."""

    osm: list[Path] = field(default_factory=list)
    schools: list[tuple[Path, str | None]] = field(default_factory=list)
    hazards: list[tuple[str | None, Path, str | None]] = field(default_factory=list)
    registry: list[tuple[Path, str | None]] = field(default_factory=list)
    roster: list[tuple[Path, str | None]] = field(default_factory=list)
    admin: list[AdminChoice] = field(default_factory=list)
    cameras: list[tuple[Path, str | None]] = field(default_factory=list)
    school_checklist: list[Path] = field(default_factory=list)
    water_checklist: list[Path] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        """Every input file (for the evidence sheets' hashes)."""
        return [
            *self.osm,
            *(p for p, _ in self.schools),
            *(p for _, p, _ in self.hazards),
            *(p for p, _ in self.registry),
            *(p for p, _ in self.roster),
            *(a.path for a in self.admin if a.path is not None),
            *(p for p, _ in self.cameras),
            *self.school_checklist,
            *self.water_checklist,
        ]


def _entries(project: Path, key: str, value: Any) -> list[dict[str, Any]]:
    tables = value if isinstance(value, list) else [value]
    for i, table in enumerate(tables):
        where = f"{project}: [{key}] entry {i + 1}"
        if not isinstance(table, dict) or "path" not in table:
            msg = f'{where} needs a path, e.g. path = "data/{key}.csv"'
            raise click.UsageError(msg)
        bad = [
            k
            for k in ("path", "coords", "category")
            if k in table and not isinstance(table[k], str)
        ]
        if bad:
            msg = f'{where}: {bad[0]} must be text in quotes, e.g. {bad[0]} = "..."'
            raise click.UsageError(msg)
        allowed = {"path", "coords", *_EXTRA_KEYS.get(key, ())}
        unknown = set(table) - allowed
        if unknown:
            msg = (
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected path, coords "
                "(and category for hazards, township_field and village_field for admin)"
            )
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

        [admin]
        path = "乡镇村界.gpkg"
        township_field = "XZMC"   # optional: detected when absent

        [[cameras]]
        path = "雪亮工程点位.xlsx"
        coords = "gcj02"

        [school_checklist]
        path = "五个百分之百.xlsx"

        [water_checklist]
        path = "重点水域检查.xlsx"

    Paths are relative to the project file's folder. ``coords`` is required for
    every table input (schools, hazards, registry, roster): a project file
    declares every system, nothing is assumed. The ``admin`` areas are a GIS
    file with its own CRS: ``coords`` only for one traced on Amap or Baidu.
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
            if key not in _NO_COORDS and system is None:
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
            _add(inputs, key, entry, path, canonical)
    return inputs


def _add(inputs: Inputs, key: str, entry: dict[str, Any], path: Path, system: str) -> None:
    """One project entry into its list of `inputs`."""
    if key == "admin":
        township, village = entry.get("township_field"), entry.get("village_field")
        inputs.admin.append(AdminChoice(path, township, village, system))
    elif key == "hazards":
        inputs.hazards.append((entry.get("category"), path, system))
    elif key in ("osm", "school_checklist", "water_checklist"):
        getattr(inputs, key).append(path)
    else:  # schools, registry, roster, cameras
        getattr(inputs, key).append((path, system))


def gather_inputs(
    ctx: click.Context,
    *,
    osm_files: tuple[Path, ...],
    schools_file: Path | None,
    specs: list[tuple[str | None, Path]],
    registry_files: tuple[Path, ...],
    roster_file: Path | None,
    project: Path | None,
    admin: AdminChoice | None = None,
) -> Inputs:
    """The command line's inputs with their declared systems, then the project file's."""
    systems = input_systems(ctx)
    if admin is not None and admin.path is not None:
        # a GIS file declares its CRS: only its own --coords counts, not a leading default
        admin = replace(admin, system=systems.declared.get("--admin", [None])[0])
    inputs = Inputs(
        osm=list(osm_files),
        # undeclared (None): a GIS file's CRS declares it; a table in China is refused
        schools=[(schools_file, systems.of("--schools"))] if schools_file else [],
        hazards=[(c, p, systems.of("--hazards", k)) for k, (c, p) in enumerate(specs)],
        registry=[(p, systems.of("--registry", k)) for k, p in enumerate(registry_files)],
        roster=[(roster_file, systems.of("--roster"))] if roster_file else [],
        admin=[admin] if admin is not None and admin.path is not None else [],
    )
    if project is not None:
        more = read_project(project)
        inputs.osm += more.osm
        inputs.schools += more.schools
        inputs.hazards += more.hazards
        inputs.registry += more.registry
        inputs.roster += more.roster
        inputs.admin += more.admin
        inputs.cameras += more.cameras
        inputs.school_checklist += more.school_checklist
        inputs.water_checklist += more.water_checklist
    for key in ("schools", "roster", "admin", "school_checklist", "water_checklist"):
        if len(getattr(inputs, key)) > 1:
            msg = f"one {key} file per screening (given {len(getattr(inputs, key))})"
            raise click.UsageError(msg)
    return inputs


# ---------------------------------------------------------------------------
# the input options of `screen` and `form`

#: Help of the input options: (screen's, form's: the same inputs named again).
SOURCE_HELP = {
    "osm": (
        "OpenStreetMap XML (.osm, .osm.bz2): schools, gates and classified hazards. Repeatable.",
        "The OSM file(s) that were screened: outlines, hazard shapes, gates, streets and the "
        "OSM ids, versions and data date for the evidence sheets. Repeatable.",
    ),
    "schools": (
        "Schools: GeoJSON/GPKG/Shapefile/GeoParquet, or CSV/XLSX with lon/lat; needs id and name.",
        "The schools file that was screened (GIS file or CSV/XLSX with lon/lat).",
    ),
    "hazards": (
        "A hazard layer, e.g. internet_cafe=wangba.csv (or FILE with a category column). "
        "Repeatable.",
        "A hazard layer that was screened, as given to `screen`. Repeatable.",
    ),
    "coords": (
        "Coordinate system (wgs84, gcj02, bd09) of the input file given right before it: "
        "--registry wangba.csv --coords gcj02 (Amap/Tencent give gcj02, Baidu bd09, GPS wgs84). "
        "Before every input: the default of the tables that declare none. A CSV/XLSX table of "
        "points in China must declare its system (here, in its header such as 经度(GCJ-02), or "
        "in the project file): an undeclared one is refused.",
        "Coordinate system of the input file given right before it, as for `screen`.",
    ),
}


def source_options(*, again: bool) -> Callable[[F], F]:
    """The input options of `screen` (again=False) and of `form` (again=True: the same files)."""
    which = int(again)
    options = [
        click.option(
            "--osm",
            "osm_files",
            multiple=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help=SOURCE_HELP["osm"][which],
        ),
        click.option(
            "--schools",
            "schools_file",
            type=click.Path(path_type=Path, dir_okay=False),
            help=SOURCE_HELP["schools"][which],
        ),
        click.option(
            "--hazards",
            "hazard_specs",
            multiple=True,
            metavar="CATEGORY=FILE",
            help=SOURCE_HELP["hazards"][which],
        ),
        click.option(
            "--id-field",
            default="id",
            show_default=True,
            help="Id column of --schools/--hazards files.",
        ),
        *(() if again else (project_option,)),
        registry_options,
        admin_options,
        click.option(
            "--coords",
            "coords",
            multiple=True,
            metavar="SYSTEM",
            help=SOURCE_HELP["coords"][which],
        ),
    ]

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate
