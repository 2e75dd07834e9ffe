"""The hazard maps' pages: offline assets, the data they carry, zones, escaping, basemaps.

What a browser makes of the pages is tested in test_browser.py; here the page
text and its JSON data are checked against the layers, with real numbers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from _truth import truth_distance
from click.testing import CliRunner
from conftest import EQ_M_PER_DEG, osm_extract
from shapely.geometry import Point, Polygon

from campus_geo import demo, layers
from campus_geo._errors import InputDataError
from campus_geo.cli import cli
from campus_geo.coords import wgs84_to_gcj02
from campus_geo.maps import (
    STATUS_STYLES,
    hazard_map,
    map_html,
    save_map,
    save_school_maps,
    school_id_from_filename,
    school_map,
    school_map_filename,
    zone_groups,
)
from campus_geo.maps.offline import ASSETS, external_references
from campus_geo.screen import screen

XSS = "<img src=x onerror=alert(1)>"
JINJA = "{{ 7*7 }}{% if true %}x{% endif %}{# c #}"
GEOD = pyproj.Geod(ellps="WGS84")
STATIC = Path(__file__).resolve().parent.parent / "campus_geo" / "static"


def page_data(page: str) -> dict:
    """The JSON document of a campus_geo map page."""
    blocks = re.findall(
        r'<script type="application/json" id="[^"]+_data">(.*?)</script>', page, re.S
    )
    assert len(blocks) == 1
    return json.loads(blocks[0])


def decode_path(ints, k):
    arr = np.cumsum(np.asarray(ints, dtype=np.int64).reshape(-1, 2), axis=0) / k
    return [(lon, lat) for lat, lon in arr]


def decode(g, k):
    """Shapely geometry (lon/lat) of an encoded geometry: the inverse of encode_geometries."""
    if g[0] == 1:
        return Point(g[2] / k, g[1] / k)
    if g[0] == 2:
        return shapely.MultiLineString([decode_path(p, k) for p in g[1]])
    return shapely.MultiPolygon(
        [
            Polygon(decode_path(rings[0], k), [decode_path(r, k) for r in rings[1:]])
            for rings in g[1]
        ]
    )


@pytest.fixture(scope="module")
def district():
    osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    return osm, findings


@pytest.fixture(scope="module")
def overview(district):
    osm, findings = district
    m = hazard_map(
        findings,
        osm.schools,
        osm.hazards,
        entrances=osm.entrances,
        streets=osm.streets,
        water=osm.water,
        buildings=osm.buildings,
    )
    page = map_html(m)
    return page, page_data(page)


def equator_findings(equator_layers, **names):
    schools, hazards = equator_layers
    schools, hazards = schools.copy(), hazards.copy()
    for hazard_id, name in names.items():
        hazards.loc[hazard_id, "name"] = name
    return schools, hazards, screen(schools, hazards)


# --- offline pages ----------------------------------------------------------------------


def test_offline_page_inlines_every_asset_and_refers_to_nothing_outside(overview):
    page, data = overview
    assert external_references(page) == []
    assert "<script src=" not in page
    assert '<link rel="stylesheet"' not in page
    for host in (
        "cdn.jsdelivr.net",
        "cdnjs.cloudflare.com",
        "code.jquery.com",
        "bootstrapcdn",
        "unpkg",
    ):
        assert host not in page
    assert 'version="1.9.4"' in page or '"1.9.4"' in page  # Leaflet's own version string
    assert "L.MarkerClusterGroup" in page
    assert "Leaflet Control Search v" in page
    assert "sourceMappingURL" not in page
    # Leaflet's layer icon is inlined as a data URI from the vendored PNG
    png = (STATIC / "leaflet/dist/images/layers.png").read_bytes()
    import base64

    assert base64.b64encode(png).decode() in page
    assert data["base"] is not None
    assert data["basemap"] == "none"


def test_online_page_links_the_same_versions_and_none_of_follums_extras(district):
    osm, findings = district
    page = map_html(hazard_map(findings, osm.schools, osm.hazards), offline=False)
    assert (
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"></script>' in page
    )
    assert "leaflet.markercluster@1.5.3/dist/leaflet.markercluster.js" in page
    assert "leaflet-search@4.0.0/dist/leaflet-search.min.js" in page
    for unused in ("jquery", "bootstrap", "fontawesome", "awesome-markers"):
        assert unused not in page.lower()
    assert "campusGeo.init" in page  # campus_geo's own runtime is inline either way


def test_notebook_display_is_offline_too(equator_layers):
    schools, hazards, findings = equator_findings(equator_layers, in_150=XSS)
    shown = hazard_map(findings, schools, hazards)._repr_html_()
    assert shown.startswith('<div style="width:100%;height:620px"><iframe srcdoc="')
    inner = html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))
    assert external_references(inner) == []
    assert "campusGeo.init" in inner
    assert XSS not in inner


def test_pages_are_reproducible(district):
    osm, findings = district
    a = map_html(hazard_map(findings, osm.schools, osm.hazards, entrances=osm.entrances))
    b = map_html(hazard_map(findings, osm.schools, osm.hazards, entrances=osm.entrances))
    assert hashlib.sha256(a.encode()).hexdigest() == hashlib.sha256(b.encode()).hexdigest()


def test_plain_folium_maps_are_saved_offline_and_unvendored_assets_are_named(tmp_path):
    m = folium.Map(location=[34.05, 113.85], zoom_start=13, tiles=None)
    folium.CircleMarker([34.05, 113.85], radius=5).add_to(m)
    page = save_map(m, tmp_path / "plain.html").read_text("utf-8")
    assert external_references(page) == []
    assert "jquery" not in page.lower()
    assert "bootstrap.bundle" not in page
    icons = folium.Map(tiles=None)
    folium.Marker([0, 0], icon=folium.Icon(icon="info-sign")).add_to(icons)
    with pytest.raises(InputDataError, match=r"leaflet\.awesome-markers.*offline=False"):
        save_map(icons, tmp_path / "icons.html")


def test_vendored_files_match_their_recorded_sha256():
    readme = (STATIC / "README.md").read_text("utf-8")
    listed = dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", readme, re.M))
    present = {
        p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*")
        if p.is_file() and p.name != "README.md" and p.parts[len(STATIC.parts)] != "campus_geo"
    }
    assert present == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name
    for asset in ASSETS.values():
        assert asset.path in listed
        assert f"| {asset.version} | {asset.licence} |" in readme


# --- what the overview carries ----------------------------------------------------------


def test_overview_carries_every_school_zone_hazard_and_finding(district, overview):
    osm, findings = district
    _, data = overview
    assert len(data["schools"]["rows"]) == len(osm.schools) == 76
    main = data["zones"][0]
    assert main["show"]
    assert main["name"] == "200 米范围（自校园边界）：8 类场所"
    assert len(main["geom"]) == 76
    # water, traffic points and cameras are context for the analyses: no zone of theirs
    assert len(data["zones"]) == 1
    lines = sum(len(layer["lines"]) for layer in data["layers"])
    assert lines == len(findings) == 179
    per_cat = {x["cat"]: len(x["lines"]) for x in data["layers"] if x["lines"]}
    assert per_cat == findings["category"].value_counts().to_dict()
    rows = {layer["cat"]: len(layer["rows"]) for layer in data["layers"]}
    assert rows == osm.hazards["category"].value_counts().to_dict()
    # every point hazard has a marker; water shapes have none, other shapes have one
    markers = sum(len(layer["markers"]) for layer in data["layers"])
    is_point = osm.hazards.geometry.geom_type == "Point"
    assert markers == int((is_point | (osm.hazards["category"] != "water")).sum())
    shapes = sum(len(layer["shapes"]) for layer in data["layers"])
    assert shapes == int((~is_point).sum()) == 14
    assert {layer["cat"]: layer["show"] for layer in data["layers"]}["camera"] is False
    summary = {i[1]: i[2] for i in data["panels"][0]["items"] if i[0] == "stat"}
    assert summary["排查学校"] == 76
    assert summary["隐患（量算线）"] == 179
    assert summary["有隐患的学校"] == findings["school_id"].nunique()


def test_finding_popups_carry_distance_rule_basis_and_suggestion(district, overview):
    _, findings = district
    _, data = overview
    layer = next(x for x in data["layers"] if x["cat"] == "tobacco_alcohol")
    row = next(r for r in layer["lines"] if r[7] == "2c372cb95866bf5a")
    finding = findings.loc["2c372cb95866bf5a"]
    assert (
        row[4]
        == f"{finding['distance_m']:.1f} 米（阈值 200 米，自校园边界直线量算）"
        == ("169.0 米（阈值 200 米，自校园边界直线量算）")
    )
    rule = data["rules"][row[1]]
    assert rule[0] == "烟酒销售点 200 米内（禁止；tobacco_alcohol_200m）"  # words, then the id
    assert rule[4] == finding["basis"]
    assert rule[5] == finding["suggestion"]
    assert data["schools"]["rows"][row[0]][1] == "桃源乡高庙小学"
    assert layer["rows"][row[2]][1] == "时代酒行"
    # the measured line, to the centimetre
    line = decode(row[3], data["k"])
    (x1, y1), (x2, y2) = next(iter(line.geoms)).coords
    assert (x1, y1, x2, y2) == pytest.approx(
        (
            finding["school_lon"],
            finding["school_lat"],
            finding["hazard_lon"],
            finding["hazard_lat"],
        ),
        abs=1e-7,
    )


def test_zones_are_geodesic_buffers_at_the_rule_distances(district, overview):
    osm, _ = district
    _, data = overview
    school_id = "way/2000306"
    outline = osm.schools.geometry.loc[school_id]
    gates = osm.entrances[osm.entrances["school_id"] == school_id].geometry
    row = [r[0] for r in data["schools"]["rows"]].index(school_id)
    for zone, distance, source in zip(
        data["zones"],
        (200.0, 100.0, 500.0),
        (outline, shapely.MultiPoint(list(gates)), outline),
        strict=False,
    ):
        g = decode(zone["geom"][zone["schools"].index(row)], data["kz"])
        ring = np.asarray(g.geoms[0].exterior.coords)[:-1]
        # every vertex and chord midpoint lies within the 0.5 m tolerance inside the true
        # buffer and none outside it (1e-6 degree rounding: < 8 cm); the zone reaches it
        mid = (ring + np.roll(ring, -1, axis=0)) / 2
        sample = np.concatenate([ring[:: max(1, len(ring) // 8)], mid[:: max(1, len(mid) // 4)]])
        found = [truth_distance(Point(lon, lat), source) for lon, lat in sample]
        assert distance - 0.5 - 0.08 <= min(found)
        assert max(found) == pytest.approx(distance, abs=0.08)


def test_zone_groups_follow_rules_profile_and_dist():
    assert [(g.profile, g.distance_m) for g in zone_groups(["lottery"], dist=150)] == [
        ("boundary", 150.0)
    ]
    # traffic points are context (the guard-post analysis): no zone of theirs
    groups = zone_groups(["lottery", "traffic", "arcade"], profile="entrance")
    assert [(g.profile, g.distance_m, g.categories) for g in groups] == [
        ("entrance", 200.0, ("arcade", "lottery")),
    ]
    assert zone_groups(["camera", "water"], dist=100) == []
    assert zone_groups(["lottery"], profile="walk") == []  # a walking distance is not a buffer
    assert zone_groups(["tuck_shop"]) == []  # an inside rule's zone is the campus itself


def test_a_users_category_is_drawn_with_its_label_colour_and_glyph(tmp_path, equator_layers):
    from campus_geo.category_registry import Category
    from campus_geo.rules import Rule, RuleTable, default_categories

    schools, _ = equator_layers
    hazards = gpd.GeoDataFrame(
        {"name": ["甲蹦床馆"], "category": ["trampoline_park"]},
        geometry=[Point(0.0015, 0.0)],
        index=pd.Index(["p1"], name="hazard_id"),
        crs=4326,
    )
    park = Category("trampoline_park", "蹦床馆", "trampoline park", glyph="蹦", colour="#123456")
    rules = RuleTable(
        [Rule("trampoline_park_150m", "trampoline_park", ("primary",), 150.0)],
        categories=default_categories().merged([park]),
    )
    findings = screen(schools, hazards, rules=rules)
    data = page_data(map_html(hazard_map(findings, schools, hazards, rules=rules)))
    assert data["cats"]["trampoline_park"] == ["蹦床馆", "#123456", "蹦"]
    assert [layer["name"] for layer in data["layers"]] == ["蹦床馆"]
    assert data["zones"][0]["name"] == "150 米范围（自校园边界）：蹦床馆"
    # rules without the category's table: the key, drawn grey
    plain = page_data(map_html(hazard_map(findings, schools, hazards, rules=list(rules))))
    assert plain["cats"]["trampoline_park"] == ["trampoline_park", "#aaaaaa", "?"]


# --- escaping and restricted points ----------------------------------------------------


def test_names_are_escaped_and_never_evaluated(tmp_path, equator_layers):
    schools, hazards, findings = equator_findings(equator_layers, in_150=XSS, in_19999=JINJA)
    schools = schools.assign(name=[f"{XSS}小学"], township=[JINJA])
    findings = screen(schools, hazards)
    for page in (
        save_map(hazard_map(findings, schools, hazards, title=XSS), tmp_path / "m.html").read_text(
            "utf-8"
        ),
        map_html(school_map(findings, schools, hazards, "s1")),
    ):
        assert XSS not in page
        assert "<img" not in page
        assert "{{" not in page
        assert "{%" not in page
        assert "{#" not in page
        data = page_data(page)
        names = {row[1] for layer in data["layers"] for row in layer["rows"]}
        assert {XSS, JINJA} <= names  # shown as these very texts
        assert data["schools"]["rows"][0][1] == f"{XSS}小学"
        assert data["schools"]["rows"][0][3] == JINJA
    assert "<title>&lt;img src=x onerror=alert(1)&gt;</title>" in save_map(
        hazard_map(findings, schools, hazards, title=XSS), tmp_path / "t.html"
    ).read_text("utf-8")


def test_names_that_look_like_css_or_links_are_only_data(tmp_path, equator_layers):
    odd = "url(https://evil.example/x.png) @import 'https://evil.example/y.css'; <link href=//e>"
    schools, hazards, findings = equator_findings(equator_layers, in_150=odd)
    page = save_map(hazard_map(findings, schools, hazards), tmp_path / "m.html").read_text("utf-8")
    assert external_references(page) == []
    assert odd in {r[1] for layer in page_data(page)["layers"] for r in layer["rows"]}


def test_plain_folium_would_evaluate_names_as_templates():
    # why the data never goes through folium's templates (see _mapdata.RawElement)
    m = folium.Map(tiles=None)
    folium.Marker([0, 0], tooltip="{{ 7*7 }}").add_to(m)
    assert "49" in m.get_root().render()


def test_relative_links_only(equator_layers):
    schools, hazards, findings = equator_findings(equator_layers)
    with pytest.raises(InputDataError, match="relative link"):
        hazard_map(findings, schools, hazards, school_links={"s1": "javascript:alert(1)"})
    page = map_html(hazard_map(findings, schools, hazards, school_links={"s1": "maps/s1.html"}))
    assert page_data(page)["schools"]["rows"][0][6] == "maps/s1.html"


def test_restricted_points_are_only_counted(tmp_path, equator_layers):
    schools, hazards = equator_layers
    h = 0.001
    secret = gpd.GeoDataFrame(
        {"name": ["重点人员甲", "重点人员乙"], "category": ["restricted", "restricted"]},
        geometry=[Point(h + 100 / EQ_M_PER_DEG, 0.0005), Point(h + 900 / EQ_M_PER_DEG, 0.0005)],
        index=pd.Index(["secret_1", "secret_2"], name="hazard_id"),
        crs="EPSG:4326",
    )
    everything = pd.concat([hazards, secret])
    findings = screen(schools, everything, dist=1000)  # even when screened, never drawn
    assert (findings["category"] == "restricted").sum() == 2
    for page in (
        save_map(hazard_map(findings, schools, everything), tmp_path / "r.html").read_text("utf-8"),
        map_html(school_map(findings, schools, everything, "s1")),
    ):
        data = page_data(page)
        assert "重点人员" not in page
        assert "secret_" not in page
        drawn = [
            decode(g, data["k"] if i == 3 else data["kz"])
            for layer in data["layers"]
            for i, g in [(3, r[3]) for r in layer["lines"]]
            + [(1, [1, *m[:2]]) for m in layer["markers"]]
        ]
        for point in secret.geometry:
            assert min(point.distance(g) for g in drawn) * EQ_M_PER_DEG > 10
        assert "restricted" not in {layer["cat"] for layer in data["layers"]}
        assert sum(len(layer["lines"]) for layer in data["layers"]) == len(findings) - 2
        # one restricted point within the 200 m zone of the school, counted only
        assert data["schools"]["rows"][0][7] == "1"
        stats = {i[1]: i[2] for i in data["panels"][0]["items"] if i[0] == "stat"}
        assert stats["重点管控对象（仅计数）"] == 1


# --- basemaps ---------------------------------------------------------------------------


def test_amap_shifts_every_overlay_into_gcj02(district):
    osm, findings = district
    schools_before = osm.schools.geometry.copy()
    page = map_html(hazard_map(findings, osm.schools, osm.hazards, basemap="amap"))
    data = page_data(page)
    assert osm.schools.geometry.equals(schools_before)  # the caller's layer is untouched
    assert data["crs"] == "gcj02"
    assert data["base"] is None
    assert "webrd0{s}.is.autonavi.com" in page
    legend = " ".join(str(i[1]) for i in data["panels"][1]["items"])
    assert "GCJ-02" in legend
    layer = next(x for x in data["layers"] if x["cat"] == "internet_cafe")
    lat_i, lon_i, row = layer["markers"][0]
    point = osm.hazards.geometry.loc[layer["rows"][row][0]]
    glon, glat = wgs84_to_gcj02(point.x, point.y)
    assert (lon_i, lat_i) == (round(float(glon) * 1e6), round(float(glat) * 1e6))
    _, _, shift = GEOD.inv(point.x, point.y, float(glon), float(glat))
    assert 200 < shift < 800  # the GCJ-02 offset in Henan is a few hundred metres
    line = layer["lines"][0]
    finding = findings.loc[line[7]]
    (x1, y1), (x2, y2) = next(iter(decode(line[3], data["k"]).geoms)).coords
    gx, gy = wgs84_to_gcj02(
        [finding["school_lon"], finding["hazard_lon"]],
        [finding["school_lat"], finding["hazard_lat"]],
    )
    assert (x1, y1, x2, y2) == pytest.approx((gx[0], gy[0], gx[1], gy[1]), abs=1e-7)


def test_tile_basemaps_and_their_attribution(district, monkeypatch):
    osm, findings = district
    page = map_html(hazard_map(findings, osm.schools, osm.hazards, basemap="osm"))
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    assert (
        "OpenStreetMap\\u003c/a\\u003e contributors" in page
        or "OpenStreetMap</a> contributors" in page
    )
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(InputDataError, match="TIANDITU_KEY"):
        hazard_map(findings, osm.schools, osm.hazards, basemap="tianditu")
    with pytest.raises(InputDataError, match="letters and digits"):
        hazard_map(findings, osm.schools, osm.hazards, basemap="tianditu", tianditu_key="a'b;c")
    monkeypatch.setenv("TIANDITU_KEY", "0123456789abcdef0123456789abcdef")
    page = map_html(hazard_map(findings, osm.schools, osm.hazards, basemap="tianditu"))
    assert "vec_w/wmts?" in page
    assert "cva_w/wmts?" in page
    assert "tk=0123456789abcdef0123456789abcdef" in page
    assert page_data(page)["crs"] == "wgs84"
    with pytest.raises(InputDataError, match="unknown basemap 'google'"):
        hazard_map(findings, osm.schools, osm.hazards, basemap="google")


def test_vector_basemap_draws_streets_water_and_buildings(district, overview):
    osm, _ = district
    _, data = overview
    parts = {}
    for part in data["base"]["layers"]:
        kind = "streets" if "major" in part["styles"] else "water"
        for feature in part["features"]:
            geom = decode(feature[2], data["base"]["k"])
            parts[kind] = parts.get(kind, 0) + len(geom.geoms)
    # every street segment and water feature is drawn, streets of one class and name as one path
    assert (
        parts
        == {"streets": len(osm.streets), "water": len(osm.water)}
        == {
            "streets": 363,
            "water": 13,
        }
    )
    assert len(osm.buildings) == 0  # the demo district maps none; see the real extract below
    assert data["attribution"] == [
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    ]
    streets = next(p for p in data["base"]["layers"] if "major" in p["styles"])
    classes = [f[0] for f in streets["features"]]
    assert classes == sorted(classes, key=["path", "minor", "medium", "major"].index)
    names = [f[1] for f in streets["features"] if f[0] == "major"]
    assert sorted(names) == ["振兴大道", "青禾大道"]
    assert streets["styles"]["minor"]["minzoom"] == 13


@pytest.mark.realdata
def test_real_extract_basemap_has_its_buildings():
    osm = layers.layers_from_osm(osm_extract("nanjing_xinjiekou_2021.osm.bz2"))
    findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    data = page_data(
        map_html(
            hazard_map(
                findings,
                osm.schools,
                osm.hazards,
                streets=osm.streets,
                water=osm.water,
                buildings=osm.buildings,
            )
        )
    )
    buildings = next(p for p in data["base"]["layers"] if "building" in p["styles"])
    drawn = sum(len(decode(f[2], data["base"]["k"]).geoms) for f in buildings["features"])
    assert drawn == len(osm.buildings) == 1277


# --- ledger status, English -------------------------------------------------------------


def test_status_colours_lines_and_found_venues(district):
    osm, findings = district
    ids = list(findings.index)
    status = pd.Series(["overdue", "已整改", "pending", "误报"], index=ids[:4])
    data = page_data(map_html(hazard_map(findings, osm.schools, osm.hazards, status=status)))
    lines = {r[7]: r for layer in data["layers"] for r in layer["lines"]}
    assert [lines[f][8] for f in ids[:4]] == [
        STATUS_STYLES["overdue"][2],
        STATUS_STYLES["rectified"][2],
        STATUS_STYLES["pending"][2],
        STATUS_STYLES["dismissed"][2],
    ]
    assert lines[ids[4]][8] == "#bdbdbd"
    assert lines[ids[4]][6] is None
    assert data["status"][lines[ids[0]][6]] == ["逾期", "#7f0000"]
    legend = {i[1]: i[4] for i in data["panels"][1]["items"] if i[0] == "line"}
    assert legend["逾期"] == legend["已整改"] == legend["待核查"] == legend["误报"] == 1
    assert legend["台帐无记录"] == len(findings) - 4
    # the overdue finding's venue is ringed in the overdue colour
    first = findings.loc[ids[0]]
    layer = next(x for x in data["layers"] if x["cat"] == first["category"])
    venue = next(r for r in layer["rows"] if r[0] == first["hazard_id"])
    assert venue[5] == STATUS_STYLES["overdue"][2]


def test_english_labels_and_basis(equator_layers):
    schools, hazards, findings = equator_findings(equator_layers)
    data = page_data(map_html(hazard_map(findings, schools, hazards, lang="en")))
    distances = sorted(r[4] for layer in data["layers"] for r in layer["lines"])
    assert distances == [
        "150.0 m (threshold 200 m, straight line from the campus outline)",
        "200.0 m (threshold 200 m, straight line from the campus outline)",  # 199.99 m
    ]
    assert data["rules"][0][4].startswith("Regulations on Internet Access Service")
    assert data["text"]["distance"] == "Distance"
    assert data["panels"][1]["title"] == "Legend"
    with pytest.raises(InputDataError, match="unknown lang 'fr'"):
        hazard_map(findings, schools, hazards, lang="fr")


def test_bad_inputs_are_named(equator_layers):
    schools, hazards, findings = equator_findings(equator_layers)
    with pytest.raises(InputDataError, match=r"no column.*distance_m"):
        hazard_map(findings.drop(columns="distance_m"), schools, hazards)
    with pytest.raises(InputDataError, match="in_150"):
        hazard_map(findings, schools, hazards.drop(index="in_150"))
    with pytest.raises(InputDataError, match="no CRS"):
        hazard_map(findings, schools.set_crs(None, allow_override=True), hazards)
    with pytest.raises(InputDataError, match="not in `schools`"):
        school_map(findings, schools, hazards, "s2")


# --- per-school maps --------------------------------------------------------------------


@pytest.mark.parametrize(
    "school_id",
    [
        "way/444227092",
        "node/1",
        "relation/7",
        "a_b",
        "a_5Fb",
        "青禾区第一小学",
        "x y",
        "..",
        ".a",
        "CON",
        "con.txt",
        "a%2Fb",
        'a:b*c?<d>|e\\f"',
        "~1",
        "é" * 200,
    ],
)
def test_school_map_file_names_are_safe_and_reversible(school_id):
    name = school_map_filename(school_id)
    assert name.endswith(".html")
    assert not name.startswith(".")
    assert not set(name) & set('/\\:*?"<>|%')
    assert len(name.encode()) <= 200
    assert name.removesuffix(".html").split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
    if "~" in name:
        with pytest.raises(InputDataError, match="shortened"):
            school_id_from_filename(name)
    else:
        assert school_id_from_filename(name) == school_id


def test_school_map_file_names_never_collide():
    ids = ["way/1", "way_1", "way_2F1", "way-1", "way 1", "way%2F1", "WAY/1"]
    names = [school_map_filename(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert names[0] == "way_2F1.html"


def test_save_school_maps_writes_one_page_per_school_and_an_index(tmp_path, district):
    osm, findings = district
    written = save_school_maps(
        findings,
        osm.schools,
        osm.hazards,
        tmp_path / "maps",
        entrances=osm.entrances,
        streets=osm.streets,
        water=osm.water,
    )
    with_findings = findings["school_id"].unique()
    assert set(written) == set(with_findings)
    assert len(written) == 71
    path = written["way/2000306"]
    assert path.name == "way_2F2000306.html"
    page = path.read_text("utf-8")
    data = page_data(page)
    assert external_references(page) == []
    assert "L.MarkerClusterGroup" not in page
    assert "Leaflet Control Search v" not in page
    mine = findings[findings["school_id"] == "way/2000306"]
    assert sum(len(layer["lines"]) for layer in data["layers"]) == len(mine) == 5
    assert [len(z["geom"]) for z in data["zones"]] == [1]
    assert all(z["show"] for z in data["zones"])
    assert data["panels"][0]["title"] == "石桥镇第二初级中学"
    assert ["link", "返回总图", "../map.html"] in data["panels"][0]["items"]
    # the basemap is clipped to the school's view
    box = shapely.box(*osm.schools.geometry.loc["way/2000306"].buffer(0.02).bounds)
    for part in data["base"]["layers"]:
        for feature in part["features"]:
            assert box.contains(decode(feature[2], data["base"]["k"]))
    index = (tmp_path / "maps" / "index.html").read_text("utf-8")
    assert index.count("<tr><td><a href=") == 71
    assert '<a href="way_2F2000306.html">石桥镇第二初级中学</a>' in index


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def equator_files(tmp_path, equator_layers):
    schools, hazards = equator_layers
    s = schools.reset_index().rename(columns={"school_id": "id"})
    s["id"] = ["way/1"]
    h = hazards.reset_index().rename(columns={"hazard_id": "id"})
    h.loc[h["id"] == "in_150", "name"] = XSS
    s.to_file(tmp_path / "schools.geojson")
    h.to_file(tmp_path / "wangba.geojson")
    return tmp_path / "schools.geojson", tmp_path / "wangba.geojson"


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_cli_writes_offline_overview_and_school_maps(tmp_path, equator_files):
    schools, wangba = equator_files
    out = tmp_path / "out"
    result = run(
        "screen",
        "--schools",
        schools,
        "--hazards",
        f"internet_cafe={wangba}",
        "--out",
        out,
        "--no-evidence",
    )
    assert result.exit_code == 0, result.output
    page = (out / "map.html").read_text("utf-8")
    assert external_references(page) == []
    assert page_data(page)["basemap"] == "none"
    assert page_data(page)["schools"]["rows"][0][6] == "maps/way_2F1.html"
    school_page = (out / "maps" / "way_2F1.html").read_text("utf-8")
    assert XSS not in school_page
    assert str(out / "maps" / "index.html") in result.output


def test_cli_basemap_options(tmp_path, equator_files, monkeypatch):
    schools, wangba = equator_files
    common = [
        "screen",
        "--schools",
        schools,
        "--hazards",
        f"internet_cafe={wangba}",
        "--no-evidence",
    ]
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    result = CliRunner().invoke(
        cli, [*map(str, common), "--out", str(tmp_path / "t"), "--basemap", "tianditu"]
    )
    assert result.exit_code == 2
    assert "TIANDITU_KEY" in result.output
    monkeypatch.setenv("TIANDITU_KEY", "abcdef0123456789")
    result = run(*common, "--out", tmp_path / "t", "--basemap", "tianditu", "--school-maps", "none")
    assert result.exit_code == 0, result.output
    assert "tk=abcdef0123456789" in (tmp_path / "t" / "map.html").read_text("utf-8")
    assert not (tmp_path / "t" / "maps").exists()
    result = run(*common, "--out", tmp_path / "a", "--basemap", "amap", "--school-maps", "all")
    assert result.exit_code == 0, result.output
    assert (
        page_data((tmp_path / "a" / "maps" / "way_2F1.html").read_text("utf-8"))["crs"] == "gcj02"
    )


# --- the layers of the water, traffic and camera analyses ------------------------------

ODD = "{{ 7*7 }}<img src=x onerror=alert(1)>${1+1}`\\"


@pytest.fixture(scope="module")
def analyses(district):
    from campus_geo import network
    from campus_geo.cli.analyses import run_analyses

    osm, _ = district
    return run_analyses(osm, network.walk_network_from_osm(demo.DEMO_DIR / "district.osm"))


def analysis_layers(a, *, lang="zh"):
    from campus_geo.cameras import camera_layer
    from campus_geo.traffic import traffic_layer
    from campus_geo.water import water_layer

    return [
        water_layer(a.water_near, a.water_bodies, lang=lang),
        traffic_layer(a.posts, a.gaps, lang=lang),
        camera_layer(a.cameras, a.blind_spots, lang=lang, show=False),
    ]


def overlay_names(page: str) -> list[str]:
    block = re.search(r"overlays :\s*\{(.*?)\},\s*\};", page, re.S).group(1)
    return [json.loads(k) for k in re.findall(r'^\s*("(?:[^"\\]|\\.)*") :', block, re.M)]


def test_extra_layers_join_the_overview_and_its_layer_control(district, analyses):
    osm, findings = district
    m = hazard_map(
        findings,
        osm.schools,
        osm.hazards,
        streets=osm.streets,
        extra_layers=analysis_layers(analyses),
    )
    page = map_html(m)
    assert external_references(page) == []
    names = overlay_names(page)
    assert names[-3:] == ["重点水域", "护学岗候选点", "视频监控覆盖与盲区"]
    assert names[-4] == "视频监控 (160)"  # after the campus_geo layers
    # every guard-post candidate of rank 1-3 is a circle; the camera layer is off on opening
    circles = re.findall(r"L\.circleMarker\(\s*\[", page)
    assert len(circles) == int((analyses.posts["rank"] <= 3).sum()) == 83
    added = re.findall(r"(feature_group_\w+)\.addTo\(map_\w+\);", page)
    groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup\(", page)
    assert len(groups) == 3
    assert added == groups[:2]  # water and traffic shown, the cameras' sectors on demand
    english = overlay_names(
        map_html(
            hazard_map(
                findings, osm.schools, osm.hazards, lang="en",
                extra_layers=analysis_layers(analyses, lang="en"),
            )
        )
    )  # fmt: skip
    assert english[-3:] == [
        "Key water areas",
        "Guard-post candidates",
        "Camera coverage and blind spots",
    ]
    assert map_html(hazard_map(findings, osm.schools, osm.hazards)).count("feature_group_") == 0


def test_extra_layer_texts_are_shown_never_evaluated(district, analyses):
    osm, findings = district
    odd = dataclasses.replace(
        analyses,
        water_near=analyses.water_near.assign(school_name=ODD),
        water_bodies=analyses.water_bodies.assign(nearest_school=ODD),
        posts=analyses.posts.assign(school_name=ODD),
        gaps=analyses.gaps.assign(school_name=ODD),
        cameras=analyses.cameras.set_axis([f"{ODD}{i}" for i in range(len(analyses.cameras))]),
    )
    page = map_html(
        hazard_map(findings, osm.schools, osm.hazards, extra_layers=analysis_layers(odd))
    )
    for raw in ("{{", "{%", "<img", "${1+1}", "`\\"):
        assert raw not in page
    assert "49" not in re.findall(r"bindTooltip\(\s*`<div>\s*(.*?)\s*</div>`", page, re.S)[0]
    shown = "&#123;&#123; 7*7 &#125;&#125;&lt;img src=x onerror=alert(1)&gt;&#36;&#123;1+1&#125;&#96;&#92;"
    tooltip = re.findall(r"bindTooltip\(\s*`<div>\s*(.*?)\s*</div>`", page, re.S)[0]
    assert tooltip.startswith(shown + " #1: ")  # a guard post: school, rank, reason
    # GeoJSON labels: the same text, JSON-escaped by folium
    assert json.dumps(shown).strip('"').replace("&", "\\u0026") in page


def test_demo_overview_layers_sit_on_amap_in_gcj02(tmp_path, district, analyses):
    from campus_geo.cli.maps import MapChoices, save_maps

    osm, findings = district
    written = save_maps(
        findings, osm, tmp_path, rules=None, profile=None, dist=None, lang="zh",
        maps=MapChoices(basemap="amap", school_maps="none"), analyses=analyses,
    )  # fmt: skip
    page = written["map"].read_text("utf-8")
    drawn = re.findall(r"L\.circleMarker\(\s*\[([-0-9.e]+),\s*([-0-9.e]+)\]", page)
    best = analyses.posts[analyses.posts["rank"] <= 3]
    assert len(drawn) == len(best) == 83
    lon, lat = wgs84_to_gcj02(best.geometry.x.to_numpy(), best.geometry.y.to_numpy())
    np.testing.assert_allclose(np.array(drawn, dtype=float), np.column_stack([lat, lon]), atol=1e-9)
    _, _, offset = GEOD.inv(best.geometry.x.to_numpy(), best.geometry.y.to_numpy(), lon, lat)
    assert (offset > 200).all()  # GCJ-02 sits a few hundred metres off WGS 84 here
    assert overlay_names(page)[-3:] == ["重点水域", "护学岗候选点", "视频监控覆盖与盲区"]


def test_a_rerun_removes_the_school_maps_of_the_earlier_run_only(tmp_path):
    from campus_geo.maps import save_school_maps

    osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    findings = screen(osm.schools, osm.hazards)
    first, second = findings["school_id"].unique()[:2]
    folder = tmp_path / "maps"
    save_school_maps(findings, osm.schools, osm.hazards, folder, school_ids=[first, second])
    (folder / "notes.html").write_text("mine", encoding="utf-8")  # the user's own file
    save_school_maps(findings, osm.schools, osm.hazards, folder, school_ids=[second])
    names = sorted(p.name for p in folder.glob("*.html"))
    assert names == sorted(["index.html", "notes.html", school_map_filename(second)])
