from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from campus_geo import InputDataError
from campus_geo._validate import validate_hazards
from campus_geo.screen import screen


def test_no_crs_is_refused_with_the_fix(equator_layers):
    schools, hazards = equator_layers
    bare = gpd.GeoDataFrame(schools.drop(columns="geometry"), geometry=list(schools.geometry))
    with pytest.raises(InputDataError, match=r"`schools` has no CRS; call gdf.set_crs\(4326\)"):
        screen(bare, hazards)


def test_empty_layer(equator_layers):
    schools, hazards = equator_layers
    with pytest.raises(InputDataError, match=r"`hazards` is empty \(0 rows\)"):
        screen(schools, hazards.iloc[:0])


def test_invalid_polygon_names_the_row_and_reason(equator_layers):
    schools, hazards = equator_layers
    bowtie = Polygon([(0, 0), (0.001, 0.001), (0.001, 0), (0, 0.001)])
    bad = schools.set_geometry([bowtie], crs=4326)
    with pytest.raises(
        InputDataError, match=r"invalid polygons \(school_id: s1 \(Self-intersection.*make_valid"
    ):
        screen(bad, hazards)


def test_duplicate_ids(equator_layers):
    schools, hazards = equator_layers
    dup = pd.concat([hazards, hazards.iloc[[0]]])
    with pytest.raises(InputDataError, match=r"duplicate hazard_id values: in_19999"):
        screen(schools, dup)


def test_unknown_category_lists_the_allowed_ones(equator_layers):
    schools, hazards = equator_layers
    bad = hazards.assign(category=["internet_cafe", "casino_boat", "internet_cafe"])
    with pytest.raises(
        InputDataError,
        match=r"unknown category value\(s\) casino_boat in rows out_20002; expected one of internet_cafe",
    ):
        screen(schools, bad)


def test_unknown_kind(equator_layers):
    schools, hazards = equator_layers
    with pytest.raises(InputDataError, match=r"unknown kind value\(s\) university"):
        screen(schools.assign(kind="university"), hazards)


def test_all_problems_are_reported_together(equator_layers):
    schools, hazards = equator_layers
    bad = pd.concat([hazards, hazards.iloc[[0]]]).assign(category="nope")
    with pytest.raises(InputDataError) as info:
        screen(schools, bad)
    assert len(info.value.problems) == 2
    assert str(info.value).startswith("2 problem(s) in `hazards`")


def test_missing_geometry(equator_layers):
    schools, hazards = equator_layers
    bad = hazards.copy()
    bad.loc["in_150", "geometry"] = None
    with pytest.raises(InputDataError, match=r"rows without geometry \(hazard_id: in_150\)"):
        screen(schools, bad)


def test_not_a_geodataframe():
    with pytest.raises(InputDataError, match="must be a GeoDataFrame, got DataFrame"):
        screen(pd.DataFrame({"a": [1]}), gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=4326))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (Point(), "rows without geometry"),
        (Point(113.0, float("nan")), "not a finite number"),
        (Point(113.0, 95.0), "coordinates out of range"),
        (None, "rows without geometry"),
    ],
)
def test_a_layer_of_points_with_one_bad_point_names_it(bad, reason):
    # a layer of points is checked in one pass over its coordinates; one bad point sends
    # it to the check that says what is wrong with which row
    good = [Point(113.0 + i * 1e-3, 34.0) for i in range(5)]
    hazards = gpd.GeoDataFrame(
        {"category": ["internet_cafe"] * 6},
        geometry=[*good[:3], bad, *good[3:]],
        index=pd.Index([f"h{i}" for i in range(6)], name="hazard_id"),
        crs=4326,
    )
    with pytest.raises(InputDataError, match=reason) as caught:
        validate_hazards(hazards)
    assert "h3" in str(caught.value)
    assert not any(f"h{i}" in str(caught.value) for i in (0, 1, 2, 4, 5))
    ok = validate_hazards(hazards.drop(index="h3"))
    assert list(ok.index) == ["h0", "h1", "h2", "h4", "h5"]
    # in a projected CRS a point's metres are not judged as degrees
    metres = hazards.drop(index="h3").set_crs(32650, allow_override=True)
    metres.geometry = gpd.points_from_xy([500000.0 + i for i in range(5)], [3.7e6] * 5)
    assert len(validate_hazards(metres)) == 5
