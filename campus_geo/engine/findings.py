"""The findings table: its columns, notes and texts, assembled from measured pairs.

Part of the screening engine (:mod:`campus_geo.engine`): the in-memory
:func:`campus_geo.screen.screen` and the stream (:mod:`campus_geo.scale.stream`)
build their findings from these pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from campus_geo.adapters.geopandas import LineEnds
from campus_geo.engine.ids import check_unique_ids, fnv1a64, id_hash, id_strings
from campus_geo.engine.walk import (
    NOTE_NO_ENTRANCE_WALK,
)
from campus_geo.rules import Rule
from campus_geo.settings import CATEGORIES, DEFAULT_CRS

__all__ = [
    "END_COLUMNS",
    "FINDING_COLUMNS",
    "NOTE_INSIDE",
    "NOTE_NO_ENTRANCE",
    "NOTE_POINT_SCHOOL",
    "NOTE_TEXTS",
    "FrameTexts",
    "empty_findings",
    "empty_strings",
    "findings_frame",
    "frame_texts",
    "inside_notes",
    "rule_texts",
    "str_array",
]

IntArray = npt.NDArray[np.int64]

#: Columns of the findings layer, in order (findings.csv adds the end points).
FINDING_COLUMNS = [
    "school_id",
    "school_name",
    "township",
    "village",
    "hazard_id",
    "hazard_name",
    "category",
    "rule_id",
    "severity",
    "profile",
    "threshold_m",
    "distance_m",
    "basis",
    "lead_units",
    "responsible_units",
    "enforcing_units",
    "suggestion",
    "notes",
]

NOTE_POINT_SCHOOL = "校园边界未知，自学校点位量算 (outline unknown: measured from the school point)"
NOTE_NO_ENTRANCE = "无校门数据，自校园边界量算 (no entrance known: measured from the outline)"
NOTE_INSIDE = "位于校园内或紧邻围墙 (inside or touching the campus)"

#: Notes of findings, indexed by the note codes of :class:`Setup`.
NOTE_TEXTS: Final = ["", NOTE_POINT_SCHOOL, NOTE_NO_ENTRANCE, NOTE_NO_ENTRANCE_WALK]


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str"


def str_array(values: pd.Series | pd.Index) -> pd.api.extensions.ExtensionArray:
    """Text values as a pandas string array ("" for missing), without a copy when they are one."""
    array: pd.api.extensions.ExtensionArray
    if values.dtype == _STR and not values.hasnans:
        array = values.array
    else:
        array = pd.Series(values).fillna("").astype("str").array
    return array


def _str_column(gdf: gpd.GeoDataFrame, name: str) -> pd.api.extensions.ExtensionArray:
    """A text column as a pandas string array ("" for missing), to be indexed with take."""
    if name not in gdf.columns:
        return pd.array([""] * len(gdf), dtype="str")
    return str_array(gdf[name])


@dataclass(frozen=True)
class FrameTexts:
    """The text columns of findings, to be taken block by block on the worker threads.

    Arrow's take releases the GIL, so the blocks' texts are gathered while other
    blocks are measured, and the findings table's columns are the blocks' arrays,
    chunked, not copied again (see :func:`findings_frame`).
    """

    school: dict[str, pa.Array]  # school_id, school_name, township, village: a row a school
    hazard: dict[str, pa.Array]  # hazard_id, hazard_name: a row a hazard (input order)
    categories: pa.Array  # the text of each category code
    notes: pa.Array  # the note texts, then each with NOTE_INSIDE (see inside_notes)
    #: the row of `hazard` of each hazard position (None: the same); see Context.hazard_rank
    hazard_rank: IntArray | None = None
    #: the columns of `school` and `hazard` whose every text is "" (no village known, say):
    #: not taken, made once for the whole table by :func:`empty_strings`
    empty: frozenset[str] = frozenset()

    def take(
        self, pairs: dict[str, npt.NDArray[Any]], category: npt.NDArray[np.integer[Any]]
    ) -> dict[str, pa.Array]:
        """The text columns of some pairs (a block's, in findings order), but `empty`'s."""
        rows = pairs["_hazard"] if self.hazard_rank is None else self.hazard_rank[pairs["_hazard"]]
        s, h = pa.array(pairs["_school"]), pa.array(rows)
        out = {name: v.take(s) for name, v in self.school.items() if name not in self.empty}
        out.update({name: v.take(h) for name, v in self.hazard.items() if name not in self.empty})
        out["category"] = self.categories.take(pa.array(category[pairs["_hazard"]]))
        inside = pairs["distance_m"] == 0.0
        n_notes = len(self.notes) // 2
        out["notes"] = self.notes.take(pa.array(pairs["_note"] + n_notes * inside))
        return out

    def take_empty(self, n: int) -> dict[str, pa.Array]:
        """The `empty` columns of a table of `n` findings, each made once (:func:`empty_strings`)."""
        return {name: empty_strings(n) for name in self.empty}


def frame_texts(
    schools: gpd.GeoDataFrame,
    hazard_ids: pa.Array,
    hazard_names: pa.Array,
    note_texts: list[str],
    categories: Sequence[str] = CATEGORIES,
    *,
    hazard_rank: IntArray | None = None,
) -> FrameTexts:
    """The :class:`FrameTexts` of a screening's layers.

    `hazard_ids`, `hazard_names`: the hazards' texts as Arrow arrays in input order
    (:class:`campus_geo.engine.columns.HazardTable`), whose row of each hazard
    position is `hazard_rank`.
    """
    inside = [_with_inside(text) for text in note_texts]

    def arrow(values: pd.api.extensions.ExtensionArray) -> pa.Array:
        # one array: a take from a chunked array (a file read in row groups) concatenates
        # its chunks first, at every block
        array = pa.array(values)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array

    school = {
        "school_id": arrow(str_array(schools.index)),
        "school_name": arrow(_str_column(schools, "name")),
        "township": arrow(_str_column(schools, "township")),
        "village": arrow(_str_column(schools, "village")),
    }
    hazard = {"hazard_id": hazard_ids, "hazard_name": hazard_names}
    return FrameTexts(
        school=school,
        hazard=hazard,
        categories=pa.array(list(categories), pa.large_string()),
        notes=pa.array([*note_texts, *inside], pa.large_string()),
        hazard_rank=hazard_rank,
        empty=frozenset(name for name, a in {**school, **hazard}.items() if _all_empty(a)),
    )


def _all_empty(values: pa.Array) -> bool:
    """Whether every value of a text array is "" (none missing)."""
    return values.null_count == 0 and pc.sum(pc.binary_length(values)).as_py() in (0, None)


def empty_strings(n: int) -> pa.LargeStringArray:
    """`n` empty texts, without touching `n` rows of memory.

    Their offsets are all zero: numpy's zeros of that size are pages the kernel maps
    to its zero page until written (calloc), so a column of seven million empty
    texts holds no memory and costs no time to make (a take wrote 58 MB).
    """
    offsets = np.zeros(n + 1, dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"")]
    array: pa.LargeStringArray = pa.Array.from_buffers(pa.large_string(), n, buffers)
    return array


#: The findings' coordinate columns: the measured line's ends (ends[:, 0] ... ends[:, 3]).
END_COLUMNS: Final = ("school_lon", "school_lat", "hazard_lon", "hazard_lat")


def findings_frame(
    pairs: dict[str, npt.NDArray[Any]],
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame | None,
    category: npt.NDArray[np.integer[Any]],
    note_texts: list[str],
    rules: list[Rule],
    categories: Sequence[str] = CATEGORIES,
) -> gpd.GeoDataFrame:
    """Assemble the findings of pairs in findings order (take by position, no per-row Python).

    ``pairs["_note"]`` indexes `note_texts`; `category` holds each hazard's position in
    `categories`. `hazards` may be None when the pairs bring their texts (taken by
    :func:`~campus_geo.engine.pairs.screen_blocks` with :class:`FrameTexts`).
    """
    r, distance = pairs["_rule"], pairs["distance_m"]

    # the school and hazard positions and notes are needed only for what the pairs do not
    # bring (screen_blocks with FrameTexts brings texts and ids, and leaves them out)
    def s() -> IntArray:
        return pairs["_school"]  # type: ignore[no-any-return]

    def h() -> IntArray:
        return pairs["_hazard"]  # type: ignore[no-any-return]

    def rule_text(values: list[str]) -> pd.Categorical:
        # few distinct texts repeated per finding: a categorical shares them (no copies)
        uniques, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
        # codes in the smallest integer type the categorical keeps (no conversion pass)
        small = codes.astype(np.int8 if len(uniques) < 128 else np.int32)
        return pd.Categorical.from_codes(small[r], categories=pd.Index(uniques, dtype="str"))

    def of_hazards() -> gpd.GeoDataFrame:
        if hazards is None:
            msg = "findings_frame needs the hazards layer unless the pairs bring their texts"
            raise ValueError(msg)
        return hazards

    # Arrow's take releases the GIL: the text columns are gathered on two threads while
    # this one makes the ids. They stay text, not categoricals (which would hold each
    # school's texts once): an analyst who sets a cell to a new text would get an error.
    sources: dict[str, Any] = {
        "hazard_id": lambda: (str_array(of_hazards().index), h()),
        "hazard_name": lambda: (_str_column(of_hazards(), "name"), h()),
        "school_id": lambda: (str_array(schools.index), s()),
        "school_name": lambda: (_str_column(schools, "name"), s()),
        "township": lambda: (_str_column(schools, "township"), s()),
        "village": lambda: (_str_column(schools, "village"), s()),
        "category": lambda: (pd.array(list(categories), dtype="str"), category[h()]),
        "notes": lambda: _notes(pairs["_note"], distance, note_texts),
    }
    # texts taken block by block on the workers (screen_blocks with FrameTexts): chunked
    done = {name: pd.array(pairs[name], dtype="str") for name in sources if name in pairs}
    gather = {name: source() for name, source in sources.items() if name not in done}
    with ThreadPoolExecutor(max_workers=3) as pool:
        taken = {name: pool.submit(values.take, rows) for name, (values, rows) in gather.items()}
        if "_id" in pairs:
            hashes = pairs["_id"]
        else:  # walked pairs: hashed here
            hashes = id_hash(
                fnv1a64(str_array(schools.index).take(s())),
                fnv1a64(str_array(of_hazards().index).take(h())),
                fnv1a64([x.id for x in rules])[r],
            )
        # the check for equal ids sorts them (on threads of its own) while this one formats
        digits = pairs.get("_hex")  # formatted on the worker threads (screen_blocks)
        # the ids formatted already: the hashes are not read again, and are sorted in place
        # (the pairs' "_id" is left sorted)
        unique = pool.submit(check_unique_ids, hashes, threads=2, in_place=digits is not None)
        index = pd.Index(id_strings(hashes, check_unique=False, digits=digits), name="finding_id")
        text = {**done, **{name: future.result() for name, future in taken.items()}}
        unique.result()
    by_rule = rule_texts(rules)
    data = {
        "school_id": text["school_id"],
        "school_name": text["school_name"],
        "township": text["township"],
        "village": text["village"],
        "hazard_id": text["hazard_id"],
        "hazard_name": text["hazard_name"],
        "category": text["category"],
        "rule_id": rule_text(by_rule["rule_id"]),
        "severity": rule_text(by_rule["severity"]),
        "profile": rule_text(by_rule["profile"]),
        "threshold_m": np.array([x.distance_m for x in rules], dtype=np.float64)[r],
        "distance_m": distance,
        "basis": rule_text(by_rule["basis"]),
        "lead_units": rule_text(by_rule["lead_units"]),
        "responsible_units": rule_text(by_rule["responsible_units"]),
        "enforcing_units": rule_text(by_rule["enforcing_units"]),
        "suggestion": rule_text(by_rule["suggestion"]),
        "notes": text["notes"],
        # the coordinate columns: gathered with the pairs (screen_blocks with FrameTexts) or
        # copied here from the lines' `ends` (a user may write to the columns)
        **{
            name: pairs[name] if name in pairs else pairs["ends"][:, j].copy()
            for j, name in enumerate(END_COLUMNS)
        },
    }
    # copy=False: each column its own block, not stacked into one 2-D block of floats (a
    # copy of every float column: 0.6 s and 350 MB at 7 million findings)
    frame = gpd.GeoDataFrame(data, index=index, copy=False)
    if "geometry" in pairs:  # the walk profile's routes
        lines = pairs["geometry"]
    elif "ends" in pairs:
        lines = LineEnds(pairs["ends"], crs=DEFAULT_CRS)
    else:  # the measured lines on the frame's own coordinate columns, not a copy of them
        lines = LineEnds.of_columns([frame[name] for name in END_COLUMNS], crs=DEFAULT_CRS)
    # an array, not a GeoSeries: no alignment on the index (a copy of the lines)
    frame.set_geometry(lines, inplace=True, crs=DEFAULT_CRS)
    return frame


def _notes(
    note_code: IntArray, distance: npt.NDArray[np.float64], note_texts: list[str]
) -> tuple[pd.api.extensions.ExtensionArray, IntArray]:
    """The notes' texts and each finding's row of them (NOTE_INSIDE added where inside)."""
    code, texts = inside_notes(note_code, distance, note_texts)
    return pd.array(texts, dtype="str"), code


def rule_texts(rules: list[Rule]) -> dict[str, list[str]]:
    """The text columns a finding takes from its rule: column -> one text per rule."""
    return {
        "rule_id": [x.id for x in rules],
        "severity": [x.severity for x in rules],
        "profile": [x.profile for x in rules],
        "basis": [x.basis for x in rules],
        "lead_units": ["、".join(x.lead_units) for x in rules],
        "responsible_units": ["、".join(x.responsible_units) for x in rules],
        # the first is the main enforcing unit, the others participate (a ledger case's units)
        "enforcing_units": ["、".join(x.enforcing_units) for x in rules],
        "suggestion": [x.suggestion for x in rules],
    }


def _with_inside(text: str) -> str:
    """A note with NOTE_INSIDE added (the note of a venue inside the campus)."""
    return f"{text}；{NOTE_INSIDE}" if text else NOTE_INSIDE


def inside_notes(
    note_code: IntArray, distance: npt.NDArray[np.float64], note_texts: list[str]
) -> tuple[IntArray, list[str]]:
    """Note codes and texts, with NOTE_INSIDE added to the notes of venues inside the campus."""
    note_code = note_code.copy()
    texts = list(note_texts)
    inside = distance == 0.0
    for code in np.unique(note_code[inside]):
        texts.append(_with_inside(texts[code]))
        note_code[inside & (note_code == code)] = len(texts) - 1
    return note_code, texts


def empty_findings() -> gpd.GeoDataFrame:
    """A findings layer with no rows and every column of :data:`FINDING_COLUMNS`."""
    cols = {c: pd.Series(dtype=float if c.endswith("_m") else object) for c in FINDING_COLUMNS}
    for c in ("school_lon", "school_lat", "hazard_lon", "hazard_lat"):
        cols[c] = pd.Series(dtype=float)
    empty = gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=DEFAULT_CRS), crs=DEFAULT_CRS)
    empty.index.name = "finding_id"
    return empty
