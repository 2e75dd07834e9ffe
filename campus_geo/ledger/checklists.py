"""Campaign checklists: the "五个百分之百" of each school and the key water areas, as cases.

Beside the screened venues the campaign checks facilities per school and per
key water area (plan items (2), (11), (12)). Two registers, xlsx or CSV in any
layout with a header row (read by :func:`campus_geo.sources.tables.read_table`):

- **schools** (五个百分之百): 学校名称, 所在乡镇 and one column per item:
  专职保安员, 防冲撞设施, 校门视频监控, 封闭化管理, 一键式紧急报警; each cell says
  whether the item is in place (是/否, 有/无, √/×, 1/0, 已配备/未配备 ...);
- **water areas** (重点水域): 水域名称, 所在乡镇, 警示标志, 防护栏, 巡查 (yes/no
  cells as above) and 责任主体, the owner who answers for it (谁所有、谁负责): an
  empty owner is a missing item.

A cell that is neither yes nor no is a rejected row (file, row, column,
reason); the other rows are imported. Each missing item is a case
(category ``checklist_school`` / ``checklist_water``, severity ``risk``) with
the unit that must fix it: 区教体局 with 区公安局 participating for the guard,
anti-collision, closed-management and alarm items, 区公安局 for the gate video,
区水利局 for the water items (the owner, when named, participating). Its id
is stable: a hash of the register kind, the school or water area and the item
(as the finding ids of :mod:`campus_geo.engine.ids`), so a second import of
the same register changes nothing; an item now present closes its open case
as 复查已消除 (resolved in data) with a history row, and an item missing again
reopens a resolved case. Cases open through the ledger's one path
(:func:`campus_geo.ledger.sync.insert_cases`) and change through
:func:`campus_geo.ledger.db.apply_change`: every change has its history. A
screening sync never touches these cases.

The last import of each register is kept in the ledger (table ``meta``, key
``checklist:school`` / ``checklist:water``) so that the monthly report gives
the rates by township (:func:`checklist_rates`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from campus_geo._errors import InputDataError
from campus_geo.engine.ids import fnv1a64, hex_ids, id_hash
from campus_geo.ledger.db import (
    OPEN_STATUSES,
    apply_change,
    as_of,
    connect,
    default_who,
    write_transaction,
)
from campus_geo.ledger.sync import DEFAULT_DEADLINE_DAYS, insert_cases
from campus_geo.sources.tables import cell_text, match_columns, read_table

__all__ = [
    "KINDS",
    "SCHOOL_ITEMS",
    "WATER_ITEMS",
    "ChecklistResult",
    "Rejected",
    "case_ids",
    "checklist_rates",
    "format_rates",
    "import_checklists",
    "rate_labels",
    "rates_table",
    "read_register",
]

#: Register kinds: school (五个百分之百) and water (重点水域).
KINDS: Final = ("school", "water")

#: Items of the school register: key -> (Chinese label, accepted headers).
SCHOOL_ITEMS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "guard": ("专职保安员", ("专职保安员", "专职保安", "保安员", "security guard")),
    "anti_collision": ("防冲撞设施", ("防冲撞设施", "防冲撞", "anti-collision")),
    "gate_video": ("校门视频监控", ("校门视频监控", "视频监控", "校门监控", "gate video")),
    "closed": ("封闭化管理", ("封闭化管理", "封闭管理", "closed management")),
    "alarm": ("一键式紧急报警", ("一键式紧急报警", "一键报警", "紧急报警", "alarm")),
}
#: Items of the water register (``owner`` is a text: who owns the water area).
WATER_ITEMS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "signs": ("警示标志", ("警示标志", "警示牌", "warning signs", "signs")),
    "fence": ("防护栏", ("防护栏", "护栏", "防护设施", "fence", "fences")),
    "patrol": ("巡查", ("巡查", "巡查制度", "日常巡查", "patrol", "patrols")),
    "owner": ("责任主体", ("责任主体", "所有者", "管理单位", "owner")),
}
_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "school": ("学校名称", "学校", "school", "school_name"),
    "water": ("水域名称", "重点水域", "水域", "water area", "water_area", "name"),
}
_TOWNSHIP: Final = ("所在乡镇", "乡镇", "所在乡（镇、街道）", "乡镇（街道）", "township")
_CATEGORY: Final = {"school": "checklist_school", "water": "checklist_water"}
_REGISTER: Final = {"school": "五个百分之百", "water": "重点水域"}

_YES: Final = frozenset(
    {"是", "有", "√", "✓", "✔", "1", "已配备", "已安装", "已落实", "已建立", "已设置"}
    | {"配备", "到位", "已到位", "y", "yes", "true"}
)
_NO: Final = frozenset(
    {"否", "无", "×", "✗", "✘", "x", "0", "未配备", "未安装", "未落实", "未建立", "未设置"}
    | {"没有", "缺", "不到位", "未到位", "n", "no", "false"}
)
#: Owner cells that name nobody.
_NO_OWNER: Final = frozenset({"", "无", "不明", "未明确", "待明确", "-", "/"})

_EDUCATION: Final = "区教体局"
_POLICE: Final = "区公安局"
_WATER: Final = "区水利局"


def _units(kind: str, item: str, owner: str) -> tuple[str, str]:
    """(enforcing unit, participating units) of a missing item."""
    if kind == "water":
        return _WATER, owner
    if item == "gate_video":
        return _POLICE, ""
    return _EDUCATION, _POLICE


def _items(kind: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return SCHOOL_ITEMS if kind == "school" else WATER_ITEMS


@dataclass(frozen=True)
class Rejected:
    """A register row not imported: file, spreadsheet row, column and reason."""

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}, column {self.column}: {self.reason}"


def _flag(text: str) -> bool | None:
    norm = unicodedata.normalize("NFKC", text).strip().lower()
    if norm in _YES:
        return True
    if norm in _NO:
        return False
    return None


def read_register(filepath: str | Path, kind: str) -> tuple[pd.DataFrame, list[Rejected]]:
    """Read one register: its rows (name, township, one column per item) and rejected rows.

    Returns
    -------
    (pandas.DataFrame, list of Rejected)
        The frame has ``name``, ``township``, ``row`` (spreadsheet row), a
        bool column per item (``owner``: True when named) and ``owner_name``
        (water register).

    Raises
    ------
    InputDataError
        No header row, or a header without the name or an item column.
    """
    if kind not in KINDS:
        msg = f"unknown register kind {kind!r}: expected one of {', '.join(KINDS)}"
        raise InputDataError(msg)
    items = _items(kind)
    schema = {"name": _NAMES[kind], "township": _TOWNSHIP} | {k: v[1] for k, v in items.items()}
    raw = read_table(filepath, schema, required="name")
    found = match_columns(raw.columns, schema)
    lacking = [k for k in ("name", "township", *items) if k not in found]
    if lacking:
        names = ", ".join(schema[k][0] for k in lacking)
        msg = f"{raw.path}: the header (row {raw.header_row}) lacks the column(s) {names}"
        raise InputDataError(msg)
    source = raw.path.name
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    seen: dict[str, int] = {}
    for number, cells in raw.frame.iterrows():
        text = {k: cell_text(cells[found[k]]) for k in found}
        row = int(number)  # type: ignore[call-overload]
        record: dict[str, Any] = {"name": text["name"], "township": text["township"], "row": row}
        problems = []
        if not record["name"]:
            problems.append(Rejected(source, row, found["name"], "empty name"))
        elif record["name"] in seen:
            reason = f"{record['name']} is already in row {seen[record['name']]}"
            problems.append(Rejected(source, row, found["name"], reason))
        for key in items:
            if key == "owner":
                owner = text[key]
                record["owner_name"] = "" if owner in _NO_OWNER else owner
                record[key] = bool(record["owner_name"])
                continue
            value = _flag(text[key])
            if value is None:
                reason = (
                    f"{text[key]!r} is not one of 是/否, 有/无, √/×, 1/0, 已配备/未配备"
                    if text[key]
                    else "empty: say 是 or 否"
                )
                problems.append(Rejected(source, row, found[key], reason))
            record[key] = value
        if problems:
            rejected += problems
            continue
        seen[record["name"]] = row
        rows.append(record)
    columns = ["name", "township", "row", *items] + (["owner_name"] if kind == "water" else [])
    return pd.DataFrame(rows, columns=columns), rejected


def case_ids(kind: str, names: list[str], item: str) -> list[str]:
    """Stable case ids of an item of a register's schools or water areas (16 hex digits)."""
    n = len(names)
    h = id_hash(fnv1a64([f"checklist_{kind}"] * n), fnv1a64(names), fnv1a64([item] * n))
    return [str(i) for i in hex_ids(h)]


@dataclass(frozen=True)
class ChecklistResult:
    """What an import of the checklist registers did.

    Attributes
    ----------
    opened, closed, reopened
        Case ids: missing items opened, items now present whose case was
        closed (复查已消除), resolved cases whose item is missing again.
    unchanged
        Missing items whose case was already open or closed by a person.
    rejected
        Register rows not imported.
    rates
        Rates by township of each register (see :func:`checklist_rates`).
    """

    opened: tuple[str, ...]
    closed: tuple[str, ...]
    reopened: tuple[str, ...]
    unchanged: int
    rejected: tuple[Rejected, ...] = ()
    rates: dict[str, pd.DataFrame] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the command line."""
        return (
            f"Checklists: {len(self.opened)} cases opened, {len(self.closed)} closed as "
            f"present in the register, {len(self.reopened)} reopened, {self.unchanged} "
            f"unchanged, {len(self.rejected)} rows rejected."
        )


def _case_row(
    kind: str, fid: str, rec: Mapping[str, Any], item: str, *, at: dt.datetime
) -> dict[str, Any]:
    label = _items(kind)[item][0]
    owner = rec.get("owner_name", "") if item != "owner" else ""
    enforcing, participating = _units(kind, item, owner)
    days = DEFAULT_DEADLINE_DAYS["risk"]
    return {
        "finding_id": fid,
        "status": "pending",
        "school_id": f"{_REGISTER[kind]}:{rec['name']}",
        "school_name": rec["name"],
        "township": rec["township"],
        "village": "",
        "hazard_id": item,
        "hazard_name": f"缺{label}" if item != "owner" else "责任主体未明确",
        "category": _CATEGORY[kind],
        "rule_id": f"checklist_{kind}.{item}",
        "severity": "risk",
        "distance_m": 0.0,
        "threshold_m": 0.0,
        "lead_units": enforcing,
        "lead_unit": enforcing,
        "enforcing_unit": enforcing,
        "participating_units": participating,
        "responsible_unit": enforcing,
        "deadline": (at.date() + dt.timedelta(days=days)).isoformat(),
        "opened_on": at.date().isoformat(),
        "opened_run": None,
    }


def _import(
    conn: sqlite3.Connection,
    kind: str,
    table: pd.DataFrame,
    source: str,
    *,
    at: dt.datetime,
    who: str,
) -> tuple[list[str], list[str], list[str], int]:
    existing = {
        r["finding_id"]: dict(r)
        for r in conn.execute("SELECT * FROM cases WHERE category = ?", (_CATEGORY[kind],))
    }
    records = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    names = [str(r["name"]) for r in records]
    opened: list[dict[str, Any]] = []
    closed, reopened = [], []
    unchanged = 0
    where = f"{_REGISTER[kind]}登记表《{source}》"
    for item in _items(kind):
        for fid, rec in zip(case_ids(kind, names, item), records, strict=True):
            case = existing.get(fid)
            if not rec[item]:
                if case is None:
                    opened.append(_case_row(kind, fid, rec, item, at=at))
                elif case["status"] == "resolved":
                    why = (
                        f"登记表{where}第{rec['row']}行再次填报缺{_items(kind)[item][0]} "
                        f"(missing again in the register, row {rec['row']})"
                    )
                    apply_change(
                        conn,
                        case,
                        {"status": "pending", "flag": "reappeared"},
                        at=at,
                        who=who,
                        why=why,
                        source=f"checklist {source}",
                    )
                    reopened.append(fid)
                else:
                    unchanged += 1
            elif case is not None and case["status"] in OPEN_STATUSES:
                why = (
                    f"登记表{where}第{rec['row']}行填报已具备{_items(kind)[item][0]} "
                    f"(present in the register, row {rec['row']}: resolved in data)"
                )
                apply_change(
                    conn,
                    case,
                    {"status": "resolved", "flag": ""},
                    at=at,
                    who=who,
                    why=why,
                    source=f"checklist {source}",
                )
                closed.append(fid)
    insert_cases(
        conn,
        opened,
        at=at,
        who=who,
        why=lambda r: (
            f"{where}登记{r['hazard_name']}，责任单位{r['responsible_unit']} "
            f"(opened by the checklist register {source})"
        ),
        source=f"checklist {source}",
    )
    state = {
        "source": source,
        "at": at.isoformat(),
        "rows": [
            {k: (bool(v) if k in _items(kind) else v) for k, v in r.items() if k != "row"}
            for r in records
        ],
    }
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        (f"checklist:{kind}", json.dumps(state, ensure_ascii=False, sort_keys=True)),
    )
    return [r["finding_id"] for r in opened], closed, reopened, unchanged


def rates_table(kind: str, table: pd.DataFrame) -> pd.DataFrame:
    """Share of the schools (water areas) of each township with each item, and a total row.

    Columns: the number of schools (water areas), then the share (0..1) with
    each item; the school register adds ``all`` (all five items). Index: the
    townships in order, then ``合计``.
    """
    items = list(_items(kind))
    frame = table[["township", *items]].copy()
    frame[items] = frame[items].astype(bool)
    if kind == "school":
        frame["all"] = frame[items].all(axis=1)
        items.append("all")
    frame["count"] = 1
    groups = frame.groupby("township", sort=True)
    out = groups[items].mean()
    out.insert(0, "count", groups["count"].sum())
    total = pd.DataFrame(
        [[len(frame), *(frame[items].mean() if len(frame) else [0.0] * len(items))]],
        columns=["count", *items],
        index=["合计"],
    )
    out = pd.concat([out, total])
    out.index.name = "township"
    out["count"] = out["count"].astype("int64")
    return out


def rate_labels(kind: str) -> dict[str, str]:
    """Chinese headers of the columns of :func:`rates_table`."""
    unit = "学校数" if kind == "school" else "水域数"
    labels = {"count": unit} | {k: v[0] for k, v in _items(kind).items()}
    if kind == "school":
        labels["all"] = "五项全部"
    return labels


def checklist_rates(conn: sqlite3.Connection) -> dict[str, pd.DataFrame]:
    """Rates by township of the registers last imported into a ledger (kind -> table)."""
    out = {}
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'checklist:%'").fetchall())
    for kind in KINDS:
        text = meta.get(f"checklist:{kind}")
        if not text:
            continue
        rows = json.loads(text)["rows"]
        columns = ["name", "township", *_items(kind)]
        out[kind] = rates_table(kind, pd.DataFrame(rows, columns=columns))
    return out


def format_rates(rates: Mapping[str, pd.DataFrame]) -> str:
    """The rates as plain-text tables (percentages)."""
    lines = []
    for kind, table in rates.items():
        labels = rate_labels(kind)
        lines.append(f"{_REGISTER[kind]} (share by township):")
        lines.append("\t".join(["乡镇", *(labels[c] for c in table.columns)]))
        for township, row in table.iterrows():
            cells = [str(int(row["count"]))] + [f"{row[c]:.0%}" for c in table.columns[1:]]
            lines.append("\t".join([str(township), *cells]))
    return "\n".join(lines)


def import_checklists(
    ledger_path: str | Path,
    *,
    schools: str | Path | None = None,
    water: str | Path | None = None,
    who: str | None = None,
    now: dt.datetime | None = None,
) -> ChecklistResult:
    """Import the checklist registers into a ledger (created when missing), in one transaction.

    Rows with an unknown value are left out (see ``rejected``); the other rows
    are imported. Returns what changed and the rates by township.
    """
    if schools is None and water is None:
        msg = "give the school register (五个百分之百), the water register (重点水域) or both"
        raise InputDataError(msg)
    tables: dict[str, tuple[pd.DataFrame, str]] = {}
    rejected: list[Rejected] = []
    for kind, path in (("school", schools), ("water", water)):
        if path is not None:
            table, bad = read_register(path, kind)
            tables[kind] = (table, Path(path).name)
            rejected += bad
    at, who = as_of(now), who or default_who()
    opened: list[str] = []
    closed: list[str] = []
    reopened: list[str] = []
    unchanged = 0
    with connect(ledger_path, create=True, check=True) as conn:
        with write_transaction(conn):
            for kind, (table, source) in tables.items():
                o, c, r, u = _import(conn, kind, table, source, at=at, who=who)
                opened += o
                closed += c
                reopened += r
                unchanged += u
        rates = checklist_rates(conn)
    return ChecklistResult(
        tuple(opened), tuple(closed), tuple(reopened), unchanged, tuple(rejected), rates
    )
