"""WGS 84 <-> GCJ-02 <-> BD-09 against published reference pairs, round trips and accuracy.

Reference pairs are copied from the test suites of three widely used open
implementations (their test files are cited next to each pair):

- wandergis/coordtransform, test/app.js (JavaScript; one-step inverses);
- hujiulong/gcoord, test/unit/crs/{WGS84,GCJ02,BD09}.spec.ts (TypeScript;
  iterative GCJ-02 inverse to 1e-6 degrees, one-step BD-09 inverse);
- googollee/eviltransform, go/transform_test.go and python/test.py
  (Shanghai, Shenzhen, Beijing; "exact" inverse within 0.5 m).

The forward formulas are the same everywhere, so the forward pairs must agree
to ~1e-9 degrees. The inverses published there are approximate (one-step, or
iterations stopped at 1e-6 degrees), so ours must agree within their error
and, unlike them, map back onto the input through the forward formula.
"""

from __future__ import annotations

import logging

import numpy as np
import pyproj
import pytest

from campus_geo import coords

GEOD = pyproj.Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# ---------------------------------------------------------------------------
# forward formulas: published pairs


@pytest.mark.parametrize(
    ("func", "src", "expected", "tol_deg"),
    [
        # wandergis/coordtransform test/app.js: input (116.404, 39.915), printed results
        ("wgs84_to_gcj02", (116.404, 39.915), (116.41024449916938, 39.91640428150164), 1e-12),
        ("gcj02_to_bd09", (116.404, 39.915), (116.41036949371029, 39.92133699351021), 1e-12),
        # hujiulong/gcoord test/unit/crs/WGS84.spec.ts and GCJ02.spec.ts (toBeCloseTo(x, 5))
        ("wgs84_to_gcj02", (123.0, 45.0), (123.00607541, 45.00197815), 5e-6),
        ("wgs84_to_bd09", (123.0, 45.0), (123.0124491, 45.0083293), 5e-6),
        ("gcj02_to_bd09", (123.0, 45.0), (123.00636499, 45.00636899), 5e-6),
    ],
)
def test_forward_matches_published_pairs(func, src, expected, tol_deg):
    lon, lat = getattr(coords, func)(*src)
    assert float(lon) == pytest.approx(expected[0], abs=tol_deg)
    assert float(lat) == pytest.approx(expected[1], abs=tol_deg)


# googollee/eviltransform go/transform_test.go (and python/test.py): wgsLat, wgsLng, gcjLat, gcjLng
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM)
def test_eviltransform_pairs_forward_and_inverse(wlat, wlon, glat, glon):
    lon, lat = coords.wgs84_to_gcj02(wlon, wlat)
    assert float(lon) == pytest.approx(glon, abs=1e-9)
    assert float(lat) == pytest.approx(glat, abs=1e-9)
    # their "exact" inverse must land within 0.5 m; ours lands within a millimetre
    back = coords.gcj02_to_wgs84(glon, glat)
    assert float(metres(*back, wlon, wlat)) < 0.001


# ---------------------------------------------------------------------------
# inverses: published approximate values, and exactness through the forward formula


@pytest.mark.parametrize(
    ("func", "forward", "src", "published", "within_m"),
    [
        # coordtransform's one-step inverses (test/app.js)
        (
            "gcj02_to_wgs84",
            "wgs84_to_gcj02",
            (116.404, 39.915),
            (116.39775550083061, 39.91359571849836),
            0.1,
        ),
        (
            "bd09_to_gcj02",
            "gcj02_to_bd09",
            (116.404, 39.915),
            (116.39762729119315, 39.90865673957631),
            0.1,
        ),
        # gcoord: GCJ02.spec.ts (iterative to 1e-6 deg) and BD09.spec.ts (one-step)
        ("gcj02_to_wgs84", "wgs84_to_gcj02", (123.0, 45.0), (122.99395597, 44.99804071), 0.1),
        ("bd09_to_gcj02", "gcj02_to_bd09", (123.0, 45.0), (122.99363304, 44.99365430), 0.1),
        ("bd09_to_wgs84", "wgs84_to_bd09", (123.0, 45.0), (122.98762210, 44.99171540), 0.15),
    ],
)
def test_inverse_near_published_and_exact_through_forward(func, forward, src, published, within_m):
    lon, lat = getattr(coords, func)(*src)
    # the published inverses are approximations: we agree within their error ...
    assert float(metres(lon, lat, *published)) < within_m
    # ... and ours maps back onto the input through the forward formula to 1e-9 degrees
    flon, flat = getattr(coords, forward)(lon, lat)
    assert float(flon) == pytest.approx(src[0], abs=1e-9)
    assert float(flat) == pytest.approx(src[1], abs=1e-9)


def test_one_step_inverses_err_by_metres_iterative_by_micrometres():
    """The accuracy figures quoted in the README, over a 1-degree grid of mainland China."""
    lon, lat = np.meshgrid(np.arange(74.0, 135.0, 1.0), np.arange(19.0, 53.0, 1.0))
    lon, lat = lon.ravel() + 0.37, lat.ravel() + 0.61
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    offset = metres(lon, lat, glon, glat)
    # GCJ-02 moves points by tens to hundreds of metres
    assert offset.min() > 15
    assert offset.max() < 720
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat).max() < 1e-6  # iterative: below a micrometre
    dlon, dlat = coords._delta(glon, glat)
    one_step = metres(lon, lat, glon - dlon, glat - dlat)
    assert one_step.max() > 1.0  # the usual one-step inverse is off by metres
    blon, blat = coords.wgs84_to_bd09(lon, lat)
    bwlon, bwlat = coords.bd09_to_wgs84(blon, blat)
    assert metres(lon, lat, bwlon, bwlat).max() < 1e-5


# ---------------------------------------------------------------------------
# round trips, China box, vectors, systems


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_round_trips_are_exact_to_a_millimetre(system):
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.5, 135.0, 20_000)
    lat = rng.uniform(18.0, 53.5, 20_000)
    there = coords.convert(lon, lat, src="wgs84", dst=system)
    back = coords.convert(*there, src=system, dst="wgs84")
    assert metres(lon, lat, *back).max() < 0.001
    via = coords.convert(*coords.convert(*there, src=system, dst="gcj02" if system == "bd09" else "bd09"),
                         src="gcj02" if system == "bd09" else "bd09", dst=system)  # fmt: skip
    assert metres(*there, *via).max() < 0.001


def test_points_outside_china_pass_through_gcj02_unchanged():
    lon = np.array([183.0, 2.35, -74.0, 72.0, 137.9])
    lat = np.array([45.0, 48.86, 40.7, 30.0, 35.0])
    assert coords.out_of_china(lon, lat).all()
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(glon, lon)
    np.testing.assert_array_equal(glat, lat)
    wlon, wlat = coords.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(wlon, lon)
    np.testing.assert_array_equal(wlat, lat)
    # the box's edges belong to it (as in eviltransform and gcoord)
    assert not coords.out_of_china(72.004, 30.0)
    assert coords.out_of_china(72.0039, 30.0)


def test_vectorised_shapes_and_nan_pass_through():
    lon = np.array([[113.85, np.nan], [116.404, 121.5]])
    lat = np.array([[34.05, 34.0], [39.915, 31.2]])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert glon.shape == (2, 2)
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert np.isnan(wlon[0, 1])
    assert float(metres(wlon[1, 0], wlat[1, 0], 116.404, 39.915)) < 1e-6
    with pytest.raises(ValueError, match="same shape"):
        coords.wgs84_to_gcj02([1.0, 2.0], [1.0])


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("GCJ-02", "gcj02"), ("amap", "gcj02"), ("高德", "gcj02"), ("BD-09", "bd09"),
     ("bd09ll", "bd09"), ("百度", "bd09"), ("WGS 84", "wgs84"), ("EPSG:4326", "wgs84")],
)  # fmt: skip
def test_system_names(name, canonical):
    assert coords.normalise_system(name) == canonical


def test_unknown_system_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown coordinate system 'cgcs2000'.*gcj02"):
        coords.to_wgs84([113.0], [34.0], "cgcs2000")


def test_to_wgs84_logs_what_it_did(caplog):
    with caplog.at_level(logging.INFO, logger="campus_geo.coords"):
        coords.to_wgs84([113.85, 2.0], [34.05, 48.0], "gcj02", label="venues.csv")
        coords.to_wgs84([113.85], [34.05], "wgs84", label="schools.csv")
    text = caplog.text
    assert "venues.csv: converting 2 coordinate(s) from GCJ-02 to WGS 84" in text
    assert "1 lie outside the GCJ-02 box" in text
    assert "schools.csv: 1 coordinate(s) declared WGS 84: not converted" in text


# README, "GCJ-02/BD-09 accuracy": "over 1,000,000 random points of mainland China the round trip
# WGS 84 -> GCJ-02 -> WGS 84 is off by at most 5.8e-8 m (BD-09: 2.4e-7 m)". Those points are
# benchmarks/coords_roundtrip.py's (which prints the figures): seed 1, uniform in lon 73.5-135,
# lat 18-53.5; the test takes the first 300,000 of them (the whole million takes 4-5 s).
README_GCJ02_ROUND_TRIP_M = 5.8e-8
README_BD09_ROUND_TRIP_M = 2.4e-7


def test_round_trips_within_the_readmes_bounds_over_random_points_of_china():
    rng = np.random.default_rng(1)
    lon = rng.uniform(73.5, 135.0, 1_000_000)[:300_000]
    lat = rng.uniform(18.0, 53.5, 1_000_000)[:300_000]
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    gcj02 = metres(lon, lat, *coords.gcj02_to_wgs84(glon, glat)).max()
    bd09 = metres(lon, lat, *coords.bd09_to_wgs84(*coords.gcj02_to_bd09(glon, glat))).max()
    assert gcj02 <= README_GCJ02_ROUND_TRIP_M, f"GCJ-02 round trip off by {gcj02:.3g} m"
    assert bd09 <= README_BD09_ROUND_TRIP_M, f"BD-09 round trip off by {bd09:.3g} m"
