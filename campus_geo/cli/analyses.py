"""Command-line glue for the walking network and the water, traffic and camera analyses.

Kept out of cli/main.py so that the command module stays a list of commands: it
asks here whether a walking network is needed, builds it, runs the analyses of
``campus-geo demo`` once (:func:`run_analyses`: the results go to the summary
page, the inspection form and the overview map) and writes their tables
(:func:`save_analyses`: CSV and GeoPackage, and the lines the command prints).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parts load when a command runs, not for --help
    import geopandas as gpd
    import pandas as pd

    from campus_geo.network.graph import WalkNetwork
    from campus_geo.reports.analyses import Analyses
    from campus_geo.rules import Rule
    from campus_geo.sources.layers import Layers

__all__ = [
    "ANALYSES",
    "Checklists",
    "analysis_network",
    "checklist_sections",
    "gate_notices",
    "needs_network",
    "network_for",
    "parse_analyses",
    "read_cameras",
    "run_analyses",
    "save_analyses",
]

log = logging.getLogger(__name__)


def needs_network(profile: str | None, rules: Path | None) -> bool:
    """Whether the screening measures on foot (``--profile walk|all`` or a walk rule)."""
    from campus_geo.rules import read_rules

    if profile in ("walk", "all"):
        return True
    if profile is None and rules is not None:
        return any(r.profile == "walk" for r in read_rules(rules))
    return False


def analysis_network(
    osm_files: Sequence[Path], *, walking: bool, which: Sequence[str]
) -> WalkNetwork | None:
    """The street network a screening needs: for the walk profile, or the traffic analysis.

    A network that cannot be built (ways missing their nodes in a clipped extract)
    stops a walk screening; the traffic analysis alone is skipped with a warning,
    and the rest of the run goes on.
    """
    from campus_geo._errors import CampusGeoWarning, InputDataError, warn_data

    if not osm_files or not (walking or "traffic" in which):
        return None
    try:
        return network_for(osm_files)
    except InputDataError as exc:
        if walking:
            raise
        warn_data(log, f"traffic analysis skipped: {exc}", CampusGeoWarning, stacklevel=None)
        return None


def network_for(osm_files: Sequence[Path]) -> WalkNetwork | None:
    """The walking network of the OSM files (XML or PBF), or None when there are none."""
    from campus_geo.network.graph import walk_network_from_osm

    if not osm_files:
        return None
    return walk_network_from_osm(list(osm_files))


def _rules_for(category: str, rules: Path | None) -> list[Rule]:
    """The rule table whose `category` rule sets an analysis's distance: --rules, else default.

    A table given with --rules but without a rule of that category leaves the
    distance to the default table's (logged), so that the analysis still runs.
    """
    from campus_geo.rules import default_rules, read_rules, rule_of

    if rules is None:
        return default_rules()
    table = read_rules(rules)
    if rule_of(category, table) is not None:
        return table
    log.info("%s has no %s rule: the default table's distance is used", rules, category)
    return default_rules()


#: The analyses a screening runs (``--analyses``), in the order of the summary page.
ANALYSES = ("water", "traffic", "cameras")

_NO_NETWORK = {
    "zh": "没有街道网络（交通分析需要 --osm 提供的道路数据）",
    "en": "no street network (the traffic analysis needs the streets of an --osm file)",
}
_NOT_CHOSEN = {"zh": "未选择（--analyses）", "en": "not chosen (--analyses)"}


def gate_notices(layers: Layers, profile: str | None, rules: Path | None) -> dict[str, list[str]]:
    """Warnings of a run measured from gates when schools have none: {"zh": [...], "en": [...]}.

    The entrance profile measures a school without a known gate from its outline,
    the walk profile from the outline's point nearest the venue on the street
    network (each finding's note says so): the run says it at the top, and the
    summary page in its first lines.
    """
    from campus_geo.rules import rule_table

    profiles = {profile} if profile not in (None, "all") else set()
    if profile == "all":
        profiles = {"entrance", "walk"}
    elif profile is None:  # the rules' own profiles, but those of the context categories
        table = rule_table(rules)
        skip = table.categories.context_keys
        profiles = {r.profile for r in table if not r.inside and r.category not in skip}
    gated = profiles & {"entrance", "walk"}
    schools = layers.schools
    if not gated or not len(schools):
        return {"zh": [], "en": []}
    has_gate = schools.index.isin(layers.entrances["school_id"].astype(str))
    missing = int((~has_gate).sum())
    if not missing:
        return {"zh": [], "en": []}
    how = "、".join(sorted(gated))
    zh = (
        f"{missing} 所学校（共 {len(schools)} 所）的数据中没有校门，按校门量算的规则（{how}）"
        "对这些学校改为：校门直线距离自校园边界量起，步行距离自校园边界上离场所最近的点"
        "经街道网络量起（每条问题的备注中注明）。请补充校门数据（OSM entrance=*）。"
    )
    en = (
        f"{missing} of {len(schools)} schools have no gate in the data: the rules measured from "
        f"gates ({how}) measure them from the campus outline instead (entrance: straight from "
        "the outline; walk: from the outline point nearest the venue, on the streets); each "
        "finding's note says so. Add the gates (OSM entrance=*) to measure from them."
    )
    return {"zh": [zh], "en": [en]}


#: The checklist registers of a run: (五个百分之百 of the schools, 重点水域), either may be None.
Checklists = tuple[Path | None, Path | None]


def checklist_sections(registers: Checklists | None, *, lang: str = "zh") -> list[Any]:
    """The summary page's section of rates by township from the checklist registers (or none).

    Rows that cannot be read are left out of the rates (the ledger import lists
    them: ``campus-geo ledger checklist``).
    """
    if registers is None or not any(registers):
        return []
    from campus_geo.ledger.checklists import rate_labels, rates_table, read_register
    from campus_geo.reports.analyses import checklist_section

    rates, labels = {}, {}
    for kind, path in zip(("school", "water"), registers, strict=True):
        if path is not None:
            table, _ = read_register(path, kind)
            rates[kind], labels[kind] = rates_table(kind, table), rate_labels(kind)
    return [checklist_section(rates, labels, lang=lang)]


def _gate_names(layers: Layers) -> Any:
    """entrance_id -> the gate's name (东门, 正门（南门）), its id where it has none."""
    ent = layers.entrances
    if "name" not in ent.columns:
        return ent.index.to_series(index=ent.index)
    return ent["name"].where(ent["name"].fillna("") != "", ent.index.to_series(index=ent.index))


def read_cameras(
    files: Sequence[tuple[Path, str | None]], *, id_field: str = "id"
) -> tuple[gpd.GeoDataFrame | None, pd.DataFrame]:
    """The camera tables of a run (``--cameras`` and the project's ``[[cameras]]``), and rejects.

    Ids are those of the tables; with several tables each id is prefixed by its
    file's name (``点位.xlsx:C01``) so that two tables may use the same numbers.
    """
    import geopandas as gpd
    import pandas as pd

    from campus_geo.analyses.cameras import cameras_from_file
    from campus_geo.sources.layers import REJECT_COLUMNS

    frames, rejects = [], []
    for path, system in files:
        cams, bad = cameras_from_file(path, id_field=id_field, coords=system)
        if len(files) > 1:
            cams.index = (path.name + ":" + cams.index.astype(str)).rename("camera_id")
        frames.append(cams)
        rejects.append(bad)
    rejected = (
        pd.concat(rejects, ignore_index=True)
        if rejects
        else pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
    )
    if not frames:
        return None, rejected
    return gpd.GeoDataFrame(pd.concat(frames), crs=frames[0].crs), rejected


def parse_analyses(value: str) -> tuple[str, ...]:
    """``--analyses``: ``all``, ``none`` or a comma-separated list of :data:`ANALYSES`.

    Examples
    --------
    >>> parse_analyses("all"), parse_analyses("cameras, water"), parse_analyses("none")
    (('water', 'traffic', 'cameras'), ('water', 'cameras'), ())
    """
    import click

    words = [w.strip().lower() for w in value.split(",") if w.strip()]
    if words == ["all"]:
        return ANALYSES
    if words in ([], ["none"]):
        return ()
    unknown = [w for w in words if w not in ANALYSES]
    if unknown:
        msg = (
            f"unknown analysis {', '.join(unknown)}; choose from {', '.join(ANALYSES)} "
            "(comma-separated), all or none"
        )
        raise click.BadParameter(msg, param_hint="--analyses")
    return tuple(key for key in ANALYSES if key in words)


def run_analyses(
    layers: Layers,
    network: WalkNetwork | None,
    *,
    rules: Path | None = None,
    lang: str = "zh",
    which: Sequence[str] = ANALYSES,
    cameras: gpd.GeoDataFrame | None = None,
) -> Analyses:
    """Drowning risk, traffic at gates and camera coverage of the layers, computed once.

    Distances come from the rule table (`rules`, else the default table): the
    water rule's (500 m), the traffic rule's walk from the gates (100 m), and the
    cameras' zone out to the widest prohibited distance (200 m). `which` chooses
    the analyses; the traffic analysis needs the walking network (skipped, with
    the reason on the summary page, without one). The cameras are those of the
    hazards layer (OSM ``man_made=surveillance``) and `cameras` (a camera table,
    :func:`campus_geo.analyses.cameras.cameras_from_file`).
    """
    import geopandas as gpd
    import pandas as pd

    from campus_geo.analyses.cameras import camera_coverage, cameras_from_hazards, zone_distance
    from campus_geo.analyses.traffic import (
        arterial_gaps,
        gate_traffic,
        guard_post_candidates,
        traffic_distance,
        traffic_points,
    )
    from campus_geo.analyses.water import key_water_areas, water_near_schools, water_rule
    from campus_geo.reports.analyses import Analyses
    from campus_geo.rules import read_rules

    parts: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for key in ANALYSES:
        if key not in which:
            skipped[key] = _NOT_CHOSEN.get(lang, _NOT_CHOSEN["zh"])
    if "water" in which:
        water_rules = _rules_for("water", rules)
        near = water_near_schools(layers.schools, layers.hazards, rules=water_rules)
        parts |= {
            "water_near": near,
            "water_bodies": key_water_areas(near, layers.hazards),
            "water_m": water_rule(None, water_rules).distance_m,
        }
    if "traffic" in which and network is None:
        skipped["traffic"] = _NO_NETWORK.get(lang, _NO_NETWORK["zh"])
    elif "traffic" in which and network is not None:
        traffic_rules = _rules_for("traffic", rules)
        points = traffic_points(layers.hazards, network)
        at_gates = gate_traffic(
            network,
            layers.entrances,
            layers.hazards,
            schools=layers.schools,
            points=points,
            rules=traffic_rules,
        )
        gaps = arterial_gaps(
            network, layers.entrances, points, schools=layers.schools, rules=traffic_rules
        )
        names = _gate_names(layers)
        at_gates = at_gates.assign(gate_name=at_gates["entrance_id"].map(names))
        gaps = gaps.assign(gate_name=gaps["entrance_id"].map(names))
        parts |= {
            "at_gates": at_gates,
            "gaps": gaps,
            "posts": guard_post_candidates(at_gates, gaps, lang=lang),
            "traffic_m": traffic_distance(traffic_rules),
        }
    if "cameras" in which:
        cams = cameras_from_hazards(layers.hazards)
        if cameras is not None and len(cameras):
            cams = gpd.GeoDataFrame(pd.concat([cams, cameras]), crs=cams.crs)
            cams.index.name = "camera_id"
        table = read_rules(rules) if rules is not None else None
        school_cov, gate_cov, blind = camera_coverage(
            layers.schools, cams, entrances=layers.entrances, rules=table
        )
        gate_cov = gate_cov.assign(gate_name=gate_cov.index.map(_gate_names(layers)))
        parts |= {
            "cameras": cams,
            "school_coverage": school_cov,
            "gate_coverage": gate_cov,
            "blind_spots": blind,
            "zone_m": zone_distance(table),
        }
    return Analyses(**parts, skipped=skipped)


def save_analyses(analyses: Analyses, out: Path) -> tuple[dict[str, Path], list[str]]:
    """Write the analyses' tables into `out`; return what was written and the lines to print.

    Writes water_near_schools.csv, key_water_areas.csv, water.gpkg;
    gate_traffic.csv, arterial_gaps.csv, guard_posts.csv, traffic.gpkg;
    camera_coverage.csv, gate_coverage.csv, cameras.gpkg.
    """
    from campus_geo.analyses.cameras import save_coverage
    from campus_geo.analyses.traffic import save_traffic
    from campus_geo.analyses.water import save_water

    a = analyses
    written: dict[str, Path] = {}
    lines = []
    if a.water_near is not None and a.water_bodies is not None:
        written |= save_water(a.water_near, a.water_bodies, out)
        top = a.water_bodies.sort_values("rank").iloc[0] if len(a.water_bodies) else None
        lines.append(
            f"Water within {a.water_m:g} m: {a.water_near['school_id'].nunique()} schools, "
            f"{len(a.water_bodies)} water bodies"
            + (
                f"; key water area #1 {top['name']} threatens {top['schools']} schools."
                if top is not None
                else "."
            )
        )
    if a.at_gates is not None and a.gaps is not None and a.posts is not None:
        written |= save_traffic(a.at_gates, a.gaps, a.posts, out)
        lines.append(
            f"Traffic at gates: {len(a.at_gates)} gate-point pairs on foot, {len(a.gaps)} "
            f"arterial frontages without signalised crossing, guard-post candidates at "
            f"{a.posts['school_id'].nunique()} schools."
        )
    cov, gates = a.school_coverage, a.gate_coverage
    if cov is not None and gates is not None and a.blind_spots is not None:
        written |= save_coverage(cov, gates, a.blind_spots, out, cameras=a.cameras)
        seen = int(gates["seen"].sum()) if len(gates) else 0
        median = f"{cov['covered_share'].median():.1%}" if len(cov) else "-"
        lines.append(
            f"Cameras: {len(a.cameras) if a.cameras is not None else 0}; {seen} of "
            f"{len(gates)} gates seen; median zone coverage {median}."
        )
    lines += [f"Not analysed: {key}: {why}" for key, why in a.skipped.items()]
    titles = {"water": "溺水防范", "traffic": "交通安全", "cameras": "视频监控"}
    shown = [titles[key] for key in (*a.ran, *a.skipped) if key in titles]
    if shown:
        lines.append(f"Sections {', '.join(shown)} in summary.html; layers in map.html.")
    return written, lines
