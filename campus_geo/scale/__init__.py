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

#: The module of each name, imported when the name is first used (PEP 562): the stream
#: (``campus_geo.stream``, the CLI's province route) does not wait for dask and
#: dask-geopandas to import (0.5 s of the 0.9 s of ``import campus_geo.stream``).
_MODULES = {
    **dict.fromkeys(
        (
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
        ),
        "campus_geo.scale.dask_engine",
    ),
    **dict.fromkeys(
        ("STREAM_PROFILES", "screen_to_parquet", "wkb_lines"), "campus_geo.scale.stream"
    ),
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
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
