from __future__ import annotations

import pytest

from campus_geo import RulesError
from campus_geo.rules import (
    Rule,
    adhoc_rules,
    categories_of,
    default_categories,
    default_rules,
    read_categories,
    read_rules,
    rule_table,
    rules_frame,
)
from campus_geo.settings import CATEGORIES, CATEGORY_LABELS, SCHOOL_KINDS

GOOD = """
[[rule]]
id = "wangba"
category = "internet_cafe"
kinds = ["primary", "middle"]
distance_m = 200
profile = "boundary"
severity = "prohibited"
lead_units = ["区教体局"]
suggestion = "关停"
"""


#: The units of the campaign plan's measures (campaign_plan_2023_zh.txt, 三、主要措施及任务分工).
PLAN_10 = (
    "区检察院",
    "区公安局",
    "区文化广电和旅游局",
    "区住房和城乡建设局",
    "区市场监督管理局",
    "区城市管理局",
)
PLAN_11 = ("区公安局", "区交通运输局", "区人力资源和社会保障局", "区城市管理局")
PLAN_12 = (
    "区公安局", "区水利局", "区交通运输局", "区住房和城乡建设局", "区民政局", "区文化广电和旅游局",
    "团区委", "区妇联",
)  # fmt: skip


def test_default_table_has_one_rule_per_category_with_units_and_suggestions():
    rules = default_rules()
    assert len({r.category for r in rules}) == len(rules) == 20
    for rule in rules:
        assert rule.lead_units
        assert rule.suggestion
        assert rule.suggestion_en
        assert rule.basis
        assert rule.kinds == SCHOOL_KINDS or rule.inside
    traffic = next(r for r in rules if r.category == "traffic")
    assert (traffic.profile, traffic.distance_m) == ("entrance", 100.0)
    # every category of the 200 m zone and the campus has its rule; the analyses' and the
    # checklists' have none
    no_rule = {"camera", "restricted", "other", "checklist_school", "checklist_water"}
    no_rule |= {"traffic_gap", "camera_gap"}
    assert {r.category for r in rules} == set(CATEGORIES) - no_rule


def test_default_units_follow_the_campaign_plan():
    rules = {r.category: r for r in default_rules()}
    for rule in rules.values():
        # a case goes to a unit that acts on it: never to the coordinating body
        assert rule.enforcing_units
        assert "区委政法委" not in rule.enforcing_units
        assert set(rule.enforcing_units) <= set(rule.lead_units) | set(rule.responsible_units)
    zone = [r for r in rules.values() if r.category not in ("water", "traffic", "tuck_shop")]
    assert len(zone) == 17
    for rule in zone:  # measure (10): the plan's units first, then the category's enforcers
        assert rule.lead_units == ("区委政法委", "区教体局")
        assert rule.responsible_units[:6] == PLAN_10
    assert (rules["water"].lead_units, rules["water"].responsible_units) == (
        ("区委政法委", "区教体局"),
        PLAN_12,
    )
    assert (rules["traffic"].lead_units, rules["traffic"].responsible_units) == (
        ("区委政法委", "区教体局"),
        PLAN_11,
    )
    assert rules["tuck_shop"].lead_units == ("区教体局",)  # measure (3)
    enforcing = {c: r.enforcing_units for c, r in rules.items()}
    assert enforcing["internet_cafe"][0] == "区文化广电和旅游局"
    assert enforcing["entertainment"] == enforcing["arcade"] == ("区文化广电和旅游局", "区公安局")
    assert enforcing["lottery"] == ("区民政局", "区教体局")  # 福彩, 体彩
    assert enforcing["tobacco_alcohol"] == ("区市场监督管理局", "区烟草专卖局")
    assert enforcing["dangerous_site"] == ("区应急管理局", "区市场监督管理局")
    assert (
        enforcing["vendor"][:2]
        == enforcing["illegal_building"]
        == (
            "区城市管理局",
            "区住房和城乡建设局",
        )
    )
    assert enforcing["care_centre"] == ("区教体局", "区市场监督管理局")
    assert enforcing["water"][0] == "区水利局"
    assert enforcing["traffic"][0] == "区公安局"


def test_default_basis_says_four_prohibitions_as_the_plan_does():
    rules = {r.category: r for r in default_rules()}
    for category in ("entertainment", "arcade", "lottery", "dangerous_site"):
        assert "“四个禁止”" in rules[category].basis
    assert not any("四个严禁" in r.basis for r in rules.values())


def test_settings_labels_are_the_default_tables():
    assert default_categories().labels == CATEGORY_LABELS
    assert CATEGORY_LABELS["escape_room"] == ("密室逃脱", "escape room")
    assert CATEGORIES[-2:] == ("restricted", "other")


def test_read_user_rules(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD, encoding="utf-8")
    (rule,) = read_rules(path)
    assert rule.kinds == ("primary", "middle")
    assert rule.distance_m == 200.0
    assert rule.lead_units == ("区教体局",)


def test_malformed_toml_names_the_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("distance_m = 200", "distance_m = = 200"), encoding="utf-8")
    with pytest.raises(RulesError, match=r"bad.toml is not valid TOML: .*line 6"):
        read_rules(path)


def test_unknown_category_names_the_rule_and_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        GOOD + GOOD.replace('"wangba"', '"x"').replace("internet_cafe", "casino_boat"),
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match=r"rule #2 \(line 12\): unknown category 'casino_boat'"):
        read_rules(path)


def test_mistyped_category_gets_a_suggestion(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text(GOOD.replace("internet_cafe", "internet_cafee"), encoding="utf-8")
    with pytest.raises(
        RulesError, match=r"unknown category 'internet_cafee'; did you mean 'internet_cafe'\?"
    ):
        read_rules(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("distance_m = 200", "distance_m = -5"), "must be a positive number of metres"),
        (("distance_m = 200", 'distance_m = "200m"'), "must be a number of metres"),
        (('profile = "boundary"', 'profile = "crow"'), "unknown profile 'crow'"),
        (
            ('kinds = ["primary", "middle"]', 'kinds = ["university"]'),
            r"unknown school kind\(s\) \['university'\]",
        ),
        (('severity = "prohibited"', 'severity = "bad"'), "unknown severity 'bad'"),
        (('id = "wangba"\n', ""), r"missing key\(s\) id"),
        (
            ("distance_m = 200", "distance_m = 0"),
            "got 0 \\(a rule on venues inside the campus says inside = true\\)",
        ),
        (("distance_m = 200", ""), r"missing key\(s\) distance_m"),
        (
            ("distance_m = 200", "inside = true\ndistance_m = 5"),
            "remove distance_m = 5 or set inside = false",
        ),
        (("distance_m = 200", "inside = 'yes'"), "`inside` must be true or false"),
        (
            ('distance_m = 200\nprofile = "boundary"', 'inside = true\nprofile = "entrance"'),
            "an inside rule is decided on the campus outline; remove profile = 'entrance'",
        ),
        (
            (
                'lead_units = ["区教体局"]',
                'lead_units = ["区教体局"]\nenforcing_units = ["区公安局"]',
            ),
            "enforcing unit\\(s\\) 区公安局 are neither lead nor responsible units",
        ),
        (
            ('lead_units = ["区教体局"]', 'lead_units = ["区教体局", "区教体局"]'),
            "names 区教体局 twice",
        ),
    ],
)
def test_inconsistent_rules(tmp_path, change, message):
    path = tmp_path / "r.toml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(RulesError, match=message):
        read_rules(path)


def test_duplicate_rule_ids(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(GOOD + GOOD, encoding="utf-8")
    with pytest.raises(RulesError, match=r"duplicate rule id 'wangba' \(first at rule #1\)"):
        read_rules(path)


def test_missing_file():
    with pytest.raises(RulesError, match=r"cannot read rule file /nonexistent\.toml"):
        read_rules("/nonexistent.toml")


def test_adhoc_rules_borrow_texts_from_the_table():
    rule, inside = adhoc_rules(["lottery", "tuck_shop"], 150, profile="entrance")
    assert rule.id == "lottery_150m_entrance"
    assert rule.distance_m == 150.0
    assert "第五十九条" in rule.basis
    assert rule.enforcing_units == ("区民政局", "区教体局")
    # a distance means nothing for what must not stand inside the campus: its rule stays
    assert (inside.id, inside.inside, inside.distance_m) == ("tuck_shop_inside", True, 0.0)
    with pytest.raises(RulesError, match="must be a positive number"):
        adhoc_rules(["lottery"], 0)


def test_rules_frame_one_row_per_kind():
    frame = rules_frame(default_rules())
    assert len(frame) == 19 * len(SCHOOL_KINDS) + 5  # the tuck-shop rule: five kinds
    assert set(frame.columns) >= {"rule_id", "kind", "threshold_m", "lead_units", "enforcing_units"}
    lottery = frame[frame["rule_id"] == "lottery_200m"].iloc[0]
    assert lottery["enforcing_units"] == "区民政局、区教体局"


INSIDE = """
[[rule]]
id = "shop_inside"
category = "小卖部"
kinds = ["幼儿园", "小学", "初中"]
inside = true
severity = "risk"
lead_units = ["区教体局"]
responsible_units = ["区市场监督管理局"]
"""


def test_inside_rule_with_chinese_kinds_and_default_units(tmp_path):
    path = tmp_path / "inside.toml"
    path.write_text(
        INSIDE.replace('category = "小卖部"', 'category = "tuck_shop"'), encoding="utf-8"
    )
    (rule,) = read_rules(path)
    assert (rule.inside, rule.distance_m, rule.profile) == (True, 0.0, "boundary")
    assert rule.kinds == ("kindergarten", "primary", "middle")
    assert rule.enforcing_units == ("区市场监督管理局",)  # none given: the responsible units
    with pytest.raises(RulesError, match="an inside rule measures nothing"):
        Rule("x", "tuck_shop", ("primary",), 50.0, inside=True)


def test_a_category_named_by_its_chinese_label_is_not_a_key(tmp_path):
    path = tmp_path / "inside.toml"
    path.write_text(INSIDE, encoding="utf-8")
    with pytest.raises(RulesError, match=r"unknown category '小卖部'; did you mean 'tuck_shop'\?"):
        read_rules(path)


USER = """
[meta]
extends = "default"

[[category]]
key = "trampoline_park"
label = "蹦床馆"
label_en = "trampoline park"
aliases = ["蹦床"]
colour = "#123456"
osm_tags = ["leisure=trampoline_park"]
name_keywords = ["蹦床"]
scope_keywords = ["蹦床"]

[[category]]
key = "vendor"
label = "流动摊贩"

[[rule]]
id = "trampoline_park_150m"
category = "trampoline_park"
kinds = ["小学"]
distance_m = 150
severity = "notice"
lead_units = ["区委政法委", "区教体局"]
responsible_units = ["区文化广电和旅游局", "区市场监督管理局"]
enforcing_units = ["区市场监督管理局"]

[[rule]]
id = "internet_cafe_200m"
category = "internet_cafe"
distance_m = 250
"""


def test_user_table_adds_a_category_and_extends_the_default_rules(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(USER, encoding="utf-8")
    table = read_rules(path)
    ids = [r.id for r in table]
    # the default rules, one replaced in place, the new one at the end
    assert ids == [r.id for r in default_rules()] + ["trampoline_park_150m"]
    assert next(r for r in table if r.id == "internet_cafe_200m").distance_m == 250.0
    cats = table.categories
    assert cats.keys[-1] == "trampoline_park"
    park = cats["trampoline_park"]
    assert (park.glyph, park.glyph_en, park.colour) == ("蹦", "T", "#123456")
    assert park.osm_tags == (("leisure", "trampoline_park"),)
    assert cats.resolve("蹦床") == cats.resolve("蹦床馆") == "trampoline_park"
    # a known key keeps what the user does not change
    assert (cats.label("vendor"), cats["vendor"].name_keywords) == (
        "流动摊贩",
        default_categories()["vendor"].name_keywords,
    )
    assert read_categories(path) == cats
    assert rule_table(path).categories == cats
    assert categories_of(str(path)).keys == cats.keys


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('key = "Bad Key"\nlabel = "x"', "`key` must be lower-case ASCII"),
        ('key = "new_one"', "new category 'new_one' needs a Chinese `label`"),
        ('key = "new_one"\nlabel = "新"\ncolour = "red"', '`colour` must be "#rrggbb"'),
        ('key = "new_one"\nlabel = "新"\nglyph = "新类"', "`glyph` must be one character"),
        (
            'key = "new_one"\nlabel = "新"\nosm_tags = ["leisure"]',
            "item 'leisure' is not \"key=value\"",
        ),
        ('key = "new_one"\nlabel = "新"\nnames = ["x"]', r"unknown key\(s\) names"),
        (
            'key = "new_one"\nlabel = "新"\nlicences = [{ name = "证", pattern = "(" }]',
            "is not a regular expression",
        ),
    ],
)
def test_bad_category_tables_name_the_table_and_line(tmp_path, table, message):
    path = tmp_path / "c.toml"
    path.write_text(f"# categories\n\n[[category]]\n{table}\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"category #1 \(line 3\): .*" + message):
        read_categories(path)
