"""The summary page's sections on drowning risk, traffic at gates, cameras and profiles.

:class:`Analyses` holds what the water, traffic and camera analyses of a run
found (:mod:`campus_geo.water`, :mod:`campus_geo.traffic`,
:mod:`campus_geo.cameras`); ``campus-geo demo`` computes them once
(:func:`campus_geo.cli.analyses.run_analyses`) and hands them to the summary
page, the inspection form and the overview map. :func:`analysis_sections`
turns them into titled tables in Chinese or English for
:func:`campus_geo.summary.save_summary_html`:

- 溺水防范 (drowning risk): the schools with water within the distance and
  the key water areas ranked by the schools they threaten;
- 交通安全 (traffic at gates): arterial frontages without a signalised
  crossing, and the first guard-post (护学岗) candidates of each school;
- 视频监控 (cameras): schools ranked by coverage gap, and the gates no camera sees;
- 量算口径 (profiles): with ``profile="all"``, the findings whose verdict
  depends on how the distance is measured (from the findings, whether or not
  the analyses ran).

Long tables are cut at :data:`MAX_ROWS` rows, with a note naming the CSV
file that has them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from campus_geo.analyses.traffic import KIND_LABELS
from campus_geo.analyses.water import WATER_TYPES
from campus_geo.engine.walk import WALK_SEARCH_FACTOR
from campus_geo.settings import CATEGORY_LABELS

__all__ = [
    "MAX_ROWS",
    "POSTS_PER_SCHOOL",
    "ROAD_CLASSES",
    "Analyses",
    "Section",
    "analysis_sections",
    "checklist_section",
    "road_class_label",
]

#: Rows a section's table shows at most (the CSV files have them all).
MAX_ROWS: Final = 50
#: Guard-post candidates shown per school (the first ones of its ranking).
POSTS_PER_SCHOOL: Final = 3

_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "water": "溺水防范",
        "water_lead": "距校园边界{d:g}米内有水域的学校 {schools} 所，涉及水体 {bodies} 处。",
        "water_none": "距校园边界{d:g}米内未发现水域。",
        "water_table": "重点水域（按威胁学校数排序）",
        "water_headers": "位次|水体|类型|威胁学校（所）|学生数（人）|最近的学校|最近距离（米）",
        "unnamed": "未命名",
        "traffic": "交通安全",
        "traffic_lead": "校门步行{d:g}米内的交通风险点 {points} 处；无信号灯过街设施的主干道"
        "临校路段 {gaps} 处；{schools} 所学校有护学岗候选点。",
        "gaps_table": "无信号灯过街设施的主干道临校路段",
        "gaps_headers": "学校|校门|道路|道路等级|校门至道路（米）|最近的信号灯过街点（步行米）",
        "gaps_none": "没有无信号灯过街设施的主干道临校路段。",
        "beyond": "{d:g}米内没有",
        "posts_table": "护学岗候选点（每校前{n}位，按道路等级、有无信号灯、距校门距离排序）",
        "posts_headers": "学校|候选点（优先次序）",
        "posts_none": "没有护学岗候选点。",
        "cameras": "视频监控",
        "cameras_lead": "摄像头 {cameras} 个；{seen}/{gates} 个校门在摄像头视野内；学校周边"
        "{zone:g}米范围覆盖率中位数 {median}。覆盖按摄像头的朝向、视场角和可视距离估算，"
        "未计墙体遮挡（为上限）。",
        "coverage_table": "学校视频监控覆盖缺口排名（校门未覆盖多者在前，其次未覆盖面积比例）",
        "coverage_headers": "位次|学校|乡（镇、街道）|摄像头（个）|覆盖率|校门（在视野内/总数）",
        "unseen_table": "不在任何摄像头视野内的校门",
        "unseen_headers": "学校|校门编号（校门附近覆盖率）",
        "unseen_none": "每个校门都在摄像头视野内。",
        "profiles": "量算口径",
        "profiles_lead": "按全部量算口径排查：{n} 处问题（{pairs} 组学校与隐患）的结论随量算口径而变，"
        "共 {total} 处问题。",
        "profiles_headers": "学校|隐患|类别|规定（米）|边界直线（米）|校门直线（米）|步行（米）",
        "profiles_none": "没有结论随量算口径而变的问题。",
        "far": "超过{d:g}或不可达",
        "more": "另有 {n} 行未列出，全部见 {file}。",
        "yes": "有信号灯",
        "no": "无信号灯",
        "post": "{rank}. {kind}：{road}，{signal}，距校门{d:.1f}米",
        "no_name_road": "无名道路",
        "sep": "、",
        "skipped": "本次未分析：{why}",
    },
    "en": {
        "water": "Drowning risk",
        "water_lead": "{schools} schools have water within {d:g} m of their outline; "
        "{bodies} water bodies.",
        "water_none": "No water within {d:g} m of any school.",
        "water_table": "Key water areas (by schools threatened)",
        "water_headers": "Rank|Water body|Type|Schools|Pupils|Nearest school|Nearest (m)",
        "unnamed": "unnamed",
        "traffic": "Traffic at gates",
        "traffic_lead": "{points} traffic points within {d:g} m on foot of a gate; {gaps} "
        "arterial frontages without a signalised crossing; guard-post candidates at "
        "{schools} schools.",
        "gaps_table": "Arterial roads at a gate without a signalised crossing",
        "gaps_headers": "School|Gate|Road|Class|Gate to road (m)|Nearest signalised crossing "
        "(m on foot)",
        "gaps_none": "No arterial frontage without a signalised crossing.",
        "beyond": "none within {d:g} m",
        "posts_table": "Guard-post candidates (first {n} per school, by road class, signals, "
        "distance to the gate)",
        "posts_headers": "School|Candidates (in order)",
        "posts_none": "No guard-post candidates.",
        "cameras": "Camera coverage",
        "cameras_lead": "{cameras} cameras; {seen} of {gates} gates inside a camera's view; "
        "median coverage of the {zone:g} m zones {median}. Coverage from each camera's "
        "direction, field of view and range, walls not modelled (an upper bound).",
        "coverage_table": "Schools by coverage gap (most gates unseen first, then the "
        "uncovered share)",
        "coverage_headers": "Rank|School|Township|Cameras|Covered|Gates seen / gates",
        "unseen_table": "Gates no camera sees",
        "unseen_headers": "School|Gate (coverage of its approach)",
        "unseen_none": "Every gate is inside a camera's view.",
        "profiles": "Measurement profiles",
        "profiles_lead": "Screened under every profile: the verdict of {n} findings ({pairs} "
        "school-hazard pairs) depends on how the distance is measured; {total} findings "
        "in all.",
        "profiles_headers": "School|Hazard|Category|Rule (m)|Outline (m)|Gate (m)|Walk (m)",
        "profiles_none": "No finding's verdict depends on the profile.",
        "far": "beyond {d:g} or unreachable",
        "more": "{n} more rows not shown: all are in {file}.",
        "yes": "signalised",
        "no": "no signals",
        "post": "{rank}. {kind}: {road}, {signal}, {d:.1f} m from the gate",
        "no_name_road": "unnamed road",
        "sep": ", ",
        "skipped": "Not analysed in this run: {why}",
    },
}


@dataclass(frozen=True)
class Analyses:
    """What the water, traffic and camera analyses of a run found (EPSG:4326 frames).

    Attributes
    ----------
    water_near, water_bodies, water_m
        :func:`campus_geo.water.water_near_schools`,
        :func:`campus_geo.water.key_water_areas` and their distance in metres.
    at_gates, gaps, posts, traffic_m
        :func:`campus_geo.traffic.gate_traffic`,
        :func:`campus_geo.traffic.arterial_gaps`,
        :func:`campus_geo.traffic.guard_post_candidates` and their walking
        distance in metres.
    cameras, school_coverage, gate_coverage, blind_spots, zone_m
        :func:`campus_geo.cameras.cameras_from_hazards` (or ``cameras_from_file``),
        the three tables of :func:`campus_geo.cameras.camera_coverage` and its
        zone width in metres.
    skipped
        Analysis (``water``, ``traffic``, ``cameras``) -> why it did not run
        (its tables are then None): the summary page says so in its section.
    """

    water_near: gpd.GeoDataFrame | None = None
    water_bodies: gpd.GeoDataFrame | None = None
    water_m: float = math.nan
    at_gates: gpd.GeoDataFrame | None = None
    gaps: gpd.GeoDataFrame | None = None
    posts: gpd.GeoDataFrame | None = None
    traffic_m: float = math.nan
    cameras: gpd.GeoDataFrame | None = None
    school_coverage: gpd.GeoDataFrame | None = None
    gate_coverage: gpd.GeoDataFrame | None = None
    blind_spots: gpd.GeoDataFrame | None = None
    zone_m: float = math.nan
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ran(self) -> tuple[str, ...]:
        """The analyses that ran: ``water``, ``traffic``, ``cameras``."""
        done = {
            "water": self.water_near is not None,
            "traffic": self.at_gates is not None,
            "cameras": self.school_coverage is not None,
        }
        return tuple(key for key, ok in done.items() if ok)


@dataclass(frozen=True)
class Section:
    """A section of the summary page: a title, a lead sentence, tables and notes.

    Each table is a dict with ``title``, ``headers``, ``rows`` (a cell is a
    text, or a list of texts shown one per line) and ``numeric`` (indexes of
    the right-aligned columns).
    """

    key: str
    title: str
    lead: str
    tables: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _table(
    title: str, headers: str, rows: list[list[Any]], numeric: tuple[int, ...]
) -> dict[str, Any]:
    return {
        "title": title,
        "headers": headers.split("|"),
        "rows": rows[:MAX_ROWS],
        "numeric": list(numeric),
    }


def _more(t: dict[str, str], rows: int, file: str) -> list[str]:
    return [t["more"].format(n=rows - MAX_ROWS, file=file)] if rows > MAX_ROWS else []


def _pick(labels: tuple[str, str], lang: str) -> str:
    return labels[0] if lang == "zh" else labels[1]


def _m(value: Any) -> str:
    return f"{float(value):.1f}"


def _s(value: Any) -> str:
    """A text cell: "" for a missing value (None, NaN)."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _water(a: Analyses, lang: str) -> Section:
    t = _TEXT[lang]
    near, bodies = a.water_near, a.water_bodies
    assert near is not None
    assert bodies is not None
    if not len(bodies):
        return Section("water", t["water"], t["water_none"].format(d=a.water_m))
    rows = [
        [
            int(b["rank"]),
            _s(b["name"]) or t["unnamed"],
            _pick(WATER_TYPES.get(str(b["water_type"]), WATER_TYPES["other"]), lang),
            int(b["schools"]),
            "—" if pd.isna(b["pupils"]) else f"{int(b['pupils']):,}",
            _s(b["nearest_school"]),
            _m(b["min_distance_m"]),
        ]
        for _, b in bodies.sort_values("rank").iterrows()
    ]
    lead = t["water_lead"].format(
        d=a.water_m, schools=near["school_id"].nunique(), bodies=len(bodies)
    )
    table = _table(t["water_table"], t["water_headers"], rows, (0, 3, 4, 6))
    return Section("water", t["water"], lead, [table], _more(t, len(rows), "key_water_areas.csv"))


#: Chinese names of the OSM road classes (``highway=*``), as the offices call the roads.
ROAD_CLASSES: Final[dict[str, str]] = {
    "motorway": "高速公路",
    "trunk": "快速路",
    "primary": "主干路",
    "secondary": "次干路",
    "tertiary": "支路",
    "unclassified": "一般道路",
    "residential": "居住区道路",
    "living_street": "生活街道",
    "service": "服务道路",
    "pedestrian": "步行街",
    "footway": "人行道",
}


def road_class_label(road_class: Any, lang: str = "zh") -> str:
    """The road class in Chinese with its OSM code (次干路（secondary）), or the code in English.

    Examples
    --------
    >>> road_class_label("secondary"), road_class_label("secondary_link"), road_class_label("x", "en")
    ('次干路（secondary）', '次干路（secondary_link）', 'x')
    """
    code = _s(road_class)
    name = ROAD_CLASSES.get(code.removesuffix("_link"))
    if lang != "zh" or not name:
        return code
    return f"{name}（{code}）"


def _road(name: Any, road_class: Any, lang: str) -> str:
    """A road's name, or "unnamed road (its class)"."""
    if _s(name):
        return _s(name)
    unnamed = _TEXT[lang]["no_name_road"]
    kind = road_class_label(road_class, lang)
    return f"{unnamed}（{kind}）" if lang == "zh" else f"{unnamed} ({kind})"


def _posts(posts: pd.DataFrame, lang: str) -> list[list[Any]]:
    t = _TEXT[lang]
    rows = []
    first = posts[posts["rank"] <= POSTS_PER_SCHOOL].sort_values(
        ["school_name", "school_id", "rank"], kind="stable"
    )
    for _, group in first.groupby("school_id", sort=False):
        lines = [
            t["post"].format(
                rank=int(p["rank"]),
                kind=_pick(KIND_LABELS.get(str(p["kind"]), KIND_LABELS["other"]), lang),
                road=_road(p["road_name"], p["road_class"], lang),
                signal=t["yes"] if bool(p["signalised"]) else t["no"],
                d=float(p["distance_m"]),
            )
            for _, p in group.iterrows()
        ]
        rows.append([_s(group["school_name"].iloc[0]), lines])
    return rows


def _traffic(a: Analyses, lang: str) -> Section:
    t = _TEXT[lang]
    assert a.at_gates is not None
    assert a.gaps is not None
    assert a.posts is not None
    lead = t["traffic_lead"].format(
        d=a.traffic_m,
        points=len(a.at_gates),
        gaps=len(a.gaps),
        schools=a.posts["school_id"].nunique(),
    )
    search = 5.0 * a.traffic_m  # arterial_gaps searches signals up to five times the distance
    gaps = a.gaps.sort_values(["school_name", "entrance_id", "road_name"], kind="stable")
    gap_rows = [
        [
            _s(g["school_name"]),
            _s(g.get("gate_name")) or _s(g["entrance_id"]),
            _s(g["road_name"]) or t["no_name_road"],
            road_class_label(g["road_class"], lang),
            _m(g["gate_to_road_m"]),
            t["beyond"].format(d=search)
            if pd.isna(g["nearest_signal_m"])
            else _m(g["nearest_signal_m"]),
        ]
        for _, g in gaps.iterrows()
    ]
    post_rows = _posts(a.posts, lang)
    tables, notes = [], []
    if gap_rows:
        tables.append(_table(t["gaps_table"], t["gaps_headers"], gap_rows, (4, 5)))
        notes += _more(t, len(gap_rows), "arterial_gaps.csv")
    else:
        notes.append(t["gaps_none"])
    if post_rows:
        title = t["posts_table"].format(n=POSTS_PER_SCHOOL)
        tables.append(_table(title, t["posts_headers"], post_rows, ()))
        notes += _more(t, len(post_rows), "guard_posts.csv")
    else:
        notes.append(t["posts_none"])
    return Section("traffic", t["traffic"], lead, tables, notes)


def _cameras(a: Analyses, lang: str) -> Section:
    t = _TEXT[lang]
    cov, gates = a.school_coverage, a.gate_coverage
    assert cov is not None
    assert gates is not None
    assert a.cameras is not None
    median = cov["covered_share"].median() if len(cov) else math.nan
    lead = t["cameras_lead"].format(
        cameras=len(a.cameras),
        seen=int(gates["seen"].sum()) if len(gates) else 0,
        gates=len(gates),
        zone=a.zone_m,
        median="—" if math.isnan(median) else f"{median:.1%}",
    )
    ranked = cov.sort_values("rank")
    rows = [
        [
            int(c["rank"]),
            _s(c["name"]) or str(school_id),
            _s(c["township"]),
            int(c["cameras"]),
            f"{float(c['covered_share']):.1%}",
            f"{int(c['gates_seen'])}/{int(c['gates'])}",
        ]
        for school_id, c in ranked.iterrows()
    ]
    tables = [_table(t["coverage_table"], t["coverage_headers"], rows, (0, 3, 4, 5))]
    notes = _more(t, len(rows), "camera_coverage.csv")
    unseen = gates[~gates["seen"].astype(bool)] if len(gates) else gates
    if len(unseen):
        order = cov["rank"].reindex(unseen["school_id"]).to_numpy()
        unseen = unseen.assign(_rank=order).sort_values(["_rank"], kind="stable")
        names = cov["name"].reindex(unseen["school_id"]).fillna("").to_numpy()
        unseen = unseen.assign(_name=np.where(names == "", unseen["school_id"], names))
        gate_rows = [
            [
                _s(group["_name"].iloc[0]),
                [
                    f"{_s(g.get('gate_name')) or gid}（{float(g['covered_share']):.0%}）"
                    if lang == "zh"
                    else f"{_s(g.get('gate_name')) or gid} ({float(g['covered_share']):.0%})"
                    for gid, g in group.iterrows()
                ],
            ]
            for _, group in unseen.groupby("school_id", sort=False)
        ]
        tables.append(_table(t["unseen_table"], t["unseen_headers"], gate_rows, ()))
        notes += _more(t, len(gate_rows), "gate_coverage.csv")
    else:
        notes.append(t["unseen_none"])
    return Section("cameras", t["cameras"], lead, tables, notes)


def _profiles(findings: pd.DataFrame, lang: str) -> Section:
    t = _TEXT[lang]
    flagged = findings[findings["profile_dependent"].eq(True)]
    pairs = flagged.sort_values(["school_name", "hazard_name", "distance_m"], kind="stable")
    pairs = pairs.drop_duplicates(["school_id", "hazard_id", "category", "threshold_m"])
    lead = t["profiles_lead"].format(n=len(flagged), pairs=len(pairs), total=len(findings))
    if not len(pairs):
        return Section("profiles", t["profiles"], lead, notes=[t["profiles_none"]])

    def metres(value: Any, threshold: float) -> str:
        d = float(value)
        return _m(d) if np.isfinite(d) else t["far"].format(d=threshold * WALK_SEARCH_FACTOR)

    rows = [
        [
            _s(f["school_name"]),
            _s(f["hazard_name"]) or t["unnamed"],
            _pick(CATEGORY_LABELS.get(str(f["category"]), (str(f["category"]),) * 2), lang),
            f"{float(f['threshold_m']):g}",
            *(
                metres(f[c], float(f["threshold_m"]))
                for c in ("boundary_m", "entrance_m", "walk_m")
            ),
        ]
        for _, f in pairs.iterrows()
    ]
    table = _table("", t["profiles_headers"], rows, (3, 4, 5, 6))
    return Section("profiles", t["profiles"], lead, [table], _more(t, len(rows), "findings.csv"))


_RATES_TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "五个百分之百与重点水域",
        "school": "校园安全“五个百分之百”达标率（按乡镇）",
        "water": "重点水域防护措施落实率（按乡镇）",
        "township": "乡（镇、街道）",
        "lead": "{parts}。每一项缺失均已作为整改问题登记在台帐中（campus-geo ledger checklist）。",
        "school_lead": "{n} 所学校五项全部达标率 {all}",
        "water_lead": "{n} 处重点水域",
        "sep": "；",
    },
    "en": {
        "title": "Five 100 % items and key water areas",
        "school": "Schools with each of the five items (by township)",
        "water": "Key water areas with each measure (by township)",
        "township": "Township",
        "lead": "{parts}. Each missing item is a case in the ledger (campus-geo ledger checklist).",
        "school_lead": "{n} schools, {all} with all five items",
        "water_lead": "{n} key water areas",
        "sep": "; ",
    },
}


def checklist_section(
    rates: Mapping[str, pd.DataFrame], labels: Mapping[str, Mapping[str, str]], *, lang: str = "zh"
) -> Section:
    """The summary page's section on the campaign checklists: rates by township.

    Parameters
    ----------
    rates
        Register kind (``school``: 五个百分之百, ``water``: 重点水域) -> the table of
        :func:`campus_geo.ledger.checklists.rates_table` (a ``count`` column, then the
        share 0..1 of each item; the last row ``合计``).
    labels
        Kind -> column -> header (:func:`campus_geo.ledger.checklists.rate_labels`).
    lang
        "zh" or "en" (the item headers are the registers' Chinese names).
    """
    t = _RATES_TEXT[lang]
    tables, parts = [], []
    for kind in ("school", "water"):
        if kind not in rates:
            continue
        table = rates[kind]
        names = labels[kind]
        rows = [
            [str(town), int(row["count"]), *(f"{float(row[c]):.0%}" for c in table.columns[1:])]
            for town, row in table.iterrows()
        ]
        headers = "|".join([t["township"], *(names.get(c, c) for c in table.columns)])
        tables.append(_table(t[kind], headers, rows, tuple(range(1, len(table.columns) + 1))))
        total = table.iloc[-1]
        if kind == "school":
            parts.append(t["school_lead"].format(n=int(total["count"]), all=f"{total['all']:.0%}"))
        else:
            parts.append(t["water_lead"].format(n=int(total["count"])))
    lead = t["lead"].format(parts=t["sep"].join(parts))
    return Section("checklists", t["title"], lead, tables)


def analysis_sections(
    findings: pd.DataFrame, analyses: Analyses | None, *, lang: str = "zh"
) -> list[Section]:
    """The sections of the summary page beyond the findings' counts, in `lang` ("zh" or "en").

    Drowning risk, traffic at gates and cameras when `analyses` is given;
    profiles when the findings carry ``profile_dependent`` (``profile="all"``).
    """
    if lang not in _TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(_TEXT)}"
        raise ValueError(msg)
    sections = []
    if analyses is not None:
        builders = {"water": _water, "traffic": _traffic, "cameras": _cameras}
        for key, build in builders.items():
            if key in analyses.ran:
                sections.append(build(analyses, lang))
            elif key in analyses.skipped:
                lead = _TEXT[lang]["skipped"].format(why=analyses.skipped[key])
                sections.append(Section(key, _TEXT[lang][key], lead))
    if "profile_dependent" in findings.columns:
        sections.append(_profiles(findings, lang))
    return sections
