"""The tasks of :mod:`campus_geo.scale` that run on the dask workers.

Module-level functions of plain arguments (they are pickled to worker
processes): number and validate partitions, tile schools into reach boxes,
route hazard partitions to the school partitions they can reach, run
``screen()`` on one school partition, and write findings. See
:mod:`campus_geo.scale.dask_engine` for why the result equals the in-memory screening.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo._validate import validate_hazards, validate_schools
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine import STRAIGHT_PROFILES, canonical  # the engines outside screen()
from campus_geo.geodesy import degrees_margin
from campus_geo.rules import Rule
from campus_geo.screen import CSV_COLUMNS, screen
from campus_geo.settings import CATEGORIES, DEFAULT_CRS

__all__ = [
    "FLOAT_COLUMNS",
    "HELPERS",
    "PART_BITS",
    "POS",
    "SORT",
    "TILE_DEG",
    "canonical",
    "empty_partition",
    "flat",
    "numbered_schools",
    "positions",
    "route",
    "school_meta",
    "school_partition",
    "school_tiles",
    "screen_partition",
    "tile_groups",
    "write_part",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Hazards are routed to the school partitions by reach boxes around tiles of schools
#: spanning at most this many degrees (0.05: about 5 km).
TILE_DEG: Final = 0.05

POS: Final = "_pos"  # input position of a school or hazard (see positions)
SORT: Final = ["_school_pos", "_rule_pos", "distance_m", "_hazard_pos"]
HELPERS: Final = [c for c in SORT if c != "distance_m"]
FLOAT_COLUMNS: Final = ("threshold_m", "distance_m", *CSV_COLUMNS[-4:])
PART_BITS: Final = 32  # position = partition << 32 | row: orders like the concatenation


def positions(part: gpd.GeoDataFrame, number: int) -> gpd.GeoDataFrame:
    """Add the input position (partition << 32 | row) unless the partition has one."""
    if POS in part.columns:
        return part
    return part.assign(**{POS: (number << PART_BITS) + np.arange(len(part), dtype=np.int64)})


def school_partition(part: pd.DataFrame, number: int) -> gpd.GeoDataFrame:
    """One partition of schools with its partition number in the helper columns."""
    schools = canonical(part, "school_id")
    if len(schools):  # a filtered or shuffled dask frame may have empty partitions
        schools = validate_schools(schools, name=f"schools partition {number}")
    return positions(schools, number)


def numbered_schools(
    part: pd.DataFrame, partition_info: dict[str, Any] | None = None
) -> gpd.GeoDataFrame:
    """:func:`school_partition` as a dask ``map_partitions`` function."""
    return school_partition(part, partition_info["number"] if partition_info else 0)


def school_meta(meta: pd.DataFrame) -> gpd.GeoDataFrame:
    """The (empty) dask meta of :func:`school_partition`'s output."""
    return positions(canonical(meta, "school_id"), 0)


def tile_groups(bounds: FloatArray) -> list[IntArray]:
    """Rows grouped into tiles whose boxes span at most :data:`TILE_DEG` (or single rows).

    Rows are sorted along a Hilbert curve over their extent and the runs are
    halved until they are small enough, so a tile holds neighbours.
    """
    n = len(bounds)
    centres = shapely.points(
        0.5 * (bounds[:, 0] + bounds[:, 2]), 0.5 * (bounds[:, 1] + bounds[:, 3])
    )
    order = np.argsort(gpd.GeoSeries(centres).hilbert_distance(level=16).to_numpy(), kind="stable")
    b = bounds[order]
    groups: list[IntArray] = []
    pending = [(0, n)]
    while pending:
        lo, hi = pending.pop()
        span = max(b[lo:hi, 2].max() - b[lo:hi, 0].min(), b[lo:hi, 3].max() - b[lo:hi, 1].min())
        if span > TILE_DEG and hi - lo > 1:
            mid = (lo + hi) // 2
            pending += [(mid, hi), (lo, mid)]
        else:
            groups.append(order[lo:hi])
    return groups


def school_tiles(
    schools: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None, dist: float
) -> FloatArray:
    """Reach boxes (k, 4) of a school partition: tiles of its outlines and gates, grown by `dist`.

    Each box holds everything within `dist` metres of its schools (and of their
    gates, from which the ``entrance`` profile measures).
    """
    if not len(schools):
        return np.empty((0, 4))
    bounds = shapely.bounds(np.asarray(schools.geometry.values, dtype=object))
    if entrances is not None and len(entrances):
        mine = entrances[entrances["school_id"].isin(schools.index)]
        owner = schools.index.get_indexer(mine["school_id"])
        gate = shapely.bounds(np.asarray(mine.geometry.values, dtype=object))
        np.minimum.at(bounds[:, 0], owner, gate[:, 0])
        np.minimum.at(bounds[:, 1], owner, gate[:, 1])
        np.maximum.at(bounds[:, 2], owner, gate[:, 2])
        np.maximum.at(bounds[:, 3], owner, gate[:, 3])
    tiles = np.array(
        [
            [b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()]
            for b in (bounds[rows] for rows in tile_groups(bounds))
        ]
    ).reshape(-1, 4)
    dlon, dlat = degrees_margin(dist, tiles)
    return np.column_stack(
        [tiles[:, 0] - dlon, tiles[:, 1] - dlat, tiles[:, 2] + dlon, tiles[:, 3] + dlat]
    )


def require_straight(rules: list[Rule], engine: str, advice: str) -> None:
    """Refuse rules whose profile is not a straight line (walk), saying what to do instead."""
    other = sorted({r.profile for r in rules} - set(STRAIGHT_PROFILES))
    if other:
        msg = (
            f"{engine} measures straight lines ({', '.join(STRAIGHT_PROFILES)}); the rules "
            f"use the {', '.join(other)} profile, which walks one street network in one "
            f"process: {advice}"
        )
        raise InputDataError(msg)


def route(
    part: pd.DataFrame,
    number: int,
    tiles: FloatArray,
    owner: IntArray,
    targets: IntArray,
    categories: Sequence[str] = CATEGORIES,
) -> tuple[gpd.GeoDataFrame, ...]:
    """Validate one hazard partition and split it among the school partitions it reaches.

    A hazard goes to each target school partition one of whose reach boxes
    (`tiles`, owned by partition `owner`) its bounds meet, edges included: an
    STRtree over the boxes, the same closed box test as screen's candidates.
    """
    hazards = canonical(part, "hazard_id")
    if not len(hazards):
        return tuple(hazards for _ in targets)
    hazards = validate_hazards(hazards, name=f"hazards partition {number}", categories=categories)
    # only what screen() reads of a hazard travels: name, category, geometry, position
    kept = [c for c in ("name", "category") if c in hazards.columns]
    hazards = positions(hazards, number)[[*kept, POS, hazards.geometry.name]]
    tree = shapely.STRtree(shapely.box(tiles[:, 0], tiles[:, 1], tiles[:, 2], tiles[:, 3]))
    rows, tile = tree.query(hazards.geometry.values)
    target = np.searchsorted(targets, owner[tile])
    # each (target, hazard) once, by target then input order
    key = np.unique(target * np.int64(len(hazards)) + rows)
    target, rows = key // len(hazards), key % len(hazards)
    cuts = np.searchsorted(target, np.arange(len(targets) + 1))
    return tuple(hazards.iloc[rows[cuts[k] : cuts[k + 1]]] for k in range(len(targets)))


def screen_partition(
    schools: gpd.GeoDataFrame,
    buckets: list[gpd.GeoDataFrame],
    entrances: gpd.GeoDataFrame | None,
    rules: list[Rule],
    categories: CategoryRegistry | None = None,
) -> gpd.GeoDataFrame:
    """``screen()`` on one school partition with the hazards routed to it."""
    parts = [b for b in buckets if len(b)]
    if not parts or not len(schools):
        return empty_partition()
    hazards = gpd.GeoDataFrame(pd.concat(parts), crs=DEFAULT_CRS)
    # one process per partition: the cluster spreads the partitions over its workers
    # the rules were resolved by the plan (context categories already left out or kept)
    findings = screen(
        schools,
        hazards,
        rules=rules,
        entrances=entrances,
        workers=1,
        categories=categories,
        context=True,
    )
    if not len(findings):
        return empty_partition()
    rule_pos = {rule.id: i for i, rule in enumerate(rules)}
    return findings.assign(
        _school_pos=schools[POS].to_numpy()[schools.index.get_indexer(findings["school_id"])],
        _rule_pos=findings["rule_id"].map(rule_pos).to_numpy(dtype=np.int64),
        _hazard_pos=hazards[POS].to_numpy()[hazards.index.get_indexer(findings["hazard_id"])],
    )


def empty_partition() -> gpd.GeoDataFrame:
    """No findings, with the columns and dtypes of :func:`flat` output (the dask meta)."""
    index = pd.Index([], dtype="str", name="finding_id")
    columns = {
        c: pd.Series(dtype=np.float64 if c in FLOAT_COLUMNS else "str", index=index)
        for c in CSV_COLUMNS[1:]
    }
    empty = gpd.GeoDataFrame(
        columns, geometry=gpd.GeoSeries([], crs=DEFAULT_CRS, index=index), crs=DEFAULT_CRS
    )
    return empty.assign(**{c: np.empty(0, dtype=np.int64) for c in HELPERS})


def flat(findings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Findings with plain string columns (rule texts are categoricals in memory)."""
    cats = [c for c in findings.columns if isinstance(findings[c].dtype, pd.CategoricalDtype)]
    return findings.astype(dict.fromkeys(cats, "str")) if cats else findings


def write_part(part: gpd.GeoDataFrame, path: str) -> int:
    """Write one partition of findings (helper columns dropped) to `path`; its row count."""
    gpd.GeoDataFrame(part.drop(columns=HELPERS)).to_parquet(path)
    return len(part)
