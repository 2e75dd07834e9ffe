"""The dask path (campus_geo.scale) against the in-memory path (campus_geo.screen)."""

from __future__ import annotations

import logging
import re

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import EQ_M_PER_DEG, GEOD
from distributed import Client, LocalCluster
from shapely.geometry import LineString, Point, Polygon

from campus_geo import demo, layers, scale
from campus_geo._errors import InputDataError
from campus_geo.cli import cli
from campus_geo.geodesy import degrees_margin, geodesic_distance
from campus_geo.scale import dask_engine
from campus_geo.scale.tasks import school_tiles
from campus_geo.screen import save_findings, screen

# dask's parquet engine calls pandas' deprecated ``inplace=`` (dask, not campus_geo)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


@pytest.fixture(scope="module")
def client():
    # threads, not processes: small and fast; the same code runs on worker processes
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def district():
    return layers.layers_from_osm(demo.DEMO_DIR / "district.osm")


def assert_same(got, expected):
    """Same index, columns, dtypes, values (exactly), order and measured lines."""
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.crs == expected.crs
    assert shapely.equals_exact(got.geometry.values, expected.geometry.values, tolerance=0).all()


def flat(findings):
    cats = [c for c in findings.columns if isinstance(findings[c].dtype, pd.CategoricalDtype)]
    return findings.astype(dict.fromkeys(cats, "str"))


# ----------------------------------------------------------------------------- the demo


def test_dask_equals_memory_on_the_demo_district(client, district, caplog):
    # context=True: the water and traffic rules too, so that two profiles and 500 m are tested
    expected = screen(
        district.schools, district.hazards, entrances=district.entrances, context=True
    )
    caplog.set_level(logging.INFO, logger="campus_geo.scale")
    got = scale.screen_dask(
        district.schools,
        district.hazards,
        entrances=district.entrances,
        context=True,
        scheduler=client,
        schools_per_partition=10,
        hazards_per_partition=150,
    )
    assert_same(got, expected)
    # the default rules: boundary at 200 m and 500 m (water), entrance at 100 m (traffic)
    assert set(got["profile"]) == {"boundary", "entrance"}
    assert len(got) == 317
    assert (
        "8 school partitions (23 reach boxes); 4 of 4 hazard partitions within reach (500 m)"
        in (caplog.text)
    )


def test_dask_parquet_in_and_out_equals_memory(client, district, tmp_path):
    district.schools.to_parquet(tmp_path / "schools.parquet")
    district.hazards.to_parquet(tmp_path / "hazards.parquet")
    expected = screen(district.schools, district.hazards, dist=150.0, context=True)
    out = tmp_path / "findings.parquet"
    count = scale.screen_dask_to_parquet(
        tmp_path / "schools.parquet",
        tmp_path / "hazards.parquet",
        out,
        dist=150.0,
        context=True,
        scheduler=client,
        schools_per_partition=16,
    )
    assert count == len(expected) == 389
    parts = sorted(p.name for p in out.iterdir())
    assert parts[0] == "part.00000.parquet"
    assert len(parts) == 5
    assert_same(gpd.read_parquet(out), flat(expected))


def test_spatially_partitioned_hazards_skip_what_no_school_reaches(
    client, district, tmp_path, caplog
):
    # far-away venues (1 degree east) end up in their own spatial partition
    far = district.hazards.iloc[:200].copy()
    far.index = "far/" + far.index
    far = far.set_geometry(far.geometry.translate(xoff=1.0))
    hazards = pd.concat([district.hazards, far])
    folder = scale.partition_layer(
        hazards, tmp_path / "hazards", id_name="hazard_id", rows_per_partition=100
    )
    stored = dask_geopandas.read_parquet(folder)
    assert stored.npartitions == 8
    assert stored.spatial_partitions is not None
    expected = screen(district.schools, scale.read_layer(folder, id_name="hazard_id"))
    caplog.set_level(logging.INFO, logger="campus_geo.scale")
    got = scale.screen_dask(district.schools, folder, scheduler=client)
    assert_same(got, expected)
    assert not got["hazard_id"].str.startswith("far/").any()
    # the partitions of far-away venues are never read
    routed, stored_parts = re.search(r"(\d+) of (\d+) hazard partitions", caplog.text).groups()
    assert int(stored_parts) == 8
    assert int(routed) < 8


# ----------------------------------------------------------------------------- partition edges


def equator_square(west: float, east: float, half: float = 0.001) -> Polygon:
    return Polygon([(west, -half), (east, -half), (east, half), (west, half)])


@pytest.fixture
def edge_layers():
    """Two schools on the equator, 150 m either side of lon 0, and venues on lon 0.

    Along the equator (a geodesic) the distance is a * delta lon, so a venue at
    (0, 0) is 150 m from both east and west walls.
    """
    d150 = 150.0 / EQ_M_PER_DEG
    schools = gpd.GeoDataFrame(
        {"name": ["西校", "东校"], "kind": ["primary", "middle"]},
        geometry=[equator_square(-d150 - 0.002, -d150), equator_square(d150, d150 + 0.002)],
        index=pd.Index(["west", "east"], name="school_id"),
        crs="EPSG:4326",
    )
    hazards = gpd.GeoDataFrame(
        {
            "name": ["界上网吧", "界北网吧", "西墙网吧", "远网吧"],
            "category": ["internet_cafe"] * 4,
        },
        geometry=[Point(0.0, 0.0), Point(0.0, 0.0005), Point(-d150, 0.0), Point(0.05, 0.0)],
        index=pd.Index(["on_boundary", "boundary_north", "on_west_wall", "far"], name="hazard_id"),
        crs="EPSG:4326",
    )
    return schools, hazards


def partitioned(gdf, sizes):
    """A dask-geopandas frame cut into consecutive partitions of the given sizes."""
    ends = np.cumsum(sizes)
    parts = [gdf.iloc[end - size : end] for size, end in zip(sizes, ends, strict=True)]
    ddf = dask_geopandas.from_geopandas(pd.concat(parts), npartitions=len(sizes), sort=False)
    assert [len(p) for p in ddf.partitions] == list(sizes)
    ddf.calculate_spatial_partitions()
    return ddf


def test_a_partition_boundary_at_a_venue_neither_loses_nor_duplicates_it(client, edge_layers):
    schools, hazards = edge_layers
    # school partitions: west | east; hazard partitions meet exactly at lon 0, where the
    # venues `on_boundary` (in the first) and `boundary_north` (in the second) stand
    ddf_schools = partitioned(schools, [1, 1])
    ddf_hazards = partitioned(hazards.iloc[[2, 0, 1, 3]], [2, 2])
    bounds = shapely.bounds(np.asarray(ddf_hazards.spatial_partitions.values))
    assert bounds[0][2] == 0.0  # first hazard partition ends at lon 0 ...
    assert bounds[1][0] == 0.0  # ... where the second begins
    got = scale.screen_dask(ddf_schools, ddf_hazards, scheduler=client)
    expected = screen(schools.iloc[[0, 1]], hazards.iloc[[2, 0, 1, 3]])
    assert_same(got, expected)
    pairs = got.groupby("hazard_id")["school_id"].apply(sorted).to_dict()
    assert pairs == {
        "on_boundary": ["east", "west"],
        "boundary_north": ["east", "west"],
        "on_west_wall": ["west"],
    }
    assert got.index.is_unique
    at_boundary = got[got["hazard_id"] == "on_boundary"].set_index("school_id")["distance_m"]
    assert at_boundary["west"] == pytest.approx(150.0, abs=1e-5)
    assert at_boundary["east"] == pytest.approx(150.0, abs=1e-5)
    # the venue on the west school's east wall lies on its partition's bounds (touching)
    assert got.set_index("hazard_id").loc["on_west_wall", "distance_m"] < 1e-5


def test_a_venue_exactly_on_a_reach_box_edge_is_routed(client, edge_layers):
    schools, hazards = edge_layers
    box = scale.reach_box(schools.iloc[[0]].total_bounds, 200.0)
    # venues on the corners and edges of the west partition's reach box, and a street
    # line whose bounds touch that box only at its east edge
    on_edges = [
        Point(box[0], box[1]),
        Point(box[2], box[3]),
        Point(box[2], 0.0),
        Point(0.5 * (box[0] + box[2]), box[3]),
    ]
    line = LineString([(box[2], 0.0), (box[2] + 0.01, 0.0)])
    extra = gpd.GeoDataFrame(
        {
            "name": [f"边{i}" for i in range(5)],
            "category": ["internet_cafe"] * 4 + ["dangerous_site"],
        },
        geometry=[*on_edges, line],
        index=pd.Index([f"edge{i}" for i in range(5)], name="hazard_id"),
        crs="EPSG:4326",
    )
    all_hazards = pd.concat([hazards, extra])
    # at 200 m every edge venue is a candidate of the west school (its box is the reach
    # box) and is farther than 200 m: found by neither path; at 5,000 m all are found
    for dist in (200.0, 5_000.0):
        got = scale.screen_dask(
            partitioned(schools, [1, 1]),
            partitioned(all_hazards, [3, 3, 3]),
            dist=dist,
            scheduler=client,
        )
        assert_same(got, screen(schools, all_hazards, dist=dist))
    assert set(got.loc[got["school_id"] == "west", "hazard_id"]) >= {f"edge{i}" for i in range(5)}


def clustered_layers(seed: int = 7):
    """Schools and venues around two towns, one on the 114 E band and UTM zone border.

    60 square schools; for each, venues 199.99 m and 200.01 m due east of the
    middle of its east wall (``Geod.fwd`` at azimuth 90: the geodesic leaves the
    wall at a right angle, so the wall's nearest point is where it starts), plus
    venues scattered around the towns and a river line crossing one town.
    """
    rng = np.random.default_rng(seed)
    towns = np.array([[114.0, 34.0], [113.62, 34.75]])
    n = 60
    centre = towns[rng.integers(0, 2, n)] + rng.normal(0.0, 0.02, (n, 2))
    half = rng.uniform(0.0004, 0.0012, n)
    squares = shapely.box(
        centre[:, 0] - half, centre[:, 1] - half, centre[:, 0] + half, centre[:, 1] + half
    )
    schools = gpd.GeoDataFrame(
        {"name": [f"学校{i}" for i in range(n)], "kind": rng.choice(["primary", "high"], n)},
        geometry=squares,
        index=pd.Index([f"s{i:03d}" for i in range(n)], name="school_id"),
        crs="EPSG:4326",
    )
    lon, lat, _ = GEOD.fwd(
        np.repeat(centre[:, 0] + half, 2),
        np.repeat(centre[:, 1], 2),
        np.full(2 * n, 90.0),
        np.tile([199.99, 200.01], n),
    )
    near = list(shapely.points(lon, lat))
    scattered = shapely.points(towns[rng.integers(0, 2, 400)] + rng.normal(0.0, 0.03, (400, 2)))
    river = LineString([(113.9, 34.0), (114.1, 34.01)])
    geoms = [*near, *scattered, river]
    hazards = gpd.GeoDataFrame(
        {
            "name": [f"场所{i}" for i in range(len(geoms))],
            "category": [*rng.choice(["internet_cafe", "lottery"], len(geoms) - 1), "water"],
        },
        geometry=geoms,
        index=pd.Index([f"h{i:04d}" for i in range(len(geoms))], name="hazard_id"),
        crs="EPSG:4326",
    )
    return schools, hazards


def test_dask_equals_memory_on_a_generated_set_with_hazards_on_partition_edges(client):
    schools, hazards = clustered_layers()
    # move venues onto the edges of the reach boxes by which hazards are routed to the
    # school partitions (white box: the module's own partitions and tiles, at 500 m)
    boxes = np.concatenate(
        [
            school_tiles(schools.iloc[rows], None, 500.0)
            for rows in dask_engine._hilbert_chunks(schools, 8)
        ]
    )
    assert len(boxes) > 8
    edge_points = [Point(b[2], 0.5 * (b[1] + b[3])) for b in boxes[:40]] + [
        Point(b[0], b[1]) for b in boxes[:40]
    ]
    moved = hazards.copy()
    moved.iloc[120 : 120 + len(edge_points), moved.columns.get_loc("geometry")] = edge_points
    moved = moved.set_geometry("geometry", crs="EPSG:4326")
    expected = screen(schools, moved, context=True)  # the river too (water: context)
    got = scale.screen_dask(
        schools,
        moved,
        scheduler=client,
        schools_per_partition=8,
        hazards_per_partition=97,
        context=True,
    )
    assert_same(got, expected)
    # each school's 199.99 m venue is found at that distance, its 200.01 m venue is not
    own = got[got["hazard_id"].isin(moved.index[:120])].set_index("hazard_id")
    own = own[own["school_id"] == schools.index[own.index.str[1:].astype(int) // 2]]
    assert list(own.index) == sorted(own.index)
    assert sorted(own.index) == list(moved.index[:120:2])
    assert np.abs(own["distance_m"] - 199.99).max() < 1e-5
    assert len(got) == 136
    # a venue found for schools of several partitions: once per school, never twice
    assert not got.duplicated(["school_id", "hazard_id", "rule_id"]).any()


def test_ties_in_distance_keep_the_in_memory_order(client):
    # four venues at the same distance from one school: the order falls back to input order
    h = 0.001
    schools = gpd.GeoDataFrame(
        {"name": ["赤道小学"], "kind": ["primary"]},
        geometry=[equator_square(-h, h)],
        index=pd.Index(["s1"], name="school_id"),
        crs="EPSG:4326",
    )
    d = 100.0 / EQ_M_PER_DEG
    pts = [Point(h + d, 0.0), Point(-h - d, 0.0), Point(0.0, 0.0), Point(h + d, 0.0)]
    hazards = gpd.GeoDataFrame(
        {"name": list("abcd"), "category": ["lottery"] * 4},
        geometry=pts,
        index=pd.Index(["v3", "v1", "v0", "v2"], name="hazard_id"),
        crs="EPSG:4326",
    )
    got = scale.screen_dask(schools, partitioned(hazards, [1, 1, 1, 1]), scheduler=client)
    assert_same(got, screen(schools, hazards))
    # v0 inside (0 m); v3 and v2 stand on the same point: an exact tie, in input order
    distance = got.set_index("hazard_id")["distance_m"]
    assert distance["v0"] == 0.0
    assert distance["v3"] == distance["v2"] == pytest.approx(100.0, abs=1e-5)
    assert list(got["hazard_id"]) == ["v0", "v3", "v2", "v1"]


def test_a_dask_frame_of_schools_without_spatial_partitions_is_shuffled(client, district):
    # three partitions in input order: spatial_shuffle cuts them anew along the curve,
    # and the findings still come in the order of the input rows
    schools = dask_geopandas.from_geopandas(district.schools, npartitions=3, sort=False)
    assert schools.spatial_partitions is None
    got = scale.screen_dask(
        schools, district.hazards, scheduler=client, dist=180.0, schools_per_partition=20
    )
    assert_same(got, screen(district.schools, district.hazards, dist=180.0))
    position = district.schools.index.get_indexer(got["school_id"])
    assert (np.diff(position) >= 0).all()


def _empty_second(part, partition_info=None):
    return part.iloc[:0] if partition_info and partition_info["number"] == 1 else part


def test_empty_partitions_are_skipped(client, district):
    schools = partitioned(district.schools, [26, 25, 25]).map_partitions(_empty_second)
    hazards = partitioned(district.hazards, [200, 200, 200]).map_partitions(_empty_second)
    schools.calculate_spatial_partitions()
    hazards.calculate_spatial_partitions()
    got = scale.screen_dask(schools, hazards, scheduler=client)
    expected = screen(
        district.schools.iloc[np.r_[0:26, 51:76]], district.hazards.iloc[np.r_[0:200, 400:600]]
    )
    assert_same(got, expected)
    assert len(got) == 50  # venues only: water, crossings and cameras are context


def test_default_local_cluster_of_worker_processes(equator_layers):
    # the default engine: a LocalCluster of worker processes (tasks and layers pickled);
    # the hazards in Web Mercator are converted like screen() converts them
    schools, hazards = equator_layers
    hazards = hazards.to_crs(3857)
    got = scale.screen_dask(schools, hazards, dist=250.0, n_workers=1)
    assert_same(got, screen(schools, hazards, dist=250.0))
    assert list(got["hazard_id"]) == ["in_150", "in_19999", "out_20002"]


# ----------------------------------------------------------------------------- errors


def test_duplicate_ids_across_parquet_parts_are_refused(client, district, tmp_path):
    folder = tmp_path / "hazards"
    folder.mkdir()
    district.hazards.iloc[:300].to_parquet(folder / "part.0.parquet")
    district.hazards.iloc[299:].to_parquet(folder / "part.1.parquet")
    duplicate = district.hazards.index[299]
    with pytest.raises(InputDataError, match=f"duplicate hazard_id values: {duplicate}"):
        scale.screen_dask(district.schools, folder, scheduler=client)


def test_bad_rows_in_a_partition_are_reported_by_the_partition(client, district, tmp_path):
    bad = district.hazards.copy()
    bad.loc[bad.index[5], "category"] = "casino"
    bad.to_parquet(tmp_path / "hazards.parquet")
    with pytest.raises(InputDataError, match=r"unknown category value\(s\) casino"):
        scale.screen_dask(district.schools, tmp_path / "hazards.parquet", scheduler=client)


def test_walk_profile_is_refused_with_the_reason(client, equator_layers):
    schools, hazards = equator_layers
    with pytest.raises(InputDataError, match="screen those rules in memory"):
        scale.screen_dask(schools, hazards, profile="walk", scheduler=client)


def test_unreachable_scheduler_is_an_input_error(equator_layers, monkeypatch):
    schools, hazards = equator_layers
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", "0.5s")
    with pytest.raises(
        InputDataError, match=re.escape("cannot reach the dask scheduler at 'tcp://127.0.0.1:9'")
    ):
        scale.screen_dask(schools, hazards, scheduler="tcp://127.0.0.1:9")


def test_reach_box_covers_the_distance_on_the_ellipsoid():
    # each edge of the box lies beyond 200 m on the ellipsoid from the bounds it grows
    bounds = np.array([113.85, 34.05, 113.86, 34.06])
    box = scale.reach_box(bounds, 200.0)
    dlon, dlat = degrees_margin(200.0, bounds)
    assert box == (113.85 - dlon[0], 34.05 - dlat[0], 113.86 + dlon[0], 34.06 + dlat[0])
    east = geodesic_distance(113.86, 34.06, box[2], 34.06)[()]
    south = geodesic_distance(113.85, 34.05, 113.85, box[1])[()]
    assert 200.0 < east < 210.0
    assert 200.0 < south < 202.0


# ----------------------------------------------------------------------------- CLI


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_cli_engine_dask_writes_the_same_findings(client, district, tmp_path):
    on_dask = tmp_path / "dask"
    result = run(
        *("-q", "screen", "--osm", demo.DEMO_DIR / "district.osm", "--dist", "120"),
        *("--no-evidence", "--out", on_dask),
        *("--engine", "dask", "--scheduler", client.scheduler.address),
    )
    assert result.exit_code == 0, result.output
    expected = screen(district.schools, district.hazards, dist=120.0)
    save_findings(expected, tmp_path / "memory")
    assert (on_dask / "findings.csv").read_bytes() == (
        tmp_path / "memory/findings.csv"
    ).read_bytes()
    assert_same(gpd.read_parquet(on_dask / "findings.parquet"), flat(expected))
    assert (on_dask / "map.html").exists()


def test_cli_geoparquet_in_and_out(client, district, tmp_path):
    district.schools.to_parquet(tmp_path / "schools.parquet")
    scale.partition_layer(
        district.hazards, tmp_path / "hazards", id_name="hazard_id", rows_per_partition=200
    )
    out = tmp_path / "out"
    result = run(
        "screen",
        "--engine",
        "dask",
        "--scheduler",
        client.scheduler.address,
        "--schools-parquet",
        tmp_path / "schools.parquet",
        "--hazards-parquet",
        tmp_path / "hazards",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    hazards = scale.read_layer(tmp_path / "hazards", id_name="hazard_id")
    expected = screen(district.schools, hazards)
    assert f": {len(expected)} findings at {expected['school_id'].nunique()} schools." in (
        result.output
    )
    assert_same(gpd.read_parquet(out / "findings.parquet"), flat(expected))
    assert sorted(p.name for p in out.iterdir()) == ["findings.parquet"]
    # the same files in memory give the same findings in one file
    result = run(
        "screen",
        "--schools-parquet",
        tmp_path / "schools.parquet",
        "--hazards-parquet",
        tmp_path / "hazards",
        "--out",
        tmp_path / "memory",
    )
    assert result.exit_code == 0, result.output
    assert_same(gpd.read_parquet(tmp_path / "memory" / "findings.parquet"), flat(expected))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler needs --engine dask"),
        (["--schools-parquet", "{tmp}/s.parquet"], "--schools-parquet and --hazards-parquet go"),
        (
            [
                *("--schools-parquet", "{tmp}/s.parquet", "--hazards-parquet", "{tmp}/s.parquet"),
                *("--osm", "{tmp}/s.parquet"),
            ],
            "cannot be combined with --osm",
        ),
    ],
)
def test_cli_engine_usage_errors_exit_2(tmp_path, equator_layers, args, message):
    equator_layers[0].to_parquet(tmp_path / "s.parquet")
    result = CliRunner().invoke(cli, ["screen", *(a.format(tmp=tmp_path) for a in args)])
    assert result.exit_code == 2
    assert message in result.output
