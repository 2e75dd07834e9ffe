"""campus_geo: exact safety-zone screening around schools and kindergartens."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("campus_geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

from . import (
    categories,
    charts,
    coords,
    evidence,
    fonts,
    geodesy,
    layers,
    ledger,
    maps,
    provenance,
    registry,
    report,
    roster,
    rules,
    screen,
    settings,
    summary,
)
from ._errors import CampusGeoError, FontMissingError, InputDataError, LedgerError, RulesError

__all__ = [
    "CampusGeoError",
    "FontMissingError",
    "InputDataError",
    "LedgerError",
    "RulesError",
    "__version__",
    "categories",
    "charts",
    "coords",
    "evidence",
    "fonts",
    "geodesy",
    "layers",
    "ledger",
    "maps",
    "provenance",
    "registry",
    "report",
    "roster",
    "rules",
    "screen",
    "settings",
    "summary",
]
