"""Drowning-risk screening: the water near each school, and the key water areas.

Campaign measures (4) and (12) ask for "safety management of key water areas
near schools". This module answers two questions:

1. Which water bodies (rivers, canals, ponds, reservoirs, lakes; lines and
   areas) lie within a distance of each school, how far (metres on the WGS 84
   ellipsoid, from any point of the campus outline, with the measured line and
   the nearest point of the water), and what kind of water it is:
   :func:`water_near_schools`.
2. Which water bodies threaten the most schools (and pupils, where the schools
   layer has a ``pupils`` column): the ranking of "key water areas" (重点水域),
   :func:`key_water_areas`. OSM often maps one river as several ways, or as a
   line and an area: features with the same name that touch are one water body.

The default distance is the water rule's (``water_500m`` in the rule table).
Outputs: tables (CSV/GPKG, :func:`save_water`), a map layer
(:func:`water_layer`) and one line per water body for the inspection form
(:func:`form_lines`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from campus_geo.rules import Rule, rule_of
from campus_geo.screen import screen
from campus_geo.settings import DEFAULT_CRS

__all__ = [
    "WATER_TYPES",
    "form_lines",
    "key_water_areas",
    "save_water",
    "water_layer",
    "water_near_schools",
    "water_rule",
    "water_types",
]

log = logging.getLogger(__name__)

#: Water types with (Chinese, English) labels.
WATER_TYPES: Final[dict[str, tuple[str, str]]] = {
    "river": ("河流", "river"),
    "canal": ("渠道", "canal"),
    "stream": ("溪沟", "stream"),
    "ditch": ("沟渠", "ditch"),
    "lake": ("湖泊", "lake"),
    "reservoir": ("水库", "reservoir"),
    "pond": ("坑塘", "pond"),
    "other": ("其他水体", "other water"),
}
#: OSM ``water=*`` / ``waterway=*`` / ``landuse=*`` values -> water type.
_TAG_TYPES: Final = {
    "river": "river",
    "riverbank": "river",
    "oxbow": "river",
    "canal": "canal",
    "stream": "stream",
    "ditch": "ditch",
    "drain": "ditch",
    "lake": "lake",
    "reservoir": "reservoir",
    "basin": "reservoir",
    "pond": "pond",
    "fishpond": "pond",
}
#: Name keywords -> water type, in priority order (Chinese names end in the type).
_NAME_TYPES: Final = (
    ("reservoir", ("水库",)),
    ("lake", ("湖",)),
    ("canal", ("渠", "运河")),
    ("pond", ("塘", "坑", "池", "荡")),
    ("stream", ("溪", "涧")),
    ("ditch", ("沟",)),
    ("river", ("河", "江", "川")),
)
NEAR_COLUMNS: Final = [
    "school_id",
    "school_name",
    "township",
    "village",
    "pupils",
    "water_id",
    "water_name",
    "water_type",
    "body_id",
    "distance_m",
    "threshold_m",
    "water_lon",
    "water_lat",
]


def water_types(water: pd.DataFrame) -> pd.Series:
    """Type of each water feature (see :data:`WATER_TYPES`).

    From a ``water`` column (OSM ``water=*``) when present, then the
    ``subcategory`` tag (``waterway=canal``, ``landuse=reservoir``), then the
    name (水库, 湖, 渠, 塘/坑/池, 溪, 沟, 河/江), else ``other``.

    Examples
    --------
    >>> w = pd.DataFrame({"name": ["青龙水库", "王家塘", "玉带河", ""],
    ...     "subcategory": ["natural=water", "natural=water", "waterway=river", "natural=water"]})
    >>> water_types(w).tolist()
    ['reservoir', 'pond', 'river', 'other']
    """
    out = pd.Series("", index=water.index, dtype=object)
    if "water" in water.columns:
        out = water["water"].map(lambda v: _TAG_TYPES.get(str(v), "")).astype(object)
    sub = water.get("subcategory", pd.Series("", index=water.index)).fillna("").astype(str)
    value = sub.str.partition("=")[2]
    by_tag = value.map(lambda v: _TAG_TYPES.get(v, ""))
    out = out.where(out != "", by_tag)
    names = water.get("name", pd.Series("", index=water.index)).fillna("").astype(str)
    for kind, words in _NAME_TYPES:
        hit = (out == "") & names.str.contains("|".join(words), regex=True)
        out = out.where(~hit, kind)
    return out.where(out != "", "other")


def water_rule(dist: float | None = None, rules: list[Rule] | None = None) -> Rule:
    """The rule water is screened by: the table's water rule (default table when None), at `dist`.

    Examples
    --------
    >>> water_rule().distance_m
    500.0
    """
    base = rule_of("water", rules)
    if base is None:
        base = Rule(id="water", category="water", kinds=(), distance_m=dist or 0.0)
    distance = float(dist) if dist is not None else base.distance_m
    if distance <= 0:
        msg = "the water distance must be a positive number of metres; give dist=..."
        raise ValueError(msg)
    from campus_geo.settings import SCHOOL_KINDS

    return Rule(
        **{
            **base.__dict__,
            "id": base.id if dist is None else f"water_{distance:g}m",
            "kinds": SCHOOL_KINDS,
            "distance_m": distance,
            "profile": "boundary",
        }
    )


def water_near_schools(
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    *,
    dist: float | None = None,
    rules: list[Rule] | None = None,
) -> gpd.GeoDataFrame:
    """Water bodies within `dist` metres of each school, nearest first.

    Parameters
    ----------
    schools
        Canonical schools layer (a ``pupils`` column, when present, is carried).
    hazards
        Canonical hazards layer; its ``category == "water"`` rows are used
        (lines and areas: rivers, canals, ponds...).
    dist
        Distance in metres (WGS 84 ellipsoid, from any point of the campus
        outline). Default: the water rule's distance (500 m in the default table).
    rules
        Rule table to take the water rule from (default table when None).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``finding_id``; columns :data:`NEAR_COLUMNS` (``water_lon``,
        ``water_lat``: the nearest point of the water); geometry the measured
        line from the campus to the water (EPSG:4326).

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> near = water_near_schools(osm.schools, osm.hazards, dist=200)
    >>> row = near.iloc[0]
    >>> row["school_name"], row["water_name"], row["water_type"], round(float(row["distance_m"]), 1)
    ('青禾区特殊教育学校', '玉带河', 'river', 43.8)
    """
    rule = water_rule(dist, rules)
    water = hazards[hazards["category"] == "water"]
    if water.empty:
        empty = gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in NEAR_COLUMNS},
            geometry=gpd.GeoSeries([], crs=DEFAULT_CRS),
            crs=DEFAULT_CRS,
        )
        empty.index.name = "finding_id"
        return empty
    water = water.to_crs(DEFAULT_CRS)
    found = screen(schools, water, rules=[rule], context=True)  # water is context, not a problem
    kinds = water_types(water)
    pupils = (
        pd.to_numeric(schools["pupils"], errors="coerce")
        if "pupils" in schools.columns
        else pd.Series(np.nan, index=schools.index)
    )
    out = gpd.GeoDataFrame(
        {
            "school_id": found["school_id"],
            "school_name": found["school_name"],
            "township": found["township"],
            "village": found["village"],
            "pupils": pupils.reindex(found["school_id"]).to_numpy(),
            "water_id": found["hazard_id"],
            "water_name": found["hazard_name"],
            "water_type": kinds.reindex(found["hazard_id"]).to_numpy(),
            "body_id": _bodies(water).reindex(found["hazard_id"]).to_numpy(),
            "distance_m": found["distance_m"],
            "threshold_m": found["threshold_m"],
            "water_lon": found["hazard_lon"],
            "water_lat": found["hazard_lat"],
        },
        geometry=found.geometry,
        crs=DEFAULT_CRS,
    )
    out = out.sort_values(["distance_m", "school_id", "water_id"], kind="stable")
    log.info(
        "water within %g m: %d school-water pairs, %d schools",
        rule.distance_m,
        len(out),
        out["school_id"].nunique(),
    )
    return out


def _bodies(water: gpd.GeoDataFrame) -> pd.Series:
    """Water-body id of each feature: same-name features that touch form one body."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    names = water["name"].fillna("").astype(str).to_numpy()
    left, right = water.sindex.query(water.geometry.values, predicate="intersects")
    same = (names[left] == names[right]) & (names[left] != "")
    n = len(water)
    graph = coo_array((np.ones(int(same.sum())), (left[same], right[same])), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)
    ids = np.asarray(water.index.astype(str))
    first = pd.Series(ids).groupby(label).transform("min")
    return pd.Series(first.to_numpy(), index=water.index, name="body_id")


def key_water_areas(near: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rank water bodies by the schools (and pupils) within the distance of them.

    Parameters
    ----------
    near
        From :func:`water_near_schools`.
    hazards
        The hazards layer it was computed from (for the water geometries).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per water body that threatens at least one school, indexed by
        ``body_id`` (the smallest feature id of the body): ``rank``, ``name``,
        ``water_type``, ``features`` (feature ids), ``schools`` (count),
        ``pupils`` (sum over those schools; NaN when unknown), ``min_distance_m``,
        ``nearest_school``, ``school_names`` (nearest first); geometry the union
        of the body's features. Ordered by schools, then pupils, then distance.
    """
    water = hazards[hazards["category"] == "water"].to_crs(DEFAULT_CRS)
    columns = [
        "rank",
        "name",
        "water_type",
        "features",
        "schools",
        "pupils",
        "min_distance_m",
        "nearest_school",
        "school_names",
    ]
    if near.empty or water.empty:
        out = gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in columns},
            geometry=gpd.GeoSeries([], crs=DEFAULT_CRS),
            crs=DEFAULT_CRS,
        )
        out.index.name = "body_id"
        return out
    body = _bodies(water)
    pairs = pd.DataFrame(near.drop(columns="geometry"))
    # one row per (body, school): its nearest feature
    pairs = pairs.sort_values("distance_m", kind="stable").drop_duplicates(["body_id", "school_id"])
    grouped = pairs.groupby("body_id", sort=False)
    table = pd.DataFrame(
        {
            "schools": grouped["school_id"].nunique(),
            "pupils": grouped["pupils"].sum(min_count=1),
            "min_distance_m": grouped["distance_m"].min(),
            "nearest_school": grouped["school_name"].first(),
            "school_names": grouped["school_name"].agg("、".join),
        }
    )
    members = water.assign(body_id=body)
    info = members.groupby("body_id")
    table["name"] = info["name"].first().reindex(table.index)
    kinds = water_types(water).groupby(body).agg(lambda k: _main_type(list(k)))
    table["water_type"] = kinds.reindex(table.index)
    table["features"] = (
        pd.Series(members.index.astype(str), index=members.index)
        .groupby(body)
        .agg(lambda ids: ";".join(sorted(ids)))
        .reindex(table.index)
    )
    geoms = members.geometry.groupby(body).agg(lambda g: g.union_all())
    table = table.sort_values(
        ["schools", "pupils", "min_distance_m"], ascending=[False, False, True], na_position="last"
    )
    table["rank"] = np.arange(1, len(table) + 1)
    table.index.name = "body_id"
    return gpd.GeoDataFrame(
        table[columns], geometry=gpd.GeoSeries(geoms.reindex(table.index)), crs=DEFAULT_CRS
    )


def _main_type(kinds: list[str]) -> str:
    known = [k for k in kinds if k != "other"]
    order = list(WATER_TYPES)
    return min(known, key=order.index) if known else "other"


def form_lines(near: pd.DataFrame, *, lang: str = "zh") -> pd.Series:
    """One text per school listing its water, nearest first, for the inspection form.

    Returns
    -------
    pandas.Series
        Indexed by ``school_id``.

    Examples
    --------
    >>> near = pd.DataFrame({"school_id": ["s1", "s1"], "water_name": ["玉带河", ""],
    ...     "water_type": ["river", "pond"], "distance_m": [44.31, 120.0]})
    >>> form_lines(near).loc["s1"]
    '周边水域：1. 玉带河（河流）44.3米；2. 未命名坑塘（坑塘）120.0米'
    """
    zh = lang == "zh"

    def text(group: pd.DataFrame) -> str:
        parts = []
        group = group.sort_values("distance_m", kind="stable")
        if "body_id" in group.columns:  # a river mapped as a line and an area: once
            group = group.drop_duplicates("body_id")
        for n, row in enumerate(group.itertuples(), start=1):
            label = WATER_TYPES.get(str(row.water_type), WATER_TYPES["other"])
            distance = float(str(row.distance_m))
            if zh:
                name = str(row.water_name or f"未命名{label[0]}")
                parts.append(f"{n}. {name}（{label[0]}）{distance:.1f}米")
            else:
                name = str(row.water_name or f"unnamed {label[1]}")
                parts.append(f"{n}. {name} ({label[1]}) {distance:.1f} m")
        return ("周边水域：" if zh else "Water nearby: ") + ("；" if zh else "; ").join(parts)

    if near.empty:
        return pd.Series(dtype=object)
    return near.groupby("school_id", sort=False)[list(near.columns)].apply(text)


def save_water(
    near: gpd.GeoDataFrame, bodies: gpd.GeoDataFrame, dirpath: str | Path
) -> dict[str, Path]:
    """Write water_near_schools.csv, key_water_areas.csv (UTF-8 with BOM) and water.gpkg."""
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    near_csv = out / "water_near_schools.csv"
    table = pd.DataFrame(near.drop(columns="geometry")).reset_index()
    table["distance_m"] = table["distance_m"].astype(float).round(3)
    table.to_csv(near_csv, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    bodies_csv = out / "key_water_areas.csv"
    ranked = pd.DataFrame(bodies.drop(columns="geometry")).reset_index()
    ranked["min_distance_m"] = ranked["min_distance_m"].astype(float).round(3)
    ranked.to_csv(bodies_csv, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    gpkg = out / "water.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    if len(near):
        near.reset_index().to_file(gpkg, layer="water_near_schools", engine="pyogrio")
        bodies.reset_index().to_file(gpkg, layer="key_water_areas", engine="pyogrio")
    log.info("wrote %s, %s and %s", near_csv, bodies_csv, gpkg)
    return {"water_near": near_csv, "water_areas": bodies_csv, "water_gpkg": gpkg}


def water_layer(
    near: gpd.GeoDataFrame, bodies: gpd.GeoDataFrame, *, lang: str = "zh", show: bool = True
) -> Any:
    """A folium FeatureGroup: key water areas by rank, and the measured lines to schools.

    Every label is HTML-escaped and inert in folium's templates
    (:func:`campus_geo.maps.view.layer_label`). Add it to any folium map
    (``water_layer(near, bodies).add_to(m)``) or to the overview
    (``hazard_map(..., extra_layers=[...])``); `show`: drawn on opening.
    """
    import folium

    from campus_geo.maps.view import layer_label

    zh = lang == "zh"
    group = folium.FeatureGroup(name="重点水域" if zh else "Key water areas", show=show)
    if bodies.empty:
        return group
    data = gpd.GeoDataFrame(geometry=bodies.geometry.values, crs=DEFAULT_CRS)
    label = 0 if zh else 1
    data["label"] = [
        layer_label(
            f"第{r}位 {n or '未命名'}（{WATER_TYPES[t][0]}）：{s}所学校，最近{d:.1f}米（{ns}）"
            if zh
            else f"#{r} {n or 'unnamed'} ({WATER_TYPES[t][1]}): {s} schools, nearest "
            f"{d:.1f} m ({ns})"
        )
        for r, n, t, s, d, ns in zip(
            bodies["rank"],
            bodies["name"].fillna(""),
            bodies["water_type"],
            bodies["schools"],
            bodies["min_distance_m"],
            bodies["nearest_school"],
            strict=True,
        )
    ]
    data["schools"] = bodies["schools"].to_numpy().astype(int)
    top = int(data["schools"].max())
    # a river mapped as a line and an area is a GeometryCollection: draw its parts
    data = data.explode(index_parts=False)
    folium.GeoJson(
        data.to_json(),
        name="water_areas",
        style_function=lambda f: {
            "color": "#08519c",
            "weight": 3,
            "fillColor": "#d7301f" if f["properties"]["schools"] == top else "#3182bd",
            "fillOpacity": 0.5,
        },
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(group)
    lines = gpd.GeoDataFrame(geometry=near.geometry.values, crs=DEFAULT_CRS)
    lines["label"] = [
        layer_label(f"{s} → {w or WATER_TYPES[t][label]}: {d:.1f}" + (" 米" if zh else " m"))
        for s, w, t, d in zip(
            near["school_name"],
            near["water_name"],
            near["water_type"],
            near["distance_m"],
            strict=True,
        )
    ]
    folium.GeoJson(
        lines.to_json(),
        name="water_lines",
        style_function=lambda _f: {"color": "#08519c", "weight": 2, "dashArray": "6"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(group)
    return group
