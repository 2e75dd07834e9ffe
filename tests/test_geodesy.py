from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from _truth import truth_distance
from conftest import EQ_M_PER_DEG, GEOD
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from campus_geo.engine import pairs
from campus_geo.geodesy import (
    BAND_WIDTH_DEG,
    SHORT_CHORD_M,
    SHORT_GEODESIC_TOL_M,
    band_crs,
    band_of,
    degrees_margin,
    geocentric,
    geodesic_buffer,
    geodesic_distance,
    measured_lines,
    nearest_on_segments,
    outline_segments,
    segment_grids,
)


def test_equator_degree_is_a_times_pi_over_180():
    # along the equator the geodesic is the equator: 1 degree = a * pi / 180 exactly
    assert geodesic_distance(0.0, 0.0, 1.0, 0.0) == pytest.approx(111319.49079327357, abs=1e-6)


def test_meridian_arc_at_lat_34_matches_geographiclib():
    # 0.001 degree of latitude at 34.05 N; GeographicLib value, independent of pyproj's call path
    assert geodesic_distance(113.85, 34.05, 113.85, 34.051) == pytest.approx(110.9233, abs=1e-4)


@pytest.mark.parametrize(
    ("lat_lo", "lat_hi"),
    [(-90.0, 90.0), (-0.01, 0.01), (89.99, 90.0), (-90.0, -89.99), (18.0, 53.5)],
)
@pytest.mark.parametrize("longest", [1e-3, 200.0, 3000.0, SHORT_CHORD_M, 1.3 * SHORT_CHORD_M])
def test_short_lines_are_within_10_nm_of_geographiclib(lat_lo, lat_hi, longest):
    # the chord series against Karney's algorithm on lines placed with Geod.fwd: any
    # latitude (poles and equator too), any azimuth, lon across +-180, up to the series'
    # limit and past it (where GeographicLib itself measures)
    rng = np.random.default_rng(11)
    n = 100_000
    lon1, lat1 = rng.uniform(-180.0, 180.0, n), rng.uniform(lat_lo, lat_hi, n)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(0.0, 360.0, n), rng.uniform(0, longest, n))
    truth = GEOD.inv(lon1, lat1, lon2, lat2)[2]
    error = np.abs(geodesic_distance(lon1, lat1, lon2, lat2) - truth)
    assert SHORT_GEODESIC_TOL_M == 1e-8
    assert error.max() <= SHORT_GEODESIC_TOL_M


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(-180.0, 180.0),
    lat=st.floats(-90.0, 90.0),
    azimuth=st.floats(0.0, 360.0),
    length=st.floats(0.0, 2 * SHORT_CHORD_M),
)
def test_any_line_is_within_10_nm_of_geographiclib(lon, lat, azimuth, length):
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, length)
    truth = GEOD.inv(lon, lat, lon2, lat2)[2]
    assert abs(float(geodesic_distance(lon, lat, lon2, lat2)) - truth) <= SHORT_GEODESIC_TOL_M


def test_lines_longer_than_the_series_limit_are_geographiclibs_own():
    start_lon, start_lat = np.full(3, 113.85), np.full(3, 34.05)
    lengths = np.array([SHORT_CHORD_M * 1.01, 5e5, 1e7])
    lon2, lat2, _ = GEOD.fwd(start_lon, start_lat, np.array([0.0, 45.0, 90.0]), lengths)
    truth = GEOD.inv(start_lon, start_lat, lon2, lat2)[2]
    assert geodesic_distance(start_lon, start_lat, lon2, lat2).tolist() == truth.tolist()
    # antipodes and one point: no chord series trouble at either end
    assert geodesic_distance(0.0, 0.0, 180.0, 0.0) == pytest.approx(20003931.4586, abs=1e-4)
    assert geodesic_distance(113.85, 34.05, 113.85, 34.05) == 0.0
    # the pole at two longitudes is one point: 0 to the rounding of coordinates of 6,357 km
    assert geodesic_distance(0.0, 90.0, 70.0, 90.0) < 1e-9


def test_geocentric_coordinates_of_the_axes_and_a_pole():
    x, y, z = geocentric([0.0, 90.0, 0.0], [0.0, 0.0, 90.0])
    # a on the equator; b = a (1 - f) at the pole
    np.testing.assert_allclose(x, [6378137.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(y, [0.0, 6378137.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(z, [0.0, 0.0, 6356752.314245179], atol=1e-6)


def test_geocentric_coordinates_given_are_the_ones_computed():
    """Ends whose geocentric coordinates are given (made once a venue) measure the same,
    bit for bit, past the series limit too (GeographicLib takes the lon/lat there)."""
    rng = np.random.default_rng(11)
    lon1, lat1 = rng.uniform(-180, 180, 10_000), rng.uniform(-89, 89, 10_000)
    lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(0, 360, 10_000), rng.uniform(0, 3e4, 10_000))
    computed = geodesic_distance(lon1, lat1, lon2, lat2)
    given = geodesic_distance(
        lon1,
        lat1,
        lon2,
        lat2,
        geocentric1=np.array(geocentric(lon1, lat1)),
        geocentric2=np.array(geocentric(lon2, lat2)),
    )
    assert np.array_equal(given, computed)
    assert (computed > SHORT_CHORD_M).any()
    # one side given is one side not computed: the other side still is
    xyz = np.array(geocentric(lon2, lat2))
    assert np.array_equal(geodesic_distance(lon1, lat1, lon2, lat2, geocentric2=xyz), computed)
    # they are used: other coordinates give other lengths
    moved = geodesic_distance(lon1, lat1, lon2, lat2, geocentric2=xyz + 1.0)
    assert not np.array_equal(moved[computed <= SHORT_CHORD_M], computed[computed <= SHORT_CHORD_M])


def test_band_projection_is_centred_on_its_band():
    band = int(band_of(113.85))
    assert -180 + band * 0.5 <= 113.85 < -180 + (band + 1) * 0.5
    # the central meridian 113.75 maps to x = 0; the scale there is 1
    x, _ = pyproj.Transformer.from_crs(4326, band_crs(band), always_xy=True).transform(
        113.75, 34.05
    )
    assert x == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("lat", [0.0, 23.5, 40.0, 53.5, 70.0])
def test_band_projection_series_agrees_with_exact_transverse_mercator(lat):
    # the band's Evenden-Snyder series against PROJ's exact (Poder/Engsager) algorithm, over
    # 0.6 degrees either side of the central meridian: 5 nm at most, both ways
    band = int(band_of(113.85))
    series = pyproj.Transformer.from_crs(4326, band_crs(band), always_xy=True)
    assert "approx" in series.definition
    exact = pyproj.Transformer.from_pipeline(
        "+proj=tmerc +lat_0=0 +lon_0=113.75 +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
    )
    rng = np.random.default_rng(7)
    lon, lat_ = 113.75 + rng.uniform(-0.6, 0.6, 20_000), lat + rng.uniform(-1, 1, 20_000)
    (x1, y1), (x2, y2) = series.transform(lon, lat_), exact.transform(lon, lat_)
    assert np.hypot(x1 - x2, y1 - y2).max() < 5e-9
    back_lon, back_lat = series.transform(x1, y1, direction="INVERSE")
    # 1e-12 degree is 0.1 micrometre
    assert np.abs(back_lon - lon).max() < 1e-12
    assert np.abs(back_lat - lat_).max() < 1e-12


def test_degrees_margin_over_covers_at_every_latitude():
    for lat in (0.0, 34.05, 60.0, 83.9, -79.9):
        bounds = np.array([[113.85, lat, 113.851, lat]])
        dlon, dlat = degrees_margin(200.0, bounds)
        # the box edge lies farther than 200 m from the school box on the ellipsoid
        assert geodesic_distance(113.851, lat, 113.851 + dlon[0], lat) > 200.0
        assert geodesic_distance(113.85, lat, 113.85, lat + dlat[0]) > 200.0
        assert geodesic_distance(113.851, lat, 113.851 + dlon[0], lat) < 260.0


def test_nearest_on_segments_equals_geos_shortest_line():
    rng = np.random.default_rng(3)
    outer = [(0, 0), (100, 0), (100, 80), (0, 80)]
    hole = [(30, 30), (60, 30), (60, 50), (30, 50)]
    geoms = np.array(
        [
            Polygon(outer, [hole]),
            shapely.MultiPolygon([Polygon(outer), Polygon([(200, 0), (220, 0), (220, 20)])]),
            LineString([(0, 0), (50, 50), (100, 0)]),
            shapely.MultiPoint([(0, 0), (40, 90)]),
            Point(10, 10),
        ],
        dtype=object,
    )
    offsets, segments = outline_segments(geoms)
    assert offsets.tolist()[:2] == [0, 8]  # 4 outer + 4 hole segments
    owner = rng.integers(0, len(geoms), 500)
    x, y = rng.uniform(-50, 250, 500), rng.uniform(-50, 150, 500)
    # tiny chunks exercise the chunking
    qx, qy, vertex = nearest_on_segments(x, y, owner, offsets, segments, max_rows=7)
    boundary = [g.boundary if g.geom_type.endswith("Polygon") else g for g in geoms]
    expected = shapely.get_coordinates(
        shapely.shortest_line(np.array(boundary, dtype=object)[owner], shapely.points(x, y))
    )[::2]
    assert np.abs(qx - expected[:, 0]).max() < 1e-9
    assert np.abs(qy - expected[:, 1]).max() < 1e-9
    # a nearest point at an end of a segment names that end, exactly; others name none
    ends = segments.reshape(-1, 2)
    at_end = vertex >= 0
    assert 0 < at_end.sum() < len(vertex)
    assert (ends[vertex[at_end]] == np.column_stack([qx, qy])[at_end]).all()
    inner = ~at_end
    dist_to_ends = np.hypot(
        qx[inner, None] - ends[None, :, 0], qy[inner, None] - ends[None, :, 1]
    ).min(axis=1)
    assert (dist_to_ends > 0).all()
    # the ends of the outline's segments: their own vertices, the points' own coordinates
    assert (vertex[at_end] // 2 >= offsets[owner[at_end]]).all()
    assert (vertex[at_end] // 2 < offsets[owner[at_end] + 1]).all()
    # along=True also says on which segment and where along it: the same points again
    again = nearest_on_segments(x, y, owner, offsets, segments, max_rows=7, along=True)
    for mine, theirs in zip(again[:3], (qx, qy, vertex), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    segment, t = again[3], again[4]
    assert ((segment >= offsets[owner]) & (segment < offsets[owner + 1])).all()
    assert ((t >= 0.0) & (t <= 1.0)).all()
    a, b = segments[segment, :2], segments[segment, 2:]
    np.testing.assert_allclose(a + t[:, None] * (b - a), np.column_stack([qx, qy]), atol=1e-9)
    assert ((vertex[inner] == -1) & (t[inner] > 0) & (t[inner] < 1)).all()


def test_nearest_on_segments_grids_pad_with_the_last_segment_never_the_next_geometry():
    """Each geometry is a row of the grid of its width, padded with its own last segment:
    the next geometry's segments are never measured; grids made once give the same points."""
    # two 5-segment lines (grids 8 wide) around a line nearer to many of the points
    zigzag = LineString([(0, 0), (10, 5), (20, 0), (30, 5), (40, 0), (50, 5)])
    geoms = np.array(
        [zigzag, LineString([(0, 100), (50, 100)]), shapely.affinity.translate(zigzag, 0, 200)],
        dtype=object,
    )
    offsets, segments = outline_segments(geoms)
    assert np.diff(offsets).tolist() == [5, 1, 5]
    grids = segment_grids(offsets, segments)
    assert grids.bucket.tolist() == [3, 0, 3]
    assert grids.row.tolist() == [0, 0, 1]
    assert {e: g.shape for e, g in grids.grids.items()} == {0: (5, 1, 1), 3: (5, 2, 8)}
    # x1 of the first zigzag's row: its five segments, then its last one again
    assert grids.grids[3][0, 0].tolist() == [0, 10, 20, 30, 40, 40, 40, 40]
    rng = np.random.default_rng(5)
    owner = np.repeat([0, 2], 200)
    x = rng.uniform(-10, 60, 400)
    y = np.where(owner == 0, rng.uniform(20, 90, 400), rng.uniform(220, 290, 400))
    got = nearest_on_segments(x, y, owner, offsets, segments, grids=grids, max_rows=24)
    made = nearest_on_segments(x, y, owner, offsets, segments)
    assert all(np.array_equal(a, b) for a, b in zip(got, made, strict=True))
    expected = shapely.get_coordinates(shapely.shortest_line(geoms[owner], shapely.points(x, y)))
    assert np.abs(got[0] - expected[::2, 0]).max() < 1e-9
    assert np.abs(got[1] - expected[::2, 1]).max() < 1e-9
    assert (got[1][owner == 0] <= 5.0).all()  # the zigzag's, never the line at y = 100
    # a nearest point at the last segment's far end names that end, not a padded copy
    assert (got[2][got[2] >= 0] // 2 < offsets[owner[got[2] >= 0] + 1]).all()


def test_measured_line_point_to_edge_on_equator():
    crs = band_crs(int(band_of(0.0)))
    school = gpd.GeoSeries(
        [Polygon([(-0.001, -0.001), (0.001, -0.001), (0.001, 0.001), (-0.001, 0.001)])], crs=4326
    )
    venue = gpd.GeoSeries([Point(0.001 + 150.0 / EQ_M_PER_DEG, 0.0)], crs=4326)
    lines, dist, ends = measured_lines(school.to_crs(crs).values, venue.to_crs(crs).values, crs)
    assert dist[0] == pytest.approx(150.0, abs=0.001)
    # the nearest point of the campus is (0.001, 0) on the east wall
    assert ends[0, 0] == pytest.approx(0.001, abs=1e-9)
    assert ends[0, 1] == pytest.approx(0.0, abs=1e-9)
    assert lines[0].geom_type == "LineString"


# README, "How distances are measured": "against brute-force geodesic truth the largest error in
# the tests is under 10 µm" (9.95e-6 m: the school point at 6 E on the equator to the line hazard,
# 28 km from its band's centre), asserted at that bound below
README_LARGEST_ERROR_M = 1e-5

# a battery from the equator to 84 N and 80 S, at UTM zone borders (6 E, 72 W, 180)
PLACES = [
    (113.85, 34.05),
    (6.0, 0.0),
    (-72.000001, -45.0),
    (179.7, -79.9),
    (12.0, 83.9),
    (-0.00001, 51.5),
]


@pytest.mark.parametrize(("lon", "lat"), PLACES)
def test_distances_match_geodesic_truth(lon, lat):
    """Polygon and point schools against point, line and polygon hazards, within 10 µm of the truth."""
    rng = np.random.default_rng(int(abs(lon * 1000)) + 7)
    lons, lats, _ = GEOD.fwd([lon] * 5, [lat] * 5, [20, 110, 200, 290, 20], [120, 80, 120, 80, 120])
    campus = Polygon(zip(lons, lats, strict=True))
    school_point = Point(lon, lat)
    hazards = []
    for _ in range(6):
        x, y, _ = GEOD.fwd(lon, lat, rng.uniform(0, 360), rng.uniform(150, 300))
        hazards.append(Point(x, y))
    x1, y1, _ = GEOD.fwd(lon, lat, 30, 260)
    x2, y2, _ = GEOD.fwd(lon, lat, 120, 230)
    hazards.append(LineString([(x1, y1), (x2, y2)]))
    px, py, _ = GEOD.fwd([x2] * 4, [y2] * 4, [0, 90, 180, 270], [40, 40, 40, 40])
    hazards.append(Polygon(zip(px, py, strict=True)))
    for school in (campus, school_point):
        crs = band_crs(int(band_of(lon)))
        a = gpd.GeoSeries([school] * len(hazards), crs=4326).to_crs(crs).values
        b = gpd.GeoSeries(hazards, crs=4326).to_crs(crs).values
        _, dist, _ = measured_lines(a, b, crs)
        truth = np.array([truth_distance(school, h) for h in hazards])
        assert np.abs(dist - truth).max() <= README_LARGEST_ERROR_M


def test_geodesic_buffer_reaches_the_distance_on_the_ellipsoid():
    zone = geodesic_buffer(gpd.GeoSeries([Point(113.85, 34.05)], crs=4326), 200.0).iloc[0]
    ring = np.asarray(zone.exterior.coords)
    d = geodesic_distance(
        np.full(len(ring), 113.85), np.full(len(ring), 34.05), ring[:, 0], ring[:, 1]
    )
    assert d.max() == pytest.approx(200.0, abs=0.005)
    assert d.min() > 199.97
    # the Web-Mercator mistake: a 200 "m" EPSG:3857 buffer at 34 N reaches only ~166 m
    merc = (
        gpd.GeoSeries([Point(113.85, 34.05)], crs=4326)
        .to_crs(3857)
        .buffer(200)
        .to_crs(4326)
        .iloc[0]
    )
    mring = np.asarray(merc.exterior.coords)
    md = geodesic_distance(
        np.full(len(mring), 113.85), np.full(len(mring), 34.05), mring[:, 0], mring[:, 1]
    )
    assert md.max() == pytest.approx(165.8, abs=0.5)


def test_buffer_never_in_degrees():
    zone = geodesic_buffer(gpd.GeoSeries([Point(12.0, 83.9)], crs=4326), 200.0).iloc[0]
    minx, miny, maxx, maxy = zone.bounds
    # at 83.9 N a degree of longitude is ~9.4 times shorter than one of latitude
    assert (maxx - minx) / (maxy - miny) == pytest.approx(1 / np.cos(np.radians(83.9)), rel=0.01)
    assert shapely.is_valid(zone)


# geodesy.py and README: "Within +-0.25 degrees of the central meridian its scale factor is 1 to
# within 1.2e-5 ... and a straight chord of up to 3 km stays within 1 mm of the geodesic between
# its ends, at any latitude", asserted at those bounds
README_SCALE_ERROR = 1.2e-5
README_CHORD_M = 1e-3


@pytest.mark.parametrize("lat", [-84.0, -60.0, -23.5, 0.0, 34.05, 60.0, 84.0])
def test_band_scale_error_is_within_the_claimed_bound(lat):
    band = int(band_of(113.85))
    centre = -180.0 + (band + 0.5) * BAND_WIDTH_DEG
    lons = centre + np.linspace(-0.25, 0.25, 101)
    factors = pyproj.Proj(band_crs(band)).get_factors(lons, np.full(len(lons), lat))
    error = np.maximum(
        np.abs(np.asarray(factors.meridional_scale) - 1),
        np.abs(np.asarray(factors.parallel_scale) - 1),
    )
    assert error.max() <= README_SCALE_ERROR
    if lat == 0.0:  # the largest error is at the band's edge on the equator: (0.25 deg)^2 / 2
        assert error.max() == pytest.approx(np.radians(0.25) ** 2 / 2, rel=0.01)


@pytest.mark.parametrize("lat", [0.0, 34.05, 60.0, 83.0])
def test_a_3_km_chord_stays_within_1_mm_of_its_geodesic(lat):
    band = int(band_of(113.85))
    crs = band_crs(band)
    centre = -180.0 + (band + 0.5) * BAND_WIDTH_DEG
    fwd = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    worst = 0.0
    # chords of 3 km in 8 directions, starting at the band's edge and its centre
    for lon0 in (centre - 0.2, centre, centre + 0.2):
        for azimuth in range(0, 360, 45):
            lon1, lat1, _ = GEOD.fwd(lon0, lat, azimuth, 3000.0)
            inner = np.array(GEOD.npts(lon0, lat, lon1, lat1, 99))
            x, y = fwd.transform(np.r_[lon0, inner[:, 0], lon1], np.r_[lat, inner[:, 1], lat1])
            chord = LineString([(x[0], y[0]), (x[-1], y[-1])])
            points = shapely.points(x[1:-1], y[1:-1])
            worst = max(worst, float(shapely.distance(points, chord).max()))
    assert worst <= README_CHORD_M


def test_a_polygon_edge_is_a_geodesic_not_a_straight_lon_lat_line():
    """A 3 km east-west edge at 34 N: its geodesic runs 11.9 cm north of the lon/lat line.

    screen() measures from the geodesic edge (to within 1 mm: the README's claim), so a
    venue 50 m north of the geodesic's middle is 50 m away; a straight lon/lat edge (as in
    the UTM or plate-carree joins of other tools) would put it 50.119 m away.
    """
    import pandas as pd

    from campus_geo.screen import screen

    geod = pyproj.Geod(ellps="WGS84")
    west, east, lat = 113.0, 113.03248, 34.0
    assert geod.inv(west, lat, east, lat)[2] == pytest.approx(3000.0, abs=1.0)
    (mid_lon, mid_lat), *_ = geod.npts(west, lat, east, lat, 1)
    sagitta = geod.inv(mid_lon, mid_lat, (west + east) / 2, lat)[2]
    assert mid_lat > lat
    assert sagitta == pytest.approx(0.1188, abs=0.0005)
    campus = Polygon([(west, lat - 0.01), (east, lat - 0.01), (east, lat), (west, lat)])
    venue_lon, venue_lat, _ = geod.fwd(mid_lon, mid_lat, 0.0, 50.0)
    schools = gpd.GeoDataFrame(
        {"name": ["长边小学"], "kind": ["primary"], "township": [""], "village": [""]},
        geometry=[campus],
        index=pd.Index(["s"], name="school_id"),
        crs=4326,
    )
    venues = gpd.GeoDataFrame(
        {"name": ["网吧"], "category": ["internet_cafe"]},
        geometry=[Point(venue_lon, venue_lat)],
        index=pd.Index(["v"], name="hazard_id"),
        crs=4326,
    )
    distance = float(screen(schools, venues)["distance_m"].iloc[0])
    assert distance == pytest.approx(50.0, abs=0.001)
    assert distance + sagitta == pytest.approx(50.119, abs=0.001)  # the lon/lat edge's answer


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(-179.0, 179.0),
    lat=st.floats(-80.0, 80.0),
    size_m=st.floats(5.0, 2500.0),
    seed=st.integers(0, 2**16),
)
def test_points_along_a_bowed_segment_are_within_its_tolerance_of_projecting_back(
    lon, lat, size_m, seed
):
    # a point inside a school's segment (the nearest to a venue) is placed by the segment's
    # bow, a parabola through its ends and middle, instead of projected back to lon/lat:
    # within BOW_TOLERANCE_M (0.1 um, checked at a quarter and three quarters of each
    # segment; the largest stray, near 0.21 and 0.79, a little more); a segment whose
    # parabola strays more (long ones, at high latitudes) is left to projecting back
    rng = np.random.default_rng(seed)
    deg = size_m / 111_000.0
    corners = np.column_stack(
        [lon + rng.uniform(-deg, deg, 4) / np.cos(np.radians(lat)), lat + rng.uniform(-deg, deg, 4)]
    )
    outline = shapely.convex_hull(shapely.multipoints(corners))
    if outline.geom_type != "Polygon":
        return
    src = pairs.project_sources(
        np.array([outline], dtype=object),
        pairs.school_bands(gpd.GeoDataFrame(geometry=[outline], crs=4326)),
    )
    segment = np.repeat(np.arange(len(src.segments)), 40)
    t = rng.uniform(0.0, 1.0, len(segment))
    lonlat, xyz, unbowed = pairs.along_segments(src, segment, t)
    plane = src.segments[segment]
    x, y = plane[:, :2].T + t * (plane[:, 2:] - plane[:, :2]).T
    back_lon, back_lat = pairs.band_transformers(int(src.bands[0]))[1].transform(x, y)
    bowed = ~np.isnan(lonlat[:, 0])
    np.testing.assert_array_equal(np.flatnonzero(~bowed), unbowed)
    assert np.isnan(xyz[:, ~bowed]).all()
    if bowed.any():
        moved = geodesic_distance(
            lonlat[bowed, 0], lonlat[bowed, 1], back_lon[bowed], back_lat[bowed]
        )
        assert moved.max() < 2 * pairs.BOW_TOLERANCE_M
        exact = np.array(geocentric(back_lon[bowed], back_lat[bowed]))
        assert np.sqrt(((xyz[:, bowed] - exact) ** 2).sum(axis=0)).max() < 2 * pairs.BOW_TOLERANCE_M
    # a segment under 200 m is always bowed below 80 degrees
    short = np.hypot(*(plane[:, 2:] - plane[:, :2]).T) < 200.0
    assert bowed[short].all()


def test_segments_bowed_at_34_n_and_those_left_to_projecting_back():
    # 100 m to 1.5 km squares at 34 N: the parabola of a 1.5 km edge strays ~1.4 um there
    outlines = np.array(
        [shapely.box(113.0, 34.0, 113.0 + d, 34.0 + d) for d in (0.001, 0.005, 0.0135)],
        dtype=object,
    )
    src = pairs.project_sources(outlines, np.full(3, int(band_of(113.0))))
    length = np.hypot(*(src.segments[:, 2:] - src.segments[:, :2]).T)
    bowed = ~np.isnan(src.bows[0])
    assert bowed[length < 600].all()
    assert not bowed[length > 1200].any()
