"""The empty frame that describes a dask (geo)DataFrame's columns and dtypes.

dask keeps it in ``_meta``; ``map_partitions(..., meta=...)`` needs the meta of the
frame a function returns, computed here by calling the function on the input's
own meta. Pinned by ``tests/test_adapters.py``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["meta_of"]


def meta_of(collection: Any) -> Any:
    """The empty (geo)pandas frame with `collection`'s columns, dtypes, index and CRS."""
    return collection._meta
