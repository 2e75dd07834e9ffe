"""The only places where campus_geo relies on private parts of other libraries.

Each adapter wraps what one library does not offer publicly, in as few lines as
possible, and ``tests/test_adapters.py`` pins the behaviour relied on, so that a
new release that changes it fails there, by name, rather than somewhere deep in a
map or a walk. The version ranges in ``pyproject.toml`` are the ones tested.

- :mod:`~campus_geo.adapters.osmnx`: osmnx's graph and geometry builders, for the
  street graph and the features of a PBF file (osmnx reads only XML);
- :mod:`~campus_geo.adapters.branca`: the parent, the children and the id of a
  branca element, for reproducible offline map pages;
- :mod:`~campus_geo.adapters.dask`: the empty frame (``_meta``) of a dask collection;
- :mod:`~campus_geo.adapters.geopandas`: a geometry column held as line end points
  (``GeometryArray``'s ``_data`` and ``_crs``), for the millions of measured lines;
- :mod:`~campus_geo.adapters.numpy`: numpy's huge-page advice, off while screening.
"""

from __future__ import annotations

__all__: list[str] = []
