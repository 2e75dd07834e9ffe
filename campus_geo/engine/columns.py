"""Canonical layers read from GeoParquet as columns: millions of venues, no object per venue.

Part of the screening engine (:mod:`campus_geo.engine`): :func:`campus_geo.screen.screen`
and the stream (:mod:`campus_geo.scale.stream`) read a hazards file with
:func:`read_hazard_table` when they are given its path.

1. the venues' points are read from their WKB bytes into coordinate arrays (no
   GEOS object per venue; other geometry types are parsed by shapely), indexed
   by coordinates (:class:`campus_geo.engine.pointindex.PointIndex`) and stored
   in index order, so that a school's candidates are a few runs of memory
   rather than cache misses across millions of rows (their input positions
   still order ties, as for a GeoDataFrame);
2. the ids, names and categories are read as Arrow columns (categories
   dictionary-encoded: a byte a venue) and checked as
   :func:`campus_geo._validate.validate_hazards` checks a GeoDataFrame: every
   problem names the file, the rows' ids and the fix.

Written here rather than with ``geopandas.read_parquet``: that makes a GEOS point
and a Python string per venue (3 s and 1.9 GiB for five million venues) only for
the engine to take their coordinates back out.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
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
from campus_geo.engine.findings import str_array
from campus_geo.engine.ids import fnv1a64, has_duplicates
from campus_geo.engine.pairs import (
    Hazards,
    Sources,
    hazard_arrays,
    hazard_columns,
    prepare_hazards,
    school_sources,
)
from campus_geo.engine.pointindex import PointIndex
from campus_geo.settings import DEFAULT_CRS

__all__ = [
    "MAX_CATEGORIES",
    "PARQUET_SUFFIXES",
    "HazardTable",
    "SchoolInput",
    "arrow_text",
    "canonical",
    "hazard_table",
    "in_index_order",
    "is_path",
    "read_entrances",
    "read_hazard_table",
    "read_hazards_frame",
    "read_school_input",
    "read_schools",
]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
T = TypeVar("T")

_WKB_POINT: Final = 21  # bytes of a 2D WKB point: order (1), type (4), x, y (8 each)
#: Category codes of a hazards file are one byte: at most this many categories.
MAX_CATEGORIES: Final = 127
#: Hazard files are read with their categories dictionary-encoded.
_PARQUET: Final = ds.ParquetFileFormat(
    read_options=ds.ParquetReadOptions(dictionary_columns={"category"})
)
_BATCH_ROWS: Final = 1 << 20  # rows read at a time: a row group of pyarrow's writer


@dataclass(frozen=True)
class HazardTable:
    """The hazards as columns: ids and names as Arrow text, geometry indexed by coordinates."""

    ids: pa.LargeStringArray  # in input order
    names: pa.LargeStringArray  # in input order
    hashes: npt.NDArray[np.uint64]  # FNV-1a 64 of each id (see campus_geo.engine.ids), as haz
    haz: Hazards  # in `rank` order
    #: input position of each hazard of `haz` (None: haz is in input order); int32 or int64
    rank: npt.NDArray[np.signedinteger[Any]] | None = None


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


def read_hazard_table(
    path: Path, meanwhile: Callable[[], T], categories: tuple[str, ...]
) -> tuple[HazardTable, T]:
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
    _check_parquet_path(path)
    if len(categories) > MAX_CATEGORIES:
        msg = (
            f"a hazards file is read with its category codes in one byte: {len(categories)} "
            f"categories are more than {MAX_CATEGORIES}; read {path} with "
            "geopandas.read_parquet and pass the GeoDataFrame"
        )
        raise InputDataError(msg)
    dataset = ds.dataset(path, format=_PARQUET)
    geo = _geo_metadata(dataset.schema, path)
    geometry = geo["primary_column"]
    spec = geo["columns"][geometry]
    id_column = _id_column(dataset.schema, path)
    if spec.get("encoding", "WKB").upper() != "WKB":  # GeoArrow native: let geopandas read it
        return hazard_table(read_hazards_frame(path, categories), categories), meanwhile()
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
    table = in_index_order(
        index, others, other_xy, geoms, codes, ids, names, hashes, categories, spare
    )
    log.debug("%s: stored in index order at %.2f s", path, time.perf_counter() - start)
    return table, other


def in_index_order(
    index: PointIndex,
    others: IntArray,
    other_xy: npt.NDArray[np.float64],
    geoms: npt.NDArray[np.object_],
    codes: npt.NDArray[np.integer[Any]],
    ids: pa.LargeStringArray,
    names: pa.LargeStringArray,
    hashes: npt.NDArray[np.uint64],
    categories: tuple[str, ...],
    out: npt.NDArray[np.uint64] | None = None,
) -> HazardTable:
    """The hazards' table with its per-hazard arrays stored in the order of `index`.

    Points row by row of the index, then the other geometries (input positions
    `others`, lon/lat `other_xy` NaN): the candidates of a school, a few runs of the
    index, are then a few runs of every per-hazard array, instead of cache misses all
    over five million rows. The ids and names stay in input order: the workers take
    them by the table's `rank`, which costs them less than reordering five million
    strings here (a screening with many pairs a hazard, a dense district, reorders
    them once it knows: see :func:`~campus_geo.engine.findings.texts_in_position_order`).
    `geoms`: in input order (empty: every hazard a point, none made);
    `codes`, `hashes`: in input order (`out`: an array the hashes may be written to).
    """
    # the index holds the points' order and coordinates already: no gather of them, and no
    # copy either when every hazard is a point
    order = np.concatenate([index.order, others]) if len(others) else index.order
    xy = np.concatenate([index.sorted_xy, other_xy]) if len(others) else index.sorted_xy
    codes, hashes = codes.take(order), hashes.take(order, out=out)
    haz = hazard_arrays(
        geoms[order] if len(geoms) else geoms, xy, codes, index.renumbered(), categories
    )
    # the input positions in four bytes each when they fit (the workers only index by them)
    rank = order.astype(np.int32) if len(order) < 2**31 else order
    return HazardTable(ids, names, hashes, haz, rank)


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
    """A hazards file's columns, read a row group at a time (see read_hazard_table)."""

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


def hazard_table(
    hazards: gpd.GeoDataFrame, categories: tuple[str, ...], *, index_order: bool = False
) -> HazardTable:
    """A validated hazards GeoDataFrame as columns.

    `index_order`: store the per-hazard arrays in the order of the points' index, as
    :func:`read_hazard_table` does (see :func:`in_index_order`); a hazard's position is
    then not its row of `hazards` but the table's `rank` says which row it is. The
    candidates of a school are then near each other in memory whatever the layer's
    order of rows (the scale benchmark's venues are in random order). False:
    positions are rows of `hazards` (the walk profile reads the layer by them).
    """
    ids = arrow_text(hazards.index)
    names = arrow_text(hazards["name"] if "name" in hazards.columns else None, len(hazards))
    hashes = fnv1a64(ids)
    if not index_order:
        return HazardTable(ids, names, hashes, prepare_hazards(hazards, categories))
    geoms, point_xy, codes = hazard_columns(hazards, categories)
    index = PointIndex(point_xy[:, 0], point_xy[:, 1])
    others = np.flatnonzero(np.isnan(point_xy[:, 0]))
    if not len(others):  # the measuring reads the points' coordinates, not their geometries
        geoms = np.empty(0, dtype=object)
    return in_index_order(
        index, others, point_xy[others], geoms, codes, ids, names, hashes, categories
    )


def arrow_text(values: pd.Series | pd.Index | None, n: int = 0) -> pa.LargeStringArray:
    """Text as screen() reads it ("" for missing), as one Arrow large_string array."""
    if values is None:
        return pa.array([""] * n, pa.large_string())
    array = pa.array(str_array(values)).cast(pa.large_string())
    # one array: a take from a chunked one (a file read in row groups) concatenates its
    # chunks first, at every block of findings
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def is_path(layer: object) -> bool:
    """Whether a layer argument names a file (str or Path) rather than holding a frame."""
    return isinstance(layer, str | Path)


#: File names read as GeoParquet (a folder is read as its parts).
PARQUET_SUFFIXES: Final = frozenset([".parquet", ".geoparquet", ".pq"])


def _check_parquet_path(path: Path) -> None:
    if not path.exists():
        msg = f"GeoParquet file or folder {path} does not exist; check the path"
        raise InputDataError(msg)
    if path.is_file() and path.suffix.lower() not in PARQUET_SUFFIXES:
        msg = (
            f"{path} is not GeoParquet (a .parquet file or a folder of them): read it with "
            "geopandas.read_file and pass the GeoDataFrame, or write it with "
            "GeoDataFrame.to_parquet"
        )
        raise InputDataError(msg)


def read_entrances(entrances: gpd.GeoDataFrame | str | Path) -> gpd.GeoDataFrame:
    """A gates layer, validated: a GeoDataFrame, or GeoParquet read with geopandas."""
    if isinstance(entrances, str | Path):
        path = Path(entrances)
        _check_parquet_path(path)
        return validate_entrances(gpd.read_parquet(path), name=str(path))
    return validate_entrances(entrances)


def read_schools(schools: gpd.GeoDataFrame | str | Path) -> gpd.GeoDataFrame:
    """A schools layer, validated: a GeoDataFrame, or GeoParquet read with geopandas."""
    if isinstance(schools, str | Path):
        path = Path(schools)
        _check_parquet_path(path)
        return validate_schools(canonical(gpd.read_parquet(path), "school_id"), name=str(path))
    return validate_schools(schools)


@dataclass(frozen=True)
class SchoolInput:
    """The schools and their gates, validated, and what the rules measure from, projected."""

    layer: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame | None
    #: by kind ("outline", "gates"; :func:`~campus_geo.engine.pairs.school_sources`); empty:
    #: projected when first needed (:func:`~campus_geo.engine.pairs.group_plans`)
    sources: dict[str, Sources]

    def projected(self, profiles: set[str]) -> SchoolInput:
        """These schools with the sources of `profiles` (straight lines) projected."""
        if not profiles:
            return self
        return replace(self, sources=school_sources(self.layer, self.gates, profiles))


def read_school_input(
    schools: gpd.GeoDataFrame | str | Path,
    entrances: gpd.GeoDataFrame | str | Path | None,
    profiles: set[str] | None = None,
) -> SchoolInput:
    """Read and validate the schools and gates; project the sources of `profiles` (straight).

    The screenings that read a hazards file make this beside its reading
    (:func:`read_hazard_table`): the schools are projected while the points are
    decoded and indexed. `profiles`: see :func:`~campus_geo.engine.pairs.straight_profiles`.
    """
    layer = read_schools(schools)
    gates = read_entrances(entrances) if entrances is not None else None
    return SchoolInput(layer, gates, {}).projected(profiles or set())


def read_hazards_frame(path: Path, categories: tuple[str, ...]) -> gpd.GeoDataFrame:
    """A hazards layer in GeoParquet read with geopandas, validated (problems name the file)."""
    _check_parquet_path(path)
    frame = canonical(gpd.read_parquet(path), "hazard_id")
    return validate_hazards(frame, name=str(path), categories=categories)


def canonical(part: pd.DataFrame, id_name: str) -> gpd.GeoDataFrame:
    """A partition indexed by its ids, named `id_name` (a column of that name, else the index)."""
    if part.index.name != id_name and id_name in part.columns:
        part = part.set_index(id_name)
    return gpd.GeoDataFrame(part.rename_axis(id_name))
