"""The same screening at province and nation scale.

- :mod:`~campus_geo.scale.stream`: GeoParquet in, GeoParquet out, block by block on one
  machine (``screen_to_parquet``);
- :mod:`~campus_geo.scale.dask_engine`: dask-geopandas partitions on a LocalCluster or
  any cluster (``screen_dask``), with :mod:`~campus_geo.scale.tasks` on the workers.

Both call the screening core through :mod:`campus_geo.engine`; their findings equal
:func:`campus_geo.screen.screen`'s.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campus_geo.scale.dask_engine import (
        CONNECT_TIMEOUT,
        DEFAULT_WORKERS,
        HAZARDS_PER_PARTITION,
        SCHOOLS_PER_PARTITION,
        STRAIGHT_PROFILES,
        TILE_DEG,
        partition_layer,
        reach_box,
        read_layer,
        save_findings_parquet,
        screen_dask,
        screen_dask_to_parquet,
    )
    from campus_geo.scale.stream import STREAM_PROFILES, screen_to_parquet, wkb_lines

#: The names of the stream's module; the others are the dask engine's. Each module is
#: imported when one of its names is first used (PEP 562): the stream
#: (``campus_geo.stream``, the CLI's province route) does not wait for dask and
#: dask-geopandas to import (0.5 s of the 0.9 s of ``import campus_geo.stream``).
_STREAM_NAMES = frozenset(["STREAM_PROFILES", "screen_to_parquet", "wkb_lines"])


def __getattr__(name: str) -> Any:
    if name not in __all__:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    stream = name in _STREAM_NAMES
    module = "campus_geo.scale.stream" if stream else "campus_geo.scale.dask_engine"
    return getattr(importlib.import_module(module), name)


__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_WORKERS",
    "HAZARDS_PER_PARTITION",
    "SCHOOLS_PER_PARTITION",
    "STRAIGHT_PROFILES",
    "STREAM_PROFILES",
    "TILE_DEG",
    "partition_layer",
    "reach_box",
    "read_layer",
    "save_findings_parquet",
    "screen_dask",
    "screen_dask_to_parquet",
    "screen_to_parquet",
    "wkb_lines",
]
