"""Province-scale screening on one machine: GeoParquet in, GeoParquet out, block by block.

:func:`screen_to_parquet` finds the same findings as :func:`campus_geo.screen.screen`
(same ids, distances, end points, measured lines and order) and writes them as a
GeoParquet dataset, the layout of :func:`campus_geo.scale.screen_dask_to_parquet`:
``geopandas.read_parquet(path)`` gives what ``screen()`` returns, with the rule
texts as plain strings.

Why a second entry point: a province is tens of thousands of schools and
millions of venues. ``screen()`` returns a GeoDataFrame, whose geometry column
holds one GEOS object per finding: at five million findings that is about 2.5
GiB of measured lines (about 500 bytes each) built one after another in one
process, and loading the venues with ``geopandas.read_parquet`` creates a GEOS
point per venue first (3 s and 1.9 GiB for five million). Here

1. the venues' points are read from their WKB bytes into coordinate arrays (no
   object per venue; other geometry types are parsed by shapely), indexed by
   coordinates (:class:`campus_geo.engine.pointindex.PointIndex`) and stored in index
   order, so that a school's candidates are a few runs of memory rather than
   cache misses across millions of rows (their input positions still order
   ties, as in ``screen()``);
2. the schools are cut into blocks of about 260,000 candidate pairs, in school
   order; worker threads measure each block's pairs for every rule
   group, exactly as ``screen()`` does (the same functions), and write the
   block's findings as one part file: the ids as hex text, the text columns
   gathered with Arrow, the measured lines written as WKB from their end
   coordinates. No finding is held by the parent process, nor made into a GEOS
   object.

The walk profile routes on one street network in one process and the ``"all"``
profile compares all three: use :func:`~campus_geo.screen.screen` for them.

Measured on 50,000 schools and 5,000,000 venues on two cores
(``benchmarks/scale_bench.py``): 7.5-9.5 s end to end and 1.3 GiB, against
16-19 s and 5.4 GiB for ``screen()`` returning the same findings.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pyproj
import shapely

from campus_geo._errors import InputDataError
from campus_geo._validate import (
    check_geometry,
    id_list,
    validate_entrances,
    validate_hazards,
    validate_schools,
    value_codes,
)
from campus_geo._version import __version__
from campus_geo.adapters.numpy import huge_pages_off
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine import (
    NOTE_TEXTS,
    Hazards,
    PointIndex,
    Sources,
    check_unique_ids,
    collector_paused,
    fnv1a64,
    group_plans,
    has_duplicates,
    hazard_arrays,
    hex_array,
    inside_notes,
    planned_blocks,
    prepare_hazards,
    prepare_setup,
    resolve_rules,
    rule_texts,
    run_chunks,
    school_sources,
    screen_block,
    screening_categories,
    str_array,
)
from campus_geo.rules import Rule
from campus_geo.scale.tasks import (
    FLOAT_COLUMNS,
    HELPERS,
    STRAIGHT_PROFILES,
    canonical,
    empty_partition,
    require_straight,
)
from campus_geo.settings import DEFAULT_CRS

__all__ = ["STREAM_PROFILES", "screen_to_parquet", "wkb_lines"]

log = logging.getLogger(__name__)

#: Measurement profiles of :func:`screen_to_parquet`: straight lines, measured per pair.
STREAM_PROFILES: Final = STRAIGHT_PROFILES
_WKB_POINT: Final = 21  # bytes of a 2D WKB point: order (1), type (4), x, y (8 each)
_WKB_LINE: Final = np.dtype(
    [("order", "u1"), ("type", "<u4"), ("count", "<u4"), ("xy", "<f8", (4,))]
)  # a 2-point 2D WKB LineString, little-endian: 41 bytes, no padding

#: Category codes of a hazards file are one byte: at most this many categories.
_MAX_CATEGORIES: Final = 127
#: Hazard files are read with their categories dictionary-encoded.
_PARQUET: Final = ds.ParquetFileFormat(
    read_options=ds.ParquetReadOptions(dictionary_columns={"category"})
)
_BATCH_ROWS: Final = 1 << 20  # rows read at a time: a row group of pyarrow's writer
#: Text columns shared by many findings: written dictionary-encoded.
_DICTIONARY_COLUMNS: Final = [
    "school_id",
    "school_name",
    "township",
    "village",
    "category",
    "rule_id",
    "severity",
    "profile",
    "basis",
    "lead_units",
    "responsible_units",
    "enforcing_units",
    "suggestion",
    "notes",
]

#: Columns written without compression: random hex and doubles, which snappy hardly shrinks,
#: and the lines (41 bytes each, 7.4 MB a block: snappy made 4.4 MB of them in 7 ms more)
_UNCOMPRESSED: Final = frozenset(["finding_id", *FLOAT_COLUMNS, "geometry"])
#: Rows per data page at most: pages close at pyarrow's 1 MB instead of every 20,000 rows
#: (a block of dictionary codes had a dozen pages of a few kB, each with its own overhead)
_PAGE_ROWS: Final = 1 << 20

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
T = TypeVar("T")


@dataclass(frozen=True)
class _HazardTable:
    """The hazards as columns: ids and names as Arrow text, geometry indexed by coordinates."""

    ids: pa.LargeStringArray  # in input order
    names: pa.LargeStringArray  # in input order
    hashes: npt.NDArray[np.uint64]  # FNV-1a 64 of each id (see campus_geo.engine.ids), as haz
    haz: Hazards  # in `rank` order
    #: input position of each hazard of `haz` (None: haz is in input order)
    rank: IntArray | None = None


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Schools:
    layer: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame | None
    sources: dict[str, Sources]  # see screen.school_sources


def _wkb_records(chunk: pa.Array, rows: IntArray) -> npt.NDArray[np.uint8]:
    """The bytes of values `rows` (each 21 bytes long) of a binary array, as (m, 21) uint8."""
    if not len(rows):
        return np.empty((0, _WKB_POINT), dtype=np.uint8)
    offsets = np.frombuffer(
        chunk.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(chunk.type) else np.int32
    )[chunk.offset : chunk.offset + len(chunk) + 1].astype(np.int64)
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    start = offsets[rows]
    if start[-1] - start[0] == _WKB_POINT * (len(rows) - 1):
        return data[start[0] : start[0] + _WKB_POINT * len(rows)].reshape(-1, _WKB_POINT)
    out = np.empty((len(rows), _WKB_POINT), dtype=np.uint8)
    for i in range(0, len(rows), 1 << 16):  # the gather index stays a few MB
        at = start[i : i + (1 << 16)]
        out[i : i + len(at)] = data[at[:, None] + np.arange(_WKB_POINT)]
    return out


def _decode_wkb(
    chunks: Iterable[pa.Array], n: int
) -> tuple[FloatArray, npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """Coordinates of the points of a WKB column, shapely geometries of the rest, missing rows.

    The column comes as `chunks` (n rows in all), each let go once decoded.
    A 2D little-endian WKB point (nearly every venue) is read straight from its
    21 bytes: the same two doubles ``shapely.from_wkb`` would read, without
    making a GEOS object. Anything else (other types, big-endian, 3D, EWKB) is
    parsed by shapely; points among them give their x and y.
    """
    xy = np.empty((n, 2))
    geoms = np.empty(0, dtype=object)  # made only when some geometry is not a point
    missing = np.zeros(n, dtype=bool)
    base = 0
    for chunk in chunks:
        m = len(chunk)
        valid = np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        length = np.asarray(pc.binary_length(chunk).fill_null(0).to_numpy(), dtype=np.int64)
        rows = np.flatnonzero(valid & (length == _WKB_POINT))
        rec = _wkb_records(chunk, rows)
        fast = (rec[:, 0] == 1) & (rec[:, 1:5].copy().view("<u4")[:, 0] == 1)
        if len(rows) == m and fast.all():  # every row a 2D point: no index arrays
            xy[base : base + m] = rec[:, 5:].copy().view("<f8").reshape(-1, 2)
            base += m
            continue
        xy[base + rows[fast]] = rec[fast, 5:].copy().view("<f8").reshape(-1, 2)
        slow_mask = valid.copy()
        slow_mask[rows[fast]] = False
        slow = np.flatnonzero(slow_mask)
        xy[base + slow] = np.nan
        xy[base + np.flatnonzero(~valid)] = np.nan
        if len(slow):
            parsed = shapely.from_wkb(chunk.take(pa.array(slow)).to_numpy(zero_copy_only=False))
            point = shapely.get_type_id(parsed) == 0
            xy[base + slow[point], 0] = shapely.get_x(parsed[point])
            xy[base + slow[point], 1] = shapely.get_y(parsed[point])
            if not point.all():
                if not len(geoms):
                    geoms = np.full(n, None, dtype=object)
                geoms[base + slow[~point]] = parsed[~point]
                missing[base + slow[~point]] = shapely.is_empty(parsed[~point])
        missing[base : base + m] |= ~valid
        base += m
    # POINT EMPTY is written with NaN coordinates
    is_other = np.zeros(n, dtype=bool) if not len(geoms) else geoms != None  # noqa: E711
    missing |= np.isnan(xy).any(axis=1) & ~is_other
    return xy, geoms, missing


def _geo_metadata(schema: pa.Schema, path: Path) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        msg = (
            f"{path} is not GeoParquet (no 'geo' metadata); write the layer with "
            "GeoDataFrame.to_parquet or campus_geo.scale.partition_layer"
        )
        raise InputDataError(msg)
    meta: dict[str, Any] = json.loads(raw)
    return meta


def _id_column(schema: pa.Schema, path: Path) -> str:
    if "hazard_id" in schema.names:
        return "hazard_id"
    pandas_meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    index = [c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)]
    if len(index) == 1 and index[0] in schema.names:
        return index[0]
    msg = f"{path} has no `hazard_id` column; name the id column hazard_id"
    raise InputDataError(msg)


def _read_hazards(
    path: Path, meanwhile: Callable[[], T], categories: tuple[str, ...]
) -> tuple[_HazardTable, T]:
    """A canonical hazards layer in GeoParquet, read as columns (see the module docstring).

    The file is read a row group at a time, the points first: each group's WKB
    points are decoded into the coordinate array and its WKB let go. The points
    are then indexed on another thread (numpy's sort and gathers release the
    GIL) while the texts are read, each group's ids hashed on a third thread as
    they arrive, the categories read dictionary-encoded (a few codes, not five
    million strings); the ids and names are then combined into one array each.

    ``meanwhile()`` runs after the texts are read, while the index is finished;
    its result is returned with the table. `categories`: the category keys a hazard may have.
    """
    if not path.exists():
        msg = f"GeoParquet file or folder {path} does not exist; check the path"
        raise InputDataError(msg)
    dataset = ds.dataset(path, format=_PARQUET)
    geo = _geo_metadata(dataset.schema, path)
    geometry = geo["primary_column"]
    spec = geo["columns"][geometry]
    id_column = _id_column(dataset.schema, path)
    if spec.get("encoding", "WKB").upper() != "WKB":  # GeoArrow native: let geopandas read it
        frame = canonical(gpd.read_parquet(path), "hazard_id")
        checked = validate_hazards(frame, name=str(path), categories=categories)
        return _frame_table(checked, categories), meanwhile()
    start = time.perf_counter()
    problems: list[str] = []
    crs = _crs(spec, path, problems)
    with ThreadPoolExecutor(max_workers=3) as pool:
        # the points first, indexed on a thread while the texts are read (Arrow's readers
        # leave part of the cores idle, and the index is the longest step after them)
        xy, geoms, missing = _read_points(dataset, geometry)
        log.debug("%s: %d points decoded in %.2f s", path, len(xy), _since(start))
        if crs is not None:
            xy = _to_lonlat(xy, crs)
            indexing = pool.submit(PointIndex, xy[:, 0], xy[:, 1])  # rows without one: NaN
        cols = _read_texts(dataset, id_column, xy, geoms, missing, pool, categories)
        log.debug("%s: texts read at %.2f s", path, _since(start))
        ids = cols.ids.fill_null("") if cols.ids.null_count else cols.ids
        problems[:0] = _column_problems(cols, ids, path, categories)
        problems += _check_others(geoms, ids, crs, path)
        checking = pool.submit(_checked_hashes, cols.hashes, cols.hashing)
        # one array per text column for the workers' takes (a take across five row groups
        # cost twice one across one array: 16 against 8 ms per block of findings)
        combining = pool.submit(_one_chunk, ids, cols.names)
        other = meanwhile()
        if crs is not None:
            index = indexing.result()
        log.debug("%s: indexed at %.2f s", path, _since(start))
        hashes, spare, duplicated = checking.result()
        ids, names = combining.result()
    others = np.flatnonzero(np.isnan(xy[:, 0]))
    other_xy, codes = xy[others], cols.codes
    # let go of the row groups' texts and of the points in input order (the index holds
    # them in its order) before this process's peak of memory, just below
    del cols, xy
    if duplicated:
        # equal hashes: compare the ids themselves (64-bit hashes of distinct ids rarely meet)
        id_index = pd.Index(ids.to_numpy(zero_copy_only=False))
        dup = id_index[id_index.duplicated()].unique()
        if len(dup):
            problems.insert(
                0,
                f"{path} has duplicate hazard_id values: {id_list(dup)}; ids must be unique "
                "(deduplicate the rows or choose another id column)",
            )
    if problems:
        head = f"{len(problems)} problem(s) in `{path}`: " if len(problems) > 1 else ""
        raise InputDataError(head + "; ".join(problems), problems)
    # stored in index order (points row by row, then the other geometries): the candidates
    # of a school, a few runs of the index, are then a few runs of every per-hazard array,
    # instead of cache misses all over five million rows
    # (the ids and names stay in input order: the workers take them by `rank`, which costs
    # them less than reordering five million strings here)
    # the index holds the points' order and coordinates already: no gather of them, and no
    # copy either when every hazard is a point
    order = np.concatenate([index.order, others]) if len(others) else index.order
    xy = np.concatenate([index.sorted_xy, other_xy]) if len(others) else index.sorted_xy
    codes, hashes = codes.take(order), hashes.take(order, out=spare)
    haz = hazard_arrays(
        geoms[order] if len(geoms) else geoms, xy, codes, index.renumbered(), categories
    )
    log.debug("%s: stored in index order at %.2f s", path, time.perf_counter() - start)
    return _HazardTable(ids, names, hashes, haz, order), other


def _checked_hashes(
    hashes: npt.NDArray[np.uint64], parts: list[Future[npt.NDArray[np.uint64]]]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64], bool]:
    """The ids' hashes once `parts` filled them, and whether two are equal.

    When two are, the ids themselves are compared. Also returns the array they were
    sorted in for that, for the caller to reuse (memory a process touches for the first
    time is what costs here, see PointIndex).
    """
    for part in parts:
        part.result()
    spare = np.sort(hashes)
    return hashes, spare, has_duplicates(spare, ordered=True)


def _since(start: float) -> float:
    return time.perf_counter() - start


@dataclass
class _Columns:
    """A hazards file's columns, read a row group at a time (see _read_hazards)."""

    ids: pa.ChunkedArray
    names: pa.ChunkedArray
    codes: npt.NDArray[np.int8]  # position in the screening's categories, -1 unknown
    categories: list[pa.Array] | None  # as read, None: no category column
    xy: FloatArray
    geoms: npt.NDArray[np.object_]
    missing: npt.NDArray[np.bool_]
    hashes: npt.NDArray[np.uint64]  # FNV-1a 64 of the ids, filled group by group by:
    hashing: list[Future[npt.NDArray[np.uint64]]]


def _read_points(
    dataset: ds.Dataset, geometry: str
) -> tuple[FloatArray, npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """The geometry column, decoded a row group at a time (see _decode_wkb)."""
    batches = dataset.to_batches(columns=[geometry], batch_size=_BATCH_ROWS)
    return _decode_wkb((batch.column(0) for batch in batches), dataset.count_rows())


def _read_texts(
    dataset: ds.Dataset,
    id_column: str,
    xy: FloatArray,
    geoms: npt.NDArray[np.object_],
    missing: npt.NDArray[np.bool_],
    pool: ThreadPoolExecutor,
    vocabulary: tuple[str, ...],
) -> _Columns:
    """The text columns, after the points (the memory Arrow held for the WKB serves them)."""
    n = len(xy)
    names_in = dataset.schema.names
    columns = [c for c in (id_column, "name", "category") if c in names_in]
    ids: list[pa.Array] = []
    names: list[pa.Array] = []
    categories: list[pa.Array] = []
    codes: list[npt.NDArray[np.int8]] = []
    hashing: list[Future[npt.NDArray[np.uint64]]] = []
    hashes, base = np.empty(n, dtype=np.uint64), 0
    for batch in dataset.to_batches(columns=columns, batch_size=_BATCH_ROWS):
        ids.append(batch.column(id_column).cast(pa.large_string()))
        group = hashes[base : base + len(ids[-1])]
        hashing.append(pool.submit(fnv1a64, ids[-1].fill_null(""), out=group))
        base += len(group)
        if "name" in names_in:  # "" where missing, as screen() reads it
            name = batch.column("name").cast(pa.large_string())
            names.append(name.fill_null("") if name.null_count else name)
        if "category" in names_in:
            categories.append(batch.column("category"))
            codes.append(_category_codes(categories[-1], vocabulary))
    return _Columns(
        ids=_texts_of(ids, n),
        names=_texts_of(names, n),
        codes=np.concatenate(codes) if codes else np.full(n, -1, dtype=np.int8),
        categories=categories if "category" in names_in else None,
        xy=xy,
        geoms=geoms,
        missing=missing,
        hashes=hashes,
        hashing=hashing,
    )


def _column_problems(
    cols: _Columns, ids: pa.ChunkedArray, path: Path, vocabulary: tuple[str, ...]
) -> list[str]:
    problems: list[str] = []
    if cols.categories is None:
        problems.append(
            f"{path} has no `category` column; expected one of {', '.join(vocabulary)} per row"
        )
    if cols.ids.null_count:
        problems.append(f"{path} has rows without hazard_id; give every row an id")
    if cols.missing.any():
        problems.append(
            f"{path} rows without geometry (hazard_id: "
            f"{id_list(ids.take(np.flatnonzero(cols.missing)))}); give them coordinates or drop "
            "them into a rejects file"
        )
    if cols.categories is not None and (cols.codes < 0).any():
        problems.append(_unknown_categories(cols.codes, cols.categories, ids, path, vocabulary))
    return problems


def _texts_of(parts: list[pa.Array], n: int) -> pa.ChunkedArray:
    """Text arrays of the row groups as one column ("" for all rows when there are none)."""
    if not parts:
        return pa.chunked_array([pa.array([""] * n, pa.large_string())])
    return pa.chunked_array(parts, pa.large_string())


def _one_chunk(*columns: pa.ChunkedArray) -> list[pa.LargeStringArray]:
    return [column.combine_chunks() for column in columns]


def _category_codes(category: pa.Array, vocabulary: tuple[str, ...]) -> npt.NDArray[np.int8]:
    """Position of each row's category in `vocabulary`; -1 where unknown or missing.

    One byte per row (there are a few dozen categories): 5 MB, not 40, for five million venues.
    """
    if pa.types.is_dictionary(category.type):
        lookup = np.append(value_codes(category.dictionary, vocabulary), -1).astype(np.int8)
        indices = category.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return lookup.take(np.asarray(indices, dtype=np.int64))  # -1 (missing) takes the last
    return value_codes(category.cast(pa.large_string()), vocabulary).astype(np.int8)


def _unknown_categories(
    codes: npt.NDArray[np.int8],
    parts: list[pa.Array],
    ids: pa.ChunkedArray,
    path: Path,
    vocabulary: tuple[str, ...],
) -> str:
    bad = np.flatnonzero(codes < 0)
    category = pa.chunked_array([p.cast(pa.large_string()) for p in parts], pa.large_string())
    values = sorted({str(v) for v in category.take(bad[:1000]).to_pylist()})
    return (
        f"{path} has unknown category value(s) {', '.join(values)} in rows "
        f"{id_list(ids.take(bad))}; expected one of {', '.join(vocabulary)}"
    )


def _check_others(
    geoms: npt.NDArray[np.object_], ids: pa.LargeStringArray, crs: pyproj.CRS | None, path: Path
) -> list[str]:
    """Check the hazards that are not points as validate_hazards does; bring them to lon/lat.

    Polygons and lines are few (sites, water): they are shapely objects already.
    """
    others = np.flatnonzero(geoms != None) if len(geoms) else np.empty(0, np.int64)  # noqa: E711
    if not len(others):
        return []
    frame = gpd.GeoDataFrame(
        geometry=geoms[others],
        crs=crs,
        index=pd.Index(ids.take(others).to_numpy(zero_copy_only=False), name="hazard_id"),
    )
    problems = check_geometry(frame, str(path), "hazard_id")
    if not problems and crs is not None:
        geoms[others] = frame.geometry.to_crs(DEFAULT_CRS).values
    return problems


def _to_lonlat(xy: FloatArray, crs: pyproj.CRS | None) -> FloatArray:
    if crs is None or crs.equals(DEFAULT_CRS, ignore_axis_order=True):
        return xy
    to = pyproj.Transformer.from_crs(crs, DEFAULT_CRS, always_xy=True)
    lon, lat = to.transform(xy[:, 0], xy[:, 1])
    return np.where(np.isnan(xy), np.nan, np.column_stack([lon, lat]))


def _crs(spec: dict[str, Any], path: Path, problems: list[str]) -> pyproj.CRS | None:
    if "crs" not in spec:  # GeoParquet: no crs key means OGC:CRS84, lon/lat on WGS 84
        return pyproj.CRS.from_epsg(4326)
    if spec["crs"] is None:
        problems.append(
            f"{path} has no CRS; call gdf.set_crs(4326) before writing it if the coordinates "
            "are lon/lat on WGS 84 (convert GCJ-02/BD-09 coordinates with campus_geo.coords first)"
        )
        return None
    return pyproj.CRS.from_json_dict(spec["crs"])


def _frame_table(hazards: gpd.GeoDataFrame, categories: tuple[str, ...]) -> _HazardTable:
    """A validated hazards GeoDataFrame as columns."""
    ids = _arrow_text(hazards.index)
    return _HazardTable(
        ids=ids,
        names=_arrow_text(hazards["name"] if "name" in hazards.columns else None, len(hazards)),
        hashes=fnv1a64(ids),
        haz=prepare_hazards(hazards, categories),
    )


def _arrow_text(values: pd.Series | pd.Index | None, n: int = 0) -> pa.LargeStringArray:
    """Text as screen() reads it ("" for missing), as one Arrow large_string array."""
    if values is None:
        return pa.array([""] * n, pa.large_string())
    return pa.array(str_array(values)).cast(pa.large_string())


def _is_path(layer: object) -> bool:
    return isinstance(layer, str | Path)


def _read_schools(schools: gpd.GeoDataFrame | str | Path) -> gpd.GeoDataFrame:
    if isinstance(schools, str | Path):
        path = Path(schools)
        if not path.exists():
            msg = f"GeoParquet file or folder {path} does not exist; check the path"
            raise InputDataError(msg)
        return validate_schools(canonical(gpd.read_parquet(path), "school_id"), name=str(path))
    return validate_schools(schools)


# ----------------------------------------------------------------------------- writing


@cache
def _schema() -> pa.Schema:
    """The schema (with its pandas and GeoParquet metadata) of a flat findings file."""
    buffer = io.BytesIO()
    empty_partition().drop(columns=HELPERS).to_parquet(buffer)
    buffer.seek(0)
    return pq.read_schema(buffer)


def _part_schema(ends: FloatArray) -> pa.Schema:
    schema = _schema()
    geo = json.loads(schema.metadata[b"geo"])
    column = geo["columns"][geo["primary_column"]]
    column["geometry_types"] = ["LineString"]
    if len(ends):
        lon, lat = ends[:, 0::2], ends[:, 1::2]
        column["bbox"] = [lon.min(), lat.min(), lon.max(), lat.max()]
    geo["creator"] = {"library": "campus_geo", "version": __version__}
    return schema.with_metadata({**schema.metadata, b"geo": json.dumps(geo).encode()})


def wkb_lines(ends: FloatArray) -> pa.BinaryArray:
    """2-point LineStrings (x1, y1, x2, y2 per row) as WKB, the bytes ``shapely.to_wkb`` writes."""
    records = np.empty(len(ends), dtype=_WKB_LINE)
    records["order"], records["type"], records["count"] = 1, 2, 2
    records["xy"] = ends
    offsets = np.arange(0, _WKB_LINE.itemsize * len(ends) + 1, _WKB_LINE.itemsize, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(records)]
    lines: pa.BinaryArray = pa.Array.from_buffers(pa.binary(), len(ends), buffers)
    return lines


@dataclass(frozen=True)
class _Texts:
    """The text columns findings take from their school, hazard and rule."""

    school: dict[str, pa.LargeStringArray]  # school_id, school_name, township, village
    hazard_ids: pa.LargeStringArray
    hazard_names: pa.LargeStringArray
    hazard_rank: IntArray | None  # row of hazard_ids and hazard_names of a hazard position
    categories: pa.LargeStringArray  # the category of each code
    rules: dict[str, pa.LargeStringArray]
    thresholds: FloatArray


def _school_texts(schools: gpd.GeoDataFrame) -> dict[str, pa.LargeStringArray]:
    def text(name: str) -> pa.LargeStringArray:
        return _arrow_text(schools[name] if name in schools.columns else None, len(schools))

    return {
        "school_id": _arrow_text(schools.index),
        "school_name": text("name"),
        "township": text("township"),
        "village": text("village"),
    }


def _coded(codes: npt.NDArray[Any], texts: pa.LargeStringArray) -> pa.DictionaryArray:
    """Texts repeated over many findings as a dictionary array: written without copying them.

    The dictionary holds each text once: pyarrow writes a dictionary array whose
    dictionary repeats a value (two rules naming the same units, two schools in one
    township) as plain strings, every row in full, at three times the cost.
    """
    unique = texts.dictionary_encode()
    lookup = np.asarray(unique.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(lookup.take(codes)), unique.dictionary)


def _findings_table(
    pairs: dict[str, npt.NDArray[Any]], texts: _Texts, haz: Hazards, lo: int, hi: int
) -> pa.Table:
    """The findings of pairs of schools lo:hi in findings order, as a flat findings table.

    Texts shared by many findings (school, category, rule, note) are dictionary
    arrays; the file stores them dictionary-encoded, and they read back as plain
    strings (see :func:`_write`).
    """
    s, h, r = pairs["_school"], pairs["_hazard"], pairs["_rule"]
    distance, ends = pairs["distance_m"], pairs["ends"]
    note_code, notes = inside_notes(pairs["_note"], distance, NOTE_TEXTS)
    taken = pa.array(h if texts.hazard_rank is None else texts.hazard_rank[h])
    columns = {
        **{name: _coded(s - lo, values[lo:hi]) for name, values in texts.school.items()},
        "hazard_id": texts.hazard_ids.take(taken),
        "hazard_name": texts.hazard_names.take(taken),
        "category": _coded(haz.category[h], texts.categories),
        **{name: _coded(r, values) for name, values in texts.rules.items()},
        "threshold_m": pa.array(texts.thresholds[r]),
        "distance_m": pa.array(distance),
        "notes": _coded(note_code, pa.array(notes, pa.large_string())),
        "school_lon": pa.array(ends[:, 0]),
        "school_lat": pa.array(ends[:, 1]),
        "hazard_lon": pa.array(ends[:, 2]),
        "hazard_lat": pa.array(ends[:, 3]),
        "geometry": wkb_lines(ends),
        "finding_id": hex_array(pairs["_id"]),
    }
    schema = _part_schema(ends)
    table = pa.Table.from_arrays([columns[name] for name in schema.names], names=schema.names)
    return table.replace_schema_metadata(schema.metadata)


def _write(table: pa.Table, path: Path) -> None:
    """Write one part.

    Without the Arrow schema in the file, the dictionary-encoded text columns
    read back as plain strings, as a findings file written by geopandas has
    them; the pandas and GeoParquet metadata say the rest. Dictionary encoding
    is asked only for the repeated texts (trying it on unique ids, lines and
    coordinates only costs), statistics only for the columns a reader filters
    on, no compression for the columns snappy barely shrinks (hex ids,
    coordinates, distances, lines), and pages of up to 1 MB whatever their
    rows. Measured on a block of 156,697 findings: 0.076 s instead of 0.40 s
    with the defaults, for a file 17 % larger than with snappy everywhere; on
    one of 164,821, pages of 1 MB and the lines uncompressed cut another 22 %
    (medians of 15: 87 against 111 ms, 22.1 against 19.1 MB).
    """
    with pq.ParquetWriter(
        path,
        table.schema,
        use_dictionary=_DICTIONARY_COLUMNS,
        compression={
            name: "none" if name in _UNCOMPRESSED else "snappy" for name in table.column_names
        },
        write_statistics=["school_id", "category", "rule_id", "distance_m"],
        max_rows_per_page=_PAGE_ROWS,
        store_schema=False,
    ) as writer:
        writer.write_table(table)
        # without store_schema pyarrow writes no key-value metadata: add pandas' and geo
        writer.add_key_value_metadata(
            {key.decode(): value.decode() for key, value in table.schema.metadata.items()}
        )


# ----------------------------------------------------------------------------- screening


def _clear(out: Path) -> None:
    if out.is_dir():
        for old in out.glob("part.*.parquet"):
            old.unlink()
    elif out.exists():
        out.unlink()  # a single-file findings.parquet of an earlier run
    out.mkdir(parents=True, exist_ok=True)


@collector_paused()  # as screen(): no full collection walks the objects meanwhile
@huge_pages_off()  # as screen(): see campus_geo.adapters.numpy
def screen_to_parquet(
    schools: gpd.GeoDataFrame | str | Path,
    hazards: gpd.GeoDataFrame | str | Path,
    filepath: str | Path,
    *,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    entrances: gpd.GeoDataFrame | str | Path | None = None,
    workers: int | None = None,
    categories: CategoryRegistry | None = None,
    context: bool = False,
) -> int:
    """Screen and write the findings as a GeoParquet dataset, block by block.

    The findings are those of :func:`campus_geo.screen.screen` with the same
    arguments, in the same order, written as ``filepath/part.00000.parquet``,
    ``part.00001.parquet`` ... (a folder, as
    :func:`campus_geo.scale.screen_dask_to_parquet` writes):
    ``geopandas.read_parquet(filepath)`` reads them back with the rule texts
    as plain strings.

    Parameters
    ----------
    schools, hazards
        Canonical layers, in memory or as GeoParquet (a file, or a folder of
        parts). A hazards file is read as columns: its points never become
        shapely objects.
    filepath
        Folder to write; its old parts (or an old file of that name) are removed.
    rules, profile, dist, entrances, categories, context
        As for :func:`~campus_geo.screen.screen`; the profile is ``"boundary"``
        or ``"entrance"`` (:data:`STREAM_PROFILES`).
    workers
        Threads measuring and writing the blocks (numpy, pyproj, GEOS and Arrow
        release the GIL); None: one per CPU core. The files are the same for any number.

    Returns
    -------
    int
        The number of findings written.
    """
    start = time.perf_counter()
    rule_table, registry = screening_categories(rules, categories)
    vocabulary = registry.keys
    skip = () if context else registry.context_keys  # water, traffic, cameras: context
    if len(vocabulary) > _MAX_CATEGORIES:
        msg = (
            f"screen_to_parquet codes a category in one byte: {len(vocabulary)} categories are "
            f"more than {_MAX_CATEGORIES}; screen with campus_geo.screen.screen"
        )
        raise InputDataError(msg)

    def prepare_schools() -> _Schools:
        layer = _read_schools(schools)
        gates = None
        if entrances is not None:
            ent = gpd.read_parquet(entrances) if _is_path(entrances) else entrances
            gates = validate_entrances(ent)
        kinds = {
            r.profile for r in resolve_rules(rule_table, profile, dist, list(vocabulary), skip)
        }
        sources = school_sources(layer, gates, kinds & set(STREAM_PROFILES))
        log.debug("schools read and projected at %.2f s", time.perf_counter() - start)
        return _Schools(layer, gates, sources)

    # the schools are prepared while the points are indexed (reading the hazards on a
    # thread beside them was slower: Arrow's own threads and GEOS fought over the cores)
    if isinstance(hazards, str | Path):
        table, prepared = _read_hazards(Path(hazards), prepare_schools, vocabulary)
    else:
        checked = validate_hazards(hazards, categories=vocabulary)
        table, prepared = _frame_table(checked, vocabulary), prepare_schools()
    school_layer, gates = prepared.layer, prepared.gates
    present = sorted(vocabulary[c] for c in np.unique(table.haz.category))
    rule_list = resolve_rules(rule_table, profile, dist, present, skip)
    require_straight(
        rule_list,
        "screen_to_parquet",
        "screen those rules with campus_geo.screen.screen (the walk profile needs the street "
        "network)",
    )
    setup = prepare_setup(
        school_layer,
        table.haz,
        table.hashes,
        rule_list,
        gates,
        workers,
        hazard_rank=table.rank,
        sources=prepared.sources,
    )
    plans = list(group_plans(setup))
    setup, cuts = planned_blocks(setup, plans)
    log.info(
        "%d schools and %d hazards read and indexed in %.1f s; measuring %d blocks on %d threads",
        len(school_layer),
        len(table.ids),
        time.perf_counter() - start,
        len(cuts) - 1,
        setup.ctx.workers,
    )
    by_rule = rule_texts(rule_list)
    texts = _Texts(
        school=_school_texts(school_layer),
        hazard_ids=table.ids,
        hazard_names=table.names,
        hazard_rank=table.rank,
        categories=pa.array(list(vocabulary), pa.large_string()),
        rules={name: pa.array(values, pa.large_string()) for name, values in by_rule.items()},
        thresholds=np.array([rule.distance_m for rule in rule_list], dtype=np.float64),
    )
    out = Path(filepath)
    _clear(out)
    _schema()  # made once here, before the worker threads read it

    def task(i: int) -> npt.NDArray[np.uint64]:
        lo, hi = int(cuts[i]), int(cuts[i + 1])
        pairs = screen_block(setup, plans, lo, hi)
        if not pairs:
            return np.empty(0, dtype=np.uint64)
        _write(_findings_table(pairs, texts, table.haz, lo, hi), out / f"part.{i:05d}.parquet")
        hashes: npt.NDArray[np.uint64] = np.sort(pairs["_id"])
        return hashes

    written = list(run_chunks(task, len(cuts) - 1, workers=setup.ctx.workers))
    # sorted runs: a stable (merging) sort of their concatenation finds equal ids cheaply
    hashes = np.sort(np.concatenate([np.empty(0, dtype=np.uint64), *written]), kind="stable")
    try:
        check_unique_ids(hashes, ordered=True)
    except ValueError:
        shutil.rmtree(out)
        raise
    if not len(hashes):  # no findings: one empty part, so that the folder reads back
        pq.write_table(_schema().empty_table(), out / "part.00000.parquet")
    log.info(
        "wrote %d findings to %s (%d parts) in %.1f s",
        len(hashes),
        out,
        len(cuts) - 1,
        time.perf_counter() - start,
    )
    return len(hashes)
