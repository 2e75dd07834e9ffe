"""The ``campus-geo`` command: screen, form, demo, ledger.

- :mod:`~campus_geo.cli.main`: the command group, ``screen``, ``form``, ``demo``,
  logging and the exit statuses;
- :mod:`~campus_geo.cli.common`: errors turned into exit status 2 with their message;
- :mod:`~campus_geo.cli.sources`, :mod:`~campus_geo.cli.maps`,
  :mod:`~campus_geo.cli.analyses`, :mod:`~campus_geo.cli.scale`: the options and the
  glue of each part; :mod:`~campus_geo.cli.ledger`: ``campus-geo ledger ...``.

Only click and the light core load before a command runs: ``campus-geo --help``
imports no geopandas, matplotlib or folium.
"""

from __future__ import annotations

from campus_geo.cli.main import cli, main

__all__ = ["cli", "main"]
