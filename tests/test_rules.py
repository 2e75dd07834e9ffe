from __future__ import annotations

import pytest

from campus_geo import RulesError
from campus_geo.rules import adhoc_rules, default_rules, read_rules, rules_frame
from campus_geo.settings import SCHOOL_KINDS

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


def test_default_table_has_one_rule_per_category_with_units_and_suggestions():
    rules = default_rules()
    assert len({r.category for r in rules}) == len(rules) == 10
    for rule in rules:
        assert rule.lead_units
        assert rule.suggestion
        assert rule.suggestion_en
        assert rule.basis
        assert rule.kinds == SCHOOL_KINDS
    traffic = next(r for r in rules if r.category == "traffic")
    assert (traffic.profile, traffic.distance_m) == ("entrance", 100.0)


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
    (rule,) = adhoc_rules(["lottery"], 150, profile="entrance")
    assert rule.id == "lottery_150m_entrance"
    assert rule.distance_m == 150.0
    assert "第五十九条" in rule.basis
    with pytest.raises(RulesError, match="must be a positive number"):
        adhoc_rules(["lottery"], 0)


def test_rules_frame_one_row_per_kind():
    frame = rules_frame(default_rules())
    assert len(frame) == 10 * len(SCHOOL_KINDS)
    assert set(frame.columns) >= {"rule_id", "kind", "threshold_m", "lead_units"}
