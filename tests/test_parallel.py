"""Finding ids computed in numpy, and the screening's chunks on several threads."""

from __future__ import annotations

import gc
import threading
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from campus_geo import screen as screen_mod
from campus_geo._errors import InputDataError
from campus_geo.engine import columns as columns_mod
from campus_geo.engine import findings as findings_mod
from campus_geo.engine import ids as ids_mod
from campus_geo.engine import pairs as pairs_mod
from campus_geo.engine import parallel as _parallel
from campus_geo.engine.ids import fnv1a64, hex_digits, id_hash, id_strings
from campus_geo.scale import stream as stream_mod
from campus_geo.screen import NOTE_INSIDE, finding_ids, screen
from campus_geo.settings import CATEGORIES

MASK = (1 << 64) - 1


def fnv_reference(text: str) -> int:
    """FNV-1a 64 as its authors publish it, one byte at a time in Python."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def fmix_reference(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK
    return h ^ (h >> 33)


def test_fnv1a64_matches_the_published_vectors_and_a_reference():
    # test vectors of the FNV authors' page (FNV-1a, 64 bit)
    assert fnv1a64([""])[0] == 0xCBF29CE484222325
    assert fnv1a64(["a"])[0] == 0xAF63DC4C8601EC8C
    assert fnv1a64(["foobar"])[0] == 0x85944171F73967E8
    # strings of mixed lengths and scripts, hashed together
    values = ["node/1", "way/226936163", "青禾区第一小学", "", "registry:91410100MA", "x" * 70]
    assert fnv1a64(values).tolist() == [fnv_reference(v) for v in values]
    assert fnv1a64(pd.Index(values, dtype="str")).tolist() == [fnv_reference(v) for v in values]


def test_fnv1a64_of_ids_of_one_length_and_of_a_slice():
    # ids of one length take another path (their bytes read as a grid): same hashes, also
    # for an Arrow array that starts inside its buffers
    values = ["v0000000", "v0000001", "青禾ab", "w9999999"]
    assert len({len(v.encode()) for v in values}) == 1
    assert fnv1a64(values).tolist() == [fnv_reference(v) for v in values]
    sliced = pa.array(["longer-first", *values], pa.large_string()).slice(1)
    assert fnv1a64(sliced).tolist() == [fnv_reference(v) for v in values]
    mixed = pa.array(["ab", "abc", "a", "abcd"], pa.string()).slice(1)
    assert fnv1a64(mixed).tolist() == [fnv_reference(v) for v in ["abc", "a", "abcd"]]
    # written into a slice of a caller's array (the stream hashes row group by row group)
    out = np.zeros(5, dtype=np.uint64)
    assert fnv1a64(mixed, out=out[1:4]).base is out
    assert out.tolist() == [0, *(fnv_reference(v) for v in ["abc", "a", "abcd"]), 0]


def test_finding_ids_are_the_documented_hash_chain():
    school, hazard, rule = "way/444227092", "node/5", "internet_cafe_200m"
    h = fmix_reference(fnv_reference(school))
    h = fmix_reference(h ^ fnv_reference(hazard))
    h = fmix_reference(h ^ fnv_reference(rule))
    assert finding_ids([school], [hazard], [rule]) == [f"{h:016x}"]
    # order matters: swapping school and hazard gives another id
    assert finding_ids([hazard], [school], [rule]) != [f"{h:016x}"]


def test_id_strings_formats_sixteen_hex_digits_and_refuses_collisions():
    values = np.array([0, 0x0123456789ABCDEF, MASK], dtype=np.uint64)
    assert list(id_strings(values)) == ["0000000000000000", "0123456789abcdef", "ffffffffffffffff"]
    # the digits made beforehand (on the worker threads) give the same strings
    digits = hex_digits(values)
    assert digits.shape == (3, 16)
    assert bytes(digits[1]) == b"0123456789abcdef"
    assert list(id_strings(values, digits=digits)) == list(id_strings(values))
    hashes = id_hash(*(fnv1a64(["s", "s"]), fnv1a64(["h", "h"]), fnv1a64(["r", "r"])))
    with pytest.raises(ValueError, match="same 64-bit id"):
        id_strings(hashes)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_duplicate_hashes_are_found_in_parts_sorted_on_threads(monkeypatch, threads):
    monkeypatch.setattr(ids_mod, "PARTS_FROM", 8)  # small arrays take the parted path too
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, np.iinfo(np.int64).max, 1000, dtype=np.int64).view(np.uint64) * 2
    hashes[::2] += np.uint64(1)  # over the whole 64 bits
    assert len(np.unique(hashes)) == 1000
    given = hashes.copy()
    assert not ids_mod.has_duplicates(hashes, threads=threads)
    np.testing.assert_array_equal(hashes, given)  # a copy was sorted
    ids_mod.check_unique_ids(hashes, threads=threads)
    own = hashes.copy()
    assert not ids_mod.has_duplicates(own, threads=threads, in_place=True)
    np.testing.assert_array_equal(own, np.sort(hashes))  # sorted in place
    for a, b in [(3, 998), (0, 1), (10, 12)]:  # equal hashes far apart, adjacent, in one part
        twin = hashes.copy()
        twin[b] = twin[a]
        assert ids_mod.has_duplicates(twin, threads=threads)
        assert ids_mod.has_duplicates(twin.copy(), threads=threads, in_place=True)
        with pytest.raises(ValueError, match="same 64-bit id"):
            ids_mod.check_unique_ids(twin, threads=threads)


def district(seed: int = 3) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """60 campuses across three 0.5-degree bands, 3,000 venues of every category near them.

    Some venues sit inside a campus (distance 0: ties broken by hazard position).
    """
    rng = np.random.default_rng(seed)
    n = 60
    lon = rng.uniform(113.2, 114.7, n)
    lat = rng.uniform(34.0, 34.6, n)
    half = rng.uniform(0.0005, 0.002, n)
    outlines = shapely.box(lon - half, lat - half * 0.8, lon + half, lat + half * 0.8)
    kinds = np.array(["primary", "middle", "kindergarten", "high"])[np.arange(n) % 4]
    schools = gpd.GeoDataFrame(
        {
            "name": [f"学校{i}" for i in range(n)],
            "kind": kinds,
            "township": [f"镇{i % 5}" for i in range(n)],
            "village": "",
        },
        geometry=outlines,
        index=pd.Index([f"s{i:03d}" for i in range(n)], name="school_id"),
        crs=4326,
    )
    entrances = gpd.GeoDataFrame(
        {"school_id": schools.index},
        geometry=shapely.points(lon, lat - half * 0.8),
        index=pd.Index([f"g{i:03d}" for i in range(n)], name="entrance_id"),
        crs=4326,
    )
    m = 3000
    near = rng.integers(0, n, m)
    spread = rng.uniform(0.0, 0.006, m)
    angle = rng.uniform(0, 2 * np.pi, m)
    vx = lon[near] + spread * np.cos(angle)
    vy = lat[near] + spread * np.sin(angle)
    vx[:30], vy[:30] = lon[:30], lat[:30]  # inside the campus
    categories = list(CATEGORIES[:7])  # internet_cafe ... vendor: the 200 m rules
    hazards = gpd.GeoDataFrame(
        {
            "name": [f"场所{i}" for i in range(m)],
            "category": np.array(categories)[np.arange(m) % len(categories)],
        },
        geometry=shapely.points(vx, vy),
        index=pd.Index([f"v{i:05d}" for i in range(m)], name="hazard_id"),
        crs=4326,
    )
    return schools, hazards, entrances


@pytest.mark.parametrize("profile", [None, "entrance"])
def test_chunks_on_worker_threads_give_the_same_findings(monkeypatch, profile):
    schools, hazards, entrances = district()
    whole = screen(schools, hazards, entrances=entrances, profile=profile, workers=1)
    assert len(whole) > 500
    threads: set[str] = set()
    real_measure = pairs_mod._Candidates.measure

    def recording(self, ctx, rows):
        threads.add(threading.current_thread().name)
        return real_measure(self, ctx, rows)

    monkeypatch.setattr(pairs_mod, "CHUNK_PAIRS", 97)  # dozens of chunks
    monkeypatch.setattr(pairs_mod._Candidates, "measure", recording)
    chunked = screen(schools, hazards, entrances=entrances, profile=profile, workers=2)
    # the chunks ran on the pool's two threads, not on the caller's
    assert threads == {"campus_geo-chunk_0", "campus_geo-chunk_1"}
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    threads.clear()
    serial = screen(schools, hazards, entrances=entrances, profile=profile, workers=1)
    assert threads == {threading.current_thread().name}
    pd.testing.assert_frame_equal(serial, whole, check_exact=True)


@pytest.mark.parametrize(
    ("values", "empty"),
    [
        (pa.array(["", "", ""], pa.large_string()), True),
        (pa.array(["", "网吧", ""], pa.large_string()), False),
        (pa.array(["x", "", "", "y"], pa.large_string()).slice(1, 2), True),
        (pa.array(["x", "", "", "y"], pa.large_string()).slice(2, 2), False),
        (pa.array(["x", ""], pa.string()).slice(1), True),
        (pa.array(["", "z"], pa.string()), False),
        (pa.array(["", None], pa.large_string()), False),  # a missing text is not ""
        (pa.array([], pa.large_string()), True),
        (pa.chunked_array([pa.array(["", ""]), pa.array([""])]), True),
        (pa.chunked_array([pa.array(["", ""]), pa.array(["q"])]), False),
    ],
)
def test_a_column_of_empty_texts_is_told_from_its_offsets(values, empty):
    # a layer without names: the column is made once, not taken by every block
    assert findings_mod._all_empty(values) is empty


def test_schools_beside_the_hazards_are_prepared_where_a_core_is_idle(monkeypatch, tmp_path):
    schools, hazards, entrances = district()
    hazards = hazards[hazards.geom_type == "Point"]
    hazards.to_parquet(tmp_path / "hazards.parquet")
    calls = []

    def spy(name, real):
        def call(*args):
            profiles = args[2] if len(args) > 2 else set()
            calls.append((name, threading.current_thread() is threading.main_thread(), profiles))
            return real(*args)

        return call

    monkeypatch.setattr(screen_mod, "read_school_input", spy("read", screen_mod.read_school_input))
    monkeypatch.setattr(columns_mod, "school_sources", spy("project", columns_mod.school_sources))
    frames = screen(schools, hazards, entrances=entrances, profile="entrance", workers=2)
    # a GeoDataFrame: read first, projected on this thread while its points are indexed (the
    # gates, and the outlines: an inside rule measures from them whatever the profile)
    both = {"boundary", "entrance"}
    assert calls == [("read", True, set()), ("project", True, both)]
    calls.clear()
    paths = screen(schools, tmp_path / "hazards.parquet", entrances=entrances, profile="entrance")
    # beside a file read as columns: both on a thread while its points are decoded
    assert calls == [("read", False, set()), ("project", False, both)]
    pd.testing.assert_frame_equal(paths, frames, check_exact=True)
    assert len(frames) > 100
    # a layer in another CRS is validated (into lon/lat) before it is indexed: no core idle,
    # the schools read first and projected when the groups need them
    calls.clear()
    screen(schools, hazards.to_crs(3857), entrances=entrances, dist=150.0)
    assert calls == [("read", True, set())]
    # a problem of the schools is still raised, naming them
    broken = schools.copy()
    broken.index = [schools.index[0]] * len(schools)
    with pytest.raises(InputDataError, match="duplicate school_id"):
        screen(broken, tmp_path / "hazards.parquet", entrances=entrances)
    # "all" profiles: nothing projected before its rules are expanded; a walk is no
    # straight line
    assert pairs_mod.straight_profiles(None, "all", 200.0, ["internet_cafe"]) == set()
    assert pairs_mod.straight_profiles(None, "walk", 200.0, ["internet_cafe"]) == set()
    assert pairs_mod.straight_profiles(None, None, 200.0, ["internet_cafe"]) == {"boundary"}


def test_pairs_no_rule_covers_are_left_out_before_measuring_only_when_some_are(
    monkeypatch, tmp_path
):
    from conftest import EQ_M_PER_DEG, equator_school
    from shapely import affinity
    from shapely.geometry import Point
    from test_screen import _user_rules

    rules = _user_rules(tmp_path)  # a trampoline park rule for primary schools only, 150 m
    # a primary school and a kindergarten 0.01 degree apart, an internet cafe and a
    # trampoline park 100 m east of each
    h = 0.001
    schools = gpd.GeoDataFrame(
        {"name": ["小学", "幼儿园"], "kind": ["primary", "kindergarten"]},
        geometry=[equator_school(h), affinity.translate(equator_school(h), 0.01)],
        index=pd.Index(["p", "k"], name="school_id"),
        crs=4326,
    )
    east = h + 100.0 / EQ_M_PER_DEG
    hazards = gpd.GeoDataFrame(
        {"category": ["internet_cafe", "trampoline_park"] * 2},
        geometry=[Point(east + dx, dy) for dx in (0.0, 0.01) for dy in (0.0, 0.0002)],
        index=pd.Index(["cafe_p", "park_p", "cafe_k", "park_k"], name="hazard_id"),
        crs=4326,
    )
    applies = {}
    real = screen_mod.group_plans

    def spy(setup):
        plans = list(real(setup))
        applies.update({plan.group.distance_m: plan.applies for plan in plans})
        return iter(plans)

    monkeypatch.setattr(screen_mod, "group_plans", spy)
    # the default rules cover every kind and category: no pair looked up before measuring
    cafes = hazards[hazards["category"] == "internet_cafe"]
    assert sorted(screen(schools, cafes)["hazard_id"]) == ["cafe_k", "cafe_p"]
    assert applies[200.0] is None
    # the park rule covers the primary school only: the kindergarten's park pair is left out
    applies.clear()
    found = screen(schools, hazards, rules=rules)
    assert sorted(zip(found["school_id"], found["hazard_id"], strict=True)) == [
        ("k", "cafe_k"),
        ("p", "cafe_p"),
        ("p", "park_p"),
    ]
    table = applies[150.0]
    assert table is not None
    assert not table.all()
    # ... before it is measured: the chunks measure three pairs, not four
    measured = []
    real_band = pairs_mod._measure_band

    def count(src, s, *args):
        measured.append(len(s))
        return real_band(src, s, *args)

    monkeypatch.setattr(pairs_mod, "_measure_band", count)
    screen(schools, hazards, rules=rules)
    assert sum(measured) == 3


def test_gathered_moves_its_columns_when_the_estimate_is_short():
    parts = [
        {
            "_rule": np.full(n, i, dtype=np.int8),
            "ends": np.arange(4.0 * n).reshape(n, 4) + 100 * i,
            "hazard_id": pa.array([f"v{i}-{j}" for j in range(n)], pa.large_string()),
        }
        for i, n in enumerate([3, 0, 5, 1, 9])
    ]
    for capacity in (0, 1, 4, 8, 100):
        out = pairs_mod._gathered(iter(parts), capacity)
        assert out["_rule"].tolist() == [0] * 3 + [2] * 5 + [3] + [4] * 9
        np.testing.assert_array_equal(out["ends"], np.concatenate([p["ends"] for p in parts]))
        ids = [v for p in parts for v in p["hazard_id"].to_pylist()]
        assert out["hazard_id"].to_pylist() == ids
    assert pairs_mod._gathered(iter([{}, {}]), 10) == {}


def test_screen_with_too_little_room_for_its_findings_finds_the_same(monkeypatch):
    schools, hazards, entrances = district()
    monkeypatch.setattr(pairs_mod, "CHUNK_PAIRS", 97)  # dozens of blocks
    roomy = screen(schools, hazards, entrances=entrances, workers=2)
    moves = []
    real = pairs_mod._gathered

    def spy(parts, capacity):
        out = real(parts, capacity)
        moves.append(len(out["_rule"]) > capacity)
        return out

    monkeypatch.setattr(pairs_mod, "_gathered", spy)
    monkeypatch.setattr(pairs_mod, "GATHER_ROOM", 0.0)  # room for one block: moved often
    short = screen(schools, hazards, entrances=entrances, workers=2)
    assert moves == [True]
    pd.testing.assert_frame_equal(short, roomy, check_exact=True)


def test_texts_ids_and_coordinates_taken_on_the_workers_equal_the_frames_own(monkeypatch):
    # screen() has each block format its ids, take its text columns and copy its ends on
    # its worker (screen_blocks(texts=...)); findings_frame makes the same columns itself
    # from the pairs when they come without them (walk groups, say)
    schools, hazards, entrances = district()
    monkeypatch.setattr(pairs_mod, "CHUNK_PAIRS", 97)  # dozens of blocks
    blocks = screen(schools, hazards, entrances=entrances, workers=2)
    real = screen_mod.screen_blocks
    monkeypatch.setattr(screen_mod, "screen_blocks", lambda setup, plans, **_: real(setup, plans))
    # the frame's own columns read the layer by hazard position: its rows' order, as a walk
    # keeps it (the blocks' run stores the hazards in the index's order)
    table = screen_mod.hazard_table
    monkeypatch.setattr(screen_mod, "hazard_table", lambda h, keys, **_: table(h, keys))
    own = screen(schools, hazards, entrances=entrances, workers=2)
    pd.testing.assert_frame_equal(blocks, own, check_exact=True)
    assert blocks["hazard_name"].array.__arrow_array__().num_chunks > 1  # the blocks' arrays
    # a school's texts and the category: categoricals of the schools' sorted texts and of
    # the vocabulary, on codes taken by the blocks
    # of the texts found, sorted: no school without findings
    names = blocks["school_name"].cat.categories
    found = schools.loc[blocks["school_id"].unique(), "name"]
    assert names.tolist() == sorted(set(found))
    assert blocks["school_name"].cat.codes.dtype == np.int8  # 76 schools: a byte a finding
    assert (
        names[blocks["school_name"].cat.codes] == schools.loc[blocks["school_id"], "name"]
    ).all()
    categories = blocks["category"].cat.categories.tolist()
    assert categories == sorted(set(hazards.loc[blocks["hazard_id"], "category"]))
    # no village known: the codes are zeros made once for the table (calloc), not taken
    assert blocks["village"].cat.categories.tolist() == [""]
    assert (blocks["village"].cat.codes == 0).all()
    assert blocks["township"].cat.categories.size > 1
    assert (blocks["notes"] == own["notes"]).all()
    assert (blocks["distance_m"] == 0).any()
    # the measured lines are held on the table's coordinate columns, not on a copy of them
    assert blocks.geometry.values.nbytes == 0
    assert own.geometry.values.nbytes == own.geometry.values.ends.nbytes
    # the coordinate columns are the table's own: writing one leaves the measured line
    first = blocks.index[0]
    line = blocks.geometry.iloc[0]
    blocks.loc[first, "school_lon"] = 0.0
    assert blocks.geometry.iloc[0].equals_exact(line, 0.0)
    assert blocks.geometry.iloc[0].coords[0][0] == own.loc[first, "school_lon"]


@pytest.mark.parametrize("profile", [None, "entrance"])
def test_points_projected_once_into_their_bands_give_the_same_findings(monkeypatch, profile):
    # with many pairs a point, each point is projected once into its own band
    # (pairs.with_planes) and a pair whose school lies in another band projects it again:
    # the district spans three bands (its venues four), so both happen; the findings are the
    # same, bit for bit
    schools, hazards, entrances = district()
    monkeypatch.setattr(pairs_mod, "PLANE_PAIRS_PER_POINT", 1e9)  # never
    monkeypatch.setattr(pairs_mod, "CHUNK_PAIRS", 97)
    per_pair = screen(schools, hazards, entrances=entrances, profile=profile, workers=2)
    made: list[pairs_mod.Hazards] = []
    real = pairs_mod.with_planes

    def recording(haz, pairs, workers):
        out = real(haz, pairs, workers)
        made.append(out)
        return out

    monkeypatch.setattr(pairs_mod, "PLANE_PAIRS_PER_POINT", 0.0)  # always
    monkeypatch.setattr(pairs_mod, "_PLANE_CHUNK", 700)  # several tasks
    monkeypatch.setattr(pairs_mod, "with_planes", recording)
    planes = screen(schools, hazards, entrances=entrances, profile=profile, workers=2)
    pd.testing.assert_frame_equal(planes, per_pair, check_exact=True)
    (haz,) = made
    assert haz.plane is not None
    assert haz.plane_band is not None
    point = ~np.isnan(haz.point_xy[:, 0])
    assert len(np.unique(haz.plane_band[point])) >= 3
    assert (haz.plane_band[~point] == -1).all()
    # a point's own band, and the projection of that band
    i = int(np.flatnonzero(point)[0])
    band = int(haz.plane_band[i])
    x, y = pairs_mod.band_transformers(band)[0].transform(*haz.point_xy[i])
    assert (haz.plane[i, 0], haz.plane[i, 1]) == (x, y)
    assert band == int(pairs_mod.band_of(haz.point_xy[i, 0]))
    # and the pairs measure from those coordinates: planes moved 150 m east change findings
    made.clear()

    def moved(haz, pairs, workers):
        out = real(haz, pairs, workers)
        assert out.plane is not None
        return replace(out, plane=out.plane + np.array([150.0, 0.0]))

    monkeypatch.setattr(pairs_mod, "with_planes", moved)
    shifted = screen(schools, hazards, entrances=entrances, profile=profile, workers=2)
    assert not shifted["distance_m"].equals(per_pair["distance_m"])


def test_run_chunks_yields_in_order_with_few_chunks_in_flight():
    started: list[int] = []
    gate = threading.Event()

    def task(i: int) -> int:
        started.append(i)
        if i == 0:
            assert gate.wait(10)  # the first chunk is the slowest
        return i * i

    results = _parallel.run_chunks(task, 20, workers=2)
    first = threading.Timer(0.2, gate.set)
    first.start()
    assert next(results) == 0
    # while chunk 0 ran, at most AHEAD_PER_WORKER * workers chunks were started
    assert len(started) <= _parallel.AHEAD_PER_WORKER * 2 + 1
    assert list(results) == [i * i for i in range(1, 20)]
    assert sorted(started) == list(range(20))


def test_findings_order_school_rule_distance_then_hazard():
    schools, hazards, entrances = district()
    findings = screen(schools, hazards, entrances=entrances)
    table = pd.DataFrame(
        {
            "school": schools.index.get_indexer(findings["school_id"]),
            "rule": findings["rule_id"].astype(str).to_numpy(),
            "distance": findings["distance_m"].to_numpy(),
            "hazard": hazards.index.get_indexer(findings["hazard_id"]),
        }
    )
    assert (np.diff(table["school"]) >= 0).all()
    # each school's findings of one rule are together, nearest first
    runs = (table[["school", "rule"]] != table[["school", "rule"]].shift()).any(axis=1).cumsum()
    assert runs.nunique() == len(table.groupby(["school", "rule"]))
    for _, part in table.groupby(["school", "rule"]):
        assert part["distance"].is_monotonic_increasing
    # the venues placed inside campuses: distance 0, listed by hazard position
    inside = findings[findings["distance_m"] == 0.0]
    assert len(inside) >= 30
    assert inside["notes"].str.contains(NOTE_INSIDE, regex=False).all()
    for _, part in table[table["distance"] == 0.0].groupby(["school", "rule"]):
        assert part["hazard"].is_monotonic_increasing


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 400),
    st.integers(1, 6),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["positions", "ranked", "huge"]),
)
def test_sorted_pairs_orders_by_school_rule_distance_then_hazard_rank(n, spread, seed, ranks):
    # many ties: few schools and rules, distances of few values (0, a campus's venues)
    rng = np.random.default_rng(seed)
    n_rules = 3
    pairs = {
        "_school": np.sort(rng.integers(0, spread, n)),
        "_rule": rng.integers(0, n_rules, n),
        "_hazard": rng.permutation(4 * n)[:n],  # a hazard once per pair
        "distance_m": rng.integers(0, spread, n).astype(np.float64) * 12.5,
        "ends": rng.random((n, 4)),
    }
    rank = None if ranks == "positions" else rng.permutation(4 * n).astype(np.int64)
    if ranks == "huge":  # ranks whose joint key with the runs would not fit in 63 bits
        rank += 2**62
    out = pairs_mod.sorted_pairs(pairs, n_rules, rank)
    hazard = pairs["_hazard"] if rank is None else rank[pairs["_hazard"]]
    expected = np.lexsort((hazard, pairs["distance_m"], pairs["_rule"], pairs["_school"]))
    for name, values in pairs.items():
        np.testing.assert_array_equal(out[name], values[expected])


def test_run_chunks_with_one_worker_runs_here_in_order():
    seen: list[tuple[int, str]] = []
    out = list(
        _parallel.run_chunks(
            lambda i: seen.append((i, threading.current_thread().name)) or i * i, 4, workers=1
        )
    )
    assert out == [0, 1, 4, 9]
    here = threading.current_thread().name
    assert seen == [(0, here), (1, here), (2, here), (3, here)]


def test_cli_workers_option_reaches_the_screening(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from campus_geo.cli import cli

    schools, hazards, _ = district()
    schools_file, hazards_file = tmp_path / "schools.geojson", tmp_path / "venues.geojson"
    schools.reset_index().rename(columns={"school_id": "id"}).to_file(schools_file)
    hazards.reset_index().rename(columns={"hazard_id": "id"}).to_file(hazards_file)
    monkeypatch.setattr(pairs_mod, "CHUNK_PAIRS", 97)
    asked: list[int] = []
    real = pairs_mod.run_chunks

    def recording(task, n, *, workers):
        asked.append(workers)
        return real(task, n, workers=workers)

    monkeypatch.setattr(pairs_mod, "run_chunks", recording)
    tables = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        result = CliRunner().invoke(
            cli,
            [
                *("-q", "screen", "--schools", str(schools_file), "--hazards", str(hazards_file)),
                *("--workers", workers, "--no-evidence", "--out", str(out)),
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        tables[workers] = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert set(asked) == {1, 2}  # each run asked for its number of workers
    assert len(tables["1"]) > 500
    pd.testing.assert_frame_equal(tables["1"], tables["2"])


def test_the_collector_is_paused_while_screening_and_restored(equator_layers, monkeypatch):
    schools, hazards = equator_layers
    seen = []
    real = screen_mod.prepare_setup

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(screen_mod, "prepare_setup", spy)
    assert gc.isenabled()
    screen(schools, hazards)
    assert seen == [False]
    assert gc.isenabled()
    # as it was: a caller who turned it off keeps it off; an error restores it too
    gc.disable()
    try:
        screen(schools, hazards)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), _parallel.collector_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_arrow_allocates_from_malloc_while_streaming_and_its_pool_is_restored(
    equator_layers, monkeypatch, tmp_path
):
    schools, hazards = equator_layers
    before = pa.default_memory_pool().backend_name
    assert before != "system"  # the wheels' mimalloc (or jemalloc): what is restored
    seen = []
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    for module in (screen_mod, stream_mod):
        real = module.prepare_setup

        def spy(*args, real=real, **kwargs):
            seen.append(pa.default_memory_pool().backend_name)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, "prepare_setup", spy)
    found = screen(schools, hazards)
    count = stream_mod.screen_to_parquet(schools, hazards, tmp_path / "f.parquet")
    # screen() keeps Arrow's pool (malloc's arenas raised its province peak)
    assert seen == [before, "system"]
    assert pa.default_memory_pool().backend_name == before
    # the same findings either way: the venues 199.99 and 150 m east of the school
    assert count == len(found) == 2
    written = gpd.read_parquet(tmp_path / "f.parquet")
    np.testing.assert_array_equal(written["distance_m"], found["distance_m"])

    # nested, or on another thread meanwhile: the last one out restores the pool
    def other_screening() -> None:
        with _parallel.arrow_system_pool():
            pass

    with _parallel.arrow_system_pool():
        with _parallel.arrow_system_pool():
            pass
        thread = threading.Thread(target=other_screening)
        thread.start()
        thread.join()
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == before
    with pytest.raises(RuntimeError), _parallel.arrow_system_pool():
        raise RuntimeError
    assert pa.default_memory_pool().backend_name == before
    # a pool the user chose is left alone
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    with _parallel.arrow_system_pool():
        assert pa.default_memory_pool().backend_name == before


def test_a_layer_stored_in_the_index_order_finds_what_its_rows_order_finds(monkeypatch):
    # screen() of a GeoDataFrame stores the hazards in the points' index order, the other
    # geometries after them, and takes the texts by their rows (HazardTable.rank)
    from test_scale import assert_same, clustered_layers

    from campus_geo.engine.columns import hazard_table

    schools, hazards = clustered_layers()
    hazards = hazards.sample(frac=1.0, random_state=5)  # rows in random order
    table = hazard_table(hazards, tuple(CATEGORIES), index_order=True)
    points = int((shapely.get_type_id(hazards.geometry.values) == 0).sum())
    assert 0 < points < len(hazards)  # the river is not a point
    assert sorted(table.rank.tolist()) == list(range(len(hazards)))
    lines = np.flatnonzero(shapely.get_type_id(hazards.geometry.values) != 0)
    assert sorted(table.rank[points:].tolist()) == lines.tolist()
    assert (table.hashes == fnv1a64(hazards.index)[table.rank]).all()
    real = screen_mod.hazard_table
    asked = []

    def spy(h, keys, **kwargs):
        asked.append(kwargs)
        return real(h, keys, **kwargs)

    monkeypatch.setattr(screen_mod, "hazard_table", spy)
    ordered = screen(schools, hazards, workers=2, context=True)  # water is context
    assert asked == [{"index_order": True}]  # straight lines only: stored in index order
    assert ordered["hazard_id"].isin(hazards.index[lines]).any()  # the river is found
    monkeypatch.setattr(screen_mod, "hazard_table", lambda h, keys, **_: real(h, keys))
    assert_same(ordered, screen(schools, hazards, workers=2, context=True))


def test_hazard_texts_put_in_position_order_take_the_rows_of_their_rank():
    ids = pa.array(["v0", "v1", "v2", "v3"], pa.large_string())
    names = pa.array(["网吧", "", "台球厅", "歌舞厅"], pa.large_string())
    rank = np.array([2, 0, 3, 1], dtype=np.int32)  # position i holds row rank[i]
    texts = {"hazard_id": ids, "hazard_name": names}
    threshold = findings_mod.TEXT_ORDER_PAIRS_PER_HAZARD
    # a dense district: many candidate pairs a hazard, the texts taken once by rank
    ordered, none = findings_mod.texts_in_position_order(texts, rank, int(threshold * 4))
    assert none is None
    assert ordered["hazard_id"].to_pylist() == ["v2", "v0", "v3", "v1"]
    assert ordered["hazard_name"].to_pylist() == ["台球厅", "网吧", "歌舞厅", ""]
    # fewer pairs (a province): left in input order, taken by rank in the blocks
    same, kept = findings_mod.texts_in_position_order(texts, rank, int(threshold * 4) - 1)
    assert same is texts
    assert kept is rank
    # already in position order (a walk reads the layer by rows): nothing to do
    assert findings_mod.texts_in_position_order(texts, None, 10**9) == (texts, None)


@pytest.mark.parametrize("call", ["screen", "stream"])
def test_texts_in_position_order_find_what_texts_taken_by_rank_find(monkeypatch, tmp_path, call):
    # with many candidate pairs a hazard, screen() and the stream put the hazards' ids and
    # names in the order of the hazard positions (the points' index order) once, and the
    # blocks take them by position instead of by rank: the same findings, bit for bit
    from test_scale import assert_same, clustered_layers

    from campus_geo import stream

    schools, hazards = clustered_layers()
    hazards = hazards.sample(frac=1.0, random_state=5)  # rows in random order
    monkeypatch.setattr(pairs_mod, "CHUNK_PAIRS", 97)  # dozens of blocks
    real = findings_mod.texts_in_position_order
    ranks: list[object] = []

    def spy(texts, rank, pairs):
        out = real(texts, rank, pairs)
        ranks.append(out[1])
        return out

    monkeypatch.setattr(findings_mod, "texts_in_position_order", spy)
    monkeypatch.setattr(stream_mod, "texts_in_position_order", spy)

    def run(name):
        if call == "screen":
            return screen(schools, hazards, workers=2, context=True)
        stream.screen_to_parquet(schools, hazards, tmp_path / name, workers=2, context=True)
        return gpd.read_parquet(tmp_path / name)

    monkeypatch.setattr(findings_mod, "TEXT_ORDER_PAIRS_PER_HAZARD", 1e9)  # never
    by_rank = run("by_rank")
    assert len(ranks) == 1
    assert ranks[0] is not None  # taken by rank in the blocks
    monkeypatch.setattr(findings_mod, "TEXT_ORDER_PAIRS_PER_HAZARD", 0.0)  # always
    by_position = run("by_position")
    assert ranks[1] is None  # put in position order once
    assert len(by_position) > 100
    assert by_position["hazard_id"].isin(hazards.index).all()
    assert_same(by_position, by_rank)
    # each finding's name is its hazard's own
    names = hazards.loc[by_position["hazard_id"], "name"].to_numpy()
    assert (by_position["hazard_name"].to_numpy() == names).all()


def test_hazard_columns_read_points_by_their_coordinates_in_row_order():
    # a layer of points is read by shapely.get_coordinates; an empty point (a layer not
    # validated) or another geometry falls back to the bounds, with NaN rows for them
    from shapely.geometry import LineString, Point

    from campus_geo.engine.pairs import hazard_columns

    def xy_of(geometry):
        layer = gpd.GeoDataFrame(
            {"category": ["internet_cafe", "lottery", "internet_cafe"]}, geometry=geometry
        )
        geoms, xy, codes = hazard_columns(layer)
        assert len(geoms) == len(xy) == len(codes) == 3
        assert codes.tolist() == [CATEGORIES.index(c) for c in layer["category"]]
        return np.where(np.isnan(xy), -1.0, xy).tolist()

    a, b, c = Point(118.78, 32.04), Point(118.79, 32.05), Point(118.80, 32.06)
    assert xy_of([a, b, c]) == [[118.78, 32.04], [118.79, 32.05], [118.80, 32.06]]
    assert xy_of([a, Point(), c]) == [[118.78, 32.04], [-1.0, -1.0], [118.80, 32.06]]
    river = LineString([(118.0, 32.0), (118.1, 32.1)])
    assert xy_of([river, b, c]) == [[-1.0, -1.0], [118.79, 32.05], [118.80, 32.06]]
