"""The ``campus-geo ledger`` commands: the rectification ledger (整改工作台帐) on the command line.

Kept apart from cli.py (which registers the group) so that the screening
commands and the ledger commands can grow independently. Errors follow the
rest of the command: exit status 2 with one paragraph, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from campus_geo.cli.common import friendly
from campus_geo.settings import DEFAULT_LEDGER

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ledger", "run_demo_story", "sync_screening"]

F = TypeVar("F", bound=Callable[..., Any])

_LIST_COLUMNS = {
    "status": "状态",
    "days_overdue": "逾期天数",
    "township": "乡镇",
    "school_name": "学校",
    "hazard_name": "场所",
    "category": "类别",
    "responsible_unit": "责任单位",
    "responsible_person": "责任人",
    "deadline": "整改时限",
}

_SHOW_FIELDS = {
    "lead_unit": "牵头单位 lead",
    "responsible_unit": "责任单位 unit",
    "responsible_person": "责任人 person",
    "deadline": "整改时限 deadline",
    "reason": "原因 reason",
    "rectification": "整改措施 how",
    "rectified_on": "整改完成 on",
    "notes": "备注 notes",
    "opened_on": "立案日期 opened",
}


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


def _guarded(func: F) -> F:
    """Exit status 2 with one paragraph on campus_geo errors, as every campus-geo command."""
    return friendly(func)


def _ledger_option(func: F) -> F:
    option = click.option(
        "--ledger",
        "ledger_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=DEFAULT_LEDGER,
        envvar="CAMPUS_GEO_LEDGER",
        show_default=True,
        help="The ledger file (SQLite; also from $CAMPUS_GEO_LEDGER).",
    )
    return option(func)  # type: ignore[no-any-return]


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    from campus_geo.ledger.db import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from exc


_TODAY = click.option(
    "--today",
    callback=_date,
    metavar="DATE",
    help="Judge overdue on this date (default: today), e.g. to redo a report.",
)
_WHO = click.option("--who", default=None, help="Name in the history (default: login name).")


@click.group()
def ledger() -> None:
    """The rectification ledger (整改工作台帐): every finding followed until it is closed.

    \b
    Examples:
      campus-geo ledger sync --findings out/findings.gpkg --input district.osm
      campus-geo ledger list --overdue
      campus-geo ledger set 1b62c770 --status 已确认 --person 杨磊
      campus-geo ledger export 台帐.xlsx        # to the townships, then back:
      campus-geo ledger import 台帐_已填.xlsx
      campus-geo ledger monthly --month 2023-06 --out reports

    Statuses: 待核查 pending -> 已确认 confirmed | 误报 dismissed (reason) ->
    整改中 in progress -> 已整改 rectified (how, date); 复查已消除 resolved in
    data is set by a screening; 逾期 overdue follows from the deadline.
    """


def _deadline_days(specs: tuple[str, ...]) -> dict[str, int]:
    days = {}
    for spec in specs:
        severity, _, value = spec.partition("=")
        if not value.strip().isdigit():
            raise click.BadParameter(
                f"{spec!r}: expected SEVERITY=DAYS, e.g. prohibited=30",
                param_hint="--deadline-days",
            )
        days[severity.strip()] = int(value)
    return days


@ledger.command()
@click.option(
    "--findings",
    "findings_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="findings.gpkg or findings.csv written by campus-geo screen.",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file the screening read (OSM, registry, rules): its SHA-256 is kept with the run. "
    "Repeatable.",
)
@click.option(
    "--partial",
    is_flag=True,
    help="The screening covered only part of the area or of the hazard layers: close no case.",
)
@click.option(
    "--deadline-days",
    multiple=True,
    metavar="SEVERITY=DAYS",
    help="Days to the default deadline, e.g. prohibited=15 (defaults: prohibited=30, "
    "risk=60, notice=60). Repeatable.",
)
@_WHO
@_ledger_option
@_guarded
def sync(
    findings_file: Path,
    inputs: tuple[Path, ...],
    partial: bool,
    deadline_days: tuple[str, ...],
    who: str | None,
    ledger_path: Path,
) -> None:
    """Open, close and reopen cases from a screening's findings.

    New findings open cases (待核查) with the rule's lead unit and a default
    deadline; open cases whose finding is gone close as 复查已消除; rectified
    cases still found are reopened and flagged. The same findings twice
    change nothing.
    """
    from campus_geo.ledger.cases import sync_findings

    days = _deadline_days(deadline_days)
    result = sync_findings(
        ledger_path,
        findings_file,
        inputs=inputs,
        partial=partial,
        deadline_days=days,
        who=who,
    )
    click.echo(result.summary())
    click.echo(f"Ledger: {ledger_path}")


@ledger.command(name="list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Only this status (code or label, e.g. 整改中 or in_progress). Repeatable.",
)
@click.option("--overdue", is_flag=True, help="Only overdue cases (逾期).")
@click.option("--township", default=None, help="Only cases of this township (乡镇/街道).")
@click.option("--unit", default=None, help="Only cases of this responsible or lead unit.")
@_TODAY
@_ledger_option
@_guarded
def list_cases(
    statuses: tuple[str, ...],
    overdue: bool,
    township: str | None,
    unit: str | None,
    today: dt.date | None,
    ledger_path: Path,
) -> None:
    """List cases: id, status, days overdue, township, school, hazard, unit, deadline."""
    import pandas as pd

    from campus_geo.ledger.cases import read_cases
    from campus_geo.ledger.db import STATUS_LABELS
    from campus_geo.settings import CATEGORY_LABELS

    cases = read_cases(ledger_path, today=today, statuses=statuses or None, overdue_only=overdue)
    if township:
        cases = cases[cases["township"] == township]
    if unit:
        cases = cases[(cases["responsible_unit"] == unit) | (cases["lead_unit"] == unit)]
    click.echo(f"{len(cases)} cases, {int(cases['overdue'].sum())} overdue.")
    if cases.empty:
        return
    table = cases[list(_LIST_COLUMNS)].copy()
    table["status"] = [STATUS_LABELS[s][0] for s in table["status"]]
    table["category"] = [CATEGORY_LABELS.get(c, (c, c))[0] for c in table["category"]]
    table["days_overdue"] = [str(d) if d else "" for d in table["days_overdue"]]
    table = table.fillna("").rename(columns=_LIST_COLUMNS)
    table.index.name = "问题编号"
    with pd.option_context(
        "display.unicode.east_asian_width", True, "display.max_rows", None, "display.width", 250
    ):
        click.echo(table.to_string())


@ledger.command()
@click.argument("case_id")
@_TODAY
@_ledger_option
@_guarded
def show(case_id: str, today: dt.date | None, ledger_path: Path) -> None:
    """Show one case (id or a unique prefix of 6+ characters) with its history."""
    import pandas as pd

    from campus_geo.ledger.cases import read_cases, read_history
    from campus_geo.ledger.db import FLAG_LABELS, STATUS_LABELS

    history = read_history(ledger_path, case_id)
    fid = str(history["finding_id"].iloc[0])
    case = read_cases(ledger_path, today=today).loc[fid].to_dict()
    status = STATUS_LABELS[str(case["status"])][0]
    if case["overdue"]:
        status += f"（逾期 {case['days_overdue']} 天）"
    rows = [
        ("问题编号 case", fid),
        (
            "学校 school",
            f"{case['school_name']} ({case['school_id']}), {case['township']} {case['village']}",
        ),
        (
            "场所 hazard",
            f"{case['hazard_name']} ({case['hazard_id']}), {case['category']}, "
            f"{case['distance_m']:.1f} m (limit {case['threshold_m']:g} m, rule {case['rule_id']})",
        ),
        ("状态 status", status + (f"  [{FLAG_LABELS[case['flag']][0]}]" if case["flag"] else "")),
    ]
    rows += [
        (label, str(case[field]))
        for field, label in _SHOW_FIELDS.items()
        if pd.notna(case[field]) and case[field] != ""
    ]
    lines = [f"{_pad(label, 20)}{value}" for label, value in rows]
    lines.append("变更记录 history:")
    for h in history.to_dict("records"):
        old = "" if pd.isna(h["old"]) else h["old"]
        lines.append(
            f"  {h['at']}  {h['who']}  {h['field']}: {old} -> {h['new']}"
            + (f"  ({h['why']})" if h["why"] else "")
            + f"  [{h['source']}]"
        )
    click.echo("\n".join(lines))


@ledger.command(name="set")
@click.argument("case_id")
@click.option("--status", default=None, help="New status: a code or label (已确认, confirmed ...).")
@click.option("--unit", "responsible_unit", default=None, help="Responsible unit (责任单位).")
@click.option("--person", "responsible_person", default=None, help="Responsible person (责任人).")
@click.option("--deadline", default=None, metavar="DATE", help="Deadline (整改时限).")
@click.option("--reason", default=None, help="Reason of a dismissal or reopening (required then).")
@click.option("--how", "rectification", default=None, help="How it was rectified (整改措施).")
@click.option("--on", "rectified_on", default=None, metavar="DATE", help="Rectified on (date).")
@click.option("--notes", default=None, help="Notes (备注).")
@click.option("--why", default="", help="Why, for the history (default: the reason).")
@_WHO
@_ledger_option
@_guarded
def set_(
    case_id: str,
    status: str | None,
    responsible_unit: str | None,
    responsible_person: str | None,
    deadline: str | None,
    reason: str | None,
    rectification: str | None,
    rectified_on: str | None,
    notes: str | None,
    why: str,
    who: str | None,
    ledger_path: Path,
) -> None:
    """Change a case; illegal status changes are refused with the allowed ones."""
    import pandas as pd

    from campus_geo.ledger.cases import read_history, set_case
    from campus_geo.ledger.db import STATUS_LABELS

    before = read_history(ledger_path, case_id)
    after = set_case(
        ledger_path,
        case_id,
        status=status,
        responsible_unit=responsible_unit,
        responsible_person=responsible_person,
        deadline=deadline,
        reason=reason,
        rectification=rectification,
        rectified_on=rectified_on,
        notes=notes,
        why=why,
        who=who,
    )
    changes = read_history(ledger_path, case_id).iloc[len(before) :]
    if changes.empty:
        click.echo(f"Case {after['finding_id']}: nothing changed.")
        return
    click.echo(f"Case {after['finding_id']} ({STATUS_LABELS[after['status']][0]}):")
    for h in changes.to_dict("records"):
        old = "" if pd.isna(h["old"]) else h["old"]
        click.echo(f"  {h['field']}: {old} -> {h['new']}")


@ledger.command(name="export")
@click.argument("filepath", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--township",
    "townships",
    multiple=True,
    help="Only the cases of this township (a file per township office). Repeatable.",
)
@_TODAY
@_ledger_option
@_guarded
def export_(
    filepath: Path,
    lang: str,
    townships: tuple[str, ...],
    today: dt.date | None,
    ledger_path: Path,
) -> None:
    """Write the ledger as an xlsx 台帐 (drop-down statuses, history sheet) to fill in."""
    from campus_geo.ledger.cases import export_ledger, read_cases

    path = export_ledger(ledger_path, filepath, lang=lang, today=today, townships=townships or None)
    cases = read_cases(ledger_path, today=today)
    if townships:
        cases = cases[cases["township"].isin(townships)]
    click.echo(f"Wrote {path}: {len(cases)} cases, {int(cases['overdue'].sum())} overdue.")


@ledger.command(name="import")
@click.argument("filepath", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--on-conflict",
    type=click.Choice(["skip", "abort"]),
    default="skip",
    show_default=True,
    help="Rows edited both in the file and in the ledger since the export: skip them "
    "(reported) and apply the rest, or abort the whole import.",
)
@_WHO
@_ledger_option
@_guarded
def import_(filepath: Path, on_conflict: str, who: str | None, ledger_path: Path) -> None:
    """Read an edited export back: every row checked, all applied or none."""
    from campus_geo.ledger.cases import import_ledger

    result = import_ledger(ledger_path, filepath, who=who, on_conflict=on_conflict)
    click.echo(result.summary())


@ledger.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="The month, e.g. 2023-06.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(),
    show_default=True,
    help="Folder for monthly_YYYY-MM.xlsx and .html.",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@_TODAY
@_ledger_option
@_guarded
def monthly(month: str, out: Path, lang: str, today: dt.date | None, ledger_path: Path) -> None:
    """The monthly report (due by the 5th): opened, closed, overdue by unit and township."""
    from campus_geo.ledger.cases import monthly_report, save_monthly_report

    report = monthly_report(ledger_path, month, today=today, lang=lang)
    written = save_monthly_report(report, out, lang=lang)
    t = report.totals
    click.echo(
        f"{report.month} (as of {report.as_of}): {t['opened']} opened, {t['reopened']} reopened, "
        f"{t['closed']} closed, {t['open']} open, {t['overdue']} overdue."
    )
    click.echo("Wrote:")
    for path in written.values():
        click.echo(f"  {path}")


def sync_screening(ledger_path: Path, findings: Any, inputs: list[Path]) -> pd.Series:
    """``campus-geo screen --ledger FILE``: sync the findings, echo what changed, return statuses."""
    from campus_geo.ledger.cases import status_by_finding, sync_findings

    result = sync_findings(ledger_path, findings, inputs=[p for p in inputs if p.is_file()])
    click.echo(f"{result.summary()} Ledger: {ledger_path}")
    return status_by_finding(ledger_path)


def run_demo_story(out: Path, layers: Any, osm: Path) -> None:
    """``campus-geo demo``: the two-month ledger story into OUT/ledger.sqlite, with its reports."""
    from campus_geo.demo.story import run_ledger_story, save_story_map

    story = run_ledger_story(out, layers=layers, osm=osm, overwrite=True)
    july_map = save_story_map(story, layers, out / "ledger_map.html")
    click.echo(story.summary())
    click.echo("Wrote:")
    for key in ("ledger", "ledger_xlsx", "monthly_2023-06_html", "monthly_2023-07_html"):
        click.echo(f"  {story.files[key]}")
    click.echo(f"  {july_map}")
