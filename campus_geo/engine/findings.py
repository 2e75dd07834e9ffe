"""The findings table: its columns, notes and texts, assembled from measured pairs.

Part of the screening engine (:mod:`campus_geo.engine`): the in-memory
:func:`campus_geo.screen.screen` and the stream (:mod:`campus_geo.scale.stream`)
build their findings from these pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from campus_geo.adapters.geopandas import LineEnds
from campus_geo.engine.ids import check_unique_ids, fnv1a64, hex_array, id_hash, id_strings
from campus_geo.engine.walk import (
    NOTE_NO_ENTRANCE_WALK,
)
from campus_geo.rules import Rule
from campus_geo.settings import CATEGORIES, DEFAULT_CRS

__all__ = [
    "CODED_COLUMNS",
    "END_COLUMNS",
    "FINDING_COLUMNS",
    "NOTE_INSIDE",
    "NOTE_NO_ENTRANCE",
    "NOTE_POINT_SCHOOL",
    "NOTE_TEXTS",
    "TEXT_ORDER_PAIRS_PER_HAZARD",
    "CodedTexts",
    "FrameTexts",
    "empty_findings",
    "empty_strings",
    "findings_frame",
    "frame_texts",
    "inside_notes",
    "rule_texts",
    "str_array",
    "texts_in_position_order",
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


def code_dtype(n: int) -> np.dtype[Any]:
    """The integer type of the codes of a categorical of `n` categories.

    The type pandas itself gives them (``coerce_indexer_dtype``): codes made in it are
    kept as they are, not converted (a copy of every finding's code).
    """
    for kind in (np.int8, np.int16, np.int32):
        if n < np.iinfo(kind).max:
            return np.dtype(kind)
    return np.dtype(np.int64)


@dataclass(frozen=True)
class CodedTexts:
    """A text column of few distinct values (a school's, say) as a categorical's parts.

    `categories`: the distinct texts, sorted; `codes`: each source row's position
    among them. The findings' column of these texts is a categorical whose codes are
    taken by the findings' source rows: a code of one or two bytes a finding, not a
    copy of its text (a school's name is repeated in each of its findings).
    """

    categories: pd.Index
    codes: npt.NDArray[np.signedinteger[Any]]

    @classmethod
    def of(cls, values: pd.api.extensions.ExtensionArray) -> CodedTexts:
        """The coded texts of `values` (text, none missing: see :func:`str_array`)."""
        codes, uniques = pd.Index(values, dtype="str").factorize(sort=True)
        return cls(pd.Index(uniques), codes.astype(code_dtype(len(uniques))))

    @property
    def single(self) -> bool:
        """Whether every source row has the one text (no village known, say)."""
        return len(self.categories) == 1

    def take(self, rows: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.signedinteger[Any]]:
        """The codes of source rows `rows`.

        Indexed, not taken: numpy's take turns indices of one byte (a rule's position,
        a category code) into a copy of eight bytes each first, and the eight rule
        texts of seven million findings took 0.36 s that way against 0.16 s.
        """
        codes: npt.NDArray[np.signedinteger[Any]] = self.codes[rows]
        return codes

    def zeros(self, n: int) -> npt.NDArray[np.signedinteger[Any]]:
        """The codes of `n` rows of the first text (all the rows, when :attr:`single`).

        Zeros that numpy allocates with calloc: a column of seven million findings'
        codes holds no memory until written (see :func:`empty_strings`).
        """
        return np.zeros(n, self.codes.dtype)

    def column(
        self,
        codes: npt.NDArray[np.signedinteger[Any]],
        seen: npt.NDArray[np.bool_] | None = None,
    ) -> pd.Categorical:
        """The findings' categorical of `codes` (made by :meth:`take`; rewritten in place).

        Its categories are the texts the findings took, sorted, as a text column's
        distinct values are (no school without findings counted zero times), and the
        same however the findings were cut into parts (the dask engine's partitions
        join as one). `seen`: which source rows the findings took, when known already
        (the blocks of :class:`FrameTexts` mark them); else read from `codes`.
        """
        found = np.zeros(len(self.categories), dtype=bool)
        if seen is None:
            found[codes] = True
        else:
            found[self.codes[seen]] = True
        categories = self.categories
        if not found.all():  # renumbered: the codes of the texts found, in their order
            lookup = (np.cumsum(found) - 1).astype(codes.dtype)
            lookup.take(codes, out=codes)
            categories = categories[found]
        dtype = pd.CategoricalDtype(categories)
        return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


#: Candidate pairs a hazard from which a screening puts the hazards' texts (ids, names) in
#: the order of its hazard positions once, before the blocks take them
#: (:func:`texts_in_position_order`). The positions are the points' index order, the texts
#: the input's: taken by rank, a block's texts are read all over the input (7.2 million
#: taken of a million ids: 0.38 s, against 0.05 s in position order), while the reordering
#: takes every text once at random (a million ids: 0.12-0.15 s). A dense district (11.6 a
#: hazard) gains; a province (under 2 a hazard, five million venues) would lose.
TEXT_ORDER_PAIRS_PER_HAZARD: Final = 6.0


def texts_in_position_order(
    texts: dict[str, pa.Array],
    rank: npt.NDArray[np.signedinteger[Any]] | None,
    pairs: int,
) -> tuple[dict[str, pa.Array], npt.NDArray[np.signedinteger[Any]] | None]:
    """The hazards' `texts` and their `rank`, put in position order when `pairs` make it pay.

    `rank`: the row of `texts` of each hazard position (None: the same); `pairs`:
    about how many candidate pairs the screening measures. Returns the texts
    taken by rank and None when `pairs` reach :data:`TEXT_ORDER_PAIRS_PER_HAZARD`
    a hazard, else `texts` and `rank` as given. The findings are the same either way.
    """
    if rank is None or not texts or pairs < TEXT_ORDER_PAIRS_PER_HAZARD * len(rank):
        return texts, rank
    rows = pa.array(rank)
    with ThreadPoolExecutor(len(texts)) as pool:  # Arrow's take releases the GIL
        ordered = list(pool.map(lambda values: values.take(rows), texts.values()))
    return dict(zip(texts, ordered, strict=True)), None


#: The findings' text columns held as categoricals (besides the rule texts): a school's
#: texts and the category. Setting a cell to a text not among the categories is an error
#: in pandas: ``findings[c] = findings[c].astype("str")`` first (see the README).
CODED_COLUMNS: Final = ("school_id", "school_name", "township", "village", "category")


@dataclass(frozen=True)
class FrameTexts:
    """The text columns of findings, to be taken block by block on the worker threads.

    Arrow's take releases the GIL, so the blocks' texts are gathered while other
    blocks are measured, and the findings table's columns are the blocks' arrays,
    chunked, not copied again (see :func:`findings_frame`). The :data:`CODED_COLUMNS`
    are codes taken by numpy (see :class:`CodedTexts`).
    """

    school: dict[str, CodedTexts]  # school_id, school_name, township, village: a row a school
    #: hazard_id, hazard_name: a row a hazard, in input order (or in position order, with
    #: `hazard_rank` None: see :meth:`in_position_order`)
    hazard: dict[str, pa.Array]
    category: CodedTexts  # the vocabulary: a row each category code
    notes: pa.Array  # the note texts, then each with NOTE_INSIDE (see inside_notes)
    #: the row of `hazard` of each hazard position (None: the same); see Context.hazard_rank
    hazard_rank: npt.NDArray[np.signedinteger[Any]] | None = None
    #: the columns of `hazard` whose every text is "" (no name known, say): not taken,
    #: made once for the whole table by :func:`empty_strings`
    empty: frozenset[str] = frozenset()
    #: the schools and category codes some block took (set by :meth:`take`)
    seen_school: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    seen_category: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))

    def in_position_order(self, pairs: int) -> FrameTexts:
        """These texts, the hazards' in position order if `pairs` candidate pairs make it pay.

        See :func:`texts_in_position_order`; the `empty` ones, never taken, are left.
        """
        taken = {name: v for name, v in self.hazard.items() if name not in self.empty}
        ordered, rank = texts_in_position_order(taken, self.hazard_rank, pairs)
        if rank is self.hazard_rank:
            return self
        return replace(self, hazard={**self.hazard, **ordered}, hazard_rank=rank)

    def take(
        self, pairs: dict[str, npt.NDArray[Any]], category: npt.NDArray[np.integer[Any]]
    ) -> dict[str, Any]:
        """The text columns of some pairs (a block's, in findings order) but :meth:`constant`'s.

        Arrow arrays of the hazards' texts and notes; numpy codes of the
        :data:`CODED_COLUMNS` (:meth:`coded` makes them categoricals).
        """
        rows = pairs["_hazard"] if self.hazard_rank is None else self.hazard_rank[pairs["_hazard"]]
        s, h = pairs["_school"], pa.array(rows)
        codes = category.take(pairs["_hazard"])
        # threads write True to the same flags: the same outcome in any order
        self.seen_school[s] = True
        self.seen_category[codes] = True
        out: dict[str, Any] = {name: v.take(s) for name, v in self.school.items() if not v.single}
        out.update({name: v.take(h) for name, v in self.hazard.items() if name not in self.empty})
        out["category"] = self.category.take(codes)
        inside = pairs["distance_m"] == 0.0
        n_notes = len(self.notes) // 2
        out["notes"] = self.notes.take(pa.array(pairs["_note"] + n_notes * inside))
        return out

    def constant(self, n: int) -> dict[str, Any]:
        """The columns of a table of `n` findings not taken by blocks, each made once.

        The hazards' `empty` texts (:func:`empty_strings`) and the codes of a school
        text that is one for all (no village known, say; :meth:`CodedTexts.zeros`).
        """
        out: dict[str, Any] = {name: empty_strings(n) for name in self.empty}
        out.update({name: v.zeros(n) for name, v in self.school.items() if v.single})
        return out

    def coded(self, pairs: dict[str, Any]) -> dict[str, pd.Categorical]:
        """The :data:`CODED_COLUMNS` of the gathered pairs, as categoricals on their codes."""
        out = {name: v.column(pairs[name], self.seen_school) for name, v in self.school.items()}
        out["category"] = self.category.column(pairs["category"], self.seen_category)
        return out


def frame_texts(
    schools: gpd.GeoDataFrame,
    hazard_ids: pa.Array,
    hazard_names: pa.Array,
    note_texts: list[str],
    categories: Sequence[str] = CATEGORIES,
    *,
    hazard_rank: npt.NDArray[np.signedinteger[Any]] | None = None,
) -> FrameTexts:
    """The :class:`FrameTexts` of a screening's layers.

    `hazard_ids`, `hazard_names`: the hazards' texts as Arrow arrays in input order
    (:class:`campus_geo.engine.columns.HazardTable`), whose row of each hazard
    position is `hazard_rank`.
    """
    inside = [_with_inside(text) for text in note_texts]
    hazard = {"hazard_id": hazard_ids, "hazard_name": hazard_names}
    return FrameTexts(
        school=school_texts(schools),
        hazard=hazard,
        category=category_texts(categories),
        notes=pa.array([*note_texts, *inside], pa.large_string()),
        hazard_rank=hazard_rank,
        empty=frozenset(name for name, a in hazard.items() if _all_empty(a)),
        seen_school=np.zeros(len(schools), dtype=bool),
        seen_category=np.zeros(len(categories), dtype=bool),
    )


def category_texts(categories: Sequence[str]) -> CodedTexts:
    """The category vocabulary, coded: a row each category code, its categories sorted."""
    return CodedTexts.of(pd.array(list(categories), dtype="str"))


def school_texts(schools: gpd.GeoDataFrame) -> dict[str, CodedTexts]:
    """The findings' texts of each school (id, name, township, village), coded."""
    return {
        "school_id": CodedTexts.of(str_array(schools.index)),
        "school_name": CodedTexts.of(_str_column(schools, "name")),
        "township": CodedTexts.of(_str_column(schools, "township")),
        "village": CodedTexts.of(_str_column(schools, "village")),
    }


def _all_empty(values: pa.Array) -> bool:
    """Whether every value of a text array is "" (none missing).

    From the array's first and last offsets when it is one array of (large) strings:
    the lengths of every text took 0.2 s of five million venues' ids, on one core.
    """
    if values.null_count:
        return False
    if not len(values):
        return True
    kind = values.type
    if isinstance(values, pa.Array) and (
        pa.types.is_string(kind) or pa.types.is_large_string(kind)
    ):
        width = np.int64 if pa.types.is_large_string(kind) else np.int32
        offsets = np.frombuffer(values.buffers()[1], dtype=width)
        return bool(offsets[values.offset + len(values)] == offsets[values.offset])
    return pc.sum(pc.binary_length(values)).as_py() in (0, None)


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
        # few distinct texts repeated per finding: a categorical shares them (no copies);
        # its categories are the texts of the screening's rules, sorted
        coded = CodedTexts.of(pd.array(values, dtype="str"))
        dtype = pd.CategoricalDtype(coded.categories)
        return pd.Categorical.from_codes(coded.take(r), dtype=dtype, validate=False)

    def of_hazards() -> gpd.GeoDataFrame:
        if hazards is None:
            msg = "findings_frame needs the hazards layer unless the pairs bring their texts"
            raise ValueError(msg)
        return hazards

    # Arrow's take releases the GIL: the hazards' texts and the notes are gathered on two
    # threads while this one makes the ids. They stay text, not categoricals (each is
    # nearly unique, or one an analyst may write); a school's texts and the category are
    # categoricals (CODED_COLUMNS, see CodedTexts).
    sources: dict[str, Any] = {
        "hazard_id": lambda: (str_array(of_hazards().index), h()),
        "hazard_name": lambda: (_str_column(of_hazards(), "name"), h()),
        "notes": lambda: _notes(pairs["_note"], distance, note_texts),
    }
    # texts taken block by block on the workers (screen_blocks with FrameTexts): chunked,
    # and the coded columns as categoricals
    done: dict[str, Any] = {
        name: values if isinstance(values, pd.Categorical) else pd.array(values, dtype="str")
        for name, values in pairs.items()
        if name in sources or name in CODED_COLUMNS
    }
    if not all(name in done for name in CODED_COLUMNS):  # coded here (walked pairs)
        done.update({name: v.column(v.take(s())) for name, v in school_texts(schools).items()})
        vocabulary = category_texts(categories)
        done["category"] = vocabulary.column(vocabulary.take(category[h()]))
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
        if "_id" in pairs:
            # formatted in two halves on two threads (the table's index: two chunks), then
            # sorted in place for the check (the pairs' "_id" is left sorted). Not on the
            # measuring threads: their findings would hold 16 more bytes each at the
            # screening's peak of memory, when the hazards are still held
            half = len(hashes) // 2
            halves = [pool.submit(hex_array, part) for part in (hashes[:half], hashes[half:])]
            ids = pa.chunked_array([future.result() for future in halves], pa.large_string())
            unique = pool.submit(check_unique_ids, hashes, threads=2, in_place=True)
            index = pd.Index(pd.array(ids, dtype="str"), name="finding_id")
        else:  # the check sorts a copy of them on threads of its own while this one formats
            unique = pool.submit(check_unique_ids, hashes, threads=2)
            index = pd.Index(id_strings(hashes, check_unique=False), name="finding_id")
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
