"""Evidence sheets: identity, sources, rule, method, map, inputs; the same bytes every time."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
import shapely
from conftest import ROOT, osm_extract
from matplotlib import ft2font

from campus_geo import __version__, demo, layers
from campus_geo.evidence import evidence_html, save_evidence_sheets
from campus_geo.fonts import cjk_font
from campus_geo.screen import screen

STAMP = dt.datetime(2023, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
DISTRICT = demo.DEMO_DIR / "district.osm"


@pytest.fixture(scope="module")
def district():
    osm = layers.layers_from_osm(DISTRICT)
    return osm, screen(osm.schools, osm.hazards, entrances=osm.entrances)


def _planted(findings, school, hazard):
    hit = findings[(findings["school_name"] == school) & (findings["hazard_name"] == hazard)]
    assert len(hit) == 1
    return hit.index[0]


def _sheet(district, finding_id, **options):
    osm, findings = district
    defaults = {
        "schools": osm.schools,
        "hazards": osm.hazards,
        "entrances": osm.entrances,
        "streets": osm.streets,
        "inputs": [DISTRICT],
        "generated_at": STAMP,
    }
    return evidence_html(findings, finding_id, **{**defaults, **options})


def _svg(page: str) -> bytes:
    data = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert data is not None
    return base64.b64decode(data.group(1))


def _cell(page: str, header: str) -> str:
    m = re.search(rf"<tr><th>{re.escape(header)}</th><td[^>]*>(.*?)</td></tr>", page, re.DOTALL)
    assert m is not None, header
    return html.unescape(re.sub(r"<[^>]+>", " ", m.group(1))).strip()


def test_sheet_of_a_planted_pair(district):
    _, findings = district
    fid = _planted(findings, "苇塘镇中心小学", "金马网络会所")
    finding = findings.loc[fid]
    page = _sheet(district, fid, reporting_unit="青禾区")
    assert "<title>校园周边安全隐患证据单 " + fid + "</title>" in page
    assert (
        "金马网络会所（上网服务场所）距苇塘镇中心小学 150.0 米，在规定的 200 米以内（禁止类）。"
        in page
    )
    # identity and sources: OSM elements of the demo file (it carries versions, no timestamps)
    assert "OpenStreetMap 要素 way/2000410（版本 1）" in page
    assert "OpenStreetMap 要素 node/1004242（版本 1）" in page
    assert "文件 district.osm；数据日期：文件未注明" in page
    assert _cell(page, "类别") == "上网服务场所（归类依据：internet_access=terminal）"
    # the rule, its legal basis and units
    assert _cell(page, "规则编号") == "internet_cafe_200m"
    assert _cell(page, "规定距离") == "200 米（禁止）"
    assert _cell(page, "法律依据").startswith("《互联网上网服务营业场所管理条例》第九条")
    assert _cell(page, "牵头单位") == "区委政法委、区教体局"
    # the method: profile, ellipsoid, band projection, end points to 7 decimals, distance
    assert _cell(page, "量测口径").startswith("自校园边界（围墙）任一点")
    assert "WGS 84（长半轴 a = 6378137 米，扁率 f = 1/298.257223563）" in page
    assert "中央经线 113.750000°E，0.5° 经度带第 587 带" in page
    assert "+proj=tmerc +approx +lat_0=0 +lon_0=113.750000 +k=1" in page
    assert "Evenden–Snyder 级数，带内与精确算法相差小于 5 纳米" in page
    school_end = _cell(page, "学校端点（WGS 84）")
    assert school_end == (f"经度 {finding['school_lon']:.7f}°E，纬度 {finding['school_lat']:.7f}°N")
    assert _cell(page, "量得距离").startswith(
        "150.000 米（排查表取 150.0 米）；规定 200 米，在规定距离以内 50.000 米"
    )
    # every input file with its SHA-256, and the software versions
    digest = hashlib.sha256(DISTRICT.read_bytes()).hexdigest()
    assert f'<td class="num">{digest}</td>' in page
    assert _cell(page, "campus_geo") == __version__
    assert "pyproj" in _cell(page, "量测所用程序库")
    assert "2023-06-15T10:00:00+08:00" in page
    assert "填报单位：青禾区" in page


def test_the_map_is_an_offline_svg_with_the_labelled_line(district):
    _, findings = district
    fid = _planted(findings, "苇塘镇中心小学", "金马网络会所")
    svg = _svg(_sheet(district, fid))
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = svg.decode()
    # legend, scale bar and north arrow: each text is kept as a comment beside its glyphs
    for label in ("校园", "隐患", "量测线", "200 米范围线", "50 米", "北"):
        assert f"<!-- {label} -->" in text, label
    # each Chinese character is drawn with its own outline from the CJK font (glyph ids are
    # the font's glyph indices; a missing character would be glyph 0, the .notdef box)
    font = cjk_font()
    face = ft2font.FT2Font(str(font.path), face_index=font.index)
    name = re.escape(face.postscript_name)
    assert not re.search(rf'<path id="{name}-0"', text)
    outlines = {}
    for c in "校园隐患量测线范围米北":
        glyph = face.get_char_index(ord(c))
        assert glyph > 0
        outlines[c] = re.search(rf'<path id="{name}-{glyph:x}" d="([^"]+)"', text)
    assert all(outlines.values()), [c for c, m in outlines.items() if not m]
    assert len({m.group(1) for m in outlines.values()}) == len(outlines)
    assert "http" not in text.replace("http://www.w3.org", "").replace(
        "http://purl.org", ""
    ).replace("http://creativecommons.org", "")  # nothing to fetch
    assert "OpenStreetMap contributors" not in text  # the demo is not OSM data


def test_byte_identical_sheets_in_another_process(district, tmp_path):
    osm, findings = district
    subset = findings[findings["school_name"] == "苇塘镇中心小学"]
    written = save_evidence_sheets(
        subset, tmp_path / "a", schools=osm.schools, hazards=osm.hazards, entrances=osm.entrances,
        streets=osm.streets, inputs=[DISTRICT], generated_at=STAMP,
    )  # fmt: skip
    assert [p.name for p in written] == [f"{i}.html" for i in subset.index]
    script = f"""
from campus_geo import layers
from campus_geo.evidence import save_evidence_sheets
from campus_geo.screen import screen
osm = layers.layers_from_osm({str(DISTRICT)!r})
f = screen(osm.schools, osm.hazards, entrances=osm.entrances)
save_evidence_sheets(f[f["school_name"] == "苇塘镇中心小学"], {str(tmp_path / "b")!r},
    schools=osm.schools, hazards=osm.hazards, entrances=osm.entrances, streets=osm.streets,
    inputs=[{str(DISTRICT)!r}], generated_at="2023-06-15T10:00:00+08:00")
"""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT, timeout=300)
    for path in written:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_generated_at_from_source_date_epoch_and_stale_sheets(district, tmp_path, monkeypatch):
    osm, findings = district
    stale = tmp_path / "0123456789abcdef.html"
    stale.write_text("old", encoding="utf-8")
    keep = tmp_path / "notes.html"
    keep.write_text("mine", encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1686794400")
    [path] = save_evidence_sheets(findings.iloc[:1], tmp_path, schools=osm.schools)
    assert "生成时间 2023-06-15T10:00:00+08:00" in path.read_text(encoding="utf-8")
    assert not stale.exists()
    assert keep.exists()


def test_sheet_without_layers_says_what_is_unknown(district):
    _, findings = district
    fid = _planted(findings, "苇塘镇中心小学", "金马网络会所")
    page = evidence_html(findings, fid, generated_at=STAMP)
    assert _cell(page, "来源") == "未注明"
    assert "（未提供校园轮廓，由学校端点确定投影带）" in page
    assert '<td colspan="4">未提供输入文件</td>' in page


def test_names_are_escaped_and_english_sheet(district):
    osm, findings = district
    fid = findings.index[0]
    hostile = findings.copy()
    hostile.loc[fid, "hazard_name"] = "<img src=x onerror=alert(1)>"
    page = evidence_html(hostile, fid, schools=osm.schools, generated_at=STAMP, lang="en")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "<title>Evidence sheet: hazard near a school" in page
    assert "Minors Protection Law Art. 59" in page  # the rule's English basis
    assert "Karney&#39;s algorithm" in page


@pytest.mark.realdata
def test_real_osm_sheet_has_data_date_and_attribution():
    path = osm_extract("nanjing_xinjiekou_2021.osm.bz2")
    osm = layers.layers_from_osm(path)
    findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    fid = findings.index[0]
    page = evidence_html(
        findings, fid, schools=osm.schools, hazards=osm.hazards, inputs=[path], generated_at=STAMP
    )
    assert "文件 nanjing_xinjiekou_2021.osm.bz2；数据日期：2021-06-12T07:41:41Z (osm_base)" in page
    assert "<!-- © OpenStreetMap contributors -->" in _svg(page).decode()
    assert "中央经线 118.750000°E" in page


def test_pdf_sheet_embeds_the_cjk_font_and_is_reproducible(district, tmp_path):
    pytest.importorskip("weasyprint")
    osm, findings = district
    subset = findings.loc[[_planted(findings, "苇塘镇中心小学", "金马网络会所")]]
    pdfs = []
    for name in ("a", "b"):
        save_evidence_sheets(
            subset, tmp_path / name, schools=osm.schools, hazards=osm.hazards,
            inputs=[DISTRICT], generated_at=STAMP, pdf=True,
        )  # fmt: skip
        pdfs.append((tmp_path / name / f"{subset.index[0]}.pdf").read_bytes())
    assert pdfs[0] == pdfs[1]
    assert pdfs[0].startswith(b"%PDF-")
    fonts = set()
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdfs[0], re.DOTALL):
        try:
            fonts |= set(re.findall(rb"/FontName\s*/[A-Z]{6}\+([\w-]+)", zlib.decompress(stream)))
        except zlib.error:
            continue
    assert any(b"CJK" in name for name in fonts), fonts


def test_unknown_finding_and_bad_columns(district):
    _, findings = district
    with pytest.raises(KeyError, match="no finding 'nope'"):
        evidence_html(findings, "nope")
    from campus_geo import InputDataError

    with pytest.raises(InputDataError, match="findings lack the column"):
        save_evidence_sheets(findings.drop(columns="school_lon"), Path("/nonexistent"))


def test_a_venue_merged_from_osm_and_a_registry_lists_both_sources(district, tmp_path):
    osm, findings = district
    fid = _planted(findings, "苇塘镇中心小学", "金马网络会所")
    hazards = osm.hazards.copy()
    hazards.loc["node/1004242", "source"] = "osm:node/1004242 (district.osm); registry:网吧.csv#27"
    table = tmp_path / "网吧.csv"
    table.write_text("名称\n金马网络会所\n", encoding="utf-8")
    page = _sheet(district, fid, hazards=hazards, inputs=[DISTRICT, table])
    hazard = page[page.index("<h2>2.") : page.index("<h2>3.")]
    assert "OpenStreetMap 要素 node/1004242（版本 1）" in hazard
    assert "文件 网吧.csv，第 27 行" in hazard
    assert hashlib.sha256(table.read_bytes()).hexdigest() in page


def test_walk_finding_shows_the_route_method(district):
    _, findings = district
    fid = _planted(findings, "苇塘镇中心小学", "金马网络会所")
    walk = findings.loc[[fid]].copy()
    a = (walk.iloc[0]["school_lon"], walk.iloc[0]["school_lat"])
    b = (walk.iloc[0]["hazard_lon"], walk.iloc[0]["hazard_lat"])
    walk.loc[fid, "geometry"] = shapely.LineString([a, (a[0], b[1]), b])  # an L-shaped route
    walk["profile"] = "walk"
    walk.loc[fid, "distance_m"] = 210.0
    page = evidence_html(walk, fid, generated_at=STAMP)
    assert _cell(page, "量测口径").startswith("自校门沿步行路网至隐患的最短路线长度")
    assert _cell(page, "距离算法").startswith(
        "路线各段（OSM 相邻节点之间）按椭球面大地线计算长度并相加"
    )
    assert _cell(page, "方位角") == "—"
    assert "示意图中的红线即步行路线；端点之间的直线距离为 150.000 米" in page
    assert "与记录的距离不符" not in page
