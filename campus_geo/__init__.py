"""campus_geo: exact safety-zone screening around schools and kindergartens."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("campus_geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

from . import categories, coords, geodesy, layers, maps, report, rules, screen, settings
from ._errors import CampusGeoError, InputDataError, RulesError

__all__ = [
    "CampusGeoError",
    "InputDataError",
    "RulesError",
    "__version__",
    "categories",
    "coords",
    "geodesy",
    "layers",
    "maps",
    "report",
    "rules",
    "screen",
    "settings",
]
