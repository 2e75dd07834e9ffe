"""The demo district's hazards: planted pairs, water bodies, venues, traffic points, cameras.

Private to :mod:`campus_geo.demo`. Planted pairs come first, so that nothing
placed later can break them: every later hazard of a planted pair's category
keeps :data:`~campus_geo.demo.model.EXCLUSION_M` metres from that pair's school.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from shapely import STRtree
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from campus_geo.demo.model import (
    DISTRICT,
    EXCLUSION_M,
    HAZARD_WEIGHTS,
    NEUTRAL_RANDOM,
    NEUTRAL_TOWN,
    PLANTS,
    PREFIXES,
    VARIANTS,
    XMAX,
    XMIN,
    YMAX,
    YMIN,
    District,
    Plant,
    PlantSpec,
    School,
    Settlement,
    Venue,
    Water,
    angle_diff,
    azimuth_xy,
    lerp,
)
from campus_geo.demo.osm import (
    GEOD,
    XY,
    LonLat,
    geodesic_fwd,
    min_geodesic_distance,
    snap_to_lattice,
    to_lonlat,
    to_xy,
)

__all__ = ["add_traffic_and_cameras", "build_water_bodies", "plant_pairs", "scatter_venues"]

_INNER: Final = DISTRICT.buffer(-30.0)
_POND_NAMES: Final = ("王家塘", "李家坑", "荷花塘", "东大坑", "柳树塘", "马家塘", "南塘", "西大坑")
_TOWN_VENUES: Final = {"街道": (40, 8), "镇": (22, 5), "乡": (14, 3)}
_HAMLET_VENUES: Final = (3, 1)
_HOSPITALS: Final = {"鹤鸣": "青禾区人民医院", "文苑": "青禾区中医院"}
_CANAL: Final = "幸福渠"
_DECOYS: Final = ("party_school", "teacher_school", "university")


# ---------------------------------------------------------------------------
# venues and names


def _unique_name(d: District, variant: str, short: str) -> str:
    if variant == "hospital" and short in _HOSPITALS:
        d.used_names.add(_HOSPITALS[short])
        return _HOSPITALS[short]
    templates = VARIANTS[variant][2]
    prefixes = list(PREFIXES)
    d.rng.shuffle(prefixes)
    for prefix in prefixes + [short + p for p in prefixes]:
        name = d.rng.choice(templates).format(p=prefix, t=short)
        if name not in d.used_names:
            d.used_names.add(name)
            return name
    msg = f"ran out of names for {variant}"
    raise RuntimeError(msg)


def _street_index(d: District) -> tuple[STRtree, list[str]]:
    named = [w for w in d.street_ways() if d.osm.ways[w].tags.get("name")]
    return STRtree([d.osm.line(w) for w in named]), [d.osm.ways[w].tags["name"] for w in named]


def _add_venue(
    d: District,
    variant: str,
    xy: XY,
    *,
    lonlat: LonLat | None = None,
    in_osm: bool = True,
    planted: bool = False,
) -> Venue:
    town, village = d.locate(xy)
    name = _unique_name(d, variant, town.short)
    tree, names = d.street_index if d.street_index else _street_index(d)
    nearest = int(tree.nearest(Point(xy)))
    near = tree.geometries[nearest].distance(Point(xy)) <= 60.0
    place = names[nearest] if near else village.name
    number = str(d.rng.randint(1, 199))
    address = f"许安市青禾区{town.name}{place}{number}号"
    ref = ""
    lonlat = lonlat or to_lonlat(xy)
    if in_osm:
        tags = dict(VARIANTS[variant][1])
        tags["name"] = name
        if d.rng.random() < 0.5 and near:
            tags.update({"addr:street": place, "addr:housenumber": number})
        node = d.osm.node_ll(lonlat, tags)
        ref = f"node/{node}"
    venue = Venue(name, variant, to_xy(lonlat), lonlat, town.name, address, ref, planted)
    d.venues.append(venue)
    return venue


def _excluded(d: District, geom: BaseGeometry, category: str | None) -> bool:
    """Whether a new hazard of ``category`` would come near a planted pair's school."""
    return any(
        p.category == category and p.school.geom.distance(geom) < EXCLUSION_M for p in d.plants
    )


# ---------------------------------------------------------------------------
# planted pairs


@dataclass(frozen=True)
class _Edge:
    """A campus edge on the ellipsoid: corners, midpoint, azimuths (degrees)."""

    c1: LonLat
    c2: LonLat
    length: float
    mid: LonLat
    az_mid: float
    az_c1: float
    az_c2: float
    sign: float  # outward normal = edge azimuth + sign * 90

    @property
    def az_out(self) -> float:
        return (self.az_mid + self.sign * 90.0) % 360.0


def _edge(d: District, school: School, pair: tuple[int, int]) -> _Edge:
    osm = d.osm
    c1, c2 = osm.lonlat[pair[0]], osm.lonlat[pair[1]]
    az12, az21, length = GEOD.inv(c1[0], c1[1], c2[0], c2[1])
    mid, az_mid = geodesic_fwd(c1, float(az12), float(length) / 2)
    p1, p2 = osm.xy[pair[0]], osm.xy[pair[1]]
    m = lerp(p1, p2, 0.5)
    normal = ((p2[1] - p1[1]) / math.dist(p1, p2), -(p2[0] - p1[0]) / math.dist(p1, p2))
    if school.geom.contains(Point(m[0] + normal[0], m[1] + normal[1])):
        normal = (-normal[0], -normal[1])
    sign = 1.0 if angle_diff(az_mid + 90.0, azimuth_xy(normal)) < 90.0 else -1.0
    return _Edge(c1, c2, float(length), mid, az_mid, float(az12), (float(az21) + 180.0) % 360, sign)


def plant_pairs(d: District) -> None:
    """Plant every pair of :data:`~campus_geo.demo.model.PLANTS` (lines, polygons, points)."""
    d.refresh_streets()
    order = sorted(PLANTS, key=lambda p: ("line", "polygon", "point").index(p.geometry))
    for spec in order:
        if not _plant(d, spec):
            msg = f"could not plant {spec}"
            raise RuntimeError(msg)


def _plant(d: District, spec: PlantSpec) -> bool:
    taken = {p.school.name for p in d.plants}
    candidates = [
        s for s in d.schools if s.clean_edges and s.kind in spec.kinds and s.name not in taken
    ]
    d.rng.shuffle(candidates)
    hamlet_first = spec.geometry == "line"
    candidates.sort(key=lambda s: (spec.kinds.index(s.kind), s.settlement.is_town and hamlet_first))
    makers: dict[str, Callable[[District, PlantSpec, School, _Edge], bool]] = {
        "point": _plant_point,
        "polygon": _plant_polygon,
        "line": _plant_line,
    }
    for school in candidates:
        edges = list(school.clean_edges)
        d.rng.shuffle(edges)
        for pair in edges:
            if makers[spec.geometry](d, spec, school, _edge(d, school, pair)):
                return True
    return False


def _plant_ok(d: District, spec: PlantSpec, school: School, geom: BaseGeometry) -> bool:
    water = d.water_geom()
    if spec.geometry == "line":
        clear = school.geom.distance(water) >= EXCLUSION_M and _along_streets(d, geom) <= 150.0
    else:
        clear = geom.distance(d.streets_geom) >= 4.0 and geom.distance(water) >= 8.0
    limit = spec.design_m + 15.0
    nearer = any(o is not school and o.geom.distance(geom) <= limit for o in d.schools)
    return _INNER.contains(geom) and clear and not nearer and not _clashes(d, spec, school, geom)


def _clashes(d: District, spec: PlantSpec, school: School, geom: BaseGeometry) -> bool:
    """Whether a new planted hazard comes too near an earlier planted pair."""
    for p in d.plants:
        if p.geom.distance(geom) < 8.0:
            return True
        same = p.category == spec.category
        if same and min(p.geom.distance(school.geom), geom.distance(p.school.geom)) < EXCLUSION_M:
            return True
    return False


def _along_streets(d: District, line: BaseGeometry) -> float:
    """Length of street within 8 m of ``line`` (a canal should cross streets, not follow them)."""
    return float(line.buffer(8.0).intersection(d.streets_geom).length)


def _edge_error(edge: _Edge, design: float) -> Callable[[LonLat], float]:
    """Distance error of a point from the campus edge (the nearest part by construction)."""
    return lambda p: min_geodesic_distance([p], [edge.c1, edge.c2]) - design


def _plant_point(d: District, spec: PlantSpec, school: School, edge: _Edge) -> bool:
    ideal, _ = geodesic_fwd(edge.mid, edge.az_out, spec.design_m)
    if not _plant_ok(d, spec, school, Point(to_xy(ideal))):
        return False
    pos = snap_to_lattice(ideal, _edge_error(edge, spec.design_m))
    venue = _add_venue(d, spec.variant, to_xy(pos), lonlat=pos, planted=True)
    d.plants.append(
        Plant(school, spec.category, venue.ref, venue.name, spec.design_m, Point(venue.xy), [pos])
    )
    return True


def _plant_polygon(d: District, spec: PlantSpec, school: School, edge: _Edge) -> bool:
    """A fuel station whose near side runs parallel to the campus edge at the design distance."""
    if edge.length < 46.0:
        return False
    g1, az1 = geodesic_fwd(edge.mid, edge.az_mid + 180.0, 15.0)
    g2, az2 = geodesic_fwd(edge.mid, edge.az_mid, 15.0)
    out1 = (az1 + 180.0 + edge.sign * 90.0) % 360.0
    out2 = (az2 + edge.sign * 90.0) % 360.0
    dist = spec.design_m
    ideal = [
        geodesic_fwd(g1, out1, dist)[0],
        geodesic_fwd(g2, out2, dist)[0],
        geodesic_fwd(g2, out2, dist + 32.0)[0],
        geodesic_fwd(g1, out1, dist + 32.0)[0],
    ]
    if not _plant_ok(d, spec, school, Polygon([to_xy(p) for p in ideal])):
        return False
    error = _edge_error(edge, dist)
    corners = [snap_to_lattice(p, error) for p in ideal[:2]] + ideal[2:]
    nodes = [d.osm.node_ll(p) for p in corners]
    venue = _add_venue(d, spec.variant, d.osm.xy[nodes[0]], in_osm=False, planted=True)
    tags = {**dict(VARIANTS[spec.variant][1]), "name": venue.name}
    way = d.osm.way([*nodes, nodes[0]], tags)
    venue.ref = f"way/{way}"
    polygon = d.osm.polygon(way)
    venue.xy = (polygon.centroid.x, polygon.centroid.y)
    venue.lonlat = to_lonlat(venue.xy)
    d.plants.append(
        Plant(school, spec.category, venue.ref, venue.name, dist, polygon, d.osm.coords_ll(way))
    )
    return True


def _bend(
    start: LonLat, toward: LonLat, outward: float, lengths: tuple[float, float]
) -> list[LonLat]:
    """Two canal vertices leaving ``start`` away from ``toward``, turning outward."""
    az = (float(GEOD.inv(start[0], start[1], toward[0], toward[1])[0]) + 180.0) % 360.0
    turn = 35.0 if angle_diff(az + 35.0, outward) < angle_diff(az - 35.0, outward) else -35.0
    first, az1 = geodesic_fwd(start, az + turn, lengths[0])
    second, _ = geodesic_fwd(first, az1 + turn * 0.6, lengths[1])
    return [first, second]


def _plant_line(d: District, spec: PlantSpec, school: School, edge: _Edge) -> bool:
    """A straight canal reach parallel to the campus edge at the design distance."""
    dist = spec.design_m
    e1, az_e1 = geodesic_fwd(edge.c1, edge.az_c1 + 180.0, 500.0)
    e2, az_e2 = geodesic_fwd(edge.c2, edge.az_c2, 500.0)
    a = geodesic_fwd(e1, az_e1 + 180.0 + edge.sign * 90.0, dist)[0]
    b = geodesic_fwd(e2, az_e2 + edge.sign * 90.0, dist)[0]
    far = [geodesic_fwd(edge.c1, edge.az_c1 + 180.0, 900.0)[0]]
    far.append(geodesic_fwd(edge.c2, edge.az_c2, 900.0)[0])
    for lengths in ((700.0, 1500.0), (500.0, 800.0), (300.0, 300.0)):
        head = _bend(a, b, edge.az_out, lengths)
        tail = _bend(b, a, edge.az_out, lengths)
        coords = [head[1], head[0], a, b, tail[0], tail[1]]
        line = LineString([to_xy(p) for p in coords])
        if not _plant_ok(d, spec, school, line):
            continue

        def error(p: LonLat) -> float:
            return min_geodesic_distance([p], far) - dist

        coords[2], coords[3] = snap_to_lattice(a, error), snap_to_lattice(b, error)
        way = d.osm.way([d.osm.node_ll(p) for p in coords], {"waterway": "canal", "name": _CANAL})
        d.used_names.add(_CANAL)
        line = d.osm.line(way)
        d.waters.append(Water(_CANAL, f"way/{way}", line))
        coords_ll = d.osm.coords_ll(way)
        d.plants.append(Plant(school, "water", f"way/{way}", _CANAL, dist, line, coords_ll))
        return True
    return False


# ---------------------------------------------------------------------------
# ponds and the reservoir


def _blob(d: District, centre: XY, radius: float, count: int) -> Polygon:
    phase = d.rng.uniform(0.0, 2.0 * math.pi)
    points = []
    for k in range(count):
        r = radius * d.rng.uniform(0.82, 1.15)
        angle = phase + 2.0 * math.pi * k / count
        points.append((centre[0] + r * math.cos(angle), centre[1] + r * math.sin(angle)))
    return Polygon(points)


def _water_ok(d: District, poly: Polygon, school_gap: float, street_gap: float) -> bool:
    if not _INNER.contains(poly) or poly.distance(d.streets_geom) < street_gap:
        return False
    if any(s.geom.distance(poly) < school_gap for s in d.schools):
        return False
    if poly.distance(d.water_geom()) < 30.0:
        return False
    return not _excluded(d, poly, "water")


def _emit_water(d: District, poly: Polygon, tags: dict[str, str]) -> None:
    nodes = [d.osm.node(p) for p in list(poly.exterior.coords)[:-1]]
    way = d.osm.way([*nodes, nodes[0]], tags)
    d.waters.append(Water(tags["name"], f"way/{way}", d.osm.polygon(way)))
    d.used_names.add(tags["name"])


def build_water_bodies(d: District) -> None:
    """Ponds (four of them 50-200 m from a school) and the reservoir 青龙水库."""
    names = list(_POND_NAMES)
    schools = [s for s in d.schools if s.way and s.kind not in _DECOYS]
    d.rng.shuffle(schools)
    near = 0
    for school in schools:
        if near < 4 and _pond_near(d, school, names[near]):
            near += 1
    for name in names[near:]:
        for _ in range(300):
            centre = (d.rng.uniform(XMIN, XMAX), d.rng.uniform(YMIN, YMAX))
            poly = _blob(d, centre, d.rng.uniform(18.0, 45.0), 12)
            towns = (s.footprint() for s in d.settlements if s.is_town)
            if all(t.distance(poly) >= 250.0 for t in towns) and _water_ok(d, poly, 250.0, 15.0):
                _emit_water(d, poly, {"natural": "water", "water": "pond", "name": name})
                break
    _reservoir(d)


def _pond_near(d: District, school: School, name: str) -> bool:
    ring = list(school.geom.exterior.coords)
    k = d.rng.randrange(len(ring) - 1)
    p1, p2 = ring[k], ring[k + 1]
    length = math.dist(p1, p2)
    if length < 20.0:
        return False
    normal = ((p2[1] - p1[1]) / length, -(p2[0] - p1[0]) / length)
    m = lerp(p1, p2, 0.5)
    if school.geom.contains(Point(m[0] + normal[0], m[1] + normal[1])):
        normal = (-normal[0], -normal[1])
    radius = d.rng.uniform(15.0, 35.0)
    gap = d.rng.uniform(60.0, 160.0) + radius
    poly = _blob(d, (m[0] + gap * normal[0], m[1] + gap * normal[1]), radius, 12)
    if not 50.0 <= poly.distance(school.geom) <= 200.0 or not _water_ok(d, poly, 45.0, 8.0):
        return False
    _emit_water(d, poly, {"natural": "water", "water": "pond", "name": name})
    return True


def _reservoir(d: District) -> None:
    spots = [
        (x, y)
        for x in range(int(XMIN) + 1500, int(XMAX) - 1500, 500)
        for y in range(int(YMIN) + 1500, int(YMAX) - 1500, 500)
    ]
    d.rng.shuffle(spots)
    for radius in (600.0, 450.0, 350.0):
        for x, y in spots:
            poly = _blob(d, (float(x), float(y)), radius, 28)
            if _water_ok(d, poly, EXCLUSION_M, 150.0):
                tags = {"landuse": "reservoir", "natural": "water", "water": "reservoir"}
                _emit_water(d, poly, {**tags, "name": "青龙水库"})
                return
    msg = "no room for the reservoir"
    raise RuntimeError(msg)


# ---------------------------------------------------------------------------
# scattered venues


def scatter_venues(d: District) -> None:
    """Scatter venues of every category along the streets of every settlement.

    Also places fuel stations along the arterials and the venues that are only in
    the business registry.
    """
    d.refresh_streets()
    d.street_index = _street_index(d)
    keys = [k for k, _ in HAZARD_WEIGHTS]
    weights = [w for _, w in HAZARD_WEIGHTS]
    for st in d.settlements:
        hazards, neutral = _TOWN_VENUES[st.township.suffix] if st.is_town else _HAMLET_VENUES
        variants = d.rng.choices(keys, weights, k=hazards)
        if st.township.short == "鹤鸣" and st.is_town:  # every variant at least once
            variants = keys + variants[len(keys) :]
        variants += d.rng.choices(NEUTRAL_RANDOM, k=neutral)
        if st.is_town:
            variants += list(NEUTRAL_TOWN)
        for variant in variants:
            spot = _spot(d, st, VARIANTS[variant][0])
            if spot is not None:
                _add_venue(d, variant, spot)
    _rural_fuel(d)
    _registry_only(d)


def _spot_ok(d: District, xy: XY, category: str | None) -> bool:
    point = Point(xy)
    if not _INNER.contains(point) or point.distance(d.streets_geom) < 6.0:
        return False
    if any(s.geom.distance(point) < 10.0 for s in d.schools):
        return False
    if any(math.dist(v.xy, xy) < 6.0 for v in d.venues):
        return False
    if point.distance(d.water_geom()) < 8.0:
        return False
    return category is None or not _excluded(d, point, category)


def _spot(d: District, st: Settlement, category: str | None) -> XY | None:
    rng = d.rng
    for _ in range(60):
        nodes = d.osm.ways[rng.choice(st.streets())].nodes
        k = rng.randrange(len(nodes) - 1)
        a, b = d.osm.xy[nodes[k]], d.osm.xy[nodes[k + 1]]
        length = math.dist(a, b)
        if length < 30.0:
            continue
        p = lerp(a, b, rng.uniform(0.1, 0.9))
        off = rng.choice((-1.0, 1.0)) * rng.uniform(10.0, 22.0)
        xy = (p[0] + off * (a[1] - b[1]) / length, p[1] + off * (b[0] - a[0]) / length)
        if _spot_ok(d, xy, category):
            return xy
    return None


def _rural_fuel(d: District) -> None:
    links = [w for w in d.arterials if d.osm.ways[w].tags["highway"] in ("primary", "secondary")]
    towns = [s.footprint() for s in d.settlements]
    made = 0
    while made < 6:
        nodes = d.osm.ways[d.rng.choice(links)].nodes
        k = d.rng.randrange(1, len(nodes) - 1)
        a, b = d.osm.xy[nodes[k - 1]], d.osm.xy[nodes[k + 1]]
        length = math.dist(a, b)
        p = d.osm.xy[nodes[k]]
        xy = (p[0] + 25.0 * (a[1] - b[1]) / length, p[1] + 25.0 * (b[0] - a[0]) / length)
        if any(t.distance(Point(xy)) < 300.0 for t in towns):
            continue
        if _spot_ok(d, xy, "dangerous_site"):
            _add_venue(d, ("fuel", "fuel_cnpc")[made % 2], xy)
            made += 1


def _registry_only(d: District) -> None:
    """Licensed venues that OSM does not have (the registry knows more than the map)."""
    keys = [k for k, _ in HAZARD_WEIGHTS if VARIANTS[k][1][0] != ("shop", "yes")]
    variants = d.rng.choices(keys, k=24)
    variants += ["supermarket_tobacco"] * 3 + ["supermarket", "restaurant"] * 6
    towns = [s for s in d.settlements if s.is_town]
    for variant in variants:
        st = d.rng.choice(towns)
        spot = _spot(d, st, VARIANTS[variant][0])
        if spot is not None:
            _add_venue(d, variant, spot, in_osm=False)


# ---------------------------------------------------------------------------
# traffic points and cameras


def _camera(d: District, xy: XY, zone: str, direction: float | None) -> None:
    tags = {
        "man_made": "surveillance",
        "surveillance": "public",
        "surveillance:type": "camera",
        "surveillance:zone": zone,
        "operator": "青禾区公安局",
    }
    if direction is None:
        tags["camera:type"] = "dome"
    else:
        tags["camera:type"] = "fixed"
        tags["camera:direction"] = str(round(direction) % 360)
        tags["camera:angle"] = str(d.rng.choice((15, 20, 25, 30)))
    d.osm.node(xy, tags)


def _street_dir(d: District, way: int, node: int) -> XY:
    nodes = d.osm.ways[way].nodes
    k = nodes.index(node)
    a = d.osm.xy[nodes[max(0, k - 1)]]
    b = d.osm.xy[nodes[min(len(nodes) - 1, k + 1)]]
    length = math.dist(a, b)
    return ((b[0] - a[0]) / length, (b[1] - a[1]) / length)


def _school_traffic(d: District, school: School) -> None:
    rng, osm = d.rng, d.osm
    for k, (gate, way, link) in enumerate(
        zip(school.gates, school.gate_streets, school.gate_links, strict=True)
    ):
        g, p = osm.xy[gate], osm.xy[link]
        along = _street_dir(d, way, link)
        if k == 0 and rng.random() < 0.65:
            shift = rng.choice((-1.0, 1.0)) * rng.uniform(25.0, 45.0)
            to_gate = ((g[0] - p[0]) / math.dist(g, p), (g[1] - p[1]) / math.dist(g, p))
            stop = (
                p[0] + shift * along[0] + 4.0 * to_gate[0],
                p[1] + shift * along[1] + 4.0 * to_gate[1],
            )
            tags = {"highway": "bus_stop", "public_transport": "platform", "bus": "yes"}
            osm.node(stop, {**tags, "name": school.name + "站"})
        if rng.random() < (0.8 if k == 0 else 0.35):
            side = rng.choice((-1.0, 1.0)) * 5.0
            cam = lerp(g, p, 0.6)
            cam = (cam[0] + side * along[0], cam[1] + side * along[1])
            _camera(d, cam, "town", azimuth_xy((g[0] - cam[0], g[1] - cam[1])))
    if rng.random() < 0.5:
        _signal_near(d, school)


def _junctions(st: Settlement) -> list[tuple[int, int]]:
    """Grid nodes where streets cross (not the four corners), with their row index."""
    last = st.lines - 1
    return [
        (st.grid[a][b], b)
        for a in range(st.lines)
        for b in range(st.lines)
        if not (a in (0, last) and b in (0, last))
    ]


def _signal_near(d: District, school: School) -> None:
    p = d.osm.xy[school.gate_links[0]]
    nodes = [n for n, _ in _junctions(school.settlement)]
    best = min(nodes, key=lambda n: math.dist(d.osm.xy[n], p))
    if math.dist(d.osm.xy[best], p) <= 200.0 and "highway" not in d.osm.node_tags.get(best, {}):
        d.osm.tag(best, {"highway": "traffic_signals"})


def add_traffic_and_cameras(d: District) -> None:
    """Bus stops, signals and cameras near school gates; cameras at town junctions."""
    for school in d.schools:
        if school.gates:
            _school_traffic(d, school)
    domes = 0
    for st in d.settlements:
        if not st.is_town:
            continue
        mid = st.lines // 2
        centre = st.grid[mid][mid]
        d.osm.tag(centre, {"highway": "traffic_signals"})
        c = d.osm.xy[centre]
        if domes < 4:
            _camera(d, (c[0] + 6.0, c[1] + 6.0), "town", None)
            domes += 1
        for node, row in _junctions(st):
            if node != centre and d.rng.random() > 0.3:
                continue
            q = d.osm.xy[node]
            along = _street_dir(d, st.rows[row], node)
            heading = azimuth_xy(along) + d.rng.choice((0.0, 180.0))
            _camera(d, (q[0] - 5.0 * along[1] + 3.0, q[1] + 5.0 * along[0]), "traffic", heading)
