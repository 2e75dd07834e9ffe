"""Problems the analyses name, as cases: a gate on an arterial without a crossing, a gate unseen.

Crossings, bus stops and cameras are context, not problems (see
:mod:`campus_geo.analyses`); what the campaign must fix about them is named by
the analyses (plan measures (2) and (11)):

- **traffic_gap** (校门临主干道无信号灯过街设施): a gate within reach of an
  arterial road (trunk, primary, secondary) with no signalised crossing on it
  near the gate on foot (:func:`campus_geo.analyses.traffic.arterial_gaps`);
  one case per gate and road, for 区公安局 (its traffic police) with
  区交通运输局 and 区城市管理局;
- **camera_gap** (校门无视频监控覆盖): a gate no camera sees
  (:func:`campus_geo.analyses.cameras.camera_coverage`); one case per gate,
  for 区公安局 with 区教体局.

Case ids are stable (a hash of the kind, the school, the gate and the road), so
a second run with the same result changes nothing. A problem no longer found
closes its case as 复查已消除 when nobody has verified it yet (待核查); a case
being handled stays open, as a screening sync keeps it. Cases open through the
ledger's one path (:func:`campus_geo.ledger.sync.insert_cases`) and change
through :func:`campus_geo.ledger.db.apply_change`, each with its history. The
screening sync never touches them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from campus_geo.engine.ids import fnv1a64, hex_ids, id_hash
from campus_geo.ledger.db import apply_change, as_of, connect, default_who, write_transaction
from campus_geo.ledger.sync import ANALYSIS_CATEGORIES, DEFAULT_DEADLINE_DAYS, insert_cases

__all__ = ["ANALYSIS_KINDS", "AnalysisCasesResult", "sync_analysis_cases"]

#: kind (:data:`campus_geo.ledger.sync.ANALYSIS_CATEGORIES`) -> (Chinese problem, enforcing
#: unit, participating units).
ANALYSIS_KINDS: Final[dict[str, tuple[str, str, str]]] = {
    "traffic_gap": ("校门临主干道无信号灯过街设施", "区公安局", "区交通运输局、区城市管理局"),
    "camera_gap": ("校门无视频监控覆盖", "区公安局", "区教体局"),
}
assert tuple(ANALYSIS_KINDS) == ANALYSIS_CATEGORIES


@dataclass(frozen=True)
class AnalysisCasesResult:
    """What a sync of the analyses' problems did: case ids opened, closed; unchanged count."""

    opened: tuple[str, ...]
    closed: tuple[str, ...]
    unchanged: int

    def summary(self) -> str:
        """One line for the command line."""
        return (
            f"Analyses: {len(self.opened)} problem cases opened (gates on arterials without a "
            f"signalised crossing, gates no camera sees), {len(self.closed)} closed as no "
            f"longer found, {self.unchanged} unchanged."
        )


def _ids(kind: str, schools: list[str], keys: list[str]) -> list[str]:
    n = len(schools)
    h = id_hash(fnv1a64([kind] * n), fnv1a64(schools), fnv1a64(keys))
    return [str(i) for i in hex_ids(h)]


def _problems(
    gaps: pd.DataFrame | None,
    gate_coverage: pd.DataFrame | None,
    schools: pd.DataFrame,
) -> list[dict[str, Any]]:
    """One record per problem: kind, school, its name and township, the gate, the text."""
    records = []
    if gaps is not None and len(gaps):
        for g in gaps.to_dict("records"):
            road = str(g.get("road_name") or "") or "无名道路"
            gate = str(g.get("gate_name") or "") or str(g["entrance_id"])
            records.append(
                {
                    "kind": "traffic_gap",
                    "school_id": str(g["school_id"]),
                    "key": f"{g['entrance_id']}|{road}",
                    "hazard_id": str(g["entrance_id"]),
                    "hazard_name": f"{gate}临{road}，无信号灯过街设施",
                    "distance_m": float(g.get("gate_to_road_m") or 0.0),
                }
            )
    if gate_coverage is not None and len(gate_coverage):
        unseen = gate_coverage[~gate_coverage["seen"].astype(bool)]
        for entrance_id, gate_row in unseen.iterrows():
            gate = str(gate_row.get("gate_name") or "") or str(entrance_id)
            records.append(
                {
                    "kind": "camera_gap",
                    "school_id": str(gate_row["school_id"]),
                    "key": str(entrance_id),
                    "hazard_id": str(entrance_id),
                    "hazard_name": f"{gate}无视频监控覆盖",
                    "distance_m": 0.0,
                }
            )

    def text(sid: str, column: str) -> str:
        if sid not in schools.index or column not in schools.columns:
            return ""
        value: Any = schools.loc[sid, column]
        return "" if bool(pd.isna(value)) else str(value)

    for r in records:
        sid = str(r["school_id"])
        r["school_name"] = text(sid, "name") or sid
        r["township"] = text(sid, "township")
        r["village"] = text(sid, "village")
    return records


def _case_row(fid: str, rec: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
    _, enforcing, participating = ANALYSIS_KINDS[rec["kind"]]
    return {
        "finding_id": fid,
        "status": "pending",
        "school_id": rec["school_id"],
        "school_name": rec["school_name"],
        "township": rec["township"],
        "village": rec["village"],
        "hazard_id": rec["hazard_id"],
        "hazard_name": rec["hazard_name"],
        "category": rec["kind"],
        "rule_id": f"analysis.{rec['kind']}",
        "severity": "risk",
        "distance_m": rec["distance_m"],
        "threshold_m": 0.0,
        "lead_units": "区委政法委、区教体局",
        "lead_unit": "区委政法委",
        "enforcing_unit": enforcing,
        "participating_units": participating,
        "responsible_unit": enforcing,
        "deadline": (at.date() + dt.timedelta(days=DEFAULT_DEADLINE_DAYS["risk"])).isoformat(),
        "opened_on": at.date().isoformat(),
        "opened_run": None,
    }


def sync_analysis_cases(
    ledger_path: str | Path,
    *,
    gaps: pd.DataFrame | None,
    gate_coverage: pd.DataFrame | None,
    schools: pd.DataFrame,
    who: str | None = None,
    now: dt.datetime | None = None,
) -> AnalysisCasesResult:
    """Open a case for each problem the analyses name; close the pending ones no longer found.

    Parameters
    ----------
    ledger_path
        The ledger (created when missing).
    gaps
        :func:`campus_geo.analyses.traffic.arterial_gaps` (with ``gate_name`` when
        known), or None when the traffic analysis did not run (its cases are left
        as they are).
    gate_coverage
        The gate table of :func:`campus_geo.analyses.cameras.camera_coverage`, or
        None when the camera analysis did not run.
    schools
        The schools layer (names, townships and villages of the cases).
    who, now
        Recorded in the history.
    """
    at, who = as_of(now), who or default_who()
    records = _problems(gaps, gate_coverage, schools)
    ran = {
        k
        for k, table in (("traffic_gap", gaps), ("camera_gap", gate_coverage))
        if table is not None
    }
    found: dict[str, dict[str, Any]] = {}
    for kind in ANALYSIS_KINDS:
        mine = [r for r in records if r["kind"] == kind]
        ids = _ids(kind, [r["school_id"] for r in mine], [r["key"] for r in mine])
        found.update(zip(ids, mine, strict=True))
    opened, closed = [], []
    unchanged = 0
    with connect(ledger_path, create=True, check=True) as conn, write_transaction(conn):
        placeholders = ", ".join("?" * len(ANALYSIS_KINDS))
        existing = {
            r["finding_id"]: dict(r)
            for r in conn.execute(
                f"SELECT * FROM cases WHERE category IN ({placeholders})",  # our keys
                tuple(ANALYSIS_KINDS),
            )
        }
        rows = []
        for fid, rec in found.items():
            if fid in existing:
                unchanged += 1
            else:
                rows.append(_case_row(fid, rec, at))
        for fid, case in existing.items():
            if fid not in found and case["category"] in ran and case["status"] == "pending":
                apply_change(
                    conn,
                    case,
                    {"status": "resolved", "flag": ""},
                    at=at,
                    who=who,
                    why="分析未再发现该问题 (no longer found by the analysis)",
                    source="analysis",
                )
                closed.append(fid)
        insert_cases(
            conn,
            rows,
            at=at,
            who=who,
            why=lambda r: f"分析发现：{r['hazard_name']}，责任单位{r['responsible_unit']}",
            source="analysis",
        )
        opened = [r["finding_id"] for r in rows]
    return AnalysisCasesResult(tuple(opened), tuple(closed), unchanged)
