"""Who may see and change which case: the desk's authorisation, checked on the server.

- **office** (专项办): every case; every field (assigns units, sets deadlines)
  and the actions 抄告, 督办 and 联合整改.
- **unit** (责任单位): its own cases (:func:`campus_geo.ledger.units.case_units`:
  responsible, enforcing, participating, joint, copied, supervising); it
  verifies, dismisses with a reason, records the rectification, its person,
  notes and photos.
- **township** (乡镇（街道）): the cases of its township; it reads them and
  verifies them (confirmed or dismissed with a reason, notes).
- **viewer** (只读): every case, read-only.

Every request is checked here, whatever the page showed: a case outside the
user's scope is 403, a field the role may not change is 403, and the
workflow (which status may follow which) is the ledger's own
(:func:`campus_geo.ledger.db.change_case`), the same path as the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from campus_geo.desk.users import User
from campus_geo.ledger.db import TRANSITIONS
from campus_geo.ledger.units import UNIT_FIELDS, case_units

__all__ = [
    "ACTIONS_BY_ROLE",
    "FIELDS_BY_ROLE",
    "allowed_fields",
    "allowed_statuses",
    "can_see",
    "may_set_status",
    "scope_sql",
    "unit_sql",
]

#: Editable fields each role may change.
FIELDS_BY_ROLE: Final[dict[str, tuple[str, ...]]] = {
    "office": (
        "status",
        "responsible_unit",
        "responsible_person",
        "deadline",
        "reason",
        "rectification",
        "rectified_on",
        "notes",
    ),
    "unit": ("status", "responsible_person", "reason", "rectification", "rectified_on", "notes"),
    "township": ("status", "reason", "notes"),
    "viewer": (),
}
#: The ledger actions each role may take.
ACTIONS_BY_ROLE: Final[dict[str, tuple[str, ...]]] = {
    "office": ("copy", "escalate", "joint"),
    "unit": (),
    "township": (),
    "viewer": (),
}
_TOWNSHIP_STATUSES: Final = ("confirmed", "dismissed")


def can_see(user: User, case: Mapping[str, Any]) -> bool:
    """Whether `user` may see `case` (a row of the ledger's ``cases``)."""
    if user.role in ("office", "viewer"):
        return True
    if user.role == "unit":
        return user.unit in case_units(case)
    if user.role == "township":
        return str(case.get("township", "")) == user.township
    return False


def allowed_fields(user: User, case: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields `user` may change on `case` (none when the case is not theirs)."""
    return FIELDS_BY_ROLE.get(user.role, ()) if can_see(user, case) else ()


def allowed_statuses(user: User, case: Mapping[str, Any]) -> tuple[str, ...]:
    """The statuses `user` may move `case` to: the ledger's transitions, narrowed by role."""
    if "status" not in allowed_fields(user, case):
        return ()
    nexts = TRANSITIONS[str(case["status"])]
    if user.role == "township":
        return tuple(s for s in nexts if s in _TOWNSHIP_STATUSES)
    return nexts


def unit_sql(unit: str) -> tuple[str, tuple[Any, ...]]:
    """An SQL condition true for the cases that are `unit`'s own (its parameters too).

    The rule of :func:`campus_geo.ledger.units.case_units`, in SQL: `unit` is
    one of the units of a unit field, the units separated by 、 , ， ; ；
    (normalised to 、) with the spaces around them removed. The case page
    checks each case again with :func:`can_see`.
    """
    parts, params = [], []
    wanted = f"、{unit.strip()}、"
    for name in UNIT_FIELDS:
        text = name
        for sep in (",", "，", ";", "；"):
            text = f"replace({text}, '{sep}', '、')"
        normal = f"replace(replace({text}, ' 、', '、'), '、 ', '、')"
        # as written by campus_geo (joined with 、), else normalised first
        parts.append(
            f"instr('、' || {name} || '、', ?) > 0 OR ({name} GLOB '*[,，;； ]*' "
            f"AND instr('、' || {normal} || '、', ?) > 0)"
        )
        params += [wanted, wanted]
    # a cheap test first: only the cases that name the unit at all are looked at
    anywhere = f"instr({' || '.join(UNIT_FIELDS)}, ?) > 0"
    return f"({anywhere} AND ({' OR '.join(parts)}))", (unit.strip(), *params)


def may_set_status(user: User, status: str) -> bool:
    """Whether `user`'s role may ever set `status` (the transition itself is the ledger's rule)."""
    if "status" not in FIELDS_BY_ROLE.get(user.role, ()):
        return False
    return user.role != "township" or status in _TOWNSHIP_STATUSES


def scope_sql(user: User) -> tuple[str, tuple[Any, ...]]:
    """An SQL condition (and its parameters) on ``cases`` for the cases `user` may see."""
    if user.role == "unit":
        return unit_sql(user.unit)
    if user.role == "township":
        return "township = ?", (user.township,)
    return "1", ()
