"""The desk's full map: map.html's layers for the user's own cases, coloured by status.

The desk's quick map (``/map``) draws the cases from the findings file alone. Given
the district's OSM files (``campus-geo serve --osm FILE``), the desk also serves
``/map/full``: the page :func:`campus_geo.maps.hazard.hazard_map` makes for
``map.html`` (zones, every venue by category, schools, gates, the vector basemap of
streets, water and buildings, the measured lines), restricted to the cases the user
may see and coloured by their status in the ledger today (逾期 first), offline
(every asset inline), as ``ledger_map.html`` is. The layers are read once when the
desk starts; a page is built per request from the current ledger, so it is never
stale.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from campus_geo.ledger.cases import status_by_finding
from campus_geo.maps.hazard import hazard_map, map_html
from campus_geo.sources.layers import Layers, empty_layers, layers_from_osm

__all__ = ["FullMap"]

log = logging.getLogger(__name__)


def _with_points(
    layer: gpd.GeoDataFrame, findings: pd.DataFrame, end: str, columns: tuple[str, ...]
) -> gpd.GeoDataFrame:
    """`layer` with a point for each school or venue the findings name and it lacks.

    The points are the findings' end points (``school_lon``/``school_lat``,
    ``hazard_lon``/``hazard_lat``), which are WGS 84 (EPSG:4326) in every
    findings file :func:`campus_geo.screen.save_findings` writes.
    """
    ids = findings[f"{end}_id"].astype(str)
    missing = findings[~ids.isin(layer.index.astype(str))].drop_duplicates(f"{end}_id")
    if missing.empty:
        return layer
    extra = gpd.GeoDataFrame(
        {
            "name": missing[f"{end}_name"].to_numpy(),
            **{c: missing[c].to_numpy() for c in columns if c in missing.columns},
        },
        geometry=gpd.points_from_xy(missing[f"{end}_lon"], missing[f"{end}_lat"]),
        index=pd.Index(missing[f"{end}_id"].astype(str).to_numpy(), name=layer.index.name),
        crs=layer.crs or "EPSG:4326",
    )
    if end == "school":  # a roster's school: its kind only picks its zones' rules, and
        # every venue rule applies to every kind (the findings do not record the kind)
        extra["kind"] = "primary"
    return gpd.GeoDataFrame(pd.concat([layer, extra]), crs=layer.crs or "EPSG:4326")


class FullMap:
    """The district's layers and the findings' lines, ready to draw any user's cases.

    Parameters
    ----------
    osm_files
        The district's OSM files (XML or PBF), as given to ``campus-geo screen``.
    findings_path
        The findings file of the screening the ledger follows (findings.gpkg).
    """

    def __init__(self, osm_files: Sequence[str | Path], findings_path: str | Path) -> None:
        layers: Layers = empty_layers()
        for path in osm_files:
            layers = layers + layers_from_osm(path)
        findings = gpd.read_file(findings_path, engine="pyogrio").set_index("finding_id")
        # venues of a registry and schools of a roster are not in the OSM files: they are
        # drawn where the findings measured them (their end points)
        layers = replace(
            layers,
            schools=_with_points(layers.schools, findings, "school", ("township", "village")),
            hazards=_with_points(layers.hazards, findings, "hazard", ("category",)),
        )
        self.layers = layers
        self.findings = findings
        log.info(
            "desk full map: %d schools, %d venues, %d findings",
            len(layers.schools),
            len(layers.hazards),
            len(self.findings),
        )

    def html(
        self, ledger_path: str | Path, case_ids: Iterable[str], *, today: dt.date, title: str
    ) -> str:
        """The offline page of these cases (ids the user may see), coloured by status today."""
        wanted = self.findings.index.intersection(pd.Index(list(case_ids), dtype=object))
        findings = self.findings.loc[wanted]
        status = status_by_finding(ledger_path, today=today).reindex(findings.index)
        layers = self.layers
        page: Any = hazard_map(
            findings,
            layers.schools,
            layers.hazards,
            entrances=layers.entrances,
            streets=layers.streets,
            water=layers.water,
            buildings=layers.buildings,
            status=status,
            title=title,
        )
        return str(map_html(page, offline=True))
