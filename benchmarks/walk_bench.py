"""Walking distances for 1,000 schools on a city graph of about 100,000 edges.

Generates a synthetic city (a jittered street grid around Zhengzhou, written as OSM
XML so that the real ``osmnx.graph_from_xml`` path is measured), 1,000 campuses
with two gates each joined to their street by a footway, and venues scattered over
the city; then times

1. ``walk_network_from_osm`` (osmnx parse, walkable filter, largest component,
   simplification, ellipsoidal edge lengths, spatial index),
2. ``screen(..., profile="walk", dist=200)`` (straight-line candidates, edge
   splitting, one bounded Dijkstra per school, route geometries),

and checks every finding: the walk is never shorter than the straight line from
the nearest gate, and the route's ellipsoidal length equals the reported distance.

    .venv/bin/python benchmarks/walk_bench.py                 # 1,000 schools, ~100,000 edges
    .venv/bin/python benchmarks/walk_bench.py --grid 100 --schools 200   # quick
    .venv/bin/python benchmarks/walk_bench.py --repeat 3 --readme        # the README's figures

It prints the result as JSON, then the README's paragraph, table and sentences
(section "Walking distance, water, traffic, cameras") between their markers;
``--readme`` writes those there. The README shows three runs (``--repeat 3``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import readme
from shapely.geometry import Point, Polygon

from campus_geo.network import walk_network_from_osm
from campus_geo.screen import screen

OUT = Path(__file__).resolve().parent / "out"
GEOD = pyproj.Geod(ellps="WGS84")
LON0, LAT0 = 113.50, 34.60
SPACING_M = 100.0


def make_city(grid: int, n_schools: int, n_venues: int, seed: int, path: Path):
    rng = np.random.default_rng(seed)
    dlat = SPACING_M / 110_900.0
    dlon = SPACING_M / (111_320.0 * np.cos(np.radians(LAT0)))
    jitter = rng.uniform(-0.1, 0.1, size=(grid, grid, 2))
    lon = LON0 + (np.arange(grid)[None, :] + jitter[..., 0]) * dlon
    lat = LAT0 + (np.arange(grid)[:, None] + jitter[..., 1]) * dlat
    node_id = np.arange(grid * grid).reshape(grid, grid) + 1
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="walk_bench">']
    lines += [
        f'  <node id="{node_id[i, j]}" lat="{lat[i, j]:.7f}" lon="{lon[i, j]:.7f}" version="1"/>'
        for i in range(grid)
        for j in range(grid)
    ]
    next_node = grid * grid + 1
    ways = []

    def klass(k: int) -> str:
        return "primary" if k % 10 == 0 else "secondary" if k % 5 == 0 else "residential"

    row_insert: dict[tuple[int, int], int] = {}  # (row i, after column j) -> node on the street
    col_insert: dict[tuple[int, int], int] = {}  # (column j, after row i) -> node on the street
    # schools: a 60 m x 50 m campus in a random block, gates in the middle of its south and
    # west walls, each joined by a footway to the block's south / west street
    blocks = rng.choice((grid - 1) * (grid - 1), size=n_schools, replace=False)
    schools, gates = [], []
    extra_nodes = []
    for k, b in enumerate(blocks):
        i, j = divmod(int(b), grid - 1)
        x0 = LON0 + (j + 0.2) * dlon
        y0 = LAT0 + (i + 0.25) * dlat
        x1, y1 = x0 + 0.6 * dlon, y0 + 0.5 * dlat
        schools.append(Polygon([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]))
        # the footway meets the street at a new node of the street way (on the segment)
        south = (lat[i, j] + lat[i, j + 1]) / 2
        west = (lon[i, j] + lon[i + 1, j]) / 2
        for g, (gx, gy, sx, sy, insert, key) in enumerate(
            [
                ((x0 + x1) / 2, y0, (lon[i, j] + lon[i, j + 1]) / 2, south, row_insert, (i, j)),
                (x0, (y0 + y1) / 2, west, (lat[i, j] + lat[i + 1, j]) / 2, col_insert, (j, i)),
            ]
        ):
            gate_id, street_id = next_node, next_node + 1
            next_node += 2
            extra_nodes.append((gate_id, gx, gy))
            extra_nodes.append((street_id, sx, sy))
            insert[key] = street_id
            ways.append(([gate_id, street_id], {"highway": "footway"}))
            gates.append((f"s{k}", f"s{k}g{g}", gx, gy))
    for i in range(grid):
        refs = []
        for j in range(grid):
            refs.append(int(node_id[i, j]))
            if (i, j) in row_insert:
                refs.append(row_insert[(i, j)])
        ways.append((refs, {"highway": klass(i), "name": f"纬{i}路"}))
    for j in range(grid):
        refs = []
        for i in range(grid):
            refs.append(int(node_id[i, j]))
            if (j, i) in col_insert:
                refs.append(col_insert[(j, i)])
        ways.append((refs, {"highway": klass(j), "name": f"经{j}街"}))
    lines += [
        f'  <node id="{n}" lat="{y:.7f}" lon="{x:.7f}" version="1"/>' for n, x, y in extra_nodes
    ]
    for w, (refs, tags) in enumerate(ways, start=1):
        lines.append(f'  <way id="{w}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    school_gdf = gpd.GeoDataFrame(
        {"name": [f"学校{k}" for k in range(n_schools)], "kind": "primary"},
        geometry=schools,
        index=pd.Index([f"s{k}" for k in range(n_schools)], name="school_id"),
        crs=4326,
    )
    gate_gdf = gpd.GeoDataFrame(
        {"school_id": [g[0] for g in gates]},
        geometry=[Point(g[2], g[3]) for g in gates],
        index=pd.Index([g[1] for g in gates], name="entrance_id"),
        crs=4326,
    )
    # venues: half within 250 m of a school, half anywhere in the city
    near = rng.integers(0, n_schools, n_venues // 2)
    centre = np.array([[s.centroid.x, s.centroid.y] for s in schools])[near]
    vlon, vlat, _ = GEOD.fwd(
        centre[:, 0], centre[:, 1], rng.uniform(0, 360, len(near)), rng.uniform(40, 250, len(near))
    )
    flon = LON0 + rng.uniform(0, grid - 1, n_venues - len(near)) * dlon
    flat = LAT0 + rng.uniform(0, grid - 1, n_venues - len(near)) * dlat
    venues = gpd.GeoDataFrame(
        {"name": [f"网吧{k}" for k in range(n_venues)], "category": "internet_cafe"},
        geometry=gpd.points_from_xy(np.r_[vlon, flon], np.r_[vlat, flat]),
        index=pd.Index([f"v{k}" for k in range(n_venues)], name="hazard_id"),
        crs=4326,
    )
    return school_gdf, gate_gdf, venues


def peak_rss_mib() -> float:
    try:
        text = Path("/proc/self/status").read_text()
        kb = next(int(line.split()[1]) for line in text.splitlines() if line.startswith("VmHWM"))
        return kb / 1024.0
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _range(values: list[float], fmt: str) -> str:
    """min–max of the runs as the README writes it; one value when they agree."""
    return readme.spread([format(min(values), fmt), format(max(values), fmt)], "\u2013")


def readme_block(result: dict[str, Any], *, busy: bool) -> str:
    """The README's paragraph, table and sentences (section "Walking distance, water, ...")."""
    g, runs = result["graph"], result["runs"]
    seconds = {key: [run["seconds"][key] for run in runs] for key in runs[0]["seconds"]}
    pairs = readme.spread([f"{run['straight_pairs_within']:,}" for run in runs], " / ")
    found = readme.spread([f"{run['walk_findings']:,}" for run in runs], " / ")
    per_school = [run["ms_per_school_walk"] for run in runs]
    worst = max(run["max_route_length_error_m"] for run in runs)
    return "\n".join(
        [
            f"**Speed** (`benchmarks/walk_bench.py`): a generated city of {g['nodes']:,} nodes "
            f"and {g['edges']:,} street",
            f"segments ({g['osmnx_directed_edges']:,} edges as osmnx counts them, both "
            f"directions), {result['schools']:,} schools with {result['gates']:,} gates,",
            f"{result['venues']:,} venues, {result['dist']:g} m on foot. Measured on this "
            f"project's {result['cpus']}-core machine" + (" while other work" if busy else ","),
            ("shared it, " if busy else "") + f"{readme.runs_text(len(runs))}:",
            "",
            "| step | seconds |",
            "|---|---:|",
            "| `walk_network_from_osm` (osmnx parse, filter, simplify, ellipsoidal lengths, "
            f"index) | {_range(seconds['network'], '.1f')} |",
            '| straight-line candidates (`profile="entrance"`) '
            f"| {_range(seconds['straight_screen'], '.2f')} |",
            f'| `screen(..., profile="walk")`: {pairs} candidate pairs -> {found} findings with '
            f"routes | {_range(seconds['walk_screen'], '.1f')} |",
            "",
            f"That is {_range(per_school, '.1f')} ms per school, peak RSS "
            f"{result['peak_rss_mib']:,.0f} MiB. Every route's ellipsoidal length equals its",
            f"distance (largest difference {readme.sci(worst, 0, up=True)} m), and no walk is "
            "shorter than its straight line.",
        ]
    )


def run_once(
    osm_path: Path, schools: Any, gates: Any, venues: Any, dist: float
) -> tuple[dict[str, Any], Any]:
    """One run: the network, the straight-line and the walk screening, checked; and the network."""
    t0 = time.perf_counter()
    net = walk_network_from_osm(osm_path)
    t_net = time.perf_counter() - t0

    t0 = time.perf_counter()
    straight = screen(schools, venues, entrances=gates, dist=dist, profile="entrance")
    t_straight = time.perf_counter() - t0

    t0 = time.perf_counter()
    walk = screen(schools, venues, entrances=gates, network=net, dist=dist, profile="walk")
    t_walk = time.perf_counter() - t0

    key = ["school_id", "hazard_id"]
    both = walk.merge(straight[[*key, "distance_m"]], on=key, suffixes=("", "_straight"))
    assert len(both) == len(walk), "every walk finding is a straight-line candidate"
    assert (both["distance_m"] >= both["distance_m_straight"] - 1e-6).all()
    lengths = np.array([GEOD.geometry_length(g) for g in walk.geometry])
    worst = float(np.max(np.abs(lengths - walk["distance_m"].to_numpy()))) if len(walk) else 0.0
    assert worst < 1e-6, worst
    run = {
        "straight_pairs_within": len(straight),
        "walk_findings": len(walk),
        "seconds": {
            "network": round(t_net, 4),
            "straight_screen": round(t_straight, 4),
            "walk_screen": round(t_walk, 4),
        },
        "ms_per_school_walk": round(1000 * t_walk / len(schools), 4),
        "max_route_length_error_m": worst,
    }
    return run, net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=224, help="streets per side (224: ~100k edges)")
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--venues", type=int, default=20000)
    parser.add_argument("--dist", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs, one after the other (the README shows 3)"
    )
    readme.add_arguments(parser, "walk_bench")
    args = parser.parse_args()
    busy = readme.busy()  # other work, before this one starts
    OUT.mkdir(parents=True, exist_ok=True)
    osm_path = OUT / f"city_{args.grid}_{args.schools}_seed{args.seed}.osm"
    t0 = time.perf_counter()
    schools, gates, venues = make_city(args.grid, args.schools, args.venues, args.seed, osm_path)
    t_gen = time.perf_counter() - t0

    import osmnx  # noqa: F401  (imported on first use: not part of any run's time)

    runs = []
    net = None
    for _ in range(args.repeat):
        net = None  # the last run's network is freed before the next one is built
        run, net = run_once(osm_path, schools, gates, venues, args.dist)
        runs.append(run)
        print(f"  run {len(runs)}/{args.repeat}: {json.dumps(run['seconds'])}", flush=True)
    assert net is not None

    result = {
        "graph": {
            "osm_nodes": int(args.grid * args.grid + 4 * args.schools),
            "nodes": len(net.nodes),
            "edges": len(net.edges),
            "osmnx_directed_edges": net.graph.number_of_edges(),
        },
        "schools": len(schools),
        "gates": len(gates),
        "venues": len(venues),
        "dist": args.dist,
        "generate_s": round(t_gen, 2),
        "runs": runs,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "cpus": os.cpu_count(),
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    (OUT / f"walk_bench_{args.grid}_{args.schools}_seed{args.seed}.json").write_text(text + "\n")
    block = readme_block(result, busy=busy)
    print(readme.framed("walk_bench", block))
    if args.readme:
        readme.write_block(args.readme_path, "walk_bench", block)


if __name__ == "__main__":
    main()
