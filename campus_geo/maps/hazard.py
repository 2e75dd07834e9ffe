"""Hazard maps that work with no network: the overview and one map per school.

:func:`hazard_map` draws every school's outline and its zones, each the geodesic
buffer at a rule's distance on the WGS 84 ellipsoid
(:func:`campus_geo.geodesy.geodesic_buffer`), the hazards by category (a layer
each, with its own colour and glyph; point hazards clustered), the measured
line of every finding with its popup (school, venue, category, distance to
0.1 m, rule and basis, suggestion), a legend in Chinese (English with
``lang="en"``), a summary panel and a search by school name.
:func:`school_map` and :func:`save_school_maps` draw one school for briefings.

:func:`save_map` writes the page with every script, style sheet and image
inline (``offline=True``, the default), so it opens in a briefing room with no
internet: only the tiles of a tile basemap are fetched, and the default
basemap ``none`` draws the loaded streets, water and buildings instead.

Safety: names and values reach the page as JSON inside a ``<script>`` block
(``<``, ``>``, ``&`` escaped) and are put on screen with ``textContent``, never
parsed as HTML: a venue called ``<img src=x onerror=alert(1)>`` shows as that
text. Restricted points (category ``restricted``) are never drawn, listed or
written into the page; only their counts per school's zone are.

Scale: vector layers are drawn on canvas, point hazards are clustered per
category, zones are drawn with just enough vertices to stay within
`zone_tolerance_m` of the true buffer, and coordinates are compact integers
(see :mod:`campus_geo.maps.data`). The README gives the page size and the time
to first render in Chromium for 1,000 schools and 50,000 hazards.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from campus_geo._errors import InputDataError
from campus_geo._validate import validate_entrances, validate_hazards, validate_schools
from campus_geo.coords import wgs84_to_gcj02
from campus_geo.geodesy import geodesic_buffer
from campus_geo.maps.basemap import BASEMAPS, basemap
from campus_geo.maps.offline import inline_assets
from campus_geo.maps.style import (
    CATEGORY_COLOURS,
    CATEGORY_GLYPHS,
    SEVERITY_COLOURS,
    STATUS_STYLES,
    MapOptions,
    ZoneGroup,
)
from campus_geo.maps.view import Prepared, build_map
from campus_geo.rules import Rule, categories_of, rule_table
from campus_geo.settings import DEFAULT_CRS, SCHOOL_KINDS

__all__ = [
    "BASEMAPS",
    "CATEGORY_COLOURS",
    "CATEGORY_GLYPHS",
    "MAPS_MANIFEST",
    "SEVERITY_COLOURS",
    "STATUS_STYLES",
    "ZoneGroup",
    "hazard_map",
    "map_html",
    "save_map",
    "save_school_maps",
    "school_id_from_filename",
    "school_map",
    "school_map_filename",
    "shifted",
    "zone_groups",
]

log = logging.getLogger(__name__)

_MAX_QUAD_SEGS: Final = 32
#: Profiles whose zone is a buffer (a walking distance is not).
_BUFFER_PROFILES: Final = ("boundary", "entrance")
_FINDING_NEEDS: Final = ("school_id", "hazard_id", "category", "rule_id", "distance_m")
_WINDOWS_RESERVED: Final = re.compile(
    r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE
)
_MAX_NAME_BYTES: Final = 180


# --- file names of per-school maps -----------------------------------------------------


def _kept(char: str) -> bool:
    return char.isalnum() or char in "-."


def school_map_filename(school_id: str) -> str:
    """File name of a school's map: the id, with every unsafe character written as ``_XX``.

    Letters (Chinese too), digits, ``-`` and ``.`` are kept; every other
    character, ``_`` included, becomes ``_`` and the two hex digits of each of
    its UTF-8 bytes, as in URL percent-encoding with ``_`` for ``%``. The name
    is thus safe on Windows, macOS and Linux and in a link, and two ids never
    share a name (:func:`school_id_from_filename` gives the id back). An id
    whose name would pass 180 bytes is cut and ends in ``~`` and 16 hex digits
    of its SHA-1.

    Examples
    --------
    >>> school_map_filename("way/444227092")
    'way_2F444227092.html'
    >>> school_map_filename("青禾区第一小学")
    '青禾区第一小学.html'
    >>> school_map_filename("a_b c")
    'a_5Fb_20c.html'
    >>> school_map_filename("CON")
    '_43ON.html'
    """
    chars = []
    for i, char in enumerate(school_id):
        lead_dot = i == 0 and char == "."
        if _kept(char) and not lead_dot:
            chars.append(char)
        else:
            chars.append("".join(f"_{b:02X}" for b in char.encode("utf-8")))
    name = "".join(chars)
    if _WINDOWS_RESERVED.match(school_id):
        name = f"_{ord(name[0]):02X}{name[1:]}"
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        digest = hashlib.sha1(school_id.encode(), usedforsecurity=False).hexdigest()[:16]
        name = name.encode("utf-8")[: _MAX_NAME_BYTES - 17].decode("utf-8", "ignore")
        name = f"{name}~{digest}"
    return f"{name}.html"


def school_id_from_filename(filename: str) -> str:
    """The school id of a map file name written by :func:`school_map_filename`.

    Examples
    --------
    >>> school_id_from_filename("way_2F444227092.html")
    'way/444227092'
    """
    stem = filename.removesuffix(".html")
    if "~" in stem:
        msg = f"{filename!r} is a shortened name: the id is too long to be read back from it"
        raise InputDataError(msg)
    raw = re.sub(r"_([0-9A-F]{2})", lambda m: f"%{m.group(1)}", stem.replace("%", "%25"))
    return unquote(raw, errors="strict")


# --- preparing the layers once --------------------------------------------------------


def zone_groups(
    categories: Sequence[str],
    *,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
) -> list[ZoneGroup]:
    """The zones a map draws: one per (profile, distance) of the rules for the categories present.

    Parameters
    ----------
    categories
        Hazard categories in the data.
    rules, profile, dist
        As given to :func:`campus_geo.screen.screen`. With `dist`, one zone at
        `dist` metres; with `profile`, every rule measured that way. The
        ``walk`` profile has no zone (a walking distance is not a buffer), nor
        has an inside rule (its zone is the campus itself).

    Returns
    -------
    list of ZoneGroup
        The group screening the most categories first (it is shown on opening).

    Examples
    --------
    >>> [(g.profile, g.distance_m) for g in zone_groups(["internet_cafe", "lottery", "arcade"])]
    [('boundary', 200.0)]

    Water, traffic points and cameras are context for the analyses, not
    problems (``context = true``): they have no zone.

    >>> zone_groups(["water", "traffic"])
    []
    """
    table = rule_table(rules)
    context_keys = table.categories.context_keys
    categories = [c for c in categories if c not in context_keys]
    if not categories:
        return []
    if dist is not None:
        how = profile or "boundary"
        if how not in _BUFFER_PROFILES:
            return []
        return [ZoneGroup(how, float(dist), tuple(categories), SCHOOL_KINDS)]
    keyed: dict[tuple[str, float], list[Rule]] = {}
    for rule in table:
        how = profile if profile is not None and profile != "all" else rule.profile
        if rule.category in categories and how in _BUFFER_PROFILES and not rule.inside:
            keyed.setdefault((how, rule.distance_m), []).append(rule)
    groups = [
        ZoneGroup(
            how,
            distance,
            tuple(dict.fromkeys(r.category for r in group)),
            tuple(k for k in SCHOOL_KINDS if any(k in r.kinds for r in group)),
        )
        for (how, distance), group in keyed.items()
    ]
    return sorted(groups, key=lambda g: (-len(g.categories), g.distance_m, g.profile))


def _quad_segs(distance_m: float, tolerance_m: float) -> int:
    """Segments per quarter circle for a polygon within `tolerance_m` inside the circle.

    Examples
    --------
    >>> _quad_segs(200.0, 0.5), _quad_segs(500.0, 0.5)
    (12, 18)
    """
    if tolerance_m >= distance_m:
        return 2
    angle = math.acos(1.0 - tolerance_m / distance_m)
    return int(min(_MAX_QUAD_SEGS, max(2, math.ceil(math.pi / (4.0 * angle)))))


def _gate_geometries(
    schools: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame | None
) -> gpd.GeoSeries:
    """Each school's gates as a MultiPoint, or its outline where no gate is known."""
    geoms = schools.geometry.copy()
    if entrances is None or len(entrances) == 0:
        return geoms
    gates = entrances[entrances["school_id"].isin(schools.index)]
    for school_id, group in gates.groupby("school_id").geometry:
        geoms.loc[school_id] = shapely.multipoints(shapely.get_coordinates(group.values))
    return geoms


def _zones(
    groups: list[ZoneGroup],
    schools: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None,
    tolerance_m: float,
) -> list[gpd.GeoSeries]:
    """Per group, the zone of each school whose kind it covers, in EPSG:4326."""
    gates = _gate_geometries(schools, entrances)
    out = []
    for group in groups:
        eligible = schools["kind"].isin(group.kinds).to_numpy()
        source = gates if group.profile == "entrance" else schools.geometry
        quad_segs = _quad_segs(group.distance_m, tolerance_m)
        out.append(geodesic_buffer(source[eligible], group.distance_m, quad_segs=quad_segs))
    return out


def _status_codes(status: pd.Series | None, findings: gpd.GeoDataFrame) -> pd.Series | None:
    """Ledger status code of each finding (missing where the ledger has none)."""
    if status is None:
        return None
    aliases: dict[str, str] = {}
    for code, (zh, en, _) in STATUS_STYLES.items():
        aliases.update({code: code, zh: code, en: code, code.replace("_", " "): code})
    text = status.astype(str).str.strip()
    codes = text.map(lambda s: aliases.get(s, aliases.get(s.lower(), s)))
    unknown = sorted(set(codes.dropna()) - set(STATUS_STYLES))
    if unknown:
        log.warning("status values not known to the map, drawn as 'no status': %s", unknown)
    return codes.reindex(findings.index)


def _display(geoms: npt.NDArray[np.object_], crs: str) -> npt.NDArray[np.object_]:
    """Geometries in the basemap's coordinate system (GCJ-02 for Amap; else unchanged)."""
    if crs != "gcj02" or len(geoms) == 0:
        return geoms

    def shift(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    shifted: npt.NDArray[np.object_] = shapely.transform(geoms, shift)
    return shifted


def shifted(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """`gdf` (EPSG:4326) in the basemap's system: a new frame; the caller's is untouched."""
    if crs != "gcj02" or len(gdf) == 0:
        return gdf
    out = gdf.copy()
    moved = _display(np.asarray(gdf.geometry.values), crs)
    out[gdf.geometry.name] = gpd.GeoSeries(moved, index=gdf.index, crs=gdf.crs)
    return out


def _check_findings(findings: gpd.GeoDataFrame, hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(findings, gpd.GeoDataFrame):
        got = type(findings).__name__
        msg = f"`findings` must be the GeoDataFrame returned by screen(), got {got}"
        raise InputDataError(msg)
    missing = [c for c in _FINDING_NEEDS if c not in findings.columns]
    if missing:
        msg = (
            f"`findings` has no column(s) {', '.join(missing)}; pass the findings returned by "
            "campus_geo.screen.screen() (or read back from findings.gpkg)"
        )
        raise InputDataError(msg)
    if len(findings) == 0:
        return findings
    if findings.crs is None:
        msg = "`findings` has no CRS; call findings.set_crs(4326) (screen() returns EPSG:4326)"
        raise InputDataError(msg)
    unknown = sorted(set(findings["hazard_id"].astype(str)) - set(hazards.index.astype(str)))
    if unknown:
        msg = (
            f"`findings` refer to hazards missing from `hazards` ({', '.join(unknown[:10])}); "
            "pass the hazards layer that was screened"
        )
        raise InputDataError(msg)
    return findings.to_crs(DEFAULT_CRS)


def _optional(gdf: gpd.GeoDataFrame | None, name: str) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is None:
        msg = f"`{name}` has no CRS; call {name}.set_crs(4326) if the coordinates are lon/lat"
        raise InputDataError(msg)
    return gdf.to_crs(DEFAULT_CRS)


def _restricted_counts(
    restricted: gpd.GeoDataFrame, zones: list[gpd.GeoSeries]
) -> pd.Series | None:
    """Per school, the restricted points within its first zone (None: no restricted layer)."""
    if len(restricted) == 0:
        return None
    if not zones or not len(zones[0]):
        return pd.Series(dtype=np.int64)
    tree = shapely.STRtree(restricted.geometry.values)
    school, _ = tree.query(zones[0].values, predicate="intersects")
    counts = np.bincount(school, minlength=len(zones[0]))
    return pd.Series(counts, index=zones[0].index.astype(str))


def _from_osm(*layers: pd.DataFrame | None) -> bool:
    return any(
        gdf is not None
        and "source" in gdf.columns
        and bool(gdf["source"].astype(str).str.startswith("osm:").any())
        for gdf in layers
    )


@dataclass(frozen=True)
class _Context:
    """What a map needs besides the findings, schools and hazards (see :func:`hazard_map`)."""

    entrances: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    water: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None
    rules: Sequence[Rule] | str | Path | None = None
    profile: str | None = None
    dist: float | None = None
    status: pd.Series | None = None
    zone_tolerance_m: float = 0.5


def _prepare(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    options: MapOptions,
    context: _Context,
) -> Prepared:
    """Validate the layers, compute the zones, shift into the basemap's coordinates.

    The categories are the rule table's (a :class:`~campus_geo.rules.RuleTable`
    or a TOML file brings its own), plus a bare one for any other the hazards
    have: the screening checked them.
    """
    table = rule_table(context.rules)
    schools = validate_schools(schools)
    present = hazards["category"].astype(str).unique() if "category" in hazards.columns else []
    registry = categories_of(table).with_keys(present)
    hazards = (
        validate_hazards(hazards, categories=registry.keys)
        if len(hazards)
        else hazards.to_crs(DEFAULT_CRS)
    )
    findings = _check_findings(findings, hazards)
    entrances = context.entrances
    if entrances is not None and len(entrances):
        entrances = validate_entrances(entrances)
    if context.zone_tolerance_m <= 0:
        msg = (
            f"zone_tolerance_m must be a positive number of metres, got {context.zone_tolerance_m}"
        )
        raise InputDataError(msg)
    restricted = (hazards["category"].astype(str) == "restricted").to_numpy()
    categories = sorted(set(hazards["category"].astype(str)) - {"restricted"})
    groups = zone_groups(categories, rules=table, profile=context.profile, dist=context.dist)
    zones = _zones(groups, schools, entrances, context.zone_tolerance_m)
    if len(findings):
        findings = findings[findings["category"].astype(str) != "restricted"]
    crs = options.basemap.crs
    basemap_layers = {}
    for key, layer in (
        ("streets", context.streets),
        ("water", context.water),
        ("buildings", context.buildings),
    ):
        checked = _optional(layer, key)
        if checked is not None:
            basemap_layers[key] = shifted(checked, crs)
    return Prepared(
        options=options,
        schools=shifted(schools, crs),
        hazards=shifted(hazards[~restricted], crs),
        findings=shifted(findings, crs),
        zone_groups=groups,
        zones=[_shift_series(z, crs) for z in zones],
        status=_status_codes(context.status, findings),
        rules=table,
        categories=registry,
        basemap_layers=basemap_layers,
        restricted_counts=_restricted_counts(hazards[restricted], zones),
        data_osm=bool(basemap_layers) or _from_osm(schools, hazards),
    )


def _shift_series(zones: gpd.GeoSeries, crs: str) -> gpd.GeoSeries:
    return gpd.GeoSeries(_display(np.asarray(zones.values), crs), index=zones.index)


# --- the public functions -------------------------------------------------------------


def _options(
    *,
    basemap_key: str,
    tianditu_key: str | None,
    lang: str,
    title: str | None,
    school_links: Mapping[str, str] | None,
    overview_link: str | None,
) -> MapOptions:
    if lang not in ("zh", "en"):
        msg = f"unknown lang {lang!r}; expected 'zh' or 'en'"
        raise InputDataError(msg)
    links = {
        str(k): _relative_link(v, "school_links value") for k, v in (school_links or {}).items()
    }
    return MapOptions(
        basemap=basemap(basemap_key, tianditu_key=tianditu_key, lang=lang),
        lang=lang,
        title=title,
        school_links=links,
        overview_link=_relative_link(overview_link, "overview_link") if overview_link else None,
    )


def _relative_link(link: str, what: str) -> str:
    """Only relative links reach the page: no scheme (javascript:, data:, http:)."""
    if re.match(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:", link) or link.lstrip().startswith("//"):
        msg = f"{what} {link!r} must be a relative link such as maps/way_2F1.html"
        raise InputDataError(msg)
    return link


def hazard_map(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    *,
    entrances: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    status: pd.Series | None = None,
    title: str | None = None,
    school_links: Mapping[str, str] | None = None,
    zone_tolerance_m: float = 0.5,
    extra_layers: Sequence[folium.map.Layer] = (),
) -> folium.Map:
    """Overview map of schools, their zones, the hazards and the measured line of every finding.

    Parameters
    ----------
    findings
        Findings from :func:`campus_geo.screen.screen` (index ``finding_id``).
    schools, hazards
        The canonical layers that were screened (any CRS). Restricted points
        (category ``restricted``) are counted per school's zone, never drawn.
    entrances
        School gates (``school_id``): the zones of ``entrance``-profile rules
        are buffers of the gates.
    streets, water, buildings
        Layers of the offline vector basemap (``basemap="none"``), as
        :class:`campus_geo.layers.Layers` holds them.
    rules, profile, dist
        As given to :func:`~campus_geo.screen.screen`: they decide the zones
        drawn, one per (profile, distance) group (see :func:`zone_groups`).
    basemap
        ``none`` (offline vector basemap, the default), ``osm``, ``tianditu``
        (needs `tianditu_key` or ``TIANDITU_KEY``) or ``amap`` (GCJ-02: every
        layer is shifted from WGS 84 into GCJ-02 to sit on Amap's streets).
    tianditu_key
        Tianditu key (written into the page; use a browser key limited to your domain).
    lang
        ``zh`` (default) or ``en``.
    status
        Ledger status per finding (index ``finding_id``; the codes or Chinese
        labels of :data:`STATUS_STYLES`, as :func:`campus_geo.ledger.status_by_finding`
        gives them): lines and found venues are coloured by it. Default: by severity.
    title
        Title of the page and of the summary panel.
    school_links
        Relative link per school id (e.g. to its map, see :func:`save_school_maps`),
        shown in the school's popup.
    zone_tolerance_m
        Largest distance in metres between a drawn zone's edge and the true
        buffer's (the zone polygon has just enough vertices for it).
    extra_layers
        folium layers added to the map and its layer control: drawn with
        Leaflet alone (an offline page refuses other assets), in the basemap's
        coordinates (GCJ-02 for ``amap``), their texts inert in folium's
        templates, as the ``water_layer``, ``traffic_layer`` and ``camera_layer``
        of :mod:`campus_geo.water`, ``.traffic`` and ``.cameras`` are.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` (offline by default).

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> from campus_geo.screen import screen
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> findings = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    >>> m = hazard_map(findings, osm.schools, osm.hazards, entrances=osm.entrances,
    ...                streets=osm.streets, water=osm.water)
    >>> page = map_html(m)
    >>> "cdn.jsdelivr.net" in page, "campusGeo.init" in page
    (False, True)
    """
    options = _options(
        basemap_key=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        title=title,
        school_links=school_links,
        overview_link=None,
    )
    context = _Context(
        entrances, streets, water, buildings, rules, profile, dist, status, zone_tolerance_m
    )
    return build_map(
        _prepare(findings, schools, hazards, options, context), extra_layers=extra_layers
    )


def _prepare_school_pages(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    context: _Context,
    *,
    basemap: str,
    tianditu_key: str | None,
    lang: str,
    overview_link: str | None,
) -> Prepared:
    """Layers prepared once for per-school pages (:func:`school_map`, :func:`save_school_maps`)."""
    options = _options(
        basemap_key=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        title=None,
        school_links=None,
        overview_link=overview_link,
    )
    return _prepare(findings, schools, hazards, options, context)


def school_map(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    school_id: str,
    *,
    entrances: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    status: pd.Series | None = None,
    overview_link: str | None = None,
    zone_tolerance_m: float = 0.5,
) -> folium.Map:
    """Map of one school for a briefing: its zones, the venues around it, its findings.

    Parameters
    ----------
    findings, schools, hazards
        As for :func:`hazard_map`.
    school_id
        The school to draw (an index value of `schools`).
    overview_link
        Relative link back to the overview, shown in the summary panel.
    entrances, streets, water, buildings, rules, profile, dist, basemap, tianditu_key, lang, status, zone_tolerance_m
        As for :func:`hazard_map`.
    """
    prepared = _prepare_school_pages(
        findings,
        schools,
        hazards,
        _Context(
            entrances, streets, water, buildings, rules, profile, dist, status, zone_tolerance_m
        ),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        overview_link=overview_link,
    )
    _check_school_ids(prepared, [school_id])
    return build_map(prepared, school_id)


def _check_school_ids(prepared: Prepared, school_ids: Sequence[str]) -> None:
    missing = [s for s in school_ids if s not in prepared.schools.index]
    if missing:
        msg = f"school id(s) {', '.join(map(str, missing[:10]))} are not in `schools`"
        raise InputDataError(msg)


def save_school_maps(
    findings: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    hazards: gpd.GeoDataFrame,
    dirpath: str | Path,
    *,
    school_ids: Sequence[str] | None = None,
    entrances: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    rules: Sequence[Rule] | str | Path | None = None,
    profile: str | None = None,
    dist: float | None = None,
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    status: pd.Series | None = None,
    overview_link: str | None = "../map.html",
    zone_tolerance_m: float = 0.5,
    offline: bool = True,
) -> dict[str, Path]:
    """Write one map per school, ``dirpath/<school_map_filename(school_id)>``, and an index.

    The layers are prepared once (zones, shifts, indexes); each school's page
    is then cut out of them: the school, its zones, the venues and schools
    within its view, its findings, and the basemap clipped to the view.
    ``dirpath/index.html`` lists the schools with links to their maps.

    Parameters
    ----------
    findings, schools, hazards
        As for :func:`hazard_map`.
    dirpath
        Folder to write into (created).
    school_ids
        The schools to draw; default: every school with findings.
    overview_link
        Relative link from a school's map back to the overview (None: no link).
    offline
        Inline every asset (see :func:`save_map`).
    entrances, streets, water, buildings, rules, profile, dist, basemap, tianditu_key, lang, status, zone_tolerance_m
        As for :func:`hazard_map`.

    Returns
    -------
    dict
        School id -> path of its map.
    """
    prepared = _prepare_school_pages(
        findings,
        schools,
        hazards,
        _Context(
            entrances, streets, water, buildings, rules, profile, dist, status, zone_tolerance_m
        ),
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        overview_link=overview_link,
    )
    if school_ids is None:
        school_ids = list(dict.fromkeys(prepared.findings["school_id"].astype(str)))
    _check_school_ids(prepared, school_ids)
    folder = Path(dirpath)
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        sid: save_map(build_map(prepared, sid), folder / school_map_filename(sid), offline=offline)
        for sid in school_ids
    }
    _write_index(prepared, written, folder)
    _remove_stale_maps(folder, {path.name for path in written.values()})
    log.info("wrote %d school maps to %s", len(written), folder)
    return written


#: The files the last :func:`save_school_maps` wrote into a folder (besides ``index.html``).
MAPS_MANIFEST: Final = ".campus_geo_maps.json"


def _remove_stale_maps(folder: Path, names: set[str]) -> None:
    """Remove the school maps an earlier run wrote into `folder` and this one did not.

    A re-run into the same ``--out`` must not leave the maps of schools that have
    no findings any more beside the index. Only files listed in the manifest of the
    previous run are removed: nothing a user put into the folder is touched.
    """
    import json

    manifest = folder / MAPS_MANIFEST
    try:
        before = set(json.loads(manifest.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        before = set()
    stale = sorted(n for n in before - names if Path(n).name == n and n.endswith(".html"))
    for name in stale:
        (folder / name).unlink(missing_ok=True)
    if stale:
        log.info("removed %d school map(s) of an earlier run from %s", len(stale), folder)
    manifest.write_text(json.dumps(sorted(names), ensure_ascii=False), encoding="utf-8")


def _write_index(prepared: Prepared, written: Mapping[str, Path], folder: Path) -> Path:
    """``index.html``: the schools (name, township, findings) with links to their maps."""
    import html
    from urllib.parse import quote

    zh = prepared.options.lang == "zh"
    counts = prepared.findings["school_id"].astype(str).value_counts()
    rows = []
    for sid, path in written.items():
        school = prepared.schools.loc[sid]
        name = html.escape(str(school.get("name", sid)))
        place = html.escape(" ".join(str(school.get(c, "") or "") for c in ("township", "village")))
        rows.append(
            f'<tr><td><a href="{html.escape(quote(path.name))}">{name}</a></td>'
            f"<td>{place}</td><td>{int(counts.get(sid, 0))}</td><td>{html.escape(sid)}</td></tr>"
        )
    head = (
        ("学校", "乡镇（街道）、村（社区）", "隐患", "编号")
        if zh
        else ("School", "Place", "Findings", "Id")
    )
    title = "单校隐患图" if zh else "School maps"
    page = (
        f'<!DOCTYPE html><html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:1.5em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}</style>"
        f"</head><body><h1>{title}</h1><table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>"
        f"{''.join(rows)}</table></body></html>\n"
    )
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def map_html(m: folium.Map, *, offline: bool = True) -> str:
    """The page of a folium map as HTML text.

    Parameters
    ----------
    m
        A map from :func:`hazard_map` or :func:`school_map` (or any folium map
        drawn with Leaflet, Leaflet.markercluster and Leaflet Control Search).
    offline
        Inline every script, style sheet and image from the copies vendored in
        campus_geo (see ``campus_geo/static/README.md``); the page then loads
        nothing from the network but the tiles of a tile basemap.

    Raises
    ------
    InputDataError
        With `offline`, when the map needs an asset that campus_geo does not vendor.
    """
    page = str(m.get_root().render())
    return inline_assets(page) if offline else page


def save_map(m: folium.Map, filepath: str | Path, *, offline: bool = True) -> Path:
    """Write a folium map as one HTML file (UTF-8), self-contained when `offline`.

    Parameters
    ----------
    m
        The map.
    filepath
        Where to write; the folder is created.
    offline
        See :func:`map_html`. Default True: the page works with no network.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(filepath)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = map_html(m, offline=offline)
    path.write_text(page, encoding="utf-8")
    log.info(
        "wrote map %s (%.1f MB%s)", path, len(page.encode()) / 1e6, ", offline" if offline else ""
    )
    return path
