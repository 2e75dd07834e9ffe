"""The engine options of ``campus-geo screen``: in memory, or on a dask cluster (campus_geo.scale).

``--engine dask`` screens the same layers on dask-geopandas partitions (a
LocalCluster of ``--workers`` processes, or the cluster at ``--scheduler
ADDRESS``) and also writes ``OUT/findings.parquet``. ``--schools-parquet`` and
``--hazards-parquet`` take canonical layers stored as GeoParquet: GeoParquet
in, ``OUT/findings.parquet`` (a folder of parts) out. In memory that is
:func:`campus_geo.stream.screen_to_parquet` (the venues read as coordinates, the
findings written block by block by the worker processes); with ``--engine dask``
neither the hazards nor the findings are ever loaded whole into this process.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from campus_geo._errors import InputDataError
from campus_geo.settings import CATEGORY_LABELS

__all__ = ["save_parquet_copy", "scale_options", "screener"]

F = TypeVar("F", bound=Callable[..., Any])
_KEY = "campus_geo.engine"
FINDINGS_PARQUET = "findings.parquet"


@dataclass(frozen=True)
class _Engine:
    name: str = "memory"
    scheduler: str | None = None
    workers: int | None = None  # None: one per core in memory, scale.DEFAULT_WORKERS on dask
    #: scale.DEFAULT_WORKERS (scale is imported only when used: dask loads slowly)
    dask_default: int = 2

    @property
    def dask_workers(self) -> int:
        return self.workers or self.dask_default


_OPTIONS = [
    click.option(
        "--engine",
        type=click.Choice(["memory", "dask"]),
        default="memory",
        show_default=True,
        help="memory: one process. dask: the same screening on spatial partitions on a dask "
        "cluster (province and nation scale), the same findings; also writes findings.parquet.",
    ),
    click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="With --engine dask: a running dask scheduler (tcp://HOST:8786) instead of a "
        "LocalCluster on this machine.",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes. --engine memory: processes measuring the candidate pairs of "
        "large screenings (default: one per CPU core; the findings are the same for any "
        "number). --engine dask: processes of the LocalCluster (default 2).",
    ),
    click.option(
        "--schools-parquet",
        type=click.Path(path_type=Path, exists=True),
        default=None,
        help="Canonical schools layer as GeoParquet (a file, or a folder of parts written by "
        "campus_geo.scale.partition_layer). Use with --hazards-parquet; writes findings.parquet.",
    ),
    click.option(
        "--hazards-parquet",
        type=click.Path(path_type=Path, exists=True),
        default=None,
        help="Canonical hazards layer as GeoParquet (file or folder); with --engine dask the "
        "workers read it part by part and it never has to fit in this process.",
    ),
]


def _engine() -> _Engine:
    ctx = click.get_current_context(silent=True)
    engine = ctx.meta.get(_KEY) if ctx is not None else None
    return engine if isinstance(engine, _Engine) else _Engine()


def screener(screen: Callable[..., Any]) -> Callable[..., Any]:
    """The screening function of the chosen engine: `screen` itself, or ``scale.screen_dask``."""
    engine = _engine()
    if engine.name != "dask":
        return functools.partial(screen, workers=engine.workers)
    from campus_geo.scale.dask_engine import screen_dask

    def on_dask(schools: Any, hazards: Any, *, network: Any = None, **options: Any) -> Any:
        if network is not None:  # only the walk profile needs the street network
            msg = (
                "the walk profile routes on one street network in one process: "
                "use --engine memory (the dask engine measures straight lines)"
            )
            raise InputDataError(msg)
        return screen_dask(
            schools, hazards, scheduler=engine.scheduler, n_workers=engine.dask_workers, **options
        )

    return on_dask


def save_parquet_copy(findings: Any, out: Path) -> dict[str, Path]:
    """With the dask engine, also write OUT/findings.parquet (rule texts as plain strings)."""
    if _engine().name != "dask":
        return {}
    from campus_geo.scale.dask_engine import save_findings_parquet

    return {"parquet": save_findings_parquet(findings, out / FINDINGS_PARQUET)}


def _summary(path: Path, count: int, sources: str) -> str:
    """Counts by category and schools, streamed from the findings file(s) batch by batch."""
    import pyarrow.dataset as ds

    by_category: Counter[str] = Counter()
    schools: set[str] = set()
    for batch in ds.dataset(path, format="parquet").to_batches(columns=["school_id", "category"]):
        schools.update(batch.column("school_id").to_pylist())
        by_category.update(batch.column("category").to_pylist())
    lines = [f"Screened {sources}: {count} findings at {len(schools)} schools."]
    for category, n in by_category.most_common():
        lines.append(f"  {CATEGORY_LABELS.get(category, (category, ''))[0]} {category}: {n}")
    lines += ["Wrote:", f"  {path}"]
    return "\n".join(lines)


def _run_parquet(engine: _Engine, schools: Path, hazards: Path, options: dict[str, Any]) -> None:
    """GeoParquet in, GeoParquet out: OUT/findings.parquet (a folder of parts) and a summary."""
    out: Path = options["out"]
    out.mkdir(parents=True, exist_ok=True)
    path = out / FINDINGS_PARQUET
    rules = {k: options[k] for k in ("rules", "profile", "dist")}
    if engine.name == "dask":
        from campus_geo.scale import dask_engine as scale

        count = scale.screen_dask_to_parquet(
            schools,
            hazards,
            path,
            scheduler=engine.scheduler,
            n_workers=engine.dask_workers,
            **rules,
        )
        where = engine.scheduler or f"a LocalCluster of {engine.dask_workers} workers"
    else:
        from campus_geo.scale.stream import screen_to_parquet

        count = screen_to_parquet(schools, hazards, path, workers=engine.workers, **rules)
        where = "memory"
    click.echo(_summary(path, count, f"{schools} against {hazards} ({where})"))


def scale_options(func: F) -> F:
    """Add the engine options to `func` (a click command) and run the GeoParquet route."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        engine: str,
        scheduler: str | None,
        workers: int | None,
        schools_parquet: Path | None,
        hazards_parquet: Path | None,
        **kwargs: Any,
    ) -> Any:
        chosen = _Engine(engine, scheduler, workers)
        if scheduler is not None and engine != "dask":
            raise click.UsageError("--scheduler needs --engine dask")
        click.get_current_context().meta[_KEY] = chosen
        if schools_parquet is None and hazards_parquet is None:
            return func(*args, **kwargs)
        if schools_parquet is None or hazards_parquet is None:
            raise click.UsageError("--schools-parquet and --hazards-parquet go together")
        others = {
            "osm_files": "--osm",
            "schools_file": "--schools",
            "hazard_specs": "--hazards",
            "ledger_path": "--ledger",
        }
        mixed = [flag for name, flag in others.items() if kwargs.get(name)]
        if mixed:
            raise click.UsageError(
                f"--schools-parquet/--hazards-parquet cannot be combined with {', '.join(mixed)}"
            )
        _run_parquet(chosen, schools_parquet, hazards_parquet, kwargs)
        return None

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]
