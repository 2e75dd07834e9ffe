"""Traffic at gates on a hand-built street plan with walking distances known exactly.

青禾大道 (primary) runs along the equator; 春风街 (residential) runs north-south
along lon 0 and meets it at (0, 0). A school south of the avenue has its gate at
(0.001, -0.0001), joined by a footway to a marked crossing at (0.001, 0).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import pytest
from _osm_xml import OsmBuilder
from conftest import EQ_M_PER_DEG, GEOD
from shapely.geometry import Point, Polygon

from campus_geo import network, traffic

GATE = (0.001, -0.0001)
#: gate -> crossing: the meridian arc of 0.0001 degrees at the equator
GATE_TO_ROAD = float(GEOD.inv(0.001, -0.0001, 0.001, 0.0)[2])


def build(tmp_path, *, signals: bool):
    osm = OsmBuilder()
    osm.node(0.001, 0.0, highway="crossing", crossing="marked")
    if signals:
        osm.node(-0.0005, 0.0, highway="traffic_signals")
    avenue = [(-0.003, 0.0), (-0.0005, 0.0), (0.0, 0.0), (0.001, 0.0), (0.003, 0.0)]
    osm.way(avenue, highway="primary", name="青禾大道")
    osm.way([(0.0, -0.003), (0.0, 0.0), (0.0, 0.003)], highway="residential", name="春风街")
    osm.way([GATE, (0.001, 0.0)], highway="footway")
    net = network.walk_network_from_osm(osm.write(tmp_path / "plan.osm"))
    schools = gpd.GeoDataFrame(
        {"name": ["大道小学"], "kind": ["primary"], "township": [""], "village": [""]},
        geometry=[
            Polygon([(0.0005, -0.0006), (0.0015, -0.0006), (0.0015, -0.0001), (0.0005, -0.0001)])
        ],
        index=pd.Index(["s1"], name="school_id"),
        crs=4326,
    )
    entrances = gpd.GeoDataFrame(
        {"school_id": ["s1"]},
        geometry=[Point(GATE)],
        index=pd.Index(["g1"], name="entrance_id"),
        crs=4326,
    )
    rows = {
        "t_cross": ((0.001, 0.0), "highway=crossing"),
        "t_bus": ((0.0015, 0.00004), "highway=bus_stop"),
    }
    if signals:
        rows["t_sig"] = ((-0.0005, 0.0), "highway=traffic_signals")
    hazards = gpd.GeoDataFrame(
        {
            "name": ["", "大道小学站", ""][: len(rows)],
            "category": "traffic",
            "subcategory": [sub for _, sub in rows.values()],
        },
        geometry=[Point(xy) for xy, _ in rows.values()],
        index=pd.Index(list(rows), name="hazard_id"),
        crs=4326,
    )
    return net, schools, entrances, hazards


def test_points_classified_with_their_road(tmp_path):
    net, _, _, hazards = build(tmp_path, signals=True)
    pts = traffic.traffic_points(hazards, net)
    assert pts.loc["t_cross", ["kind", "road_class", "road_name", "signalised"]].tolist() == [
        "crossing",
        "primary",
        "青禾大道",
        False,
    ]
    assert pts.loc["t_sig", "signalised"]
    bus = pts.loc["t_bus"]
    assert (bus["kind"], bus["road_name"]) == ("bus_stop", "青禾大道")
    assert bus["road_m"] == pytest.approx(
        float(GEOD.inv(0.0015, 0.00004, 0.0015, 0.0)[2]), abs=1e-6
    )
    # the junction of the avenue and 春风街 takes the busier road
    junction = pts[pts["kind"] == "junction"]
    assert junction.index.tolist() == [f"junction/{net.nodes.index[0]}"] or len(junction) == 1
    assert junction[["road_class", "road_name", "name"]].values.tolist() == [
        ["primary", "青禾大道", "青禾大道/春风街"]
    ]


def test_gate_traffic_walking_distances(tmp_path):
    net, schools, entrances, hazards = build(tmp_path, signals=False)
    near = traffic.gate_traffic(net, entrances, hazards, schools=schools)  # traffic rule: 100 m
    got = near.set_index("point_id")["distance_m"]
    assert got["t_cross"] == pytest.approx(GATE_TO_ROAD, abs=1e-6)
    bus_leg = float(GEOD.inv(0.0015, 0.00004, 0.0015, 0.0)[2])
    assert got["t_bus"] == pytest.approx(GATE_TO_ROAD + 0.0005 * EQ_M_PER_DEG + bus_leg, abs=1e-6)
    assert not near["kind"].eq("junction").any()  # 122 m on foot: beyond 100 m
    wider = traffic.gate_traffic(net, entrances, hazards, schools=schools, dist=150)
    junction = wider[wider["kind"] == "junction"]
    assert junction["distance_m"].iloc[0] == pytest.approx(
        GATE_TO_ROAD + 0.001 * EQ_M_PER_DEG, abs=1e-6
    )
    assert set(wider["school_name"]) == {"大道小学"}
    assert wider.geometry.iloc[0].coords[0] == pytest.approx(GATE, abs=1e-12)


def test_arterial_without_signals_is_flagged(tmp_path):
    net, schools, entrances, hazards = build(tmp_path, signals=False)
    pts = traffic.traffic_points(hazards, net)
    gaps = traffic.arterial_gaps(net, entrances, pts, schools=schools)
    assert gaps[["entrance_id", "road_name", "road_class"]].values.tolist() == [
        ["g1", "青禾大道", "primary"]
    ]
    assert gaps["gate_to_road_m"].iloc[0] == pytest.approx(GATE_TO_ROAD, abs=1e-6)
    assert gaps["nearest_signal_m"].isna().all()
    # signals 0.0015 degrees west along the avenue: 11.06 + 166.98 m on foot
    net, schools, entrances, hazards = build(tmp_path, signals=True)
    pts = traffic.traffic_points(hazards, net)
    far = traffic.arterial_gaps(net, entrances, pts, schools=schools)
    walk = GATE_TO_ROAD + 0.0015 * EQ_M_PER_DEG
    assert far["nearest_signal_m"].iloc[0] == pytest.approx(walk, abs=1e-6)
    assert traffic.arterial_gaps(net, entrances, pts, schools=schools, dist=200).empty


def test_guard_post_candidates_ranked(tmp_path):
    net, schools, entrances, hazards = build(tmp_path, signals=True)
    near = traffic.gate_traffic(net, entrances, hazards, schools=schools, dist=200)
    gaps = traffic.arterial_gaps(
        net, entrances, traffic.traffic_points(hazards, net), schools=schools
    )
    posts = traffic.guard_post_candidates(near, gaps)
    # all on the primary: unsignalised first (crossing 11 m, junction 122 m), then the
    # signals (178 m); the bus stop is no post; the frontage is the crossing already
    assert posts["kind"].tolist() == ["crossing", "junction", "signals"]
    assert posts["rank"].tolist() == [1, 2, 3]
    assert posts["signalised"].tolist() == [False, False, True]
    assert (
        posts["reason"].iloc[0]
        == f"人行横道，青禾大道（primary），无信号灯，距校门{GATE_TO_ROAD:.1f}米"
    )
    assert posts.geometry.iloc[0].coords[0] == pytest.approx((0.001, 0.0), abs=1e-9)


def test_frontage_is_a_candidate_where_no_crossing_exists(tmp_path):
    net, schools, entrances, hazards = build(tmp_path, signals=False)
    no_crossing = hazards.drop(index="t_cross")
    pts = traffic.traffic_points(no_crossing, net)
    near = traffic.gate_traffic(net, entrances, no_crossing, schools=schools, points=pts)
    gaps = traffic.arterial_gaps(net, entrances, pts, schools=schools)
    posts = traffic.guard_post_candidates(near, gaps, lang="en")
    first = posts.iloc[0]
    assert (first["kind"], first["point_id"], first["rank"]) == (
        "gate_frontage",
        "frontage/g1/青禾大道",
        1,
    )
    assert first["reason"].startswith("arterial at the gate (no signals) on 青禾大道 (primary)")


def test_outputs_and_layer(tmp_path):
    net, schools, entrances, hazards = build(tmp_path, signals=False)
    pts = traffic.traffic_points(hazards, net)
    near = traffic.gate_traffic(net, entrances, hazards, schools=schools, points=pts)
    gaps = traffic.arterial_gaps(net, entrances, pts, schools=schools)
    posts = traffic.guard_post_candidates(near, gaps)
    written = traffic.save_traffic(near, gaps, posts, tmp_path / "out")
    table = pd.read_csv(written["guard_posts"], encoding="utf-8-sig")
    assert table.loc[0, "distance_m"] == round(GATE_TO_ROAD, 3)
    assert len(gpd.read_file(written["traffic_gpkg"], layer="arterial_gaps")) == 1
    m = folium.Map()
    traffic.traffic_layer(posts, gaps).add_to(m)
    page = m.get_root().render()
    assert page.count("L.circleMarker(") == len(posts)  # every candidate (rank <= 3)
    assert "大道小学 #1: 人行横道，青禾大道（primary），无信号灯" in page
    assert "\\u9752\\u79be\\u5927\\u9053\\u65e0\\u4fe1\\u53f7\\u706f" in page  # 青禾大道无信号灯


def test_demo_traffic(demo_layers, demo_network):
    osm = demo_layers
    pts = traffic.traffic_points(osm.hazards, demo_network)
    assert pts["kind"].value_counts().to_dict() == {
        "junction": 298,
        "crossing": 52,
        "signals": 47,
        "bus_stop": 45,
    }
    near = traffic.gate_traffic(
        demo_network, osm.entrances, osm.hazards, schools=osm.schools, points=pts
    )
    # each bus stop named after a school serves its main gate (data/demo/README: 45 stops,
    # 25-45 m from the gate in a straight line); the three schools mapped as points have no gate
    stops = near[(near["kind"] == "bus_stop")]
    own = stops[stops["name"] == stops["school_name"] + "站"]
    assert own["school_id"].nunique() == 42
    walk = own.groupby("school_id")["distance_m"].min()
    assert walk.min() == pytest.approx(21.289, abs=1e-3)
    assert walk.max() == pytest.approx(67.767, abs=1e-3)
    gaps = traffic.arterial_gaps(demo_network, osm.entrances, pts, schools=osm.schools)
    assert set(gaps["road_class"]) <= {"primary", "secondary"}
    assert (gaps["gate_to_road_m"] <= traffic.PASS_M).all()
    posts = traffic.guard_post_candidates(near, gaps)
    assert (posts.groupby("school_id")["rank"].min() == 1).all()


@pytest.fixture(scope="module")
def demo_layers():
    from campus_geo import demo, layers

    return layers.layers_from_osm(demo.DEMO_DIR / "district.osm")


@pytest.fixture(scope="module")
def demo_network():
    from campus_geo import demo

    return network.walk_network_from_osm(demo.DEMO_DIR / "district.osm")
