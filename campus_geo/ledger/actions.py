"""抄告, 督办 and 联合整改: the campaign's actions on a case that one unit cannot fix at once.

- **抄告** (:func:`copy_case`): the case is copied to other units (a township
  government, another bureau) so that they act on it too; they are added
  to ``copied_to``.
- **督办** (:func:`escalate_case`): a supervising unit (督办单位, e.g. 区委政法委)
  takes the case up with a new deadline: ``supervisor``, ``supervised_on``
  and ``deadline`` change.
- **联合整改** (:func:`joint_case`): a joint rectification names its lead unit
  (the case's responsible unit from then on) and its participating units
  (``joint_units``).

Each action goes through the same checked change as
:func:`campus_geo.ledger.set_case` (:func:`campus_geo.ledger.db.change_case`),
writes one history row per changed field with who, when, why and the
action as its source (``copy``, ``escalate``, ``joint``), and applies to an
open case only. The units an action names make the case theirs
(``ledger list --unit``). :func:`describe_actions` is the short text the
lists, the 台帐 and the monthly report show, and :func:`actions_layer` marks
the cases on a hazard map.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from campus_geo._errors import LedgerError
from campus_geo.ledger.db import (
    OPEN_STATUSES,
    STATUS_LABELS,
    as_of,
    change_case,
    connect,
    default_who,
    parse_date,
    write_transaction,
)
from campus_geo.ledger.units import join_units, split_units

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACTION_LABELS",
    "actions_layer",
    "copy_case",
    "describe_actions",
    "escalate_case",
    "joint_case",
]

log = logging.getLogger(__name__)

#: The actions (source in the history: Chinese, English, marker colour on maps).
ACTION_LABELS: Final[dict[str, tuple[str, str, str]]] = {
    "escalate": ("督办", "supervised", "#67000d"),
    "copy": ("抄告", "copied", "#2171b5"),
    "joint": ("联合整改", "joint rectification", "#6a51a3"),
}


def _open_only(action: str) -> Callable[[Mapping[str, Any]], list[str]]:
    def check(case: Mapping[str, Any]) -> list[str]:
        if case["status"] in OPEN_STATUSES:
            return []
        zh, en = STATUS_LABELS[case["status"]]
        return [
            f"{ACTION_LABELS[action][0]} ({ACTION_LABELS[action][1]}) applies to open cases; "
            f"this one is {zh} {en}: reopen it first with `campus-geo ledger set --status`"
        ]

    return check


def _act(
    ledger_path: str | Path,
    finding_id: str,
    changes: Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]],
    *,
    action: str,
    why: str,
    who: str | None,
    now: dt.datetime | None,
    extra: Iterable[str] = (),
    expected_version: int | None = None,
) -> dict[str, Any]:
    at, who = as_of(now), who or default_who()
    problems = list(extra)
    with connect(ledger_path, check=True) as conn, write_transaction(conn):
        after = change_case(
            conn,
            finding_id,
            changes,
            at=at,
            who=who,
            why=why.strip() or ACTION_LABELS[action][0],
            source=action,
            also_check=lambda case: problems + _open_only(action)(case),
            expected_version=expected_version,
        )
    log.info("case %s: %s by %s", after["finding_id"], action, who)
    return after


def _units_given(units: str | Iterable[str], what: str) -> list[str]:
    names = split_units(units) if isinstance(units, str) else split_units("、".join(units))
    if not names:
        msg = f"{what}: name at least one unit (e.g. 区城市管理局)"
        raise LedgerError(msg)
    return names


def copy_case(
    ledger_path: str | Path,
    finding_id: str,
    units: str | Iterable[str],
    *,
    why: str = "",
    who: str | None = None,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """抄告: copy a case to other units (added to ``copied_to``); they act on it too.

    Parameters
    ----------
    ledger_path
        The ledger file.
    finding_id
        The case id, or a unique prefix of at least 6 characters.
    units
        The units (a list, or one text with units separated by 、).
    why
        Why, for the history (default: 抄告).
    who
        Recorded in the history (default: the login name).
    now
        Time of the action (default: now).
    expected_version
        The case's ``version`` the person saw: a case changed since is refused.

    Returns
    -------
    dict
        The case after the action (unchanged when every unit had it already).

    Raises
    ------
    LedgerError
        Unknown case, a closed case, no unit given; nothing is changed then
        (:class:`~campus_geo._errors.ConflictError`: changed since `expected_version`).
    """
    names = _units_given(units, "抄告 (copy)")

    def added(case: Mapping[str, Any]) -> dict[str, Any]:
        return {"copied_to": join_units([*split_units(case["copied_to"]), *names])}

    return _act(
        ledger_path,
        finding_id,
        added,
        action="copy",
        why=why,
        who=who,
        now=now,
        expected_version=expected_version,
    )


def escalate_case(
    ledger_path: str | Path,
    finding_id: str,
    *,
    supervisor: str,
    deadline: dt.date | str,
    why: str = "",
    who: str | None = None,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """督办: a supervising unit takes up a case with a new deadline.

    Parameters
    ----------
    ledger_path
        The ledger file.
    finding_id
        The case id, or a unique prefix of at least 6 characters.
    supervisor
        The supervising unit (督办单位).
    deadline
        The new deadline (整改时限): today or later.
    why
        Why, for the history (default: 督办).
    who
        Recorded in the history (default: the login name).
    now
        Time of the action (default: now): ``supervised_on`` is its date.
    expected_version
        The case's ``version`` the person saw: a case changed since is refused.

    Returns
    -------
    dict
        The case after the action.

    Raises
    ------
    LedgerError
        Unknown case, a closed case, no supervising unit, a deadline before
        today; nothing is changed then.
    """
    at = as_of(now)
    problems = []
    try:
        day = parse_date(deadline)
    except ValueError as exc:
        raise LedgerError(f"督办 (escalate) deadline: {exc}") from exc
    if day is None:
        problems.append("督办 (escalate) needs a new deadline (整改时限)")
    elif day < at.date():
        problems.append(f"the new deadline {day} of 督办 is before today ({at.date()})")
    if not supervisor.strip():
        problems.append("督办 (escalate) needs the supervising unit (督办单位)")
    changes = {
        "supervisor": supervisor.strip(),
        "supervised_on": at.date().isoformat(),
        "deadline": day.isoformat() if day else None,
    }
    return _act(
        ledger_path,
        finding_id,
        changes,
        action="escalate",
        why=why,
        who=who,
        now=at,
        extra=problems,
        expected_version=expected_version,
    )


def joint_case(
    ledger_path: str | Path,
    finding_id: str,
    *,
    lead: str,
    participants: str | Iterable[str],
    why: str = "",
    who: str | None = None,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """联合整改: name the lead unit and the participating units of a joint rectification.

    The lead becomes the case's responsible unit (责任单位); the participants
    replace its ``joint_units``.

    Parameters
    ----------
    ledger_path
        The ledger file.
    finding_id
        The case id, or a unique prefix of at least 6 characters.
    lead
        The unit that leads the joint rectification.
    participants
        The other units (a list, or one text with units separated by 、).
    why
        Why, for the history (default: 联合整改).
    who
        Recorded in the history (default: the login name).
    now
        Time of the action (default: now).
    expected_version
        The case's ``version`` the person saw: a case changed since is refused.

    Returns
    -------
    dict
        The case after the action.

    Raises
    ------
    LedgerError
        Unknown case, a closed case, no lead or no participant, the lead among
        the participants; nothing is changed then.
    """
    names = _units_given(participants, "联合整改 (joint rectification) participants")
    problems = []
    if not lead.strip():
        problems.append("联合整改 (joint rectification) needs its lead unit")
    elif lead.strip() in names:
        problems.append(f"the lead unit {lead.strip()} is also named among the participants")
    changes = {"responsible_unit": lead.strip(), "joint_units": join_units(names)}
    return _act(
        ledger_path,
        finding_id,
        changes,
        action="joint",
        why=why,
        who=who,
        now=now,
        extra=problems,
        expected_version=expected_version,
    )


def describe_actions(case: Mapping[Any, Any], lang: str = "zh") -> str:
    """The actions in force on a case, in a few words ('' when none).

    Examples
    --------
    >>> describe_actions({"supervisor": "区委政法委", "supervised_on": "2023-07-12",
    ...     "copied_to": "杏花乡人民政府", "joint_units": "", "responsible_unit": "区水利局"})
    '督办：区委政法委（2023-07-12）；抄告：杏花乡人民政府'
    """
    zh = lang == "zh"
    parts = []

    def text(key: str) -> str:
        value = case.get(key)
        return (
            "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        )

    if text("supervisor"):
        label = "督办" if zh else "supervised by"
        parts.append(f"{label}{'：' if zh else ' '}{text('supervisor')}（{text('supervised_on')}）")
    if text("copied_to"):
        parts.append(f"{'抄告：' if zh else 'copied to '}{text('copied_to')}")
    if text("joint_units"):
        lead = text("responsible_unit")
        parts.append(
            f"联合整改：{lead}牵头，{text('joint_units')}参与"
            if zh
            else f"joint rectification: {lead} leads, with {text('joint_units')}"
        )
    return ("；" if zh else "; ").join(parts)


def actions_layer(
    cases: pd.DataFrame, findings: pd.DataFrame, *, lang: str = "zh", show: bool = True
) -> Any:
    """A folium FeatureGroup marking the open cases under 督办, 抄告 or 联合整改.

    Parameters
    ----------
    cases
        Cases as :func:`campus_geo.ledger.read_cases` gives them.
    findings
        The screened findings drawn on the map (index ``finding_id``, columns
        ``hazard_lon``/``hazard_lat`` in EPSG:4326 as :func:`campus_geo.screen.screen`
        gives them): each marked case is drawn at its venue.
    lang
        ``zh`` (default) or ``en`` for the layer's name and the tooltips.
    show
        Drawn when the map opens.

    Returns
    -------
    folium.FeatureGroup
        Circle markers (plain Leaflet, no external asset: the offline pages
        accept it), one per case, coloured by the first action of
        :data:`ACTION_LABELS` in force; every tooltip escaped and inert. Add it
        with ``hazard_map(..., extra_layers=[...])``.
    """
    import folium

    from campus_geo.maps.view import layer_label

    zh = lang == "zh"
    group = folium.FeatureGroup(
        name="督办、抄告、联合整改" if zh else "Supervised, copied, joint", show=show
    )
    marked = cases[
        cases["status"].isin(OPEN_STATUSES)
        & ((cases["supervisor"] != "") | (cases["copied_to"] != "") | (cases["joint_units"] != ""))
    ]
    marked = marked[marked.index.isin(findings.index)]
    venues = findings[["hazard_lat", "hazard_lon"]].to_dict("index")
    for fid, case in marked.to_dict("index").items():
        kind = next(
            k
            for k, field in (
                ("escalate", "supervisor"),
                ("copy", "copied_to"),
                ("joint", "joint_units"),
            )
            if case[field]
        )
        zh_label, en_label, colour = ACTION_LABELS[kind]
        where = venues[fid]
        label = f"{case['hazard_name']}（{case['school_name']}）：" + describe_actions(case, lang)
        folium.CircleMarker(
            location=[float(where["hazard_lat"]), float(where["hazard_lon"])],
            radius=11,
            color=colour,
            weight=3,
            fill=False,
            tooltip=layer_label(label),
        ).add_to(group)
        log.debug("case %s marked %s", fid, zh_label if zh else en_label)
    return group
