"""Package-wide settings and vocabularies.

Distances are metres on the WGS 84 ellipsoid. No legal distance lives here:
distances belong to the rule table (``campus_geo/rules/default.toml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = [
    "BASEMAPS",
    "CATEGORIES",
    "CATEGORY_LABELS",
    "COORDINATE_SYSTEMS",
    "DEFAULT_CRS",
    "DEFAULT_LEDGER",
    "ELLIPSOID",
    "KIND_LABELS",
    "PROFILES",
    "SCHOOL_KINDS",
    "SEVERITIES",
    "SEVERITY_LABELS",
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

#: Hazard categories of the canonical hazards layer, with (Chinese, English) labels.
CATEGORY_LABELS: Final[dict[str, tuple[str, str]]] = {
    "internet_cafe": ("上网服务场所", "internet café"),
    "entertainment": ("歌舞娱乐场所", "entertainment venue (KTV, dance hall, bar)"),
    "arcade": ("游艺娱乐场所", "game hall / arcade"),
    "lottery": ("彩票销售点", "lottery outlet"),
    "tobacco_alcohol": ("烟酒销售点", "tobacco / alcohol outlet"),
    "dangerous_site": ("危险场所", "dangerous site (fuel, gas, chemicals)"),
    "vendor": ("流动摊贩/三无食品", "street vendor / unlabelled food"),
    "care_centre": ("校外托管/培训机构", "off-campus care / training centre"),
    "water": ("水域", "water body"),
    "traffic": ("交通风险点", "traffic point"),
    "camera": ("视频监控", "surveillance camera"),
    "restricted": ("重点管控对象", "restricted point"),
    "other": ("其他", "other"),
}
CATEGORIES: Final = tuple(CATEGORY_LABELS)

#: Measurement profiles (see geodesy.py, network.py and screen.py).
PROFILES: Final = ("boundary", "entrance", "walk")

SEVERITY_LABELS: Final[dict[str, tuple[str, str]]] = {
    "prohibited": ("禁止", "prohibited"),
    "risk": ("风险", "risk"),
    "notice": ("提示", "notice"),
}
SEVERITIES: Final = tuple(SEVERITY_LABELS)

#: The ledger file of ``campus-geo ledger`` when neither --ledger nor $CAMPUS_GEO_LEDGER is given.
DEFAULT_LEDGER: Final = Path("ledger.sqlite")

#: Basemaps of the hazard maps (see :mod:`campus_geo.maps.basemap`): none (the offline
#: vector basemap drawn from the loaded streets and water), OpenStreetMap tiles,
#: Tianditu (needs a key), AutoNavi/Amap (GCJ-02: overlays shifted to match).
BASEMAPS: Final = ("none", "osm", "tianditu", "amap")

#: Coordinate systems an input may be declared in (see :mod:`campus_geo.coords`).
COORDINATE_SYSTEMS: Final = ("wgs84", "gcj02", "bd09")
