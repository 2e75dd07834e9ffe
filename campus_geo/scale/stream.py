"""Province-scale screening on one machine: GeoParquet in, GeoParquet out, block by block.

:func:`screen_to_parquet` finds the same findings as :func:`campus_geo.screen.screen`
(same ids, distances, end points, measured lines and order) and writes them as a
GeoParquet dataset, the layout of :func:`campus_geo.scale.screen_dask_to_parquet`:
``geopandas.read_parquet(path)`` gives what ``screen()`` returns, with the rule
texts as plain strings.

Why a second entry point: a province is tens of thousands of schools and
millions of venues, and its findings millions of rows. ``screen()`` returns
them all at once as a GeoDataFrame (five million findings take about 1.2 GiB,
their measured lines held as end points); the stream holds one block of them at
a time and writes it. Here

1. the venues are read as columns (:func:`campus_geo.engine.columns.read_hazard_table`):
   their points from the WKB bytes into coordinate arrays, indexed and stored in
   index order; ids, names and categories as Arrow arrays (``screen()`` reads a
   hazards file given by its path the same way);
2. the schools are cut into blocks of about 260,000 candidate pairs, in school
   order; worker threads measure each block's pairs for every rule
   group, exactly as ``screen()`` does (the same functions), and write the
   block's findings as one part file: the ids as hex text, the text columns
   gathered with Arrow, the measured lines written as WKB from their end
   coordinates. No finding is held by the parent process, nor made into a GEOS
   object.

The walk profile routes on one street network in one process and the ``"all"``
profile compares all three: use :func:`~campus_geo.screen.screen` for them.

Measured beside ``screen()`` and the inexact joins users would pick instead, on
the same files: ``benchmarks/scale_bench.py`` (README, "Province and nation scale").
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from campus_geo._errors import InputDataError
from campus_geo._validate import (
    validate_hazards,
)
from campus_geo._version import __version__
from campus_geo.adapters.numpy import huge_pages_off
from campus_geo.category_registry import CategoryRegistry
from campus_geo.engine import (
    MAX_CATEGORIES,
    NOTE_TEXTS,
    STRAIGHT_PROFILES,
    Hazards,
    SchoolInput,
    arrow_system_pool,
    arrow_text,
    check_unique_ids,
    collector_paused,
    give_back_arrow_memory,
    group_plans,
    hazard_table,
    hex_array,
    inside_notes,
    planned_blocks,
    prepare_setup,
    read_hazard_table,
    read_school_input,
    resolve_rules,
    rule_texts,
    run_chunks,
    screen_block,
    screening_categories,
    straight_profiles,
    texts_in_position_order,
)
from campus_geo.rules import Rule
from campus_geo.scale.tasks import (
    HELPERS,
    empty_partition,
    require_straight,
)

__all__ = ["STREAM_PROFILES", "screen_to_parquet", "wkb_lines"]

log = logging.getLogger(__name__)

#: Measurement profiles of :func:`screen_to_parquet`: straight lines, measured per pair.
STREAM_PROFILES: Final = STRAIGHT_PROFILES
_WKB_POINT: Final = 21  # bytes of a 2D WKB point: order (1), type (4), x, y (8 each)
_WKB_LINE: Final = np.dtype(
    [("order", "u1"), ("type", "<u4"), ("count", "<u4"), ("xy", "<f8", (4,))]
)  # a 2-point 2D WKB LineString, little-endian: 41 bytes, no padding

#: Columns of few distinct values, shared by many findings: written dictionary-encoded.
#: The texts, and the rule's threshold (six blocks of the dense district: 5.6 % smaller
#: files, written in 4 % less time; the venues' ids, names and coordinates, repeated
#: about once a block, took 76 % more time for 3 % smaller files).
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
    "threshold_m",
]

#: Rows per data page at most: pages close at pyarrow's 1 MB instead of every 20,000 rows
#: (a block of dictionary codes had a dozen pages of a few kB, each with its own overhead)
_PAGE_ROWS: Final = 1 << 20

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
T = TypeVar("T")


# ----------------------------------------------------------------------------- writing


@cache
def _schema() -> pa.Schema:
    """The schema (with its pandas and GeoParquet metadata) of a flat findings file."""
    buffer = io.BytesIO()
    empty_partition().drop(columns=HELPERS).to_parquet(buffer)
    buffer.seek(0)
    return pq.read_schema(buffer)


def _part_schema(ends: FloatArray) -> pa.Schema:
    """The schema of a part of findings: every column required, its bounding box in "geo".

    Required, not nullable: every finding has every value (a text unknown is ""), and
    pyarrow then writes no definition levels; six blocks of the dense district were
    encoded in 92 instead of 137 ms (best of 5, into a null sink).
    """
    schema = _schema()
    schema = pa.schema([field.with_nullable(False) for field in schema], schema.metadata)
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
    #: the row of hazard_ids and hazard_names of each hazard position (None: the same)
    hazard_rank: npt.NDArray[np.signedinteger[Any]] | None
    categories: pa.LargeStringArray  # the category of each code
    rules: dict[str, pa.LargeStringArray]
    thresholds: FloatArray


def _school_texts(schools: gpd.GeoDataFrame) -> dict[str, pa.LargeStringArray]:
    def text(name: str) -> pa.LargeStringArray:
        return arrow_text(schools[name] if name in schools.columns else None, len(schools))

    return {
        "school_id": arrow_text(schools.index),
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
    if len(unique.dictionary) == len(texts):  # distinct texts: the codes are the indices
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), unique.dictionary)
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
    arrays = [columns[name] for name in schema.names]
    # the dictionary arrays' own types (the file stores them as the schema's text)
    fields = [field.with_type(a.type) for field, a in zip(schema, arrays, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, schema.metadata))


def _write(table: pa.Table, path: Path) -> None:
    """Write one part.

    Without the Arrow schema in the file, the dictionary-encoded text columns
    read back as plain strings, as a findings file written by geopandas has
    them; the pandas and GeoParquet metadata say the rest. Dictionary encoding
    is asked only for the repeated texts (trying it on unique ids, lines and
    coordinates only costs), statistics only for the school: a part's schools are a
    run of the schools' rows, so where the ids sort as the rows do a reader's filter on
    one school skips every other part (a part holds distances from near 0 to the
    threshold, every category and every rule: their ranges skip nothing, and the
    statistics of the category and the rule were 16 % of encoding six dense blocks),
    no compression (snappy barely shrinks hex ids, coordinates, distances, lines and
    venue names, and the dictionary codes are run-length encoded already), and pages
    of up to 1 MB whatever their rows. Measured on a block
    of 156,697 findings: 0.076 s instead of 0.40 s with the defaults, for a file
    17 % larger than with snappy everywhere; on one of 164,821, pages of 1 MB and
    the lines uncompressed cut another 22 % (medians of 15: 87 against 111 ms,
    22.1 against 19.1 MB); on four blocks of the dense district, snappy on the
    venue ids and names and the dictionary codes took 16 % more time for 12 %
    smaller files (medians of 8: 314 against 263 ms, 84 against 95 MB).
    """
    with pq.ParquetWriter(
        path,
        table.schema,
        use_dictionary=_DICTIONARY_COLUMNS,
        compression="none",
        write_statistics=["school_id"],
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
@arrow_system_pool()  # parts encoded block after block (engine.parallel)
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
    if len(vocabulary) > MAX_CATEGORIES:
        msg = (
            f"screen_to_parquet codes a category in one byte: {len(vocabulary)} categories are "
            f"more than {MAX_CATEGORIES}; screen with campus_geo.screen.screen"
        )
        raise InputDataError(msg)

    def prepare_schools() -> SchoolInput:
        kinds = straight_profiles(rule_table, profile, dist, list(vocabulary), skip)
        prepared = read_school_input(schools, entrances, kinds)
        log.debug("schools read and projected at %.2f s", time.perf_counter() - start)
        return prepared

    # the schools are prepared while the points are indexed (reading the hazards on a
    # thread beside them was slower: Arrow's own threads and GEOS fought over the cores)
    if isinstance(hazards, str | Path):
        table, prepared = read_hazard_table(Path(hazards), prepare_schools, vocabulary)
        give_back_arrow_memory()  # what decoding the file freed (engine.parallel)
    else:
        checked = validate_hazards(hazards, categories=vocabulary)
        table = hazard_table(checked, vocabulary, index_order=True)
        prepared = prepare_schools()
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
    setup, cuts, candidates = planned_blocks(setup, plans)
    log.info(
        "%d schools and %d hazards read and indexed in %.1f s; measuring %d blocks on %d threads",
        len(school_layer),
        len(table.ids),
        time.perf_counter() - start,
        len(cuts) - 1,
        setup.ctx.workers,
    )
    by_rule = rule_texts(rule_list)
    hazard_texts, hazard_rank = texts_in_position_order(
        {"ids": table.ids, "names": table.names}, table.rank, candidates
    )
    texts = _Texts(
        school=_school_texts(school_layer),
        hazard_ids=hazard_texts["ids"],
        hazard_names=hazard_texts["names"],
        hazard_rank=hazard_rank,
        categories=pa.array(list(vocabulary), pa.large_string()),
        rules={name: pa.array(values, pa.large_string()) for name, values in by_rule.items()},
        thresholds=np.array([rule.distance_m for rule in rule_list], dtype=np.float64),
    )
    del table, hazard_texts  # the texts in input order let go when reordered
    out = Path(filepath)
    _clear(out)
    _schema()  # made once here, before the worker threads read it

    def task(i: int) -> npt.NDArray[np.uint64]:
        lo, hi = int(cuts[i]), int(cuts[i + 1])
        pairs = screen_block(setup, plans, lo, hi)
        if not pairs:
            return np.empty(0, dtype=np.uint64)
        _write(_findings_table(pairs, texts, setup.ctx.haz, lo, hi), out / f"part.{i:05d}.parquet")
        hashes: npt.NDArray[np.uint64] = pairs["_id"]
        return hashes

    written = list(run_chunks(task, len(cuts) - 1, workers=setup.ctx.workers))
    # sorted once, in place, by the check (numpy's default sort of 64-bit integers: 7.2
    # million in 0.04 s, where a merging sort of sorted runs took 0.14-0.26 s)
    hashes = np.concatenate([np.empty(0, dtype=np.uint64), *written])
    try:
        check_unique_ids(hashes, threads=setup.ctx.workers, in_place=True)
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
