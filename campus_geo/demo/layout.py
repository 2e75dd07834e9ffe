"""The demo district's land: townships and villages, rivers, streets, hamlets, schools.

Private to :mod:`campus_geo.demo`. Each step adds OSM elements to the
:class:`~campus_geo.demo.model.District` in a fixed order with its one
``random.Random``, so the same seed always lays out the same district.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from shapely.geometry import LineString, MultiLineString, Point, Polygon

from campus_geo.demo.model import (
    AMENITY,
    ARTERIAL_COLS,
    ARTERIAL_ROWS,
    COL_STREETS,
    COMMUNITY_BASES,
    DISTRICT,
    KG_BRANDS,
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    MIDDLE_SCHOOLS,
    ROW_STREETS,
    SIZES,
    TOWNSHIPS,
    URBAN_SCHOOLS,
    VILLAGE_BASES,
    XMAX,
    XMIN,
    YMAX,
    YMIN,
    District,
    School,
    Settlement,
    Township,
    Village,
    Water,
    bilinear,
    chaikin,
    densify,
    lerp,
)
from campus_geo.demo.osm import XY, OsmStore, to_lonlat, to_xy

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# 1. townships and villages


def build_admin(d: District) -> None:
    """Lay out the townships as a jittered 3 x 3 grid, each tiled by its villages."""
    rng, osm = d.rng, d.osm
    xs = [XMIN + (XMAX - XMIN) * i / 3 for i in range(4)]
    ys = [YMIN + (YMAX - YMIN) * j / 3 for j in range(4)]
    verts: dict[tuple[int, int], XY] = {}
    for i in range(4):
        for j in range(4):
            jx = rng.uniform(-350.0, 350.0) if 0 < i < 3 else 0.0
            jy = rng.uniform(-300.0, 300.0) if 0 < j < 3 else 0.0
            verts[i, j] = (xs[i] + jx, ys[j] + jy)
    vnode = {key: osm.node(xy) for key, xy in verts.items()}
    # every grid edge keeps its nodes by parameter t so that neighbours share them
    edges: dict[tuple[str, int, int], list[tuple[float, int]]] = {}
    for (i, j), node in vnode.items():
        if i < 3:
            edges.setdefault(("h", i, j), []).append((0.0, node))
            edges["h", i, j].append((1.0, vnode[i + 1, j]))
        if j < 3:
            edges.setdefault(("v", i, j), []).append((0.0, node))
            edges["v", i, j].append((1.0, vnode[i, j + 1]))
    bases = list(VILLAGE_BASES)
    rng.shuffle(bases)
    communities = list(COMMUNITY_BASES)
    rng.shuffle(communities)
    plans = []
    for (i, j), short, suffix, lines, spacing, frac in TOWNSHIPS:
        quad = [verts[i, j], verts[i + 1, j], verts[i + 1, j + 1], verts[i, j + 1]]
        plan = _village_plan(rng, suffix)
        _register_splits(osm, edges, quad, (i, j), plan)
        plans.append((quad, plan))
        fu = frac[0] + (rng.uniform(-0.06, 0.06) if frac[0] == 0.5 else 0.0)
        fv = frac[1] + rng.uniform(-0.06, 0.06)
        d.townships.append(
            Township(
                name=short + suffix,
                short=short,
                suffix=suffix,
                cell=(i, j),
                lines=lines,
                spacing=spacing,
                centre=bilinear(quad, fu, fv),
                theta=math.radians(rng.uniform(-18.0, 18.0)),
            )
        )
    for town, (quad, plan) in zip(d.townships, plans, strict=True):
        pool = communities if town.suffix == "街道" else bases
        _build_villages(d, town, quad, plan, edges, pool)
    _build_district_outline(d, edges)


def _village_plan(rng: random.Random, suffix: str) -> tuple[list[float], list[float]]:
    count = rng.choice((2, 3)) if suffix == "街道" else rng.choice((3, 3, 4))
    shapes = {2: ((2, 1), (1, 2)), 3: ((3, 1), (1, 3)), 4: ((2, 2),)}[count]
    nx, ny = rng.choice(shapes)

    def breaks(n: int) -> list[float]:
        inner = [k / n + rng.uniform(-0.07, 0.07) for k in range(1, n)]
        return [0.0, *inner, 1.0]

    return breaks(nx), breaks(ny)


def _cell_edges(i: int, j: int) -> dict[str, tuple[str, int, int]]:
    return {
        "bottom": ("h", i, j),
        "top": ("h", i, j + 1),
        "left": ("v", i, j),
        "right": ("v", i + 1, j),
    }


def _register_splits(
    osm: OsmStore,
    edges: dict[tuple[str, int, int], list[tuple[float, int]]],
    quad: Sequence[XY],
    cell: tuple[int, int],
    plan: tuple[list[float], list[float]],
) -> None:
    us, vs = plan
    sides = _cell_edges(*cell)
    for u in us[1:-1]:
        edges[sides["bottom"]].append((u, osm.node(bilinear(quad, u, 0.0))))
        edges[sides["top"]].append((u, osm.node(bilinear(quad, u, 1.0))))
    for v in vs[1:-1]:
        edges[sides["left"]].append((v, osm.node(bilinear(quad, 0.0, v))))
        edges[sides["right"]].append((v, osm.node(bilinear(quad, 1.0, v))))


def _edge_run(
    edges: dict[tuple[str, int, int], list[tuple[float, int]]],
    key: tuple[str, int, int],
    t0: float,
    t1: float,
) -> list[int]:
    """Nodes of a grid edge from parameter t0 to t1 (either direction), both included."""
    lo, hi = min(t0, t1), max(t0, t1)
    run = [n for t, n in sorted(edges[key]) if lo - 1e-12 <= t <= hi + 1e-12]
    return run if t0 <= t1 else run[::-1]


def _build_villages(
    d: District,
    town: Township,
    quad: Sequence[XY],
    plan: tuple[list[float], list[float]],
    edges: dict[tuple[str, int, int], list[tuple[float, int]]],
    pool: list[str],
) -> None:
    osm = d.osm
    us, vs = plan
    sides = _cell_edges(*town.cell)
    inner = {
        (a, b): osm.node(bilinear(quad, us[a], vs[b]))
        for a in range(1, len(us) - 1)
        for b in range(1, len(vs) - 1)
    }

    last_a, last_b = len(us) - 1, len(vs) - 1

    def vertex(a: int, b: int) -> int:
        if b in (0, last_b):
            return _edge_run(edges, sides["bottom" if b == 0 else "top"], us[a], us[a])[0]
        if a in (0, last_a):
            return _edge_run(edges, sides["left" if a == 0 else "right"], vs[b], vs[b])[0]
        return inner[a, b]

    def side(a0: int, b0: int, a1: int, b1: int) -> list[int]:
        # nodes from sub-grid vertex (a0, b0) to (a1, b1), along the cell edge if on it
        if b0 == b1 and b0 in (0, last_b):
            return _edge_run(edges, sides["bottom" if b0 == 0 else "top"], us[a0], us[a1])
        if a0 == a1 and a0 in (0, last_a):
            return _edge_run(edges, sides["left" if a0 == 0 else "right"], vs[b0], vs[b1])
        return [vertex(a0, b0), vertex(a1, b1)]

    def ring(corners: list[tuple[int, int]]) -> list[int]:
        out: list[int] = []
        for (a0, b0), (a1, b1) in zip(corners, [*corners[1:], corners[0]], strict=True):
            out.extend(side(a0, b0, a1, b1)[:-1])
        return [*out, out[0]]

    outline = ring([(0, 0), (last_a, 0), (last_a, last_b), (0, last_b)])
    town.polygon = Polygon([osm.xy[n] for n in outline])
    osm.way(outline, {"boundary": "administrative", "admin_level": "8", "name": town.name})
    label = "社区" if town.suffix == "街道" else "村"
    for b in range(last_b):
        for a in range(last_a):
            nodes = ring([(a, b), (a + 1, b), (a + 1, b + 1), (a, b + 1)])
            base = pool.pop()
            name = base + label
            way = osm.way(nodes, {"boundary": "administrative", "admin_level": "10", "name": name})
            town.villages.append(Village(name, base, Polygon([osm.xy[n] for n in nodes]), way))
            d.used_bases.append(base)


def _build_district_outline(
    d: District, edges: dict[tuple[str, int, int], list[tuple[float, int]]]
) -> None:
    nodes: list[int] = []
    for key in [("h", i, 0) for i in range(3)] + [("v", 3, j) for j in range(3)]:
        nodes.extend(_edge_run(edges, key, 0.0, 1.0)[:-1])
    for key in [("h", i, 3) for i in (2, 1, 0)] + [("v", 0, j) for j in (2, 1, 0)]:
        nodes.extend(_edge_run(edges, key, 1.0, 0.0)[:-1])
    way = d.osm.way([*nodes, nodes[0]], {})
    d.osm.relation(
        [("way", way, "outer")],
        {
            "type": "boundary",
            "boundary": "administrative",
            "admin_level": "6",
            "name": "青禾区",
            "note": "fictional demo district generated by campus_geo",
        },
    )


# ---------------------------------------------------------------------------
# 2. rivers


def _meander(rng: random.Random, controls: list[XY], straight: Polygon | None) -> list[XY]:
    """A river through ``controls``: bends every ~500 m, straight inside ``straight``."""
    points = densify(controls, 500.0)
    out = [points[0]]
    for k in range(1, len(points) - 1):
        a, b, p = points[k - 1], points[k + 1], points[k]
        if straight is not None and straight.contains(Point(p)):
            out.append(p)
            continue
        length = math.dist(a, b)
        off = rng.uniform(-150.0, 150.0)
        out.append((p[0] + off * (a[1] - b[1]) / length, p[1] + off * (b[0] - a[0]) / length))
    out.append(points[-1])
    return chaikin(densify(out, 160.0), 3)


def build_rivers(d: District) -> None:
    """玉带河 (west to east, through 鹤鸣's town, also mapped as an area) and 白沙河 (north-south)."""
    rng = d.rng
    west = d.townships[4]  # 鹤鸣街道: 玉带河 runs through the town between two block rows
    h = (west.lines - 1) / 2 * west.spacing
    town = Settlement("", west, None, west.centre, west.theta, west.lines, west.spacing)
    local, v = town.local, -west.spacing / 2
    y_w = (d.townships[0].centre[1] + d.townships[3].centre[1]) / 2
    y_e = (d.townships[2].centre[1] + d.townships[5].centre[1]) / 2
    controls = [(XMIN, y_w + rng.uniform(-200, 200))]
    controls.extend((x, y_w + rng.uniform(-350, 350)) for x in (XMIN + 2500, XMIN + 4500))
    controls.extend([local(-h - 700, v - 250), local(-h, v), local(h, v), local(h + 700, v - 250)])
    controls.extend((x, y_e + rng.uniform(-350, 350)) for x in (XMAX - 4500, XMAX - 2500))
    controls.append((XMAX, y_e + rng.uniform(-200, 200)))
    yudai = _meander(rng, controls, town.footprint().buffer(250.0))
    east = d.townships[5]
    gap_x = (west.centre[0] + h * 1.45 + east.centre[0] - h * 1.45) / 2
    x_n, x_s = d.townships[7].centre[0], d.townships[1].centre[0]
    ctrl2 = [(gap_x + 900 + rng.uniform(-200, 200), YMAX)]
    ctrl2.extend((gap_x + rng.uniform(-300, 300), y) for y in (YMAX - 2500, YMAX - 4800))
    ctrl2.extend((gap_x, y) for y in (west.centre[1] + 1500, west.centre[1] - 1500))
    ctrl2.extend((gap_x + rng.uniform(-300, 300), y) for y in (YMIN + 4500, YMIN + 2200))
    ctrl2.append((gap_x + 0.15 * (x_s - x_n) + rng.uniform(-200, 200), YMIN))
    baisha = _meander(rng, ctrl2, None)
    for name, points, area in (("玉带河", yudai, True), ("白沙河", baisha, False)):
        nodes = [_boundary_node(d, p) for p in points]
        way = d.osm.way(nodes, {"waterway": "river", "name": name})
        d.waters.append(Water(name, f"way/{way}", d.osm.line(way)))
        if area:
            _river_area(d, name, d.osm.line(way))


def _boundary_node(d: District, xy: XY) -> int:
    lon, lat = to_lonlat(xy)
    lon = min(LON_MAX, max(LON_MIN, lon))
    lat = min(LAT_MAX, max(LAT_MIN, lat))
    return d.osm.node_ll((lon, lat))


def _river_area(d: District, name: str, line: LineString) -> None:
    area = line.buffer(21.0, cap_style="flat", join_style="round", quad_segs=2)
    area = area.intersection(DISTRICT).simplify(1.5)
    if not isinstance(area, Polygon):  # pragma: no cover - the river is one piece
        msg = "river area is not one polygon"
        raise RuntimeError(msg)
    ring = list(area.exterior.coords)[:-1]
    nodes = [_boundary_node(d, p) for p in ring]
    way = d.osm.way([*nodes, nodes[0]], {"natural": "water", "water": "river", "name": name})
    d.waters.append(Water(name, f"way/{way}", d.osm.polygon(way)))


# ---------------------------------------------------------------------------
# 3. towns, arterials, hamlets


def _grid(
    d: District,
    st: Settlement,
    row_tags: Sequence[Mapping[str, str]],
    col_tags: Sequence[Mapping[str, str]],
) -> None:
    n, h = st.lines, (st.lines - 1) / 2
    st.grid = [
        [d.osm.node(st.local((a - h) * st.spacing, (b - h) * st.spacing)) for b in range(n)]
        for a in range(n)
    ]
    st.rows = [d.osm.way([st.grid[a][b] for a in range(n)], row_tags[b]) for b in range(n)]
    st.cols = [d.osm.way([st.grid[a][b] for b in range(n)], col_tags[a]) for a in range(n)]
    d.settlements.append(st)


def _town_tags(
    rng: random.Random, n: int, arterial: tuple[str, str], pool: Sequence[str]
) -> list[dict[str, str]]:
    names = list(pool)
    rng.shuffle(names)
    tags = []
    for k in range(n):
        if k == n // 2:
            tags.append({"highway": arterial[1], "name": arterial[0]})
        else:
            kind = "tertiary" if k in (0, n - 1) else "residential"
            tags.append({"highway": kind, "name": names[k]})
    return tags


def build_towns(d: District) -> None:
    """Build every town's street grid and the arterials that join the towns."""
    towns: dict[tuple[int, int], Settlement] = {}
    for town in d.townships:
        i, j = town.cell
        st = Settlement(town.name, town, None, town.centre, town.theta, town.lines, town.spacing)
        rows = _town_tags(d.rng, town.lines, ARTERIAL_ROWS[j], ROW_STREETS)
        cols = _town_tags(d.rng, town.lines, ARTERIAL_COLS[i], COL_STREETS)
        _grid(d, st, rows, cols)
        towns[i, j] = st
    for j in range(3):
        name, kind = ARTERIAL_ROWS[j]
        for i in range(2):
            a, b = towns[i, j], towns[i + 1, j]
            _link(d, a.grid[-1][a.lines // 2], b.grid[0][b.lines // 2], name, kind)
    for i in range(3):
        name, kind = ARTERIAL_COLS[i]
        for j in range(2):
            a, b = towns[i, j], towns[i, j + 1]
            _link(d, a.grid[a.lines // 2][-1], b.grid[b.lines // 2][0], name, kind)
    west, east = towns[0, 1], towns[2, 1]
    south, north = towns[1, 0], towns[1, 2]
    w_node = west.grid[0][west.lines // 2]
    e_node = east.grid[-1][east.lines // 2]
    s_node = south.grid[south.lines // 2][0]
    n_node = north.grid[north.lines // 2][-1]
    rng = d.rng
    ends = (
        (w_node, (XMIN, d.osm.xy[w_node][1] + rng.uniform(-300, 300)), ARTERIAL_ROWS[1]),
        (e_node, (XMAX, d.osm.xy[e_node][1] + rng.uniform(-300, 300)), ARTERIAL_ROWS[1]),
        (s_node, (d.osm.xy[s_node][0] + rng.uniform(-300, 300), YMIN), ARTERIAL_COLS[1]),
        (n_node, (d.osm.xy[n_node][0] + rng.uniform(-300, 300), YMAX), ARTERIAL_COLS[1]),
    )
    for node, edge_xy, (name, kind) in ends:
        _link(d, node, _boundary_node(d, edge_xy), name, kind)


def _link(d: District, start: int, end: int, name: str, kind: str) -> None:
    a, b = d.osm.xy[start], d.osm.xy[end]
    length = math.dist(a, b)
    normal = ((a[1] - b[1]) / length, (b[0] - a[0]) / length)
    amp1, amp2 = d.rng.uniform(-180, 180), d.rng.uniform(-80, 80)
    n = max(2, math.ceil(length / 120.0))
    nodes = [start]
    for k in range(1, n):
        t = k / n
        off = amp1 * math.sin(math.pi * t) + amp2 * math.sin(2 * math.pi * t)
        p = lerp(a, b, t)
        nodes.append(d.osm.node((p[0] + off * normal[0], p[1] + off * normal[1])))
    nodes.append(end)
    d.arterials.append(d.osm.way(nodes, {"highway": kind, "name": name}))


def build_hamlets(d: District) -> None:
    """Add 1-2 village hamlets per township, each joined to the network by a road."""
    for town in d.townships:
        town_st = next(s for s in d.settlements if s.township is town and s.is_town)
        centre_village = d.locate(town.centre)[1]
        wanted = 1 if town.suffix == "街道" else 2
        candidates = [v for v in town.villages if v is not centre_village]
        d.rng.shuffle(candidates)
        made = 0
        for village in candidates:
            if made < wanted and _try_hamlet(d, town, village, town_st):
                made += 1
        if made < wanted:
            log.debug("%s: only %d hamlet(s) fit", town.name, made)


def _try_hamlet(d: District, town: Township, village: Village, town_st: Settlement) -> bool:
    rng = d.rng
    minx, miny, maxx, maxy = village.polygon.bounds
    rivers = d.water_geom()
    arterials = MultiLineString([list(d.osm.line(w).coords) for w in d.arterials])
    others = [s.footprint() for s in d.settlements]
    for _ in range(80):
        centre = (rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        st = Settlement(
            village.name,
            town,
            village,
            centre,
            math.radians(rng.uniform(-30.0, 30.0)),
            3,
            rng.uniform(200.0, 230.0),
        )
        foot = st.footprint()
        if not village.polygon.contains(foot.buffer(90.0)):
            continue
        if foot.distance(arterials) < 150.0 or foot.distance(rivers) < 130.0:
            continue
        if any(foot.distance(o) < 600.0 for o in others):
            continue
        named = {"highway": "residential", "name": village.base + "大街"}
        plain = {"highway": "residential"}
        _grid(d, st, [plain, named, plain], [plain, plain, plain])
        if _connect_hamlet(d, st, town_st):
            return True
        _drop_settlement(d, st)
    return False


def _drop_settlement(d: District, st: Settlement) -> None:
    for way in st.streets():
        del d.osm.ways[way]
    for column in st.grid:
        for node in column:
            del d.osm.lonlat[node], d.osm.xy[node]
    d.settlements.remove(st)


def _connect_hamlet(d: District, st: Settlement, town_st: Settlement) -> bool:
    """Join a hamlet to the nearest arterial or town node by a straight tertiary road."""
    osm = d.osm
    targets = [n for w in d.arterials for n in osm.ways[w].nodes[1:-1]]
    targets += [n for w in town_st.streets() for n in osm.ways[w].nodes]
    targets.sort(key=lambda n: math.dist(osm.xy[n], st.centre))
    own = [st.grid[a][b] for a in range(3) for b in range(3) if (a, b) != (1, 1)]
    lines = MultiLineString([list(osm.line(w).coords) for w in d.street_ways()])
    for target in targets[:40]:
        start = min(own, key=lambda n: math.dist(osm.xy[n], osm.xy[target]))
        a, b = osm.xy[start], osm.xy[target]
        length = math.dist(a, b)
        if length < 50.0:
            continue
        inner = LineString([lerp(a, b, 1.0 / length), lerp(a, b, 1.0 - 1.0 / length)])
        if inner.intersects(lines):
            continue
        n = max(1, math.ceil(length / 100.0))
        mids = [osm.node(lerp(a, b, k / n)) for k in range(1, n)]
        tags = {
            "highway": "tertiary",
            "name": st.name.removesuffix("村").removesuffix("社区") + "路",
        }
        d.arterials.append(osm.way([start, *mids, target], tags))
        return True
    return False


def build_park_paths(d: District) -> None:
    """One footway across a free block of every town (游园步道), joined to both streets."""
    for st in d.settlements:
        if not st.is_town:
            continue
        a, b = d.rng.randrange(st.lines - 1), d.rng.randrange(st.lines - 1)
        st.used_blocks.add((a, b))
        h = (st.lines - 1) / 2
        u = (a - h + 0.5) * st.spacing
        south, _ = d.osm.insert(st.rows[b], st.local(u, (b - h) * st.spacing))
        north, _ = d.osm.insert(st.rows[b + 1], st.local(u, (b + 1 - h) * st.spacing))
        mid = d.osm.node(st.local(u + 12.0, (b - h + 0.5) * st.spacing))
        tags = {"highway": "footway", "name": st.township.short + "游园步道"}
        d.footways.append(d.osm.way([south, mid, north], tags))


# ---------------------------------------------------------------------------
# 4. schools

_NODE_ONLY: Final = (("柳湾", 1, "primary"), ("桃源", 1, "primary"), ("枣林", 0, "kindergarten"))
_PLACE_ORDER: Final = (
    "university", "high", "vocational", "nine_year", "middle", "party_school",
    "teacher_school", "primary", "special", "kindergarten",
)  # fmt: skip
_GATE_CLEARANCE_M: Final = 25.0  # a side this close to a cross street may get a gate


def _school_specs(d: District) -> list[School]:
    brands = list(KG_BRANDS)
    d.rng.shuffle(brands)
    specs: list[School] = []
    for town in d.townships:
        town_st = next(s for s in d.settlements if s.township is town and s.is_town)
        hamlets = [s for s in d.settlements if s.township is town and not s.is_town]
        if town.short in URBAN_SCHOOLS:
            specs += [School(n, k, town_st) for n, k in URBAN_SCHOOLS[town.short]]
            specs += [School(h.name + "幼儿园", "kindergarten", h) for h in hamlets]
            continue
        t = town.name
        specs.append(School(t + "中心小学", "primary", town_st))
        if town.suffix == "镇":
            specs.append(School(t + "第二小学", "primary", town_st))
        middle = MIDDLE_SCHOOLS.get(town.short, (("初级中学", "middle"),))
        specs += [School(t + n, k, town_st) for n, k in middle]
        brand = "阳光" if town.short == "杏花" else brands.pop()
        specs.append(School(t + "中心幼儿园", "kindergarten", town_st))
        specs.append(School(t + brand + "幼儿园", "kindergarten", town_st))
        for index, hamlet in enumerate(hamlets):
            base = hamlet.village.base if hamlet.village else ""
            node_only = {(sh, i): k for sh, i, k in _NODE_ONLY}.get((town.short, index))
            specs.append(School(t + base + "小学", "primary", hamlet, node_only == "primary"))
            if index == 0:
                kg = School(t + base + "幼儿园", "kindergarten", hamlet)
                kg.node_only = node_only == "kindergarten"
                specs.append(kg)
    specs.sort(key=lambda s: _PLACE_ORDER.index(s.kind))
    return specs


def build_schools(d: District) -> None:
    """Place every school of the district in a free street block of its settlement."""
    d.refresh_streets()
    for school in _school_specs(d):
        if not _place_school(d, school):
            log.warning("no room for %s in %s", school.name, school.settlement.name)
    _roster_only_school(d)


def _place_school(d: District, school: School) -> bool:
    st = school.settlement
    blocks = [
        (a, b)
        for a in range(st.lines - 1)
        for b in range(st.lines - 1)
        if (a, b) not in st.used_blocks
    ]
    d.rng.shuffle(blocks)
    for block in blocks:
        for side in d.rng.sample(range(4), 4):
            layout = _layout(d, school, block, side)
            if layout is None:
                continue
            st.used_blocks.add(block)
            if school.node_only:
                _emit_school_node(d, school, layout)
            else:
                _emit_campus(d, school, layout)
            d.schools.append(school)
            return True
    return False


@dataclass
class _Layout:
    """A campus in block coordinates: t along the facing street, w away from it."""

    st: Settlement
    origin: XY
    tdir: XY
    wdir: XY
    streets: tuple[int, int, int]  # facing street, cross street at t=0, cross street at t=s
    ring: list[tuple[XY, int]]  # (t, w) and gate index (-1 for a corner)
    gate_edges: list[str]
    notched: bool
    polygon: Polygon

    def world(self, tw: XY) -> XY:
        u = self.origin[0] + tw[0] * self.tdir[0] + tw[1] * self.wdir[0]
        v = self.origin[1] + tw[0] * self.tdir[1] + tw[1] * self.wdir[1]
        return self.st.local(u, v)


def _frame(
    st: Settlement, block: tuple[int, int], side: int
) -> tuple[XY, XY, XY, tuple[int, int, int]]:
    a, b = block
    h, s = (st.lines - 1) / 2, st.spacing
    ua, vb = (a - h) * s, (b - h) * s
    if side == 0:
        return (ua, vb), (1.0, 0.0), (0.0, 1.0), (st.rows[b], st.cols[a], st.cols[a + 1])
    if side == 1:
        return (ua, vb + s), (1.0, 0.0), (0.0, -1.0), (st.rows[b + 1], st.cols[a], st.cols[a + 1])
    if side == 2:
        return (ua, vb), (0.0, 1.0), (1.0, 0.0), (st.cols[a], st.rows[b], st.rows[b + 1])
    return (ua + s, vb), (0.0, 1.0), (-1.0, 0.0), (st.cols[a + 1], st.rows[b], st.rows[b + 1])


def _layout(d: District, school: School, block: tuple[int, int], side: int) -> _Layout | None:
    rng, st = d.rng, school.settlement
    s = st.spacing
    (lmin, lmax), (dmin, dmax) = SIZES[school.kind]
    off = rng.uniform(8.0, 20.0)
    length = min(rng.uniform(lmin, lmax), s - 26.0)
    depth = min(rng.uniform(dmin, dmax), s - off - 14.0)
    if length < 0.8 * lmin or depth < 0.8 * dmin:
        return None
    t0 = rng.uniform(12.0, s - 12.0 - length)
    notch = None
    if school.kind in ("primary", "middle", "nine_year") and rng.random() < 0.3:
        notch = (length * rng.uniform(0.3, 0.5), depth * rng.uniform(0.3, 0.5))
    ring, gate_edges = _ring(rng, school.kind, s, t0, off, length, depth, notch)
    origin, tdir, wdir, streets = _frame(st, block, side)
    lay = _Layout(st, origin, tdir, wdir, streets, ring, gate_edges, notch is not None, Polygon())
    lay.polygon = Polygon([lay.world(tw) for tw, _ in ring])
    return lay if _campus_ok(d, school, lay.polygon) else None


def _gate_count(rng: random.Random, kind: str) -> int:
    if kind in ("kindergarten", "special"):
        return 1
    return rng.choice((1, 2, 2, 3))


def _ring(
    rng: random.Random,
    kind: str,
    s: float,
    t0: float,
    off: float,
    length: float,
    depth: float,
    notch: tuple[float, float] | None,
) -> tuple[list[tuple[XY, int]], list[str]]:
    """Outline vertices (t, w) with gates inserted, and the edge of each gate."""
    gates = [("front", t0 + length * rng.uniform(0.3, 0.7))]  # in creation order: main first
    for _ in range(_gate_count(rng, kind) - 1):
        placed = [e for e, _ in gates]
        if "left" not in placed and t0 <= _GATE_CLEARANCE_M:
            gates.append(("left", off + depth * rng.uniform(0.3, 0.6)))
        elif "right" not in placed and notch is None and s - t0 - length <= _GATE_CLEARANCE_M:
            gates.append(("right", off + depth * rng.uniform(0.3, 0.6)))
        else:
            front = [t for e, t in gates if e == "front"]
            spots = [t0 + 10.0 + k * 5.0 for k in range(int((length - 20.0) / 5.0) + 1)]
            spots = [t for t in spots if all(abs(t - f) >= 15.0 for f in front)]
            if spots:
                gates.append(("front", rng.choice(spots)))
    index = {gate: i for i, gate in enumerate(gates)}
    edges = [e for e, _ in gates]
    front = [t for e, t in gates if e == "front"]
    left = [w for e, w in gates if e == "left"]
    right = [w for e, w in gates if e == "right"]
    back = off + depth
    ring: list[tuple[XY, int]] = [((t0, off), -1)]
    ring += [((t, off), index["front", t]) for t in sorted(front)]
    ring.append(((t0 + length, off), -1))
    ring += [((t0 + length, w), index["right", w]) for w in sorted(right)]
    if notch is None:
        ring.append(((t0 + length, back), -1))
    else:
        nl, nd = notch
        ring += [
            ((t0 + length, back - nd), -1),
            ((t0 + length - nl, back - nd), -1),
            ((t0 + length - nl, back), -1),
        ]
    ring.append(((t0, back), -1))
    ring += [((t0, w), index["left", w]) for w in sorted(left, reverse=True)]
    return ring, edges


def _campus_ok(d: District, school: School, poly: Polygon) -> bool:
    if poly.distance(d.streets_geom) < 7.5:
        return False
    if any(other.geom.distance(poly) < 30.0 for other in d.schools):
        return False
    if d.waters and poly.distance(d.water_geom()) < 40.0:
        return False
    try:
        town, village = d.locate((poly.centroid.x, poly.centroid.y))
    except RuntimeError:
        return False
    if not village.polygon.contains(poly.buffer(2.0)):
        return False
    school.township, school.village = town.name, village.name
    return True


def _address(d: District, school: School, street: str) -> str:
    if school.settlement.is_town and street:
        return f"许安市青禾区{school.township}{street}{d.rng.randint(1, 199)}号"
    return f"许安市青禾区{school.township}{school.village}"


def _emit_school_node(d: District, school: School, lay: _Layout) -> None:
    t0 = lay.ring[0][0][0]
    tw = (t0 + 20.0, lay.ring[0][0][1] + 12.0)
    xy = lay.world(tw)
    street = d.osm.ways[lay.streets[0]].tags.get("name", "")
    school.address = _address(d, school, street)
    tags = {"amenity": AMENITY.get(school.kind, "school"), "name": school.name}
    node = d.osm.node(xy, tags)
    school.ref, school.geom, school.street = f"node/{node}", Point(d.osm.xy[node]), street


def _emit_campus(d: District, school: School, lay: _Layout) -> None:
    osm, rng = d.osm, d.rng
    street = osm.ways[lay.streets[0]].tags.get("name", "")
    school.street, school.address = street, _address(d, school, street)
    nodes: list[int] = []
    gates: dict[int, int] = {}
    for tw, gate in lay.ring:
        if gate < 0:
            nodes.append(osm.node(lay.world(tw)))
            continue
        tags = {"barrier": "gate", "entrance": "main" if gate == 0 else "yes"}
        nodes.append(osm.node(lay.world(tw), tags))
        gates[gate] = nodes[-1]
    tags = {"amenity": AMENITY.get(school.kind, "school"), "name": school.name}
    if street and rng.random() < 0.5:
        tags["addr:street"] = street
    school.way = osm.way([*nodes, nodes[0]], tags)
    school.ref = f"way/{school.way}"
    school.geom = osm.polygon(school.way)
    corner = {n for (_, g), n in zip(lay.ring, nodes, strict=True) if g < 0}
    if not lay.notched:
        pairs = zip(nodes, [*nodes[1:], nodes[0]], strict=True)
        school.clean_edges = [(a, b) for a, b in pairs if a in corner and b in corner]
    street_of = {"front": lay.streets[0], "left": lay.streets[1], "right": lay.streets[2]}
    for index in sorted(gates):
        gate = gates[index]
        way = street_of[lay.gate_edges[index]]
        on_street, created = osm.insert(way, osm.xy[gate])
        if index == 0 and created and rng.random() < 0.75:
            osm.tag(on_street, {"highway": "crossing", "crossing": "marked"})
        d.footways.append(osm.way([gate, on_street], {"highway": "footway"}))
        school.gates.append(gate)
        school.gate_streets.append(way)
        school.gate_links.append(on_street)


def _roster_only_school(d: District) -> None:
    """A new school known to the education bureau but not (yet) mapped in OSM."""
    town = next(t for t in d.townships if t.short == "杏花")
    st = next(s for s in d.settlements if s.township is town and s.is_town)
    base = next(b for b in VILLAGE_BASES if b not in d.used_bases)
    school = School(f"{town.name}{base}小学", "primary", st, node_only=True, in_osm=False)
    blocks = [
        (a, b)
        for a in range(st.lines - 1)
        for b in range(st.lines - 1)
        if (a, b) not in st.used_blocks
    ]
    for block in blocks:
        a, b = block
        h = (st.lines - 1) / 2
        xy = st.local((a - h + 0.5) * st.spacing, (b - h + 0.5) * st.spacing)
        if any(o.geom.distance(Point(xy)) < 60.0 for o in d.schools):
            continue
        st.used_blocks.add(block)
        d.used_bases.append(base)
        town_, village = d.locate(xy)
        lonlat = to_lonlat(xy)
        school.geom = Point(to_xy(lonlat))
        school.township, school.village = town_.name, village.name
        school.address = f"许安市青禾区{town_.name}{village.name}"
        d.schools.append(school)
        return
    msg = "no room for the roster-only school"
    raise RuntimeError(msg)
