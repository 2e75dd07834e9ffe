"""The screening engine: the internal API behind ``screen()``, the stream and dask.

Not for notebooks (use :func:`campus_geo.screen.screen`); this is the one seam
through which :mod:`campus_geo.screen` and :mod:`campus_geo.scale` reach the
measuring core, so that the stream and the dask engine find exactly the pairs
``screen()`` finds.

- :mod:`~campus_geo.engine.pairs`: rules grouped by (profile, distance), hazards
  indexed, schools' sources projected into their bands, candidate pairs measured;
- :mod:`~campus_geo.engine.columns`: hazards read from GeoParquet as columns;
- :mod:`~campus_geo.engine.findings`: the findings table built from measured pairs;
- :mod:`~campus_geo.engine.walk`: the ``walk`` profile and ``profile="all"``;
- :mod:`~campus_geo.engine.ids`: stable 64-bit finding ids (FNV-1a, fmix64);
- :mod:`~campus_geo.engine.pointindex`: box queries over millions of points;
- :mod:`~campus_geo.engine.parallel`: chunks on worker threads.
"""

from __future__ import annotations

from campus_geo.engine.columns import (
    MAX_CATEGORIES,
    HazardTable,
    SchoolInput,
    arrow_text,
    canonical,
    hazard_table,
    is_path,
    read_entrances,
    read_hazard_table,
    read_hazards_frame,
    read_school_input,
    read_schools,
)
from campus_geo.engine.findings import (
    FINDING_COLUMNS,
    NOTE_TEXTS,
    empty_findings,
    findings_frame,
    inside_notes,
    rule_texts,
    str_array,
    texts_in_position_order,
)
from campus_geo.engine.ids import (
    check_unique_ids,
    fnv1a64,
    has_duplicates,
    hex_array,
    id_hash,
    id_strings,
)
from campus_geo.engine.pairs import (
    CHUNK_PAIRS,
    STRAIGHT_PROFILES,
    GroupPlan,
    Hazards,
    Setup,
    Sources,
    block_cuts,
    group_plans,
    hazard_arrays,
    merge_groups,
    planned_blocks,
    prepare_hazards,
    prepare_setup,
    resolve_rules,
    sampled_counts,
    school_sources,
    screen_block,
    screening_categories,
    straight_profiles,
    with_planes,
)
from campus_geo.engine.parallel import (
    arrow_system_pool,
    collector_paused,
    give_back_arrow_memory,
    run_chunks,
)
from campus_geo.engine.pointindex import PointIndex

__all__ = [
    "CHUNK_PAIRS",
    "FINDING_COLUMNS",
    "MAX_CATEGORIES",
    "NOTE_TEXTS",
    "STRAIGHT_PROFILES",
    "GroupPlan",
    "HazardTable",
    "Hazards",
    "PointIndex",
    "SchoolInput",
    "Setup",
    "Sources",
    "arrow_system_pool",
    "arrow_text",
    "block_cuts",
    "canonical",
    "check_unique_ids",
    "collector_paused",
    "empty_findings",
    "findings_frame",
    "fnv1a64",
    "give_back_arrow_memory",
    "group_plans",
    "has_duplicates",
    "hazard_arrays",
    "hazard_table",
    "hex_array",
    "id_hash",
    "id_strings",
    "inside_notes",
    "is_path",
    "merge_groups",
    "planned_blocks",
    "prepare_hazards",
    "prepare_setup",
    "read_entrances",
    "read_hazard_table",
    "read_hazards_frame",
    "read_school_input",
    "read_schools",
    "resolve_rules",
    "rule_texts",
    "run_chunks",
    "sampled_counts",
    "school_sources",
    "screen_block",
    "screening_categories",
    "str_array",
    "straight_profiles",
    "texts_in_position_order",
    "with_planes",
]
