from __future__ import annotations

import pytest

from campus_geo import RulesError
from campus_geo.category_registry import Category, CategoryRegistry
from campus_geo.rules import default_categories

PARK = Category(
    key="trampoline_park",
    label="蹦床馆",
    label_en="trampoline park",
    aliases=("蹦床",),
    osm_tags=(("leisure", "trampoline_park"), ("sport", "trampoline"), ("leisure", "x")),
    name_keywords=("蹦床",),
)


def test_names_resolve_to_keys_case_and_width_insensitively():
    cats = default_categories()
    assert cats.resolve("网吧") == cats.resolve("INTERNET_CAFE") == "internet_cafe"
    assert cats.resolve("ＫＴＶ") == "entertainment"  # full-width letters (NFKC)
    assert cats.resolve("上网服务场所") == "internet_cafe"  # the Chinese label
    assert cats.resolve("escape room") == "escape_room"  # the English label
    assert cats.resolve("赌场") is None


def test_suggestions_for_a_mistyped_name():
    cats = default_categories()
    assert cats.suggest("lotery") == ["lottery"]
    assert cats.suggest("intenet_cafe")[0] == "internet_cafe"
    assert cats.suggest("zzz") == []
    message = cats.unknown_message("lotery", " in 'lotery=x.csv'")
    assert message.startswith(
        "unknown category 'lotery' in 'lotery=x.csv'; did you mean 'lottery'?"
    )


def test_merged_adds_after_and_replaces_in_place():
    cats = default_categories()
    vendor = Category(key="vendor", label="流动摊贩", label_en="street vendor")
    merged = cats.merged([PARK, vendor])
    assert merged.keys == (*cats.keys, "trampoline_park")
    assert merged.label("vendor") == "流动摊贩"
    assert cats.label("vendor") == "流动摊贩/辣条类食品"  # the registry given is unchanged
    # tags grouped by key in order of first appearance, after the default table's
    assert merged.tag_rules[-2:] == (
        ("trampoline_park", "leisure", ("trampoline_park", "x")),
        ("trampoline_park", "sport", ("trampoline",)),
    )
    assert "sport" in merged.tag_keys


def test_with_keys_adds_bare_categories_and_unknown_keys_fall_back():
    cats = default_categories().with_keys(["lottery", "my_venue"])
    assert cats.keys[-1] == "my_venue"
    assert (cats.label("my_venue"), cats.glyph("my_venue"), cats.colour("my_venue")) == (
        "my_venue",
        "?",
        "#aaaaaa",
    )
    assert cats.label("nowhere", "en") == "nowhere"
    assert cats.colour("nowhere", "#888888") == "#888888"


def test_a_key_defined_twice_is_refused():
    with pytest.raises(RulesError, match="category 'x' is defined twice"):
        CategoryRegistry((Category("x", "甲", "a"), Category("x", "乙", "b")))
