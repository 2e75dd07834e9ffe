"""The rule table: which hazard is checked around which school, at what distance.

A rule says, for one hazard category: the school kinds it applies to, the
distance in metres (WGS 84 ellipsoid), the measurement profile, the severity,
the legal basis, the lead and responsible units and the rectification
suggestion (Chinese and English). The default table ships as TOML in
``campus_geo/rules/default.toml``; users pass their own file.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campus_geo._errors import RulesError
from campus_geo.settings import CATEGORIES, PROFILES, SCHOOL_KINDS, SEVERITIES

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Rule", "adhoc_rules", "default_rules", "read_rules", "rule_of", "rules_frame"]

log = logging.getLogger(__name__)

_REQUIRED = ("id", "category", "distance_m")


@dataclass(frozen=True)
class Rule:
    """One screening rule.

    Attributes
    ----------
    id
        Unique rule id, part of every finding id.
    category
        Hazard category (see ``settings.CATEGORIES``).
    kinds
        School kinds the rule applies to.
    distance_m
        Threshold in metres on the WGS 84 ellipsoid; a hazard at or within it is flagged.
    profile
        Measurement profile: ``"boundary"`` or ``"entrance"``.
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


def _line_of(text: str, rule_index: int) -> int:
    """Line number (1-based) of the `rule_index`-th ``[[rule]]`` header in `text`."""
    starts = [m.start() for m in re.finditer(r"^[ \t]*\[\[rule\]\]", text, flags=re.MULTILINE)]
    if rule_index < len(starts):
        return text.count("\n", 0, starts[rule_index]) + 1
    return 0


def _as_str_tuple(value: Any, field: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    msg = f"{where}: `{field}` must be a string or a list of strings, got {value!r}"
    raise RulesError(msg)


def _check_distance(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        msg = f"{where}: `distance_m` must be a number of metres, got {raw!r}"
        raise RulesError(msg)
    distance = float(raw)
    if not math.isfinite(distance) or distance <= 0:
        msg = f"{where}: `distance_m` must be a positive number of metres, got {raw!r}"
        raise RulesError(msg)
    return distance


def _rule_from_table(table: dict[str, Any], where: str) -> Rule:
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        msg = (
            f"{where}: missing key(s) {', '.join(missing)}; every rule needs {', '.join(_REQUIRED)}"
        )
        raise RulesError(msg)
    category = table["category"]
    if category not in CATEGORIES:
        msg = f"{where}: unknown category {category!r}; expected one of {', '.join(CATEGORIES)}"
        raise RulesError(msg)
    kinds = _as_str_tuple(table.get("kinds", ["*"]), "kinds", where)
    if "*" in kinds:
        kinds = SCHOOL_KINDS
    bad_kinds = [k for k in kinds if k not in SCHOOL_KINDS]
    if bad_kinds:
        msg = (
            f"{where}: unknown school kind(s) {bad_kinds}; expected {', '.join(SCHOOL_KINDS)} or *"
        )
        raise RulesError(msg)
    profile = table.get("profile", "boundary")
    if profile not in PROFILES:
        msg = f"{where}: unknown profile {profile!r}; expected one of {', '.join(PROFILES)}"
        raise RulesError(msg)
    severity = table.get("severity", "prohibited")
    if severity not in SEVERITIES:
        msg = f"{where}: unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}"
        raise RulesError(msg)
    return Rule(
        id=str(table["id"]),
        category=category,
        kinds=kinds,
        distance_m=_check_distance(table["distance_m"], where),
        profile=profile,
        severity=severity,
        basis=str(table.get("basis", "")),
        basis_en=str(table.get("basis_en", "")),
        lead_units=_as_str_tuple(table.get("lead_units", []), "lead_units", where),
        responsible_units=_as_str_tuple(
            table.get("responsible_units", []), "responsible_units", where
        ),
        suggestion=str(table.get("suggestion", "")),
        suggestion_en=str(table.get("suggestion_en", "")),
    )


def _parse(text: str, source: str) -> list[Rule]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"rule file {source} is not valid TOML: {exc}; fix the syntax at that line"
        raise RulesError(msg) from exc
    tables = doc.get("rule")
    if not isinstance(tables, list) or not tables:
        msg = f"rule file {source} has no [[rule]] tables; add at least one"
        raise RulesError(msg)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        line = _line_of(text, i)
        where = f"rule file {source}, rule #{i + 1} (line {line})"
        rule = _rule_from_table(table, where)
        if rule.id in seen:
            msg = f"{where}: duplicate rule id {rule.id!r} (first at rule #{seen[rule.id] + 1})"
            raise RulesError(msg)
        seen[rule.id] = i
        rules.append(rule)
    return rules


def read_rules(filepath: str | Path) -> list[Rule]:
    """Read a rule table from a TOML file.

    Parameters
    ----------
    filepath
        Path to a TOML file with ``[[rule]]`` tables (see the default table).

    Returns
    -------
    list of Rule

    Raises
    ------
    RulesError
        When the file is not valid TOML (the message names the line) or a rule
        is incomplete or inconsistent (the message names the rule and its line).
    """
    path = Path(filepath)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"cannot read rule file {path}: {exc.strerror}; check the path"
        raise RulesError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"rule file {path} is not UTF-8 text; save it as UTF-8"
        raise RulesError(msg) from exc
    rules = _parse(text, str(path))
    log.info("read %d rules from %s", len(rules), path)
    return rules


def default_rules() -> list[Rule]:
    """Return the default rule table shipped with campus_geo.

    Examples
    --------
    >>> rules = default_rules()
    >>> [r.distance_m for r in rules if r.category == "internet_cafe"]
    [200.0]
    """
    text = resources.files("campus_geo").joinpath("rules/default.toml").read_text("utf-8")
    return _parse(text, "campus_geo/rules/default.toml")


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
    category in `base` (the default table when None) when one exists.

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
    by_category = {r.category: r for r in (base if base is not None else default_rules())}
    out = []
    for category in categories:
        template = by_category.get(
            category, Rule(id="", category=category, kinds=SCHOOL_KINDS, distance_m=distance)
        )
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
            )
        )
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
            "profile": r.profile,
            "severity": r.severity,
            "basis": r.basis,
            "lead_units": "、".join(r.lead_units),
            "responsible_units": "、".join(r.responsible_units),
            "suggestion": r.suggestion,
        }
        for r in rules
        for kind in r.kinds
    ]
    return pd.DataFrame(rows)
