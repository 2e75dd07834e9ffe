"""Video coverage of each school's zone and gates, and the blind spots.

Campaign measures (2) and (11): video capture at every school gate, coverage of
the surroundings "full, with no blind spots". A camera sees a sector: from its
position, around its direction, over its horizontal field of view, up to its
range. The sector is built on the WGS 84 ellipsoid (``pyproj.Geod.fwd`` every
:data:`STEP_DEG` degrees of azimuth), so a 50 m range is 50 m on the ground.

Cameras come from OSM ``man_made=surveillance`` (the hazards layer's
``camera`` rows; ``camera:direction`` is the ``direction`` column) or from a
table (:func:`cameras_from_file`: position, direction, field of view, range).
OSM has no tag for the field of view or the range, and ``camera:angle`` is the
tilt below the horizontal, not a field of view: so every camera without its own
values gets :data:`DEFAULT_FOV_DEG` and :data:`DEFAULT_RANGE_M` (both
arguments), and a camera without a direction (dome, PTZ: ``camera:type=dome``)
is taken to see all round. Walls and buildings that block the view are not
modelled: coverage is an upper bound.

Coverage (:func:`camera_coverage`): the zone of a school is the ring from its
outline out to `zone_m` metres (the campus itself is excluded: public cameras
watch the surroundings); a gate's approach is the disc of `approach_m` metres
around it outside the campus. Areas are measured in the transverse Mercator
of the school's 0.5-degree band (scale error below 1.2e-5, so areas are within
2.4e-5 of the ellipsoidal area).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo.geodesy import GEOD, band_crs, band_of, from_band, project
from campus_geo.rules import Rule, default_rules
from campus_geo.settings import DEFAULT_CRS
from campus_geo.sources.layers import read_table_points

__all__ = [
    "APPROACH_M",
    "DEFAULT_FOV_DEG",
    "DEFAULT_RANGE_M",
    "STEP_DEG",
    "camera_coverage",
    "camera_layer",
    "cameras_from_file",
    "cameras_from_hazards",
    "save_coverage",
    "viewsheds",
    "zone_distance",
]

log = logging.getLogger(__name__)

#: Horizontal field of view (degrees) of a fixed camera without its own value: a 4 mm
#: lens on a 1/2.8" sensor, the common fixed street camera, sees about 87 degrees.
DEFAULT_FOV_DEG: Final = 90.0
#: Range (metres) within which a camera without its own value records usable detail.
DEFAULT_RANGE_M: Final = 50.0
#: Radius (metres) of a gate's approach area.
APPROACH_M: Final = 30.0
#: Angular step (degrees) of the sector outlines.
STEP_DEG: Final = 2.0
_DIRECTION_NAMES: Final = ("direction", "camera:direction", "方向", "朝向", "方位角")
_FOV_NAMES: Final = ("fov_deg", "fov", "视场角", "水平视场角")
_RANGE_NAMES: Final = ("range_m", "range", "距离", "可视距离", "监控距离")
#: Who owns a camera (建设/权属单位) and the platform it feeds (接入平台: 雪亮工程, 天网 ...).
_OWNER_NAMES: Final = ("owner", "operator", "权属单位", "所属单位", "建设单位", "产权单位")
_PLATFORM_NAMES: Final = ("platform", "接入平台", "联网平台", "平台")


def _texts(table: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    for name in names:
        if name in table.columns:
            return table[name].fillna("").astype(str).str.strip()
    return pd.Series("", index=table.index, dtype=object)


def _numbers(table: pd.DataFrame, names: tuple[str, ...], default: float) -> pd.Series:
    for name in names:
        if name in table.columns:
            return pd.to_numeric(table[name], errors="coerce").fillna(default).astype(float)
    return pd.Series(default, index=table.index, dtype=float)


def _canonical(
    table: pd.DataFrame, geometry: Any, source: pd.Series, fov_deg: float, range_m: float
) -> gpd.GeoDataFrame:
    direction = pd.Series(np.nan, index=table.index, dtype=float)
    for name in _DIRECTION_NAMES:
        if name in table.columns:
            direction = pd.to_numeric(table[name], errors="coerce").astype(float)
            break
    fov = _numbers(table, _FOV_NAMES, fov_deg)
    # a camera without a direction (dome, PTZ) sees all round
    fov = fov.where(direction.notna(), 360.0).clip(upper=360.0)
    out = gpd.GeoDataFrame(
        {
            "direction_deg": direction % 360.0,
            "fov_deg": fov,
            "range_m": _numbers(table, _RANGE_NAMES, range_m),
            "source": source.to_numpy(),
            "owner": _texts(table, _OWNER_NAMES).to_numpy(dtype=object),
            "platform": _texts(table, _PLATFORM_NAMES).to_numpy(dtype=object),
        },
        geometry=geometry,
        crs=DEFAULT_CRS,
    )
    out.index.name = "camera_id"
    return out


def cameras_from_hazards(
    hazards: gpd.GeoDataFrame,
    *,
    fov_deg: float = DEFAULT_FOV_DEG,
    range_m: float = DEFAULT_RANGE_M,
) -> gpd.GeoDataFrame:
    """The cameras of a hazards layer (category ``camera``, e.g. OSM ``man_made=surveillance``).

    Parameters
    ----------
    hazards
        Canonical hazards layer; ``direction`` (degrees clockwise from north,
        from ``camera:direction``) is used when present, else all round.
    fov_deg, range_m
        Field of view (degrees) and range (metres) of cameras without their own
        ``fov_deg`` / ``range_m`` values.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``camera_id``: ``direction_deg`` (NaN: all round),
        ``fov_deg``, ``range_m``, ``source``, ``owner`` and ``platform`` (the
        OSM ``operator`` when present, else ""); points in EPSG:4326.

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> cams = cameras_from_hazards(osm.hazards)
    >>> len(cams), int((cams["fov_deg"] == 360).sum())
    (160, 4)
    """
    cams = hazards[hazards["category"] == "camera"].to_crs(DEFAULT_CRS)
    geoms = shapely.point_on_surface(cams.geometry.values)
    source = cams["source"] if "source" in cams.columns else cams.index.to_series()
    return _canonical(cams, geoms, source.astype(str), fov_deg, range_m)


def cameras_from_file(
    filepath: str | Path,
    *,
    id_field: str = "id",
    coords: str | None = None,
    fov_deg: float = DEFAULT_FOV_DEG,
    range_m: float = DEFAULT_RANGE_M,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a camera table (CSV/XLSX with lon/lat; direction, field of view, range).

    Columns: `id_field`, lon/lat (经度/纬度), ``direction`` (方向/朝向, degrees
    clockwise from north; empty = all round), ``fov_deg`` (视场角), ``range_m``
    (可视距离), and, kept when present, ``owner`` (权属单位/建设单位) and
    ``platform`` (接入平台: the video platform it feeds). Rows with unusable
    coordinates go to the rejects. `coords`: the table's coordinate system
    (wgs84, gcj02, bd09); None (undeclared) is refused for points in China,
    as for every table (:func:`campus_geo.sources.files.read_table_points`).

    Returns
    -------
    cameras, rejects
    """
    points, rejects = read_table_points(filepath, coords=coords)
    if id_field not in points.columns:
        msg = (
            f"{filepath} has no `{id_field}` column (columns: {', '.join(map(str, points.columns))}); "
            "add a unique camera id column or name it with id_field="
        )
        raise InputDataError(msg)
    ids = points[id_field].astype(str)
    if ids.duplicated().any():
        rows = ", ".join(points.loc[ids.duplicated(keep=False), "_row"].astype(str)[:10])
        msg = f"{filepath}: duplicate `{id_field}` values in rows {rows}; ids must be unique"
        raise InputDataError(msg)
    source = f"file:{Path(filepath).name}#" + points["_row"].astype(str)
    out = _canonical(points, points.geometry.values, source, fov_deg, range_m)
    out.index = pd.Index(ids.to_numpy(), name="camera_id")
    return out, rejects


def viewsheds(cameras: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The sector each camera sees, as a polygon on the WGS 84 ellipsoid (EPSG:4326).

    Examples
    --------
    >>> cams = gpd.GeoDataFrame({"direction_deg": [90.0], "fov_deg": [90.0], "range_m": [50.0]},
    ...     geometry=[shapely.Point(0, 0)], crs=4326)
    >>> sector = viewsheds(cams).iloc[0]
    >>> round(GEOD.geometry_area_perimeter(sector)[0] * -1, 0)  # pi * 50**2 / 4
    1963.0
    """
    xy = shapely.get_coordinates(cameras.geometry.to_crs(DEFAULT_CRS).values)
    out = np.empty(len(cameras), dtype=object)
    for i, (x, y) in enumerate(xy):
        fov = float(cameras["fov_deg"].iloc[i])
        reach = float(cameras["range_m"].iloc[i])
        direction = cameras["direction_deg"].iloc[i]
        full = fov >= 360.0 or pd.isna(direction)
        span = 360.0 if full else fov
        steps = max(int(np.ceil(span / STEP_DEG)), 2)
        start = 0.0 if full else float(direction) - fov / 2.0
        azimuths = start + np.linspace(0.0, span, steps + 1)
        if full:
            azimuths = azimuths[:-1]
        lon, lat, _ = GEOD.fwd(
            np.full(len(azimuths), x),
            np.full(len(azimuths), y),
            azimuths,
            np.full(len(azimuths), reach),
        )
        ring = np.column_stack([lon, lat])
        if not full:
            ring = np.vstack([[x, y], ring])
        out[i] = shapely.Polygon(ring)
    return gpd.GeoSeries(out, index=cameras.index, crs=DEFAULT_CRS)


def zone_distance(rules: list[Rule] | None = None) -> float:
    """The camera zone's reach: the widest prohibited distance of the table (default when None)."""
    table = rules if rules is not None else default_rules()
    prohibited = [r.distance_m for r in table if r.severity == "prohibited"]
    return max(prohibited) if prohibited else max(r.distance_m for r in table)


def _to_lonlat(geom: Any, crs: Any) -> Any:
    def back(coords: Any) -> Any:
        lon, lat = from_band(crs).transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, back)


def camera_coverage(
    schools: gpd.GeoDataFrame,
    cameras: gpd.GeoDataFrame,
    *,
    entrances: gpd.GeoDataFrame | None = None,
    zone_m: float | None = None,
    approach_m: float = APPROACH_M,
    rules: list[Rule] | None = None,
    min_blind_m2: float = 1.0,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Covered share of each school's zone and gate approaches; blind spots; ranking.

    Parameters
    ----------
    schools
        Canonical schools layer.
    cameras
        From :func:`cameras_from_hazards` or :func:`cameras_from_file`.
    entrances
        Gates (``school_id``); their approaches are measured.
    zone_m
        Zone width in metres from the outline; default the largest distance of
        the rule table's prohibited rules (the 200 m zone).
    approach_m
        Radius in metres of a gate's approach.
    rules
        Rule table for the default `zone_m`.
    min_blind_m2
        Blind spots smaller than this (m²) are left out of the blind-spot layer.

    Returns
    -------
    schools_table
        Indexed by ``school_id``: ``name``, ``township``, ``village``,
        ``cameras`` (cameras seeing into the zone), ``zone_m2``,
        ``covered_m2``, ``covered_share``, ``gap_share`` (1 - covered),
        ``gates``, ``gates_seen`` (gates inside a camera's sector: video
        capture at the gate), ``min_gate_share`` (least covered share of a
        gate's approach), ``rank`` (1 = largest gap: most gates unseen, then
        largest uncovered share of the zone); geometry the zone.
    gates_table
        Indexed by ``entrance_id``: ``school_id``, ``seen`` (the gate is
        inside a sector), ``approach_m2``, ``covered_share``; geometry the
        approach area.
    blind_spots
        One polygon per blind spot: ``school_id``, ``area_m2``.
    """
    zone_dist = float(zone_m) if zone_m is not None else zone_distance(rules)
    schools = schools.to_crs(DEFAULT_CRS)
    sheds = viewsheds(cameras.to_crs(DEFAULT_CRS))
    gates = (
        entrances[entrances["school_id"].isin(schools.index)].to_crs(DEFAULT_CRS)
        if entrances is not None
        else gpd.GeoDataFrame({"school_id": []}, geometry=[], crs=DEFAULT_CRS)
    )
    reps = shapely.get_coordinates(shapely.point_on_surface(schools.geometry.values))
    bands = band_of(reps[:, 0])
    tree = shapely.STRtree(sheds.values)
    rows, gate_rows, blind_rows = [], [], []
    for i, school_id in enumerate(schools.index):
        crs = band_crs(int(bands[i]))
        outline = project(np.array([schools.geometry.iloc[i]], dtype=object), crs)[0]
        campus = outline if outline.geom_type in ("Polygon", "MultiPolygon") else shapely.Point()
        zone = shapely.difference(shapely.buffer(outline, zone_dist, quad_segs=32), campus)
        seen = tree.query(_to_lonlat(shapely.envelope(zone), crs), predicate="intersects")
        local = project(sheds.values[seen], crs)
        cover = shapely.union_all(local)
        blind = shapely.difference(zone, cover)
        blind_rows += [
            (school_id, part.area, _to_lonlat(part, crs))
            for part in shapely.get_parts(blind)
            if part.area >= min_blind_m2
        ]
        mine = gates[gates["school_id"] == school_id]
        shares, seen_gates = [], 0
        for gate_id, gate in zip(mine.index, mine.geometry.values, strict=True):
            point = project(np.array([gate], dtype=object), crs)[0]
            disc = shapely.difference(shapely.buffer(point, approach_m, quad_segs=32), campus)
            share = shapely.intersection(disc, cover).area / disc.area if disc.area else 0.0
            # the gate itself inside a sector (on its edge counts): video capture at the gate
            at_gate = bool(shapely.intersects(cover, point))
            shares.append(share)
            seen_gates += at_gate
            gate_rows.append((gate_id, school_id, at_gate, disc.area, share, _to_lonlat(disc, crs)))
        rows.append(
            {
                "school_id": school_id,
                "cameras": int(np.count_nonzero(shapely.intersects(local, zone))),
                "zone_m2": zone.area,
                "covered_m2": shapely.intersection(zone, cover).area,
                "gates": len(shares),
                "gates_seen": seen_gates,
                "min_gate_share": min(shares) if shares else np.nan,
                "geometry": _to_lonlat(zone, crs),
            }
        )
    school_table = _rank_schools(pd.DataFrame(rows).set_index("school_id"), schools)
    gate_columns = ["entrance_id", "school_id", "seen", "approach_m2", "covered_share"]
    gate_table = gpd.GeoDataFrame(
        pd.DataFrame(gate_rows, columns=[*gate_columns, "geometry"]).set_index("entrance_id"),
        geometry="geometry",
        crs=DEFAULT_CRS,
    )
    blind_spots = gpd.GeoDataFrame(
        pd.DataFrame(blind_rows, columns=["school_id", "area_m2", "geometry"]),
        geometry="geometry",
        crs=DEFAULT_CRS,
    )
    log.info(
        "camera coverage of %d schools (zone %g m): %d of %d gates seen",
        len(school_table),
        zone_dist,
        int(gate_table["seen"].sum()),
        len(gate_table),
    )
    return school_table, gate_table, blind_spots


def _rank_schools(table: pd.DataFrame, schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add names and shares; rank by gates unseen, then uncovered share of the zone."""
    names = {
        col: schools[col].reindex(table.index).fillna("").astype(str).to_numpy()
        if col in schools.columns
        else ""
        for col in ("name", "township", "village")
    }
    table = table.assign(**names)
    table["covered_share"] = table["covered_m2"] / table["zone_m2"]
    table["gap_share"] = 1.0 - table["covered_share"]
    unseen = (table["gates"] - table["gates_seen"]).to_numpy()
    order = np.lexsort((table.index.to_numpy(dtype=str), -table["gap_share"].to_numpy(), -unseen))
    table = table.iloc[order]
    table["rank"] = np.arange(1, len(table) + 1)
    columns = ["name", "township", "village", "cameras", "zone_m2", "covered_m2"]
    columns += ["covered_share", "gap_share", "gates", "gates_seen", "min_gate_share", "rank"]
    return gpd.GeoDataFrame(
        table[columns],
        geometry=gpd.GeoSeries(table["geometry"].to_numpy(), index=table.index),
        crs=DEFAULT_CRS,
    )


def save_coverage(
    school_table: gpd.GeoDataFrame,
    gate_table: gpd.GeoDataFrame,
    blind_spots: gpd.GeoDataFrame,
    dirpath: str | Path,
    *,
    cameras: gpd.GeoDataFrame | None = None,
) -> dict[str, Path]:
    """Write camera_coverage.csv, gate_coverage.csv (UTF-8 BOM) and cameras.gpkg.

    cameras.gpkg has the layers camera_coverage, gate_coverage, blind_spots and,
    given `cameras`, the cameras (direction, field of view, range, owner, platform).
    """
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for key, name, gdf in (
        ("camera_coverage", "camera_coverage", school_table),
        ("gate_coverage", "gate_coverage", gate_table),
    ):
        path = out / f"{name}.csv"
        table = pd.DataFrame(gdf.drop(columns="geometry")).reset_index()
        for col in table.columns:
            if col.endswith(("_m2", "_share")):
                table[col] = table[col].astype(float).round(4)
        table.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        written[key] = path
    gpkg = out / "cameras.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    layers = [
        ("camera_coverage", school_table),
        ("gate_coverage", gate_table),
        ("blind_spots", blind_spots),
    ]
    if cameras is not None:
        layers.append(("cameras", cameras))
    for name, gdf in layers:
        if len(gdf):
            gdf.reset_index().to_file(gpkg, layer=name, engine="pyogrio")
    written["cameras_gpkg"] = gpkg
    return written


def _camera_text(
    camera: Any, direction: float, fov: float, range_m: float, owner: str, platform: str, zh: bool
) -> str:
    """A camera's tooltip: its id, where it looks, how far, its owner and platform."""
    if pd.notna(direction):
        sees = (
            f"朝向{direction:.0f}°，视场{fov:.0f}°" if zh else f"{direction:.0f}°, FOV {fov:.0f}°"
        )
    else:
        sees = "全向" if zh else "all round"
    text = (
        f"摄像头 {camera}：{sees}，{range_m:.0f}米"
        if zh
        else f"camera {camera}: {sees}, {range_m:.0f} m"
    )
    if owner:
        text += f"，权属：{owner}" if zh else f", owner: {owner}"
    if platform:
        text += f"，接入：{platform}" if zh else f", platform: {platform}"
    return text


def camera_layer(
    cameras: gpd.GeoDataFrame,
    blind_spots: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    show: bool = True,
) -> Any:
    """A folium FeatureGroup: camera sectors (green) and blind spots (red polygons).

    Labels are escaped and inert in folium's templates
    (:func:`campus_geo.maps.view.layer_label`); `show`: drawn on opening.
    """
    import folium

    from campus_geo.maps.view import layer_label

    zh = lang == "zh"
    group = folium.FeatureGroup(
        name="视频监控覆盖与盲区" if zh else "Camera coverage and blind spots", show=show
    )
    if len(cameras):
        sheds = gpd.GeoDataFrame(geometry=viewsheds(cameras).values, crs=DEFAULT_CRS)
        sheds["label"] = [
            layer_label(_camera_text(c, d, f, r, o, p, zh))
            for c, d, f, r, o, p in zip(
                cameras.index,
                cameras["direction_deg"],
                cameras["fov_deg"],
                cameras["range_m"],
                _texts(cameras, ("owner",)),
                _texts(cameras, ("platform",)),
                strict=True,
            )
        ]
        folium.GeoJson(
            sheds.to_json(),
            name="camera_sectors",
            style_function=lambda _f: {"color": "#238b45", "weight": 1, "fillOpacity": 0.25},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(group)
    if len(blind_spots):
        blind = gpd.GeoDataFrame(geometry=blind_spots.geometry.values, crs=DEFAULT_CRS)
        blind["label"] = [
            layer_label(f"监控盲区 {a:.0f} 平方米" if zh else f"blind spot {a:.0f} m²")
            for a in blind_spots["area_m2"]
        ]
        folium.GeoJson(
            blind.to_json(),
            name="blind_spots",
            style_function=lambda _f: {"color": "#cb181d", "weight": 0.5, "fillOpacity": 0.15},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(group)
    return group
