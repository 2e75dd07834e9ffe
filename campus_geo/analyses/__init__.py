"""The analyses beside the prohibited-venue screening: drowning risk, traffic, cameras.

- :mod:`~campus_geo.analyses.water`: water bodies near each school, ranked; the key
  water areas that threaten several schools (plan items 4 and 12).
- :mod:`~campus_geo.analyses.traffic`: crossings, signals and bus stops at the gates,
  arterial gaps and guard-post (护学岗) candidates (plan item 11).
- :mod:`~campus_geo.analyses.cameras`: video coverage of each zone and gate, blind spots
  (plan items 2 and 11).

Each measures with :mod:`campus_geo.geodesy` and the walking network of
:mod:`campus_geo.network`, and draws its own map layer.
"""

from __future__ import annotations

from campus_geo.analyses.cameras import (
    APPROACH_M,
    DEFAULT_FOV_DEG,
    DEFAULT_RANGE_M,
    STEP_DEG,
    camera_coverage,
    camera_layer,
    cameras_from_file,
    cameras_from_hazards,
    save_coverage,
    viewsheds,
    zone_distance,
)
from campus_geo.analyses.traffic import (
    ARTERIAL_CLASSES,
    GUARD_KINDS,
    PASS_M,
    SIGNAL_RADIUS_M,
    arterial_gaps,
    gate_traffic,
    guard_post_candidates,
    save_traffic,
    traffic_distance,
    traffic_layer,
    traffic_points,
)
from campus_geo.analyses.water import (
    WATER_TYPES,
    form_lines,
    key_water_areas,
    save_water,
    water_layer,
    water_near_schools,
    water_rule,
    water_types,
)

__all__ = [
    "APPROACH_M",
    "ARTERIAL_CLASSES",
    "DEFAULT_FOV_DEG",
    "DEFAULT_RANGE_M",
    "GUARD_KINDS",
    "PASS_M",
    "SIGNAL_RADIUS_M",
    "STEP_DEG",
    "WATER_TYPES",
    "arterial_gaps",
    "camera_coverage",
    "camera_layer",
    "cameras_from_file",
    "cameras_from_hazards",
    "form_lines",
    "gate_traffic",
    "guard_post_candidates",
    "key_water_areas",
    "save_coverage",
    "save_traffic",
    "save_water",
    "traffic_distance",
    "traffic_layer",
    "traffic_points",
    "viewsheds",
    "water_layer",
    "water_near_schools",
    "water_rule",
    "water_types",
    "zone_distance",
]
