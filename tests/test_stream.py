"""campus_geo.stream (GeoParquet in and out, block by block) against screen(), and its index."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner
from conftest import GEOD
from shapely.geometry import Point, Polygon
from test_scale import assert_same, clustered_layers, flat

from campus_geo import demo, layers
from campus_geo import screen as screen_module
from campus_geo._errors import InputDataError
from campus_geo.cli import cli
from campus_geo.engine import columns
from campus_geo.engine import pairs as pairs_module
from campus_geo.engine import pointindex as _pointindex
from campus_geo.engine.pointindex import PointIndex
from campus_geo.geodesy import band_of, band_transformers
from campus_geo.rules import default_categories
from campus_geo.scale import stream
from campus_geo.screen import screen


@pytest.fixture(scope="module")
def district():
    return layers.layers_from_osm(demo.DEMO_DIR / "district.osm")


@pytest.fixture
def small_blocks(monkeypatch):
    # blocks of ~100 candidate pairs: dozens of part files even on the demo
    # (the stream's blocks are cut by engine.pairs.planned_blocks, as screen()'s)
    monkeypatch.setattr(pairs_module, "CHUNK_PAIRS", 97)


def read_back(path):
    return gpd.read_parquet(path)


def one_school():
    """A round campus of about 100 m radius at (114, 34)."""
    return gpd.GeoDataFrame(
        {"name": ["一小"], "kind": ["primary"]},
        geometry=[Point(114.0, 34.0).buffer(0.001)],
        index=pd.Index(["s1"], name="school_id"),
        crs=4326,
    )


# ----------------------------------------------------------------------------- the index


@pytest.mark.parametrize("block", [1 << 18, 999])  # built in one step or in many
def test_point_index_finds_exactly_the_points_in_each_box_edges_included(block, monkeypatch):
    monkeypatch.setattr(_pointindex, "_BLOCK", block)
    rng = np.random.default_rng(3)
    n = 20_000
    # coordinates on a 0.001-degree lattice: many points lie exactly on box edges and rows
    lon = rng.integers(113_000, 114_000, n) / 1000.0
    lat = rng.integers(34_000, 35_000, n) / 1000.0
    lon[::97] = np.nan  # not points (polygons): never returned
    index = PointIndex(lon, lat)
    x = rng.integers(112_900, 114_100, (400, 2)) / 1000.0
    y = rng.integers(33_900, 35_100, (400, 2)) / 1000.0
    boxes = np.column_stack([x.min(1), y.min(1), x.max(1), y.max(1)])
    boxes[:100, 2] = boxes[:100, 0] + 0.003  # small boxes like a school's
    boxes[:100, 3] = boxes[:100, 1] + 0.003
    boxes[100] = [120.0, 40.0, 121.0, 41.0]  # outside all points
    box, point = index.query(boxes)
    assert (np.diff(box) >= 0).all()
    expected = set()
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        inside = np.flatnonzero((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        expected |= {(i, int(j)) for j in inside}
    assert set(zip(box.tolist(), point.tolist(), strict=True)) == expected
    assert len(box) == len(expected)  # nothing twice
    assert not (box == 100).any()
    counts = index.count(boxes)
    assert (counts >= np.bincount(box, minlength=len(boxes))).all()
    # renumbered: the same hits, numbered in index order, with their coordinates in that order
    box_r, pos = index.renumbered().query(boxes)
    assert (box_r == box).all()
    assert (index.order[pos] == point).all()
    assert (index.sorted_xy[pos] == np.column_stack([lon, lat])[point]).all()


def test_point_index_of_no_points_finds_nothing():
    index = PointIndex(np.array([np.nan]), np.array([np.nan]))
    box, point = index.query(np.array([[0.0, 0.0, 1.0, 1.0]]))
    assert len(index) == 0
    assert len(box) == len(point) == 0


# ----------------------------------------------------------------------------- same findings


def test_demo_district_in_memory_layers_gives_screens_findings(district, tmp_path, small_blocks):
    # context=True: the water and traffic rules too (two profiles, 500 m)
    expected = screen(
        district.schools, district.hazards, entrances=district.entrances, context=True
    )
    count = stream.screen_to_parquet(
        district.schools,
        district.hazards,
        tmp_path / "findings.parquet",
        entrances=district.entrances,
        workers=2,
        context=True,
    )
    assert count == len(expected) == 317
    parts = sorted((tmp_path / "findings.parquet").glob("part.*.parquet"))
    assert len(parts) >= 5
    assert_same(read_back(tmp_path / "findings.parquet"), flat(expected))
    # the rule texts are stored once per part (dictionary pages) and read back as text
    schema = pq.read_schema(parts[0])
    assert schema.field("rule_id").type in (pa.string(), pa.large_string())
    # also those whose texts repeat (rules naming the same units, schools of one township),
    # which pyarrow writes as plain strings when a dictionary repeats a value
    for part in parts:
        group = pq.ParquetFile(part).metadata.row_group(0)
        encodings = {
            group.column(i).path_in_schema: group.column(i).encodings
            for i in range(group.num_columns)
        }
        assert all("RLE_DICTIONARY" in encodings[name] for name in stream._DICTIONARY_COLUMNS)
        # nothing compressed: snappy cost 16 % more writing for files 12 % smaller
        codecs = {group.column(i).compression for i in range(group.num_columns)}
        assert codecs == {"UNCOMPRESSED"}
        # every column required (no definition levels written): a finding has every value
        columns = pq.ParquetFile(part).schema
        assert [columns.column(i).max_definition_level for i in range(len(columns))] == [0] * 24
        # statistics where a filter can skip parts only: a part holds a run of schools
        stats = {name for name in encodings if group.column(columns.names.index(name)).is_stats_set}
        assert stats == {"school_id"}
    # a part holds a run of the schools' rows, and the demo's ids sort as its rows: a
    # filter on one school skips every part but those holding its findings
    assert district.schools.index.is_monotonic_increasing
    fragments = list(ds.dataset(tmp_path / "findings.parquet", format="parquet").get_fragments())
    for school in expected["school_id"].unique()[:5]:
        kept = [
            f.path
            for f in fragments
            if f.subset(filter=ds.field("school_id") == school).num_row_groups
        ]
        holding = [
            f.path
            for f in fragments
            if school in f.to_table(columns=["school_id"]).column(0).to_pylist()
        ]
        assert kept == holding
        assert len(kept) < len(fragments)


def test_demo_district_from_geoparquet_files_gives_screens_findings(
    district, tmp_path, small_blocks
):
    district.schools.to_parquet(tmp_path / "schools.parquet")
    district.hazards.to_parquet(tmp_path / "hazards.parquet")
    # polygons and lines among the points: parsed by shapely, points read from their bytes
    assert set(district.hazards.geom_type) > {"Point"}
    expected = screen(district.schools, district.hazards)
    count = stream.screen_to_parquet(
        tmp_path / "schools.parquet", tmp_path / "hazards.parquet", tmp_path / "out", workers=2
    )
    assert count == len(expected)
    assert_same(read_back(tmp_path / "out"), flat(expected))


def test_many_row_groups_and_dictionary_categories_read_alike(district, tmp_path, monkeypatch):
    """A file of many small row groups is read group by group, its categories
    dictionary-encoded, whatever order their dictionary has; the findings are screen()'s."""
    monkeypatch.setattr(columns, "_BATCH_ROWS", 16)
    hazards = district.hazards.copy()
    hazards["name"] = hazards["name"].astype(object)
    hazards.iloc[::3, hazards.columns.get_loc("name")] = None  # no name: "" as screen() says
    order = sorted(set(hazards["category"]), reverse=True)  # codes unlike CATEGORIES'
    hazards["category"] = pd.Categorical(hazards["category"], categories=order)
    hazards.to_parquet(tmp_path / "h.parquet", row_group_size=16)
    assert pq.ParquetFile(tmp_path / "h.parquet").metadata.num_row_groups > 8
    read = pq.read_table(tmp_path / "h.parquet", columns=["category"]).column(0)
    assert pa.types.is_dictionary(read.type)
    expected = screen(district.schools, hazards.assign(category=district.hazards["category"]))
    assert (expected["hazard_name"] == "").any()
    count = stream.screen_to_parquet(district.schools, tmp_path / "h.parquet", tmp_path / "out")
    assert count == len(expected)
    got = read_back(tmp_path / "out")
    assert_same(got, flat(expected))
    assert (got["hazard_name"] == expected["hazard_name"]).all()
    # plain text categories, one row group per batch of 16 rows: the same
    hazards.assign(category=district.hazards["category"]).to_parquet(
        tmp_path / "t.parquet", row_group_size=16
    )
    stream.screen_to_parquet(district.schools, tmp_path / "t.parquet", tmp_path / "out_t")
    assert_same(read_back(tmp_path / "out_t"), flat(expected))


def test_unknown_and_missing_categories_in_later_row_groups_are_named(tmp_path, monkeypatch):
    monkeypatch.setattr(columns, "_BATCH_ROWS", 2)
    schools = one_school()
    hazards = gpd.GeoDataFrame(
        {"category": ["lottery", "lottery", "lottery", None, "bar"]},
        geometry=[Point(114.0, 34.0 + i / 1000) for i in range(5)],
        index=pd.Index([f"h{i}" for i in range(5)], name="hazard_id"),
        crs=4326,
    )
    hazards.to_parquet(tmp_path / "h.parquet", row_group_size=2)
    with pytest.raises(InputDataError) as err:
        stream.screen_to_parquet(schools, tmp_path / "h.parquet", tmp_path / "out")
    assert "unknown category value(s) None, bar in rows h3, h4" in str(err.value)
    hazards["category"] = pd.Categorical(hazards["category"])
    hazards.to_parquet(tmp_path / "d.parquet", row_group_size=2)
    with pytest.raises(InputDataError) as err:
        stream.screen_to_parquet(schools, tmp_path / "d.parquet", tmp_path / "out")
    assert "unknown category value(s) None, bar in rows h3, h4" in str(err.value)


def test_generated_set_near_the_threshold_matches_screen(tmp_path, small_blocks):
    schools, hazards = clustered_layers()
    schools.to_parquet(tmp_path / "schools.parquet")
    hazards.to_parquet(tmp_path / "hazards.parquet")
    expected = screen(schools, hazards, dist=200.0)
    stream.screen_to_parquet(
        tmp_path / "schools.parquet",
        tmp_path / "hazards.parquet",
        tmp_path / "out",
        dist=200.0,
        workers=1,
    )
    got = read_back(tmp_path / "out")
    assert_same(got, flat(expected))
    # the venues 199.99 m from a wall are found, those at 200.01 m are not
    near = got[got["distance_m"] > 199.9]
    assert len(near) >= 60
    assert near["distance_m"].max() == pytest.approx(199.99, abs=1e-4)


def test_measured_lines_are_the_wkb_shapely_writes():
    rng = np.random.default_rng(1)
    ends = np.column_stack([rng.uniform(100, 120, 50), rng.uniform(20, 40, 50)] * 2)
    lines = shapely.linestrings(ends.reshape(-1, 2, 2))
    assert stream.wkb_lines(ends).to_pylist() == list(shapely.to_wkb(lines))


def test_points_in_any_wkb_flavour_and_other_crs_are_read(district, tmp_path):
    """Big-endian and 3D points go through shapely; a projected file is brought to lon/lat."""
    hazards = district.hazards[district.hazards.geom_type == "Point"].copy()
    expected = screen(district.schools, hazards)
    odd = hazards.copy()
    xy = shapely.get_coordinates(odd.geometry.values)
    odd.geometry = shapely.points(xy[:, 0], xy[:, 1], np.zeros(len(xy)))  # 3D: 29 bytes
    odd.to_parquet(tmp_path / "z.parquet")
    stream.screen_to_parquet(district.schools, tmp_path / "z.parquet", tmp_path / "out_z")
    got = read_back(tmp_path / "out_z")
    pd.testing.assert_series_equal(got["distance_m"], expected["distance_m"], check_exact=True)
    big = pa.table(
        {
            "hazard_id": pa.array(hazards.index.to_numpy(dtype=str)),
            "category": pa.array(hazards["category"].to_numpy(dtype=str)),
            "geometry": pa.array(shapely.to_wkb(hazards.geometry.values, byte_order=0)),
        }
    )
    meta = pq.read_schema(tmp_path / "z.parquet").metadata
    pq.write_table(big.replace_schema_metadata({b"geo": meta[b"geo"]}), tmp_path / "be.parquet")
    stream.screen_to_parquet(district.schools, tmp_path / "be.parquet", tmp_path / "out_be")
    got = read_back(tmp_path / "out_be")
    assert list(got.index) == list(expected.index)
    assert (got["distance_m"].to_numpy() == expected["distance_m"].to_numpy()).all()
    # the same venues stored in Web Mercator: read in, brought to lon/lat, measured alike
    hazards.to_crs(3857).to_parquet(tmp_path / "merc.parquet")
    stream.screen_to_parquet(district.schools, tmp_path / "merc.parquet", tmp_path / "out_m")
    got = read_back(tmp_path / "out_m")
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got["distance_m"], expected["distance_m"], atol=1e-6)


def test_polygons_in_a_projected_file_and_a_file_without_crs_key(district, tmp_path):
    """Sites and water areas stored in EPSG:3857 are brought to lon/lat like the points;
    a GeoParquet file whose metadata has no "crs" key is lon/lat (OGC:CRS84, the spec)."""
    expected = screen(district.schools, district.hazards)
    district.hazards.to_crs(3857).to_parquet(tmp_path / "merc.parquet")
    stream.screen_to_parquet(district.schools, tmp_path / "merc.parquet", tmp_path / "out_m")
    got = read_back(tmp_path / "out_m")
    assert set(district.hazards.loc[got["hazard_id"]].geom_type) > {"Point"}
    assert list(got.index) == list(expected.index)
    np.testing.assert_allclose(got["distance_m"], expected["distance_m"], rtol=0, atol=1e-6)
    district.hazards.to_parquet(tmp_path / "lonlat.parquet")
    table = pq.read_table(tmp_path / "lonlat.parquet")
    geo = json.loads(table.schema.metadata[b"geo"])
    del geo["columns"]["geometry"]["crs"]
    meta = {**table.schema.metadata, b"geo": json.dumps(geo).encode()}
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "nokey.parquet")
    stream.screen_to_parquet(district.schools, tmp_path / "nokey.parquet", tmp_path / "out_k")
    assert_same(read_back(tmp_path / "out_k"), flat(expected))


def test_an_invalid_polygon_is_reported_with_its_id(district, tmp_path):
    hazards = district.hazards.copy()
    bowtie = Polygon([(114.0, 34.0), (114.01, 34.01), (114.01, 34.0), (114.0, 34.01)])
    hazards.loc[hazards.index[0], "geometry"] = bowtie
    hazards.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(InputDataError, match=rf"invalid polygons \(hazard_id: {hazards.index[0]} "):
        stream.screen_to_parquet(district.schools, tmp_path / "bad.parquet", tmp_path / "out")


def test_ties_go_by_input_order_though_the_hazards_are_stored_in_index_order(tmp_path):
    """Two venues exactly as far from a school, the northern one first in the input.

    The stream stores the hazards south to north, so the southern one comes first in
    its arrays; ties must still follow the input order, as in screen().
    """
    h = 2.0**-10  # the school straddles the equator: north and south mirror each other
    centre = 0.25  # the central meridian of the school's band
    school = gpd.GeoDataFrame(
        {"kind": ["primary"]},
        geometry=[shapely.box(centre - h, -h, centre + h, h)],
        index=pd.Index(["s1"], name="school_id"),
        crs=4326,
    )
    venues = gpd.GeoDataFrame(
        {"category": ["lottery", "lottery"]},
        geometry=[Point(centre, 2 * h), Point(centre, -2 * h)],
        index=pd.Index(["north", "south"], name="hazard_id"),
        crs=4326,
    )
    venues.to_parquet(tmp_path / "venues.parquet")
    expected = screen(school, venues, dist=200.0)
    assert expected["distance_m"].iloc[0] == expected["distance_m"].iloc[1]  # a true tie
    stream.screen_to_parquet(school, tmp_path / "venues.parquet", tmp_path / "out", dist=200.0)
    got = read_back(tmp_path / "out")
    assert list(got["hazard_id"]) == ["north", "south"]
    assert_same(got, flat(expected))


# ----------------------------------------------------------------------------- bad input


def test_bad_rows_are_reported_with_file_ids_and_fix(tmp_path):
    schools = one_school()
    hazards = gpd.GeoDataFrame(
        {"name": ["a", "b", "c", "d"], "category": ["internet_cafe", "casino", "lottery", "bar"]},
        geometry=[Point(114.0, 34.001), None, Point(), Point(114.0, 34.002)],
        index=pd.Index(["h1", "h2", "h3", "h1"], name="hazard_id"),
        crs=4326,
    )
    path = tmp_path / "bad.parquet"
    hazards.to_parquet(path)
    with pytest.raises(InputDataError) as err:
        stream.screen_to_parquet(schools, path, tmp_path / "out")
    message = str(err.value)
    assert message.startswith(f"3 problem(s) in `{path}`")
    assert f"{path} has duplicate hazard_id values: h1" in message
    assert "rows without geometry (hazard_id: h2, h3)" in message
    assert "unknown category value(s) bar, casino in rows h2, h1" in message
    assert "give every row an id" not in message
    assert not (tmp_path / "out").exists()


def test_equal_hashes_of_distinct_ids_are_not_duplicates(district, tmp_path, monkeypatch):
    """Two distinct ids with the same 64-bit hash (about one chance in a million at five
    million venues) are compared as text: not a duplicate, and the screening goes on."""
    district.hazards.to_parquet(tmp_path / "hazards.parquet")
    checked = columns._checked_hashes  # as if two of the ids' hashes were equal
    monkeypatch.setattr(columns, "_checked_hashes", lambda *args: (*checked(*args)[:2], True))
    stream.screen_to_parquet(district.schools, tmp_path / "hazards.parquet", tmp_path / "out")
    assert_same(read_back(tmp_path / "out"), flat(screen(district.schools, district.hazards)))


def test_equal_finding_ids_are_refused_and_nothing_is_left(district, tmp_path, monkeypatch):
    # as if two findings' 64-bit ids collided: the parts written are removed, not kept
    monkeypatch.setattr(pairs_module, "id_hash", lambda s, h, r: np.zeros(len(s), dtype=np.uint64))
    with pytest.raises(ValueError, match="two findings have the same 64-bit id"):
        stream.screen_to_parquet(district.schools, district.hazards, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


def test_a_file_without_crs_or_geo_metadata_is_refused(tmp_path):
    hazards = gpd.GeoDataFrame(
        {"category": ["lottery"]},
        geometry=[Point(114.0, 34.0)],
        index=pd.Index(["h1"], name="hazard_id"),
    )
    hazards.to_parquet(tmp_path / "nocrs.parquet")
    schools = gpd.GeoDataFrame(
        {"kind": ["primary"]},
        geometry=[Polygon([(114, 34), (114.001, 34), (114.001, 34.001)])],
        index=pd.Index(["s1"], name="school_id"),
        crs=4326,
    )
    with pytest.raises(InputDataError, match=r"nocrs.parquet has no CRS; call gdf.set_crs\(4326\)"):
        stream.screen_to_parquet(schools, tmp_path / "nocrs.parquet", tmp_path / "out")
    pq.write_table(pa.table({"hazard_id": ["h1"]}), tmp_path / "plain.parquet")
    with pytest.raises(InputDataError, match="is not GeoParquet"):
        stream.screen_to_parquet(schools, tmp_path / "plain.parquet", tmp_path / "out")


def test_walk_profile_is_refused_with_the_reason(district, tmp_path):
    with pytest.raises(InputDataError, match="the walk profile needs the street network"):
        stream.screen_to_parquet(
            district.schools, district.hazards, tmp_path / "out", profile="walk"
        )


def test_no_findings_still_reads_back(district, tmp_path, monkeypatch):
    far = district.hazards.iloc[:3].copy()
    far.geometry = [Point(100.0, 20.0 + i) for i in range(3)]
    collecting = []
    real = stream.prepare_setup
    monkeypatch.setattr(
        stream, "prepare_setup", lambda *a, **k: collecting.append(gc.isenabled()) or real(*a, **k)
    )
    assert stream.screen_to_parquet(district.schools, far, tmp_path / "out") == 0
    assert collecting == [False]  # the cyclic collector paused meanwhile, and back on after
    assert gc.isenabled()
    got = read_back(tmp_path / "out")
    assert len(got) == 0
    assert list(got.columns) == list(flat(screen(district.schools, district.hazards)).columns)


def test_cli_memory_engine_streams_geoparquet(district, tmp_path):
    district.schools.to_parquet(tmp_path / "schools.parquet")
    district.hazards.to_parquet(tmp_path / "hazards.parquet")
    out = tmp_path / "results"
    result = CliRunner().invoke(
        cli,
        [
            "screen",
            "--schools-parquet",
            str(tmp_path / "schools.parquet"),
            "--hazards-parquet",
            str(tmp_path / "hazards.parquet"),
            "--workers",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    expected = screen(district.schools, district.hazards)
    assert f"{len(expected)} findings at {expected['school_id'].nunique()} schools" in (
        result.output
    )
    assert_same(read_back(out / "findings.parquet"), flat(expected))


def test_planar_prefilter_never_drops_a_pair_within_the_distance():
    """A venue 199.9995 m away on the ellipsoid is in, one 200.0005 m away is out.

    The school is at the western edge of its band at the equator, the venues west of
    it: there the band projection stretches lengths most, and the 199.9995 m venue is
    more than 200 m away in the plane (asserted), so a pre-filter on the planar distance
    without the scale bound would drop it.
    """
    wall = 114.0005  # band 114.0-114.5 E, central meridian 114.25: 27.7 km east of the wall
    school = gpd.GeoDataFrame(
        {"kind": ["primary"]},
        geometry=[shapely.box(wall, 0.0, wall + 0.002, 0.002)],
        index=pd.Index(["s1"], name="school_id"),
        crs=4326,
    )
    lon, lat, _ = GEOD.fwd([wall, wall], [0.001, 0.001], [270.0, 270.0], [199.9995, 200.0005])
    forward, _ = band_transformers(int(band_of(wall + 0.001)))
    x, y = forward.transform([wall, lon[0]], [0.001, lat[0]])
    assert np.hypot(x[1] - x[0], y[1] - y[0]) > 200.001
    venues = gpd.GeoDataFrame(
        {"category": ["lottery", "lottery"]},
        geometry=shapely.points(lon, lat),
        index=pd.Index(["in", "out"], name="hazard_id"),
        crs=4326,
    )
    found = screen(school, venues, dist=200.0)
    assert list(found["hazard_id"]) == ["in"]
    assert found["distance_m"].iloc[0] == pytest.approx(199.9995, abs=1e-5)


# ----------------------------------------------------------------------------- screen() from files


def _counting(monkeypatch, module, name):
    """Count the calls of module.name (still called)."""
    calls = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_screen_of_geoparquet_paths_reads_columns_and_equals_screen_of_frames(
    district, tmp_path, small_blocks, monkeypatch
):
    """screen() given the files reads the venues as columns (no GeoDataFrame of them) and
    returns exactly the findings of screen() given the frames: ids, texts, distances,
    end points, lines, dtypes and order."""
    district.schools.to_parquet(tmp_path / "schools.parquet")
    district.hazards.to_parquet(tmp_path / "hazards.parquet")
    district.entrances.to_parquet(tmp_path / "entrances.parquet")
    expected = screen(
        district.schools, district.hazards, entrances=district.entrances, context=True, workers=2
    )
    read = _counting(monkeypatch, screen_module, "read_hazard_table")
    frames = _counting(monkeypatch, gpd, "read_parquet")
    got = screen(
        tmp_path / "schools.parquet",
        str(tmp_path / "hazards.parquet"),
        entrances=tmp_path / "entrances.parquet",
        context=True,
        workers=2,
    )
    assert len(read) == 1
    assert [Path(call[0]).stem for call in frames] == ["schools", "entrances"]  # not the venues
    assert len(got) == len(expected) == 317
    assert_same(got, expected)
    assert got["hazard_name"].dtype == "str"
    first = got.index[0]
    got.loc[first, "hazard_name"] = "新名称"  # the texts are the analyst's to edit
    assert got.loc[first, "hazard_name"] == "新名称"


def test_screen_of_a_file_keeps_input_order_for_ties(tmp_path):
    h = 2.0**-10  # as test_ties_go_by_input_order_though_the_hazards_are_stored_in_index_order
    school = gpd.GeoDataFrame(
        {"kind": ["primary"]},
        geometry=[shapely.box(0.25 - h, -h, 0.25 + h, h)],
        index=pd.Index(["s1"], name="school_id"),
        crs=4326,
    )
    venues = gpd.GeoDataFrame(
        {"category": ["lottery", "lottery"]},
        geometry=[Point(0.25, 2 * h), Point(0.25, -2 * h)],
        index=pd.Index(["north", "south"], name="hazard_id"),
        crs=4326,
    )
    venues.to_parquet(tmp_path / "venues.parquet")
    got = screen(school, tmp_path / "venues.parquet", dist=200.0)
    assert list(got["hazard_id"]) == ["north", "south"]
    assert got["distance_m"].iloc[0] == got["distance_m"].iloc[1]
    assert_same(got, screen(school, venues, dist=200.0))


def test_screen_of_a_file_walks_with_the_frame(district, tmp_path, monkeypatch):
    """The walk profile needs the hazards as a frame: the file is read with geopandas."""
    from campus_geo.network import walk_network_from_osm

    net = walk_network_from_osm(demo.DEMO_DIR / "district.osm")
    district.hazards.to_parquet(tmp_path / "hazards.parquet")
    read = _counting(monkeypatch, screen_module, "read_hazard_table")
    kwargs = {"entrances": district.entrances, "network": net, "profile": "walk"}
    got = screen(district.schools, tmp_path / "hazards.parquet", **kwargs)
    assert not read
    expected = screen(district.schools, district.hazards, **kwargs)
    assert len(got) == len(expected) > 0
    assert_same(got, expected)


def test_screen_of_a_file_with_more_categories_than_a_byte_reads_the_frame(
    district, tmp_path, monkeypatch
):
    """Category codes of a file read as columns are one byte: a registry of more categories
    than that reads the file with geopandas, with the same findings."""
    many = default_categories().with_keys(f"extra_{i}" for i in range(130))
    assert len(many.keys) > 127
    district.hazards.to_parquet(tmp_path / "hazards.parquet")
    read = _counting(monkeypatch, screen_module, "read_hazard_table")
    got = screen(district.schools, tmp_path / "hazards.parquet", categories=many)
    assert not read
    expected = screen(district.schools, district.hazards, categories=many)
    assert len(got) == len(expected) > 0
    assert_same(got, expected)


def test_screen_of_bad_files_names_the_file_rows_and_fix(tmp_path):
    schools = one_school()
    hazards = gpd.GeoDataFrame(
        {"name": ["a", "b"], "category": ["internet_cafe", "casino"]},
        geometry=[Point(114.0, 34.001), None],
        index=pd.Index(["h1", "h2"], name="hazard_id"),
        crs=4326,
    )
    path = tmp_path / "bad.parquet"
    hazards.to_parquet(path)
    with pytest.raises(InputDataError) as err:
        screen(schools, path)
    assert str(err.value).startswith(f"2 problem(s) in `{path}`")
    assert "rows without geometry (hazard_id: h2)" in str(err.value)
    assert "unknown category value(s) casino in rows h2" in str(err.value)
    hazards.iloc[:1].to_file(tmp_path / "venues.gpkg")
    with pytest.raises(
        InputDataError, match=r"venues\.gpkg is not GeoParquet.*geopandas\.read_file"
    ):
        screen(schools, tmp_path / "venues.gpkg")
    with pytest.raises(InputDataError, match=r"missing\.parquet does not exist; check the path"):
        screen(tmp_path / "missing.parquet", path)
    # a gates file is named in its problems too
    gates = gpd.GeoDataFrame(
        {"school_id": ["s1"]}, geometry=[Point(114.0, 34.0).buffer(1e-4)], crs=4326
    )
    gates.to_parquet(tmp_path / "gates.parquet")
    with pytest.raises(InputDataError, match=r"gates\.parquet` has non-point geometries"):
        screen(schools, hazards.iloc[:1], entrances=tmp_path / "gates.parquet")
