"""What campus_geo relies on in other libraries' private parts (campus_geo/adapters).

Each test pins one behaviour an adapter relies on, against the library's public
result where there is one: a release of osmnx, branca or dask that changes it
fails here, by name (for geopandas: the lazy measured lines of
adapters.geopandas). The last tests check that the installed (tested) versions
lie in the ranges pyproject.toml declares, and that every library the package
imports is declared.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import dask_geopandas
import folium
import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from _osm_xml import OsmBuilder
from packaging.requirements import Requirement
from shapely.geometry import LineString, Point, Polygon

from campus_geo.adapters import branca as branca_adapter
from campus_geo.adapters import dask as dask_adapter
from campus_geo.adapters import osmnx as osmnx_adapter

ROOT = Path(__file__).resolve().parent.parent


def test_osmnx_graph_builder_gives_graph_from_xml(tmp_path):
    osm = OsmBuilder()
    osm.way(
        [(113.0, 34.0), (113.001, 34.0), (113.002, 34.0005)], highway="residential", name="学府街"
    )
    osm.way([(113.001, 34.0), (113.001, 34.001)], highway="primary", oneway="yes")
    xml = osm.write(tmp_path / "streets.osm")
    want = ox.graph_from_xml(xml, bidirectional=True, simplify=False, retain_all=True)
    # the same streets as the JSON elements osmnx's XML parser makes (ids from OsmBuilder)
    elements = []
    for (lon, lat), nid in osm.nodes.items():
        elements.append({"type": "node", "id": nid, "lon": lon, "lat": lat})
    for i, (refs, tags) in enumerate(osm.ways, start=1001):
        elements.append({"type": "way", "id": i, "nodes": refs, "tags": tags})
    got = osmnx_adapter.graph_from_elements(elements, bidirectional=True)
    assert isinstance(got, nx.MultiDiGraph)
    assert list(got.nodes) == list(want.nodes) == [1, 2, 3, 4]
    assert sorted(got.edges(keys=True)) == sorted(want.edges(keys=True))
    for u, v, k, data in want.edges(keys=True, data=True):
        mine = got.edges[u, v, k]
        assert {key: mine[key] for key in ("osmid", "oneway", "reversed")} == {
            key: data[key] for key in ("osmid", "oneway", "reversed")
        }
        assert mine["length"] == pytest.approx(data["length"], abs=1e-9)
    # one-way streets go both ways for walking: 2 -> 4 and 4 -> 2
    assert got.has_edge(2, 4)
    assert got.has_edge(4, 2)


def test_osmnx_way_geometry_closes_areas_and_keeps_lines():
    coords = {1: (113.0, 34.0), 2: (113.001, 34.0), 3: (113.001, 34.001)}
    area = osmnx_adapter.way_geometry(7, [1, 2, 3, 1], {"amenity": "school"}, coords)
    line = osmnx_adapter.way_geometry(8, [1, 2, 3], {"highway": "residential"}, coords)
    assert area.geom_type == "Polygon"
    assert list(area.exterior.coords) == [coords[1], coords[2], coords[3], coords[1]]
    assert line.geom_type == "LineString"
    assert list(line.coords) == [coords[1], coords[2], coords[3]]


def test_osmnx_relation_geometry_makes_a_polygon_with_its_hole():
    outer = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]).exterior
    inner = Polygon([(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)]).exterior
    members = [
        {"type": "way", "ref": 1, "role": "outer"},
        {"type": "way", "ref": 2, "role": "inner"},
    ]
    geoms = {1: LineString(outer.coords), 2: LineString(inner.coords)}  # keyed by way id
    got = osmnx_adapter.relation_geometry(members, geoms)
    assert got.geom_type == "Polygon"
    assert got.area == pytest.approx(1.0 - 0.04)
    assert len(got.interiors) == 1


def test_branca_parent_children_and_id():
    m = folium.Map(location=[34.0, 113.0], zoom_start=14, tiles=None)
    marker = folium.Marker([34.0, 113.0]).add_to(m)
    assert branca_adapter.parent_of(marker) is m
    assert branca_adapter.parent_of(branca_adapter.parent_of(m)) is None  # the Figure
    assert marker in branca_adapter.children_of(m)
    walked = list(branca_adapter.walk(m))
    assert walked[0] is m
    assert marker in walked
    branca_adapter.set_id(marker, "cafe0001")
    assert marker.get_name() == "marker_cafe0001"
    assert "marker_cafe0001" in m.get_root().render()


def test_dask_meta_is_the_empty_frame_of_the_collection():
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[Point(113, 34), Point(113.1, 34.1)], crs=4326
    )
    meta = dask_adapter.meta_of(dask_geopandas.from_geopandas(gdf, npartitions=1))
    assert isinstance(meta, gpd.GeoDataFrame)
    assert len(meta) == 0
    assert list(meta.columns) == ["name", "geometry"]
    assert meta.crs == gdf.crs


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    return {metadata.metadata(r.name)["Name"].lower().replace("_", "-"): r for r in reqs}


def test_installed_versions_are_the_declared_ranges():
    outside = {
        name: (str(req.specifier), metadata.version(name))
        for name, req in _declared().items()
        if not req.specifier.contains(metadata.version(name), prereleases=True)
    }
    assert outside == {}


def test_libraries_with_private_parts_used_have_an_upper_bound():
    declared = _declared()
    for name in ("osmnx", "branca"):
        assert any(s.operator in ("<", "<=", "~=") for s in declared[name].specifier), name


def test_every_imported_library_is_declared():
    dists = metadata.packages_distributions()
    optional = {"weasyprint"}  # the pdf extra: evidence sheets as PDF
    imported = set()
    for path in (ROOT / "campus_geo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported - set(sys.stdlib_module_names) if m != "campus_geo"}
    declared = set(_declared())
    missing = {
        m: dists.get(m, [m])
        for m in third_party - optional
        if not {d.lower().replace("_", "-") for d in dists.get(m, [m])} & declared
    }
    assert missing == {}


def test_explore_works_on_the_findings(tmp_path):
    # mapclassify is declared: GeoDataFrame.explore() classifies a column with it
    from campus_geo import demo, layers
    from campus_geo.screen import screen

    osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    findings = screen(osm.schools, osm.hazards)
    m = findings.explore(column="distance_m", scheme="quantiles", k=4, tiles=None)
    html = m.get_root().render()
    assert "distance_m" in html
    assert osm.hazards.explore(column="category", tiles=None) is not None


def test_line_ends_stay_coordinates_until_a_geometry_is_needed():
    from geopandas.array import GeometryArray

    from campus_geo.adapters.geopandas import LineEnds

    ends = np.array(
        [[113.0, 34.0, 113.001, 34.0], [113.5, 34.2, 113.5, 34.201], [114.0, 35.0, 114.002, 35.001]]
    )
    expected = shapely.linestrings(ends.reshape(-1, 2, 2))
    lines = LineEnds(ends, crs=4326)
    # what geopandas keeps: the geometries in `_data`, the CRS in `_crs`
    assert isinstance(lines, GeometryArray)
    index = pd.Index(["a", "b", "c"], name="finding_id")
    frame = gpd.GeoDataFrame(
        {"d": [1.0, 2.0, 3.0]}, geometry=gpd.GeoSeries(lines, index=index), crs=4326, index=index
    )
    kept = frame[frame["d"] > 1.0].iloc[::-1]
    joined = pd.concat([frame, kept.copy()])
    for part in (frame, kept, joined, frame.reset_index()):
        values = part.geometry.values
        assert isinstance(values, LineEnds)
        assert not values.materialized
    np.testing.assert_array_equal(joined.geometry.values.ends[3:], ends[[2, 1]])
    np.testing.assert_array_equal(
        frame.geometry.values.total_bounds, [113.0, 34.0, 114.002, 35.001]
    )
    assert frame.geometry.values[1].equals_exact(expected[1], 0.0)
    assert not frame.geometry.values.materialized  # one line made, not the array
    assert lines._crs == frame.crs
    # a spatial operation makes the LineStrings, the same as shapely's
    assert frame.geometry.values._data is frame.geometry.values._data
    assert frame.geometry.values.materialized
    assert all(shapely.equals_exact(frame.geometry.values._data, expected, 0.0))
    assert frame.geometry.values.ends.flags.writeable is False
    np.testing.assert_allclose(
        frame.to_crs(3857).total_bounds[[0, 2]], [12579102.46, 12690644.59], atol=0.1
    )


def test_line_ends_on_a_frames_columns_share_them_and_survive_a_written_cell():
    import pickle

    from campus_geo.adapters.geopandas import LineEnds

    ends = np.array(
        [[113.0, 34.0, 113.001, 34.0], [113.5, 34.2, 113.5, 34.201], [114.0, 35.0, 114.002, 35.001]]
    )
    names = ["x1", "y1", "x2", "y2"]
    index = pd.Index(["a", "b", "c"], name="finding_id")
    frame = gpd.GeoDataFrame(
        {name: ends[:, j].copy() for j, name in enumerate(names)}, index=index, copy=False
    )
    lines = LineEnds.of_columns([frame[name] for name in names], crs=4326)
    frame.set_geometry(lines, inplace=True)
    values = frame.geometry.values
    assert isinstance(values, LineEnds)
    assert np.shares_memory(values._xyxy()[0], frame["x1"].to_numpy())  # no copy of the ends
    assert values.nbytes == 0  # what it holds is the frame's
    np.testing.assert_array_equal(values.ends, ends)
    assert not values.ends.flags.writeable
    np.testing.assert_array_equal(values.bounds[2], [114.0, 35.0, 114.002, 35.001])
    # an analyst corrects a coordinate: the frame copies its column, the line stays measured
    frame.loc["a", "x1"] = 0.0
    assert frame.geometry.iloc[0].coords[0] == (113.0, 34.0)
    assert frame.loc["a", "x1"] == 0.0
    # filtering, taking, slicing, concatenating and pickling work on the coordinates, lazily
    kept = frame[frame["y2"] > 34.1].iloc[::-1]
    joined = pd.concat([frame, kept.copy()])
    for part in (kept, joined, frame.iloc[1:], frame.copy(), pickle.loads(pickle.dumps(frame))):
        assert isinstance(part.geometry.values, LineEnds)
        assert not part.geometry.values.materialized
    np.testing.assert_array_equal(joined.geometry.values.ends[3:], ends[[2, 1]])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(frame)).geometry.values.ends, ends)
    assert frame.geometry.values[2].equals_exact(shapely.linestrings(ends[2].reshape(2, 2)), 0.0)
    made = frame.geometry.values._data
    assert all(shapely.equals_exact(made, shapely.linestrings(ends.reshape(-1, 2, 2)), 0.0))


def test_numpy_huge_page_advice_is_off_while_screening_and_restored(monkeypatch):
    from numpy._core import multiarray

    from campus_geo.adapters import numpy as numpy_adapter
    from campus_geo.screen import screen

    # pinned: numpy's switch returns the setting it replaces
    before = multiarray._set_madvise_hugepage(True)
    try:
        assert multiarray._set_madvise_hugepage(True) is True
        seen = []
        real = numpy_adapter.multiarray._set_madvise_hugepage

        def spy(enabled):
            seen.append(enabled)
            return real(enabled)

        monkeypatch.setattr(numpy_adapter.multiarray, "_set_madvise_hugepage", spy)
        schools = gpd.GeoDataFrame(
            {"name": ["学校"], "kind": ["primary"]},
            geometry=[Polygon([(113, 34), (113.001, 34), (113.001, 34.001), (113, 34.001)])],
            index=pd.Index(["s1"], name="school_id"),
            crs=4326,
        )
        hazards = gpd.GeoDataFrame(
            {"name": ["网吧"], "category": ["internet_cafe"]},
            geometry=[Point(113.0005, 34.0015)],
            index=pd.Index(["v1"], name="hazard_id"),
            crs=4326,
        )
        found = screen(schools, hazards)
        assert len(found) == 1
        assert seen == [False, True]  # off for the call, restored after
        with numpy_adapter.huge_pages_off(), numpy_adapter.huge_pages_off():
            assert real(False) is False  # nested: still off inside
        assert seen == [False, True, False, True]
        monkeypatch.setenv("CAMPUS_GEO_HUGE_PAGES", "1")
        screen(schools, hazards)
        assert seen == [False, True, False, True]  # left alone
    finally:
        multiarray._set_madvise_hugepage(before)
