"""Classification of features into hazard categories and of schools into kinds.

Chinese OpenStreetMap data rarely tags internet cafés or lottery shops, so a
feature is classified by its OSM tags first, then by Chinese (and English)
name keywords, then by the weak tags (a ``shop=convenience`` named 福彩投注站 is a
lottery outlet, one with no such name a 小卖部). The tags and keywords are those
of the categories given (a :class:`~campus_geo.category_registry.CategoryRegistry`:
the default rule table's, or a user's with categories of its own). Each
classified feature records which rule matched in ``subcategory``
(``"amenity=internet_cafe"``, ``"name:网咖"``...), so every classification can be
checked by a person.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import pandas as pd

from campus_geo.category_registry import CategoryRegistry
from campus_geo.rules import default_categories

__all__ = [
    "NAME_KEYWORDS",
    "NON_K12_KEYWORDS",
    "NOT_POI_KEYS",
    "TAG_RULES",
    "classify_features",
    "classify_names",
    "school_kinds",
]

#: (category, tag key, tag values) of the default table in priority order; the first match
#: wins. A user's categories: ``categories.tag_rules`` of their registry.
TAG_RULES: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = default_categories().tag_rules

#: (category, keywords) of the default table in priority order, matched in feature names
#: (case-insensitive).
NAME_KEYWORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = default_categories().name_keywords

#: Names of schools that are not K-12 campuses (excluded from screening).
NON_K12_KEYWORDS: Final = (
    "党校",
    "进修学校",
    "大学",
    "学院",
    "高等",
    "神学",
    "驾校",
    "驾驶",
    "培训",
    "辅导",
    "老年",
    "University",
    "College",
)

#: (kind, keywords): the keyword that ends LAST in the name decides (the head noun
#: of a Chinese name is at its end: 南京市第三高级中学文昌初中 is a middle school).
_KIND_KEYWORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("kindergarten", ("幼儿园", "幼稚园", "托儿所", "Kindergarten")),
    ("nine_year", ("九年一贯制", "九年制", "一贯制")),
    ("primary", ("小学", "附小", "Primary School", "Elementary School")),
    ("middle", ("初级中学", "初中", "中学", "Middle School")),
    ("high", ("高级中学", "高中", "High School")),
    ("vocational", ("职业", "职高", "中专", "技工", "中等专业")),
    ("special", ("特殊教育", "特教", "培智", "启智", "聋哑", "盲校")),
)
_TAG_KIND: Final[dict[str, str]] = {
    "kindergarten": "kindergarten",
    "primary": "primary",
    "elementary": "primary",
    "middle": "middle",
    "secondary": "middle",
    "high": "high",
    "vocational": "vocational",
    "special_education_needs": "special",
}

_NUMBERED_MIDDLE: Final = r"(?:[一二三四五六七八九十\d]|附)中(?!心)"

#: Features of these keys never get a name-keyword category (a street called 网吧路 is a street).
NOT_POI_KEYS: Final = ("highway", "railway", "boundary", "landuse", "waterway", "natural", "place")


def classify_names(
    names: pd.Series, categories: CategoryRegistry | None = None
) -> tuple[pd.Series, pd.Series]:
    """Category and matched keyword of each name, or "" when no keyword matches.

    `categories`: whose name keywords (the default table's when None).

    Examples
    --------
    >>> cat, sub = classify_names(pd.Series(["星空网咖", "新华书店", "金嗓子KTV", "逃出生天密室"]))
    >>> cat.tolist(), sub.tolist()
    (['internet_cafe', '', 'entertainment', 'escape_room'], ['name:网咖', '', 'name:KTV', 'name:密室'])
    """
    table = default_categories() if categories is None else categories
    text = names.fillna("").astype(str)
    category = pd.Series("", index=names.index, dtype=object)
    sub = pd.Series("", index=names.index, dtype=object)
    for cat, words in table.name_keywords:
        for word in words:
            hit = (category == "") & text.str.contains(re.escape(word), case=False, regex=True)
            category[hit] = cat
            sub[hit] = f"name:{word}"
    return category, sub


def _tag_pass(
    tags: pd.DataFrame,
    rules: tuple[tuple[str, str, tuple[str, ...]], ...],
    category: pd.Series,
    sub: pd.Series,
) -> None:
    """Give the still unclassified features the category of the first tag rule they match."""
    for cat, key, values in rules:
        if key not in tags.columns:
            continue
        col = tags[key]
        match = col.notna() & (col.astype(str) != "") if "*" in values else col.isin(values)
        hit = (category == "") & match
        category[hit] = cat
        sub[hit] = key + "=" + col[hit].astype(str)


def classify_features(
    tags: pd.DataFrame, categories: CategoryRegistry | None = None
) -> tuple[pd.Series, pd.Series]:
    """Category and subcategory of each feature from its OSM tags, then its name, then weak tags.

    Parameters
    ----------
    tags
        One row per feature, one column per OSM key (as from
        ``osmnx.features_from_xml``).
    categories
        The categories whose tags and keywords classify (the default table's when None).

    Returns
    -------
    category, subcategory
        "" where the feature is not a hazard.

    Examples
    --------
    >>> tags = pd.DataFrame({"shop": ["convenience", "convenience", None],
    ...                      "name": ["鸿运福彩投注站", "阳光小超市", "金色密室逃脱"]})
    >>> cat, sub = classify_features(tags)
    >>> cat.tolist(), sub.tolist()
    (['lottery', 'tuck_shop', 'escape_room'], ['name:福彩', 'name:小超市', 'name:密室逃脱'])
    """
    table = default_categories() if categories is None else categories
    category = pd.Series("", index=tags.index, dtype=object)
    sub = pd.Series("", index=tags.index, dtype=object)
    _tag_pass(tags, table.tag_rules, category, sub)
    if "name" in tags.columns:
        is_poi = pd.Series(True, index=tags.index)
        for key in NOT_POI_KEYS:
            if key in tags.columns:
                is_poi &= tags[key].isna()
        name_cat, name_sub = classify_names(tags["name"], table)
        hit = (category == "") & is_poi & (name_cat != "")
        category[hit] = name_cat[hit]
        sub[hit] = name_sub[hit]
    _tag_pass(tags, table.weak_tag_rules, category, sub)
    return category, sub


def _last_keyword(name: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    # ties on the end position go to the longer keyword (高级中学 over 中学)
    best, best_key = "", (-1, 0)
    lowered = name.lower()
    for kind, words in table:
        for word in words:
            start = lowered.rfind(word.lower())
            key = (start + len(word), len(word))
            if start >= 0 and key > best_key:
                best, best_key = kind, key
    return best


def school_kinds(names: pd.Series, tags: pd.DataFrame | None = None) -> pd.Series:
    """Kind of each school from its name (last keyword wins), then its tags, else "other".

    Examples
    --------
    >>> school_kinds(pd.Series(["柳湾镇中心小学", "南京市第三高级中学文昌初中", "阳光幼儿园"])).tolist()
    ['primary', 'middle', 'kindergarten']
    """
    kinds = np.array(
        [_last_keyword(str(n), _KIND_KEYWORDS) for n in names.fillna("")], dtype=object
    )
    out = pd.Series(kinds, index=names.index, dtype=object)
    # 三中, 第九中, 附中: a numbered or affiliated middle school named without 中学
    numbered = names.fillna("").astype(str).str.contains(_NUMBERED_MIDDLE, regex=True)
    out = out.where((out != "") | ~numbered, "middle")
    if tags is not None:
        from_tags = pd.Series("", index=names.index, dtype=object)
        if "school" in tags.columns:
            from_tags = tags["school"].map(_TAG_KIND).fillna("")
        if "amenity" in tags.columns:
            from_tags = from_tags.where(tags["amenity"] != "kindergarten", "kindergarten")
        out = out.where(out != "", from_tags)
    return out.where(out != "", "other")


def non_k12_reason(names: pd.Series) -> pd.Series:
    """The keyword that marks each name as not a K-12 campus, or "".

    A non-K-12 keyword counts only when it ends after every K-12 keyword, so
    清华大学附属中学 (a middle school) stays while 秦淮区教师进修学校 is excluded.

    Examples
    --------
    >>> non_k12_reason(pd.Series(["清华大学附属中学", "秦淮区委党校", "清华大学"])).tolist()
    ['', '党校', '大学']
    """
    table = (*_KIND_KEYWORDS, *(("!" + w, (w,)) for w in NON_K12_KEYWORDS))
    winners = [_last_keyword(str(n), table) for n in names.fillna("")]
    reason = [w[1:] if w.startswith("!") else "" for w in winners]
    return pd.Series(reason, index=names.index, dtype=object)
