"""The units of a case, which cases are a unit's own, and the units' monthly reports (报送).

The campaign runs on responsibility: each problem has lead units (牵头单位,
the coordinating bodies such as 区委政法委 and 区教体局), and units that must
act "按照管理权限" (by competence). A case keeps

- ``lead_units`` / ``lead_unit``: the rule's lead units, and the first;
- ``enforcing_unit`` (执法单位): the responsible unit that enforces the
  finding's category by competence (the first of the findings'
  ``enforcing_units``; while the rule table names none, the first of its
  ``responsible_units``);
- ``participating_units`` (配合单位): the other enforcing units;
- ``responsible_unit`` (责任单位): the unit that must fix it, the enforcing
  unit when the case opens; a person may reassign it, and a joint
  rectification (联合整改) names its lead here;
- ``joint_units`` (联合整改单位), ``copied_to`` (抄告单位), ``supervisor``
  (督办单位): the units named by the actions of :mod:`campus_geo.ledger.actions`.

**A unit's own cases** (``--unit U``, :func:`unit_mask`): U is the case's
responsible unit, its enforcing unit, one of its participating units, one of
the units of its joint rectification, a unit it was copied to (抄告), or its
supervising unit (督办). Lead units are not matched (a coordinating body
leads nearly every case): ``ledger list --lead U`` lists the cases a unit leads.

**Monthly reports.** Every unit and township reports last month's progress
before the 5th. An import of a filled-in 台帐 is the report of the unit (or
township) it comes from, for one month: the month before when the import is
made on the 1st to the 5th, else the month of the import (:func:`report_month`);
the record is append-only (table ``reports``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REPORT_DEADLINE_DAY",
    "REPORT_KINDS",
    "SEPARATOR",
    "UNIT_FIELDS",
    "add_report",
    "case_units",
    "join_units",
    "lead_mask",
    "report_month",
    "split_units",
    "unit_mask",
]

#: Separator of units in one cell (as in the rule table's ``lead_units``).
SEPARATOR: Final = "、"
#: Fields whose units make a case a unit's own (see the module's docstring).
UNIT_FIELDS: Final = (
    "responsible_unit",
    "enforcing_unit",
    "participating_units",
    "joint_units",
    "copied_to",
    "supervisor",
)
#: Who reports (Chinese, English).
REPORT_KINDS: Final[dict[str, tuple[str, str]]] = {
    "unit": ("单位", "unit"),
    "township": ("乡镇（街道）", "township"),
}
#: Last day of a month on which a report is still that of the month before.
REPORT_DEADLINE_DAY: Final = 5

_SPLIT: Final = re.compile(r"[、,，;；]")
_OPEN: Final = "（("
_CLOSE: Final = "）)"


def split_units(text: Any) -> list[str]:
    """The units of a cell (separated by 、 , ， ; ；), in order, each once.

    A separator inside brackets belongs to the name.

    Examples
    --------
    >>> split_units("区水利局、各乡（镇、街道）, 区水利局")
    ['区水利局', '各乡（镇、街道）']
    >>> split_units(None), split_units("")
    ([], [])
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    units: list[str] = []
    depth, start, value = 0, 0, str(text)
    for pos, ch in enumerate(value):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and _SPLIT.match(ch):
            units.append(value[start:pos])
            start = pos + 1
    units.append(value[start:])
    return list(dict.fromkeys(u.strip() for u in units if u.strip()))


def join_units(units: Iterable[str]) -> str:
    """Units joined with 、, each once, in order."""
    return SEPARATOR.join(dict.fromkeys(u.strip() for u in units if u and u.strip()))


def case_units(case: Mapping[Any, Any]) -> list[str]:
    """Every unit for which `case` is its own (see the module's docstring), each once."""
    units: list[str] = []
    for field in UNIT_FIELDS:
        units += split_units(case.get(field))
    return list(dict.fromkeys(units))


def unit_mask(cases: pd.DataFrame, unit: str) -> pd.Series:
    """True for the cases that are `unit`'s own (see the module's docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"responsible_unit": ["区公安局", "乙镇"],
    ...     "enforcing_unit": ["区公安局", "区城市管理局"],
    ...     "participating_units": ["区文化广电和旅游局", ""],
    ...     "joint_units": ["", ""], "copied_to": ["", "区公安局"], "supervisor": ["", ""]})
    >>> unit_mask(cases, "区公安局").tolist(), unit_mask(cases, "区文化广电和旅游局").tolist()
    ([True, True], [True, False])
    """
    import pandas as pd

    wanted = unit.strip()
    hits = [wanted in case_units(row) for row in cases[list(UNIT_FIELDS)].to_dict("records")]
    return pd.Series(hits, index=cases.index, dtype=bool)


def lead_mask(cases: pd.DataFrame, unit: str) -> pd.Series:
    """True for the cases that `unit` leads (one of their lead units, 牵头单位)."""
    import pandas as pd

    wanted = unit.strip()
    hits = [wanted in split_units(text) for text in cases["lead_units"]]
    return pd.Series(hits, index=cases.index, dtype=bool)


def report_month(day: dt.date) -> str:
    """The month (``YYYY-MM``) that a report made on `day` reports on.

    Examples
    --------
    >>> report_month(dt.date(2023, 7, 5)), report_month(dt.date(2023, 7, 6))
    ('2023-06', '2023-07')
    >>> report_month(dt.date(2024, 1, 2))
    '2023-12'
    """
    if day.day <= REPORT_DEADLINE_DAY:
        day = day.replace(day=1) - dt.timedelta(days=1)
    return f"{day.year:04d}-{day.month:02d}"


def add_report(
    conn: sqlite3.Connection,
    *,
    month: str,
    kind: str,
    name: str,
    at: dt.datetime,
    who: str,
    source: str,
) -> None:
    """Record, inside the caller's write transaction, that `name` reported for `month`."""
    if kind not in REPORT_KINDS:
        msg = f"unknown kind of reporter {kind!r}; expected one of {', '.join(REPORT_KINDS)}"
        raise ValueError(msg)
    conn.execute(
        "INSERT INTO reports (month, kind, name, at, who, source) VALUES (?, ?, ?, ?, ?, ?)",
        (month, kind, name.strip(), at.isoformat(), who, source),
    )
