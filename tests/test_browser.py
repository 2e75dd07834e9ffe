"""The hazard maps in a real browser: Debian's Chromium, headless, with the network blocked.

Driven by Playwright (Python) with ``executable_path=/usr/bin/chromium``: it
intercepts every request of a page (``page.route``), so a test can block them
all and list what tried to leave, and it reports console errors, page errors
and dialogs (an ``alert`` from injected HTML would be one). Selenium with
chromedriver would need Chrome DevTools calls for the same. Playwright's own
browser downloads are never used. Each test saves a screenshot into its tmp dir
and checks that it is not blank.

The tests are skipped when /usr/bin/chromium is absent outside CI; in CI
(.ci/run sets CAMPUS_GEO_REQUIRE_ALL=1) they fail instead, since .ci/run installs Chromium.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from conftest import unavailable
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from campus_geo import demo, layers
from campus_geo.coords import wgs84_to_gcj02
from campus_geo.maps import hazard_map, save_map, save_school_maps, school_map_filename
from campus_geo.screen import screen

CHROMIUM = Path("/usr/bin/chromium")
XSS = "<img src=x onerror=alert(1)>"
JINJA = "{{ 7*7 }}"
GEOD = pyproj.Geod(ellps="WGS84")

# counts what the map drew: zones and lines projected into the view (canvas paths with
# parts), markers in clusters or on the map, basemap features (without street casings)
COUNT_JS = """
() => {
  const s = Object.values(window.campusGeo.maps)[0];
  const out = {zones: 0, zonesDrawn: 0, lines: 0, linesDrawn: 0, markers: 0, basemap: 0,
               clusters: 0, version: L.version};
  s.map.eachLayer((l) => {
    const cg = l.options && l.options.cg;
    const drawn = Boolean(l._parts && l._parts.length);
    if (cg === "zone") { out.zones += 1; out.zonesDrawn += drawn; }
    if (cg === "finding") { out.lines += 1; out.linesDrawn += drawn; }
    if (cg === "basemap" && !l.options.cgCasing) out.basemap += 1;
    if (cg === "hazard" && !l.__parent) out.markers += 1;
    if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) {
      out.clusters += 1;
      out.markers += l.getLayers().length;
    }
  });
  return out;
}
"""


BASEMAP_JS = """
() => {
  const s = Object.values(window.campusGeo.maps)[0];
  const zoom = s.map.getZoom();
  let features = 0, shown = 0;
  s.d.base.layers.forEach((p) => p.features.forEach((f) => {
    features += 1;
    if ((p.styles[f[0]].minzoom || 0) <= zoom) shown += 1;
  }));
  return [zoom, features, shown];
}
"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(
            "/usr/bin/chromium is absent: apt-get install chromium to run the browser tests",
            ".ci/run installs Debian's chromium (scripts/system-deps.sh --browser)",
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A page opened with every request but the page's own file blocked."""

    page: Page
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def counts(self) -> dict:
        return self.page.evaluate(COUNT_JS)

    def set_zoom(self, zoom: int) -> None:
        self.page.evaluate(
            "(z) => { Object.values(campusGeo.maps)[0].map.setZoom(z, {animate: false}); }", zoom
        )

    def screenshot(self, path: Path) -> Path:
        self.page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
        self.page.screenshot(path=str(path))
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint32)
        assert rgb.std() > 10, f"{path} is blank"
        colours = np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])
        assert len(colours) > 100, f"{path} has almost no colours"
        return path


def visit(browser: Browser, path: Path, viewport: tuple[int, int] = (1280, 860)) -> Visit:
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(10_000)
    own = path.resolve().as_uri()
    seen = Visit(page)
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))

    def on_dialog(dialog):
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)

    def route(r):
        if r.request.url == own:
            r.continue_()
        else:
            seen.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(own)
    page.wait_for_selector("[data-cg-ready]", state="attached", timeout=30_000)
    return seen


@pytest.fixture(scope="module")
def district():
    osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    return osm, findings


def shown_markers(hazards, hidden=("camera",)):
    """Markers the map shows on opening: point hazards and non-water shapes, but hidden layers."""
    marked = (hazards.geometry.geom_type == "Point") | (hazards["category"] != "water")
    return int((marked & ~hazards["category"].isin(hidden)).sum())


def test_demo_overview_draws_everything_with_no_network(browser, district, tmp_path):
    osm, findings = district
    path = save_map(
        hazard_map(
            findings,
            osm.schools,
            osm.hazards,
            entrances=osm.entrances,
            streets=osm.streets,
            water=osm.water,
            buildings=osm.buildings,
        ),
        tmp_path / "map.html",
    )
    seen = visit(browser, path)
    counts = seen.counts()
    assert seen.requests == [path.resolve().as_uri()]  # the page itself, nothing else
    assert seen.blocked == []
    assert seen.errors == []
    assert seen.dialogs == []
    assert counts["version"] == "1.9.4"
    assert counts["zones"] == counts["zonesDrawn"] == len(osm.schools) == 76
    assert counts["lines"] == counts["linesDrawn"] == len(findings) == 179
    assert counts["markers"] == shown_markers(osm.hazards)
    assert counts["clusters"] == 10  # one per shown category
    # the vector basemap: each class from its minzoom on, everything when zoomed in
    zoom, features, shown = seen.page.evaluate(BASEMAP_JS)
    assert zoom < 13 < 16
    assert counts["basemap"] == shown < features
    seen.set_zoom(16)
    assert seen.counts()["basemap"] == features
    seen.set_zoom(zoom)
    summary = seen.page.inner_text(".cg-summary")
    assert "排查学校\n76" in summary
    assert "隐患（量算线）\n179" in summary
    assert "© OpenStreetMap contributors" in seen.page.inner_text(".leaflet-control-attribution")
    seen.screenshot(tmp_path / "overview.png")


def test_a_venue_named_like_html_shows_as_text_and_runs_nothing(browser, equator_layers, tmp_path):
    schools, hazards = equator_layers
    schools = schools.assign(name=[f"{XSS}小学"])
    hazards = hazards.drop(index="out_20002")  # 3 cm from in_19999: their markers overlap
    hazards.loc["in_150", "name"] = XSS
    hazards.loc["in_19999", "name"] = JINJA
    findings = screen(schools, hazards)
    written = save_school_maps(findings, schools, hazards, tmp_path / "maps")
    seen = visit(browser, written["s1"])
    page = seen.page
    assert page.title() == f"{XSS}小学 — 校园周边安全隐患排查图"
    # close enough that the venues, 50 m apart, do not overlap
    page.evaluate(
        "() => { Object.values(campusGeo.maps)[0].map.setView([0, 0.0025], 18, {animate: false}); }"
    )
    page.click(f'.cg-haz[title="{XSS} · 上网服务场所"]')
    popup = page.inner_text(".leaflet-popup-content")
    assert popup.startswith(XSS)
    page.evaluate("() => { Object.values(campusGeo.maps)[0].map.closePopup(); }")
    page.click(f'.cg-haz[title="{JINJA} · 上网服务场所"]')
    assert page.locator(".leaflet-popup-content").last.inner_text().startswith(JINJA)  # not 49
    # the finding's line: its tooltip and popup name the venue as text
    page.evaluate(
        """() => {
          const s = Object.values(campusGeo.maps)[0];
          s.map.eachLayer((l) => {
            if (l.options.cg === "finding" && l.options.cgRow[4].startsWith("150.0")) {
              const mid = l.getCenter();
              l.fire("mouseover", {latlng: mid}, true);
              l.fire("click", {latlng: mid}, true);
            }
          });
        }"""
    )
    assert page.inner_text(".cg-tip") == f"{XSS} · 150.0 米（阈值 200 米，自校园边界直线量算）"
    popup = page.locator(".leaflet-popup-content").last.inner_text()  # the last one opened
    assert f"学校\t{XSS}小学" in popup
    assert f"场所\t{XSS}" in popup
    assert page.inner_text(".cg-summary").startswith(f"{XSS}小学")
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert seen.dialogs == []
    assert seen.errors == []
    assert seen.blocked == []
    seen.screenshot(tmp_path / "xss.png")


def test_search_lists_names_as_text(browser, equator_layers, tmp_path):
    schools, hazards = equator_layers
    other = schools.rename(index={"s1": "s2"}).assign(name=["赤道中学"])
    other.geometry = other.geometry.translate(0.01, 0)
    schools = schools.assign(name=[f"{XSS}小学"])
    both = gpd.GeoDataFrame(pd.concat([schools, other]), crs=schools.crs)
    both = both.assign(kind=["primary", "middle"])
    findings = screen(both, hazards)
    seen = visit(browser, save_map(hazard_map(findings, both, hazards), tmp_path / "m.html"))
    page = seen.page
    page.click(".search-button")
    page.locator("input.search-input").press_sequentially("img", delay=30)
    page.wait_for_selector(".search-tip", timeout=5_000)
    assert page.inner_text(".search-tooltip") == f"{XSS}小学"
    page.click(".search-tip")
    page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
    assert page.inner_text(".cg-popup-title") == f"{XSS}小学"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert seen.dialogs == []
    assert seen.errors == []
    seen.screenshot(tmp_path / "search.png")


def test_amap_overlays_sit_in_gcj02_and_only_tiles_are_requested(browser, district, tmp_path):
    osm, findings = district
    path = save_map(
        hazard_map(findings, osm.schools, osm.hazards, basemap="amap"), tmp_path / "a.html"
    )
    seen = visit(browser, path)
    seen.page.wait_for_timeout(300)  # the first tiles are asked for after the first frame
    assert seen.blocked  # Amap's tiles were asked for (and blocked) ...
    assert all(
        re.match(r"^https://webrd0[1-4]\.is\.autonavi\.com/appmaptile\?", u) for u in seen.blocked
    )  # ... and nothing else
    assert seen.errors == [] or all("ERR_FAILED" in e for e in seen.errors)
    # a venue's marker sits at its GCJ-02 position, a few hundred metres off its WGS 84 one
    hazard_id = "node/1004695"  # 时代酒行
    latlng = seen.page.evaluate(
        """(id) => {
          const s = Object.values(campusGeo.maps)[0];
          let found = null;
          s.map.eachLayer((l) => {
            if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) {
              l.getLayers().forEach((m) => {
                if (s.d.layers[m.options.cgLayer].rows[m.options.cgRow][0] === id) found = m.getLatLng();
              });
            }
          });
          return [found.lat, found.lng];
        }""",
        hazard_id,
    )
    point = osm.hazards.geometry.loc[hazard_id]
    glon, glat = wgs84_to_gcj02(point.x, point.y)
    assert latlng == pytest.approx([float(glat), float(glon)], abs=1e-6)
    _, _, offset = GEOD.inv(point.x, point.y, latlng[1], latlng[0])
    assert 200 < offset < 800
    # and its finding's line ends there too
    end = seen.page.evaluate(
        """() => {
          const s = Object.values(campusGeo.maps)[0];
          let end = null;
          s.map.eachLayer((l) => {
            if (l.options.cg === "finding" && l.options.cgRow[7] === "2c372cb95866bf5a") {
              const ll = l.getLatLngs()[0];
              end = [ll[ll.length - 1].lat, ll[ll.length - 1].lng];
            }
          });
          return end;
        }"""
    )
    finding = findings.loc["2c372cb95866bf5a"]
    hlon, hlat = wgs84_to_gcj02(finding["hazard_lon"], finding["hazard_lat"])
    assert end == pytest.approx([float(hlat), float(hlon)], abs=1e-7)
    legend = seen.page.inner_text(".cg-legend")
    assert "GCJ-02" in legend
    assert "高德" in seen.page.inner_text(".leaflet-control-attribution")
    seen.screenshot(tmp_path / "amap.png")


def test_school_map_draws_its_zones_venues_and_findings(browser, district, tmp_path):
    osm, findings = district
    school_id = "way/2000306"
    written = save_school_maps(
        findings,
        osm.schools,
        osm.hazards,
        tmp_path / "maps",
        school_ids=[school_id],
        entrances=osm.entrances,
        streets=osm.streets,
        water=osm.water,
    )
    path = written[school_id]
    assert path.name == school_map_filename(school_id) == "way_2F2000306.html"
    seen = visit(browser, path)
    counts = seen.counts()
    assert seen.requests == [path.resolve().as_uri()]
    assert seen.errors == []
    assert counts["zones"] == counts["zonesDrawn"] == 1  # 200 m (water, traffic: context)
    mine = findings[findings["school_id"] == school_id]
    assert counts["lines"] == counts["linesDrawn"] == len(mine) == 5
    assert counts["clusters"] == 0
    in_view = seen.page.evaluate(
        "() => Object.values(campusGeo.maps)[0].d.layers"
        ".filter((c) => c.show).reduce((n, c) => n + c.markers.length, 0)"
    )
    assert counts["markers"] == in_view > len(mine)
    link = seen.page.locator(".cg-summary a.cg-link")
    assert link.inner_text() == "返回总图"
    assert link.get_attribute("href") == "../map.html"
    seen.screenshot(tmp_path / "school.png")


def test_layer_control_turns_a_category_off(browser, district, tmp_path):
    osm, findings = district
    path = save_map(hazard_map(findings, osm.schools, osm.hazards), tmp_path / "m.html")
    seen = visit(browser, path)
    before = seen.counts()
    seen.page.get_by_label(re.compile(r"交通风险点 \(144\)")).uncheck()
    after = seen.counts()
    # traffic points are context: markers on the map, never measured lines (findings)
    traffic = int((findings["category"] == "traffic").sum())
    assert before["lines"] - after["lines"] == traffic == 0
    assert before["markers"] - after["markers"] == 144
    seen.page.get_by_label(re.compile(r"游艺娱乐场所 \(\d+\)")).uncheck()
    arcades = int((findings["category"] == "arcade").sum())
    assert after["lines"] - seen.counts()["lines"] == arcades == 28
    seen.screenshot(tmp_path / "toggled.png")


# the paths and circles of plain folium layers (the analyses' layers), by colour and kind
ANALYSIS_JS = """
() => {
  const s = Object.values(window.campusGeo.maps)[0];
  const out = {};
  s.map.eachLayer((l) => {
    if (!(l instanceof L.Path) || (l.options && l.options.cg)) return;
    const kind = l instanceof L.CircleMarker ? "circle" : l instanceof L.Polygon ? "polygon" : "line";
    const key = `${l.options.color} ${kind}`;
    const drawn = Boolean((l._parts && l._parts.length) || (kind === "circle" && l._point));
    out[key] = out[key] || [0, 0];
    out[key][0] += 1;
    out[key][1] += drawn;
  });
  return out;
}
"""


def test_demo_overview_shows_water_guard_posts_and_blind_spots(browser, district, tmp_path):
    from campus_geo import network
    from campus_geo.cli.analyses import run_analyses
    from campus_geo.cli.maps import MapChoices, save_maps

    osm, findings = district
    a = run_analyses(osm, network.walk_network_from_osm(demo.DEMO_DIR / "district.osm"))
    odd = f"{XSS}{JINJA}${{1+1}}"
    a = dataclasses.replace(a, posts=a.posts.assign(school_name=a.posts["school_name"].where(
        a.posts.index != 0, odd)))  # fmt: skip
    written = save_maps(
        findings, osm, tmp_path, rules=None, profile=None, dist=None, lang="zh",
        maps=MapChoices(school_maps="none"), analyses=a,
    )  # fmt: skip
    seen = visit(browser, written["map"])
    assert seen.requests == [written["map"].resolve().as_uri()]
    assert seen.errors == []
    control = seen.page.inner_text(".leaflet-control-layers")
    assert [n.strip() for n in control.split("\n")[-3:]] == [
        "重点水域",
        "护学岗候选点",
        "视频监控覆盖与盲区",
    ]
    drawn = seen.page.evaluate(ANALYSIS_JS)
    best = a.posts[a.posts["rank"] <= 3]
    circles = drawn["#e34a33 circle"][1] + drawn["#2b8cbe circle"][1]  # unsignalised, signalised
    assert circles == len(best) == 83
    assert drawn["#2b8cbe circle"][1] == int(best["signalised"].sum())
    assert drawn["#e34a33 line"] == [len(a.gaps)] * 2 == [15, 15]  # arterial gaps
    areas = a.water_bodies.geometry.explode(index_parts=False)
    assert drawn["#08519c polygon"][1] == int((areas.geom_type == "Polygon").sum())
    assert "#cb181d polygon" not in drawn  # blind spots: off on opening
    seen.page.get_by_label("视频监控覆盖与盲区").check()
    drawn = seen.page.evaluate(ANALYSIS_JS)
    assert drawn["#cb181d polygon"] == [len(a.blind_spots)] * 2 == [76, 76]
    assert drawn["#238b45 polygon"] == [len(a.cameras)] * 2 == [160, 160]  # the sectors
    # a guard post's tooltip shows the odd name as text, and nothing ran
    first = best.iloc[0]
    seen.page.evaluate(
        """([lat, lng]) => {
          const s = Object.values(campusGeo.maps)[0];
          s.map.setView([lat, lng], 18, {animate: false});
          s.map.eachLayer((l) => {
            if (l instanceof L.CircleMarker && !l.options.cg) {
              const p = l.getLatLng();
              if (Math.abs(p.lat - lat) < 1e-9 && Math.abs(p.lng - lng) < 1e-9) l.openTooltip();
            }
          });
        }""",
        [first.geometry.y, first.geometry.x],
    )
    assert seen.page.inner_text(".leaflet-tooltip") == f"{odd} #1: {first['reason']}"
    assert seen.dialogs == []
    assert seen.page.evaluate("document.querySelectorAll('img').length") == 0
    seen.screenshot(tmp_path / "analyses.png")


#: The page boxes (left, top, right, bottom) of the map's controls, and of its panels' bodies
#: the height they show and the height of all they hold.
CONTROLS_JS = """
() => {
  const out = {};
  document.querySelectorAll(".leaflet-control").forEach((e) => {
    const name = e.classList.contains("cg-panel") ? e.classList[1]
      : [...e.classList].find((c) => c.startsWith("leaflet-control-") || c === "leaflet-bar");
    const r = e.getBoundingClientRect();
    out[name] = [r.left, r.top, r.right, r.bottom];
  });
  const bodies = {};
  document.querySelectorAll(".cg-panel").forEach((p) => {
    const b = p.querySelector(".cg-panel-body");
    bodies[p.classList[1]] = [b.clientHeight, b.scrollHeight];
  });
  return [out, bodies];
}
"""

#: Whether each measured-line row of the legend is what the page shows at its centre.
LINE_ROWS_JS = """
() => [...document.querySelectorAll(".cg-legend .cg-row-line")].map((row) => {
  const r = row.getBoundingClientRect();
  const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
  return [row.textContent, row.contains(hit)];
})
"""


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _assert_apart_and_on_screen(boxes, width, height):
    for name, box in boxes.items():
        left, top, right, bottom = box
        assert min(left, top) >= 0, (name, box)
        assert right <= width, (name, box)
        assert bottom <= height, (name, box)
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not _overlap(boxes[a], boxes[b]), (a, boxes[a], b, boxes[b])


@pytest.fixture(scope="module")
def demo_overview(district, tmp_path_factory):
    """The overview `campus-geo demo` writes: every category, the water, traffic, camera layers."""
    from campus_geo import network
    from campus_geo.cli.analyses import run_analyses
    from campus_geo.cli.maps import MapChoices, save_maps

    osm, findings = district
    a = run_analyses(osm, network.walk_network_from_osm(demo.DEMO_DIR / "district.osm"))
    out = tmp_path_factory.mktemp("overview")
    written = save_maps(
        findings, osm, out, rules=None, profile=None, dist=None, lang="zh",
        maps=MapChoices(school_maps="none"), analyses=a,
    )  # fmt: skip
    return written["map"]


def test_legend_and_summary_fit_a_1366_by_768_screen_and_collapse(browser, demo_overview, tmp_path):
    seen = visit(browser, demo_overview, viewport=(1366, 768))
    assert seen.errors == []
    boxes, bodies = seen.page.evaluate(CONTROLS_JS)
    assert {"cg-summary", "cg-legend", "leaflet-control-layers", "leaflet-control-scale"} <= set(
        boxes
    )
    _assert_apart_and_on_screen(boxes, 1366, 768)
    # the whole legend and the whole summary: nothing left to scroll to
    for panel in ("cg-legend", "cg-summary"):
        shown, holds = bodies[panel]
        assert holds <= shown, (panel, shown, holds)
    # the measured-line legend is on screen, and nothing covers it
    lines = seen.page.evaluate(LINE_ROWS_JS)
    assert [text for text, _ in lines] == ["禁止122", "风险33", "提示24"]
    assert all(visible for _, visible in lines)
    assert "排查学校\n76" in seen.page.inner_text(".cg-summary")
    seen.screenshot(tmp_path / "1366x768.png")

    # collapsing the legend leaves its title bar; expanding it gives it back as it was
    toggle = seen.page.locator(".cg-legend .cg-toggle")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert toggle.get_attribute("aria-label") == "收起 图例"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert toggle.get_attribute("aria-label") == "展开 图例"
    assert not seen.page.locator(".cg-legend .cg-panel-body").is_visible()
    collapsed, _ = seen.page.evaluate(CONTROLS_JS)
    assert collapsed["cg-legend"][3] - collapsed["cg-legend"][1] < 40
    assert collapsed["cg-legend"][3] == pytest.approx(boxes["cg-legend"][3], abs=1)
    assert collapsed["cg-summary"] == boxes["cg-summary"]
    toggle.click()
    again, _ = seen.page.evaluate(CONTROLS_JS)
    assert again["cg-legend"] == pytest.approx(boxes["cg-legend"], abs=1)
    # the summary's title bar works the same way
    seen.page.locator(".cg-summary .cg-panel-title").click()
    assert seen.page.locator(".cg-summary").get_attribute("class").endswith("cg-collapsed")
    seen.page.locator(".cg-summary .cg-panel-title").click()
    assert seen.page.locator(".cg-summary .cg-panel-body").is_visible()
    assert seen.errors == []


def test_on_a_low_screen_the_legend_starts_collapsed_and_panels_scroll(
    browser, demo_overview, tmp_path
):
    seen = visit(browser, demo_overview, viewport=(1024, 500))
    assert seen.page.locator(".cg-legend .cg-toggle").get_attribute("aria-expanded") == "false"
    boxes, bodies = seen.page.evaluate(CONTROLS_JS)
    _assert_apart_and_on_screen(boxes, 1024, 500)
    shown, holds = bodies["cg-summary"]
    assert 40 <= shown < holds  # sized to the screen: the rest scrolls
    seen.page.locator(".cg-legend .cg-toggle").click()
    boxes, bodies = seen.page.evaluate(CONTROLS_JS)
    _assert_apart_and_on_screen(boxes, 1024, 500)
    shown, holds = bodies["cg-legend"]
    assert 40 <= shown < holds
    seen.screenshot(tmp_path / "1024x500.png")


def test_the_monthly_report_prints_on_a4_landscape_within_the_page(browser, tmp_path):
    """The monthly report's HTML printed by Chromium: A4 landscape, no table wider than the page."""
    from campus_geo.demo.story import run_ledger_story

    story = run_ledger_story(tmp_path / "story")
    path = story.files["monthly_2023-07_html"]
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    page.goto(path.resolve().as_uri())
    page.emulate_media(media="print")
    # A4 landscape is 297 mm wide; less the 12 mm margins, 273 mm = 1032 CSS px
    page.set_viewport_size({"width": 1032, "height": 700})
    widths = page.evaluate(
        "() => [...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().width)"
    )
    assert len(widths) >= 6
    assert max(widths) <= 1032
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1032
    pdf = tmp_path / "monthly.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    head = pdf.read_bytes()
    # every page of the PDF is A4 landscape: 841.92 x 595.28 points (Chromium rounds to 594.96)
    boxes = re.findall(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", head)
    assert {(round(float(w)), round(float(h))) for w, h in boxes} == {(842, 595)}
    assert len(re.findall(rb"/Type\s*/Page\b", head)) >= 2


@pytest.mark.realdata
@pytest.mark.parametrize(
    "extract", ["beijing_haidian_wudaokou_2017.osm.bz2", "nanjing_xinjiekou_2021.osm.bz2"]
)
def test_a_shared_extracts_map_fits_1366_by_768_with_every_layer(browser, tmp_path, extract):
    """A user's own district (`screen --profile all`): legend and summary whole at 1366x768."""
    from click.testing import CliRunner
    from conftest import osm_extract

    from campus_geo.cli import cli

    out = tmp_path / "out"
    args = ["-q", "screen", "--osm", str(osm_extract(extract)), "--profile", "all"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--no-evidence"])
    assert result.exit_code == 0, result.output
    seen = visit(browser, out / "map.html", viewport=(1366, 768))
    assert seen.errors == []
    assert seen.blocked == []
    boxes, bodies = seen.page.evaluate(CONTROLS_JS)
    _assert_apart_and_on_screen(boxes, 1366, 768)
    for panel in ("cg-legend", "cg-summary"):
        shown, holds = bodies[panel]
        assert holds <= shown, (panel, shown, holds)
    assert all(visible for _, visible in seen.page.evaluate(LINE_ROWS_JS))
    # one scale bar, metric only
    scale = seen.page.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(scale) == 1
    assert re.fullmatch(r"\d+ (m|km)", scale[0].strip()), scale
    # the analyses' layers are in the layer control, and no context point is a finding
    control = seen.page.inner_text(".leaflet-control-layers")
    for layer in ("重点水域", "护学岗候选点", "视频监控覆盖与盲区"):
        assert layer in control, layer
    findings = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert seen.counts()["lines"] == len(findings)
    assert not {"water", "traffic", "camera"} & set(findings["category"])
    seen.screenshot(tmp_path / f"{extract}.png")
