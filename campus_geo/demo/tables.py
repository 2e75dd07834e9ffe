"""Tables beside the demo district: business registries, the school roster, the README.

Private to :mod:`campus_geo.demo`. The registries imitate what a district's
market-regulation and culture bureaus hand over: Chinese headers, a merged title
row, GCJ-02 coordinates (as from Amap) with 6 decimals, GBK encoding for the CSV,
and the usual dirt (missing, swapped and combined coordinates, duplicates).
Credit codes, licence numbers and names are fictional; credit codes carry valid
GB 32100-2015 check characters.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from campus_geo.coords import wgs84_to_gcj02
from campus_geo.reports.workbook import save_workbook_reproducibly

__all__ = [
    "BUSINESS_SCOPES",
    "CSV_COLUMNS",
    "REGISTRY_COLUMNS",
    "ROSTER_COLUMNS",
    "ChecklistFacts",
    "DemoFacts",
    "RegistryFacts",
    "RegistryVenue",
    "RosterFacts",
    "RosterSchool",
    "write_checklists",
    "write_readme",
    "write_registry",
    "write_roster",
]

REGISTRY_TITLE: Final = "青禾区市场主体经营许可名录（2023年6月）"
REGISTRY_SHEET: Final = "市场主体名录"
REGISTRY_COLUMNS: Final = (
    "序号",
    "企业名称",
    "统一社会信用代码",
    "许可证号",
    "经营场所",
    "经营范围",
    "经度",
    "纬度",
    "登记状态",
    "所属乡镇",
)
CSV_COLUMNS: Final = REGISTRY_COLUMNS[1:]
ROSTER_SHEET: Final = "学校名单"
ROSTER_COLUMNS: Final = (
    "学校名称",
    "学段/类型",
    "所属乡镇",
    "所属村（社区）",
    "地址",
    "经度",
    "纬度",
)
_KIND_LABELS: Final = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "middle": "初级中学",
    "nine_year": "九年一贯制学校",
    "high": "高级中学",
    "vocational": "中等职业学校",
    "special": "特殊教育学校",
}
_REGION: Final = "419950"  # a fictional county code (no real 4199xx county exists)

#: business scope (经营范围) by venue variant; neutral variants not listed are not registered
BUSINESS_SCOPES: Final[dict[str, str]] = {
    "netcafe": "互联网上网服务；预包装食品销售（不含冷藏冷冻食品）",
    "netcafe_name": "互联网上网服务；饮料零售",
    "netcafe_terminal": "互联网上网服务；餐饮服务（咖啡制作）",
    "ktv": "歌舞娱乐活动；酒类经营；预包装食品销售",
    "ktv_name": "歌舞娱乐活动；预包装食品销售",
    "dance": "歌舞娱乐活动",
    "bar": "酒吧服务（不含演艺娱乐活动）；酒类经营",
    "pub": "酒类经营；餐饮服务",
    "arcade": "游艺娱乐活动；游艺用品及室内游艺器材销售",
    "gaming": "游艺娱乐活动",
    "arcade_name": "游艺娱乐活动；电子游戏设备销售",
    "chess": "棋牌室服务；茶饮服务",
    "lottery": "体育彩票代销；日用百货销售",
    "lottery_name": "福利彩票代销；预包装食品销售",
    "tobacco": "烟草制品零售；酒类经营；预包装食品销售",
    "tobacco_name": "烟草制品零售；酒类经营",
    "alcohol": "酒类经营；预包装食品销售",
    "fuel": "成品油零售（限危险化学品）；机动车润滑油销售",
    "fuel_cnpc": "成品油零售（限危险化学品）；汽车零配件零售",
    "gas": "燃气经营（液化石油气）；燃气器具销售",
    "fireworks_name": "烟花爆竹零售",
    "kiosk": "食品小摊点经营；小食杂",
    "street_vendor": "食品小摊点经营",
    "latiao": "预包装食品销售；散装食品销售（含调味面制品）",
    "vendor_name": "预包装食品批发；调味面制品（辣条）销售",
    "childcare": "校外托管服务；餐饮服务（学生午餐）",
    "care_name": "校外托管服务",
    "prep": "非学科类培训；教育咨询服务（不含涉许可审批的教育培训活动）",
    "books": "图书零售；文具用品零售",
    "cafe": "餐饮服务；咖啡制作",
    "cafe_wifi": "餐饮服务；咖啡制作；饮料零售",
    "supermarket": "日用百货销售；食品销售",
    "supermarket_tobacco": "日用百货销售；食品销售；烟草制品零售",
    "restaurant": "餐饮服务",
    "pharmacy": "药品零售；医疗器械销售",
    "stationery": "文具用品零售；办公用品销售",
}
_LICENCE_KIND: Final = {
    "netcafe": "net",
    "netcafe_name": "net",
    "netcafe_terminal": "net",
    "ktv": "ent",
    "ktv_name": "ent",
    "dance": "ent",
    "arcade": "ent",
    "gaming": "ent",
    "arcade_name": "ent",
    "lottery": "sport",
    "lottery_name": "welfare",
    "tobacco": "tobacco",
    "tobacco_name": "tobacco",
    "supermarket_tobacco": "tobacco",
    "fuel": "oil",
    "fuel_cnpc": "oil",
    "gas": "gas",
    "fireworks_name": "fireworks",
    "prep": "school",
    "pharmacy": "drug",
    "books": "books",
}
#: licence number formats; fields y (year), n (serial number), m (a check-like suffix)
_LICENCE_FORMATS: Final[dict[str, str]] = {
    "net": "豫网文〔{y}〕{n:04d}-{m:03d}号",
    "ent": "豫(许)娱经字〔{y}〕第{n:04d}号",
    "sport": "体彩代销证第4199{n:05d}号",
    "welfare": "福彩代销证第4199{n:05d}号",
    "tobacco": "4199501{n:05d}",
    "oil": "油零售证书第4199{n:03d}号",
    "gas": "豫燃经字〔{y}〕第{n:04d}号",
    "fireworks": "(豫)YH经〔{y}〕{n:04d}号",
    "school": "教民141995{n:07d}号",
    "drug": "豫AA3995{n:03d}",
    "books": "新出发豫许字第{n:04d}号",
    "food": "JY1" + _REGION + "{n:07d}",
}
_FOOD: Final = (
    "alcohol", "bar", "pub", "kiosk", "street_vendor", "latiao", "vendor_name", "childcare",
    "cafe", "cafe_wifi", "supermarket", "restaurant",
)  # fmt: skip
_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class RegistryVenue:
    """A venue as the generator knows it (WGS 84 lon/lat, degrees)."""

    name: str
    variant: str
    category: str | None
    lon: float
    lat: float
    township: str
    address: str
    in_osm: bool
    planted: bool


@dataclass(frozen=True)
class RosterSchool:
    """A K-12 school as the generator knows it (WGS 84 lon/lat of a point inside it)."""

    name: str
    kind: str
    township: str
    village: str
    address: str
    lon: float
    lat: float
    in_osm: bool
    node_only: bool


@dataclass
class RegistryFacts:
    """What the registry writer did, for the README."""

    xlsx_rows: int = 0
    csv_rows: int = 0
    dirty: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    closed: dict[str, dict[str, list[str]]] = field(default_factory=dict)


@dataclass
class RosterFacts:
    """What the roster writer did, for the README."""

    rows: int = 0
    with_coords: int = 0
    variants: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ChecklistFacts:
    """What the checklist registers hold."""

    schools: int = 0
    school_missing: int = 0
    waters: int = 0
    water_missing: int = 0


@dataclass
class DemoFacts:
    """Everything the README reports about a generated district."""

    seed: int
    townships: list[tuple[str, list[str]]]
    schools_by_kind: dict[str, int]
    decoys: list[tuple[str, str]]  # name, amenity
    node_only: list[str]
    roster_only: list[str]
    gates: int
    k12_gates: int
    venues_by_category: dict[str, int]
    variants: list[str]
    waters: list[tuple[str, str, str]]  # name, tags, ref
    water_near: list[tuple[str, str, str, int]]  # water, ref, school, approximate metres
    bus_stops: int
    crossings: int
    signals: int
    cameras: int
    nodes: int
    ways: int
    relations: int
    plants: int
    registry: RegistryFacts
    roster: RosterFacts
    variant_table: list[tuple[str, str, str, str]]  # category, variant, tags, names
    registry_only: int
    planted_lines: list[str]
    checklists: ChecklistFacts = field(default_factory=ChecklistFacts)


# ---------------------------------------------------------------------------
# identifiers


def _org_check(body: str) -> str:
    total = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(body, _ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, *, individual: bool) -> str:
    """A fictional 18-character unified social credit code with valid check characters."""
    body = "MA" + "".join(rng.choice(_CODE_CHARS) for _ in range(6))
    head = ("92" if individual else "91") + _REGION + body + _org_check(body)
    total = sum(_CODE_CHARS.index(c) * w for c, w in zip(head, _CODE_WEIGHTS, strict=True))
    return head + _CODE_CHARS[(31 - total % 31) % 31]


class _Numbers:
    """Unique fictional codes and licence numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def code(self, *, individual: bool) -> str:
        while True:
            code = credit_code(self.rng, individual=individual)
            if code not in self.used:
                self.used.add(code)
                return code

    def licence(self, variant: str) -> str:
        kind = _LICENCE_KIND.get(variant, "food" if variant in _FOOD else "")
        if not kind:
            return ""
        while True:
            year, serial = self.rng.randint(2016, 2023), self.rng.randint(1, 999)
            number = _LICENCE_FORMATS[kind].format(y=year, n=serial, m=serial % 97)
            if number not in self.used:
                self.used.add(number)
                return number


# ---------------------------------------------------------------------------
# registries


def _identities(
    venues: Sequence[RegistryVenue], numbers: _Numbers, rng: random.Random
) -> dict[str, tuple[str, str, str]]:
    """Credit code, licence number and status of every registrable venue, by name."""
    out = {}
    for v in venues:
        if v.variant in BUSINESS_SCOPES:
            companies = ("fuel", "fuel_cnpc", "gas", "prep")
            individual = v.variant not in companies and rng.random() < 0.6
            status = "在营" if rng.random() < 0.12 else "存续"
            out[v.name] = (numbers.code(individual=individual), numbers.licence(v.variant), status)
    return out


def _registry_row(v: RegistryVenue, ident: tuple[str, str, str]) -> dict[str, object]:
    glon, glat = wgs84_to_gcj02(v.lon, v.lat)
    return {
        "企业名称": v.name,
        "统一社会信用代码": ident[0],
        "许可证号": ident[1],
        "经营场所": v.address,
        "经营范围": BUSINESS_SCOPES[v.variant],
        "经度": round(float(glon), 6),
        "纬度": round(float(glat), 6),
        "登记状态": ident[2],
        "所属乡镇": v.township,
    }


def _pick_rows(
    venues: Sequence[RegistryVenue], rng: random.Random, osm_hazards: int, extra: int
) -> list[RegistryVenue]:
    """Planted and registry-only venues, plus a sample of the mapped ones."""
    listed = [v for v in venues if v.variant in BUSINESS_SCOPES]
    fixed = [v for v in listed if v.planted or not v.in_osm]
    mapped = [v for v in listed if v.in_osm and not v.planted and v.category]
    neutral = [v for v in listed if v.in_osm and not v.category]
    fixed = fixed[: len(fixed) if extra >= len(fixed) else extra]
    chosen = fixed + rng.sample(mapped, osm_hazards) + rng.sample(neutral, min(10, len(neutral)))
    rng.shuffle(chosen)
    return chosen


def _has_licence(row: dict[str, object]) -> bool:
    """Whether a registry row has a licence number."""
    return bool(row["许可证号"])


def _make_dirty(
    rows: list[dict[str, object]], protected: set[str], numbers: _Numbers, rng: random.Random
) -> tuple[list[dict[str, object]], dict[str, list[str]], dict[str, list[str]]]:
    """Damage rows the way real registries are damaged; return rows, dirt and closures."""
    free = [i for i, r in enumerate(rows) if r["企业名称"] not in protected]
    licensed = [i for i in free if _has_licence(rows[i])]
    copied = rng.sample(licensed, 2)  # exact duplicates share their licence number
    picks = rng.sample([i for i in free if i not in copied], 11)
    picks = picks[:10] + copied + picks[10:]
    dirt: dict[str, list[str]] = {
        "missing_coordinates": [],
        "swapped_lon_lat": [],
        "exact_duplicate": [],
        "same_name_address_other_code": [],
        "combined_lon_lat_in_one_cell": [],
    }
    closed: dict[str, list[str]] = {"注销": [], "吊销": []}
    for i in picks[:2]:
        rows[i]["经度"], rows[i]["纬度"] = None, None
        dirt["missing_coordinates"].append(str(rows[i]["企业名称"]))
    for i in picks[2:4]:
        rows[i]["经度"], rows[i]["纬度"] = rows[i]["纬度"], rows[i]["经度"]
        dirt["swapped_lon_lat"].append(str(rows[i]["企业名称"]))
    i = picks[4]
    rows[i]["经度"], rows[i]["纬度"] = f"{rows[i]['经度']:.6f},{rows[i]['纬度']:.6f}", None
    dirt["combined_lon_lat_in_one_cell"].append(str(rows[i]["企业名称"]))
    for i, status in zip(picks[5:10], ("注销", "注销", "注销", "吊销", "吊销"), strict=True):
        rows[i]["登记状态"] = status
        closed[status].append(str(rows[i]["企业名称"]))
    copies = [dict(rows[i]) for i in picks[10:12]]
    dirt["exact_duplicate"] = [str(c["企业名称"]) for c in copies]
    twin = dict(rows[picks[12]])
    twin["统一社会信用代码"] = numbers.code(individual=True)
    twin["许可证号"] = ""
    dirt["same_name_address_other_code"].append(str(twin["企业名称"]))
    for extra in [*copies, twin]:
        rows.insert(rng.randrange(len(rows) + 1), extra)
    return rows, dirt, closed


def write_registry(
    xlsx_path: Path, csv_path: Path, venues: Sequence[RegistryVenue], rng: random.Random
) -> RegistryFacts:
    """Write ``registry.xlsx`` (sheet 市场主体名录) and ``registry_gbk.csv`` (GBK)."""
    numbers = _Numbers(rng)
    ids = _identities(venues, numbers, rng)
    protected = {v.name for v in venues if v.planted}
    facts = RegistryFacts()
    base = [_registry_row(v, ids[v.name]) for v in _pick_rows(venues, rng, 78, 999)]
    rows, dirt, closed = _make_dirty(base, protected, numbers, rng)
    _save_registry_xlsx(xlsx_path, rows)
    facts.xlsx_rows, facts.dirty["registry.xlsx"] = len(rows), dirt
    facts.closed["registry.xlsx"] = closed
    picked = _pick_rows(venues, rng, 45, 30)
    csv_rows = [_registry_row(v, ids[v.name]) for v in picked]
    csv_rows, dirt, closed = _make_dirty(csv_rows, protected, numbers, rng)
    _save_registry_csv(csv_path, csv_rows)
    facts.csv_rows, facts.dirty["registry_gbk.csv"] = len(csv_rows), dirt
    facts.closed["registry_gbk.csv"] = closed
    return facts


def _save_registry_xlsx(path: Path, rows: Sequence[dict[str, object]]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = REGISTRY_SHEET
    ws.append([REGISTRY_TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(REGISTRY_COLUMNS))
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.append(list(REGISTRY_COLUMNS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=1):
        ws.append([number, *(row[c] for c in CSV_COLUMNS)])
    widths = (6, 26, 22, 26, 40, 46, 12, 12, 10, 12)
    for letter, width in zip("ABCDEFGHIJ", widths, strict=True):
        ws.column_dimensions[letter].width = width
    for cells in ws.iter_rows(min_row=3, min_col=7, max_col=8):
        for cell in cells:
            if isinstance(cell.value, float):
                cell.number_format = "0.000000"
    ws.freeze_panes = "A3"
    save_workbook_reproducibly(wb, path)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def _save_registry_csv(path: Path, rows: Sequence[dict[str, object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell_text(row[c]) for c in CSV_COLUMNS])
    path.write_bytes(buf.getvalue().encode("gbk"))


# ---------------------------------------------------------------------------
# school roster


def _roster_name(name: str) -> str:
    """The bureau's spelling: one extra space, one pair of half-width brackets."""
    if name == "柳湾镇中心小学":
        return "柳湾镇 中心小学"
    return name.replace("（", "(").replace("）", ")") if "（北校区）" in name else name


def write_roster(path: Path, schools: Sequence[RosterSchool], rng: random.Random) -> RosterFacts:
    """Write ``schools_roster.xlsx`` (sheet 学校名单), GCJ-02 coordinates for about half."""
    order = list(_KIND_LABELS)
    townships: list[str] = []
    for s in schools:
        if s.township not in townships:
            townships.append(s.township)
    ranked = sorted(
        schools, key=lambda s: (townships.index(s.township), order.index(s.kind), s.name)
    )
    must = [i for i, s in enumerate(ranked) if not s.in_osm or s.node_only]
    others = [i for i in range(len(ranked)) if i not in must]
    located = set(must) | set(rng.sample(others, len(ranked) // 2 - len(must)))
    wb = Workbook()
    ws = wb.active
    ws.title = ROSTER_SHEET
    ws.append(list(ROSTER_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    facts = RosterFacts(rows=len(ranked), with_coords=len(located))
    for i, s in enumerate(ranked):
        lon: float | None = None
        lat: float | None = None
        if i in located:
            glon, glat = wgs84_to_gcj02(s.lon, s.lat)
            lon, lat = round(float(glon), 6), round(float(glat), 6)
        name = _roster_name(s.name)
        if name != s.name:
            facts.variants.append((s.name, name))
        ws.append([name, _KIND_LABELS[s.kind], s.township, s.village, s.address, lon, lat])
    for letter, width in zip("ABCDEFG", (30, 16, 12, 14, 40, 12, 12), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    save_workbook_reproducibly(wb, path)
    return facts


# ---------------------------------------------------------------------------
# campaign checklists

SCHOOL_CHECKLIST_TITLE: Final = "青禾区中小学校、幼儿园“五个百分之百”落实情况登记表"
SCHOOL_CHECKLIST_COLUMNS: Final = (
    "序号",
    "学校名称",
    "所在乡镇",
    "专职保安员",
    "防冲撞设施",
    "校门视频监控",
    "封闭化管理",
    "一键式紧急报警",
)
WATER_CHECKLIST_TITLE: Final = "青禾区学校周边重点水域安全检查登记表"
WATER_CHECKLIST_COLUMNS: Final = (
    "序号",
    "水域名称",
    "所在乡镇",
    "警示标志",
    "防护栏",
    "巡查",
    "责任主体",
)
#: How the registers spell "present" and "missing" (varied on purpose, by row).
_YES_WORDS: Final = ("是", "有", "√", "已配备", "1")
_NO_WORDS: Final = ("否", "无", "×", "未配备", "0")


def _missing_school_items(i: int) -> set[int]:
    """Items (0..4) a school lacks, by its row: a few, deterministic."""
    missing = set()
    if i % 4 == 1:
        missing.add((i // 4) % 5)
    if i % 9 == 4:
        missing.add((i + 2) % 5)
    return missing


def _checklist_sheet(title: str, columns: Sequence[str], sheet: str) -> tuple[Workbook, Any]:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(list(columns))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A3"
    return wb, ws


def write_checklists(
    school_path: Path,
    water_path: Path,
    schools: Sequence[tuple[str, str]],
    waters: Sequence[tuple[str, str]],
) -> ChecklistFacts:
    """Write the campaign's checklist registers (no randomness: missing items follow the row).

    ``五个百分之百.xlsx``: one row per school (name, township), five items;
    ``重点水域检查.xlsx``: one row per water body (name, township), signs, fence,
    patrol and owner (empty for some).
    """
    facts = ChecklistFacts(schools=len(schools), waters=len(waters))
    wb, ws = _checklist_sheet(SCHOOL_CHECKLIST_TITLE, SCHOOL_CHECKLIST_COLUMNS, "五个百分之百")
    for i, (name, township) in enumerate(schools):
        missing = _missing_school_items(i)
        facts.school_missing += len(missing)
        cells = [
            (_NO_WORDS if j in missing else _YES_WORDS)[(i + j) % len(_YES_WORDS)] for j in range(5)
        ]
        ws.append([i + 1, name, township, *cells])
    for letter, width in zip("ABCDEFGH", (6, 30, 12, 12, 12, 14, 12, 16), strict=True):
        ws.column_dimensions[letter].width = width
    save_workbook_reproducibly(wb, school_path)
    wb, ws = _checklist_sheet(WATER_CHECKLIST_TITLE, WATER_CHECKLIST_COLUMNS, "重点水域")
    for i, (name, township) in enumerate(waters):
        missing = {j for j in range(3) if (i + j) % 3 == 0 and i % 2 == 0}
        owner = "" if i % 3 == 1 else f"{township}人民政府"
        facts.water_missing += len(missing) + (not owner)
        cells = [(_NO_WORDS if j in missing else _YES_WORDS)[(i + j) % 2] for j in range(3)]
        ws.append([i + 1, name, township, *cells, owner])
    for letter, width in zip("ABCDEFG", (6, 20, 12, 10, 10, 10, 24), strict=True):
        ws.column_dimensions[letter].width = width
    save_workbook_reproducibly(wb, water_path)
    return facts


# ---------------------------------------------------------------------------
# README


def write_readme(path: Path, facts: DemoFacts) -> None:
    """Write the data folder's README.md from the generated facts."""
    path.write_bytes(_readme_text(facts).encode("utf-8"))


def _md_list(items: Sequence[str]) -> str:
    return "、".join(items) if items else "—"


def _readme_text(f: DemoFacts) -> str:
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(f.schools_by_kind.items()))
    venues = ", ".join(f"{k} {n}" for k, n in sorted(f.venues_by_category.items()))
    towns = "\n".join(f"| {name} | {_md_list(villages)} |" for name, villages in f.townships)
    variants = "\n".join(
        f"| {cat} | `{var}` | `{tags}` | {names} |" for cat, var, tags, names in f.variant_table
    )
    waters = "\n".join(f"| {name} | `{tags}` | `{ref}` |" for name, tags, ref in f.waters)
    dirt = []
    for file, kinds_ in f.registry.dirty.items():
        dirt += [f"- `{file}` {kind}: {_md_list(names)}" for kind, names in kinds_.items()]
    closed = "\n".join(
        f"- `{file}` {status}: {_md_list(names)}"
        for file, statuses in f.registry.closed.items()
        for status, names in statuses.items()
    )
    spelled = "; ".join(f"{a} → {b}" for a, b in f.roster.variants)
    planted = "\n".join(f.planted_lines)
    near = "\n".join(f"| {w} | `{ref}` | {school} | {m} |" for w, ref, school, m in f.water_near)
    return _README.format(
        f=f,
        kinds=kinds,
        k12=sum(f.schools_by_kind.values()),
        venues=venues,
        n_venues=sum(f.venues_by_category.values()),
        towns=towns,
        variants=variants,
        waters=waters,
        dirt="\n".join(dirt),
        closed=closed,
        spelled=spelled,
        decoys=_md_list([f"{name} (`amenity={amenity}`)" for name, amenity in f.decoys]),
        node_only=_md_list(f.node_only),
        roster_only=_md_list(f.roster_only),
        planted=planted,
        near=near,
    )


_README: Final = """\
# 青禾区 — the campus_geo demo district (fictional)

Everything in this folder is **generated** by `campus_geo.demo.generate_demo()` from the
seed **{f.seed}**: the same seed always gives byte-identical files. Do not edit the files
by hand; change the package `campus_geo/demo/` and regenerate:

```
campus-geo demo --regenerate          # or: python -c "from campus_geo import demo; demo.generate_demo()"
```

青禾区 of 许安市 is a **fictional** county district placed in Henan around lon 113.85,
lat 34.05 (extent lon 113.75–113.95, lat 33.98–34.12). All names of townships,
villages, schools, streets, waters, businesses, credit codes and licence numbers are
invented; any likeness to a real place or business is accidental.

## Files

- `district.osm`: OSM XML 0.6 with the admin areas, streets, schools, gates, water,
  venues, traffic points and cameras ({f.nodes} nodes, {f.ways} ways, {f.relations}
  relation); WGS 84 coordinates with 7 decimals; UTF-8.
- `registry.xlsx`: sheet 市场主体名录, a merged title in row 1, headers in row 2,
  {f.registry.xlsx_rows} rows; GCJ-02 coordinates with 6 decimals.
- `registry_gbk.csv`: a second registry (another department's subset),
  {f.registry.csv_rows} rows; GCJ-02 with 6 decimals; **GBK** encoded, CRLF line ends.
- `schools_roster.xlsx`: sheet 学校名单, the education bureau's list of K-12 schools,
  {f.roster.rows} rows, {f.roster.with_coords} of them with GCJ-02 coordinates.
- `五个百分之百.xlsx`: sheet 五个百分之百, the campaign's checklist of each K-12 school
  (专职保安员, 防冲撞设施, 校门视频监控, 封闭化管理, 一键式紧急报警: 是/否, 有/无, √/×, 1/0,
  已配备/未配备), a merged title in row 1, headers in row 2, {f.checklists.schools} schools,
  {f.checklists.school_missing} items missing; read by `campus-geo ledger checklist`.
- `重点水域检查.xlsx`: sheet 重点水域, the checklist of each water body (警示标志, 防护栏,
  巡查, 责任主体), {f.checklists.waters} rows, {f.checklists.water_missing} items missing
  (an empty 责任主体 is one).
- `planted.csv`: {f.plants} planted school/hazard pairs with design and true
  distances (metres on the WGS 84 ellipsoid); UTF-8.

## The district

Nine townships (`boundary=administrative admin_level=8`), each tiled exactly by
its villages or communities (`admin_level=10`; the polygons share their nodes), inside
the district (`type=boundary` relation, `admin_level=6`, 青禾区):

| township (乡/镇/街道) | villages / communities (村/社区) |
|---|---|
{towns}

Each township has a town (a street grid; 鹤鸣街道 and 文苑街道 are the urban core)
and 1–2 village hamlets (small grids joined to the network by a tertiary road).
Arterials (`highway=primary`: 青禾大道, 振兴大道; `secondary`: 建设路, 人民路, 文昌路,
杏林路) join the towns and run through their middle streets; town streets are
`tertiary` (outer ring) and `residential`; `footway`s join every school gate to its
street and cross one park block per town. All `highway` ways form **one connected
network** (junctions share nodes).

## Schools

{k12} K-12 schools are mapped: {kinds}. Campus outlines are closed ways
(`amenity=school`, `amenity=kindergarten` for 幼儿园), rectangles or L-shapes 35–290 m a
side, aligned with the street they face at 8–20 m. Three are mapped as **nodes only**
(outline unknown): {node_only}. Schools carry `name` and sometimes `addr:street`, never
township tags: the township and village come from the admin polygons.

Gates ({f.gates}, of which {f.k12_gates} on K-12 campuses) are nodes **of the outline
way** tagged `barrier=gate` and
`entrance=main` (one per school) or `entrance=yes`, each joined to its street by a
short `highway=footway` that shares the gate node.

Non-K-12 decoys that a loader must exclude: {decoys}.

## Water

| name | tags | OSM id |
|---|---|---|
{waters}

`waterway=river` lines for both rivers; 玉带河 also as an area (`natural=water
water=river`) and flows through the town of 鹤鸣街道. 幸福渠 is a `waterway=canal`;
ponds are `natural=water water=pond`; the reservoir is `landuse=reservoir
natural=water water=reservoir`. Water within 200 m of a school (distances rounded, for
orientation only):

| water | OSM id | school | ≈ m |
|---|---|---|---|
{near}

## Venues

{n_venues} venues, all nodes except the planted fuel station (a closed way): {venues}.
Every hazard category appears both with an OSM tag and **by name only** (a keyword in
`name` on `shop=yes`, `shop=convenience` or `office=yes`); `supermarket_tobacco` is only
in the registries. Neutral venues (category
"neutral") must not be flagged: bookshops, hospitals, police, banks, cafés (one with
`internet_access=wlan`), supermarkets, restaurants, pharmacies, stationers.
Some venues carry `addr:street` / `addr:housenumber`.

| category | variant | tags | names |
|---|---|---|---|
{variants}

## Traffic points and cameras

- `highway=bus_stop` ({f.bus_stops}, `public_transport=platform bus=yes`), named after the
  school whose main gate they serve (`name=<school name>站`), 25–45 m from the gate;
- `highway=crossing crossing=marked` ({f.crossings}) on the street where a main gate's
  footway meets it;
- `highway=traffic_signals` ({f.signals}) at every town centre and at junctions near schools;
- cameras ({f.cameras}): `man_made=surveillance surveillance=public
  surveillance:type=camera operator=青禾区公安局`, near gates with
  `surveillance:zone=town` and at junctions with `surveillance:zone=traffic`;
  `camera:type=fixed` ones have `camera:direction` (degrees clockwise from north, the
  way the camera looks) and `camera:angle` (tilt below the horizontal, OSM wiki
  meaning, not a field of view); four `camera:type=dome` ones have no direction.

## Planted pairs (`planted.csv`)

For each pair a venue (or the fuel station polygon, or the canal) was placed at a
designed distance from the campus outline: from the midpoint of an outline edge, out
along the edge's normal with `pyproj.Geod(ellps="WGS84").fwd`, then moved to the
7-decimal lattice point that keeps the design distance best. `true_m` is measured
from the written coordinates: both geometries densified geodesically (1 m, then 1 cm
near the closest part) and the minimum of `Geod.inv` taken; it differs from
`design_m` by less than 0.02 m (in practice < 1 mm). No other school is nearer to a
planted hazard than its school, and nothing else of the same category (including
registry-only venues; for water: any water) lies within 400 m of a planted school.

```
{planted}
```

## Registries

Columns: 序号 (xlsx only), 企业名称, 统一社会信用代码 (18 characters, fictional
region code 419950, valid check characters), 许可证号, 经营场所, 经营范围, 经度, 纬度
(GCJ-02, as from Amap), 登记状态, 所属乡镇. Most rows are venues of `district.osm`
(same names; their WGS 84 positions converted with
`campus_geo.coords.wgs84_to_gcj02`); {f.registry_only} are venues that OSM does not
have: licensed hazards and ordinary shops (超市, 面馆), among them three 便利店 whose
scope includes 烟草制品零售. The business scope (经营范围) is what tells a venue's
category. Dirty rows, deliberately:

{dirt}

Closed businesses (登记状态 注销 or 吊销; the two files disagree, as real ones do):

{closed}

All other rows are 存续 or 在营.

## School roster

Columns 学校名称, 学段/类型, 所属乡镇, 所属村（社区）, 地址, 经度, 纬度 (GCJ-02); every
K-12 school, about half with coordinates (all node-only schools and the unmapped one
among them). Spelled differently from OSM: {spelled}. Not in OSM at all:
{roster_only}.

## Notes for loaders

- `osmnx.graph_from_xml` turns **every** way into edges (admin boundaries, campus
  outlines, water). Keep the edges that have a `highway` attribute for walking: they
  form one weakly connected component. The largest component of the raw graph also
  holds the campus outline ways, which meet the footways at the gates.
- Gates are nodes of both the campus outline and a footway; the planted fuel
  station is a closed way (`amenity=fuel`), all other venues are nodes.
- Traps: 烟花爆竹批发部 is a dangerous site, not a tobacco shop; `amenity=cafe
  internet_access=wlan` is an ordinary café, `internet_access=terminal` an internet
  café; `amenity=prep_school` 培训学校 is a care/training centre, not a school;
  `shop=kiosk` 小吃摊 and `amenity=fast_food` 辣条零食店 are vendors by name only.
- Registry and roster coordinates are GCJ-02: convert them with
  `campus_geo.coords.gcj02_to_wgs84` (6 decimals are good to about 0.1 m).
"""
