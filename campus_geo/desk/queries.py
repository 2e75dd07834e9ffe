"""The desk's reads of the ledger: the case table (filter, sort, pages) and the dashboard.

Read in SQL on the ledger file (never the whole table into memory per
request), inside one read snapshot, limited to the user's scope
(:func:`campus_geo.desk.access.scope_sql`). Overdue is derived as the
ledger does (:func:`campus_geo.ledger.db.with_overdue`): an open case whose
deadline is before today.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any, Final

from campus_geo.desk.access import scope_sql, unit_sql
from campus_geo.desk.users import User
from campus_geo.ledger.db import OPEN_STATUSES, STATUSES, read_transaction
from campus_geo.ledger.units import split_units

__all__ = [
    "PAGE_SIZE",
    "SORTS",
    "CaseFilter",
    "dashboard",
    "filter_choices",
    "list_cases",
]

#: Rows per page of the case table.
PAGE_SIZE: Final = 50
#: Sort keys of the case table and their ORDER BY.
SORTS: Final[dict[str, str]] = {
    "deadline": "deadline IS NULL, deadline, township, school_name, finding_id",
    "township": "township, school_name, finding_id",
    "school": "school_name, finding_id",
    "status": "status, deadline, finding_id",
    "opened": "opened_on DESC, finding_id",
    "distance": "distance_m, finding_id",
}
_OPEN_SQL: Final = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))
_COLUMNS: Final = (
    "finding_id, status, flag, township, school_name, hazard_name, category, severity, "
    "distance_m, threshold_m, responsible_unit, enforcing_unit, deadline, version"
)


@dataclass(frozen=True)
class CaseFilter:
    """What the case table shows: filters (empty: all), sort key and page (from 1)."""

    status: str = ""
    unit: str = ""
    township: str = ""
    school: str = ""
    category: str = ""
    overdue: bool = False
    sort: str = "deadline"
    page: int = 1

    def where(self, user: User, today: dt.date) -> tuple[str, list[Any]]:
        """The WHERE clause and its parameters."""
        scope, params = scope_sql(user)
        clauses, values = [scope], list(params)
        if self.status in STATUSES:
            clauses.append("status = ?")
            values.append(self.status)
        if self.unit:
            unit_clause, unit_values = unit_sql(self.unit)
            clauses.append(unit_clause)
            values += unit_values
        if self.township:
            clauses.append("township = ?")
            values.append(self.township)
        if self.school:
            clauses.append("instr(school_name, ?) > 0")
            values.append(self.school)
        if self.category:
            clauses.append("category = ?")
            values.append(self.category)
        if self.overdue:
            clauses.append(f"{_OPEN_SQL} AND deadline < ?")
            values.append(today.isoformat())
        return " AND ".join(clauses), values


def list_cases(
    conn: sqlite3.Connection, user: User, flt: CaseFilter, *, today: dt.date
) -> tuple[list[dict[str, Any]], int]:
    """One page of the user's cases matching `flt`, and how many match in all."""
    where, values = flt.where(user, today)
    order = SORTS.get(flt.sort, SORTS["deadline"])
    offset = (max(flt.page, 1) - 1) * PAGE_SIZE
    with read_transaction(conn):
        total = int(conn.execute(f"SELECT count(*) FROM cases WHERE {where}", values).fetchone()[0])
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM cases WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*values, PAGE_SIZE, offset],
        ).fetchall()
    out = []
    for row in rows:
        case = dict(row)
        deadline = case["deadline"]
        overdue = (
            case["status"] in OPEN_STATUSES and bool(deadline) and deadline < today.isoformat()
        )
        case["days_overdue"] = (today - dt.date.fromisoformat(deadline)).days if overdue else 0
        case["overdue"] = overdue
        out.append(case)
    return out, total


def filter_choices(conn: sqlite3.Connection, user: User) -> dict[str, list[str]]:
    """The townships, categories and units of the user's cases (for the filter lists)."""
    scope, params = scope_sql(user)
    rows = conn.execute(
        f"SELECT DISTINCT township, category, responsible_unit, enforcing_unit "
        f"FROM cases WHERE {scope}",
        params,
    ).fetchall()
    units: set[str] = set()
    for r in rows:
        units.update(split_units(r["responsible_unit"]) + split_units(r["enforcing_unit"]))
    return {
        "township": sorted({r["township"] for r in rows}),
        "category": sorted({r["category"] for r in rows}),
        "unit": sorted(units),
    }


def dashboard(conn: sqlite3.Connection, user: User, *, today: dt.date) -> dict[str, Any]:
    """Open, overdue and closed cases by responsible unit and by township, and this month's moves.

    ``closed_this_month`` and ``opened_this_month`` count the cases closed
    and opened since the first of `today`'s month.
    """
    scope, params = scope_sql(user)
    first = today.replace(day=1).isoformat()
    sql = (
        "SELECT {key} AS name, "
        f"sum({_OPEN_SQL}) AS open, "
        f"sum({_OPEN_SQL} AND deadline < ?) AS overdue, "
        f"sum(NOT {_OPEN_SQL}) AS closed, "
        "sum(closed_on >= ?) AS closed_this_month, "
        "sum(opened_on >= ?) AS opened_this_month "
        f"FROM cases WHERE {scope} GROUP BY {{key}} ORDER BY overdue DESC, open DESC, name"
    )
    args = [today.isoformat(), first, first, *params]
    result: dict[str, Any] = {"month": first[:7]}
    with read_transaction(conn):
        for key in ("responsible_unit", "township"):
            rows = conn.execute(sql.format(key=key), args).fetchall()
            result[key] = [
                {k: (v or 0) if k != "name" else v for k, v in dict(r).items()} for r in rows
            ]
    result["totals"] = {
        k: sum(r[k] for r in result["township"])
        for k in ("open", "overdue", "closed", "closed_this_month", "opened_this_month")
    }
    return result
