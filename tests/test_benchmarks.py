"""The benchmark's data layouts and the scale plot's table (benchmarks/ is not a package)."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import scale_bench
import scale_plot
import screen_bench

from campus_geo.geodesy import geodesic_distance
from campus_geo.screen import screen


def test_the_dense_district_packs_schools_and_venues_into_one_district():
    schools, venues = screen_bench.make_data(200, 20_000, 1, "district")
    again, _ = screen_bench.make_data(200, 20_000, 1, "district")
    assert shapely.equals_exact(schools.geometry.values, again.geometry.values, 0.0).all()
    centre = shapely.get_coordinates(shapely.centroid(schools.geometry.values))
    reach = geodesic_distance(np.full(len(centre), 118.50), np.full(len(centre), 32.05), *centre.T)
    assert np.median(reach) < 10_000  # one district, around its centre
    # a band border (118.5 E) runs through it: schools on both sides
    assert (centre[:, 0] < 118.5).any()
    assert (centre[:, 0] > 118.5).any()
    findings = screen(schools, venues, dist=200.0, workers=2)
    towns_schools, towns_venues = screen_bench.make_data(200, 20_000, 1)
    spread = screen(towns_schools, towns_venues, dist=200.0, workers=2)
    # packed: more pairs per school than the same counts spread over 40 towns
    assert len(findings) > 1.5 * len(spread)
    assert (findings["distance_m"] <= 200.0).all()
    with pytest.raises(ValueError, match="unknown layout"):
        screen_bench.make_data(2, 2, 1, "city")


def test_scale_plot_table_gives_ratios_to_duckdb_and_cost_per_million():
    run = {
        "schools": 10_000,
        "venues": 1_000_000,
        "layout": "district",
        "pairs": 7_000_000,
        "revision": "abc1234",
        "methods": {
            "screen": {"total_s": 8.0, "peak_mib": 2800.0},
            "screen_files": {"total_s": 5.0, "peak_mib": 1400.0},
            "campus_geo": {"total_s": 6.0, "peak_mib": 700.0},
            "duckdb": {"total_s": 4.0, "peak_mib": 1300.0},
        },
    }
    table = scale_plot.table([run])
    row = table.splitlines()[2]
    assert row == (
        "| 10,000 x 1,000,000 (dense district) | 7,000,000 | 8.00 / 2,800 | 5.00 / 1,400 "
        "| 6.00 / 700 | 4.00 | — | 2.00 | 1.25 | 1.50 | 1.00 |"
    )
    assert table.endswith("campus_geo at abc1234.")


def test_scale_bench_counts_the_memory_a_findings_table_holds(tmp_path):
    schools, venues = screen_bench.make_data(50, 5_000, 1)
    paths = [tmp_path / "schools.parquet", tmp_path / "venues.parquet"]
    for frame, path in zip((schools, venues), paths, strict=True):
        frame.to_parquet(path)
    findings = screen(*map(str, paths), dist=200.0, workers=2)
    assert len(findings) > 100
    columns = findings.drop(columns="geometry").memory_usage(index=True, deep=True).sum()
    # the measured lines are held on the coordinate columns: nothing more is counted
    assert scale_bench._frame_mib(findings) == columns / 2**20
    assert not findings.geometry.values.materialized  # and no copy of the ends was made
    # counting copies nothing: a frame without its geometry (drop) stacked the six float
    # columns into one block, 48 bytes a finding counted in the benchmark's peak
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        scale_bench._frame_mib(findings)
        assert tracemalloc.get_traced_memory()[1] - before < 24 * len(findings)
    finally:
        tracemalloc.stop()
    # lines that hold their own (n, 4) ends count them, 32 bytes a finding
    own = findings.iloc[::-1]
    own_columns = own.drop(columns="geometry").memory_usage(index=True, deep=True).sum()
    assert scale_bench._frame_mib(own) == (own_columns + 32 * len(findings)) / 2**20


def test_scale_bench_targets_give_screens_own_share_beside_the_users_frames():
    def run(total, query, peak_mib, loaded_mib=None):
        out = {"total": total, "query": query, "vmhwm_kib": peak_mib * 1024, "totals": [total]}
        if loaded_mib is not None:
            out["loaded_kib"] = loaded_mib * 1024
            out["above_kib"] = (peak_mib - loaded_mib) * 1024
        return out

    results = {
        "campus_geo": run(8.0, 8.0, 1200),
        "screen": run(15.0, 10.0, 3100, loaded_mib=1900),
        "duckdb": run(12.0, 8.0, 1300),
    }
    exact = {"fp": 0, "fn": 0}
    rows = {"campus_geo": exact, "screen": exact}
    lines = scale_bench._targets(results, rows, province=True)
    # the targets count the user's geopandas read and frames ...
    assert "- screen total / DuckDB UTM total: 1.25 (<= 1.0: MISSED)" in lines
    assert "- screen peak RSS: 3,100 MiB (< 1,536 at 50k x 5M: MISSED)" in lines
    # ... and the call's own share is said beside them
    assert (
        "- screen() alone, its GeoDataFrames in memory already: peak 1,200 MiB above the "
        "1,900 MiB resident when it starts (< 1,536 at 50k x 5M: met)"
    ) in lines
    assert (
        "- the user's two GeoDataFrames alone: 1,900 MiB before screen() starts, more than "
        "1,536: no call given them can peak under it, counting them"
    ) in lines
    assert (
        "- screen() alone, without the user's geopandas read: 10.00 s, 0.83 of DuckDB UTM "
        "total (its load included; <= 1.0: met)"
    ) in lines
    # judged by the same bounds: a slower call, or one above them, misses
    results["screen"] = run(20.0, 13.0, 3500, loaded_mib=1000)
    lines = scale_bench._targets(results, rows, province=True)
    assert (
        "- screen() alone, its GeoDataFrames in memory already: peak 2,500 MiB above the "
        "1,000 MiB resident when it starts (< 1,536 at 50k x 5M: MISSED)"
    ) in lines
    assert not any("GeoDataFrames alone" in line for line in lines)
    assert (
        "- screen() alone, without the user's geopandas read: 13.00 s, 1.08 of DuckDB UTM "
        "total (its load included; <= 1.0: MISSED)"
    ) in lines
    # the paths' run reads no frames of the user's: no such lines
    results["screen"].pop("above_kib")
    assert not any(
        "screen() alone" in line for line in scale_bench._targets(results, rows, province=True)
    )
