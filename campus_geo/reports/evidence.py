"""One evidence sheet per finding: who, what, which rule, how it was measured, from what.

Measurement disputes are common (an official "over 200 m" was surveyed at
164.8 m), so every finding gets a printable sheet (HTML for A4, optionally PDF)
that a person can check without campus_geo:

- the school and the hazard with their identity and sources: the OSM element
  (``way/123``, its version and timestamp when the file has them) and the data
  date of the OSM file (``<meta osm_base>`` of Overpass output, else the latest
  element timestamp), or the table file and its row;
- the rule: id, distance, severity, legal basis, lead and responsible units,
  suggestion;
- the measurement: profile, ellipsoid (WGS 84), algorithm (chord series or Karney's geodesic,
  GeographicLib), the transverse Mercator band in which the nearest points were
  found, the two end points in WGS 84 to 7 decimals (about 1 cm), the distance
  and the azimuth between them;
- a static map (SVG, no network) of the outline, the hazard and the measured
  line labelled with its length;
- the SHA-256 of every input file and the versions of campus_geo and of the
  libraries that measured.

The same inputs give byte-identical sheets: the only time on a sheet is the
explicit "generated at" (``generated_at=``, else ``SOURCE_DATE_EPOCH``, else now).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from campus_geo._errors import InputDataError
from campus_geo.category_registry import CategoryRegistry
from campus_geo.geodesy import GEOD, band_crs, band_of
from campus_geo.reports.charts import figure_svg, finding_map
from campus_geo.reports.fonts import CJKFont, cjk_font
from campus_geo.reports.provenance import (
    Provenance,
    SourceRef,
    describe_inputs,
    generation_time,
    osm_element_ids,
    parse_sources,
    software_versions,
)
from campus_geo.rules import Rule, categories_of, default_rules, read_rules
from campus_geo.settings import KIND_LABELS, SEVERITY_LABELS

__all__ = ["SHEET_TEXT", "evidence_html", "rules_by_id", "save_evidence_sheets"]

log = logging.getLogger(__name__)

_ID_FILE: Final = re.compile(r"^[0-9a-f]{16}\.(html|pdf)$")
OSM_ATTRIBUTION: Final = "© OpenStreetMap contributors"

# --- the sheet ------------------------------------------------------------------------

SHEET_TEXT: Final[dict[str, dict[str, Any]]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "校园周边安全隐患证据单",
        "finding_id": "问题编号",
        "generated_at": "生成时间",
        "unit": "填报单位：",
        "school": "学校",
        "hazard": "隐患",
        "name": "名称",
        "alt_names": "又名",
        "id": "编号",
        "kind": "类型",
        "place": "所在乡（镇、街道）、村（社区）",
        "source": "来源",
        "category": "类别",
        "classified_by": "归类依据：",
        "address": "地址",
        "rule": "适用规则",
        "rule_id": "规则编号",
        "threshold": "规定距离",
        "basis": "法律依据",
        "lead_units": "牵头单位",
        "responsible_units": "责任单位",
        "enforcing_units": "执法单位（主办在前）",
        "suggestion": "整治建议",
        "measurement": "量测方法与结果",
        "profile": "量测口径",
        "ellipsoid": "椭球",
        "algorithm": "距离算法",
        "projection": "求最近点所用投影",
        "school_end": "学校端点（WGS 84）",
        "hazard_end": "隐患端点（WGS 84）",
        "distance": "量得距离",
        "azimuth": "方位角",
        "notes": "备注",
        "map": "示意图",
        "map_alt": "学校、隐患与量测线示意图",
        "inputs": "输入文件",
        "file": "文件",
        "data_date": "数据日期",
        "size": "字节数",
        "no_inputs": "未提供输入文件",
        "software": "软件",
        "libraries": "量测所用程序库",
        "field_check": "现场核查",
        "checked_distance": "现场复核距离（米）",
        "checker": "核查人",
        "check_date": "核查日期",
        "signature": "签字",
        "footer": "本证据单由 campus_geo 根据上列输入文件生成；相同的输入生成逐字节相同的证据单。"
        "端点坐标保留 7 位小数（约 1 厘米），距离在 WGS 84 椭球面上量算。",
        "profiles": {
            "boundary": "自校园边界（围墙）任一点至隐患最近点的直线距离（文市函〔2003〕560号）",
            "entrance": "自最近的校门至隐患最近点的直线距离",
            "walk": "自校门沿步行路网至隐患的最短路线长度（文市发〔2014〕41号、粤文旅规〔2023〕1号）；"
            "路线自校门与隐患各接入最近路段上的最近点，含路段内的部分长度",
        },
        "ellipsoid_text": "WGS 84（长半轴 a = 6378137 米，扁率 f = 1/298.257223563）",
        "algorithm_text": "椭球面大地线长度：10 千米以内由两端点的地心弦长按椭球面法曲率级数换算，"
        "与 Karney 算法（GeographicLib）相差小于 10 纳米；更长的由 Karney 算法（经 pyproj.Geod.inv）"
        "计算。计算误差小于 1 微米。两端点是校园与隐患在下列投影平面中的最近点；距离在最近点处取极小值，"
        "投影使端点偏移数毫米时，对距离的影响小于 1 毫米。",
        "projection_text": "横轴墨卡托投影（WGS 84 椭球，比例因子 1；Evenden–Snyder 级数，"
        "带内与精确算法相差小于 5 纳米），中央经线 {lon0}，"
        "0.5° 经度带第 {band} 带；带内比例误差小于 1.2×10⁻⁵",
        "band_from_end": "（未提供校园轮廓，由学校端点确定投影带）",
        "lonlat": "经度 {lon}，纬度 {lat}",
        "meridian": "{v:.6f}°{h}",
        "east": "{v:.7f}°E",
        "west": "{v:.7f}°W",
        "north": "{v:.7f}°N",
        "south": "{v:.7f}°S",
        "distance_text": "{d:.3f} 米（排查表取 {d:.1f} 米）；规定 {t:g} 米，{rel}",
        "within": "在规定距离以内 {m:.3f} 米",
        "outside": "超出规定距离 {m:.3f} 米",
        "azimuth_text": "{a:.2f}°（自学校端点起，真北顺时针）",
        "mismatch": "由两端点重算的距离为 {d:.3f} 米，与记录的距离不符，请核查数据来源",
        "walk_algorithm": "路线各段（OSM 相邻节点之间）按椭球面大地线计算长度并相加，Karney 算法"
        "（GeographicLib，经 pyproj.Geod）；最短路线由 Dijkstra 算法在路网上求得。",
        "route": "示意图中的红线即步行路线；端点之间的直线距离为 {d:.3f} 米",
        "verdict": "{hazard}（{category}）距{school} {d:.1f} 米，{rel}（{severity}类）。",
        "verdict_in": "在规定的 {t:g} 米以内",
        "verdict_out": "超出规定的 {t:g} 米",
        "osm_line": "OpenStreetMap 要素 {element}{meta}",
        "paren": "（{}）",
        "sep": "，",
        "osm_version": "版本 {version}",
        "osm_timestamp": "最后编辑 {timestamp}",
        "file_line": "文件 {file}；数据日期：{date}",
        "table_line": "文件 {file}，{row}",
        "row": "第 {row} 行",
        "feature": "要素 {n}",
        "undated": "文件未注明",
        "not_given": "（该文件未列入本次输入，无法核对）",
        "unknown": "未注明",
        "no_geometry": "（未提供）",
        "map_caption": "示意图绘于横轴墨卡托第 {band} 带平面（米），不含底图瓦片。红线为量测线，"
        "标注其长度；虚线为规定距离范围线（边界口径，视野内时绘出）。",
    },
    "en": {
        "html_lang": "en",
        "title": "Evidence sheet: hazard near a school",
        "finding_id": "Finding",
        "generated_at": "generated at",
        "unit": "Reporting unit: ",
        "school": "School",
        "hazard": "Hazard",
        "name": "Name",
        "alt_names": "also ",
        "id": "Id",
        "kind": "Kind",
        "place": "Township / village",
        "source": "Source",
        "category": "Category",
        "classified_by": "classified by ",
        "address": "Address",
        "rule": "Rule",
        "rule_id": "Rule id",
        "threshold": "Distance",
        "basis": "Legal basis",
        "lead_units": "Lead units",
        "responsible_units": "Responsible units",
        "enforcing_units": "Enforcing units (main unit first)",
        "suggestion": "Suggestion",
        "measurement": "Measurement",
        "profile": "Profile",
        "ellipsoid": "Ellipsoid",
        "algorithm": "Distance algorithm",
        "projection": "Projection of the nearest points",
        "school_end": "School end (WGS 84)",
        "hazard_end": "Hazard end (WGS 84)",
        "distance": "Measured distance",
        "azimuth": "Azimuth",
        "notes": "Notes",
        "map": "Map",
        "map_alt": "map of the school, the hazard and the measured line",
        "inputs": "Input files",
        "file": "File",
        "data_date": "Data date",
        "size": "Bytes",
        "no_inputs": "no input files given",
        "software": "Software",
        "libraries": "Libraries that measured",
        "field_check": "Field check",
        "checked_distance": "Distance checked on site (m)",
        "checker": "Checked by",
        "check_date": "Date",
        "signature": "Signature",
        "footer": "Made by campus_geo from the input files listed; the same inputs give a "
        "byte-identical sheet. End points to 7 decimals (about 1 cm); distances on the WGS 84 ellipsoid.",
        "profiles": {
            "boundary": "straight line from any point of the campus boundary to the nearest point "
            "of the hazard (Wenshihan [2003] 560)",
            "entrance": "straight line from the nearest school gate to the nearest point of the hazard",
            "walk": "shortest walking route on the street network from a school gate to the hazard "
            "(Wenshifa [2014] 41 pilots, Guangdong 2023), joined at the nearest point on the nearest "
            "edge, part-edges included",
        },
        "ellipsoid_text": "WGS 84 (a = 6378137 m, f = 1/298.257223563)",
        "algorithm_text": "geodesic on the ellipsoid: up to 10 km from the geocentric chord of the "
        "end points by the series in the ellipsoid's normal curvature, within 10 nm of Karney's "
        "algorithm (GeographicLib); longer, Karney's algorithm (through pyproj.Geod.inv). Error "
        "below 1 µm. The end points are the nearest points of campus and "
        "hazard in the projection below; the distance is stationary there, so the few-millimetre "
        "shift of the points caused by the projection changes it by less than 1 mm.",
        "projection_text": "transverse Mercator (WGS 84, scale 1; Evenden-Snyder series, "
        "within 5 nm of the exact algorithm in the band), central meridian {lon0}, "
        "0.5-degree longitude band {band}; scale error below 1.2e-5 in the band",
        "band_from_end": " (no campus outline given: band chosen from the school end point)",
        "lonlat": "lon {lon}, lat {lat}",
        "meridian": "{v:.6f}°{h}",
        "east": "{v:.7f}°E",
        "west": "{v:.7f}°W",
        "north": "{v:.7f}°N",
        "south": "{v:.7f}°S",
        "distance_text": "{d:.3f} m (form: {d:.1f} m); rule: {t:g} m, {rel}",
        "within": "{m:.3f} m inside",
        "outside": "{m:.3f} m outside",
        "azimuth_text": "{a:.2f}° (from the school end, clockwise from true north)",
        "mismatch": "the distance recomputed from the end points is {d:.3f} m and does not match "
        "the recorded one: check the data",
        "walk_algorithm": "each segment of the route (between consecutive OSM nodes) measured as a "
        "geodesic on the ellipsoid, Karney's algorithm (GeographicLib through pyproj.Geod), and "
        "summed; the shortest route found by Dijkstra's algorithm on the street network.",
        "route": "the red line of the map is the walking route; the straight line between its ends "
        "is {d:.3f} m",
        "verdict": "{hazard} ({category}) is {d:.1f} m from {school}: {rel} (severity: {severity}).",
        "verdict_in": "within the rule's {t:g} m",
        "verdict_out": "outside the rule's {t:g} m",
        "osm_line": "OpenStreetMap element {element}{meta}",
        "paren": " ({})",
        "sep": ", ",
        "osm_version": "version {version}",
        "osm_timestamp": "last edited {timestamp}",
        "file_line": "file {file}; data date: {date}",
        "table_line": "file {file}, {row}",
        "row": "row {row}",
        "feature": "feature {n}",
        "undated": "not stated in the file",
        "not_given": " (this file was not among the inputs: cannot be checked)",
        "unknown": "not stated",
        "no_geometry": "(not given)",
        "map_caption": "Drawn in the plane of transverse Mercator band {band} (metres), no basemap "
        "tiles. Red: the measured line with its length; dashed: the edge of the rule's zone "
        "(boundary profile, when in view).",
    },
}


def _text(lang: str) -> dict[str, Any]:
    if lang not in SHEET_TEXT:
        msg = f"unknown lang {lang!r}; expected one of {', '.join(SHEET_TEXT)}"
        raise ValueError(msg)
    return SHEET_TEXT[lang]


def _lonlat(lon: float, lat: float, t: dict[str, Any]) -> str:
    x = (t["east"] if lon >= 0 else t["west"]).format(v=abs(lon))
    y = (t["north"] if lat >= 0 else t["south"]).format(v=abs(lat))
    return str(t["lonlat"].format(lon=x, lat=y))


def _source_lines(source: str, prov: Provenance, t: dict[str, Any]) -> list[str]:
    """Human-readable provenance of a layer row from its ``source`` text (every source of it)."""
    refs = parse_sources(source)
    if not refs:
        return [t["unknown"]]
    return [line for ref in refs for line in _ref_lines(ref, prov, t)]


def _ref_lines(ref: SourceRef, prov: Provenance, t: dict[str, Any]) -> list[str]:
    if not ref.kind:
        return [ref.raw or t["unknown"]]
    given = prov.file(ref.file) if ref.file else None
    missing = "" if given is not None or not ref.file else t["not_given"]
    if ref.kind == "osm":
        element = prov.elements.get((ref.file, ref.element))
        parts = []
        if element is not None and element.version:
            parts.append(t["osm_version"].format(version=element.version))
        if element is not None and element.timestamp:
            parts.append(t["osm_timestamp"].format(timestamp=element.timestamp))
        meta = t["paren"].format(t["sep"].join(parts)) if parts else ""
        lines = [t["osm_line"].format(element=ref.element, meta=meta)]
        if ref.file:
            date = given.data_date if given is not None and given.data_date else t["undated"]
            if given is not None and given.data_date_source:
                date += f" ({given.data_date_source})"
            lines.append(t["file_line"].format(file=ref.file, date=date) + missing)
        return lines
    row = (
        t["row"].format(row=ref.row)
        if ref.row.isdigit()
        else t["feature"].format(n=ref.row.removeprefix("feature ").strip())
    )
    return [t["table_line"].format(file=ref.file, row=row) + missing]


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("campus_geo", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("evidence.html.j2")


def rules_by_id(rules: Sequence[Rule] | str | Path | None) -> dict[str, Rule]:
    """The rule table by rule id, plus the default rule of each category (for ad-hoc rules).

    Findings of ``--dist`` runs carry ad-hoc rule ids (``internet_cafe_250m_boundary``);
    their English texts are those of the default rule of the same category.
    """
    table = read_rules(rules) if isinstance(rules, str | Path) else list(rules or default_rules())
    out = {r.id: r for r in table}
    for r in default_rules():  # ad-hoc rules (--dist) borrow the texts of their category
        out.setdefault(r.category, r)
    return out


def _row(gdf: gpd.GeoDataFrame | None, key: str) -> pd.Series | None:
    if gdf is None or key not in gdf.index:
        return None
    row = gdf.loc[key]
    return row.iloc[0] if isinstance(row, pd.DataFrame) else row


def _field(row: pd.Series | None, name: str) -> str:
    if row is None or name not in row.index or pd.isna(row[name]):
        return ""
    return str(row[name])


def _text_of(value: Any) -> str:
    """A text cell: "" for a missing value."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


@dataclass
class _Layers:
    """The layers a sheet draws on, with indexes for the per-finding look-ups."""

    schools: gpd.GeoDataFrame | None
    hazards: gpd.GeoDataFrame | None
    gates: dict[str, BaseGeometry]
    streets: np.ndarray[Any, np.dtype[np.object_]] | None
    street_tree: shapely.STRtree | None

    @classmethod
    def of(
        cls,
        schools: gpd.GeoDataFrame | None,
        hazards: gpd.GeoDataFrame | None,
        entrances: gpd.GeoDataFrame | None,
        streets: gpd.GeoDataFrame | gpd.GeoSeries | None,
    ) -> _Layers:
        def wgs84(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
            return None if gdf is None else gdf.to_crs(4326)

        gates: dict[str, BaseGeometry] = {}
        if entrances is not None and len(entrances):
            ent = entrances.to_crs(4326)
            for school_id, group in ent.groupby("school_id", sort=False):
                gates[str(school_id)] = shapely.multipoints(group.geometry.values)
        lines = tree = None
        if streets is not None and len(streets):
            lines = np.asarray(streets.to_crs(4326).geometry.values, dtype=object)
            tree = shapely.STRtree(lines)
        return cls(wgs84(schools), wgs84(hazards), gates, lines, tree)

    def streets_near(self, geoms: list[BaseGeometry]) -> BaseGeometry | None:
        if self.street_tree is None or self.streets is None:
            return None
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        grow = max(maxx - minx, maxy - miny, 0.002) * 0.6
        hits = self.street_tree.query(
            shapely.box(minx - grow, miny - grow, maxx + grow, maxy + grow)
        )
        parts = [
            p for p in shapely.get_parts(self.streets[np.sort(hits)]) if p.geom_type == "LineString"
        ]
        return shapely.multilinestrings(parts) if parts else None


class _SheetWriter:
    """Renders the evidence sheets of one set of findings (shared look-ups, one font)."""

    def __init__(
        self,
        layers: _Layers,
        provenance: Provenance,
        rules: dict[str, Rule],
        *,
        lang: str,
        generated_at: dt.datetime,
        reporting_unit: str,
        font: CJKFont,
        categories: CategoryRegistry,
    ) -> None:
        self.layers = layers
        self.provenance = provenance
        self.rules = rules
        self.categories = categories
        self.lang = lang
        self.t = _text(lang)
        self.generated_at = generated_at.isoformat(timespec="seconds")
        self.reporting_unit = reporting_unit
        self.font = font
        self.template = _template()
        self.software = software_versions()

    def _label(self, labels: dict[str, tuple[str, str]], key: str) -> str:
        zh, en = labels.get(key, (key, key))
        return zh if self.lang == "zh" else en

    def _school(self, finding: pd.Series, row: pd.Series | None) -> dict[str, Any]:
        place = "、".join(p for p in (str(finding["township"]), str(finding["village"])) if p)
        return {
            "name": str(finding["school_name"]),
            "alt_names": _field(row, "alt_names"),
            "id": str(finding["school_id"]),
            "kind": self._label(KIND_LABELS, _field(row, "kind")) if row is not None else "",
            "place": place or self.t["unknown"],
            "source": _source_lines(_field(row, "source"), self.provenance, self.t),
        }

    def _hazard(self, finding: pd.Series, row: pd.Series | None) -> dict[str, Any]:
        return {
            "name": str(finding["hazard_name"]) or self.t["unknown"],
            "id": str(finding["hazard_id"]),
            "category": self.categories.label(str(finding["category"]), self.lang),
            "subcategory": _field(row, "subcategory"),
            "address": _field(row, "address"),
            "source": _source_lines(_field(row, "source"), self.provenance, self.t),
        }

    def _rule(self, finding: pd.Series) -> dict[str, Any]:
        rule = self.rules.get(str(finding["rule_id"])) or self.rules.get(str(finding["category"]))
        basis, suggestion = str(finding["basis"]), str(finding["suggestion"])
        if self.lang == "en" and rule is not None:
            basis, suggestion = rule.basis_en or basis, rule.suggestion_en or suggestion
        unit = "米" if self.lang == "zh" else "m"
        return {
            "id": str(finding["rule_id"]),
            "threshold": f"{float(finding['threshold_m']):g} {unit}",
            "severity": self._label(SEVERITY_LABELS, str(finding["severity"])),
            "basis": basis,
            "lead_units": str(finding["lead_units"]),
            "responsible_units": str(finding["responsible_units"]),
            # findings saved before the column existed have none
            "enforcing_units": _text_of(finding.get("enforcing_units")),
            "suggestion": suggestion,
        }

    def _method(self, finding: pd.Series, band: int, from_end: bool) -> dict[str, Any]:
        t = self.t
        lon1, lat1 = float(finding["school_lon"]), float(finding["school_lat"])
        lon2, lat2 = float(finding["hazard_lon"]), float(finding["hazard_lat"])
        azimuth, _, check = GEOD.inv(lon1, lat1, lon2, lat2)
        distance, threshold = float(finding["distance_m"]), float(finding["threshold_m"])
        margin = threshold - distance
        rel = (t["within"] if margin >= 0 else t["outside"]).format(m=abs(margin))
        lon0 = -180.0 + (band + 0.5) * 0.5
        notes = [n.strip() for n in str(finding["notes"]).split("；") if n.strip()]
        profile = str(finding["profile"])
        walk = profile == "walk"
        if walk:
            notes.append(t["route"].format(d=check))
        elif abs(check - distance) > 0.05:
            notes.append(t["mismatch"].format(d=check))
        return {
            "profile": t["profiles"].get(profile, profile),
            "ellipsoid": t["ellipsoid_text"],
            "algorithm": t["walk_algorithm"] if walk else t["algorithm_text"],
            "projection": t["projection_text"].format(
                lon0=t["meridian"].format(v=abs(lon0), h="E" if lon0 >= 0 else "W"),
                band=band,
            )
            + (t["band_from_end"] if from_end else ""),
            "proj": band_crs(band).srs,
            "school_end": _lonlat(lon1, lat1, t),
            "hazard_end": _lonlat(lon2, lat2, t),
            "distance": t["distance_text"].format(d=distance, t=threshold, rel=rel),
            "azimuth": "—" if walk else t["azimuth_text"].format(a=azimuth % 360.0),
            "notes": notes,
        }

    def _verdict(self, finding: pd.Series) -> dict[str, Any]:
        distance, threshold = float(finding["distance_m"]), float(finding["threshold_m"])
        within = distance <= threshold
        text = self.t["verdict"].format(
            hazard=str(finding["hazard_name"]) or self.t["unknown"],
            category=self.categories.label(str(finding["category"]), self.lang),
            school=str(finding["school_name"]),
            d=distance,
            rel=(self.t["verdict_in"] if within else self.t["verdict_out"]).format(t=threshold),
            severity=self._label(SEVERITY_LABELS, str(finding["severity"])),
        )
        return {"id": str(finding.name), "within": within, "verdict": text}

    def _attribution(self, *rows: pd.Series | None) -> str:
        """© OpenStreetMap contributors when a drawn feature comes from a real OSM file."""
        for row in rows:
            for ref in parse_sources(_field(row, "source")):
                given = self.provenance.file(ref.file) if ref.file else None
                if ref.kind == "osm" and not (given and given.generator.startswith("campus_geo")):
                    return OSM_ATTRIBUTION
        return ""

    def html(self, finding: pd.Series) -> str:
        """The evidence sheet of one finding (a row of the findings, named by its id)."""
        school_row = _row(self.layers.schools, str(finding["school_id"]))
        hazard_row = _row(self.layers.hazards, str(finding["hazard_id"]))
        school_geom = school_row.geometry if school_row is not None else None
        hazard_geom = hazard_row.geometry if hazard_row is not None else None
        if school_geom is not None and not school_geom.is_empty:
            band, from_end = int(band_of(shapely.point_on_surface(school_geom).x)), False
        else:
            band, from_end = int(band_of(float(finding["school_lon"]))), True
        near = [g for g in (finding["geometry"], school_geom) if g is not None]
        fig = finding_map(
            finding,
            school=school_geom,
            hazard=hazard_geom,
            band=band,
            streets=self.layers.streets_near(near),
            gates=self.layers.gates.get(str(finding["school_id"]))
            if str(finding["profile"]) == "entrance"
            else None,
            lang=self.lang,
            attribution=self._attribution(school_row, hazard_row),
            font=self.font,
            categories=self.categories,
        )
        svg = figure_svg(fig, font=self.font)
        return self.template.render(
            t=self.t,
            finding=self._verdict(finding),
            generated_at=self.generated_at,
            reporting_unit=self.reporting_unit,
            school=self._school(finding, school_row),
            hazard=self._hazard(finding, hazard_row),
            rule=self._rule(finding),
            method=self._method(finding, band, from_end),
            map_svg=base64.b64encode(svg).decode("ascii"),
            map_caption=self.t["map_caption"].format(band=band),
            inputs=[
                {
                    "name": f.name,
                    "data_date": f.data_date or "—",
                    "size": f"{f.size:,}",
                    "sha256": f.sha256,
                }
                for f in self.provenance.files
            ],
            software=self.software,
        )


def _writer(
    findings: gpd.GeoDataFrame,
    *,
    schools: gpd.GeoDataFrame | None,
    hazards: gpd.GeoDataFrame | None,
    entrances: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None,
    inputs: Iterable[str | Path] | Provenance,
    rules: Sequence[Rule] | str | Path | None,
    lang: str,
    generated_at: dt.datetime | str | None,
    reporting_unit: str,
    font: CJKFont | None,
    categories: CategoryRegistry | None = None,
) -> _SheetWriter:
    _text(lang)
    needed = ["school_id", "hazard_id", "distance_m", "threshold_m", "school_lon", "hazard_lon"]
    missing = [c for c in needed if c not in findings.columns]
    if missing:
        msg = f"findings lack the column(s) {', '.join(missing)}; pass the findings of screen() or findings.gpkg"
        raise InputDataError(msg)
    layers = _Layers.of(
        _subset(schools, findings["school_id"]),
        _subset(hazards, findings["hazard_id"]),
        entrances,
        streets,
    )
    provenance = (
        inputs
        if isinstance(inputs, Provenance)
        else describe_inputs(inputs, osm_elements=osm_element_ids(layers.schools, layers.hazards))
    )
    registry = categories_of(rules) if categories is None else categories
    return _SheetWriter(
        layers,
        provenance,
        rules_by_id(rules),
        lang=lang,
        generated_at=generation_time(generated_at),
        reporting_unit=reporting_unit,
        font=font or cjk_font(),
        categories=registry.with_keys(findings["category"].astype(str)),
    )


def _subset(gdf: gpd.GeoDataFrame | None, ids: pd.Series) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    keep = gdf.index.isin(pd.Index(ids.astype(str).unique()))
    return gdf[keep]


def evidence_html(
    findings: gpd.GeoDataFrame,
    finding_id: str,
    *,
    schools: gpd.GeoDataFrame | None = None,
    hazards: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    inputs: Iterable[str | Path] | Provenance = (),
    rules: Sequence[Rule] | str | Path | None = None,
    lang: str = "zh",
    generated_at: dt.datetime | str | None = None,
    reporting_unit: str = "",
    font: CJKFont | None = None,
    categories: CategoryRegistry | None = None,
) -> str:
    """The evidence sheet of one finding as a self-contained HTML page.

    Parameters are those of :func:`save_evidence_sheets`; `finding_id` picks
    the finding (an index value of `findings`).
    """
    if finding_id not in findings.index:
        msg = f"no finding {finding_id!r} in the findings given"
        raise KeyError(msg)
    writer = _writer(
        findings.loc[[finding_id]],
        schools=schools,
        hazards=hazards,
        entrances=entrances,
        streets=streets,
        inputs=inputs,
        rules=rules,
        lang=lang,
        generated_at=generated_at,
        reporting_unit=reporting_unit,
        font=font,
        categories=categories,
    )
    return writer.html(findings.loc[finding_id])


def _pdf_css(font: CJKFont) -> str:
    """CSS that makes WeasyPrint set the text in the font the maps were drawn with.

    A single-face font file (e.g. one named by ``CAMPUS_GEO_CJK_FONT``) is
    loaded from its path; a collection (.ttc) is found by family name through
    fontconfig, which picks the right face (an @font-face would take the first).
    """
    family = font.family.replace('"', "")
    face = ""
    if font.path.suffix.lower() != ".ttc":
        face = f'@font-face {{ font-family: "{family}"; src: url("{font.path.as_uri()}"); }}\n'
    stack = f'"{family}", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif'
    return (
        face
        + f"body, td, th {{ font-family: {stack}; }}\n@page {{ @bottom-center {{ font-family: {stack}; }} }}\n"
    )


def _write_pdf(html: str, path: Path, font: CJKFont) -> None:
    try:
        import weasyprint
    except ImportError as exc:  # an optional extra
        msg = "PDF evidence sheets need WeasyPrint: pip install 'campus_geo[pdf]' (it uses the Pango library)"
        raise InputDataError(msg) from exc
    weasyprint.HTML(string=html, base_url=str(path.parent)).write_pdf(
        path, stylesheets=[weasyprint.CSS(string=_pdf_css(font))], uncompressed_pdf=False
    )


def save_evidence_sheets(
    findings: gpd.GeoDataFrame,
    dirpath: str | Path,
    *,
    schools: gpd.GeoDataFrame | None = None,
    hazards: gpd.GeoDataFrame | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    inputs: Iterable[str | Path] | Provenance = (),
    rules: Sequence[Rule] | str | Path | None = None,
    lang: str = "zh",
    generated_at: dt.datetime | str | None = None,
    reporting_unit: str = "",
    pdf: bool = False,
    font: CJKFont | None = None,
    progress: Callable[[int], None] | None = None,
    categories: CategoryRegistry | None = None,
) -> list[Path]:
    """Write ``<finding_id>.html`` (and ``.pdf``) for every finding into `dirpath`.

    Sheets of findings no longer present (16-hex-digit names from an earlier
    run into the same folder) are removed, so the folder matches the findings.

    Parameters
    ----------
    findings
        Findings from :func:`campus_geo.screen.screen` or read back from findings.gpkg.
    dirpath
        Folder of the sheets (created).
    schools, hazards, entrances, streets
        The layers screened (any CRS): outlines, hazard shapes, gates and
        streets for the maps, ``source`` columns for provenance. Each may be
        None: the sheet then says what is not known.
    inputs
        The input files (their SHA-256 and OSM data dates go on every sheet),
        or a :class:`Provenance` already computed.
    rules
        Rule table (English texts with ``lang="en"``); the default one when None.
    lang
        "zh" (default) or "en".
    generated_at
        The one time on the sheets (a datetime or ISO 8601 text); else
        ``SOURCE_DATE_EPOCH``; else now.
    reporting_unit
        Shown in the sheet header.
    pdf
        Also write a PDF of each sheet (needs WeasyPrint: ``campus_geo[pdf]``).
    font
        CJK font of the maps (found with :func:`campus_geo.fonts.cjk_font` when None).
    progress
        Called with the number of sheets written so far (for progress bars).
    categories
        Labels and colours of the hazard categories: the rule table's when None.

    Returns
    -------
    list of Path
        The HTML sheets, in the order of `findings`.
    """
    writer = _writer(
        findings,
        schools=schools,
        hazards=hazards,
        entrances=entrances,
        streets=streets,
        inputs=inputs,
        rules=rules,
        lang=lang,
        generated_at=generated_at,
        reporting_unit=reporting_unit,
        font=font,
        categories=categories,
    )
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    keep: set[str] = set()
    for n, (finding_id, finding) in enumerate(findings.iterrows(), start=1):
        page = writer.html(finding)
        path = out / f"{finding_id}.html"
        path.write_text(page, encoding="utf-8", newline="\n")
        written.append(path)
        keep.add(path.name)
        if pdf:
            _write_pdf(page, path.with_suffix(".pdf"), writer.font)
            keep.add(path.with_suffix(".pdf").name)
        if progress is not None:
            progress(n)
    stale = [p for p in out.iterdir() if _ID_FILE.match(p.name) and p.name not in keep]
    for path in stale:
        path.unlink()
    if stale:
        log.info("removed %d evidence sheet(s) of findings no longer found", len(stale))
    log.info("wrote %d evidence sheets into %s", len(written), out)
    return written
