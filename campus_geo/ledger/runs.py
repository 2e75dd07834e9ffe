"""The screening settings of each sync, and how two syncs' settings differ.

A case follows its ``finding_id``, which hashes the school, the hazard and
the rule id; a screening with other settings (``--dist``, ``--profile``, a
rule table with other ids, a hazard source left out) makes other findings,
and a sync of them would close the ledger's cases and open new ones. So
each run records, in ``runs.settings`` (JSON):

- ``rules``: each rule as its findings show it: id, category, profile and
  distance in metres;
- ``sources``: the names of the input files;
- ``declared``: what the caller declares (``sync_findings(settings=...)``).

:func:`settings_differences` lists, in words, what differs from the ledger's
last sync (:func:`last_settings`): a rule measured with another distance or
profile; a category screened under rule ids none of which the last sync
used; an input file of the last sync not given now (not for a partial
screening); a declared setting with another value. A category or a rule
with no findings in one of the two runs is no difference (the venues may be
gone), nor is a new input file or a new rule beside the old ones.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["last_settings", "run_settings", "settings_differences"]


def run_settings(
    table: pd.DataFrame, sources: Iterable[str], declared: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The settings of a screening as recorded with its run (JSON-ready).

    Parameters
    ----------
    table
        The findings as the ledger keeps them (``rule_id``, ``category``,
        ``profile``, ``threshold_m`` in metres).
    sources
        Names of the input files.
    declared
        Settings the caller declares (JSON-ready values).
    """
    rules: dict[str, dict[str, Any]] = {}
    columns = ["rule_id", "category", "profile", "threshold_m"]
    for rule_id, category, profile, threshold in (
        table[columns].drop_duplicates().itertuples(index=False)
    ):
        rules[str(rule_id)] = {
            "category": str(category),
            "profile": str(profile),
            "threshold_m": float(threshold),
        }
    out: dict[str, Any] = {"rules": dict(sorted(rules.items())), "sources": sorted(set(sources))}
    if declared:
        out["declared"] = {str(k): v for k, v in declared.items()}
    recorded: dict[str, Any] = json.loads(json.dumps(out, default=str))  # as read back later
    return recorded


def last_settings(conn: sqlite3.Connection) -> tuple[int, str, dict[str, Any]] | None:
    """(run id, date, settings) of the ledger's last sync; None for a new ledger.

    A run recorded before schema version 2 has no settings: its rules are taken
    from the ledger's cases and its sources from the run's input files.
    """
    row = conn.execute(
        "SELECT run_id, at, source, inputs, settings FROM runs ORDER BY run_id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    settings = json.loads(row["settings"] or "{}")
    if not settings:
        rules = {
            r["rule_id"]: {
                "category": r["category"],
                "profile": "",
                "threshold_m": r["threshold_m"],
            }
            for r in conn.execute("SELECT DISTINCT rule_id, category, threshold_m FROM cases")
        }
        findings_file = Path(row["source"]).name
        names = {Path(p).name for p in json.loads(row["inputs"] or "{}")} - {findings_file}
        settings = {"rules": rules, "sources": sorted(names)}
    return int(row["run_id"]), str(row["at"])[:10], settings


def _params(rule: Mapping[str, Any]) -> str:
    profile = f", {rule['profile']}" if rule.get("profile") else ""
    return f"{float(rule['threshold_m']):g} m{profile}"


def _describe(rule_id: str, rule: Mapping[str, Any]) -> str:
    return f"{rule_id} ({_params(rule)})"


def settings_differences(
    old: Mapping[str, Any], new: Mapping[str, Any], *, partial: bool
) -> list[str]:
    """How the settings `new` differ from `old` (see the module's docstring)."""
    changes = []
    old_decl, new_decl = old.get("declared", {}), new.get("declared", {})
    for key in sorted(set(old_decl) & set(new_decl)):
        if old_decl[key] != new_decl[key]:
            changes.append(f"{key}: {old_decl[key]!r} -> {new_decl[key]!r}")
    old_rules, new_rules = old.get("rules", {}), new.get("rules", {})
    for rule_id in sorted(set(old_rules) & set(new_rules)):
        before, after = old_rules[rule_id], new_rules[rule_id]
        profiles = before.get("profile"), after.get("profile")
        same_profile = not all(profiles) or profiles[0] == profiles[1]
        if not same_profile or float(before["threshold_m"]) != float(after["threshold_m"]):
            changes.append(f"rule {rule_id}: {_params(before)} -> {_params(after)}")
    by_category: dict[str, tuple[list[str], list[str]]] = {}
    for rules, slot in ((old_rules, 0), (new_rules, 1)):
        for rule_id, rule in rules.items():
            by_category.setdefault(rule["category"], ([], []))[slot].append(rule_id)
    for category, (before_ids, after_ids) in sorted(by_category.items()):
        if before_ids and after_ids and not set(before_ids) & set(after_ids):
            now = ", ".join(_describe(r, new_rules[r]) for r in sorted(after_ids))
            then = ", ".join(_describe(r, old_rules[r]) for r in sorted(before_ids))
            changes.append(f"category {category}: screened with {now} instead of {then}")
    if not partial and new.get("sources"):
        for name in sorted(set(old.get("sources", [])) - set(new["sources"])):
            changes.append(f"input {name} of the last sync not given now")
    return changes
