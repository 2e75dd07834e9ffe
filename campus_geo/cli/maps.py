"""The map options of ``campus-geo screen`` and ``campus-geo demo``, and the maps they write.

Both commands write ``OUT/map.html`` (the overview) and ``OUT/maps/`` (one map
per school with findings, ``<school_map_filename(id)>``, and ``index.html``),
offline: every script and style inline, and with the default basemap ``none``
not a single request leaves the page. ``campus-geo demo`` adds the layers of the
water, traffic and camera analyses to the overview.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from campus_geo._errors import InputDataError
from campus_geo.settings import BASEMAPS

if TYPE_CHECKING:
    from campus_geo.reports.analyses import Analyses

__all__ = ["MapChoices", "map_options", "save_maps"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class MapChoices:
    """What the command line chose for the maps."""

    basemap: str = "none"
    tianditu_key: str | None = None
    school_maps: str = "findings"


_OPTIONS = [
    click.option(
        "--basemap",
        type=click.Choice(BASEMAPS),
        default="none",
        show_default=True,
        help="Basemap of map.html and maps/: none = offline vector basemap drawn from the "
        "loaded streets, water and buildings (no network at all); osm = OpenStreetMap tiles; "
        "tianditu = 天地图 (needs --tianditu-key); amap = 高德 (GCJ-02: every layer is shifted "
        "to sit on its streets). The pages carry all their scripts and styles in any case.",
    ),
    click.option(
        "--tianditu-key",
        envvar="TIANDITU_KEY",
        default=None,
        metavar="KEY",
        help="Tianditu key (tk) for --basemap tianditu; default: the TIANDITU_KEY variable. "
        "It is written into the pages: use a browser key limited to your domain.",
    ),
    click.option(
        "--school-maps",
        type=click.Choice(["findings", "all", "none"]),
        default="findings",
        show_default=True,
        help="One map per school in OUT/maps/ (file name: the school id with unsafe "
        "characters as _XX, e.g. way/123 -> way_2F123.html; OUT/maps/index.html lists "
        "them): for the schools with findings, every school, or none.",
    ),
]


def map_options(func: F) -> F:
    """Add the map options to a command; it receives them as one ``maps`` argument."""

    @functools.wraps(func)
    def wrapper(
        *args: Any, basemap: str, tianditu_key: str | None, school_maps: str, **kwargs: Any
    ) -> Any:
        from campus_geo.maps.basemap import basemap as basemap_spec

        try:  # a missing Tianditu key is told before the screening, not after it
            basemap_spec(basemap, tianditu_key=tianditu_key)
        except InputDataError as exc:
            raise click.BadParameter(str(exc), param_hint="--tianditu-key") from exc
        return func(*args, maps=MapChoices(basemap, tianditu_key, school_maps), **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def save_maps(
    findings: Any,
    layers: Any,
    out: Path,
    *,
    rules: Path | None,
    profile: str | None,
    dist: float | None,
    lang: str,
    status: Any = None,
    maps: MapChoices | None = None,
    analyses: Analyses | None = None,
) -> dict[str, Path]:
    """Write OUT/map.html and the per-school maps in OUT/maps/; return what was written.

    With `analyses`, the overview also shows the key water areas, the guard-post
    candidates with the arterial gaps, and the camera sectors with the blind
    spots (this last layer off on opening: tick it in the layer control).
    """
    from campus_geo.maps.hazard import hazard_map, save_map, save_school_maps, school_map_filename

    maps = maps or MapChoices()
    options: dict[str, Any] = {
        "entrances": layers.entrances,
        "streets": layers.streets,
        "water": getattr(layers, "water", None),
        "buildings": getattr(layers, "buildings", None),
        "rules": rules,
        "profile": profile,
        "dist": dist,
        "basemap": maps.basemap,
        "tianditu_key": maps.tianditu_key,
        "lang": lang,
        "status": status,
    }
    written: dict[str, Path] = {}
    school_ids: list[str] | None = None
    if maps.school_maps == "all":
        school_ids = [str(s) for s in layers.schools.index]
    elif maps.school_maps == "findings":
        school_ids = list(dict.fromkeys(findings["school_id"].astype(str))) if len(findings) else []
    links: dict[str, str] = {}
    if school_ids:
        save_school_maps(
            findings, layers.schools, layers.hazards, out / "maps", school_ids=school_ids, **options
        )
        links = {sid: f"maps/{school_map_filename(sid)}" for sid in school_ids}
        written["school_maps"] = out / "maps" / "index.html"
    extra = [] if analyses is None else _analysis_layers(analyses, maps, lang)
    written["map"] = save_map(
        hazard_map(
            findings,
            layers.schools,
            layers.hazards,
            school_links=links,
            extra_layers=extra,
            **options,
        ),
        out / "map.html",
    )
    return written


def _analysis_layers(analyses: Analyses, maps: MapChoices, lang: str) -> list[Any]:
    """The water, traffic and camera layers, in the basemap's coordinates (GCJ-02 for amap)."""
    from campus_geo.analyses.cameras import camera_layer
    from campus_geo.analyses.traffic import traffic_layer
    from campus_geo.analyses.water import water_layer
    from campus_geo.maps.basemap import basemap as basemap_spec
    from campus_geo.maps.hazard import shifted

    crs = basemap_spec(maps.basemap, tianditu_key=maps.tianditu_key).crs

    def shown(gdf: Any) -> Any:
        return shifted(gdf, crs)

    a = analyses
    layers = []
    if a.water_near is not None and a.water_bodies is not None:
        layers.append(water_layer(shown(a.water_near), shown(a.water_bodies), lang=lang))
    if a.posts is not None and a.gaps is not None:
        layers.append(traffic_layer(shown(a.posts), shown(a.gaps), lang=lang))
    if a.cameras is not None and a.blind_spots is not None:
        layers.append(camera_layer(shown(a.cameras), shown(a.blind_spots), lang=lang, show=False))
    return layers
