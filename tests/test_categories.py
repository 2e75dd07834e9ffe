from __future__ import annotations

import pandas as pd
import pytest

from campus_geo.categories import classify_features, classify_names, non_k12_reason, school_kinds
from campus_geo.category_registry import Category
from campus_geo.rules import default_categories


@pytest.mark.parametrize(
    ("tags", "category", "sub"),
    [
        ({"amenity": "internet_cafe", "name": "星空"}, "internet_cafe", "amenity=internet_cafe"),
        (
            {"amenity": "bar", "name": "蚂蚁吧", "internet_access": "terminal"},
            "internet_cafe",
            "internet_access=terminal",
        ),
        ({"amenity": "bar", "name": "Party时代KTV"}, "entertainment", "amenity=bar"),
        ({"shop": "yes", "name": "金嗓子KTV"}, "entertainment", "name:KTV"),
        ({"shop": "convenience", "name": "福彩投注站"}, "lottery", "name:福彩"),
        ({"amenity": "gambling", "name": "好运棋牌室"}, "arcade", "amenity=gambling"),
        ({"amenity": "gambling", "gambling": "lottery"}, "lottery", "gambling=lottery"),
        ({"leisure": "amusement_arcade"}, "arcade", "leisure=amusement_arcade"),
        ({"shop": "tobacco"}, "tobacco_alcohol", "shop=tobacco"),
        ({"amenity": "fuel", "name": "中石化加油站"}, "dangerous_site", "amenity=fuel"),
        ({"shop": "yes", "name": "烟花爆竹批发部"}, "dangerous_site", "name:烟花爆竹"),
        ({"amenity": "childcare", "name": "阳光托管中心"}, "care_centre", "amenity=childcare"),
        ({"shop": "yes", "name": "小明午托班"}, "care_centre", "name:午托"),
        ({"shop": "kiosk", "name": "老王小吃摊"}, "vendor", "name:小吃摊"),
        ({"natural": "water", "water": "pond", "name": "王家塘"}, "water", "natural=water"),
        ({"waterway": "canal"}, "water", "waterway=canal"),
        ({"landuse": "reservoir"}, "water", "landuse=reservoir"),
        ({"highway": "bus_stop", "name": "小学站"}, "traffic", "highway=bus_stop"),
        ({"man_made": "surveillance"}, "camera", "man_made=surveillance"),
        ({"shop": "books", "name": "新华书店"}, "", ""),
        ({"amenity": "cafe", "internet_access": "wlan"}, "", ""),
        # a kiosk or convenience store is a 小卖部 (a hazard inside a campus only) unless a
        # name keyword says more: its tags are weak
        ({"shop": "kiosk", "name": "首邮报刊"}, "tuck_shop", "shop=kiosk"),
        ({"shop": "convenience"}, "tuck_shop", "shop=convenience"),
        ({"shop": "yes", "name": "育才小卖部"}, "tuck_shop", "name:小卖部"),
        ({"leisure": "escape_game", "name": "谜境"}, "escape_room", "leisure=escape_game"),
        ({"shop": "yes", "name": "逃出生天密室"}, "escape_room", "name:密室"),
        ({"leisure": "sports_centre", "sport": "billiards"}, "billiards", "sport=billiards"),
        ({"tourism": "hotel", "name": "王者电竞酒店"}, "esports_hotel", "name:电竞酒店"),
        ({"shop": "yes", "name": "迷雾剧本杀"}, "script_game", "name:剧本杀"),
        ({"amenity": "cinema", "name": "星空私人影院"}, "private_cinema", "name:私人影院"),
        ({"shop": "yes", "name": "老李豆腐作坊"}, "workshop", "name:作坊"),
        # a street called 网吧路 is a street, not an internet café
        ({"highway": "residential", "name": "网吧路"}, "", ""),
    ],
)
def test_classify_features(tags, category, sub):
    cat, subcat = classify_features(pd.DataFrame([tags]))
    assert (cat.iloc[0], subcat.iloc[0]) == (category, sub)


PARK = Category(
    key="trampoline_park",
    label="蹦床馆",
    label_en="trampoline park",
    osm_tags=(("leisure", "trampoline_park"),),
    name_keywords=("蹦床",),
)


def test_a_user_category_classifies_by_its_tags_and_keywords():
    tags = pd.DataFrame(
        {
            "leisure": ["trampoline_park", None, None],
            "shop": [None, "yes", "yes"],
            "name": ["跳跳乐园", "欢乐蹦床馆", "金嗓子KTV"],
        }
    )
    cat, sub = classify_features(tags, default_categories().merged([PARK]))
    assert cat.tolist() == ["trampoline_park", "trampoline_park", "entertainment"]
    assert sub.tolist() == ["leisure=trampoline_park", "name:蹦床", "name:KTV"]
    # not with the default categories
    assert classify_features(tags)[0].tolist() == ["", "", "entertainment"]


def test_any_value_of_a_tag():
    cats = default_categories().merged(
        [Category(key="craft_shop", label="手工作坊", label_en="craft", osm_tags=(("craft", "*"),))]
    )
    cat, sub = classify_features(pd.DataFrame({"craft": ["welder", None]}), cats)
    assert (cat.tolist(), sub.tolist()) == (["craft_shop", ""], ["craft=welder", ""])


def test_classify_names_case_insensitive():
    cat, sub = classify_names(pd.Series(["欢乐ktv", None]))
    assert cat.tolist() == ["entertainment", ""]
    assert sub.tolist() == ["name:KTV", ""]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("柳湾镇中心小学", "primary"),
        ("石桥镇第二初级中学", "middle"),
        ("许安市第一高级中学", "high"),
        ("南京市第三高级中学文昌初中", "middle"),
        ("青禾区九年一贯制学校", "nine_year"),
        ("杏花乡阳光幼儿园", "kindergarten"),
        ("南京三中金銮校区", "middle"),
        ("清华附小", "primary"),
        ("青禾区职业中专", "vocational"),
        ("青禾区特殊教育学校", "special"),
        ("Changjiang Road Primary School", "primary"),
        ("南京外国语学校", "other"),
    ],
)
def test_school_kinds_from_names(name, kind):
    assert school_kinds(pd.Series([name])).iloc[0] == kind


def test_school_kind_from_tags_when_the_name_says_nothing():
    tags = pd.DataFrame({"amenity": ["kindergarten", "school"], "school": [None, "primary"]})
    assert school_kinds(pd.Series(["阳光宝贝", "育英学校"]), tags).tolist() == [
        "kindergarten",
        "primary",
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("秦淮区委党校", "党校"),
        ("秦淮区教师进修学校", "进修学校"),
        ("南京幼儿高等师范学校", "高等"),
        ("清华大学附属中学", ""),
        ("清华大学洁华幼儿园", ""),
        ("许安职业技术学院", "学院"),
        ("柳湾镇中心小学", ""),
    ],
)
def test_non_k12(name, reason):
    assert non_k12_reason(pd.Series([name])).iloc[0] == reason
