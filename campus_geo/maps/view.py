"""What one hazard map shows, the overview or one school: its data document and elements.

:class:`Prepared` holds the layers as :mod:`campus_geo.maps` prepared them
(validated, zones computed, shifted into the basemap's coordinates) and turns
them once into the arrays the pages are cut from: texts, encoded geometries,
rule entries, colours. :func:`build_map` takes a focus (None for the overview,
or a school id), selects what that view shows, writes the JSON document that
the runtime reads (see :mod:`campus_geo.maps.data`) and assembles the folium map.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from campus_geo.category_registry import CategoryRegistry
from campus_geo.maps.basemap import (
    OSM_ATTRIBUTION,
    Basemap,
    street_class,
    vector_styles,
    water_class,
)
from campus_geo.maps.data import (
    CLUSTER_ASSETS,
    SEARCH_ASSETS,
    DataElement,
    JsControl,
    JsLayer,
    PageTitle,
    encode_geometries,
    encode_points,
    fix_ids,
)
from campus_geo.maps.offline import ASSETS, image_data_uri, inline_assets
from campus_geo.maps.style import (
    COARSE,
    FINE,
    HIDDEN_CATEGORIES,
    NO_STATUS_COLOUR,
    PANEL,
    PROFILE_LABELS,
    SEVERITY_COLOURS,
    STATUS_STYLES,
    TEXT,
    MapOptions,
    ZoneGroup,
    pick,
)
from campus_geo.rules import Rule, default_categories
from campus_geo.settings import KIND_LABELS, SEVERITY_LABELS

__all__ = ["OfflineMap", "Prepared", "build_map", "layer_label"]

IntArray = npt.NDArray[np.int64]
ObjArray = npt.NDArray[np.object_]


def _text(gdf: pd.DataFrame, name: str) -> ObjArray:
    """A text column as strings ("" for missing; the first item of OSM list values)."""
    if name not in gdf.columns:
        return np.full(len(gdf), "", dtype=object)
    values = gdf[name].to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        v = (value[0] if value else "") if isinstance(value, list) else value
        out[i] = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    return out


#: Characters that folium's templates or a JavaScript template literal would act on.
_INERT: Final = str.maketrans({c: f"&#{ord(c)};" for c in "{}$`\\"})


def layer_label(text: object) -> str:
    """A text for the tooltip of a plain folium layer: shown as it is, never evaluated.

    folium puts a tooltip's text into a JavaScript template literal and renders
    an element's script a second time as a Jinja template (why the hazard maps'
    own data never goes through folium, see :mod:`campus_geo.maps.data`). The
    text is HTML-escaped, and ``{ } $ ` \\`` become numeric character
    references, which the tooltip's HTML shows as those very characters. For
    the layers of :mod:`campus_geo.water`, :mod:`campus_geo.traffic` and
    :mod:`campus_geo.cameras`.

    Examples
    --------
    >>> layer_label("{{ 7*7 }}<img src=x>${a}")
    '&#123;&#123; 7*7 &#125;&#125;&lt;img src=x&gt;&#36;&#123;a&#125;'
    """
    return html.escape(str(text)).translate(_INERT)


def _search_titles(names: ObjArray, townships: ObjArray, ids: ObjArray) -> list[str]:
    """Names to search by; a name shared by several schools gets its township, then its id."""
    counts = pd.Series(names).value_counts()
    titles = [
        f"{n}（{t}）" if counts[n] > 1 and t else str(n)
        for n, t in zip(names, townships, strict=True)
    ]
    again = pd.Series(titles).value_counts()
    return [f"{t} [{i}]" if again[t] > 1 else t for t, i in zip(titles, ids, strict=True)]


def _distance_text(distance: float, threshold: float, profile: str, lang: str) -> str:
    how = pick(PROFILE_LABELS.get(profile, (profile, profile)), lang)
    if lang == "zh":
        return f"{distance:.1f} 米（阈值 {threshold:g} 米，{how}）"
    return f"{distance:.1f} m (threshold {threshold:g} m, {how})"


@dataclass
class Prepared:
    """Layers ready to draw, in the basemap's coordinates (EPSG:4326 or GCJ-02 lon/lat).

    Attributes
    ----------
    schools, hazards, findings
        Validated layers (hazards and findings without restricted points).
    zone_groups, zones
        The rule groups and, per group, the zone of each school it covers.
    status
        Ledger status code per finding (aligned to `findings`), or None.
    rules
        The rule table (for English texts).
    basemap_layers
        ``streets``, ``water``, ``buildings`` for the vector basemap.
    restricted_counts
        Per school id, the restricted points within its first zone; None when
        no restricted layer was given.
    data_osm
        Whether any drawn data comes from OpenStreetMap (its attribution is shown).
    categories
        The hazard categories: their labels, colours and glyphs, and the order of
        the layers and the legend.
    """

    options: MapOptions
    schools: gpd.GeoDataFrame
    hazards: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    zone_groups: list[ZoneGroup]
    zones: list[gpd.GeoSeries]
    status: pd.Series | None
    rules: list[Rule]
    basemap_layers: dict[str, gpd.GeoDataFrame]
    restricted_counts: pd.Series | None
    data_osm: bool
    categories: CategoryRegistry = field(default_factory=default_categories)
    school_rows: list[list[Any]] = field(init=False)
    school_titles: list[str] = field(init=False)
    school_geom: list[Any] = field(init=False)
    hazard_cols: dict[str, ObjArray] = field(init=False)
    hazard_markers: list[list[int] | None] = field(init=False)
    hazard_shapes: list[Any] = field(init=False)
    finding_school: IntArray = field(init=False)
    finding_hazard: IntArray = field(init=False)
    finding_cols: dict[str, Any] = field(init=False)
    rule_entries: list[list[str]] = field(init=False)
    zone_geom: list[list[Any]] = field(init=False)
    zone_school: list[IntArray] = field(init=False)
    trees: dict[str, shapely.STRtree] = field(init=False)
    base_cols: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        """Compute once what every page is cut from."""
        self._schools()
        self._hazards()
        self._findings()
        self.zone_geom = [encode_geometries(z.values, COARSE) for z in self.zones]
        self.zone_school = [self.schools.index.get_indexer(z.index) for z in self.zones]
        self.trees = {
            "schools": shapely.STRtree(self.schools.geometry.values),
            "hazards": shapely.STRtree(self.hazards.geometry.values),
        }
        self.base_cols = {}
        for key, layer in self.basemap_layers.items():
            self.trees[key] = shapely.STRtree(layer.geometry.values)
            classes = (
                street_class(layer["highway"])
                if key == "streets"
                else water_class(layer)
                if key == "water"
                else pd.Series("building", index=layer.index)
            )
            self.base_cols[key] = {
                "class": classes.to_numpy(dtype=object),
                "name": _text(layer, "name"),
                "areal": layer.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy(),
            }

    def _schools(self) -> None:
        lang = self.options.lang
        s = self.schools
        ids = s.index.astype(str).to_numpy(dtype=object)
        names, townships = _text(s, "name"), _text(s, "township")
        counts: dict[str, list[list[Any]]] = {}
        if len(self.findings):
            per = self.findings.groupby(["school_id", "category"], sort=False).size()
            for (sid, cat), n in per.sort_values(ascending=False, kind="stable").items():
                label = self.categories.label(str(cat), lang)
                counts.setdefault(str(sid), []).append([label, int(n)])
        kinds = [pick(KIND_LABELS.get(str(k), (str(k), str(k))), lang) for k in s["kind"]]
        restricted = self.restricted_counts
        self.school_rows = [
            [
                sid,
                name,
                kind,
                township,
                village,
                source,
                self.options.school_links.get(sid, ""),
                "" if restricted is None else str(int(restricted.get(sid, 0))),
                counts.get(sid, []),
            ]
            for sid, name, kind, township, village, source in zip(
                ids, names, kinds, townships, _text(s, "village"), _text(s, "source"), strict=True
            )
        ]
        self.school_titles = _search_titles(names, townships, ids)
        self.school_geom = encode_geometries(s.geometry.values, FINE)

    def _hazards(self) -> None:
        h = self.hazards
        self.hazard_cols = {
            "id": h.index.astype(str).to_numpy(dtype=object),
            **{c: _text(h, c) for c in ("name", "subcategory", "address", "category")},
        }
        geoms = np.asarray(h.geometry.values)
        is_point = shapely.get_type_id(geoms) == 0
        marked = is_point | (self.hazard_cols["category"] != "water")
        reps = shapely.get_coordinates(shapely.point_on_surface(geoms[marked]))
        self.hazard_markers = [None] * len(h)
        for i, pair in zip(
            np.flatnonzero(marked), encode_points(reps[:, 0], reps[:, 1], COARSE), strict=True
        ):
            self.hazard_markers[i] = pair
        self.hazard_shapes = [None] * len(h)
        shaped = np.flatnonzero(~is_point)
        for i, g in zip(shaped, encode_geometries(geoms[shaped], COARSE), strict=True):
            self.hazard_shapes[i] = g

    def _findings(self) -> None:
        f = self.findings
        lang = self.options.lang
        self.finding_school = self.schools.index.get_indexer(f["school_id"].astype(str))
        self.finding_hazard = self.hazards.index.get_indexer(f["hazard_id"].astype(str))
        threshold = (
            f["threshold_m"].to_numpy(float) if "threshold_m" in f else np.full(len(f), np.nan)
        )
        profile = _text(f, "profile")
        colours, status_index, rank = self._colours()
        self.rule_entries, rule_code = self._rules()
        self.finding_cols = {
            "category": _text(f, "category"),
            "distance": [
                _distance_text(d, t, p, lang)
                for d, t, p in zip(f["distance_m"].to_numpy(float), threshold, profile, strict=True)
            ],
            "notes": _text(f, "notes"),
            "id": f.index.astype(str).to_numpy(dtype=object),
            "geom": encode_geometries(f.geometry.values, FINE),
            "rule": rule_code,
            "colour": colours,
            "status": status_index,
            "rank": rank,
        }

    def _colours(self) -> tuple[list[str], list[int | None], IntArray]:
        """Each finding's line colour, status (index into STATUS_STYLES) and urgency rank."""
        f = self.findings
        if self.status is None:
            severity = _text(f, "severity")
            order = list(SEVERITY_COLOURS)
            rank = np.array(
                [order.index(s) if s in order else len(order) for s in severity], np.int64
            )
            colours = [SEVERITY_COLOURS.get(s, SEVERITY_COLOURS["prohibited"]) for s in severity]
            return colours, [None] * len(f), rank
        codes = list(STATUS_STYLES)
        index = [codes.index(s) if s in STATUS_STYLES else None for s in self.status]
        colours = [STATUS_STYLES[codes[i]][2] if i is not None else NO_STATUS_COLOUR for i in index]
        rank = np.array([len(codes) if i is None else i for i in index], np.int64)
        return colours, index, rank

    def _rules(self) -> tuple[list[list[str]], IntArray]:
        """The findings' distinct rules, and each finding's position among them.

        An entry: label, severity, profile, threshold, basis, suggestion.
        """
        lang = self.options.lang
        f = self.findings
        by_id = {r.id: r for r in self.rules}
        by_category = {r.category: r for r in self.rules}
        cols = {
            c: _text(f, c)
            for c in (
                "rule_id",
                "severity",
                "profile",
                "threshold_m",
                "basis",
                "suggestion",
                "category",
            )
        }
        keys = [
            f"{r}|{p}|{t}"
            for r, p, t in zip(cols["rule_id"], cols["profile"], cols["threshold_m"], strict=True)
        ]
        uniques, first, codes = np.unique(
            np.asarray(keys, dtype=str), return_index=True, return_inverse=True
        )
        entries = []
        for i in first:
            rule = by_id.get(cols["rule_id"][i].split("@")[0]) or by_category.get(
                cols["category"][i]
            )
            severity = pick(
                SEVERITY_LABELS.get(cols["severity"][i], (cols["severity"][i],) * 2), lang
            )
            basis, suggestion = cols["basis"][i], cols["suggestion"][i]
            if lang == "en" and rule is not None:
                basis, suggestion = rule.basis_en or basis, rule.suggestion_en or suggestion
            rid = cols["rule_id"][i]
            # the rule's name in words (上网服务场所 200 米), its id beside it for the record
            what = self.categories.label(cols["category"][i], lang)
            inside = rule is not None and rule.inside
            limit = cols["threshold_m"][i]
            with contextlib.suppress(ValueError):
                limit = f"{float(limit):g}"
            if lang == "zh":
                name = f"{what}（校园内）" if inside else f"{what} {limit} 米内"
                label = f"{name}（{severity}；{rid}）"
            else:
                name = f"{what} (inside the campus)" if inside else f"{what} within {limit} m"
                label = f"{name} ({severity}; {rid})"
            how = pick(PROFILE_LABELS.get(cols["profile"][i], (cols["profile"][i],) * 2), lang)
            entries.append([label, severity, how, cols["threshold_m"][i], basis, suggestion])
        del uniques
        return entries, codes.astype(np.int64)


@dataclass
class _View:
    """The rows one page shows (positions into the prepared layers)."""

    focus: str | None
    schools: IntArray
    hazards: IntArray
    findings: IntArray
    bounds: tuple[float, float, float, float]


#: A panel starts collapsed on a map lower than this (CSS pixels): at 1366 x 768 with the
#: browser's bars (a map about 650 px high) both show; on a phone held sideways only the titles.
_COLLAPSE_BELOW_PX: Final = {"summary": 360, "legend": 560}
#: The labels of a panel's collapse/expand button (for screen readers and as its tooltip).
_PANEL_TOGGLE: Final = {
    "zh": {"collapse": "收起", "expand": "展开"},
    "en": {"collapse": "Collapse", "expand": "Expand"},
}


#: The least margin around a school's own map (degrees of latitude, about 100 m): a school
#: drawn as a point with nothing around it still gets a view of its streets.
_MIN_PAD_DEG: Final = 0.0009


def _view(p: Prepared, focus: str | None) -> _View:
    if focus is None:
        zones = [z.values for z in p.zones if len(z)]
        geoms = np.concatenate([p.schools.geometry.values, *zones])
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
        return _View(
            None,
            np.arange(len(p.schools)),
            np.arange(len(p.hazards)),
            np.arange(len(p.findings)),
            (minx, miny, maxx, maxy),
        )
    own = [z.loc[[focus]].values for z in p.zones if focus in z.index]
    school_pos = int(p.schools.index.get_loc(focus))
    findings = np.flatnonzero(p.finding_school == school_pos)
    # the school, its zones and its measured lines (a walk's route may leave the zone); a
    # school known as a point with no zone drawn (walk rules) would give an empty box
    lines = np.asarray(p.findings.geometry.values)[findings]
    geoms = np.concatenate([p.schools.geometry.loc[[focus]].values, *own, lines])
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    pad_x = max((maxx - minx) * 0.08, _MIN_PAD_DEG / max(np.cos(np.radians(miny)), 0.01))
    pad_y = max((maxy - miny) * 0.08, _MIN_PAD_DEG)
    bounds = (minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y)
    box = shapely.box(*bounds)
    # every finding's hazard is drawn, whatever the box
    hazards = np.union1d(p.trees["hazards"].query(box), p.finding_hazard[findings])
    schools = np.union1d(p.trees["schools"].query(box), [school_pos])
    return _View(focus, schools.astype(np.int64), hazards.astype(np.int64), findings, bounds)


def _school_payload(p: Prepared, view: _View) -> dict[str, Any]:
    rows = view.schools.tolist()
    return {
        "rows": [p.school_rows[i] for i in rows],
        "titles": [p.school_titles[i] for i in rows],
        "geom": [p.school_geom[i] for i in rows],
    }


def _urgency(p: Prepared, rows: IntArray) -> tuple[dict[int, int], dict[int, str]]:
    """Per hazard position: its findings in the view, and the most urgent one's colour."""
    hazard = p.finding_hazard[rows]
    rank = p.finding_cols["rank"][rows]
    order = np.lexsort((rank, hazard))
    count: dict[int, int] = {}
    colour: dict[int, str] = {}
    colours = p.finding_cols["colour"]
    for i in order.tolist():
        h = int(hazard[i])
        if h not in count:
            colour[h] = colours[int(rows[i])]
        count[h] = count.get(h, 0) + 1
    return count, colour


def _category_layers(p: Prepared, view: _View, *, cluster: bool) -> list[dict[str, Any]]:
    lang = p.options.lang
    count, ring = _urgency(p, view.findings)
    school_row = {int(s): i for i, s in enumerate(view.schools)}
    cats = p.hazard_cols["category"][view.hazards]
    finding_cats = p.finding_cols["category"][view.findings]
    fc = p.finding_cols
    layers = []
    for category in p.categories.keys:
        positions = view.hazards[cats == category]
        if category == "restricted" or not len(positions):
            continue
        hazard_row = {int(g): i for i, g in enumerate(positions)}
        rows = [
            [p.hazard_cols[c][g] for c in ("id", "name", "subcategory", "address")]
            + [str(count[g]) if g in count else "", ring.get(g)]
            for g in positions.tolist()
        ]
        markers = [
            [*p.hazard_markers[g], r]
            for r, g in enumerate(positions.tolist())
            if p.hazard_markers[g]
        ]
        shapes = [
            [r, p.hazard_shapes[g]] for r, g in enumerate(positions.tolist()) if p.hazard_shapes[g]
        ]
        lines = [
            [
                school_row[int(p.finding_school[f])],
                int(fc["rule"][f]),
                hazard_row[int(p.finding_hazard[f])],
                fc["geom"][f],
                fc["distance"][f],
                fc["notes"][f],
                fc["status"][f],
                fc["id"][f],
                fc["colour"][f],
            ]
            for f in view.findings[finding_cats == category].tolist()
        ]
        layers.append(
            {
                "cat": category,
                "name": p.categories.label(category, lang),
                "count": len(positions),
                "show": category not in HIDDEN_CATEGORIES,
                "cluster": cluster,
                "rows": rows,
                "markers": markers,
                "shapes": shapes,
                "lines": lines,
            }
        )
    return layers


def _zone_label(group: ZoneGroup, lang: str, categories: CategoryRegistry) -> str:
    words = PANEL[lang]
    how = words["from_entrance"] if group.profile == "entrance" else words["from_boundary"]
    cats = [categories.label(c, lang) for c in group.categories]
    sep = "、" if lang == "zh" else ", "
    what = sep.join(cats) if len(cats) <= 2 else words["n_categories"].format(n=len(cats))
    return words["zone"].format(d=group.distance_m, how=how, what=what)


def _zone_layers(p: Prepared, view: _View) -> list[dict[str, Any]]:
    school_row = {int(s): i for i, s in enumerate(view.schools)}
    focus = None if view.focus is None else int(p.schools.index.get_loc(view.focus))
    out = []
    for i, group in enumerate(p.zone_groups):
        picked = [j for j, s in enumerate(p.zone_school[i].tolist()) if focus is None or s == focus]
        if not picked:
            continue
        single = len(group.categories) == 1
        out.append(
            {
                "name": _zone_label(group, p.options.lang, p.categories),
                "colour": p.categories.colour(group.categories[0], "#d62728")
                if single
                else "#d62728",
                "dash": "6 4" if group.profile == "entrance" else None,
                "show": view.focus is not None or i == 0,
                "schools": [school_row[int(p.zone_school[i][j])] for j in picked],
                "geom": [p.zone_geom[i][j] for j in picked],
            }
        )
    return out


def _merged(geoms: ObjArray, keys: ObjArray, areal: bool) -> tuple[ObjArray, ObjArray]:
    """One multi-geometry per key: the canvas draws a street of 300 segments as one path."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    keep = polygonal if areal else np.isin(shapely.get_type_id(parts), [1, 2])
    parts, owner = parts[keep], owner[keep]
    codes, uniques = pd.factorize(pd.Series(keys[owner], dtype=object), sort=False)
    order = np.argsort(codes, kind="stable")
    build = shapely.multipolygons if areal else shapely.multilinestrings
    merged = np.asarray(build(parts[order], indices=codes[order]), dtype=object)
    return merged, np.asarray(uniques, dtype=object)


def _basemap_part(p: Prepared, view: _View, layer: str, areal: bool | None) -> list[list[Any]]:
    """Features of a basemap layer (its areas, its lines, or all), clipped to a school's view.

    Features of the same class and name are drawn as one multi-part path.
    """
    gdf = p.basemap_layers.get(layer)
    if gdf is None:
        return []
    cols = p.base_cols[layer]
    keep = np.ones(len(gdf), dtype=bool) if areal is None else cols["areal"] == areal
    chosen = np.flatnonzero(keep)
    geoms = np.asarray(gdf.geometry.values)
    if view.focus is not None:
        chosen = np.intersect1d(chosen, p.trees[layer].query(shapely.box(*view.bounds)))
        clipped = np.asarray(shapely.clip_by_rect(geoms[chosen], *view.bounds))
    else:
        clipped = geoms[chosen]
    filled = ~shapely.is_empty(clipped)
    chosen, clipped = chosen[filled], clipped[filled]
    if not len(chosen):
        return []
    keys = np.asarray(
        [f"{c}\x1f{n}" for c, n in zip(cols["class"][chosen], cols["name"][chosen], strict=True)],
        dtype=object,
    )
    merged, uniques = _merged(clipped, keys, bool(areal))
    encoded = encode_geometries(merged, COARSE)
    return [
        [*key.split("\x1f", 1), g] for key, g in zip(uniques, encoded, strict=True) if g is not None
    ]


def _basemap_payload(p: Prepared, view: _View) -> dict[str, Any]:
    styles = vector_styles()
    rank = {c: i for i, c in enumerate(styles["streets"])}
    streets = _basemap_part(p, view, "streets", None)
    streets.sort(key=lambda f: rank.get(f[0], 0))
    parts = [
        ("water_areas", _basemap_part(p, view, "water", True)),
        ("buildings", _basemap_part(p, view, "buildings", True)),
        ("water_lines", _basemap_part(p, view, "water", False)),
        ("streets", streets),
    ]
    return {
        "k": COARSE,
        "layers": [{"styles": styles[name], "features": f} for name, f in parts if f],
    }


def _summary(p: Prepared, view: _View, layers: list[dict[str, Any]]) -> dict[str, Any]:
    lang = p.options.lang
    words = PANEL[lang]
    items: list[list[Any]] = []
    if view.focus is None:
        title = p.options.title or words["title"]
        items.append(["stat", words["schools"], len(view.schools)])
        with_findings = len(np.unique(p.finding_school[view.findings]))
        items.append(["stat", words["with_findings"], with_findings])
    else:
        row = p.school_rows[int(p.schools.index.get_loc(view.focus))]
        title = row[1] or row[0]
        items.append(["note", " · ".join(x for x in (row[2], f"{row[3]} {row[4]}".strip()) if x)])
    items.append(["stat", words["findings"], len(view.findings)])
    cats = pd.Series(p.finding_cols["category"][view.findings]).value_counts()
    if len(cats):
        items.append(["head", words["by_category"]])
        items += [["stat", x["name"], int(cats[x["cat"]])] for x in layers if x["cat"] in cats]
    if p.restricted_counts is not None:
        counted = [view.focus] if view.focus is not None else p.schools.index[view.schools]
        total = int(p.restricted_counts.reindex(pd.Index(counted).astype(str)).fillna(0).sum())
        items.append(["stat", TEXT[lang]["restricted"], total])
    if view.focus is not None and p.options.overview_link:
        items.append(["link", words["overview"], p.options.overview_link])
    # top right, under the layer control: the legend has the left side to itself
    return {
        "position": "topright",
        "kind": "summary",
        "title": title,
        "items": items,
        "collapseBelow": _COLLAPSE_BELOW_PX["summary"],
    }


def _line_items(p: Prepared, view: _View) -> list[list[Any]]:
    lang = p.options.lang
    if p.status is None:
        severity = pd.Series(_text(p.findings, "severity")[view.findings]).value_counts()
        head = ["head", PANEL[lang]["lines_severity"]]
        return [head] + [
            ["line", pick(SEVERITY_LABELS[code], lang), colour, "", int(severity.get(code, 0))]
            for code, colour in SEVERITY_COLOURS.items()
        ]
    status = pd.Series([p.finding_cols["status"][i] for i in view.findings], dtype=object)
    counts = status.value_counts(dropna=False)
    items: list[list[Any]] = [["head", PANEL[lang]["lines_status"]]]
    for i, (zh, en, colour) in enumerate(STATUS_STYLES.values()):
        items.append(["line", zh if lang == "zh" else en, colour, "", int(counts.get(i, 0))])
    missing = int(status.isna().sum())
    items.append(["line", TEXT[lang]["noStatus"], NO_STATUS_COLOUR, "", missing])
    return items


def _legend(
    p: Prepared, view: _View, layers: list[dict[str, Any]], zones: list[dict[str, Any]]
) -> dict[str, Any]:
    lang = p.options.lang
    words = PANEL[lang]
    items: list[list[Any]] = [["swatch", words["school"], "#2ea043", "", None]]
    if zones:
        items.append(["head", words["zones"]])
        items += [["zone", z["name"], z["colour"], bool(z["dash"]), None] for z in zones]
    items.append(["head", words["venues"]])
    for layer in layers:
        colour = p.categories.colour(layer["cat"])
        glyph = p.categories.glyph(layer["cat"], lang)
        items.append(["glyph", layer["name"], colour, glyph, layer["count"]])
    items += _line_items(p, view)
    basemap = p.options.basemap
    label, note = pick(basemap.label, lang), pick(basemap.note, lang)
    sentence = (
        f"{words['basemap']}：{label}。{note}"
        if lang == "zh"
        else f"{words['basemap']}: {label}. {note}"
    )
    items += [["note", sentence], ["note", words["measured"]]]
    return {
        "position": "bottomleft",
        "kind": "legend",
        "title": words["legend"],
        "items": items,
        "collapseBelow": _COLLAPSE_BELOW_PX["legend"],
    }


def _marker_icons() -> dict[str, str]:
    """Leaflet's default marker images as data URIs (for markers that users add)."""
    return {
        key: image_data_uri(f"leaflet/dist/images/{name}")
        for key, name in (
            ("iconUrl", "marker-icon.png"),
            ("iconRetinaUrl", "marker-icon-2x.png"),
            ("shadowUrl", "marker-shadow.png"),
        )
    }


class OfflineMap(folium.Map):  # type: ignore[misc]
    """A folium map that shows itself in Jupyter with every asset inline, so with no CDN."""

    def _repr_html_(self, **kwargs: Any) -> str:  # noqa: ARG002 (folium's signature)
        page = inline_assets(str(self.get_root().render()))
        return (
            '<div style="width:100%;height:620px">'
            f'<iframe srcdoc="{html.escape(page)}" style="width:100%;height:100%;border:none" '
            "allowfullscreen></iframe></div>"
        )


def _new_map(bounds: tuple[float, float, float, float]) -> folium.Map:
    # a map without tile layers has no zoom limit of its own: the clusters need one
    # no folium scale (metric and imperial): campus_geo.js adds a metric-only one
    m = OfflineMap(tiles=None, prefer_canvas=True, control_scale=False, zoom_start=14)
    m.options["maxZoom"] = 19
    # only Leaflet: none of folium's other defaults (jQuery, Bootstrap, Font Awesome) is used
    m.default_js = [("leaflet", ASSETS["leaflet"].cdn)]
    m.default_css = [("leaflet_css", ASSETS["leaflet_css"].cdn)]
    minx, miny, maxx, maxy = bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m


def _add_basemap(m: folium.Map, data: DataElement, basemap: Basemap, lang: str) -> None:
    label = pick(basemap.label, lang)
    if not basemap.tiles:
        JsLayer(data, "basemap", 0, name=label, overlay=False).add_to(m)
        return
    for i, tile in enumerate(basemap.tiles):
        folium.TileLayer(
            tiles=tile.url,
            attr=tile.attribution,
            name=label if i == 0 else f"{label} ({'注记' if lang == 'zh' else 'labels'})",
            max_zoom=tile.max_zoom,
            subdomains=tile.subdomains or "abc",
            overlay=i > 0,
            control=True,
        ).add_to(m)


def build_map(
    p: Prepared, focus: str | None = None, *, extra_layers: Sequence[Any] = ()
) -> folium.Map:
    """The overview (`focus` None) or the map of the school `focus`, with `extra_layers` added."""
    lang = p.options.lang
    view = _view(p, focus)
    overview = focus is None
    layers = _category_layers(p, view, cluster=overview)
    zones = _zone_layers(p, view)
    summary = _summary(p, view, layers)
    payload: dict[str, Any] = {
        "version": 1,
        "lang": lang,
        "crs": p.options.basemap.crs,
        "basemap": p.options.basemap.key,
        "text": {**TEXT[lang], **_PANEL_TOGGLE[lang]},
        "k": FINE,
        "kz": COARSE,
        "cats": {
            c: [
                p.categories.label(c, lang),
                p.categories.colour(c),
                p.categories.glyph(c, lang),
            ]
            for c in p.categories.keys
        },
        "status": None
        if p.status is None
        else [[pick((zh, en), lang), colour] for zh, en, colour in STATUS_STYLES.values()],
        "rules": p.rule_entries,
        "schools": _school_payload(p, view),
        "zones": zones,
        "layers": layers,
        "base": None if p.options.basemap.tiles else _basemap_payload(p, view),
        "panels": [summary, _legend(p, view, layers, zones)],
        "attribution": [OSM_ATTRIBUTION] if p.data_osm else [],
        "markerIcons": _marker_icons(),
    }
    m = _new_map(view.bounds)
    PageTitle(
        summary["title"] if overview else f"{summary['title']} — {PANEL[lang]['title']}"
    ).add_to(m)
    data = DataElement(payload)
    data.add_to(m)
    _add_basemap(m, data, p.options.basemap, lang)
    for i, zone in enumerate(zones):
        JsLayer(data, "zones", i, name=zone["name"], show=zone["show"]).add_to(m)
    JsLayer(data, "schools", 0, name=PANEL[lang]["school"]).add_to(m)
    for i, layer in enumerate(layers):
        assets = CLUSTER_ASSETS if overview else ([], [])
        name = f"{layer['name']} ({layer['count']})"
        JsLayer(data, "category", i, name=name, show=layer["show"], assets=assets).add_to(m)
    for extra in extra_layers:  # listed in the layer control: added before it
        extra.add_to(m)
    folium.LayerControl(collapsed=not overview, position="topright").add_to(m)
    if overview and len(view.schools) > 1:
        JsControl(data, "search", assets=SEARCH_ASSETS).add_to(m)
    JsControl(data, "panel", 0).add_to(m)
    JsControl(data, "panel", 1).add_to(m)
    JsControl(data, "done").add_to(m)
    seed = hashlib.sha1(data.json.encode(), usedforsecurity=False).hexdigest()
    fix_ids(m, seed + (focus or ""))
    return m
