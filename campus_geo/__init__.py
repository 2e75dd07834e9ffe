"""campus_geo: exact safety-zone screening around schools and kindergartens.

The parts, in the direction data flows (each imports only the ones before it):

- the core, at the top of the package: :mod:`~campus_geo.settings`,
  :mod:`~campus_geo.category_registry` (the hazard categories),
  :mod:`~campus_geo.categories` (classification), :mod:`~campus_geo.coords`,
  :mod:`~campus_geo.geodesy`, :mod:`~campus_geo.rules`, the walking :mod:`~campus_geo.network`, the
  :mod:`~campus_geo.engine` and :func:`campus_geo.screen.screen`;
- :mod:`~campus_geo.sources`: OSM, GIS files, tables, registries, rosters -> layers;
- :mod:`~campus_geo.maps` and :mod:`~campus_geo.analyses` (water, traffic, cameras);
- :mod:`~campus_geo.scale`: the same screening streamed or on dask;
- :mod:`~campus_geo.reports`: the 排查表, summary, evidence sheets, charts;
- :mod:`~campus_geo.ledger`, then :mod:`~campus_geo.demo` and :mod:`~campus_geo.cli`.

Submodules load on first use (``campus_geo.maps`` imports folium only when it is
touched), so ``import campus_geo`` and ``campus-geo --help`` stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from campus_geo._errors import (
    CampusGeoError,
    CampusGeoWarning,
    CoordinateWarning,
    FontMissingError,
    InputDataError,
    LedgerError,
    RejectedRowsWarning,
    RulesError,
)
from campus_geo._version import __version__

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from campus_geo import (
        analyses,
        cameras,
        categories,
        category_registry,
        charts,
        coords,
        demo,
        engine,
        evidence,
        fonts,
        geodesy,
        layers,
        ledger,
        maps,
        network,
        provenance,
        registry,
        report,
        reports,
        roster,
        rules,
        scale,
        screen,
        settings,
        sources,
        stream,
        summary,
        traffic,
        water,
    )

__all__ = [
    "CampusGeoError",
    "CampusGeoWarning",
    "CoordinateWarning",
    "FontMissingError",
    "InputDataError",
    "LedgerError",
    "RejectedRowsWarning",
    "RulesError",
    "__version__",
    "analyses",
    "cameras",
    "categories",
    "category_registry",
    "charts",
    "coords",
    "demo",
    "engine",
    "evidence",
    "fonts",
    "geodesy",
    "layers",
    "ledger",
    "maps",
    "network",
    "provenance",
    "registry",
    "report",
    "reports",
    "roster",
    "rules",
    "scale",
    "screen",
    "settings",
    "sources",
    "stream",
    "summary",
    "traffic",
    "water",
]

#: The submodules ``campus_geo.<name>`` gives on first use.
_SUBMODULES = frozenset({*__all__[9:], "cli"})


def __getattr__(name: str) -> Any:
    """Import ``campus_geo.<name>`` on first use (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"campus_geo.{name}")
    msg = f"module 'campus_geo' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES})
