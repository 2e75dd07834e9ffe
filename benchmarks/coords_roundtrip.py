"""GCJ-02 and BD-09 round trips over random points of mainland China: the README's figures.

Draws points uniformly in lon 73.5-135, lat 18-53.5 (mainland China's extent, inside
the GCJ-02 box) and measures with ``campus_geo.coords``, distances in metres on the
WGS 84 ellipsoid (``pyproj.Geod.inv``):

1. the round trips WGS 84 -> GCJ-02 -> WGS 84 and WGS 84 -> BD-09 -> WGS 84 through
   the iterative inverses, and the residual of each inverse through its forward formula;
2. the usual one-step GCJ-02 inverse (``2 g - forward(g)``) and the widely copied
   one-step BD-09 -> GCJ-02 inverse, against the point they should give back;
3. how far GCJ-02 moves the points, and that points outside the GCJ-02 box stay put;
4. the demo's two registries (GCJ-02, 6 decimals) read back with
   ``campus_geo.registry.hazards_from_registry`` against where the demo generator put
   the venues.

It prints the figures, then the README's bullet "GCJ-02/BD-09 accuracy" (section
"Registries, rosters and PBF") between its markers; ``--readme`` writes it there.

    .venv/bin/python benchmarks/coords_roundtrip.py            # 1,000,000 points, seed 1
    .venv/bin/python benchmarks/coords_roundtrip.py --readme
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from typing import Any

import numpy as np
import pyproj
import readme

from campus_geo import coords

#: lon min, lon max, lat min, lat max of the random points: mainland China's extent
BOX = (73.5, 135.0, 18.0, 53.5)
#: the iterative inverses stop when the forward image is this close to the input (degrees)
TOLERANCE_DEG = 1e-10
GEOD = pyproj.Geod(ellps="WGS84")
X_PI = np.pi * 3000.0 / 180.0


def metres(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def one_step_bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one-step BD-09 -> GCJ-02 inverse copied from project to project (coordtransform's)."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def measure(n: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BOX[0], BOX[1], n)
    lat = rng.uniform(BOX[2], BOX[3], n)
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    offset = metres(lon, lat, glon, glat)

    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    gcj_trip = metres(lon, lat, wlon, wlat)
    flon, flat = coords.wgs84_to_gcj02(wlon, wlat)
    gcj_residual = max(np.abs(flon - glon).max(), np.abs(flat - glat).max())
    # the usual one-step inverse: g - (forward(g) - g)
    slon, slat = coords.wgs84_to_gcj02(glon, glat)
    one_step = metres(lon, lat, 2 * glon - slon, 2 * glat - slat)

    blon, blat = coords.gcj02_to_bd09(glon, glat)
    bwlon, bwlat = coords.bd09_to_wgs84(blon, blat)
    bd_trip = metres(lon, lat, bwlon, bwlat)
    fblon, fblat = coords.wgs84_to_bd09(bwlon, bwlat)
    bd_residual = max(np.abs(fblon - blon).max(), np.abs(fblat - blat).max())
    bd_one_step = metres(glon, glat, *one_step_bd09_to_gcj02(blon, blat))

    # outside the GCJ-02 box: around the world, the box itself left out
    olon = rng.uniform(-180.0, 180.0, n // 10)
    olat = rng.uniform(-85.0, 85.0, n // 10)
    outside = coords.out_of_china(olon, olat)
    olon, olat = olon[outside], olat[outside]
    moved = np.count_nonzero(
        np.column_stack(coords.wgs84_to_gcj02(olon, olat)) != np.column_stack([olon, olat])
    )
    return {
        "n": n,
        "seed": seed,
        "offset_min": float(offset.min()),
        "offset_max": float(offset.max()),
        "gcj_trip_max": float(gcj_trip.max()),
        "gcj_trip_median": float(np.median(gcj_trip)),
        "gcj_residual_deg": float(gcj_residual),
        "bd_trip_max": float(bd_trip.max()),
        "bd_trip_median": float(np.median(bd_trip)),
        "bd_residual_deg": float(bd_residual),
        "one_step_max": float(one_step.max()),
        "one_step_median": float(np.median(one_step)),
        "bd_one_step_max": float(bd_one_step.max()),
        "outside": len(olon),
        "outside_moved": int(moved),
    }


def demo_registries() -> tuple[float, int]:
    """Largest distance (m) from a demo registry venue, as read, to where the generator put it.

    The generator's positions come from rebuilding the demo district with its seed
    (``campus_geo.demo.district``), the venues read from the two committed registries.
    """
    import shapely

    from campus_geo.demo import DEMO_DIR, DEMO_SEED, district
    from campus_geo.registry import hazards_from_registry

    placed = {v.name: (v.lon, v.lat) for v in district._registry_venues(district._build(DEMO_SEED))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo's dirty rows are fixed with a warning each
        registry = hazards_from_registry(
            [DEMO_DIR / "registry.xlsx", DEMO_DIR / "registry_gbk.csv"], coords="gcj02"
        )
    venues = registry.hazards
    missing = sorted(set(venues["name"]) - set(placed))
    if missing:
        raise SystemExit(f"registry venues the demo generator did not place: {missing[:5]}")
    truth = np.array([placed[name] for name in venues["name"]])
    read = shapely.get_coordinates(venues.geometry.values)
    return float(metres(read[:, 0], read[:, 1], truth[:, 0], truth[:, 1]).max()), len(venues)


def report(m: dict[str, Any], demo: tuple[float, int]) -> str:
    def g(x: float) -> str:
        return f"{x:.3g}"

    rows = [
        ("WGS 84 -> GCJ-02 -> WGS 84, iterative inverse (m)", m["gcj_trip_max"], m["gcj_trip_median"]),
        ("WGS 84 -> BD-09 -> WGS 84, iterative inverses (m)", m["bd_trip_max"], m["bd_trip_median"]),
        ("residual of forward(inverse(g)) - g, GCJ-02 (degrees)", m["gcj_residual_deg"], None),
        ("residual of forward(inverse(b)) - b, BD-09 (degrees)", m["bd_residual_deg"], None),
        ("one-step GCJ-02 inverse 2g - forward(g) (m)", m["one_step_max"], m["one_step_median"]),
        ("one-step BD-09 -> GCJ-02 inverse (m)", m["bd_one_step_max"], None),
        (f"demo registries: {demo[1]} venues read vs generator (m)", demo[0], None),
    ]  # fmt: skip
    lines = [
        f"{m['n']:,} points uniform in lon {BOX[0]:g}-{BOX[1]:g}, lat {BOX[2]:g}-{BOX[3]:g} "
        f"(seed {m['seed']}); distances on the WGS 84 ellipsoid",
        "",
        "| quantity | max | median |",
        "|---|---:|---:|",
        *(f"| {name} | {g(hi)} | {'' if mid is None else g(mid)} |" for name, hi, mid in rows),
        "",
        f"- GCJ-02 moves the points by {m['offset_min']:.1f} to {m['offset_max']:.1f} m",
        f"- {m['outside']:,} random points outside the GCJ-02 box: {m['outside_moved']} "
        "coordinates changed by GCJ-02",
        f"- inverses converged to {TOLERANCE_DEG:g} degrees: "
        + (
            "yes"
            if max(m["gcj_residual_deg"], m["bd_residual_deg"]) < TOLERANCE_DEG
            else "NO (a residual is larger)"
        ),
    ]
    return "\n".join(lines)


def readme_block(m: dict[str, Any], demo: tuple[float, int]) -> str:
    """The README bullet "GCJ-02/BD-09 accuracy", as the README wraps it (a list item)."""
    unchanged = "leaves points unchanged" if m["outside_moved"] == 0 else "MOVES points"
    return "\n".join(
        [
            "- **GCJ-02/BD-09 accuracy.** The forward formulas agree with the reference pairs",
            "  published in the test suites of coordtransform, gcoord and eviltransform to 1e-12",
            "  degrees (`tests/test_coords.py`). The inverses are solved by fixed-point "
            "iteration to",
            f"  {readme.sci(TOLERANCE_DEG, 0)} degrees: over {m['n']:,} random points of mainland "
            "China the round trip WGS 84 ->",
            f"  GCJ-02 -> WGS 84 is off by at most {readme.sci(m['gcj_trip_max'], up=True)} m "
            f"(BD-09: {readme.sci(m['bd_trip_max'], up=True)} m), where the usual",
            f"  one-step inverse is off by up to {readme.fixed_up(m['one_step_max'], 1)} m "
            f"(median {readme.half_up(m['one_step_median'], 1)} m) and the one-step BD-09 "
            "inverse by",
            f"  up to {readme.fixed_up(m['bd_one_step_max'], 2)} m. GCJ-02 moves points by "
            f"{readme.half_up(m['offset_min'], 0)}-{readme.half_up(m['offset_max'], 0)} m. "
            "Outside mainland China's box GCJ-02",
            f"  {unchanged}. The demo's registries (GCJ-02, 6 decimals) land within",
            f"  {readme.fixed_up(demo[0], 2)} m of where the generator put the venues.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    readme.add_arguments(parser, "coords_roundtrip")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    t0 = time.perf_counter()
    m = measure(args.points, args.seed)
    demo = demo_registries()
    print(report(m, demo))
    print(f"- {time.perf_counter() - t0:.1f} s")
    print()
    block = readme_block(m, demo)
    print(readme.framed("coords_roundtrip", block))
    if max(m["gcj_residual_deg"], m["bd_residual_deg"]) >= TOLERANCE_DEG or m["outside_moved"]:
        raise SystemExit("an inverse did not converge, or GCJ-02 moved a point outside its box")
    if args.readme:
        readme.write_block(args.readme_path, "coords_roundtrip", block)


if __name__ == "__main__":
    main()
