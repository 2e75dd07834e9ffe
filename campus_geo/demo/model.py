"""The demo district's data model, vocabularies and small geometry helpers.

Private to :mod:`campus_geo.demo`. Positions are local metres (x east, y north,
see :mod:`campus_geo.demo.osm`); every name here is fictional.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from shapely import STRtree, union_all
from shapely.geometry import MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from campus_geo.demo.osm import XY, LonLat, OsmStore, to_xy

LON_MIN: Final = 113.75
LON_MAX: Final = 113.95
LAT_MIN: Final = 33.98
LAT_MAX: Final = 34.12
XMIN, YMIN = to_xy((LON_MIN, LAT_MIN))
XMAX, YMAX = to_xy((LON_MAX, LAT_MAX))
DISTRICT: Final = Polygon([(XMIN, YMIN), (XMAX, YMIN), (XMAX, YMAX), (XMIN, YMAX)])
EXCLUSION_M: Final = 400.0  # nothing else of a planted pair's category this close to its school

# (cell column, cell row), short name, suffix, grid lines, block size (m), centre fraction
TOWNSHIPS: Final = (
    ((0, 0), "杏花", "乡", 5, 280.0, (0.5, 0.5)),
    ((1, 0), "石桥", "镇", 5, 300.0, (0.5, 0.5)),
    ((2, 0), "桃源", "乡", 5, 280.0, (0.5, 0.5)),
    ((0, 1), "柳湾", "镇", 5, 300.0, (0.5, 0.5)),
    ((1, 1), "鹤鸣", "街道", 7, 320.0, (0.7, 0.5)),
    ((2, 1), "文苑", "街道", 7, 320.0, (0.3, 0.5)),
    ((0, 2), "槐荫", "乡", 5, 280.0, (0.5, 0.5)),
    ((1, 2), "枣林", "镇", 5, 300.0, (0.5, 0.5)),
    ((2, 2), "苇塘", "镇", 5, 300.0, (0.5, 0.5)),
)
VILLAGE_BASES: Final = (
    "王庄", "李楼", "河湾", "前营", "后营", "大刘", "小陈", "榆树庄", "北岗", "南岗", "柿园",
    "马坊", "孙庄", "董寨", "高庙", "宋湾", "周营", "花园", "东湖", "西庄", "张桥", "丁楼",
    "韩庄", "杨湾", "曹庄", "鲁庄", "姚店", "郭寨", "范庄", "石门", "白庙", "枣园",
)  # fmt: skip
COMMUNITY_BASES: Final = ("锦绣", "文昌", "和平", "翠苑", "朝阳", "春华", "建业", "滨河")
ROW_STREETS: Final = (
    "育才街", "文化街", "幸福街", "和平街", "民主街", "新华街", "光明街", "前进街", "东风街",
    "学府街", "春风街", "朝阳街",
)  # fmt: skip
COL_STREETS: Final = (
    "工业路", "健康路", "花园路", "团结路", "兴业路", "长青路", "富民路", "新建路", "迎宾路",
    "顺河路", "农业路", "胜利路",
)  # fmt: skip
ARTERIAL_ROWS: Final = (("建设路", "secondary"), ("青禾大道", "primary"), ("人民路", "secondary"))
ARTERIAL_COLS: Final = (("文昌路", "secondary"), ("振兴大道", "primary"), ("杏林路", "secondary"))
KG_BRANDS: Final = ("育英", "小太阳", "启明星", "童心", "金太阳", "蓓蕾", "七彩", "小天鹅")
PREFIXES: Final = (
    "星空", "极速", "蓝鲸", "金色", "好运", "鑫源", "宏达", "福满", "顺发", "聚友", "悦享",
    "新潮", "阳光", "欢乐", "金鼎", "豪情", "天天", "东方", "华联", "永盛", "恒通", "和顺",
    "嘉禾", "鸿运", "万家", "隆昌", "红星", "佳佳", "快乐", "旺旺", "金凤", "银河", "飞鹰",
    "百合", "蓝天", "青春", "潮流", "时代", "友谊", "老街", "老王", "小李", "张记", "刘记",
    "好再来", "金马", "盛世", "富贵", "如意", "吉祥", "大众", "惠民", "平安", "春雨", "秋实",
    "海川", "云端", "星辰", "炫酷", "王者", "梦幻", "逍遥", "名人", "鼎盛", "利民", "兴旺",
    "开心", "豪爵", "翔宇", "凯旋",
)  # fmt: skip

Tags = tuple[tuple[str, str], ...]
#: variant -> (category or None for neutral, OSM tags, name templates); {p} prefix, {t} town
VARIANTS: Final[dict[str, tuple[str | None, Tags, tuple[str, ...]]]] = {
    "netcafe": ("internet_cafe", (("amenity", "internet_cafe"),), ("{p}网咖", "{p}网吧")),
    "netcafe_name": ("internet_cafe", (("shop", "yes"),), ("{p}网吧",)),
    "netcafe_terminal": (
        "internet_cafe",
        (("amenity", "cafe"), ("internet_access", "terminal")),
        ("{p}网络会所",),
    ),
    "ktv": ("entertainment", (("amenity", "karaoke_box"),), ("{p}KTV", "{p}量贩KTV")),
    "dance": ("entertainment", (("amenity", "nightclub"),), ("{p}歌舞厅",)),
    "bar": ("entertainment", (("amenity", "bar"),), ("{p}酒吧",)),
    "pub": ("entertainment", (("amenity", "pub"),), ("{p}啤酒屋",)),
    "ktv_name": ("entertainment", (("shop", "yes"),), ("{p}KTV",)),
    "arcade": ("arcade", (("leisure", "amusement_arcade"),), ("{p}电玩城",)),
    "gaming": ("arcade", (("leisure", "adult_gaming_centre"),), ("{p}游艺厅",)),
    "chess": ("arcade", (("amenity", "gambling"),), ("{p}棋牌室",)),
    "arcade_name": ("arcade", (("shop", "yes"),), ("{p}游戏厅",)),
    "lottery": ("lottery", (("shop", "lottery"),), ("中国体育彩票{p}店", "中国福利彩票{p}投注站")),
    "lottery_name": ("lottery", (("shop", "convenience"),), ("{p}福彩投注站", "{p}体彩投注站")),
    "tobacco": ("tobacco_alcohol", (("shop", "tobacco"),), ("{p}烟酒店",)),
    "alcohol": ("tobacco_alcohol", (("shop", "alcohol"),), ("{p}酒行",)),
    "tobacco_name": ("tobacco_alcohol", (("shop", "yes"),), ("{p}名烟名酒",)),
    "fuel": ("dangerous_site", (("amenity", "fuel"), ("brand", "中国石化")), ("中石化{p}加油站",)),
    "fuel_cnpc": (
        "dangerous_site",
        (("amenity", "fuel"), ("brand", "中国石油")),
        ("中石油{p}加油站",),
    ),
    "gas": ("dangerous_site", (("shop", "gas"),), ("{p}液化气站",)),
    "fireworks_name": ("dangerous_site", (("shop", "yes"),), ("{p}烟花爆竹批发部",)),
    "kiosk": ("vendor", (("shop", "kiosk"),), ("{p}小吃摊",)),
    "latiao": ("vendor", (("amenity", "fast_food"),), ("{p}辣条零食店",)),
    "street_vendor": (
        "vendor",
        (("amenity", "fast_food"), ("street_vendor", "yes")),
        ("{p}烤肠摊", "{p}煎饼摊"),
    ),
    "vendor_name": ("vendor", (("shop", "yes"),), ("{p}辣条批发部",)),
    "childcare": ("care_centre", (("amenity", "childcare"),), ("{p}托管中心",)),
    "prep": ("care_centre", (("amenity", "prep_school"),), ("{p}培训学校", "{p}辅导班")),
    "care_name": ("care_centre", (("office", "yes"),), ("{p}午托班",)),
    "books": (None, (("shop", "books"),), ("新华书店{t}分店",)),
    "hospital": (None, (("amenity", "hospital"),), ("{t}卫生院",)),
    "police": (None, (("amenity", "police"),), ("{t}派出所",)),
    "bank": (None, (("amenity", "bank"),), ("{t}农商银行",)),
    "cafe": (None, (("amenity", "cafe"),), ("{p}咖啡",)),
    "cafe_wifi": (None, (("amenity", "cafe"), ("internet_access", "wlan")), ("{p}咖啡馆",)),
    "supermarket": (None, (("shop", "supermarket"),), ("{p}超市",)),
    # only in the registry: a shop whose licence (烟草制品零售) makes it a tobacco outlet
    "supermarket_tobacco": ("tobacco_alcohol", (("shop", "supermarket"),), ("{p}便利店",)),
    "restaurant": (None, (("amenity", "restaurant"),), ("{p}烩面馆", "{p}拉面馆")),
    "pharmacy": (None, (("amenity", "pharmacy"),), ("{p}大药房",)),
    "stationery": (None, (("shop", "stationery"),), ("{p}文具店",)),
}
HAZARD_WEIGHTS: Final = (
    ("netcafe", 8), ("netcafe_name", 3), ("netcafe_terminal", 2), ("ktv", 6), ("dance", 3),
    ("bar", 3), ("pub", 2), ("ktv_name", 2), ("arcade", 4), ("gaming", 2), ("chess", 4),
    ("arcade_name", 2), ("lottery", 8), ("lottery_name", 4), ("tobacco", 9), ("alcohol", 3),
    ("tobacco_name", 3), ("fuel", 1), ("gas", 2), ("fireworks_name", 2), ("kiosk", 5),
    ("latiao", 4), ("street_vendor", 4), ("vendor_name", 2), ("childcare", 5), ("prep", 5),
    ("care_name", 3),
)  # fmt: skip
NEUTRAL_RANDOM: Final = ("cafe", "cafe_wifi", "supermarket", "restaurant", "pharmacy", "stationery")
NEUTRAL_TOWN: Final = ("books", "hospital", "police", "bank")


@dataclass(frozen=True)
class PlantSpec:
    """What to plant: category, venue variant, design distance (m), school kinds, geometry."""

    category: str
    variant: str
    design_m: float
    kinds: tuple[str, ...]
    geometry: str = "point"  # point, polygon, line


PLANTS: Final = (
    PlantSpec("internet_cafe", "netcafe", 199.4, ("primary", "middle")),
    PlantSpec("internet_cafe", "netcafe_name", 200.3, ("middle", "primary")),
    PlantSpec("internet_cafe", "netcafe_terminal", 150.0, ("primary", "nine_year")),
    PlantSpec("entertainment", "ktv", 199.8, ("nine_year", "primary")),
    PlantSpec("entertainment", "dance", 200.7, ("middle", "primary")),
    PlantSpec("entertainment", "bar", 215.0, ("high", "middle")),
    PlantSpec("entertainment", "ktv_name", 200.4, ("primary",)),
    PlantSpec("arcade", "arcade", 185.0, ("primary",)),
    PlantSpec("arcade", "chess", 200.3, ("primary", "middle")),
    PlantSpec("arcade", "arcade_name", 260.0, ("middle", "primary")),
    PlantSpec("lottery", "lottery", 150.0, ("primary",)),
    PlantSpec("lottery", "lottery_name", 199.4, ("middle", "primary")),
    PlantSpec("tobacco_alcohol", "tobacco", 80.0, ("primary",)),
    PlantSpec("tobacco_alcohol", "alcohol", 260.0, ("middle", "primary")),
    PlantSpec("dangerous_site", "fuel", 199.6, ("primary", "middle"), "polygon"),
    PlantSpec("dangerous_site", "gas", 200.7, ("primary",)),
    PlantSpec("vendor", "kiosk", 35.0, ("primary",)),
    PlantSpec("vendor", "latiao", 99.6, ("kindergarten",)),
    PlantSpec("care_centre", "childcare", 100.4, ("kindergarten",)),
    PlantSpec("care_centre", "prep", 199.8, ("primary",)),
    PlantSpec("water", "canal", 199.7, ("primary",), "line"),
)

#: schools of the two urban townships (name, kind); other towns follow a pattern
URBAN_SCHOOLS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "鹤鸣": (
        ("青禾区第一小学", "primary"),
        ("青禾区第二小学", "primary"),
        ("青禾区第三小学", "primary"),
        ("青禾区实验小学（北校区）", "primary"),
        ("青禾区第一初级中学", "middle"),
        ("青禾区第二初级中学", "middle"),
        ("青禾区第一高级中学", "high"),
        ("青禾区特殊教育学校", "special"),
        ("青禾区第一幼儿园", "kindergarten"),
        ("青禾区机关幼儿园", "kindergarten"),
        ("鹤鸣街道小天使幼儿园", "kindergarten"),
        ("青禾区委党校", "party_school"),
    ),
    "文苑": (
        ("青禾区第四小学", "primary"),
        ("青禾区第五小学", "primary"),
        ("青禾区实验小学（南校区）", "primary"),
        ("青禾区第三初级中学", "middle"),
        ("青禾区育才九年一贯制学校", "nine_year"),
        ("青禾区职业中专", "vocational"),
        ("青禾区第二幼儿园", "kindergarten"),
        ("文苑街道阳光幼儿园", "kindergarten"),
        ("文苑街道蓝天幼儿园", "kindergarten"),
        ("青禾区教师进修学校", "teacher_school"),
        ("许安理工学院", "university"),
    ),
}
MIDDLE_SCHOOLS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "石桥": (("第一初级中学", "middle"), ("第二初级中学", "middle")),
    "枣林": (("九年一贯制学校", "nine_year"),),
    "杏花": (("九年一贯制学校", "nine_year"),),
    "桃源": (("九年一贯制学校", "nine_year"),),
}

# campus sizes (along the street, depth), metres
SIZES: Final[dict[str, tuple[tuple[float, float], tuple[float, float]]]] = {
    "kindergarten": ((40.0, 75.0), (35.0, 65.0)),
    "primary": ((80.0, 190.0), (70.0, 160.0)),
    "middle": ((120.0, 240.0), (100.0, 210.0)),
    "nine_year": ((150.0, 250.0), (120.0, 230.0)),
    "high": ((200.0, 270.0), (160.0, 260.0)),
    "vocational": ((150.0, 250.0), (120.0, 220.0)),
    "special": ((60.0, 110.0), (50.0, 90.0)),
    "party_school": ((100.0, 160.0), (80.0, 140.0)),
    "teacher_school": ((80.0, 140.0), (70.0, 120.0)),
    "university": ((250.0, 290.0), (230.0, 290.0)),
}
AMENITY: Final = {"kindergarten": "kindergarten", "university": "university"}


# ---------------------------------------------------------------------------
# data model


@dataclass
class Village:
    """A village or community (admin_level 10): name, name without 村/社区, polygon, way id."""

    name: str
    base: str
    polygon: Polygon
    way: int


@dataclass
class Township:
    """A township (admin_level 8) and the plan of its town: grid lines, block size, rotation."""

    name: str
    short: str
    suffix: str
    cell: tuple[int, int]
    lines: int
    spacing: float
    centre: XY
    theta: float
    polygon: Polygon = field(default_factory=Polygon)
    villages: list[Village] = field(default_factory=list)


@dataclass
class Settlement:
    """A street grid (a town or a hamlet); ``local(u, v)`` maps grid metres to local metres."""

    name: str
    township: Township
    village: Village | None
    centre: XY
    theta: float
    lines: int
    spacing: float
    grid: list[list[int]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    used_blocks: set[tuple[int, int]] = field(default_factory=set)

    @property
    def is_town(self) -> bool:
        """Whether this settlement is its township's town (a hamlet belongs to a village)."""
        return self.village is None

    def local(self, u: float, v: float) -> XY:
        """The district-frame point (metres) of grid coordinates (u, v) in metres."""
        c, s = math.cos(self.theta), math.sin(self.theta)
        return (self.centre[0] + u * c - v * s, self.centre[1] + u * s + v * c)

    def footprint(self) -> Polygon:
        """The settlement's outline in the local frame (metres)."""
        h = (self.lines - 1) / 2 * self.spacing
        return Polygon([self.local(u, v) for u, v in ((-h, -h), (h, -h), (h, h), (-h, h))])

    def streets(self) -> list[int]:
        """The OSM way ids of this settlement's streets (rows, then columns)."""
        return [*self.rows, *self.cols]


@dataclass
class School:
    """A school as generated: its OSM id, outline (local metres), gates and address."""

    name: str
    kind: str
    settlement: Settlement
    node_only: bool = False
    in_osm: bool = True
    ref: str = ""
    way: int = 0
    geom: BaseGeometry = field(default_factory=Point)
    gates: list[int] = field(default_factory=list)
    gate_streets: list[int] = field(default_factory=list)
    gate_links: list[int] = field(default_factory=list)  # street node joined to each gate
    clean_edges: list[tuple[int, int]] = field(default_factory=list)
    street: str = ""
    address: str = ""
    township: str = ""
    village: str = ""


@dataclass
class Venue:
    """A venue (hazard or neutral), in OSM or only in the registry."""

    name: str
    variant: str
    xy: XY
    lonlat: LonLat
    township: str
    address: str
    ref: str = ""  # "node/…" or "way/…"; "" for a venue that is only in the registry
    planted: bool = False

    @property
    def category(self) -> str | None:
        """Hazard category, None for a neutral venue."""
        return VARIANTS[self.variant][0]


@dataclass
class Water:
    """A water body or line with its OSM id and geometry (local metres)."""

    name: str
    ref: str
    geom: BaseGeometry


@dataclass
class Plant:
    """A planted pair: school, hazard, design distance and the written coordinates."""

    school: School
    category: str
    hazard_ref: str
    hazard_name: str
    design_m: float
    geom: BaseGeometry
    coords: list[LonLat]
    true_m: float = math.nan


@dataclass
class District:
    """Everything generated so far, with the one random generator that makes it."""

    rng: random.Random
    osm: OsmStore = field(default_factory=OsmStore)
    townships: list[Township] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)
    arterials: list[int] = field(default_factory=list)
    footways: list[int] = field(default_factory=list)
    schools: list[School] = field(default_factory=list)
    venues: list[Venue] = field(default_factory=list)
    waters: list[Water] = field(default_factory=list)
    plants: list[Plant] = field(default_factory=list)
    used_names: set[str] = field(default_factory=set)
    used_bases: list[str] = field(default_factory=list)
    streets_geom: BaseGeometry = field(default_factory=Point)
    street_index: tuple[STRtree, list[str]] | None = None

    def street_ways(self) -> list[int]:
        """The OSM way ids of every street of the district: grids, arterials, footways."""
        ways = [w for s in self.settlements for w in s.streets()]
        return [*ways, *self.arterials, *self.footways]

    def refresh_streets(self) -> None:
        """Recompute the union of the streets after ways were added."""
        self.streets_geom = MultiLineString(
            [list(self.osm.line(w).coords) for w in self.street_ways()]
        )

    def water_geom(self) -> BaseGeometry:
        """The union of the district's water bodies in the local frame."""
        return union_all([w.geom for w in self.waters])

    def locate(self, xy: XY) -> tuple[Township, Village]:
        """The township and village a local-frame point lies in."""
        point = Point(xy)
        for town in self.townships:
            if town.polygon.covers(point):
                for village in town.villages:
                    if village.polygon.covers(point):
                        return town, village
        msg = f"point {xy} is outside every village"
        raise RuntimeError(msg)


# ---------------------------------------------------------------------------
# small geometry helpers


def lerp(a: XY, b: XY, t: float) -> XY:
    """The point a fraction `t` of the way from `a` to `b`."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def bilinear(quad: Sequence[XY], u: float, v: float) -> XY:
    """Bilinear interpolation inside a quadrilateral (corners in order), u and v in 0..1."""
    return lerp(lerp(quad[0], quad[1], u), lerp(quad[3], quad[2], u), v)


def chaikin(points: list[XY], rounds: int) -> list[XY]:
    """A polyline smoothed by `rounds` of Chaikin's corner cutting."""
    for _ in range(rounds):
        out = [points[0]]
        for a, b in itertools.pairwise(points):
            out.extend([lerp(a, b, 0.25), lerp(a, b, 0.75)])
        out.append(points[-1])
        points = out
    return points


def densify(points: Sequence[XY], step: float) -> list[XY]:
    """A polyline with a vertex at least every `step` metres."""
    out = [points[0]]
    for a, b in itertools.pairwise(points):
        n = max(1, math.ceil(math.dist(a, b) / step))
        out.extend(lerp(a, b, k / n) for k in range(1, n + 1))
    return out


def azimuth_xy(vec: XY) -> float:
    """The azimuth of a local-frame vector in degrees clockwise from north (0..360)."""
    return math.degrees(math.atan2(vec[0], vec[1])) % 360.0


def angle_diff(a: float, b: float) -> float:
    """The smallest difference of two angles in degrees (0..180)."""
    return abs((a - b + 180.0) % 360.0 - 180.0)
