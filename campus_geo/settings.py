"""Package-wide settings and vocabularies.

Distances are metres on the WGS 84 ellipsoid. No legal distance lives here:
distances belong to the rule table (``campus_geo/rules/default.toml``).
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
import zoneinfo
from pathlib import Path
from typing import Final

__all__ = [
    "BASEMAPS",
    "CATEGORIES",
    "CATEGORY_LABELS",
    "COORDINATE_SYSTEMS",
    "DEFAULT_CRS",
    "DEFAULT_LEDGER",
    "DEFAULT_TIMEZONE",
    "ELLIPSOID",
    "KIND_LABELS",
    "PROFILES",
    "SCHOOL_KINDS",
    "SEVERITIES",
    "SEVERITY_LABELS",
    "TIMEZONE_ENV",
    "local_zone",
]

#: CRS of every canonical layer (lon/lat on WGS 84).
DEFAULT_CRS: Final = "EPSG:4326"
#: Ellipsoid of every reported distance.
ELLIPSOID: Final = "WGS84"

#: School kinds of the canonical schools layer.
SCHOOL_KINDS: Final = (
    "kindergarten",
    "primary",
    "middle",
    "nine_year",
    "high",
    "vocational",
    "special",
    "other",
)
KIND_LABELS: Final[dict[str, tuple[str, str]]] = {
    "kindergarten": ("幼儿园", "kindergarten"),
    "primary": ("小学", "primary school"),
    "middle": ("初级中学", "middle school"),
    "nine_year": ("九年一贯制学校", "nine-year school"),
    "high": ("高级中学", "high school"),
    "vocational": ("职业学校", "vocational school"),
    "special": ("特殊教育学校", "special-education school"),
    "other": ("其他学校", "other school"),
}


def _default_category_labels() -> dict[str, tuple[str, str]]:
    """(Chinese, English) label of each category of the default rule table, in its order."""
    # the file beside this module, without importlib.resources (campus-geo --help imports this)
    text = (Path(__file__).parent / "rules" / "default.toml").read_text(encoding="utf-8")
    return {t["key"]: (t["label"], t["label_en"]) for t in tomllib.loads(text)["category"]}


#: Hazard categories of the default rule table (``[[category]]`` tables of
#: ``campus_geo/rules/default.toml``), with (Chinese, English) labels. A user's rule table
#: may add more: the categories of a screening are a
#: :class:`campus_geo.category_registry.CategoryRegistry` (see :func:`campus_geo.rules.categories_of`).
CATEGORY_LABELS: Final[dict[str, tuple[str, str]]] = _default_category_labels()
CATEGORIES: Final = tuple(CATEGORY_LABELS)

#: Measurement profiles (see geodesy.py, network.py and screen.py).
PROFILES: Final = ("boundary", "entrance", "walk")

SEVERITY_LABELS: Final[dict[str, tuple[str, str]]] = {
    "prohibited": ("禁止", "prohibited"),
    "risk": ("风险", "risk"),
    "notice": ("提示", "notice"),
}
SEVERITIES: Final = tuple(SEVERITY_LABELS)

#: The time zone of the times campus_geo writes (forms, sheets, ledger history): China's.
DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
#: Environment variable naming another IANA time zone (e.g. ``Asia/Urumqi``, ``UTC``).
TIMEZONE_ENV: Final = "CAMPUS_GEO_TIMEZONE"


def local_zone() -> dt.tzinfo:
    """The time zone of written times: ``$CAMPUS_GEO_TIMEZONE``, else Asia/Shanghai.

    Servers often run in UTC; the offices read Beijing time whatever the machine's clock.

    Examples
    --------
    >>> str(local_zone()) if not os.environ.get(TIMEZONE_ENV) else "Asia/Shanghai"
    'Asia/Shanghai'
    """
    name = os.environ.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        from campus_geo._errors import InputDataError

        msg = (
            f"{TIMEZONE_ENV}={name!r} is not a known time zone; give an IANA name such as "
            f"{DEFAULT_TIMEZONE} or UTC, or unset it"
        )
        raise InputDataError(msg) from exc


#: The ledger file of ``campus-geo ledger`` when neither --ledger nor $CAMPUS_GEO_LEDGER is given.
DEFAULT_LEDGER: Final = Path("ledger.sqlite")

#: Basemaps of the hazard maps (see :mod:`campus_geo.maps.basemap`): none (the offline
#: vector basemap drawn from the loaded streets and water), OpenStreetMap tiles,
#: Tianditu (needs a key), AutoNavi/Amap (GCJ-02: overlays shifted to match).
BASEMAPS: Final = ("none", "osm", "tianditu", "amap")

#: Coordinate systems an input may be declared in (see :mod:`campus_geo.coords`).
COORDINATE_SYSTEMS: Final = ("wgs84", "gcj02", "bd09")
