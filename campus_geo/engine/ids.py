"""Stable finding ids, computed for millions of findings without a Python loop.

A finding id is 16 lowercase hex digits of a 64-bit hash of its school id,
hazard id and rule id. The ledger follows a finding from one monthly screening
to the next by this id, so its definition must never change with a library's
version: it is spelled out here in full rather than taken from a hash
function whose output a library does not promise to keep (pandas'
``hash_array``, polars' ``hash``), and computed in numpy because hashing each
finding in Python (``hashlib``) takes about 1.3 s per million findings, more
than the whole geodesic measurement.

The hash: FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/, public domain)
of the UTF-8 bytes of each of the three ids, chained through the MurmurHash3
64-bit finaliser ``fmix64``::

    h = fmix64(fnv(school_id))
    h = fmix64(h ^ fnv(hazard_id))
    h = fmix64(h ^ fnv(rule_id))

Each id string is hashed once per distinct value and the chain runs on uint64
arrays, so the cost per finding is a few vector operations. 64 bits make a
collision among five million findings about as likely as one in a million;
:func:`id_strings` checks for one and refuses to return duplicate ids.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

__all__ = [
    "check_unique_ids",
    "fnv1a64",
    "has_duplicates",
    "hex_array",
    "hex_digits",
    "hex_ids",
    "id_hash",
    "id_strings",
]

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_FMIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_2 = np.uint64(0xC4CEB9FE1A85EC53)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: The two hex digits of each octet 0..255 as one 2-byte value (its bytes in order): one
#: lookup per octet, 7 million ids in 0.1 s instead of 1.1 s one digit at a time
_HEX_PAIRS = (
    np.column_stack([_HEX[np.arange(256) >> 4], _HEX[np.arange(256) & 0xF]])
    .copy()
    .view(np.uint16)[:, 0]
)

U64 = npt.NDArray[np.uint64]


def _utf8(values: Sequence[str] | pd.Index | pd.Series | pa.Array) -> pa.LargeStringArray:
    """The values as one Arrow large_string array (its data buffer holds the UTF-8 bytes).

    pandas' "str" arrays are Arrow arrays already: taken without a copy.
    """
    if isinstance(values, pd.Index | pd.Series):
        values = values.array
    if hasattr(values, "__arrow_array__"):
        values = pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(np.asarray(values, dtype=object), type=pa.large_string())
    array = values.cast(pa.large_string())
    if array.null_count:
        raise ValueError("ids must not be missing")
    return array


def fnv1a64(
    values: Sequence[str] | pd.Index | pd.Series | pa.Array, *, out: U64 | None = None
) -> U64:
    """FNV-1a 64 of the UTF-8 bytes of each string, vectorised over the strings.

    `out`: an array of as many uint64 to write the hashes into (returned).

    Examples
    --------
    >>> hex(int(fnv1a64(["a"])[0]))  # the published test vector of FNV-1a 64 for "a"
    '0xaf63dc4c8601ec8c'
    """
    array = _utf8(values)
    n = len(array)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + n + 1]
    data_buffer = array.buffers()[2]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(1, np.uint8)
    )
    start, length = offsets[:-1], np.diff(offsets)
    h = np.empty(n, dtype=np.uint64) if out is None else out
    h[:] = _FNV_OFFSET
    if not n:
        return h
    # one step per byte position (uint64 arithmetic wraps: intended), over every string
    # while all are that long, then over the strings that still are; in place, on one
    # buffer of byte positions and one of bytes (not five fresh arrays per step)
    shortest, longest = int(length.min()), int(length.max())
    if shortest == longest:  # ids of one length (generated ones): the bytes are a grid
        grid = data[offsets[0] : offsets[0] + n * shortest].reshape(n, shortest)
        for j in range(shortest):
            h ^= grid[:, j]
            h *= _FNV_PRIME
        return h
    at, byte = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.uint8)
    for j in range(shortest):
        np.add(start, j, out=at)
        h ^= data.take(at, out=byte)
        h *= _FNV_PRIME
    rows = np.arange(n)
    for j in range(shortest, longest):
        rows = rows[length[rows] > j]
        h[rows] = (h[rows] ^ data[start[rows] + j].astype(np.uint64)) * _FNV_PRIME
    return h


def _fmix64(h: U64) -> U64:
    h = h ^ (h >> np.uint64(33))
    h = h * _FMIX_1
    h = h ^ (h >> np.uint64(33))
    h = h * _FMIX_2
    return h ^ (h >> np.uint64(33))


def hex_digits(h: U64) -> npt.NDArray[np.uint8]:
    """16 lowercase hex digits (ASCII) of each uint64, one row of 16 bytes per hash."""
    octets = np.ascontiguousarray(h, dtype=np.uint64).view(np.uint8).reshape(-1, 8)
    if sys.byteorder == "little":  # most significant first, without a byte-swapped copy
        octets = octets[:, ::-1]
    # each octet's two digits in one lookup of a 256-entry table of digit pairs
    pairs = _HEX_PAIRS[octets]  # indexing by uint8: 3x faster than take
    digits: npt.NDArray[np.uint8] = pairs.view(np.uint8).reshape(-1, 16)
    return digits


def hex_array(h: U64, digits: npt.NDArray[np.uint8] | None = None) -> pa.LargeStringArray:
    """16 lowercase hex digits of each uint64, as an Arrow large_string array (no Python loop).

    `digits`: the :func:`hex_digits` of `h`, when made already (on worker threads, say):
    the array is then built on that buffer without copying it.
    """
    if digits is None:
        digits = hex_digits(h)
    n = len(digits)
    offsets = np.arange(0, 16 * n + 1, 16, dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(digits))]
    array: pa.LargeStringArray = pa.Array.from_buffers(pa.large_string(), n, buffers)
    return array


def hex_ids(h: U64, digits: npt.NDArray[np.uint8] | None = None) -> pd.arrays.ArrowStringArray:
    """16 lowercase hex digits of each uint64, as a pandas string array (no Python loop)."""
    ids: pd.arrays.ArrowStringArray = pd.array(hex_array(h, digits), dtype="str")  # type: ignore[assignment]
    return ids


#: Hashes from which :func:`has_duplicates` sorts in parts on threads.
PARTS_FROM = 1 << 20


def has_duplicates(
    h: U64, *, ordered: bool = False, threads: int = 1, in_place: bool = False
) -> bool:
    """Whether two of the hashes are equal (`ordered`: they are sorted already).

    `in_place`: sort `h` itself (no copy of it: on the virtual machines this project
    is measured on, fresh memory costs more to touch than the sort). `threads` > 1:
    the hashes are first partitioned in place about their median (numpy's
    introselect), then the parts are sorted on threads (numpy's sort releases the
    GIL): 7.2 million in 0.03 s instead of 0.04 s on two cores (numpy 2.4's SIMD sort).
    """
    if not ordered:
        h = h if in_place else h.copy()
        n, parts = len(h), max(1, min(threads, len(h) // PARTS_FROM))
        if parts > 1:
            cuts = [n * i // parts for i in range(parts + 1)]
            h.partition(cuts[1:-1])  # every part's values below the next part's
            with ThreadPoolExecutor(parts) as pool:
                list(pool.map(np.ndarray.sort, [h[a:b] for a, b in itertools.pairwise(cuts)]))
        else:
            h.sort()
    return bool((h[1:] == h[:-1]).any())


def id_hash(school_hash: U64, hazard_hash: U64, rule_hash: U64) -> U64:
    """The 64-bit finding hashes from the FNV-1a hashes of school, hazard and rule ids."""
    h = _fmix64(school_hash)
    h = _fmix64(h ^ hazard_hash)
    return _fmix64(h ^ rule_hash)


def id_strings(
    h: U64, *, check_unique: bool = True, digits: npt.NDArray[np.uint8] | None = None
) -> pd.arrays.ArrowStringArray:
    """The finding ids (16 hex digits) of finding hashes.

    Raises
    ------
    ValueError
        With `check_unique`, when two findings hash alike (about one chance in a
        million for five million findings): better no ids than a ledger that
        mixes two cases.

    `digits`: their :func:`hex_digits`, when made already.
    """
    if check_unique:
        check_unique_ids(h)
    return hex_ids(h, digits)


def check_unique_ids(
    h: U64, *, ordered: bool = False, threads: int = 1, in_place: bool = False
) -> None:
    """Raise ValueError when two finding hashes are equal (see :func:`id_strings`).

    `ordered`: the hashes are sorted already; `threads`, `in_place` (`h` is left
    sorted): see :func:`has_duplicates`.
    """
    if len(h) > 1 and has_duplicates(h, ordered=ordered, threads=threads, in_place=in_place):
        msg = (
            "two findings have the same 64-bit id; report this (with the input files) "
            "so the id can be widened"
        )
        raise ValueError(msg)
