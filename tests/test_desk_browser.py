"""The review desk in a real browser: Debian's Chromium (Playwright), every non-local request blocked.

The desk runs under uvicorn in a thread on 127.0.0.1 and a free port. A unit
user logs in, filters to overdue, opens a case, records a rectification with
a photo; the ledger file then holds the change and the history rows with the
user. The same user's request for another unit's case is a 403 response; a
POST without the CSRF token is refused; a hostile venue name is shown as text
(no dialog); the offline map draws the cases with the desk's own Leaflet.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import uvicorn
from conftest import unavailable
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright
from shapely.geometry import LineString
from test_desk import HOSTILE, TODAY, _findings, jpeg

from campus_geo import ledger
from campus_geo.desk.app import create_app
from campus_geo.desk.users import add_user
from campus_geo.ledger.attachments import read_attachments

CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        unavailable(
            "/usr/bin/chromium is absent: apt-get install chromium to run the browser tests",
            ".ci/run installs Debian's chromium (scripts/system-deps.sh --browser)",
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Path, list[str]]]:
    path = tmp_path / "ledger.sqlite"
    findings = _findings()
    ledger.sync_findings(path, findings, who="专项办", now=dt.datetime(2023, 6, 5, 9))
    lines = [
        LineString([(108.90 + i * 0.002, 34.20), (108.901 + i * 0.002, 34.201)])
        for i in range(len(findings))
    ]
    table = {
        "finding_id": list(findings.index),
        "school_id": list(findings["school_id"]),
        "school_name": list(findings["school_name"]),
        "school_lon": [line.coords[0][0] for line in lines],
        "school_lat": [line.coords[0][1] for line in lines],
    }
    gpd.GeoDataFrame(table, geometry=lines, crs=4326).to_file(
        tmp_path / "findings.gpkg", layer="findings"
    )
    add_user(path, "police", "police-pass-1", role="unit", unit="区公安局")
    add_user(path, "office", "office-pass-1", role="office")
    port = _free_port()
    config = uvicorn.Config(
        create_app(path, today=TODAY), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the desk did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", path, list(findings.index)
    server.should_exit = True
    thread.join(timeout=10)


def _page(browser: Browser, base: str) -> tuple[Page, dict[str, list[str]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    seen: dict[str, list[str]] = {"blocked": [], "errors": [], "dialogs": []}

    def route(r):  # every request that does not go to the desk itself is blocked
        if r.request.url.startswith(base + "/"):
            r.continue_()
        else:
            seen["blocked"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page, seen


def _login(page: Page, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("#login")
    page.wait_for_url(f"{base}/")


def _screenshot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.int32)
    assert rgb.std() > 10, f"{path} is blank"


def test_a_unit_user_works_an_overdue_case_with_a_photo(browser, served, tmp_path):
    base, path, ids = served
    page, seen = _page(browser, base)
    _login(page, base, "police", "police-pass-1")
    page.goto(f"{base}/cases")
    page.check("#overdue")
    page.click("#apply")
    page.wait_for_url("**overdue=1**")
    assert page.inner_text("#count").startswith("共 2 条")
    page.click("a.case-link >> nth=0")
    fid = page.url.rsplit("/", 1)[1]
    assert fid in ids[:2]
    page.select_option("#status", "confirmed")
    page.click("#save")
    page.wait_for_url(f"**/cases/{fid}?saved=1")
    assert page.inner_text("#case-status").startswith("已确认")
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg())
    page.select_option("#status", "rectified")
    page.fill("#in-rectification", "已责令停业，招牌已摘除")
    page.fill("#in-rectified_on", "2023-07-20")
    page.set_input_files("#photo", str(photo))
    page.click("#save")
    page.wait_for_url(f"**/cases/{fid}?saved=1")
    assert page.inner_text("#case-status").startswith("已整改")
    thumb = page.locator("#files img")
    thumb.wait_for()
    assert page.evaluate("(img) => img.naturalWidth", thumb.element_handle()) > 0
    _screenshot(page, tmp_path / "desk_case.png")

    case = ledger.read_cases(path).loc[fid]
    assert (case["status"], case["rectification"], case["rectified_on"]) == (
        "rectified",
        "已责令停业，招牌已摘除",
        "2023-07-20",
    )
    history = ledger.read_history(path, fid)
    desk_rows = history[history["source"] == "desk"]
    assert set(desk_rows["who"]) == {"police"}
    assert desk_rows["field"].tolist() == [
        "status",
        "status",
        "rectification",
        "rectified_on",
        "attachment",
    ]
    (attached,) = read_attachments(path, fid)
    assert (attached["filename"], attached["who"]) == ("现场.jpg", "police")

    # another unit's case: 403 on the HTTP response itself
    other = ids[2]
    response = page.goto(f"{base}/cases/{other}")
    assert response is not None
    assert response.status == 403
    assert page.request.get(f"{base}/cases/{other}").status == 403
    # a POST without the CSRF token is refused and changes nothing
    refused = page.request.post(f"{base}/cases/{fid}", form={"version": "9", "notes": "forged"})
    assert refused.status == 403
    assert ledger.read_cases(path).loc[fid, "notes"] == ""
    assert seen["blocked"] == []
    assert seen["dialogs"] == []
    assert seen["errors"] == [] or all("403" in e for e in seen["errors"])


def test_a_hostile_venue_name_is_text_and_the_offline_map_draws_the_cases(
    browser, served, tmp_path
):
    base, _path, ids = served
    page, seen = _page(browser, base)
    _login(page, base, "office", "office-pass-1")
    page.goto(f"{base}/cases/{ids[2]}")
    assert page.inner_text("#hazard-name") == HOSTILE
    assert page.locator("#hazard-name img").count() == 0
    page.goto(f"{base}/cases")
    assert HOSTILE in page.inner_text("#cases")
    page.goto(f"{base}/map")
    try:
        page.wait_for_selector("#desk-map[data-count]", state="attached")
    except Exception:
        raise AssertionError(seen) from None
    assert page.get_attribute("#desk-map", "data-count") == "3", seen["errors"]
    assert page.locator(".leaflet-container").count() == 1
    layers = page.inner_text(".leaflet-control-layers")
    assert all(name in layers for name in ("案件列表", "量算线", "学校"))
    # 3 cases (clustered or not) and 2 schools: circle markers drawn as SVG paths
    assert page.locator("path.leaflet-interactive").count() >= 2
    _screenshot(page, tmp_path / "desk_map.png")
    page.click("text=English")
    page.wait_for_url(f"{base}/map")
    assert page.inner_text("header nav").startswith("Dashboard")
    assert seen["dialogs"] == []
    assert seen["blocked"] == []
    assert seen["errors"] == []


def test_the_full_map_draws_in_chromium_with_its_csp(browser, tmp_path):
    """serve --osm: /map/full runs under its own CSP, offline, and draws the user's lines."""
    from campus_geo import demo
    from campus_geo.demo.story import run_ledger_story
    from campus_geo.screen import save_findings

    story = run_ledger_story(tmp_path)
    save_findings(story.july_findings, tmp_path)
    add_user(story.path, "culture", "culture-pass-1", role="unit", unit="区文化广电和旅游局")
    today = dt.date(2023, 8, 3)
    app = create_app(story.path, today=today, osm_files=[demo.DEMO_DIR / "district.osm"])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the desk did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        page, seen = _page(browser, base)
        _login(page, base, "culture", "culture-pass-1")
        page.goto(f"{base}/map/full")
        page.wait_for_selector(".cg-map[data-cg-ready]", timeout=20_000)
        lines = page.evaluate(
            "() => { let n = 0; Object.values(window.campusGeo.maps)[0].map.eachLayer("
            "(l) => { if (l.options && l.options.cg === 'finding') n += 1; }); return n; }"
        )
        mine = ledger.read_cases(story.path, unit="区文化广电和旅游局", today=today)
        assert lines == len(mine.index.intersection(story.july_findings.index)) > 0
        assert seen["errors"] == []  # no script refused by the page's CSP
        assert seen["blocked"] == []
        _screenshot(page, tmp_path / "full_map.png")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
