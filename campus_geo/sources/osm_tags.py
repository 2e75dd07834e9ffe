"""The OpenStreetMap tags the layer readers keep, shared by the XML and the PBF path."""

from __future__ import annotations

from typing import Final

from campus_geo.categories import NOT_POI_KEYS
from campus_geo.category_registry import CategoryRegistry
from campus_geo.rules import default_categories

__all__ = ["ADDR_KEYS", "FEATURE_TAGS", "NOT_K12_AMENITIES", "SCHOOL_AMENITIES", "feature_tags"]

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
_BASE_TAGS: Final = (
    "name", "name:zh", "name:zh-Hans", "amenity", "school", "entrance", "barrier", "boundary", "admin_level",
    "highway", "camera:direction", "addr:full", *ADDR_KEYS, "addr:town",
    "addr:subdistrict", "addr:township", "addr:village", "addr:neighbourhood",
    "addr:quarter", "water", "building",
)  # fmt: skip


def feature_tags(categories: CategoryRegistry) -> tuple[str, ...]:
    """Tag keys :func:`campus_geo.sources.layers.layers_from_features` reads with these categories."""
    return tuple(dict.fromkeys((*_BASE_TAGS, *categories.tag_keys, *NOT_POI_KEYS)))


#: Tag keys that :func:`campus_geo.sources.layers.layers_from_features` reads with the default
#: table's categories (a reader may drop every other tag).
FEATURE_TAGS: Final = feature_tags(default_categories())
