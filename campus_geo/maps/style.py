"""Styles and words of the hazard maps: colours, glyphs, statuses, labels (Chinese, English)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from campus_geo.category_registry import CategoryRegistry
from campus_geo.maps.basemap import Basemap
from campus_geo.rules import default_categories
from campus_geo.settings import CATEGORY_LABELS

__all__ = [
    "CATEGORY_COLOURS",
    "CATEGORY_GLYPHS",
    "COARSE",
    "FINE",
    "HIDDEN_CATEGORIES",
    "NO_STATUS_COLOUR",
    "PANEL",
    "PROFILE_LABELS",
    "SEVERITY_COLOURS",
    "STATUS_STYLES",
    "TEXT",
    "MapOptions",
    "ZoneGroup",
    "category_label",
    "pick",
]

#: Marker colour of each category of the default rule table (a screening's own categories:
#: :meth:`campus_geo.category_registry.CategoryRegistry.colour`).
CATEGORY_COLOURS: Final[dict[str, str]] = {c.key: c.colour for c in default_categories()}
#: One character per category on its markers and in the legend (Chinese, English), of the
#: default rule table (a screening's own: :meth:`~campus_geo.category_registry.CategoryRegistry.glyph`).
CATEGORY_GLYPHS: Final[dict[str, tuple[str, str]]] = {
    c.key: (c.glyph, c.glyph_en) for c in default_categories()
}
#: Colours of measured lines by the rule's severity (when no ledger status is given).
SEVERITY_COLOURS: Final[dict[str, str]] = {
    "prohibited": "#d7191c",
    "risk": "#fd8d3c",
    "notice": "#3182bd",
}
#: Ledger statuses (code: Chinese, English, colour), most urgent first, as
#: :func:`campus_geo.ledger.status_by_finding` gives them.
STATUS_STYLES: Final[dict[str, tuple[str, str, str]]] = {
    "overdue": ("逾期", "overdue", "#7f0000"),
    "confirmed": ("已确认", "confirmed", "#e31a1c"),
    "pending": ("待核查", "pending", "#ff7f00"),
    "in_progress": ("整改中", "in progress", "#6a3d9a"),
    "rectified": ("已整改", "rectified", "#33a02c"),
    "resolved": ("复查已消除", "resolved in data", "#1f78b4"),
    "dismissed": ("误报", "dismissed", "#969696"),
}
NO_STATUS_COLOUR: Final = "#bdbdbd"
#: Integers per degree: schools and measured lines (1.1 cm), the rest (0.11 m).
FINE: Final = 1e7
COARSE: Final = 1e6
HIDDEN_CATEGORIES: Final = ("camera",)
PROFILE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "boundary": ("自校园边界直线量算", "straight line from the campus outline"),
    "entrance": ("自校门直线量算", "straight line from the nearest gate"),
    "walk": ("步行路径", "walking route"),
}
TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "school": "学校",
        "venue": "场所",
        "category": "类别",
        "distance": "距离",
        "rule": "规则",
        "basis": "依据",
        "suggestion": "整治建议",
        "notes": "备注",
        "status": "台帐状态",
        "noStatus": "台帐无记录",
        "id": "编号",
        "kind": "类型",
        "place": "乡镇（街道）、村（社区）",
        "findings": "隐患",
        "none": "无",
        "restricted": "重点管控对象（仅计数）",
        "source": "来源",
        "schoolMap": "打开单校图",
        "finding": "隐患记录",
        "unnamed": "（未命名）",
        "subcategory": "分类依据",
        "address": "地址",
        "searchPlaceholder": "搜索学校…",
        "searchNotFound": "未找到该学校",
        "cancel": "取消",
    },
    "en": {
        "school": "School",
        "venue": "Venue",
        "category": "Category",
        "distance": "Distance",
        "rule": "Rule",
        "basis": "Legal basis",
        "suggestion": "Suggestion",
        "notes": "Notes",
        "status": "Ledger status",
        "noStatus": "not in the ledger",
        "id": "Id",
        "kind": "Kind",
        "place": "Township, village",
        "findings": "Findings",
        "none": "none",
        "restricted": "Restricted points (count only)",
        "source": "Source",
        "schoolMap": "Open the school's map",
        "finding": "Finding",
        "unnamed": "(unnamed)",
        "subcategory": "Classified by",
        "address": "Address",
        "searchPlaceholder": "Search schools…",
        "searchNotFound": "School not found",
        "cancel": "Cancel",
    },
}


@dataclass(frozen=True)
class ZoneGroup:
    """Zones of one (profile, distance) group of rules.

    Attributes
    ----------
    profile
        ``boundary`` (buffer of the campus outline) or ``entrance`` (of the gates).
    distance_m
        Buffer distance in metres on the WGS 84 ellipsoid.
    categories
        Hazard categories the group's rules screen.
    kinds
        School kinds the rules apply to.
    """

    profile: str
    distance_m: float
    categories: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class MapOptions:
    """Drawing options shared by the overview and the per-school maps."""

    basemap: Basemap
    lang: str = "zh"
    title: str | None = None
    school_links: Mapping[str, str] = field(default_factory=dict)
    overview_link: str | None = None


PANEL: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "校园周边安全隐患排查图",
        "legend": "图例",
        "schools": "排查学校",
        "with_findings": "有隐患的学校",
        "findings": "隐患（量算线）",
        "by_category": "按类别",
        "venues": "场所类别（点数）",
        "lines_severity": "量算线（按严重程度）",
        "lines_status": "量算线（按台帐状态）",
        "zones": "安全区（WGS 84 椭球面缓冲区）",
        "school": "学校校园",
        "measured": "距离：WGS 84 椭球面上的最短距离，精确到 0.1 米",
        "basemap": "底图",
        "overview": "返回总图",
        "none": "无",
        "zone": "{d:g} 米范围（{how}）：{what}",
        "n_categories": "{n} 类场所",
        "from_boundary": "自校园边界",
        "from_entrance": "自校门",
    },
    "en": {
        "title": "Hazards around schools",
        "legend": "Legend",
        "schools": "Schools screened",
        "with_findings": "Schools with findings",
        "findings": "Findings (measured lines)",
        "by_category": "By category",
        "venues": "Venue categories (points)",
        "lines_severity": "Measured lines (by severity)",
        "lines_status": "Measured lines (by ledger status)",
        "zones": "Zones (buffers on the WGS 84 ellipsoid)",
        "school": "Campus",
        "measured": "Distances: shortest on the WGS 84 ellipsoid, to 0.1 m",
        "basemap": "Basemap",
        "overview": "Back to the overview",
        "none": "none",
        "zone": "{d:g} m zone ({how}): {what}",
        "n_categories": "{n} categories",
        "from_boundary": "from the campus outline",
        "from_entrance": "from the gates",
    },
}


def category_label(category: str, lang: str, categories: CategoryRegistry | None = None) -> str:
    """Label of a hazard category in `lang` ("zh" or "en"), among `categories` (default: the default table's)."""
    if categories is not None:
        return categories.label(category, lang)
    zh, en = CATEGORY_LABELS.get(category, (category, category))
    return zh if lang == "zh" else en


def pick(pair: tuple[str, str], lang: str) -> str:
    """The Chinese or the English of a (zh, en) pair."""
    return pair[0] if lang == "zh" else pair[1]
