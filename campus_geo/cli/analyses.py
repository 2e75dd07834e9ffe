"""Command-line glue for the walking network and the water, traffic and camera analyses.

Kept out of cli/main.py so that the command module stays a list of commands: it
asks here whether a walking network is needed, builds it, runs the analyses of
``campus-geo demo`` once (:func:`run_analyses`: the results go to the summary
page, the inspection form and the overview map) and writes their tables
(:func:`save_analyses`: CSV and GeoPackage, and the lines the command prints).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parts load when a command runs, not for --help
    from campus_geo.network.graph import WalkNetwork
    from campus_geo.reports.analyses import Analyses
    from campus_geo.rules import Rule
    from campus_geo.sources.layers import Layers

__all__ = ["needs_network", "network_for", "run_analyses", "save_analyses"]

log = logging.getLogger(__name__)


def needs_network(profile: str | None, rules: Path | None) -> bool:
    """Whether the screening measures on foot (``--profile walk|all`` or a walk rule)."""
    from campus_geo.rules import read_rules

    if profile in ("walk", "all"):
        return True
    if profile is None and rules is not None:
        return any(r.profile == "walk" for r in read_rules(rules))
    return False


def network_for(osm_files: Sequence[Path]) -> WalkNetwork | None:
    """The walking network of the OSM files (XML or PBF), or None when there are none."""
    from campus_geo.network.graph import walk_network_from_osm

    if not osm_files:
        return None
    return walk_network_from_osm(list(osm_files))


def _rules_for(category: str, rules: Path | None) -> list[Rule]:
    """The rule table whose `category` rule sets an analysis's distance: --rules, else default.

    A table given with --rules but without a rule of that category leaves the
    distance to the default table's (logged), so that the analysis still runs.
    """
    from campus_geo.rules import default_rules, read_rules, rule_of

    if rules is None:
        return default_rules()
    table = read_rules(rules)
    if rule_of(category, table) is not None:
        return table
    log.info("%s has no %s rule: the default table's distance is used", rules, category)
    return default_rules()


def run_analyses(
    layers: Layers, network: WalkNetwork, *, rules: Path | None = None, lang: str = "zh"
) -> Analyses:
    """Drowning risk, traffic at gates and camera coverage of the layers, computed once.

    Distances come from the rule table (`rules`, else the default table): the
    water rule's (500 m), the traffic rule's walk from the gates (100 m), and the
    cameras' zone out to the widest prohibited distance (200 m).
    """
    from campus_geo.analyses.cameras import camera_coverage, cameras_from_hazards, zone_distance
    from campus_geo.analyses.traffic import (
        arterial_gaps,
        gate_traffic,
        guard_post_candidates,
        traffic_distance,
        traffic_points,
    )
    from campus_geo.analyses.water import key_water_areas, water_near_schools, water_rule
    from campus_geo.reports.analyses import Analyses
    from campus_geo.rules import read_rules

    water_rules, traffic_rules = _rules_for("water", rules), _rules_for("traffic", rules)
    near = water_near_schools(layers.schools, layers.hazards, rules=water_rules)
    points = traffic_points(layers.hazards, network)
    at_gates = gate_traffic(
        network,
        layers.entrances,
        layers.hazards,
        schools=layers.schools,
        points=points,
        rules=traffic_rules,
    )
    gaps = arterial_gaps(
        network, layers.entrances, points, schools=layers.schools, rules=traffic_rules
    )
    cams = cameras_from_hazards(layers.hazards)
    table = read_rules(rules) if rules is not None else None
    school_cov, gate_cov, blind = camera_coverage(
        layers.schools, cams, entrances=layers.entrances, rules=table
    )
    return Analyses(
        water_near=near,
        water_bodies=key_water_areas(near, layers.hazards),
        water_m=water_rule(None, water_rules).distance_m,
        at_gates=at_gates,
        gaps=gaps,
        posts=guard_post_candidates(at_gates, gaps, lang=lang),
        traffic_m=traffic_distance(traffic_rules),
        cameras=cams,
        school_coverage=school_cov,
        gate_coverage=gate_cov,
        blind_spots=blind,
        zone_m=zone_distance(table),
    )


def save_analyses(analyses: Analyses, out: Path) -> tuple[dict[str, Path], list[str]]:
    """Write the analyses' tables into `out`; return what was written and the lines to print.

    Writes water_near_schools.csv, key_water_areas.csv, water.gpkg;
    gate_traffic.csv, arterial_gaps.csv, guard_posts.csv, traffic.gpkg;
    camera_coverage.csv, gate_coverage.csv, cameras.gpkg.
    """
    from campus_geo.analyses.cameras import save_coverage
    from campus_geo.analyses.traffic import save_traffic
    from campus_geo.analyses.water import save_water

    a = analyses
    written = save_water(a.water_near, a.water_bodies, out)
    written |= save_traffic(a.at_gates, a.gaps, a.posts, out)
    written |= save_coverage(a.school_coverage, a.gate_coverage, a.blind_spots, out)
    top = a.water_bodies.sort_values("rank").iloc[0] if len(a.water_bodies) else None
    seen = int(a.gate_coverage["seen"].sum()) if len(a.gate_coverage) else 0
    lines = [
        f"Water within {a.water_m:g} m: {a.water_near['school_id'].nunique()} schools, "
        f"{len(a.water_bodies)} water bodies"
        + (
            f"; key water area #1 {top['name']} threatens {top['schools']} schools."
            if top is not None
            else "."
        ),
        f"Traffic at gates: {len(a.at_gates)} gate-point pairs on foot, {len(a.gaps)} arterial "
        f"frontages without signalised crossing, guard-post candidates at "
        f"{a.posts['school_id'].nunique()} schools.",
        f"Cameras: {len(a.cameras)}; {seen} of {len(a.gate_coverage)} gates seen; "
        f"median zone coverage {a.school_coverage['covered_share'].median():.1%}.",
        "Sections 溺水防范, 交通安全 and 视频监控 in summary.html; layers in map.html.",
    ]
    return written, lines
