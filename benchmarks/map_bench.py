"""Benchmark of the offline hazard map at scale: page size and time to first render in Chromium.

Usage::

    python benchmarks/map_bench.py                          # 1,000 schools x 50,000 hazards
    python benchmarks/map_bench.py --schools 200 --hazards 10000 --runs 5
    python benchmarks/map_bench.py --school-maps            # also every per-school map
    python benchmarks/map_bench.py --school-maps --readme   # and write the table into README.md

What happens
------------
1. ``make_data`` generates a city region (25 towns in about 100 x 70 km around
   lon 113.85, lat 34.05): schools as rectangles of 60-250 m, hazard points of
   every category (half of them within 400 m of a school, the rest around the
   towns), and a street grid in every town (segments between junctions, like
   OSM ways) for the offline vector basemap. Deterministic from the seed.
2. ``campus_geo.screen.screen`` finds the findings with the default rules.
3. ``hazard_map`` + ``save_map`` (offline, basemap ``none``) write the page; the
   Python time and the page size are recorded.
4. Debian's Chromium (``/usr/bin/chromium``, headless, through Playwright) opens
   the page `runs` times in a fresh page with every network request blocked and
   records: DOMContentLoaded, the moment the map is drawn (the runtime marks the
   map ready after building every layer; one animation frame later it has been
   painted), the JS heap, and the time to zoom in two levels and redraw.
5. A markdown table goes to stdout and to ``benchmarks/out/map_bench.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import readme
import shapely

OUT_DIR = Path(__file__).resolve().parent / "out"
CHROMIUM = Path("/usr/bin/chromium")
CENTRE = (113.85, 34.05)
M_PER_DEG_LAT = 110_950.0
CATEGORY_WEIGHTS = {
    "internet_cafe": 0.08,
    "entertainment": 0.08,
    "arcade": 0.06,
    "lottery": 0.08,
    "tobacco_alcohol": 0.14,
    "dangerous_site": 0.04,
    "vendor": 0.12,
    "care_centre": 0.08,
    "traffic": 0.22,
    "camera": 0.10,
}
KINDS = ["kindergarten", "primary", "middle", "nine_year", "high"]


def _offsets(rng: np.random.Generator, n: int, radius_m: float) -> tuple[Any, Any]:
    """Random east/north offsets in metres, uniform in a disc."""
    r = radius_m * np.sqrt(rng.random(n))
    a = rng.random(n) * 2 * np.pi
    return r * np.cos(a), r * np.sin(a)


def _to_lonlat(x_m: Any, y_m: Any, lon0: Any, lat0: Any) -> tuple[Any, Any]:
    lat = lat0 + y_m / M_PER_DEG_LAT
    lon = lon0 + x_m / (M_PER_DEG_LAT * np.cos(np.radians(lat0)))
    return lon, lat


def make_data(n_schools: int, n_hazards: int, seed: int) -> dict[str, gpd.GeoDataFrame]:
    """Schools, hazards and streets of a synthetic city region (EPSG:4326)."""
    rng = np.random.default_rng(seed)
    towns_x, towns_y = rng.uniform(-50_000, 50_000, 25), rng.uniform(-35_000, 35_000, 25)
    town = rng.integers(0, 25, n_schools)
    dx, dy = _offsets(rng, n_schools, 3_000)
    cx, cy = towns_x[town] + dx, towns_y[town] + dy
    w, h = rng.uniform(60, 250, n_schools), rng.uniform(60, 250, n_schools)
    corners = np.stack(
        [
            np.stack([cx - w / 2, cy - h / 2], 1),
            np.stack([cx + w / 2, cy - h / 2], 1),
            np.stack([cx + w / 2, cy + h / 2], 1),
            np.stack([cx - w / 2, cy + h / 2], 1),
        ],
        1,
    )
    lon, lat = _to_lonlat(corners[..., 0], corners[..., 1], *CENTRE)
    schools = gpd.GeoDataFrame(
        {
            "name": [f"第{i + 1}学校" for i in range(n_schools)],
            "kind": rng.choice(KINDS, n_schools),
            "township": [f"镇{t + 1}" for t in town],
            "village": "",
        },
        geometry=shapely.polygons(np.stack([lon, lat], -1)),
        index=pd.Index([f"way/{1000 + i}" for i in range(n_schools)], name="school_id"),
        crs="EPSG:4326",
    )
    near = n_hazards // 2
    owner = rng.integers(0, n_schools, near)
    nx, ny = _offsets(rng, near, 400)
    far_town = rng.integers(0, 25, n_hazards - near)
    fx, fy = _offsets(rng, n_hazards - near, 4_000)
    hx = np.concatenate([cx[owner] + nx, towns_x[far_town] + fx])
    hy = np.concatenate([cy[owner] + ny, towns_y[far_town] + fy])
    hlon, hlat = _to_lonlat(hx, hy, *CENTRE)
    cats = list(CATEGORY_WEIGHTS)
    category = rng.choice(cats, n_hazards, p=list(CATEGORY_WEIGHTS.values()))
    hazards = gpd.GeoDataFrame(
        {"name": [f"场所{i + 1}" for i in range(n_hazards)], "category": category},
        geometry=gpd.points_from_xy(hlon, hlat),
        index=pd.Index([f"node/{i + 1}" for i in range(n_hazards)], name="hazard_id"),
        crs="EPSG:4326",
    )
    return {"schools": schools, "hazards": hazards, "streets": _streets(towns_x, towns_y)}


def _streets(towns_x: Any, towns_y: Any, step: float = 200.0, half: float = 2_000.0) -> Any:
    """A grid of street segments (junction to junction) in every town."""
    ticks = np.arange(-half, half + 1, step)
    a, b = ticks[:-1], ticks[1:]
    segments = []
    for tx, ty in zip(towns_x, towns_y, strict=True):
        for t in ticks:
            segments += [
                ((tx + x0, ty + t), (tx + x1, ty + t)) for x0, x1 in zip(a, b, strict=True)
            ]
            segments += [
                ((tx + t, ty + y0), (tx + t, ty + y1)) for y0, y1 in zip(a, b, strict=True)
            ]
    xy = np.asarray(segments)
    lon, lat = _to_lonlat(xy[..., 0], xy[..., 1], *CENTRE)
    n = len(xy)
    highway = np.where(np.arange(n) % 10 == 0, "secondary", "residential")
    return gpd.GeoDataFrame(
        {"highway": highway, "name": [f"路{i % 97}" for i in range(n)]},
        geometry=shapely.linestrings(np.stack([lon, lat], -1)),
        crs="EPSG:4326",
    )


def _blocker(own: str, blocked: list[str]) -> Any:
    """A route handler that lets the page itself through and blocks (and notes) the rest."""

    def route(r: Any) -> None:
        if r.request.url == own:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    return route


def _render(path: Path, runs: int) -> tuple[str, list[dict[str, float]]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        version = browser.version
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            blocked: list[str] = []
            own = path.resolve().as_uri()
            page.route("**/*", _blocker(own, blocked))
            page.goto(own, wait_until="domcontentloaded", timeout=300_000)
            page.wait_for_selector("[data-cg-ready]", state="attached", timeout=300_000)
            timing = page.evaluate(
                """() => new Promise((done) => requestAnimationFrame(() => {
                    const nav = performance.getEntriesByType("navigation")[0];
                    done({dom: nav.domContentLoadedEventEnd, drawn: performance.now(),
                          heap: performance.memory ? performance.memory.usedJSHeapSize : 0});
                }))"""
            )
            timing["zoom"] = page.evaluate(
                """() => new Promise((done) => {
                    const s = Object.values(campusGeo.maps)[0];
                    const t0 = performance.now();
                    s.map.once("zoomend", () => requestAnimationFrame(
                        () => done(performance.now() - t0)));
                    s.map.setZoom(s.map.getZoom() + 2, {animate: false});
                })"""
            )
            if blocked:
                raise RuntimeError(f"the page asked for {blocked[:3]}")
            results.append(timing)
            page.close()
        browser.close()
    return version, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--hazards", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="page loads in Chromium")
    parser.add_argument("--school-maps", action="store_true", help="also time every school map")
    readme.add_arguments(parser, "map_bench")
    args = parser.parse_args()

    from campus_geo.maps import hazard_map, save_map, save_school_maps
    from campus_geo.screen import screen

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    data = make_data(args.schools, args.hazards, args.seed)
    t0 = time.perf_counter()
    findings = screen(data["schools"], data["hazards"])
    t_screen = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = hazard_map(findings, data["schools"], data["hazards"], streets=data["streets"])
    path = save_map(m, OUT_DIR / f"map_{args.schools}x{args.hazards}.html")
    t_map = time.perf_counter() - t0
    size = path.stat().st_size
    rows = [
        f"| schools | {args.schools:,} |",
        f"| hazards | {args.hazards:,} |",
        f"| street segments (vector basemap) | {len(data['streets']):,} |",
        f"| findings (default rules) | {len(findings):,} (screening {t_screen:.1f} s) |",
        f"| `hazard_map` + `save_map` (Python) | {t_map:.1f} s |",
        f"| page size (offline, everything inline) | {size / 1e6:.1f} MB |",
    ]
    chromium = "Chromium absent"
    if CHROMIUM.exists():
        version, timings = _render(path, args.runs)
        chromium = f"Chromium {version}"
        med = {k: statistics.median(t[k] for t in timings) for k in timings[0]}
        spread = {k: (min(t[k] for t in timings), max(t[k] for t in timings)) for k in med}
        rows += [
            f"| Chromium: DOMContentLoaded | {med['dom'] / 1e3:.2f} s "
            f"({spread['dom'][0] / 1e3:.2f}-{spread['dom'][1] / 1e3:.2f}) |",
            f"| Chromium: first render (every layer drawn) | {med['drawn'] / 1e3:.2f} s "
            f"({spread['drawn'][0] / 1e3:.2f}-{spread['drawn'][1] / 1e3:.2f}) |",
            f"| Chromium: zoom in two levels and redraw | {med['zoom']:.0f} ms |",
            f"| Chromium: JS heap after the first render | {med['heap'] / 1e6:.0f} MB |",
        ]
    else:
        rows.append("| Chromium | /usr/bin/chromium absent: not measured |")
    if args.school_maps:
        t0 = time.perf_counter()
        written = save_school_maps(
            findings, data["schools"], data["hazards"], OUT_DIR / "maps", streets=data["streets"]
        )
        took = time.perf_counter() - t0
        sizes = [p.stat().st_size for p in written.values()]
        rows.append(
            f"| per-school maps | {len(written):,} in {took:.0f} s, "
            f"{statistics.mean(sizes) / 1e3:.0f} kB each on average |"
        )
    table = "\n".join(
        [
            f"{os.cpu_count()} cores (load average {load:.1f} at the start), Python "
            f"{platform.python_version()}, {chromium}; median of {args.runs} loads (range)",
            "",
            "| | |",
            "|---|---:|",
            *rows,
        ]
    )
    print(table)
    (OUT_DIR / "map_bench.md").write_text(table + "\n", encoding="utf-8")
    if args.readme:
        readme.write_block(args.readme_path, "map_bench", table)


if __name__ == "__main__":
    main()
