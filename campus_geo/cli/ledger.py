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

__all__ = [
    "import_checklist_cases",
    "ledger",
    "run_demo_story",
    "sync_analysis_problems",
    "sync_screening",
]

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
    "actions": "督办/抄告/联合",
}

_SHOW_FIELDS = {
    "lead_units": "牵头单位 lead",
    "enforcing_unit": "执法单位 enforces",
    "participating_units": "配合单位 with",
    "responsible_unit": "责任单位 unit",
    "responsible_person": "责任人 person",
    "deadline": "整改时限 deadline",
    "reason": "原因 reason",
    "rectification": "整改措施 how",
    "rectified_on": "整改完成 on",
    "notes": "备注 notes",
    "actions": "督办/抄告 actions",
    "absent_since": "未再发现 absent",
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
      campus-geo ledger sync --findings out/findings.gpkg --input district.osm --dry-run
      campus-geo ledger list --overdue --unit 区市场监督管理局
      campus-geo ledger set 1b62c770 --status 已确认 --person 杨磊
      campus-geo ledger copy 1b62c770 --to 杏花乡人民政府           # 抄告
      campus-geo ledger escalate 1b62c770 --by 区委政法委 --deadline 2023-08-15  # 督办
      campus-geo ledger joint 1b62c770 --lead 区市场监督管理局 --with 区公安局
      campus-geo ledger export 台帐.xlsx --unit 区城市管理局   # to a unit, then back:
      campus-geo ledger import 台帐_已填.xlsx --unit 区城市管理局
      campus-geo ledger monthly --month 2023-06 --out reports
      campus-geo ledger checklist --schools 五个百分之百.xlsx --water 重点水域检查.xlsx

    Statuses: 待核查 pending -> 已确认 confirmed | 误报 dismissed (reason) ->
    整改中 in progress -> 已整改 rectified (how, date); 复查已消除 resolved in
    data is set by a screening for a case not yet verified; 逾期 overdue
    follows from the deadline. A case belongs to its enforcing unit (执法单位)
    and the units named with it: see `campus-geo ledger list --help`.
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
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what the sync would open, close and reopen, and how the screening settings "
    "differ from the last sync's; change nothing.",
)
@click.option(
    "--accept-changed-settings",
    is_flag=True,
    help="Sync even though the screening settings (rules, profile, distances, input files) "
    "differ from the last sync's.",
)
@click.option(
    "--yes",
    "confirm_closing",
    is_flag=True,
    help="Sync even though it closes more than a fifth of the open cases.",
)
@_WHO
@_ledger_option
@_guarded
def sync(
    findings_file: Path,
    inputs: tuple[Path, ...],
    partial: bool,
    deadline_days: tuple[str, ...],
    dry_run: bool,
    accept_changed_settings: bool,
    confirm_closing: bool,
    who: str | None,
    ledger_path: Path,
) -> None:
    """Open, close and reopen cases from a screening's findings.

    New findings open cases (待核查) assigned to the unit that enforces their
    category (执法单位) with a default deadline; cases not yet verified whose
    finding is gone close as 复查已消除, cases being handled (已确认, 整改中)
    stay open with a note; rectified cases still found are reopened and
    flagged. The same findings twice change nothing. A sync whose screening
    settings differ from the last sync's, or that closes more than a fifth of
    the open cases, is refused until confirmed; --dry-run shows it first.
    """
    from campus_geo.ledger.cases import sync_findings

    days = _deadline_days(deadline_days)
    result = sync_findings(
        ledger_path,
        findings_file,
        inputs=inputs,
        partial=partial,
        deadline_days=days,
        dry_run=dry_run,
        accept_changed_settings=accept_changed_settings,
        confirm_closing=confirm_closing,
        who=who,
    )
    click.echo(result.summary())
    if dry_run and result.closes_too_many:
        click.echo("It closes more than a fifth of the open cases: a sync needs --yes.")
    click.echo(f"Ledger: {ledger_path}")


_UNIT_HELP = (
    "Only the cases of this unit: those it is responsible for (责任单位), enforces (执法单位), "
    "takes part in (配合单位, 联合整改), was copied (抄告) or supervises (督办)."
)


def _no_unit_hint(ledger_path: Path, unit: str) -> str:
    """'' when `unit` has cases in the ledger, else a line naming the ledger's units."""
    from campus_geo.ledger.cases import read_cases
    from campus_geo.ledger.units import UNIT_FIELDS, case_units

    cases = read_cases(ledger_path)
    units = sorted({u for c in cases[list(UNIT_FIELDS)].to_dict("records") for u in case_units(c)})
    if unit in units:
        return ""
    return f"No case of {unit} in the ledger; its units: {'、'.join(units) or 'none'}."


@ledger.command(name="list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Only this status (code or label, e.g. 整改中 or in_progress). Repeatable.",
)
@click.option("--overdue", is_flag=True, help="Only overdue cases (逾期).")
@click.option("--township", default=None, help="Only cases of this township (乡镇/街道).")
@click.option("--unit", default=None, help=_UNIT_HELP)
@click.option("--lead", default=None, help="Only the cases this unit leads (牵头单位).")
@_TODAY
@_ledger_option
@_guarded
def list_cases(
    statuses: tuple[str, ...],
    overdue: bool,
    township: str | None,
    unit: str | None,
    lead: str | None,
    today: dt.date | None,
    ledger_path: Path,
) -> None:
    """List cases: id, status, days overdue, township, school, hazard, unit, deadline, actions."""
    import pandas as pd

    from campus_geo.ledger.cases import describe_actions, read_cases
    from campus_geo.ledger.db import STATUS_LABELS
    from campus_geo.ledger.labels import read_category_labels

    cases = read_cases(
        ledger_path,
        today=today,
        statuses=statuses or None,
        overdue_only=overdue,
        unit=unit,
        lead=lead,
    )
    if township:
        cases = cases[cases["township"] == township]
    click.echo(f"{len(cases)} cases, {int(cases['overdue'].sum())} overdue.")
    if unit and cases.empty and (hint := _no_unit_hint(ledger_path, unit)):
        click.echo(hint)
    if cases.empty:
        return
    cases = cases.assign(actions=[describe_actions(c) for c in cases.to_dict("records")])
    table = cases[list(_LIST_COLUMNS)].copy()
    table["status"] = [STATUS_LABELS[s][0] for s in table["status"]]
    names = read_category_labels(ledger_path)  # a user's own categories too
    table["category"] = [names.get(c, (c, c))[0] for c in table["category"]]
    table["days_overdue"] = [str(d) if d else "" for d in table["days_overdue"]]
    table = table.fillna("").rename(columns=_LIST_COLUMNS)
    table.index.name = "问题编号"
    with pd.option_context(
        "display.unicode.east_asian_width", True, "display.max_rows", None, "display.width", 300
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

    from campus_geo.ledger.cases import describe_actions, read_cases, read_history
    from campus_geo.ledger.db import FLAG_LABELS, STATUS_LABELS

    history = read_history(ledger_path, case_id)
    fid = str(history["finding_id"].iloc[0])
    case = read_cases(ledger_path, today=today).loc[fid].to_dict()
    case["actions"] = describe_actions(case)
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
    from campus_geo.ledger.cases import read_history, set_case

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
    _echo_changes(ledger_path, case_id, len(before), after)


def _echo_changes(ledger_path: Path, case_id: str, known: int, after: dict[str, Any]) -> None:
    """The history rows written since the case had `known` of them."""
    import pandas as pd

    from campus_geo.ledger.cases import read_history
    from campus_geo.ledger.db import STATUS_LABELS

    changes = read_history(ledger_path, case_id).iloc[known:]
    if changes.empty:
        click.echo(f"Case {after['finding_id']}: nothing changed.")
        return
    click.echo(f"Case {after['finding_id']} ({STATUS_LABELS[after['status']][0]}):")
    for h in changes.to_dict("records"):
        old = "" if pd.isna(h["old"]) else h["old"]
        click.echo(f"  {h['field']}: {old} -> {h['new']}  [{h['source']}, {h['who']}]")


def _act(ledger_path: Path, case_id: str, action: Callable[[], dict[str, Any]]) -> None:
    from campus_geo.ledger.cases import read_history

    before = read_history(ledger_path, case_id)
    _echo_changes(ledger_path, case_id, len(before), action())


_WHY = click.option("--why", default="", help="Why, for the history.")


@ledger.command(name="copy")
@click.argument("case_id")
@click.option(
    "--to",
    "units",
    multiple=True,
    required=True,
    help="The unit the case is copied to (抄告), e.g. 杏花乡人民政府. Repeatable.",
)
@_WHY
@_WHO
@_ledger_option
@_guarded
def copy_(
    case_id: str, units: tuple[str, ...], why: str, who: str | None, ledger_path: Path
) -> None:
    """抄告: copy an open case to other units; it becomes theirs too (ledger list --unit)."""
    from campus_geo.ledger.cases import copy_case

    _act(ledger_path, case_id, lambda: copy_case(ledger_path, case_id, units, why=why, who=who))


@ledger.command()
@click.argument("case_id")
@click.option("--by", "supervisor", required=True, help="The supervising unit (督办单位).")
@click.option("--deadline", required=True, metavar="DATE", help="The new deadline (整改时限).")
@_WHY
@_WHO
@_ledger_option
@_guarded
def escalate(
    case_id: str, supervisor: str, deadline: str, why: str, who: str | None, ledger_path: Path
) -> None:
    """督办: a supervising unit takes up an open case with a new deadline."""
    from campus_geo.ledger.cases import escalate_case

    _act(
        ledger_path,
        case_id,
        lambda: escalate_case(
            ledger_path, case_id, supervisor=supervisor, deadline=deadline, why=why, who=who
        ),
    )


@ledger.command()
@click.argument("case_id")
@click.option("--lead", required=True, help="The unit that leads the joint rectification.")
@click.option(
    "--with",
    "participants",
    multiple=True,
    required=True,
    help="A participating unit of the joint rectification. Repeatable.",
)
@_WHY
@_WHO
@_ledger_option
@_guarded
def joint(
    case_id: str,
    lead: str,
    participants: tuple[str, ...],
    why: str,
    who: str | None,
    ledger_path: Path,
) -> None:
    """联合整改: a joint rectification: the lead becomes the responsible unit, with the others."""
    from campus_geo.ledger.cases import joint_case

    _act(
        ledger_path,
        case_id,
        lambda: joint_case(
            ledger_path, case_id, lead=lead, participants=participants, why=why, who=who
        ),
    )


@ledger.command(name="export")
@click.argument("filepath", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--township",
    "townships",
    multiple=True,
    help="Only the cases of this township (a file per township office). Repeatable.",
)
@click.option("--unit", default=None, help=_UNIT_HELP + " A file per unit.")
@_TODAY
@_ledger_option
@_guarded
def export_(
    filepath: Path,
    lang: str,
    townships: tuple[str, ...],
    unit: str | None,
    today: dt.date | None,
    ledger_path: Path,
) -> None:
    """Write the ledger as an xlsx 台帐 (drop-down statuses, history sheet) to fill in."""
    from campus_geo.ledger.cases import export_ledger, read_cases

    path = export_ledger(
        ledger_path, filepath, lang=lang, today=today, townships=townships or None, unit=unit
    )
    cases = read_cases(ledger_path, today=today, unit=unit)
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
@click.option(
    "--unit",
    default=None,
    help="The unit whose monthly report this file is (default: the unit it was exported for, "
    "else --who when it names a unit of the ledger).",
)
@click.option(
    "--township",
    default=None,
    help="The township whose monthly report this file is (default: the township(s) it was "
    "exported for, else --who when it names one).",
)
@click.option(
    "--month",
    default=None,
    metavar="YYYY-MM",
    help="The month reported on (default: last month on the 1st to the 5th, else this month).",
)
@_WHO
@_ledger_option
@_guarded
def import_(
    filepath: Path,
    on_conflict: str,
    unit: str | None,
    township: str | None,
    month: str | None,
    who: str | None,
    ledger_path: Path,
) -> None:
    """Read an edited export back: every row checked, all applied or none.

    A row may take a case from 待核查 to 已整改 in one visit when it gives how
    (整改措施) and when (整改完成日期) it was rectified. The import counts as the
    monthly report (报送) of the unit or township it comes from.
    """
    from campus_geo.ledger.cases import import_ledger

    result = import_ledger(
        ledger_path,
        filepath,
        who=who,
        on_conflict=on_conflict,
        unit=unit,
        township=township,
        month=month,
    )
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
@click.option("--unit", default=None, help="Only this unit's own cases. " + _UNIT_HELP)
@_TODAY
@_ledger_option
@_guarded
def monthly(
    month: str, out: Path, lang: str, unit: str | None, today: dt.date | None, ledger_path: Path
) -> None:
    """The monthly report (due by the 5th): by responsible unit, lead unit and township.

    Opened, closed, open and overdue cases, the month's 督办, 抄告 and 联合整改, and
    which units and townships have reported (an import counts as a report).
    """
    from campus_geo.ledger.cases import monthly_report, save_monthly_report

    report = monthly_report(ledger_path, month, today=today, lang=lang, unit=unit)
    written = save_monthly_report(report, out, lang=lang)
    t, a = report.totals, report.action_counts
    click.echo(
        f"{report.month} (as of {report.as_of}){f' for {unit}' if unit else ''}: {t['opened']} "
        f"opened, {t['reopened']} reopened, {t['closed']} closed, {t['open']} open, "
        f"{t['overdue']} overdue; {a['escalate']} supervised (督办), {a['copy']} copied (抄告), "
        f"{a['joint']} joint."
    )
    for kind, title in (("unit", "Units"), ("township", "Townships")):
        done = report.reporters(kind, reported=True)
        missing = report.reporters(kind, reported=False)
        click.echo(
            f"{title} reported: {len(done)} of {len(done) + len(missing)}"
            + (f" ({'、'.join(done)})" if done else "")
            + (f"; not yet: {'、'.join(missing)}" if missing else "")
            + "."
        )
    click.echo("Wrote:")
    for path in written.values():
        click.echo(f"  {path}")


@ledger.command()
@click.option("--month", default=None, metavar="YYYY-MM", help="The month reported on.")
@click.option("--unit", default=None, help="The unit that reported.")
@click.option("--township", default=None, help="The township that reported.")
@click.option("--how", "source", default="record", show_default=True, help="How it came.")
@_WHO
@_ledger_option
@_guarded
def reported(
    month: str | None,
    unit: str | None,
    township: str | None,
    source: str,
    who: str | None,
    ledger_path: Path,
) -> None:
    """Record a monthly report (报送) that came otherwise than by `ledger import`."""
    from campus_geo.ledger.cases import record_report

    done = record_report(
        ledger_path, unit=unit, township=township, month=month, source=source, who=who
    )
    click.echo(f"Recorded: {unit or township} reported for {done}.")


@ledger.command()
@click.option(
    "--schools",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The school register (五个百分之百): xlsx or CSV with 学校名称, 所在乡镇 and the five items.",
)
@click.option(
    "--water",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The key water areas register (重点水域): 水域名称, 所在乡镇, 警示标志, 防护栏, 巡查, 责任主体.",
)
@_WHO
@_ledger_option
@_guarded
def checklist(schools: Path | None, water: Path | None, who: str | None, ledger_path: Path) -> None:
    """Import the campaign checklists: each missing item becomes a case; rates by township.

    \b
    Example:
      campus-geo ledger checklist --schools 五个百分之百.xlsx --water 重点水域检查.xlsx

    A missing item (否/无/×/0/未配备; an empty 责任主体) opens a case for the
    unit that must fix it (安保 items: 区教体局 with 区公安局; 校门视频监控:
    区公安局; water: 区水利局 with the owner); an item now present closes its
    case as 复查已消除 (resolved in data). Importing the same register again
    changes nothing. Rows with a value that is neither yes nor no are listed
    and left out.
    """
    from campus_geo.ledger.checklists import format_rates, import_checklists

    result = import_checklists(ledger_path, schools=schools, water=water, who=who)
    click.echo(result.summary())
    for row in result.rejected[:20]:
        click.echo(f"  rejected: {row}")
    if len(result.rejected) > 20:
        click.echo(f"  ... and {len(result.rejected) - 20} more rejected rows")
    click.echo(format_rates(result.rates))


def sync_screening(
    ledger_path: Path,
    findings: Any,
    inputs: list[Path],
    *,
    settings: dict[str, Any] | None = None,
    labels: dict[str, tuple[str, str]] | None = None,
) -> pd.Series:
    """``campus-geo screen --ledger FILE``: sync the findings, echo what changed, return statuses.

    `labels`: the categories' labels of the screening's rule table, recorded in the ledger
    for its user's own categories (:mod:`campus_geo.ledger.labels`).

    A sync refused (screening settings changed, too many cases closed) stops the
    command with the message; the findings are written already, and
    ``campus-geo ledger sync --findings OUT/findings.gpkg`` syncs them once confirmed.
    """
    from campus_geo.ledger.cases import status_by_finding, sync_findings

    result = sync_findings(
        ledger_path, findings, inputs=[p for p in inputs if p.is_file()], settings=settings
    )
    click.echo(f"{result.summary()} Ledger: {ledger_path}")
    if labels and len(findings):
        from campus_geo.ledger.labels import record_category_labels

        record_category_labels(ledger_path, labels, findings["category"].astype(str).unique())
    return status_by_finding(ledger_path)


def import_checklist_cases(ledger_path: Path, registers: tuple[Path | None, Path | None]) -> None:
    """``campus-geo screen --ledger FILE --school-checklist ...``: each missing item a case."""
    from campus_geo.ledger.checklists import import_checklists

    schools, water = registers
    result = import_checklists(ledger_path, schools=schools, water=water)
    click.echo(f"{result.summary()} Ledger: {ledger_path}")
    for row in result.rejected[:20]:
        click.echo(f"  rejected: {row}")


def sync_analysis_problems(ledger_path: Path, analyses: Any, schools: Any) -> str:
    """``campus-geo screen --ledger FILE``: the analyses' problems as cases; the line to print."""
    from campus_geo.ledger.analysis_cases import sync_analysis_cases

    result = sync_analysis_cases(
        ledger_path, gaps=analyses.gaps, gate_coverage=analyses.gate_coverage, schools=schools
    )
    return f"{result.summary()} Ledger: {ledger_path}"


def run_demo_story(out: Path, layers: Any, osm: Path) -> None:
    """``campus-geo demo``: the two-month ledger story into OUT/ledger.sqlite, with its reports.

    The checklist registers are those beside `osm` (the demo district's folder).
    """
    from campus_geo.demo.accounts import save_demo_accounts
    from campus_geo.demo.district import DEMO_FILES
    from campus_geo.demo.story import run_ledger_story, save_story_map

    registers = (
        osm.parent / DEMO_FILES["school_checklist"],
        osm.parent / DEMO_FILES["water_checklist"],
    )
    story = run_ledger_story(out, layers=layers, osm=osm, overwrite=True, checklists=registers)
    july_map = save_story_map(story, layers, out / "ledger_map.html")
    accounts = save_demo_accounts(story.path, out / "desk_accounts.txt")
    click.echo(story.summary())
    click.echo("Wrote:")
    for key in ("ledger", "ledger_xlsx", "monthly_2023-06_html", "monthly_2023-07_html"):
        click.echo(f"  {story.files[key]}")
    click.echo(f"  {july_map}")
    click.echo(f"  {accounts}")
    click.echo(
        f"Review desk: campus-geo serve --ledger {story.path} --osm {osm} "
        f"(demo accounts in {accounts.name})"
    )
