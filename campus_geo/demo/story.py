"""Two months of the demo district's rectification ledger (June and July 2023).

``campus-geo demo`` runs this story after the screening, and the tests
assert its counts. Every step has a fixed date and actor, so the story gives
the same ledger (and the same xlsx bytes) on every run:

1. 2023-06-05: the district's campaign office syncs the June screening of
   青禾区: one case per prohibited venue found (water, crossings, bus stops
   and cameras are context for the analyses, not cases), all 待核查, each
   assigned to the unit that enforces its category (执法单位), never to a
   coordinating body; and it imports the campaign's checklist registers
   (五个百分之百, 重点水域): one case per missing item.
2. 2023-06-12: it exports the 台帐 for the townships.
3. 2023-06-13: the police confirm a missing gate camera (校门视频监控) in the
   ledger and name their own officer.
4. The townships fill in the exported file: a contact person for every
   case; two lottery cases dismissed as duplicate registrations; every
   other case confirmed; key water areas due before the summer holiday.
5. 2023-06-16: the file is imported. The gate-camera row edited in both
   places is a conflict, reported and not applied; every other row is.
6. 2023-06-20 and 06-28: the responsible units report progress: twelve
   internet-café cases in rectification, eight of them rectified; six
   entertainment venues in rectification.
7. 2023-06-21: 抄告: the unit responsible for the first key water area case
   copies it to the township government (谁所有、谁负责: signs and patrols).
8. 2023-07-03: the culture bureau reports June (it imports its own 台帐,
   exported with ``unit=``), and the June report is written.
9. 2023-07-10: a new screening after venues closed: seven of the eight
   rectified internet cafés and the four nearest arcades are gone. Their
   cases were confirmed, so data alone does not close them: they stay open,
   noted "no longer found by the screening of 2023-07-10"; the eighth
   internet café is still there, so its case is reopened and flagged.
10. 2023-07-12: the responsible units check the venues no longer found, find
    them closed and rectify those cases; 督办: 区委政法委 takes up the first
    lottery case still open past its deadline, with a new deadline.
11. 2023-07-18: three of the six entertainment venues are rectified.
12. 2023-08-02: the culture bureau and three townships report July (each
    imports its own 台帐).
13. 2023-08-03: the July report, and the ledger exported as it stands.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import pandas as pd
from openpyxl import load_workbook

from campus_geo.ledger import cases as ledger
from campus_geo.ledger.cases import ImportResult, MonthlyReport, SyncResult
from campus_geo.ledger.checklists import ChecklistResult, import_checklists
from campus_geo.reports.workbook import save_workbook_reproducibly
from campus_geo.screen import screen
from campus_geo.sources.layers import Layers, layers_from_osm

__all__ = ["DEMO_PEOPLE", "LedgerStory", "run_ledger_story", "save_story_map"]

log = logging.getLogger(__name__)

#: Fictional contact persons of the townships (乡镇综治办).
DEMO_PEOPLE: Final[dict[str, str]] = {
    "杏花乡": "王建国",
    "石桥镇": "李秀英",
    "桃源乡": "张志强",
    "柳湾镇": "刘芳",
    "鹤鸣街道": "陈静",
    "文苑街道": "杨磊",
    "槐荫乡": "赵敏",
    "枣林镇": "黄海涛",
    "苇塘镇": "周丽",
}
_OFFICE: Final = "青禾区校园安全专项办"
_POLICE: Final = "区公安局"
_OFFICER: Final = "民警 孙立平"
_CULTURE: Final = "区文化广电和旅游局"
_SUPERVISOR: Final = "区委政法委"
#: Townships that report July by importing their own 台帐.
_REPORTING_TOWNSHIPS: Final = ("杏花乡", "石桥镇", "桃源乡")


def _at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour))


@dataclass(frozen=True)
class LedgerStory:
    """What the two-month story did, step by step.

    Attributes
    ----------
    path
        The ledger file.
    june, july
        The syncs of the June and July screenings.
    conflict_case
        The case edited both in the ledger and in the filled-in file.
    imported
        The import of the filled-in file.
    progress
        Case ids set by units after the import: ``in_progress``,
        ``rectified`` (June), ``rectified_july``.
    closed_venues
        Hazard ids absent from the July screening.
    july_findings
        The findings of the July screening (to draw them by ledger status).
    reports
        The June and July monthly reports.
    files
        Every file written.
    copied_case, escalated_case
        The case copied to its township government (抄告) and the case
        taken up by 区委政法委 (督办).
    unit_reports
        The imports that were units' and townships' monthly reports.
    checklists
        The import of the checklist registers (五个百分之百, 重点水域) on 06-05.
    """

    path: Path
    june: SyncResult
    conflict_case: str
    imported: ImportResult
    progress: dict[str, tuple[str, ...]]
    closed_venues: tuple[str, ...]
    july_findings: gpd.GeoDataFrame
    july: SyncResult
    reports: dict[str, MonthlyReport]
    files: dict[str, Path]
    copied_case: str = ""
    escalated_case: str = ""
    unit_reports: tuple[ImportResult, ...] = ()
    checklists: ChecklistResult | None = None

    def summary(self) -> str:
        """Lines for ``campus-geo demo``."""
        june, july = self.reports["2023-06"].totals, self.reports["2023-07"].totals
        lines = [
            "Ledger story (June-July 2023):",
            f"  06-05 {self.june.summary()}",
            *(
                [
                    f"  06-05 checklists: {len(self.checklists.opened)} missing items opened as cases."
                ]
                if self.checklists is not None
                else []
            ),
            f"  06-16 {self.imported.summary().splitlines()[0]}",
            f"  06-21 抄告 case {self.copied_case} to its township government.",
            f"  07-10 {self.july.summary()}",
            f"  07-12 {len(self.progress.get('verified', ()))} cases no longer found checked on "
            f"site and rectified; 督办 case {self.escalated_case} by {_SUPERVISOR}.",
            f"  June: {june['opened']} opened, {june['closed']} closed, "
            f"{june['open']} open at the end, {june['overdue']} overdue.",
            f"  July: {july['reopened']} reopened, {july['closed']} closed, "
            f"{july['open']} open at the end, {july['overdue']} overdue.",
        ]
        for month, report in self.reports.items():
            units = report.reporters("unit", reported=True)
            towns = report.reporters("township", reported=True)
            lines.append(
                f"  Reported for {month}: units {'、'.join(units) or 'none'}; "
                f"townships {'、'.join(towns) or 'none'}."
            )
        return "\n".join(lines)


def _fill_in(exported: Path, filled: Path, cases: pd.DataFrame) -> None:
    """The townships' edits of the exported 台帐 (as a person would make them in Excel)."""
    wb = load_workbook(exported)
    ws = wb.worksheets[0]
    col = {cell.value: cell.column for cell in ws[3]}
    lottery = cases.index[cases["category"] == "lottery"][:2]
    for row in range(4, ws.max_row + 1):
        fid = ws.cell(row, col["问题编号"]).value
        case = cases.loc[fid]
        ws.cell(row, col["责任人"]).value = DEMO_PEOPLE.get(case["township"], "")
        if fid in lottery:
            ws.cell(row, col["状态"]).value = "误报"
            ws.cell(row, col["误报/重开原因"]).value = "实地核查：与相邻投注站系同一场所重复登记"
        else:
            ws.cell(row, col["状态"]).value = "已确认"
        if case["category"] == "checklist_water":
            ws.cell(row, col["整改时限"]).value = dt.date(2023, 7, 10)  # before the summer holiday
    save_workbook_reproducibly(wb, filled, timestamp=_at("2023-06-15", 17))


def _progress(path: Path) -> dict[str, tuple[str, ...]]:
    """Units report rectification in June."""
    open_cases = ledger.read_cases(path, statuses=["confirmed"])
    # twelve different internet cafés (a venue near two schools has two cases)
    netcafes = (
        open_cases[open_cases["category"] == "internet_cafe"]
        .drop_duplicates("hazard_id")
        .index[:12]
    )
    venues = open_cases.index[open_cases["category"] == "entertainment"][:6]
    unit = open_cases["responsible_unit"]  # each unit reports its own cases
    for fid in netcafes:
        ledger.set_case(
            path,
            fid,
            status="in_progress",
            notes="已下达整改通知书，责令停业整顿",
            who=unit[fid],
            now=_at("2023-06-20"),
        )
    for fid in netcafes[:8]:
        ledger.set_case(
            path,
            fid,
            status="rectified",
            rectification="已停业，网络文化经营许可证已注销",
            rectified_on="2023-06-28",
            who=unit[fid],
            now=_at("2023-06-28", 16),
        )
    for fid in venues:
        ledger.set_case(
            path,
            fid,
            status="in_progress",
            notes="联合执法，限期搬离",
            who=unit[fid],
            now=_at("2023-06-20", 11),
        )
    return {
        "in_progress": tuple(netcafes) + tuple(venues),
        "rectified": tuple(netcafes[:8]),
    }


def _copy_water_case(path: Path) -> str:
    """抄告: the first confirmed key water area case goes to its township government too."""
    cases = ledger.read_cases(path, statuses=["confirmed"])
    water = cases[cases["category"] == "checklist_water"]
    fid, case = str(water.index[0]), water.iloc[0]
    ledger.copy_case(
        path,
        fid,
        f"{case['township']}人民政府",
        why="重点水域“谁所有、谁负责”：抄告属地乡镇落实警示标志、防护设施和巡查",
        who=str(case["responsible_unit"]),
        now=_at("2023-06-21"),
    )
    return fid


def _own_report(
    path: Path,
    out: Path,
    day: str,
    *,
    who: str,
    unit: str | None = None,
    township: str | None = None,
) -> tuple[ImportResult, Path]:
    """A unit or township reports: it exports its own 台帐, notes progress, imports it back."""
    name = unit or township
    exported = ledger.export_ledger(
        path,
        out / f"ledger_{name}_{day}.xlsx",
        unit=unit,
        townships=[township] if township else None,
        today=dt.date.fromisoformat(day),
    )
    wb = load_workbook(exported)
    ws = wb.worksheets[0]
    col = {cell.value: cell.column for cell in ws[3]}
    for row in range(4, ws.max_row + 1):
        if ws.cell(row, col["状态"]).value == "整改中":
            ws.cell(
                row, col["备注"]
            ).value = f"{day[5:7].lstrip('0')}月进展：仍在整改，已约谈经营者"
    filled = out / f"ledger_{name}_{day}_filled.xlsx"
    save_workbook_reproducibly(wb, filled, timestamp=_at(day, 8))
    return ledger.import_ledger(path, filled, who=who, now=_at(day, 15)), filled


def _verify_absent(path: Path, kept: tuple[str, ...]) -> tuple[str, ...]:
    """The responsible units check the venues no longer found: closed, so the cases are rectified."""
    units = ledger.read_cases(path)["responsible_unit"]
    for fid in kept:
        ledger.set_case(
            path,
            fid,
            status="rectified",
            rectification="现场核实：场所已关闭",
            rectified_on="2023-07-11",
            who=str(units[fid]),
            now=_at("2023-07-12"),
        )
    return kept


def _escalate_overdue_lottery(path: Path) -> str:
    """督办: 区委政法委 takes up the first lottery case still open past its deadline."""
    cases = ledger.read_cases(path, today=dt.date(2023, 7, 12), statuses=["confirmed"])
    fid = str(cases.index[(cases["category"] == "lottery") & cases["overdue"]][0])
    ledger.escalate_case(
        path,
        fid,
        supervisor=_SUPERVISOR,
        deadline="2023-08-15",
        why="逾期未整改，挂牌督办",
        who=_SUPERVISOR,
        now=_at("2023-07-12", 14),
    )
    return fid


def run_ledger_story(
    dirpath: str | Path,
    *,
    layers: Layers | None = None,
    osm: str | Path | None = None,
    overwrite: bool = False,
    checklists: tuple[str | Path, str | Path] | None = None,
) -> LedgerStory:
    """Run the two-month story into ``dirpath/ledger.sqlite`` and write its files.

    Parameters
    ----------
    dirpath
        Output folder: ledger.sqlite, the exported and filled-in 台帐 (and
        those of the units and townships that report), closed_venues_2023-07.csv,
        monthly_2023-06/07 (.xlsx, .html) and the final ledger.xlsx.
    layers
        The demo district's layers (read from `osm` when None).
    osm
        The demo district's OSM file, recorded with each screening (default:
        ``data/demo/district.osm``).
    overwrite
        Replace an existing ledger.sqlite there (the demo's own output);
        otherwise an existing ledger is refused.
    checklists
        The school (五个百分之百) and water (重点水域) registers imported on
        06-05 (default: those of ``data/demo``).

    Returns
    -------
    LedgerStory
    """
    from campus_geo.demo.district import DEMO_DIR, DEMO_FILES

    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "ledger.sqlite"
    osm = Path(osm) if osm is not None else DEMO_DIR / "district.osm"
    for stale in (path, path.with_name("ledger.sqlite-wal"), path.with_name("ledger.sqlite-shm")):
        if stale.exists():
            if not overwrite:
                msg = f"{stale} exists; the story starts from an empty ledger (overwrite=True)"
                raise FileExistsError(msg)
            stale.unlink()
    if layers is None:
        layers = layers_from_osm(osm)
    findings = screen(layers.schools, layers.hazards, entrances=layers.entrances)
    files: dict[str, Path] = {"ledger": path}

    june = ledger.sync_findings(path, findings, inputs=[osm], who=_OFFICE, now=_at("2023-06-05"))
    school_register, water_register = checklists or (
        DEMO_DIR / DEMO_FILES["school_checklist"],
        DEMO_DIR / DEMO_FILES["water_checklist"],
    )
    registers = import_checklists(
        path,
        schools=school_register,
        water=water_register,
        who=_OFFICE,
        now=_at("2023-06-05", 10),
    )
    files["export"] = ledger.export_ledger(
        path, out / "ledger_2023-06-12.xlsx", today=dt.date(2023, 6, 12)
    )
    cases = ledger.read_cases(path, today=dt.date(2023, 6, 12))
    gate_video = cases.index[cases["rule_id"] == "checklist_school.gate_video"]
    conflict_case = str(gate_video[0])
    ledger.set_case(
        path,
        conflict_case,
        status="confirmed",
        responsible_person=_OFFICER,
        who=_POLICE,
        now=_at("2023-06-13", 15),
    )
    files["filled"] = out / "ledger_2023-06-12_filled.xlsx"
    _fill_in(files["export"], files["filled"], cases)
    imported = ledger.import_ledger(
        path, files["filled"], who="各乡镇（街道）综治办", now=_at("2023-06-16", 10)
    )
    progress = _progress(path)
    copied_case = _copy_water_case(path)
    culture_june, files["report_culture_2023-06"] = _own_report(
        path, out, "2023-07-03", unit=_CULTURE, who=_CULTURE
    )
    reports = {"2023-06": ledger.monthly_report(path, "2023-06", today=dt.date(2023, 7, 3))}

    # July: seven of the eight rectified internet cafés and the four nearest arcades closed
    rectified = cases.loc[list(progress["rectified"])]
    arcades = cases[cases["category"] == "arcade"].sort_values(["distance_m", "hazard_id"])
    gone = list(dict.fromkeys([*rectified["hazard_id"][:7], *arcades["hazard_id"].unique()[:4]]))
    closed_csv = out / "closed_venues_2023-07.csv"
    table = layers.hazards.loc[gone, ["name", "category"]].reset_index()
    table.to_csv(closed_csv, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    files["closed_venues"] = closed_csv
    july_hazards = layers.hazards.drop(index=gone)
    july_findings = screen(layers.schools, july_hazards, entrances=layers.entrances)
    july = ledger.sync_findings(
        path, july_findings, inputs=[osm, closed_csv], who=_OFFICE, now=_at("2023-07-10")
    )
    progress["verified"] = _verify_absent(path, july.kept_open)
    escalated_case = _escalate_overdue_lottery(path)
    still_open = ledger.read_cases(path, statuses=["in_progress"])
    venues = [
        f
        for f in progress["in_progress"]
        if f in still_open.index
        and f not in progress["rectified"]
        and still_open.loc[f, "category"] == "entertainment"
    ][:3]
    for fid in venues:
        ledger.set_case(
            path,
            fid,
            status="rectified",
            rectification="已搬离校园周边200米范围",
            rectified_on="2023-07-17",
            who=str(still_open.loc[fid, "responsible_unit"]),
            now=_at("2023-07-18"),
        )
    progress["rectified_july"] = tuple(venues)
    unit_reports = [culture_june]
    result, files["report_culture_2023-07"] = _own_report(
        path, out, "2023-08-02", unit=_CULTURE, who=_CULTURE
    )
    unit_reports.append(result)
    for township in _REPORTING_TOWNSHIPS:
        result, files[f"report_{township}_2023-07"] = _own_report(
            path,
            out,
            "2023-08-02",
            township=township,
            who=f"{township}综治办 {DEMO_PEOPLE[township]}",
        )
        unit_reports.append(result)
    reports["2023-07"] = ledger.monthly_report(path, "2023-07", today=dt.date(2023, 8, 3))
    for month, report in reports.items():
        written = ledger.save_monthly_report(report, out)
        files[f"monthly_{month}_xlsx"] = written["xlsx"]
        files[f"monthly_{month}_html"] = written["html"]
    files["ledger_xlsx"] = ledger.export_ledger(
        path, out / "ledger.xlsx", today=dt.date(2023, 8, 3)
    )
    story = LedgerStory(
        path=path,
        june=june,
        conflict_case=conflict_case,
        imported=imported,
        progress=progress,
        closed_venues=tuple(gone),
        july_findings=july_findings,
        july=july,
        reports=reports,
        files=files,
        copied_case=copied_case,
        escalated_case=escalated_case,
        unit_reports=tuple(unit_reports),
        checklists=registers,
    )
    log.info("%s", story.summary())
    return story


def save_story_map(story: LedgerStory, layers: Layers, filepath: str | Path) -> Path:
    """The July screening on a hazard map, each line coloured by its case's status.

    Statuses are those at the end of July, overdue judged as in the July report;
    a layer rings the venues of the open cases under 督办, 抄告 or 联合整改.
    """
    from campus_geo.maps.hazard import hazard_map, save_map

    today = story.reports["2023-07"].as_of + dt.timedelta(days=1)
    status = ledger.status_by_finding(story.path, today=today)
    actions = ledger.actions_layer(ledger.read_cases(story.path, today=today), story.july_findings)
    page = hazard_map(
        story.july_findings,
        layers.schools,
        layers.hazards.drop(index=list(story.closed_venues)),
        entrances=layers.entrances,
        streets=layers.streets,  # the basemap its legend names: streets, water, buildings
        water=layers.water,
        buildings=layers.buildings,
        status=status,
        title="青禾区整改台帐（2023年7月）",
        extra_layers=[actions],
    )
    return save_map(page, filepath)
