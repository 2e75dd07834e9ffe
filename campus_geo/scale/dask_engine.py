"""Screening at province and nation scale: the same findings, on dask-geopandas partitions.

A province has tens of thousands of schools and millions of registered
businesses; a national run about half a million schools. :func:`screen_dask`
runs :func:`campus_geo.screen.screen` on a dask.distributed cluster (a
``LocalCluster`` on this machine by default, any cluster by its scheduler
address) and returns the findings identical to the in-memory path: the same
finding ids, distances, measured lines and order. :func:`screen_dask_to_parquet`
reads GeoParquet and writes the findings as a GeoParquet dataset, so that the
hazards and the findings never have to fit in one process.

How it works
------------
1. **Schools** are cut into spatial partitions: sorted along a Hilbert curve
   (the curve of dask-geopandas' ``spatial_shuffle``) and cut into runs of
   :data:`SCHOOLS_PER_PARTITION` when they are in memory or in a GeoParquet
   file; ``spatial_shuffle`` for a dask-geopandas frame without spatial
   partitions; a frame with spatial partitions is used as it is partitioned.
2. **Reach.** Within each partition the schools are grouped into tiles that
   span at most :data:`TILE_DEG`, so that a partition in which the curve jumps
   between two towns does not reach the country between them. Each tile's
   bounds (its outlines and, for the ``entrance`` profile, its gates) are grown
   by the largest rule distance in degrees with
   :func:`campus_geo.geodesy.degrees_margin`, a bound that over-covers at every
   latitude: the partition's *reach boxes*.
3. **Hazards** stay in their partitions (rows of the input, or the row groups
   of a GeoParquet file or dataset; a dataset written by :func:`partition_layer`
   is spatially partitioned, and a hazard partition whose stored bounds meet no
   reach box is never read). Each hazard partition is routed once: every row
   whose bounds meet one of a school partition's reach boxes (edges included,
   so a venue exactly on an edge is kept) goes to that school partition. A
   hazard near two partitions goes to both; a finding belongs to one school,
   hence to one partition, so nothing is counted twice.
4. **Screening.** ``screen()`` runs on each school partition with the hazards
   routed to it and the rule table resolved once for the whole layer. Its
   candidates for a school are the hazards whose bounds meet the school's box
   grown by the school's own margin; that box lies inside its tile's reach box
   (the tile's bounds hold the school's, and the tile's margin is at least the
   school's), so every school gets exactly the candidates it gets in memory, and
   each pair is measured by the same code on the same coordinates: the
   findings are the same to the bit.
5. **Order.** Findings are ordered as ``screen()`` orders them: by school input
   position, rule, distance, then hazard input position (for a dask input: by
   partition, then row).

Why hazards are routed, not spatially shuffled, on every run: a shuffle sorts
and moves every hazard between workers, while routing reads each hazard once
and moves only those some school can reach. Spatially partition the hazards
once with :func:`partition_layer` when the same layer is screened every month.
"""

from __future__ import annotations

import logging
import math
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeAlias

import dask
import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from dask.delayed import Delayed

from campus_geo._errors import InputDataError
from campus_geo._validate import validate_entrances, validate_hazards, validate_schools
from campus_geo.adapters.dask import meta_of
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine import STRAIGHT_PROFILES, empty_findings, resolve_rules, screening_categories
from campus_geo.engine.findings import CODED_COLUMNS
from campus_geo.geodesy import degrees_margin
from campus_geo.rules import Rule
from campus_geo.scale.tasks import (
    HELPERS,
    POS,
    SORT,
    TILE_DEG,
    FloatArray,
    IntArray,
    canonical,
    empty_partition,
    flat,
    numbered_schools,
    require_straight,
    route,
    school_meta,
    school_partition,
    school_tiles,
    screen_partition,
    write_part,
)
from campus_geo.settings import DEFAULT_CRS

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_WORKERS",
    "HAZARDS_PER_PARTITION",
    "SCHOOLS_PER_PARTITION",
    "STRAIGHT_PROFILES",
    "TILE_DEG",
    "partition_layer",
    "reach_box",
    "read_layer",
    "save_findings_parquet",
    "screen_dask",
    "screen_dask_to_parquet",
]

log = logging.getLogger(__name__)

#: Worker processes of the LocalCluster started when no scheduler is given.
DEFAULT_WORKERS: Final = 2
#: Schools per partition: one screening task each (25 tasks for a province of 50,000).
SCHOOLS_PER_PARTITION: Final = 2_000
#: Hazards per partition when the hazards are given in memory (one routing task each).
HAZARDS_PER_PARTITION: Final = 500_000
#: How long to try to reach a scheduler given by address.
CONNECT_TIMEOUT: Final = "10s"

#: A layer: in memory, a dask-geopandas frame, or the path of a GeoParquet file or folder.
Layer: TypeAlias = gpd.GeoDataFrame | dask_geopandas.GeoDataFrame | str | Path


# ----------------------------------------------------------------------------- geometry


def reach_box(
    bounds: FloatArray | Sequence[float], dist: float
) -> tuple[float, float, float, float]:
    """Box (lon/lat degrees) that holds everything within `dist` metres of `bounds`.

    The bounds are grown with :func:`campus_geo.geodesy.degrees_margin`, which
    over-covers on the WGS 84 ellipsoid at every latitude.

    Parameters
    ----------
    bounds
        minx, miny, maxx, maxy in degrees (EPSG:4326).
    dist
        Distance in metres on the WGS 84 ellipsoid.

    Examples
    --------
    >>> box = reach_box([113.85, 34.05, 113.86, 34.06], 200.0)
    >>> [round(v, 5) for v in box]
    [113.84778, 34.04818, 113.86222, 34.06182]
    """
    b = np.asarray(bounds, dtype=np.float64)
    dlon, dlat = degrees_margin(dist, b)
    return (
        float(b[0] - dlon[0]),
        float(b[1] - dlat[0]),
        float(b[2] + dlon[0]),
        float(b[3] + dlat[0]),
    )


def _total_bounds(geoms: npt.NDArray[np.object_]) -> FloatArray:
    b = shapely.bounds(geoms)
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def _meets(bounds: FloatArray, box: Sequence[float]) -> npt.NDArray[np.bool_]:
    """Rows of `bounds` (n, 4) whose box meets `box`, edges included (like STRtree)."""
    return (
        (bounds[:, 0] <= box[2])
        & (bounds[:, 2] >= box[0])
        & (bounds[:, 1] <= box[3])
        & (bounds[:, 3] >= box[1])
    )


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Parts:
    """A layer as partitions: data (GeoDataFrames or Delayed) and known EPSG:4326 bounds."""

    data: list[Any]
    bounds: list[FloatArray | None]


def _read(layer: Layer) -> gpd.GeoDataFrame | dask_geopandas.GeoDataFrame:
    if isinstance(layer, str | Path):
        path = Path(layer)
        if not path.exists():
            msg = f"GeoParquet file or folder {path} does not exist; check the path"
            raise InputDataError(msg)
        # one partition per row group (about a million rows each in files written by
        # geopandas), read on the workers: never the whole layer in this process
        return dask_geopandas.read_parquet(path, split_row_groups=True)
    return layer


def _read_whole(path: str | Path) -> gpd.GeoDataFrame:
    if not Path(path).exists():
        msg = f"GeoParquet file or folder {path} does not exist; check the path"
        raise InputDataError(msg)
    return gpd.read_parquet(path)


def read_layer(filepath: str | Path, *, id_name: str) -> gpd.GeoDataFrame:
    """Read a canonical layer stored as GeoParquet (a file, or a folder of parts) into memory.

    Parameters
    ----------
    filepath
        GeoParquet file or folder (e.g. written by :func:`partition_layer`).
    id_name
        ``"school_id"`` or ``"hazard_id"``: the index, or a column made the index.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer indexed by `id_name`, in its stored CRS.
    """
    return canonical(_read_whole(filepath), id_name)


def _dask_bounds(ddf: dask_geopandas.GeoDataFrame) -> list[FloatArray | None]:
    """Bounds of each partition from its spatial partitions (GeoParquet bbox metadata)."""
    sp = ddf.spatial_partitions
    if sp is None or ddf.crs is None or not ddf.crs.equals(DEFAULT_CRS):
        return [None] * ddf.npartitions  # unknown: every school partition is checked
    return [np.asarray(b, dtype=np.float64) for b in shapely.bounds(np.asarray(sp.values))]


def _hilbert_chunks(schools: gpd.GeoDataFrame, size: int) -> list[IntArray]:
    """Row positions of chunks of `size` schools, consecutive along a Hilbert curve.

    The curve is the one dask-geopandas' ``spatial_shuffle`` sorts by. A chunk
    may still hold two distant towns where the curve jumps; the hazards are
    routed by the chunk's tiles (:func:`school_tiles`), not by its bounds.
    """
    count = max(1, math.ceil(len(schools) / size))
    distance = schools.geometry.hilbert_distance(level=16).to_numpy()
    order = np.argsort(distance, kind="stable")
    return [np.sort(chunk) for chunk in np.array_split(order, count)]


def _school_parts(schools: Layer, size: int) -> list[Any]:
    """School partitions: GeoDataFrames, or Delayed for a dask frame (ids checked unique).

    A GeoParquet file of schools is read here whole: half a million schools (a
    national run) take a few hundred MB, and in one piece they are validated
    as a whole and cut along the Hilbert curve without a dask shuffle. A
    dask-geopandas frame with spatial partitions is used as it is partitioned.
    """
    layer = _read_whole(schools) if isinstance(schools, str | Path) else schools
    if isinstance(layer, gpd.GeoDataFrame):
        checked = validate_schools(canonical(layer, "school_id"))
        checked = checked.assign(**{POS: np.arange(len(checked), dtype=np.int64)})
        return [checked.iloc[rows] for rows in _hilbert_chunks(checked, size)]
    _scan(layer, "school_id", "schools")
    if layer.spatial_partitions is None or layer.npartitions == 1:
        # positions first: they record the input order that the shuffle loses
        numbered = layer.map_partitions(numbered_schools, meta=school_meta(meta_of(layer)))
        count = max(1, math.ceil(len(numbered) / size))
        layer = numbered.reset_index().spatial_shuffle(npartitions=count)
    delayed = layer.to_delayed(optimize_graph=True)
    return [dask.delayed(school_partition)(p, i) for i, p in enumerate(delayed)]


def _hazard_parts(
    hazards: Layer, size: int, categories: tuple[str, ...]
) -> tuple[_Parts, list[str]]:
    """Hazard partitions and the sorted categories present (ids checked unique)."""
    layer = _read(hazards)
    if isinstance(layer, gpd.GeoDataFrame):
        checked = validate_hazards(canonical(layer, "hazard_id"), categories=categories)
        checked = checked.assign(**{POS: np.arange(len(checked), dtype=np.int64)})
        count = max(1, math.ceil(len(checked) / size))
        chunks = [checked.iloc[rows] for rows in np.array_split(np.arange(len(checked)), count)]
        parts = _Parts(chunks, [_total_bounds(c.geometry.values) for c in chunks])
        return parts, sorted(checked["category"].unique())
    present = _scan(layer, "hazard_id", "hazards", categories=True)
    return _Parts(list(layer.to_delayed(optimize_graph=True)), _dask_bounds(layer)), present


def _scan(
    ddf: dask_geopandas.GeoDataFrame, id_name: str, name: str, *, categories: bool = False
) -> list[str]:
    """Check a dask layer's ids are unique; return its sorted categories when asked.

    One pass over the id (and category) column; the ids are counted in
    hash partitions, so no process holds them all.
    """
    # the ids as `canonical` takes them: a column of that name, else the index
    by_column = ddf.index.name != id_name and id_name in ddf.columns
    ids = ddf[id_name] if by_column else ddf.index.to_series()
    counts = ids.value_counts(split_out=max(1, ddf.npartitions // 4))
    wanted = [counts[counts > 1].head(10, npartitions=-1, compute=False)]
    categories = categories and "category" in ddf.columns  # else validation names it
    if categories:
        wanted.append(ddf["category"].drop_duplicates())
    found = dask.compute(*wanted)
    if len(found[0]):
        msg = (
            f"`{name}` has duplicate {id_name} values: {', '.join(map(str, found[0].index))}; "
            "ids must be unique (deduplicate the rows or choose another id column)"
        )
        raise InputDataError(msg)
    return sorted(str(c) for c in found[1]) if categories else []


# ----------------------------------------------------------------------------- graph


@dataclass(frozen=True)
class _Plan:
    tasks: list[Delayed]
    rules: list[Rule]
    n_schools: int
    n_routed: int


def _plan(
    client: Any,
    schools: Layer,
    hazards: Layer,
    *,
    rules: Sequence[Rule] | str | Path | None,
    profile: str | None,
    dist: float | None,
    entrances: gpd.GeoDataFrame | str | Path | None,
    schools_per_partition: int,
    hazards_per_partition: int,
    categories: CategoryRegistry | None = None,
    context: bool = False,
) -> _Plan:
    """Build the task graph: one screening task per school partition."""
    table, registry = screening_categories(rules, categories)
    school_parts = _school_parts(schools, schools_per_partition)
    hazard_parts, present = _hazard_parts(hazards, hazards_per_partition, registry.keys)
    skip = () if context else registry.context_keys  # water, traffic, cameras: context
    rule_list = resolve_rules(table, profile, dist, present, skip)
    require_straight(rule_list, "the dask engine", "screen those rules in memory (--engine memory)")
    reach = max((rule.distance_m for rule in rule_list), default=0.0)
    gates = None
    if entrances is not None:
        ent = _read_whole(entrances) if isinstance(entrances, str | Path) else entrances
        gates = validate_entrances(ent)

    # school partitions live on the cluster; their reach boxes come back (4 numbers each)
    school_data = [
        client.persist(part) if isinstance(part, Delayed) else client.scatter(part)
        for part in school_parts
    ]
    gates_data = client.scatter(gates, broadcast=True) if gates is not None else None
    reach_boxes = client.gather(
        client.compute([dask.delayed(school_tiles)(s, gates_data, reach) for s in school_data])
    )
    tiles = np.concatenate(reach_boxes).reshape(-1, 4)
    owner = np.repeat(np.arange(len(reach_boxes)), [len(t) for t in reach_boxes])
    hazard_data = [
        part if isinstance(part, Delayed) else client.scatter(part) for part in hazard_parts.data
    ]

    buckets: list[list[Delayed]] = [[] for _ in school_data]
    routed = 0
    for j, (part, known) in enumerate(zip(hazard_data, hazard_parts.bounds, strict=True)):
        near = (
            np.ones(len(tiles), dtype=bool)
            if known is None
            else _meets(tiles, (known[0], known[1], known[2], known[3]))
        )
        targets = np.unique(owner[near])
        if not targets.size:
            continue  # no school reaches this partition: it is never read
        routed += 1
        split = dask.delayed(route, nout=int(targets.size))(
            part, j, tiles[near], owner[near], targets, registry.keys
        )
        for i, bucket in zip(targets, split, strict=True):
            buckets[int(i)].append(bucket)
    tasks = [
        dask.delayed(screen_partition)(s, buckets[i], gates_data, rule_list, registry)
        for i, s in enumerate(school_data)
    ]
    log.info(
        "%d school partitions (%d reach boxes); %d of %d hazard partitions within reach (%g m)",
        len(tasks),
        len(tiles),
        routed,
        len(hazard_parts.data),
        reach,
    )
    return _Plan(tasks, rule_list, len(tasks), routed)


def _task_shuffle() -> dask.config.set:
    """Use dask's task-based shuffle: plain tasks, no peer-to-peer extension (or its log noise)."""
    return dask.config.set({"dataframe.shuffle.method": "tasks"})


@contextmanager
def _client(scheduler: Any, n_workers: int) -> Iterator[Any]:
    """A dask.distributed Client: the one given, one connected to an address, or a LocalCluster."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        with _task_shuffle():
            yield scheduler
        return
    if isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            msg = (
                f"cannot reach the dask scheduler at {scheduler!r} ({exc}); start one with "
                "`dask scheduler` and `dask worker ADDRESS`, or leave --scheduler out to use "
                "a LocalCluster on this machine"
            )
            raise InputDataError(msg) from exc
        with client, _task_shuffle():
            yield client
        return
    # its HTTP endpoint on a free local port: no clash with another cluster's 8787
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
        _task_shuffle(),
    ):
        yield client


def _ordered(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Concatenate partition findings in the order of ``screen()``; drop the helper columns.

    Empties `frames` as it goes, so that the partitions do not outlive their copy.
    """
    found = [f for f in frames if len(f)]
    frames.clear()
    if not found:
        return empty_findings()
    if len(found) > 1:
        # a school's texts and the category are categoricals of the texts each partition
        # found (engine.findings.CodedTexts.column): the union of those, sorted, is what
        # screen() of all the schools gives; concat keeps categoricals of equal categories
        for name in CODED_COLUMNS:
            categories = found[0][name].cat.categories
            for f in found[1:]:
                categories = categories.union(f[name].cat.categories)  # sorted
            for f in found:
                f[name] = f[name].cat.set_categories(categories)
    findings = pd.concat(found) if len(found) > 1 else found[0]
    found.clear()
    order = np.lexsort(tuple(findings[c].to_numpy() for c in reversed(SORT)))
    return gpd.GeoDataFrame(
        findings.iloc[order].drop(columns=HELPERS), geometry="geometry", crs=DEFAULT_CRS
    )


# ----------------------------------------------------------------------------- public


def screen_dask(
    schools: Layer,
    hazards: Layer,
    *,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    entrances: gpd.GeoDataFrame | str | Path | None = None,
    scheduler: Any = None,
    n_workers: int = DEFAULT_WORKERS,
    schools_per_partition: int = SCHOOLS_PER_PARTITION,
    hazards_per_partition: int = HAZARDS_PER_PARTITION,
    categories: CategoryRegistry | None = None,
    context: bool = False,
) -> gpd.GeoDataFrame:
    """Screen on a dask cluster; the findings equal ``screen()``'s, row for row.

    Parameters
    ----------
    schools, hazards
        Canonical layers (see :func:`campus_geo.screen.screen`), each a
        GeoDataFrame, a dask-geopandas GeoDataFrame, or the path of a GeoParquet
        file or folder (read partition by partition on the workers). Ids are the
        index (``school_id``, ``hazard_id``) or a column of that name. Any CRS.
    rules, profile, dist, entrances
        As for :func:`campus_geo.screen.screen`; `dist` in metres on the WGS 84
        ellipsoid. `entrances` may also be a GeoParquet path; it is held in memory
        (a few points per school).
    scheduler
        None for a ``LocalCluster`` of `n_workers` processes on this machine, the
        address of a running dask scheduler (``"tcp://10.0.0.5:8786"``), or a
        ``distributed.Client``.
    n_workers
        Worker processes of the LocalCluster (one thread each).
    schools_per_partition, hazards_per_partition
        Partition sizes (schools; hazards given in memory).
    categories, context
        The hazard categories, and whether the context categories (water,
        traffic points, cameras) are screened too, as for :func:`campus_geo.screen.screen`.

    Returns
    -------
    geopandas.GeoDataFrame
        The findings: the same index, columns, values, geometry and order as
        ``screen(schools, hazards, ...)`` on the same layers in memory. They are
        all gathered into this process; for millions of findings,
        :func:`screen_dask_to_parquet` leaves them on the workers and on disk.

    Raises
    ------
    InputDataError
        Bad layers (as ``screen()``), or a scheduler that cannot be reached.
    """
    with _client(scheduler, n_workers) as client:
        plan = _plan(
            client,
            schools,
            hazards,
            rules=rules,
            profile=profile,
            dist=dist,
            entrances=entrances,
            schools_per_partition=schools_per_partition,
            hazards_per_partition=hazards_per_partition,
            categories=categories,
            context=context,
        )
        frames = client.gather(client.compute(plan.tasks))
    findings = _ordered(frames)
    log.info("dask screening: %d findings from %d school partitions", len(findings), plan.n_schools)
    return findings


def screen_dask_to_parquet(
    schools: Layer,
    hazards: Layer,
    filepath: str | Path,
    *,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    entrances: gpd.GeoDataFrame | str | Path | None = None,
    scheduler: Any = None,
    n_workers: int = DEFAULT_WORKERS,
    schools_per_partition: int = SCHOOLS_PER_PARTITION,
    hazards_per_partition: int = HAZARDS_PER_PARTITION,
    categories: CategoryRegistry | None = None,
    context: bool = False,
) -> int:
    """Screen on a dask cluster and write the findings as a GeoParquet dataset.

    The findings are sorted on the cluster (a dask shuffle) and written by the
    workers as ``filepath/part.00000.parquet``, ``part.00001.parquet`` ...: no
    process holds them all. ``geopandas.read_parquet(filepath)`` reads them back
    as ``screen()`` returns them (index, columns, order), with the rule texts as
    plain strings. Parameters as for :func:`screen_dask`.

    Returns
    -------
    int
        The number of findings written.
    """
    out = Path(filepath)
    if out.exists() and not out.is_dir():
        out.unlink()  # a single-file findings.parquet from an in-memory run
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part.*.parquet"):
        old.unlink()
    with _client(scheduler, n_workers) as client:
        plan = _plan(
            client,
            schools,
            hazards,
            rules=rules,
            profile=profile,
            dist=dist,
            entrances=entrances,
            schools_per_partition=schools_per_partition,
            hazards_per_partition=hazards_per_partition,
            categories=categories,
            context=context,
        )
        # keep the partitions' findings on the workers: the sort reads them twice
        kept = client.persist([dask.delayed(flat)(t) for t in plan.tasks])
        findings = dd.from_delayed(kept, meta=empty_partition(), verify_meta=False)
        ordered = findings.sort_values(SORT, shuffle_method="tasks")
        writes = [
            dask.delayed(write_part)(p, str(out / f"part.{i:05d}.parquet"))
            for i, p in enumerate(ordered.to_delayed(optimize_graph=True))
        ]
        count = int(sum(client.gather(client.compute(writes))))
    log.info("wrote %d findings to %s (%d parts)", count, out, len(writes))
    return count


def save_findings_parquet(findings: gpd.GeoDataFrame, filepath: str | Path) -> Path:
    """Write findings held in memory as one GeoParquet file (rule texts as plain strings).

    ``geopandas.read_parquet`` reads back the index, columns, values and order;
    the same layout as the dataset :func:`screen_dask_to_parquet` writes.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(filepath)
    if path.is_dir():
        shutil.rmtree(path)
    flat(findings).to_parquet(path)
    log.info("wrote %d findings to %s", len(findings), path)
    return path


def partition_layer(
    layer: Layer,
    filepath: str | Path,
    *,
    id_name: str,
    rows_per_partition: int = HAZARDS_PER_PARTITION,
) -> Path:
    """Write a layer as a spatially partitioned GeoParquet dataset (Hilbert order).

    Each file holds spatially close features and records its bounding box in
    its GeoParquet metadata, so :func:`screen_dask` reads only the files some
    school can reach. Worth it for a hazards layer screened again and again.
    The work (a dask-geopandas ``spatial_shuffle``) runs on the current dask
    scheduler: the active ``distributed.Client`` if there is one, else threads.

    Parameters
    ----------
    layer
        A canonical layer (GeoDataFrame, dask-geopandas GeoDataFrame or
        GeoParquet path); converted to EPSG:4326.
    filepath
        Folder to write (``part.00000.parquet`` ...); its old parts are removed.
    id_name
        The id of the layer (``"hazard_id"``, ``"school_id"``): kept as a column.
    rows_per_partition
        Features per file.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    with _task_shuffle():
        return _partition_layer(layer, Path(filepath), id_name, rows_per_partition)


def _partition_layer(layer: Layer, out: Path, id_name: str, rows_per_partition: int) -> Path:
    ddf = _read(layer)
    if isinstance(ddf, gpd.GeoDataFrame):
        ddf = dask_geopandas.from_geopandas(ddf, npartitions=1)
    if ddf.crs is None:
        msg = f"layer for {out} has no CRS; call gdf.set_crs(4326) if it is lon/lat"
        raise InputDataError(msg)
    ddf = ddf.to_crs(DEFAULT_CRS)
    if id_name not in ddf.columns:  # the ids are the index: keep them as a column
        ddf = ddf.map_partitions(canonical, id_name, meta=canonical(meta_of(ddf), id_name))
        ddf = ddf.reset_index()
    count = max(1, math.ceil(len(ddf) / rows_per_partition))
    shuffled = ddf.spatial_shuffle(npartitions=count)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part.*.parquet"):
        old.unlink()
    writes = [
        dask.delayed(_write_layer_part)(p, str(out / f"part.{i:05d}.parquet"))
        for i, p in enumerate(shuffled.to_delayed(optimize_graph=True))
    ]
    dask.compute(*writes)
    log.info("wrote %d features to %s in %d spatial partitions", len(ddf), out, len(writes))
    return out


def _write_layer_part(part: gpd.GeoDataFrame, path: str) -> int:
    gpd.GeoDataFrame(part).to_parquet(path)
    return len(part)
