"""The OpenStreetMap tags the layer readers keep, shared by the XML and the PBF path."""

from __future__ import annotations

from typing import Final

from campus_geo.categories import NOT_POI_KEYS, TAG_RULES

__all__ = ["ADDR_KEYS", "FEATURE_TAGS", "NOT_K12_AMENITIES", "SCHOOL_AMENITIES"]

#: ``amenity`` values of a school, kindergarten or a school not screened (university).
SCHOOL_AMENITIES: Final = ("school", "kindergarten", "university", "college")
#: ``amenity`` values of schools that are not K-12 (not screened).
NOT_K12_AMENITIES: Final = ("university", "college")
ADDR_KEYS: Final = (
    "addr:province",
    "addr:city",
    "addr:district",
    "addr:street",
    "addr:housenumber",
)
#: Tag keys that :func:`campus_geo.sources.layers.layers_from_features` reads (a reader may drop every other tag).
FEATURE_TAGS: Final = tuple(
    dict.fromkeys(
        (
            "name", "amenity", "school", "entrance", "barrier", "boundary", "admin_level",
            "highway", "camera:direction", "addr:full", *ADDR_KEYS, "addr:town",
            "addr:subdistrict", "addr:township", "addr:village", "addr:neighbourhood",
            "addr:quarter", "water", "building", *(key for _, key, _ in TAG_RULES),
            *NOT_POI_KEYS,
        )
    )
)  # fmt: skip
