"""Reading what offices and OpenStreetMap hand over into the canonical layers.

- :mod:`~campus_geo.sources.layers`: schools, entrances and hazards from OSM XML/PBF;
- :mod:`~campus_geo.sources.files`: schools and hazards from GIS files or lon/lat tables;
- :mod:`~campus_geo.sources.checks`: the input contract (rejects with file, row, column,
  reason) and the geometry checks every reader applies;
- :mod:`~campus_geo.sources.osm_pbf`: the streaming PBF reader (pyosmium);
- :mod:`~campus_geo.sources.tables`: CSV in any Chinese encoding, xlsx with title rows;
- :mod:`~campus_geo.sources.registry`: business registries and licence lists as hazards;
- :mod:`~campus_geo.sources.roster`: the education bureau's school roster;
- :mod:`~campus_geo.sources.admin`: township and village areas, and the schools in them.
"""

from __future__ import annotations

from campus_geo.sources.admin import (
    ADMIN_COLUMNS,
    TOWNSHIP_FIELDS,
    VILLAGE_FIELDS,
    admin_from_features,
    admin_from_file,
    assign_admin,
)
from campus_geo.sources.layers import (
    FEATURE_TAGS,
    REJECT_COLUMNS,
    Layers,
    empty_layers,
    hazards_from_file,
    layers_from_features,
    layers_from_osm,
    read_table_points,
    schools_from_file,
)
from campus_geo.sources.registry import (
    EXTRA_NAME_RULES,
    HAZARD_COLUMNS,
    INACTIVE_WORDS,
    LICENCE_RULES,
    MERGE_COLUMNS,
    MERGE_DIST_M,
    REGISTRY_FIELDS,
    SCOPE_RULES,
    WEAK_SCOPE_RULES,
    Registry,
    classify_registry,
    credit_code_valid,
    hazards_from_registry,
    merge_with_osm,
)
from campus_geo.sources.roster import (
    MATCH_COLUMNS,
    ROSTER_FIELDS,
    ROSTER_MATCH_M,
    Roster,
    schools_from_roster,
)

__all__ = [
    "ADMIN_COLUMNS",
    "EXTRA_NAME_RULES",
    "FEATURE_TAGS",
    "HAZARD_COLUMNS",
    "INACTIVE_WORDS",
    "LICENCE_RULES",
    "MATCH_COLUMNS",
    "MERGE_COLUMNS",
    "MERGE_DIST_M",
    "REGISTRY_FIELDS",
    "REJECT_COLUMNS",
    "ROSTER_FIELDS",
    "ROSTER_MATCH_M",
    "SCOPE_RULES",
    "TOWNSHIP_FIELDS",
    "VILLAGE_FIELDS",
    "WEAK_SCOPE_RULES",
    "Layers",
    "Registry",
    "Roster",
    "admin_from_features",
    "admin_from_file",
    "assign_admin",
    "classify_registry",
    "credit_code_valid",
    "empty_layers",
    "hazards_from_file",
    "hazards_from_registry",
    "layers_from_features",
    "layers_from_osm",
    "merge_with_osm",
    "read_table_points",
    "schools_from_file",
    "schools_from_roster",
]
