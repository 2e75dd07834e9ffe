"""The rule table: the hazard categories, and which hazard is checked around which school.

A rule says, for one hazard category: the school kinds it applies to, the
distance in metres (WGS 84 ellipsoid) or that the venue lies inside the campus,
the measurement profile, the severity, the legal basis, the lead, responsible
and enforcing units and the rectification suggestion (Chinese and English).

The hazard categories (:class:`~campus_geo.category_registry.Category`: names,
map style, how a hazard is recognised) are read from the same file into a
:class:`~campus_geo.category_registry.CategoryRegistry`: the default table's,
plus those a user's table adds or changes.

The default table ships as TOML in ``campus_geo/rules/default.toml``; users pass
their own file (``[[category]]`` and ``[[rule]]`` tables; ``[meta] extends =
"default"`` keeps the default rules and adds or replaces rules by id).
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from campus_geo._errors import RulesError
from campus_geo.category_registry import Category, CategoryRegistry, category_from_table, fold
from campus_geo.settings import KIND_LABELS, PROFILES, SCHOOL_KINDS, SEVERITIES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Category",
    "CategoryRegistry",
    "Rule",
    "RuleTable",
    "adhoc_rules",
    "categories_of",
    "default_categories",
    "default_rules",
    "read_categories",
    "read_rules",
    "rule_of",
    "rule_table",
    "rules_frame",
    "school_kind",
]

log = logging.getLogger(__name__)

_REQUIRED = ("id", "category", "distance_m")
_DEFAULT_TABLE: Final = "rules/default.toml"
_DEFAULT_SOURCE: Final = f"campus_geo/{_DEFAULT_TABLE}"
#: Other names of school kinds a rule's `kinds` accepts (besides the keys and KIND_LABELS);
#: not 中学, which names both middle and high schools.
_KIND_ALIASES: Final = {
    "初中": "middle",
    "高中": "high",
    "九年制学校": "nine_year",
    "一贯制学校": "nine_year",
    "职高": "vocational",
    "中职": "vocational",
    "特教学校": "special",
}


def _categories(tables: Any, text: str, source: str, base: CategoryRegistry) -> CategoryRegistry:
    if tables is None:
        return base
    if not isinstance(tables, list):
        msg = f"rule file {source}: `category` must be [[category]] tables"
        raise RulesError(msg)
    new: list[Category] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        where = f"rule file {source}, category #{i + 1} (line {_line_of(text, i, 'category')})"
        if not isinstance(table, dict):
            msg = f"{where}: expected a [[category]] table"
            raise RulesError(msg)
        key = table.get("key")
        if isinstance(key, str) and key in seen:
            msg = f"{where}: duplicate category {key!r} (first at category #{seen[key] + 1})"
            raise RulesError(msg)
        cat = category_from_table(table, where, base.get(key))
        seen[cat.key] = i
        new.append(cat)
    return base.merged(new)


# ----------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One screening rule.

    Attributes
    ----------
    id
        Unique rule id, part of every finding id.
    category
        Hazard category (a key of the table's :class:`CategoryRegistry`).
    kinds
        School kinds the rule applies to.
    distance_m
        Threshold in metres on the WGS 84 ellipsoid; a hazard at or within it is flagged.
        0 for an inside rule.
    profile
        Measurement profile: ``"boundary"``, ``"entrance"`` or ``"walk"``.
    lead_units, responsible_units
        牵头单位 and 责任单位 of the campaign plan's measure.
    enforcing_units
        The units that act on a finding by competence (按照管理权限): the first one
        is the main enforcing unit, the others participate. Each is a lead or
        responsible unit; a table without them takes the responsible units.
    inside
        An inside rule (threshold 0 m, profile ``boundary``): a venue whose
        geometry meets the campus polygon, tested exactly on the lon/lat
        coordinates and boundary included (a shop built into the wall is
        inside), is found at 0 m with the note 位于校园内; one a centimetre
        outside is not. A school known only as a point has no inside.
    """

    id: str
    category: str
    kinds: tuple[str, ...]
    distance_m: float
    profile: str = "boundary"
    severity: str = "prohibited"
    basis: str = ""
    basis_en: str = ""
    lead_units: tuple[str, ...] = ()
    responsible_units: tuple[str, ...] = ()
    suggestion: str = ""
    suggestion_en: str = ""
    enforcing_units: tuple[str, ...] = ()
    inside: bool = False

    def __post_init__(self) -> None:
        if self.inside and (self.distance_m != 0 or self.profile != "boundary"):
            msg = (
                f"rule {self.id!r}: an inside rule measures nothing (distance_m = 0, profile "
                f"boundary), got {self.distance_m:g} m, {self.profile}"
            )
            raise RulesError(msg)


class RuleTable(list[Rule]):
    """A list of rules with the hazard categories of the table they come from.

    What :func:`read_rules` and :func:`default_rules` return: a plain list of
    :class:`Rule` for every existing use, whose :attr:`categories` tell the
    screening, the maps and the reports the categories the table defines.
    """

    def __init__(self, rules: Iterable[Rule] = (), *, categories: CategoryRegistry) -> None:
        super().__init__(rules)
        self.categories = categories


def _line_of(text: str, index: int, table: str = "rule") -> int:
    """Line number (1-based) of the `index`-th ``[[table]]`` header in `text`."""
    pattern = rf"^[ \t]*\[\[{table}\]\]"
    starts = [m.start() for m in re.finditer(pattern, text, flags=re.MULTILINE)]
    if index < len(starts):
        return text.count("\n", 0, starts[index]) + 1
    return 0


def _as_str_tuple(value: Any, field_name: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    msg = f"{where}: `{field_name}` must be a string or a list of strings, got {value!r}"
    raise RulesError(msg)


def _units(table: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    units = tuple(u.strip() for u in _as_str_tuple(table.get(name, []), name, where))
    if any(not u for u in units):
        msg = f"{where}: `{name}` has an empty unit name; remove it"
        raise RulesError(msg)
    twice = sorted({u for u in units if units.count(u) > 1})
    if twice:
        msg = f"{where}: `{name}` names {', '.join(twice)} twice; name each unit once"
        raise RulesError(msg)
    return units


def _check_distance(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        msg = f"{where}: `distance_m` must be a number of metres, got {raw!r}"
        raise RulesError(msg)
    distance = float(raw)
    if not math.isfinite(distance) or distance <= 0:
        # 0 m in a rule table: the rule is meant for venues inside the campus
        inside = distance == 0 and not where.startswith("--")
        hint = " (a rule on venues inside the campus says inside = true)" if inside else ""
        msg = f"{where}: `distance_m` must be a positive number of metres, got {raw!r}{hint}"
        raise RulesError(msg)
    return distance


def school_kind(name: str) -> str | None:
    """The school kind key named by `name`: a key, its Chinese or English label, or an alias.

    Examples
    --------
    >>> school_kind("幼儿园"), school_kind("primary"), school_kind("初中"), school_kind("大学")
    ('kindergarten', 'primary', 'middle', None)
    """
    folded = fold(name)
    known = {fold(k): k for k in SCHOOL_KINDS}
    for key, (zh, en) in KIND_LABELS.items():
        known.setdefault(fold(zh), key)
        known.setdefault(fold(en), key)
    for alias, key in _KIND_ALIASES.items():
        known.setdefault(fold(alias), key)
    return known.get(folded)


def _kinds(table: dict[str, Any], where: str) -> tuple[str, ...]:
    given = _as_str_tuple(table.get("kinds", ["*"]), "kinds", where)
    if "*" in given:
        return SCHOOL_KINDS
    kinds = [school_kind(k) for k in given]
    bad = [k for k, kind in zip(given, kinds, strict=True) if kind is None]
    if bad:
        msg = (
            f"{where}: unknown school kind(s) {bad}; expected {', '.join(SCHOOL_KINDS)}, their "
            "Chinese names (幼儿园, 小学, 初级中学 ...) or *"
        )
        raise RulesError(msg)
    return tuple(dict.fromkeys(k for k in kinds if k is not None))


def _inside_and_distance(table: dict[str, Any], where: str) -> tuple[bool, float]:
    inside = table.get("inside", False)
    if not isinstance(inside, bool):
        msg = f"{where}: `inside` must be true or false, got {inside!r}"
        raise RulesError(msg)
    if not inside:
        if "distance_m" not in table:
            msg = f"{where}: missing key(s) distance_m; every rule needs {', '.join(_REQUIRED)}"
            raise RulesError(msg)
        return False, _check_distance(table["distance_m"], where)
    raw = table.get("distance_m", 0)
    if isinstance(raw, bool) or raw != 0:
        msg = (
            f"{where}: an inside rule flags venues inside the campus outline (distance 0); "
            f"remove distance_m = {raw!r} or set inside = false"
        )
        raise RulesError(msg)
    if table.get("profile", "boundary") != "boundary":
        msg = (
            f"{where}: an inside rule is decided on the campus outline; remove "
            f"profile = {table['profile']!r}"
        )
        raise RulesError(msg)
    return True, 0.0


def _rule_from_table(table: dict[str, Any], where: str, categories: CategoryRegistry) -> Rule:
    missing = [key for key in ("id", "category") if key not in table]
    if missing:
        msg = (
            f"{where}: missing key(s) {', '.join(missing)}; every rule needs {', '.join(_REQUIRED)}"
        )
        raise RulesError(msg)
    category = table["category"]
    if category not in categories:
        msg = f"{where}: {categories.unknown_message(str(category))}"
        raise RulesError(msg)
    kinds = _kinds(table, where)
    inside, distance = _inside_and_distance(table, where)
    profile = table.get("profile", "boundary")
    if profile not in PROFILES:
        msg = f"{where}: unknown profile {profile!r}; expected one of {', '.join(PROFILES)}"
        raise RulesError(msg)
    severity = table.get("severity", "prohibited")
    if severity not in SEVERITIES:
        msg = f"{where}: unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}"
        raise RulesError(msg)
    lead = _units(table, "lead_units", where)
    responsible = _units(table, "responsible_units", where)
    enforcing = (
        _units(table, "enforcing_units", where) if "enforcing_units" in table else responsible
    )
    stray = [u for u in enforcing if u not in lead and u not in responsible]
    if stray:
        msg = (
            f"{where}: enforcing unit(s) {', '.join(stray)} are neither lead nor responsible "
            "units of the rule; add them to responsible_units"
        )
        raise RulesError(msg)
    return Rule(
        id=str(table["id"]),
        category=category,
        kinds=kinds,
        distance_m=distance,
        profile=profile,
        severity=severity,
        basis=str(table.get("basis", "")),
        basis_en=str(table.get("basis_en", "")),
        lead_units=lead,
        responsible_units=responsible,
        suggestion=str(table.get("suggestion", "")),
        suggestion_en=str(table.get("suggestion_en", "")),
        enforcing_units=enforcing,
        inside=inside,
    )


def _load(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"rule file {source} is not valid TOML: {exc}; fix the syntax at that line"
        raise RulesError(msg) from exc


def _default_text() -> str:
    return resources.files("campus_geo").joinpath(_DEFAULT_TABLE).read_text("utf-8")


def _extends(doc: dict[str, Any], source: str) -> bool:
    meta = doc.get("meta", {})
    extends = meta.get("extends") if isinstance(meta, dict) else None
    if extends not in (None, "default"):
        msg = f'rule file {source}: [meta] extends = {extends!r}; the one table to extend is "default"'
        raise RulesError(msg)
    return extends == "default"


def _parse(text: str, source: str, *, need_rules: bool = True) -> RuleTable:
    doc = _load(text, source)
    base_rules: RuleTable | None = None
    if source == _DEFAULT_SOURCE:
        base_categories = CategoryRegistry(())
    elif _extends(doc, source):
        base_rules = default_rules()
        base_categories = base_rules.categories
    else:
        base_categories = default_categories()
    categories = _categories(doc.get("category"), text, source, base_categories)
    tables = doc.get("rule", [])
    if not isinstance(tables, list) or (need_rules and base_rules is None and not tables):
        msg = f"rule file {source} has no [[rule]] tables; add at least one"
        raise RulesError(msg)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        where = f"rule file {source}, rule #{i + 1} (line {_line_of(text, i)})"
        rule = _rule_from_table(table, where, categories)
        if rule.id in seen:
            msg = f"{where}: duplicate rule id {rule.id!r} (first at rule #{seen[rule.id] + 1})"
            raise RulesError(msg)
        seen[rule.id] = i
        rules.append(rule)
    if base_rules is not None:  # extends the default rules: the same id replaces, others added
        own = {r.id: r for r in rules}
        rules = [own.pop(r.id, r) for r in base_rules] + list(own.values())
    return RuleTable(rules, categories=categories)


def _read_text(filepath: str | Path) -> tuple[str, Path]:
    path = Path(filepath)
    try:
        return path.read_text(encoding="utf-8"), path
    except OSError as exc:
        msg = f"cannot read rule file {path}: {exc.strerror}; check the path"
        raise RulesError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"rule file {path} is not UTF-8 text; save it as UTF-8"
        raise RulesError(msg) from exc


def read_rules(filepath: str | Path) -> RuleTable:
    """Read a rule table from a TOML file.

    Parameters
    ----------
    filepath
        Path to a TOML file with ``[[rule]]`` tables and, optionally,
        ``[[category]]`` tables adding or changing hazard categories (see the
        default table). With ``[meta] extends = "default"`` the default rules
        are kept: a rule of the file replaces the default rule of the same id,
        the others are added.

    Returns
    -------
    RuleTable
        The rules (a list of :class:`Rule`), with the default categories and
        the file's in ``.categories``.

    Raises
    ------
    RulesError
        When the file is not valid TOML (the message names the line) or a rule
        or category is incomplete or inconsistent (the message names it and its line).
    """
    text, path = _read_text(filepath)
    table = _parse(text, str(path))
    log.info("read %d rules from %s", len(table), path)
    return table


def read_categories(filepath: str | Path) -> CategoryRegistry:
    """The hazard categories of a rule file: the default ones with the file's added or changed.

    The file may have no ``[[rule]]`` table (a file of categories only).
    """
    text, path = _read_text(filepath)
    return _parse(text, str(path), need_rules=False).categories


def default_rules() -> RuleTable:
    """Return the default rule table shipped with campus_geo.

    Examples
    --------
    >>> rules = default_rules()
    >>> [r.distance_m for r in rules if r.category == "internet_cafe"]
    [200.0]
    >>> next(r for r in rules if r.category == "lottery").enforcing_units
    ('区民政局', '区教体局')
    """
    return _parse(_default_text(), _DEFAULT_SOURCE)


def default_categories() -> CategoryRegistry:
    """The hazard categories of the default table (read from it on every call).

    Examples
    --------
    >>> cats = default_categories()
    >>> cats.keys[:4], cats["escape_room"].osm_tags
    (('internet_cafe', 'lottery', 'arcade', 'entertainment'), (('leisure', 'escape_game'),))
    """
    text = _default_text()
    return _categories(
        _load(text, _DEFAULT_SOURCE).get("category"), text, _DEFAULT_SOURCE, CategoryRegistry(())
    )


def rule_table(rules: Sequence[Rule] | str | Path | None = None) -> RuleTable:
    """The rule table `rules` stands for: the default (None), a TOML file's, or the rules given.

    Rules given as a plain list keep the default categories, plus a bare one for
    any category they name that the default table does not define.
    """
    if rules is None:
        return default_rules()
    if isinstance(rules, str | Path):
        return read_rules(rules)
    if isinstance(rules, RuleTable):
        return rules
    return RuleTable(rules, categories=default_categories().with_keys(r.category for r in rules))


def categories_of(rules: Sequence[Rule] | str | Path | None = None) -> CategoryRegistry:
    """The hazard categories of a rule table (see :func:`rule_table`), with every one its rules name.

    Examples
    --------
    >>> categories_of().label("tuck_shop")
    '小卖部/小超市'
    >>> categories_of([Rule("mine", "my_venue", ("primary",), 100.0)]).label("my_venue")
    'my_venue'
    """
    table = rule_table(rules)
    return table.categories.with_keys(r.category for r in table)


def rule_of(category: str, rules: Iterable[Rule] | None = None) -> Rule | None:
    """The first rule of `category` in `rules` (the default table when None), or None.

    Examples
    --------
    >>> rule_of("water").distance_m
    500.0
    """
    return next(
        (r for r in (default_rules() if rules is None else rules) if r.category == category), None
    )


def adhoc_rules(
    categories: list[str], dist: float, *, profile: str = "boundary", base: list[Rule] | None = None
) -> list[Rule]:
    """Rules that screen each category at `dist` metres with `profile`.

    The legal basis, units and suggestion are taken from the rule of the same
    category in `base` (the default table when None) when one exists. A
    category whose rule is an inside rule keeps it: a distance means nothing
    for what must not stand inside the campus.

    Parameters
    ----------
    categories
        Hazard categories to screen.
    dist
        Threshold in metres on the WGS 84 ellipsoid.
    profile
        Measurement profile for every rule.
    base
        Rule table to borrow texts from.
    """
    distance = _check_distance(dist, "--dist")
    if profile not in PROFILES:
        msg = f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}"
        raise RulesError(msg)
    table = base if base is not None else default_rules()
    by_category: dict[str, Rule] = {}
    for rule in table:
        by_category.setdefault(rule.category, rule)
    out = []
    for category in categories:
        template = by_category.get(
            category, Rule(id="", category=category, kinds=SCHOOL_KINDS, distance_m=distance)
        )
        if template.inside:
            out.append(template)
            continue
        out.append(
            Rule(
                id=f"{category}_{distance:g}m_{profile}",
                category=category,
                kinds=SCHOOL_KINDS,
                distance_m=distance,
                profile=profile,
                severity=template.severity,
                basis=template.basis,
                basis_en=template.basis_en,
                lead_units=template.lead_units,
                responsible_units=template.responsible_units,
                suggestion=template.suggestion,
                suggestion_en=template.suggestion_en,
                enforcing_units=template.enforcing_units,
            )
        )
    if isinstance(table, RuleTable):
        return RuleTable(out, categories=table.categories)
    return out


def rules_frame(rules: list[Rule]) -> pd.DataFrame:
    """Return the rules as a DataFrame, one row per (rule, school kind)."""
    import pandas as pd

    rows = [
        {
            "rule_id": r.id,
            "category": r.category,
            "kind": kind,
            "threshold_m": r.distance_m,
            "inside": r.inside,
            "profile": r.profile,
            "severity": r.severity,
            "basis": r.basis,
            "lead_units": "、".join(r.lead_units),
            "responsible_units": "、".join(r.responsible_units),
            "enforcing_units": "、".join(r.enforcing_units),
            "suggestion": r.suggestion,
        }
        for r in rules
        for kind in r.kinds
    ]
    return pd.DataFrame(rows)
