"""Command-line glue for the walking network and the water, traffic and camera analyses.

Kept out of cli.py so that the command module stays a list of commands: cli.py
asks here whether a walking network is needed, builds it, and runs the
analyses of ``campus-geo demo`` (tables in CSV and GeoPackage, summary lines).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from .layers import Layers
from .network import WalkNetwork, walk_network_from_osm
from .rules import read_rules

__all__ = ["needs_network", "network_for", "run_analyses"]

log = logging.getLogger(__name__)


def needs_network(profile: str | None, rules: Path | None) -> bool:
    """Whether the screening measures on foot (``--profile walk|all`` or a walk rule)."""
    if profile in ("walk", "all"):
        return True
    if profile is None and rules is not None:
        return any(r.profile == "walk" for r in read_rules(rules))
    return False


def network_for(osm_files: Sequence[Path]) -> WalkNetwork | None:
    """The walking network of the OSM files, or None when there are none."""
    if not osm_files:
        return None
    return walk_network_from_osm(list(osm_files))


def run_analyses(
    layers: Layers, network: WalkNetwork, out: Path, *, lang: str = "zh"
) -> tuple[dict[str, Path], list[str]]:
    """Drowning risk, traffic at gates and camera coverage: write the tables, return summary lines.

    Writes into `out`: water_near_schools.csv, key_water_areas.csv, water.gpkg;
    gate_traffic.csv, arterial_gaps.csv, guard_posts.csv, traffic.gpkg;
    camera_coverage.csv, gate_coverage.csv, cameras.gpkg.
    """
    from .cameras import camera_coverage, cameras_from_hazards, save_coverage
    from .traffic import (
        arterial_gaps,
        gate_traffic,
        guard_post_candidates,
        save_traffic,
        traffic_points,
    )
    from .water import key_water_areas, save_water, water_near_schools

    written: dict[str, Path] = {}
    lines: list[str] = []
    near = water_near_schools(layers.schools, layers.hazards)
    bodies = key_water_areas(near, layers.hazards)
    written |= save_water(near, bodies, out)
    top = bodies.iloc[0] if len(bodies) else None
    lines.append(
        f"Water within {near['threshold_m'].max() if len(near) else 0:g} m: "
        f"{near['school_id'].nunique()} schools, {len(bodies)} water bodies"
        + (
            f"; key water area #1 {top['name']} threatens {top['schools']} schools."
            if top is not None
            else "."
        )
    )
    points = traffic_points(layers.hazards, network)
    at_gates = gate_traffic(
        network, layers.entrances, layers.hazards, schools=layers.schools, points=points
    )
    gaps = arterial_gaps(network, layers.entrances, points, schools=layers.schools)
    posts = guard_post_candidates(at_gates, gaps, lang=lang)
    written |= save_traffic(at_gates, gaps, posts, out)
    lines.append(
        f"Traffic at gates: {len(at_gates)} gate-point pairs on foot, {len(gaps)} arterial "
        f"frontages without signalised crossing, guard-post candidates at "
        f"{posts['school_id'].nunique()} schools."
    )
    cams = cameras_from_hazards(layers.hazards)
    school_cov, gate_cov, blind = camera_coverage(layers.schools, cams, entrances=layers.entrances)
    written |= save_coverage(school_cov, gate_cov, blind, out)
    lines.append(
        f"Cameras: {len(cams)}; {int(gate_cov['seen'].sum())} of {len(gate_cov)} gates seen; "
        f"median zone coverage {school_cov['covered_share'].median():.1%}."
    )
    lines.append("Wrote:")
    lines += [f"  {path}" for path in written.values()]
    return written, lines
