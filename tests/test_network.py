"""Walking network and the walk profile: hand-built grids with known walking distances.

Streets are laid on the equator and on meridians, whose geodesics are known:
along the equator a degree of longitude is a * pi / 180 (EQ_M_PER_DEG), along a
meridian the arc is GeographicLib's (pyproj.Geod), about M(0) = a (1 - e^2) =
6,335,439.3 m per radian near the equator. Expected values are computed here
from those, independently of campus_geo's routing.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely
from _osm_xml import OsmBuilder
from conftest import EQ_M_PER_DEG, GEOD, osm_extract, to_pbf
from shapely.geometry import Point, Polygon

from campus_geo import _errors, network
from campus_geo.engine.walk import NOTE_NO_ENTRANCE_WALK
from campus_geo.network import graph as network_graph
from campus_geo.screen import save_findings, screen


def geod(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def meridian(lat1: float, lat2: float, lon: float = 0.0) -> float:
    return geod((lon, lat1), (lon, lat2))


@pytest.fixture
def comb(tmp_path):
    """Equator street lon 0..0.002, streets north along lon 0, 0.001, 0.002, a top street at
    lat 0.002; plus ways nobody may walk (motorway, cycleway, private service, river, area)."""
    osm = OsmBuilder()
    osm.way([(0.0, 0.0), (0.001, 0.0), (0.002, 0.0)], highway="residential", name="赤道路")
    for lon in (0.0, 0.001, 0.002):
        osm.way([(lon, 0.0), (lon, 0.001), (lon, 0.002)], highway="residential")
    osm.way([(0.0, 0.002), (0.001, 0.002), (0.002, 0.002)], highway="tertiary", name="北街")
    # shortcuts that must not be walked
    osm.way([(0.0, 0.0), (0.0007, 0.0011), (0.002, 0.0017)], highway="motorway")
    osm.way([(0.0003, 0.0), (0.0014, 0.0009), (0.002, 0.0017)], highway="cycleway")
    osm.way([(0.001, 0.0), (0.0016, 0.0012), (0.002, 0.0017)], highway="service", access="private")
    osm.way([(0.0, 0.0), (0.0012, 0.0008), (0.002, 0.0017)], highway="footway", foot="no")
    osm.way([(0.0, 0.0), (0.0011, 0.0006), (0.002, 0.0017)], waterway="river")
    square = [(0.0, 0.0), (0.0005, 0.0005), (0.002, 0.0017), (0.0, 0.0)]
    osm.way(square, highway="pedestrian", area="yes")
    return osm.write(tmp_path / "comb.osm")


def points(*xy):
    return gpd.GeoSeries(
        [Point(x, y) for x, y in xy], index=[f"p{i}" for i in range(len(xy))], crs=4326
    )


def test_walkable_filter_and_ellipsoidal_lengths(comb):
    net = network.walk_network_from_osm(comb)
    assert sorted(set(net.edges["highway"])) == ["residential", "tertiary"]
    expected_total = (
        0.002 * EQ_M_PER_DEG
        + 3 * meridian(0.0, 0.002)
        + geod((0.0, 0.002), (0.001, 0.002))
        + geod((0.001, 0.002), (0.002, 0.002))
    )
    assert net.edges["length_m"].sum() == pytest.approx(expected_total, abs=1e-6)
    # osmnx's own lengths (haversine on a 6,371,009 m sphere) are metres off: not used
    haversine = sum(d["length"] for _, _, d in net.graph.edges(data=True)) / 2
    assert abs(haversine - expected_total) > 1.0
    # every edge is the geodesic sum of its segments
    for row in net.edges.itertuples():
        xy = np.asarray(row.geometry.coords)
        segs = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])[2]
        assert row.length_m == pytest.approx(segs.sum(), abs=1e-9)


def test_grid_walk_known_exactly_with_part_edges(comb):
    net = network.walk_network_from_osm(comb)
    origin, target = (0.0003, 0.0), (0.002, 0.0017)
    routes = network.walking_routes(net, points(origin), points(target), limit=1000)
    assert len(routes) == 1
    # east along the equator from 0.0003 to the corner, then north along lon 0.002:
    # part of the first edge and part of the last count, not whole edges to a node
    expected = 0.0017 * EQ_M_PER_DEG + meridian(0.0, 0.0017, lon=0.002)
    assert expected == pytest.approx(189.2431 + 187.9766, abs=1e-3)  # by hand
    assert routes["distance_m"].iloc[0] == pytest.approx(expected, abs=1e-6)
    path = routes.geometry.iloc[0]
    coords = np.asarray(path.coords)
    assert coords[0] == pytest.approx(origin, abs=1e-12)
    assert coords[-1] == pytest.approx(target, abs=1e-9)
    assert (0.002, 0.0) in [tuple(c) for c in coords]
    assert GEOD.geometry_length(path) == pytest.approx(expected, abs=1e-6)


def test_same_edge_and_off_network_legs(comb):
    net = network.walk_network_from_osm(comb)
    # both on the equator edge: straight along it, no node visited
    same = network.walking_routes(net, points((0.0003, 0.0)), points((0.0008, 0.0)), limit=500)
    assert same["distance_m"].iloc[0] == pytest.approx(0.0005 * EQ_M_PER_DEG, abs=1e-6)
    assert len(same.geometry.iloc[0].coords) == 2
    # a venue 0.0001 degrees south of the street: its leg to the street counts
    off = network.walking_routes(net, points((0.0003, 0.0)), points((0.0008, -0.0001)), limit=500)
    expected = 0.0005 * EQ_M_PER_DEG + meridian(-0.0001, 0.0)
    assert meridian(-0.0001, 0.0) == pytest.approx(11.0574, abs=1e-4)
    assert off["distance_m"].iloc[0] == pytest.approx(expected, abs=1e-6)


def test_groups_take_the_nearest_origin_and_limit(comb):
    net = network.walk_network_from_osm(comb)
    origins = points((0.0, 0.0005), (0.0015, 0.002))
    routes = network.walking_routes(
        net, origins, points((0.002, 0.0017)), groups=["s1", "s1"], limit=1000
    )
    # from the second origin: east 0.0005 on the top street, south 0.0003
    expected = geod((0.0015, 0.002), (0.002, 0.002)) + meridian(0.0017, 0.002)
    assert routes[["group", "origin"]].values.tolist() == [["s1", "p1"]]
    assert routes["distance_m"].iloc[0] == pytest.approx(expected, abs=1e-6)
    none = network.walking_routes(net, origins, points((0.002, 0.0017)), limit=50)
    assert none.empty
    pairs = pd.DataFrame({"group": ["p0"], "target": ["p0"]})
    far = network.walking_routes(net, origins, points((0.002, 0.0017)), pairs=pairs, limit=50)
    assert far["distance_m"].tolist() == [np.inf]


def _river(tmp_path, bridge_lon: float, name: str):
    """School south of a river, venue 150 m north across it; one bridge at `bridge_lon`."""
    gate = (0.0, -0.0002)
    lon_v, lat_v, _ = GEOD.fwd(gate[0], gate[1], 0.0, 150.0)
    lat_n = lat_v + 10.0 / 110574.0  # the north street, 10 m north of the venue
    osm = OsmBuilder()
    osm.way([(-0.001, 0.0), (0.0, 0.0), (bridge_lon, 0.0), (0.006, 0.0)], highway="residential")
    osm.way(
        [(-0.001, lat_n), (0.0, lat_n), (bridge_lon, lat_n), (0.006, lat_n)], highway="residential"
    )
    osm.way([(bridge_lon, 0.0), (bridge_lon, lat_n)], highway="residential", bridge="yes")
    osm.way([gate, (0.0, 0.0)], highway="footway")
    osm.way([(0.0, 0.0), (0.0, lat_n)], highway="motorway")  # no walking on it
    osm.way([(-0.002, lat_v / 2), (0.01, lat_v / 2)], waterway="river", name="无桥河")
    path = osm.write(tmp_path / name)
    school = Polygon([(-0.0005, -0.0009), (0.0005, -0.0009), (0.0005, -0.0002), (-0.0005, -0.0002)])
    schools = gpd.GeoDataFrame(
        {"name": ["河南小学"], "kind": ["primary"], "township": ["甲镇"], "village": ["乙村"]},
        geometry=[school],
        index=pd.Index(["s1"], name="school_id"),
        crs=4326,
    )
    hazards = gpd.GeoDataFrame(
        {"name": ["河北网吧"], "category": ["internet_cafe"]},
        geometry=[Point(lon_v, lat_v)],
        index=pd.Index(["v1"], name="hazard_id"),
        crs=4326,
    )
    entrances = gpd.GeoDataFrame(
        {"school_id": ["s1"]},
        geometry=[Point(gate)],
        index=pd.Index(["g1"], name="entrance_id"),
        crs=4326,
    )
    walk = (
        geod(gate, (0.0, 0.0))
        + geod((0.0, 0.0), (bridge_lon, 0.0))
        + meridian(0.0, lat_n, lon=bridge_lon)
        + geod((bridge_lon, lat_n), (0.0, lat_n))
        + geod((0.0, lat_n), (lon_v, lat_v))
    )
    return network.walk_network_from_osm(path), schools, hazards, entrances, walk


def test_river_without_bridge_150_m_straight_900_m_on_foot(tmp_path):
    net, schools, hazards, entrances, walk = _river(tmp_path, 0.0033687, "river.osm")
    assert walk == pytest.approx(920.1, abs=0.1)
    straight = screen(schools, hazards, dist=200, entrances=entrances)
    assert straight["distance_m"].iloc[0] == pytest.approx(150.0, abs=1e-6)
    on_foot = screen(schools, hazards, dist=200, profile="walk", entrances=entrances, network=net)
    assert on_foot.empty
    far = screen(schools, hazards, dist=1000, profile="walk", entrances=entrances, network=net)
    row = far.iloc[0]
    assert row["rule_id"] == "internet_cafe_1000m_walk"
    assert row["profile"] == "walk"
    assert row["distance_m"] == pytest.approx(walk, abs=1e-3)
    coords = [tuple(np.round(c, 7)) for c in row.geometry.coords]
    assert coords[0] == (0.0, -0.0002)  # from the gate
    assert (0.0033687, 0.0) in coords  # over the bridge
    assert GEOD.geometry_length(row.geometry) == pytest.approx(row["distance_m"], abs=1e-6)
    assert (row["school_lon"], row["school_lat"]) == pytest.approx((0.0, -0.0002))


def test_profile_all_marks_the_findings_whose_verdict_depends_on_it(tmp_path):
    net, schools, hazards, entrances, walk = _river(tmp_path, 0.0033687, "river.osm")
    both = screen(schools, hazards, dist=200, profile="all", entrances=entrances, network=net)
    assert sorted(both["profile"]) == ["boundary", "entrance"]
    assert sorted(both["rule_id"]) == ["internet_cafe_200m_boundary", "internet_cafe_200m_entrance"]
    assert both.index.is_unique
    assert both["profile_dependent"].tolist() == [True, True]
    assert both["walk_m"].iloc[0] == pytest.approx(walk, abs=1e-3)
    assert both["boundary_m"].iloc[0] == pytest.approx(150.0, abs=1e-6)
    note = both["notes"].iloc[0]
    assert "边界直线150.0米在内" in note
    assert f"步行{walk:.1f}米超出" in note
    assert "verdict depends on the profile" in note
    # the findings.csv carries the comparison columns after the fixed ones
    written = save_findings(both, tmp_path / "out")
    table = pd.read_csv(written["csv"], encoding="utf-8-sig")
    assert list(table.columns[-4:]) == ["profile_dependent", "boundary_m", "entrance_m", "walk_m"]
    assert table["walk_m"].iloc[0] == pytest.approx(round(walk, 3))
    # with a bridge straight across, every profile agrees
    # (the venue stands on the bridge's line: the walk is the straight 150 m)
    net2, schools, hazards, entrances, _ = _river(tmp_path, 0.0, "bridge.osm")
    agree = screen(schools, hazards, dist=200, profile="all", entrances=entrances, network=net2)
    assert sorted(agree["profile"]) == ["boundary", "entrance", "walk"]
    assert not agree["profile_dependent"].any()
    assert agree.set_index("profile")["distance_m"]["walk"] == pytest.approx(150.0, abs=1e-6)


def test_table_rules_under_all_keep_their_ids(tmp_path):
    net, schools, hazards, entrances, _ = _river(tmp_path, 0.0, "bridge.osm")
    found = screen(schools, hazards, profile="all", entrances=entrances, network=net)
    assert sorted(found["rule_id"]) == [
        "internet_cafe_200m",
        "internet_cafe_200m@entrance",
        "internet_cafe_200m@walk",
    ]
    plain = screen(schools, hazards, entrances=entrances)
    assert plain.index[0] in found.index  # the rule's own profile: same finding id


def test_an_inside_rule_under_all_profiles_is_kept_once_and_never_dependent(tmp_path):
    net, schools, _, entrances, _ = _river(tmp_path, 0.0, "bridge.osm")
    shop = gpd.GeoDataFrame(
        {"name": ["校内小卖部"], "category": ["tuck_shop"]},
        geometry=[Point(0.0, -0.0005)],  # inside the campus, 33 m from its gate
        index=pd.Index(["t1"], name="hazard_id"),
        crs=4326,
    )
    for profile in ("walk", "entrance", "all"):
        found = screen(schools, shop, profile=profile, entrances=entrances, network=net)
        assert found[["rule_id", "profile", "distance_m"]].values.tolist() == [
            ["tuck_shop_inside", "boundary", 0.0]
        ]
    # decided on the outline under no profile: not dependent, the other distances not measured
    row = found.iloc[0]
    assert (bool(row["profile_dependent"]), row["boundary_m"]) == (False, 0.0)
    assert np.isnan(row["entrance_m"])
    assert np.isnan(row["walk_m"])


def test_walk_needs_a_network_and_points(tmp_path, comb):
    net, schools, hazards, entrances, _ = _river(tmp_path, 0.0, "bridge.osm")
    with pytest.raises(_errors.InputDataError, match="walk profile measures along the street"):
        screen(schools, hazards, profile="walk", entrances=entrances)
    with pytest.raises(_errors.InputDataError, match="must be points"):
        network.walking_routes(net, schools.geometry, hazards.geometry, limit=100)
    with pytest.raises(_errors.InputDataError, match="does not exist"):
        network.walk_network_from_osm(tmp_path / "missing.osm")
    empty = OsmBuilder()
    empty.way([(0, 0), (0.001, 0)], waterway="river")
    with pytest.raises(_errors.InputDataError, match="no walkable ways"):
        network.walk_network_from_osm(empty.write(tmp_path / "river_only.osm"))


def test_school_without_gates_walks_from_its_outline_and_venue_entrances(tmp_path):
    net, schools, hazards, _, _ = _river(tmp_path, 0.0, "bridge.osm")
    no_gate = screen(schools, hazards, dist=400, profile="walk", network=net)
    assert no_gate["notes"].iloc[0] == NOTE_NO_ENTRANCE_WALK
    # a venue whose entrance is known is walked to at its entrance
    door = GEOD.fwd(hazards.geometry.x.iloc[0], hazards.geometry.y.iloc[0], 90.0, 30.0)[:2]
    doors = gpd.GeoDataFrame(
        {"hazard_id": ["v1"]}, geometry=[Point(door)], index=pd.Index(["d1"]), crs=4326
    )
    direct = screen(schools, hazards, dist=400, profile="walk", network=net)
    via_door = screen(
        schools, hazards, dist=400, profile="walk", network=net, hazard_entrances=doors
    )
    end = via_door.geometry.iloc[0].coords[-1]
    assert end == pytest.approx(door, abs=1e-9)
    assert via_door["distance_m"].iloc[0] > direct["distance_m"].iloc[0] + 20.0


def test_demo_walk_findings_are_routes_from_gates(demo_osm, demo_net):
    found = screen(
        demo_osm.schools,
        demo_osm.hazards,
        entrances=demo_osm.entrances,
        network=demo_net,
        profile="walk",
    )
    straight = screen(
        demo_osm.schools,
        demo_osm.hazards,
        entrances=demo_osm.entrances,
        profile="entrance",
        dist=500,
    )
    assert len(found) == 51  # venues only: water, crossings and cameras are context
    assert (found["profile"] == "walk").all()
    # a walk is never shorter than the straight line from the nearest gate
    key = ["school_id", "hazard_id"]
    both = found.merge(straight[[*key, "distance_m"]], on=key, suffixes=("", "_straight"))
    assert len(both) == len(found)
    assert (both["distance_m"] >= both["distance_m_straight"] - 1e-6).all()
    # every route is as long as its distance and starts at a gate of its school
    lengths = np.array([GEOD.geometry_length(g) for g in found.geometry])
    # README (walk_bench): "Every route's ellipsoidal length equals its distance (largest
    # difference 7e-9 m)": asserted at that bound here too
    np.testing.assert_allclose(lengths, found["distance_m"].to_numpy(), rtol=0, atol=7e-9)
    gates = demo_osm.entrances
    gated = found[found["school_id"].isin(gates["school_id"])]
    start = shapely.points([g.coords[0] for g in gated.geometry])
    own = gates.set_index("school_id").geometry
    d = [
        shapely.distance(own.loc[[s]].values, p).min()
        for s, p in zip(gated["school_id"], start, strict=True)
    ]
    assert max(d) < 1e-9  # degrees: the route starts on the gate


def test_router_agrees_with_networkx_on_a_real_city(tmp_path):
    path = osm_extract("nanjing_xinjiekou_2021.osm.bz2")
    net = network.walk_network_from_osm(path)
    # 1,775 walkable segments, 1,356 nodes in the largest component; simplified
    assert (len(net.nodes), len(net.edges)) == (456, 658)
    graph = nx.Graph()
    for row in net.edges.itertuples():
        old = graph.get_edge_data(row.u, row.v, {}).get("w", np.inf)
        graph.add_edge(row.u, row.v, w=min(old, row.length_m))
    assert nx.is_connected(graph)
    rng = np.random.default_rng(7)
    ids = net.nodes.index.to_numpy()
    a, b = rng.choice(ids, 12, replace=False).reshape(2, 6)
    origins = gpd.GeoSeries(
        net.nodes.geometry.loc[a].values, index=[f"a{i}" for i in range(6)], crs=4326
    )
    targets = gpd.GeoSeries(
        net.nodes.geometry.loc[b].values, index=[f"b{i}" for i in range(6)], crs=4326
    )
    pairs = pd.DataFrame({"group": origins.index, "target": targets.index})
    routes = network.walking_routes(net, origins, targets, pairs=pairs)
    truth = [nx.shortest_path_length(graph, x, y, weight="w") for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(routes["distance_m"], truth, atol=1e-6)
    assert routes["distance_m"].min() > 100


@pytest.fixture(scope="module")
def demo_osm():
    from campus_geo import demo, layers

    return layers.layers_from_osm(demo.DEMO_DIR / "district.osm")


@pytest.fixture(scope="module")
def demo_net():
    from campus_geo import demo

    return network.walk_network_from_osm(demo.DEMO_DIR / "district.osm")


# --------------------------------------------------------------------------- command line


def _river_osm_with_school(tmp_path):
    """The river case as one OSM file: school outline with its gate, venue, streets."""
    gate = (0.0, -0.0002)
    lon_v, lat_v, _ = GEOD.fwd(gate[0], gate[1], 0.0, 150.0)
    lat_n = lat_v + 10.0 / 110574.0
    bridge = 0.0033687
    osm = OsmBuilder()
    osm.node(*gate, barrier="gate", entrance="main")
    outline = [(-0.0005, -0.0009), (0.0005, -0.0009), (0.0005, -0.0002), gate, (-0.0005, -0.0002)]
    osm.way([*outline, outline[0]], amenity="school", name="河南小学")
    osm.node(lon_v, lat_v, amenity="internet_cafe", name="河北网吧")
    osm.way([(-0.001, 0.0), (0.0, 0.0), (bridge, 0.0), (0.006, 0.0)], highway="residential")
    osm.way([(-0.001, lat_n), (0.0, lat_n), (bridge, lat_n), (0.006, lat_n)], highway="residential")
    osm.way([(bridge, 0.0), (bridge, lat_n)], highway="residential", bridge="yes")
    osm.way([gate, (0.0, 0.0)], highway="footway")
    osm.way([(-0.002, lat_v / 2), (0.01, lat_v / 2)], waterway="river", name="无桥河")
    return osm.write(tmp_path / "river_school.osm")


def test_cli_profile_all_and_walk(tmp_path):
    from click.testing import CliRunner

    from campus_geo.cli import cli

    path = _river_osm_with_school(tmp_path)
    out = tmp_path / "out"
    args = ["-q", "screen", "--osm", str(path), "--no-evidence", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--profile", "all"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    cafe = table[table["category"] == "internet_cafe"]
    assert sorted(cafe["profile"]) == ["boundary", "entrance"]
    assert cafe["profile_dependent"].tolist() == [True, True]
    assert cafe["walk_m"].iloc[0] == pytest.approx(920.1, abs=0.1)
    # the river is context for the drowning analysis, not a finding under any profile
    assert "water" not in set(table["category"])
    summary = (out / "summary.html").read_text("utf-8")
    assert '<section id="water" class="analysis">' in summary
    result = CliRunner().invoke(cli, [*args, "--profile", "walk", "--dist", "1000"])
    assert result.exit_code == 0, result.output
    walk = pd.read_csv(out / "findings.csv", encoding="utf-8-sig")
    assert walk[["rule_id", "profile"]].values.tolist() == [
        ["internet_cafe_1000m_walk", "walk"],
    ]
    assert walk["distance_m"].iloc[0] == pytest.approx(920.1, abs=0.1)


def test_cli_walk_without_streets_exits_2(tmp_path):
    from click.testing import CliRunner

    from campus_geo.cli import cli

    schools = tmp_path / "s.geojson"
    gpd.GeoDataFrame({"id": ["s1"], "name": ["甲小学"]}, geometry=[Point(0, 0)], crs=4326).to_file(
        schools, driver="GeoJSON", engine="pyogrio"
    )
    venues = tmp_path / "v.csv"
    pd.DataFrame({"id": ["v1"], "lon": [0.001], "lat": [0.0]}).to_csv(venues, index=False)
    result = CliRunner().invoke(
        cli,
        [
            "screen",
            "--schools",
            str(schools),
            "--hazards",
            f"lottery={venues}",
            "--profile",
            "walk",
            "--no-evidence",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "the walk profile measures along the street network" in result.output
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- OSM PBF


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("name", "size", "walks"),
    [
        # 15: the tuck shop 二食堂小卖部 inside 金陵中学 (the inside rule, 0 m) among them
        ("nanjing_xinjiekou_2021.osm.bz2", (456, 658), 15),
        ("beijing_haidian_wudaokou_2017.osm.bz2", (736, 1043), 2),
    ],
)
def test_pbf_gives_the_same_network_and_walk_findings_as_xml(tmp_path, name, size, walks):
    from campus_geo.layers import layers_from_osm

    src = osm_extract(name)
    pbf = to_pbf(src, tmp_path)
    a, b = network.walk_network_from_osm(src), network.walk_network_from_osm(pbf)
    assert (len(a.nodes), len(a.edges)) == (len(b.nodes), len(b.edges)) == size
    assert a.nodes.index.equals(b.nodes.index)
    columns = ["u", "v", "highway", "name", "length_m"]
    pd.testing.assert_frame_equal(pd.DataFrame(a.edges[columns]), pd.DataFrame(b.edges[columns]))
    assert a.edges.geometry.geom_equals_exact(b.edges.geometry, tolerance=0).all()
    xml, from_pbf = layers_from_osm(src), layers_from_osm(pbf)
    # context=True: water and traffic points too, for more routes to compare
    fa = screen(
        xml.schools, xml.hazards, entrances=xml.entrances, network=a, profile="walk", context=True
    )
    fb = screen(
        from_pbf.schools,
        from_pbf.hazards,
        entrances=from_pbf.entrances,
        network=b,
        profile="walk",
        context=True,
    )
    assert len(fa) == walks
    assert fb.index.tolist() == fa.index.tolist()  # ids hash school, hazard and rule
    np.testing.assert_allclose(fb["distance_m"], fa["distance_m"], rtol=0, atol=1e-6)
    assert fb.geometry.geom_equals_exact(fa.geometry, tolerance=1e-12).all()  # the same routes
    inside = fa["rule_id"] == "tuck_shop_inside"  # decided on the outline, under no profile
    assert (fa.loc[~inside, "profile"] == "walk").all()
    assert (fa.loc[inside, "profile"] == "boundary").all()


def test_cli_walk_profile_reads_pbf(tmp_path):
    from click.testing import CliRunner

    from campus_geo.cli import cli

    pbf = to_pbf(_river_osm_with_school(tmp_path), tmp_path)
    src = tmp_path / "river_7.osm"  # the same data in XML: coordinates to 7 decimals, as in PBF
    with osmium.SimpleWriter(str(src)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)
    tables = []
    for path in (src, pbf):
        out = tmp_path / path.name.replace(".", "_")
        args = ["-q", "screen", "--osm", str(path), "--profile", "walk", "--dist", "1000"]
        args += ["--no-evidence", "--school-maps", "none", "--out", str(out)]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        tables.append(pd.read_csv(out / "findings.csv", encoding="utf-8-sig"))
    xml, from_pbf = tables
    assert from_pbf["finding_id"].tolist() == xml["finding_id"].tolist()
    assert from_pbf["distance_m"].tolist() == xml["distance_m"].tolist()
    assert from_pbf["distance_m"].iloc[0] == pytest.approx(920.1, abs=0.1)  # across the bridge


def test_pbf_without_streets_is_an_input_error(tmp_path):
    osm = OsmBuilder()
    osm.way([(0.0, 0.0), (0.001, 0.0)], waterway="river")
    pbf = to_pbf(osm.write(tmp_path / "river.osm"), tmp_path)
    with pytest.raises(_errors.InputDataError, match="has no streets"):
        network.walk_network_from_osm(pbf)
    with pytest.raises(_errors.InputDataError, match="does not exist"):
        network.walk_network_from_osm(tmp_path / "missing.osm.pbf")


def test_merged_tags_keep_one_value_in_a_fixed_order():
    # osmnx merges the tags of a simplified edge into list(set(...)): its order changes with
    # the hash seed of the process, the value kept must not
    assert network_graph._first(["residential", "primary", "footway"]) == "primary"
    assert (
        network_graph._first(["学府街", "兴业路"])
        == network_graph._first(["兴业路", "学府街"])
        == "兴业路"
    )
    assert network_graph._first([]) is None
    assert network_graph._first("文化街") == "文化街"
