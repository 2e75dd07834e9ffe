"""One 排查表 per township, as the campaign has every township fill its own.

The plan has the investigation done "town by town": each township (乡、镇、街道)
fills the 校园及周边安全问题排查表 for its own schools, and the district rolls
them up. :func:`save_township_forms` writes one form per township, named by
it, with its name after 填报单位 and exactly its schools' rows; the district
roll-up is the ordinary form of :func:`campus_geo.reports.form.save_reports`.
A school's township is the one its findings carry (the form's second column),
else the schools layer's; schools with none go to the form of
:data:`UNKNOWN_TOWNSHIP`, with a warning.

:func:`findings_with_admin` fills the empty township and village of saved
findings (``campus-geo form --admin``) from the schools layer or, for a
school not given, from the areas containing its end of the measured line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from campus_geo._errors import CampusGeoWarning, warn_data
from campus_geo.reports.fonts import CJKFont, cjk_font
from campus_geo.reports.form import save_inspection_form
from campus_geo.rules import Rule
from campus_geo.settings import DEFAULT_CRS
from campus_geo.sources.admin import assign_admin

__all__ = [
    "FORMS_MANIFEST",
    "UNKNOWN_TOWNSHIP",
    "findings_with_admin",
    "save_township_forms",
    "township_file_name",
    "townships_of",
]

log = logging.getLogger(__name__)

#: Name of the form of the schools whose township is not known, by language.
UNKNOWN_TOWNSHIP: Final = {"zh": "未知乡镇", "en": "unknown township"}
#: The forms the last :func:`save_township_forms` wrote into a folder.
FORMS_MANIFEST: Final = ".campus_geo_forms.json"
#: Characters no file name may hold on Windows, macOS or Linux, and control characters.
_UNSAFE: Final = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED: Final = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    }
)


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def township_file_name(township: str) -> str:
    """A file name (without extension) for a township's form, safe on every system.

    Characters that a file name cannot hold become ``_``; Chinese names are
    kept as they are.

    Examples
    --------
    >>> township_file_name("柳湾镇"), township_file_name("东城/西城街道"), township_file_name(" . ")
    ('柳湾镇', '东城_西城街道', '_')
    """
    name = _UNSAFE.sub("_", township).strip(" .")
    if not name or name.upper().split(".")[0] in _RESERVED:
        name = "_" + name
    return name


def townships_of(
    findings: pd.DataFrame, schools: pd.DataFrame | None = None, *, all_schools: bool = False
) -> pd.Series:
    """The township of each school a form lists (``""`` when not known).

    A school's township is the one its findings carry (what the form's second
    column shows), else the schools layer's. The schools are those with
    findings, and every school of `schools` with `all_schools`.

    Returns
    -------
    pandas.Series
        Township by school id (text).
    """
    towns = pd.Series(dtype=object)
    if schools is not None and len(schools) and all_schools:
        column = (
            schools["township"] if "township" in schools.columns else pd.Series("", schools.index)
        )
        towns = _text(column).set_axis(schools.index.astype(str))
    if len(findings):
        table = pd.DataFrame(
            {
                "school_id": findings["school_id"].astype(str).to_numpy(),
                "township": _text(findings["township"]).to_numpy(),
            }
        )
        known = table[table["township"] != ""].groupby("school_id", sort=False)["township"].first()
        ids = pd.Index(table["school_id"].unique())
        layer = pd.Series("", index=ids, dtype=object)
        if schools is not None and "township" in schools.columns:
            own = _text(schools["township"]).set_axis(schools.index.astype(str))
            layer = own.reindex(ids).fillna("")
        per_school = layer.where(~ids.isin(known.index), known.reindex(ids))
        towns = pd.concat([towns[~towns.index.isin(ids)], per_school])
    return towns.astype(str).rename("township")


def findings_with_admin(
    findings: gpd.GeoDataFrame,
    *,
    schools: gpd.GeoDataFrame | None = None,
    admin: Iterable[gpd.GeoDataFrame | None] = (),
) -> gpd.GeoDataFrame:
    """Findings whose empty ``township`` and ``village`` are filled (a new frame).

    From the schools layer (by ``school_id``) where it has them, else from the
    areas of `admin` (in the order given: ``--admin`` first, then OSM) that
    contain the school's end of its first measured line (``school_lon``,
    ``school_lat``: a point of the campus outline, or the school point).
    Values the findings already have are kept.

    Parameters
    ----------
    findings
        Findings as screened or read back (:func:`campus_geo.reports.form.findings_from_file`).
    schools
        The screened schools (``township``, ``village``), or None.
    admin
        Areas from :func:`campus_geo.sources.admin.admin_from_file` or
        :func:`campus_geo.sources.admin.admin_from_features`.
    """
    out = findings.copy()
    for column in ("township", "village"):
        out[column] = (
            _text(out[column]) if column in out.columns else pd.Series("", index=out.index)
        )
    school_ids = out["school_id"].astype(str)
    if schools is not None and len(schools):
        for column in ("township", "village"):
            if column in schools.columns:
                own = _text(schools[column]).set_axis(schools.index.astype(str))
                known = own.reindex(school_ids).fillna("").to_numpy()
                out[column] = np.where(out[column] == "", known, out[column])
    areas = [a for a in admin if a is not None and len(a)]
    todo = (out["township"] == "") | (out["village"] == "")
    if not areas or not todo.any() or not {"school_lon", "school_lat"} <= set(out.columns):
        return out
    first = out[todo].sort_index().groupby(school_ids[todo], sort=True).first()
    ends = gpd.GeoDataFrame(
        first[["township", "village"]],
        geometry=gpd.points_from_xy(first["school_lon"], first["school_lat"]),
        crs=DEFAULT_CRS,
    )
    for area in areas:
        ends = assign_admin(ends, area)
    for column in ("township", "village"):
        found = ends[column].reindex(school_ids).fillna("").to_numpy()
        out[column] = np.where(out[column] == "", found, out[column])
    return out


def _remove_stale_forms(folder: Path, names: set[str]) -> None:
    """Remove the forms an earlier run wrote into `folder` and this one did not.

    A township renamed or left without findings must not keep a form of an
    earlier run beside the new ones. Only files listed in the previous run's
    manifest are removed: nothing a user put into the folder is touched.
    """
    manifest = folder / FORMS_MANIFEST
    try:
        before = set(json.loads(manifest.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, TypeError):
        before = set()
    stale = sorted(n for n in before - names if Path(n).name == n and n.endswith(".xlsx"))
    for name in stale:
        (folder / name).unlink(missing_ok=True)
    if stale:
        log.info("removed %d township form(s) of an earlier run from %s", len(stale), folder)
    manifest.write_text(json.dumps(sorted(names), ensure_ascii=False), encoding="utf-8")


def save_township_forms(
    findings: gpd.GeoDataFrame,
    dirpath: str | Path,
    *,
    schools: gpd.GeoDataFrame | None = None,
    reporting_unit: str | None = None,
    lang: str = "zh",
    all_schools: bool = False,
    rules: Sequence[Rule] | str | Path | None = None,
    hazards: gpd.GeoDataFrame | None = None,
    evidence_dir: str | None = None,
    generated_at: dt.datetime | None = None,
    font: CJKFont | None = None,
) -> dict[str, Path]:
    """Write one inspection form (排查表) per township into `dirpath`.

    ``<dirpath>/<township>.xlsx`` (see :func:`township_file_name`) has the
    layout of :func:`campus_geo.reports.form.save_inspection_form`: its rows
    are exactly the township's schools (with findings; every screened school
    of the township with `all_schools`), its detail and summary sheets its
    findings. Schools without a township (:func:`townships_of`) go to
    ``<dirpath>/未知乡镇.xlsx`` (``unknown township.xlsx`` in English) and
    are named in a warning. A re-run removes the forms that the previous run
    into `dirpath` wrote and this one did not.

    Parameters
    ----------
    findings
        Findings (their ``township`` as the form shows it; fill empty ones
        with :func:`findings_with_admin`).
    dirpath
        Output folder (created).
    schools
        The screened schools: needed with `all_schools`, counted on the summary sheets.
    reporting_unit
        Text after 填报单位 on every form; None: each township's own name
        (empty on the form of the unknown township).
    lang, all_schools, rules, hazards, generated_at, font
        As for :func:`~campus_geo.reports.form.save_inspection_form`.
    evidence_dir
        Folder of the evidence sheets relative to `dirpath` (e.g. ``../evidence``).

    Returns
    -------
    dict
        Path of each township's form, by township name (``""`` for the unknown one).

    Warns
    -----
    CampusGeoWarning
        Schools listed without a township.

    Examples
    --------
    >>> import tempfile
    >>> from campus_geo import demo
    >>> from campus_geo.screen import screen
    >>> from campus_geo.sources.layers import layers_from_osm
    >>> osm = layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> found = screen(osm.schools, osm.hazards, entrances=osm.entrances)
    >>> forms = save_township_forms(found, tempfile.mkdtemp(), schools=osm.schools)
    >>> len(forms), forms["柳湾镇"].name
    (9, '柳湾镇.xlsx')
    """
    folder = Path(dirpath)
    folder.mkdir(parents=True, exist_ok=True)
    towns = townships_of(findings, schools, all_schools=all_schools)
    unknown = towns[towns == ""]
    if len(unknown):
        names = _school_names(unknown.index, findings, schools)
        shown = "、".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        warn_data(
            log,
            f"{len(unknown)} school(s) have no township: {shown}; their rows are in "
            f"{UNKNOWN_TOWNSHIP[lang]}.xlsx. Give township areas (--admin FILE) or a roster "
            "with 乡镇 to place them",
            CampusGeoWarning,
            stacklevel=None,
        )
    font = font or cjk_font()
    written: dict[str, Path] = {}
    taken: set[str] = set()
    school_ids = findings["school_id"].astype(str)
    for township in sorted(towns.unique(), key=lambda t: (t == "", t)):
        ids = towns.index[towns == township]
        label = township or UNKNOWN_TOWNSHIP[lang]
        name = township_file_name(label)
        while name.casefold() in taken:  # two names that one file system cannot tell apart
            name += "-2"
        taken.add(name.casefold())
        unit = reporting_unit if reporting_unit is not None else township
        written[township] = save_inspection_form(
            findings[school_ids.isin(ids)],
            None if schools is None else schools[schools.index.astype(str).isin(ids)],
            folder / f"{name}.xlsx",
            reporting_unit=unit,
            lang=lang,
            all_schools=all_schools,
            rules=rules,
            hazards=hazards,
            evidence_dir=evidence_dir,
            generated_at=generated_at,
            font=font,
        )
    _remove_stale_forms(folder, {p.name for p in written.values()})
    log.info("wrote %d township form(s) to %s", len(written), folder)
    return written


def _school_names(ids: pd.Index, findings: pd.DataFrame, schools: pd.DataFrame | None) -> list[str]:
    """Names of the schools `ids` (from the findings, else the schools layer, else the id)."""
    names = (
        pd.Series(
            findings["school_name"].astype(str).to_numpy(), index=findings["school_id"].astype(str)
        )
        if len(findings)
        else pd.Series(dtype=object)
    )
    names = names[~names.index.duplicated()]
    if schools is not None and "name" in schools.columns:
        own = schools["name"].astype(str).set_axis(schools.index.astype(str))
        names = pd.concat([names, own[~own.index.isin(names.index)]])
    return [str(names.get(i, i)) for i in ids]
