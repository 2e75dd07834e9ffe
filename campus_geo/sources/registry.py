"""Business registries (市场主体登记, licence lists) as a hazards layer.

In China most venues near a school are known from the market-regulation
registry and the licence lists of the culture, sports, tobacco and emergency
bureaus, not from OpenStreetMap. They arrive as CSV (UTF-8 or GBK) or xlsx
with Chinese headers, coordinates from Amap (GCJ-02) or Baidu (BD-09)
geocoding or none at all, closed businesses, duplicates and the odd swapped
coordinate. :func:`hazards_from_registry` reads such files into the canonical
hazards layer; nothing is dropped silently:

- **Columns** are recognised by their Chinese or English names
  (:data:`REGISTRY_FIELDS`): 企业名称/单位名称/名称, 经营场所/地址, 经度 and 纬度 or
  one 坐标 cell "113.85,34.05", 经营范围, 许可证号, 统一社会信用代码, 登记状态,
  类别, 许可证类型, 所属乡镇. The coordinate system is declared per file
  (``coords="gcj02"``) or by a header such as 经度(GCJ-02); undeclared
  coordinates are taken as WGS 84 with a warning.
- **Classification** (:func:`classify_registry`), first match wins: the
  类别 column, the licence (number pattern or 许可证类型), the business scope
  (经营范围, negations such as （不含演艺娱乐活动） removed), the name keywords of
  :mod:`campus_geo.categories`, then weak scope words (酒类经营). The rule that
  matched is kept in ``subcategory`` (``licence:娱乐经营许可证``,
  ``scope:互联网上网服务``, ``name:网咖``). A row that matches nothing is kept
  with category ``other`` and listed in the rejects as unclassified.
- **Rejects** (file, spreadsheet row, column, reason): rows without usable
  coordinates (missing, not a number, 0,0, out of range) and closed businesses
  (登记状态 注销/吊销/撤销/迁出). Swapped lon/lat and both numbers in the 经度
  cell are fixed, logged as warnings and noted on the hazard.
- **Duplicates** (same licence number, same name and address, or same credit
  code and name; across all files given) are merged into one record: the copy
  with usable coordinates, then an active one, then one with a licence, then the
  first. Each merged row is reported with the row it was merged into; copies
  that disagree on 登记状态 leave a note (the venue is screened: inspect it).

Ids are stable across monthly exports: ``registry:<统一社会信用代码>`` (an
entity keeps its code for life), else ``registry:<许可证号>``, else
``registry:<hash of name and address>``; row numbers are never part of an id.

:func:`merge_with_osm` then joins registry venues to the OSM venues they
duplicate (same category, matching name, within a few metres): the OSM feature
is kept (its id, its mapped geometry, so findings keep their ids whether or not
a registry is loaded) and the registry's licence, credit code and status are
attached to it; the registry row is reported as merged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from campus_geo._errors import CoordinateWarning, InputDataError, warn_data
from campus_geo.category_registry import CategoryRegistry
from campus_geo.coords import normalise_system, out_of_china, to_wgs84
from campus_geo.geodesy import geodesic_distance, local_crs
from campus_geo.settings import DEFAULT_CRS
from campus_geo.sources import tables as _tables
from campus_geo.sources.checks import REJECT_COLUMNS, undeclared_coords_error
from campus_geo.sources.registry_rules import (
    EXTRA_NAME_RULES,
    INACTIVE_WORDS,
    LICENCE_RULES,
    SCOPE_RULES,
    WEAK_SCOPE_RULES,
    classify_registry,
    codes_valid,
    credit_code_valid,
)

__all__ = [
    "EXTRA_NAME_RULES",
    "HAZARD_COLUMNS",
    "INACTIVE_WORDS",
    "LICENCE_RULES",
    "MERGE_COLUMNS",
    "MERGE_DIST_M",
    "REGISTRY_FIELDS",
    "SCOPE_RULES",
    "WEAK_SCOPE_RULES",
    "Registry",
    "classify_registry",
    "credit_code_valid",
    "hazards_from_registry",
    "merge_with_osm",
]

log = logging.getLogger(__name__)

#: Field -> header names recognised (matched after NFKC, lower case, no spaces,
#: bracketed notes such as （GCJ-02） removed).
REGISTRY_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "name": (
        "企业名称", "单位名称", "名称", "市场主体名称", "商户名称", "场所名称", "店名",
        "店铺名称", "字号名称", "经营者名称", "name", "company", "business_name",
    ),
    "address": (
        "经营场所", "经营地址", "地址", "场所地址", "详细地址", "住所", "address", "addr",
    ),
    "lon": ("经度", "lon", "lng", "long", "longitude", "x", "gcj_lon", "bd_lon", "wgs84_lon"),
    "lat": ("纬度", "lat", "latitude", "y", "gcj_lat", "bd_lat", "wgs84_lat"),
    "coord": ("坐标", "经纬度", "经纬度坐标", "位置坐标", "coordinates", "coords", "lnglat", "lonlat"),
    "scope": ("经营范围", "许可范围", "经营项目", "主营项目", "许可项目", "scope", "business_scope"),
    "licence": (
        "许可证号", "许可证编号", "经营许可证号", "证号", "许可证", "licence", "license",
        "licence_no", "license_no", "licence_number", "license_number",
    ),
    "credit_code": ("统一社会信用代码", "社会信用代码", "信用代码", "credit_code", "uscc"),
    "status": ("登记状态", "经营状态", "企业状态", "状态", "status"),
    "category": ("类别", "场所类别", "行业类别", "场所类型", "category"),
    "licence_type": ("许可证类型", "许可证种类", "证照类型", "许可类别", "licence_type", "license_type"),
    "township": ("所属乡镇", "乡镇", "乡镇街道", "街道", "township"),
}  # fmt: skip

#: Columns of the hazards a registry gives, after the canonical ones.
HAZARD_COLUMNS: Final = ("licence", "credit_code", "status", "township", "notes")
#: Columns of the merge report.
MERGE_COLUMNS: Final = ["file", "row", "merged_into", "reason"]
#: A registry venue and an OSM venue of the same category and name this close
#: (metres, WGS 84 ellipsoid) are one venue.
MERGE_DIST_M: Final = 10.0

#: Characters dropped from keys (after NFKC, which turns full-width forms into these).
_KEY_DROP: Final = str.maketrans("", "", " \t\r\n\u00a0-_.,;:·、。'\"“”‘’")


# ---------------------------------------------------------------------------
# reading one file


def _key(values: pd.Series) -> pd.Series:
    """Normalised text for matching: NFKC, lower case, no spaces or punctuation; "" -> NaN."""
    norm = [
        unicodedata.normalize("NFKC", s).lower().translate(_KEY_DROP)
        for s in values.fillna("").astype(str).tolist()
    ]
    out = pd.Series(norm, index=values.index, dtype=object)
    return out.where(out != "", np.nan)


def _file_system(
    path: Path, coords: str | None, cols: dict[str, str], lon: np.ndarray, lat: np.ndarray
) -> str:
    """The declared system: `coords`, else the header's; refused for points in China if neither."""
    hint = _tables.system_from_header(cols.get("lon"), cols.get("lat"), cols.get("coord"))
    if coords is not None:
        declared = normalise_system(coords)
        if hint is not None and hint != declared:
            msg = (
                f"{path}: coordinates declared {declared} but the header "
                f"{cols.get('lon') or cols.get('coord')!r} says {hint}; check which system "
                "the geocoder used and declare that one"
            )
            raise InputDataError(msg)
        return declared
    if hint is not None:
        log.info("%s: coordinate system %s taken from the column header", path, hint)
        return hint
    if len(lon) and not out_of_china(lon, lat).all():
        columns = "/".join(c for c in (cols.get("lon"), cols.get("lat"), cols.get("coord")) if c)
        raise undeclared_coords_error(path, columns)
    return "wgs84"  # no point in China: GCJ-02 and BD-09 equal WGS 84 there


def _read_file(path: Path, coords: str | None, order: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The standard fields of every row, and the cells as read (for the rejects' records)."""
    raw = _tables.read_table(path, REGISTRY_FIELDS, required="name")
    cols = _tables.match_columns(raw.columns, REGISTRY_FIELDS)
    if not {"lon", "lat"} <= cols.keys() and "coord" not in cols and "lon" not in cols:
        msg = (
            f"{path}: no coordinate columns (经度 and 纬度, or 坐标 'lon,lat') in the header "
            f"{', '.join(raw.columns)}; geocode the addresses first (Amap gives GCJ-02) and add them"
        )
        raise InputDataError(msg)
    frame = raw.frame
    out = pd.DataFrame(index=frame.index)
    for fld in ("name", "address", "scope", "licence", "credit_code", "status", "category"):
        out[fld] = _tables.text_column(frame[cols[fld]]) if fld in cols else ""
    for fld in ("licence_type", "township"):
        out[fld] = _tables.text_column(frame[cols[fld]]) if fld in cols else ""
    xy = _tables.parse_lonlat(
        frame, lon=cols.get("lon"), lat=cols.get("lat"), pair=cols.get("coord")
    )
    ok = xy["problem"] == ""
    system = _file_system(
        path, coords, cols, xy.loc[ok, "lon"].to_numpy(), xy.loc[ok, "lat"].to_numpy()
    )
    if ok.any():
        lon, lat = to_wgs84(
            xy.loc[ok, "lon"].to_numpy(), xy.loc[ok, "lat"].to_numpy(), system, label=path.name
        )
        xy.loc[ok, "lon"], xy.loc[ok, "lat"] = lon, lat
    out = out.join(xy)
    out["file"] = path.name
    out["path"] = str(path)
    out["order"] = order
    out["row"] = out.index.astype(int)
    out["status_column"] = cols.get("status", "")
    out["scope_column"] = cols.get("scope", "")
    out["name_column"] = cols["name"]
    log.info(
        "%s: %d rows read (header in row %d%s)",
        path.name,
        len(out),
        raw.header_row,
        f", sheet {raw.sheet}" if raw.sheet else f", {raw.encoding}",
    )
    return out.reset_index(drop=True), frame


# ---------------------------------------------------------------------------
# duplicates


def _components(keys: list[pd.Series], n: int) -> np.ndarray:
    """Connected components of rows that share any key (min row position as the label)."""
    label = np.arange(n)
    codes = [pd.factorize(key)[0] for key in keys]  # -1 where the key is missing
    for _ in range(n):
        before = label.copy()
        for code in codes:
            valid = code >= 0
            if not valid.any():
                continue
            low = np.full(code.max() + 1, n)
            np.minimum.at(low, code[valid], label[valid])
            label[valid] = np.minimum(label[valid], low[code[valid]])
        label = label[label]  # pointer jumping
        if (label == before).all():
            break
    return label


def _why(rows: pd.DataFrame, pos: np.ndarray, rep: np.ndarray) -> list[str]:
    """Which key each merged row shares with its representative."""

    def same(key: str) -> np.ndarray:
        a, b = rows[key].to_numpy()[pos], rows[key].to_numpy()[rep]
        return np.asarray(pd.notna(a) & (a == b), dtype=bool)

    licence = rows["licence"].to_numpy()[pos]
    code = rows["credit_code"].to_numpy()[pos]
    chosen: list[str] = np.select(
        [same("k_lic"), same("k_place"), same("k_code")],
        [
            "same licence number " + licence.astype(str),
            np.full(len(pos), "same name and address"),
            "same credit code " + code.astype(str) + " and name",
        ],
        "a duplicate of one of its duplicates",
    ).tolist()
    return chosen


def _dedupe(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Representatives of each group of duplicates, and the report of the merged rows."""
    rows = rows.assign(
        k_lic=_key(rows["licence"]),
        k_place=(_key(rows["name"]) + "|" + _key(rows["address"])),
        k_code=(_key(rows["credit_code"]) + "|" + _key(rows["name"])),
    )
    group = _components([rows["k_lic"], rows["k_place"], rows["k_code"]], len(rows))
    rank = pd.DataFrame(
        {
            "g": group,
            "no_xy": rows["problem"] != "",
            "closed": ~rows["active"],
            "no_lic": rows["licence"] == "",
            "pos": np.arange(len(rows)),
        }
    ).sort_values(["g", "no_xy", "closed", "no_lic", "pos"])
    rep_of = pd.Series(rank.groupby("g")["pos"].first())
    rows = rows.assign(rep=rep_of.reindex(group).to_numpy())
    is_rep = rows["rep"].to_numpy() == np.arange(len(rows))
    pos = np.flatnonzero(~is_rep)
    rep = rows["rep"].to_numpy()[pos].astype(int)
    where = (
        rows["file"].to_numpy()[rep].astype(str) + " row " + rows["row"].to_numpy()[rep].astype(str)
    )
    reasons = [
        f"duplicate of {w} ({why})" for w, why in zip(where, _why(rows, pos, rep), strict=True)
    ]
    notes = _group_notes(rows, is_rep)
    reps = rows[is_rep].copy()
    reps["notes"] = [
        "; ".join(x for x in (fix, notes.get(int(i), "")) if x)
        for i, fix in zip(np.flatnonzero(is_rep), reps["fix"], strict=True)
    ]
    report = pd.DataFrame({"pos": pos, "rep": rep, "reason": reasons})
    return reps, report


def _group_notes(rows: pd.DataFrame, is_rep: np.ndarray) -> dict[int, str]:
    """Notes on representatives whose copies disagree on 登记状态."""
    in_groups = rows[rows["rep"].isin(rows.loc[~is_rep, "rep"])]
    mixed = in_groups.groupby("rep")["active"].agg(lambda a: bool(a.any() and not a.all()))
    notes: dict[int, str] = {}
    for rep in mixed.index[mixed.to_numpy()]:
        members = in_groups[in_groups["rep"] == rep]
        seen = "; ".join(
            f"{s or '(blank)'} in {f} row {r}"
            for s, f, r in members[["status", "file", "row"]].itertuples(index=False)
        )
        notes[int(rep)] = f"登记状态 differs between copies ({seen}): screened, verify on site"
    return notes


# ---------------------------------------------------------------------------
# the result


@dataclass(frozen=True)
class Registry:
    """Venues read from one or more registry files.

    Attributes
    ----------
    hazards
        Canonical hazards (index ``hazard_id``; ``name``, ``category``,
        ``subcategory``, ``address``, ``source`` ``registry:<file>#<row>``,
        ``direction``) plus :data:`HAZARD_COLUMNS`; EPSG:4326 points. Rows
        classified ``other`` are included (and listed in `rejects`).
    closed
        Closed businesses (注销/吊销 ...) with usable coordinates, same columns:
        not screened, but noted on an OSM venue they match.
    rejects
        :data:`~campus_geo.layers.REJECT_COLUMNS`: every row not used (no usable
        coordinates, not active) and every unclassified row.
    merged
        :data:`MERGE_COLUMNS`: every row merged into another record (a registry
        duplicate or, after :func:`merge_with_osm`, an OSM venue).
    fixed
        Rows used after a fix (swapped lon/lat, both in one cell): file, row,
        column, reason.
    rows_read
        Data rows read from all files.
    files
        The files read, as given.
    """

    hazards: gpd.GeoDataFrame
    closed: gpd.GeoDataFrame
    rejects: pd.DataFrame
    merged: pd.DataFrame
    fixed: pd.DataFrame
    rows_read: int
    files: tuple[str, ...] = field(default=())

    @property
    def counts(self) -> dict[str, int]:
        """Rows read, used (own hazard record), merged, rejected; unclassified and fixed."""
        rejected = int((~self.rejects["reason"].str.startswith("unclassified")).sum())
        return {
            "read": self.rows_read,
            "used": len(self.hazards),
            "merged": len(self.merged),
            "rejected": rejected,
            "unclassified": int((self.hazards["category"] == "other").sum()),
            "fixed": len(self.fixed),
        }

    def summary(self) -> str:
        """One line for the command's summary.

        Examples
        --------
        >>> import warnings
        >>> from campus_geo import CoordinateWarning, demo
        >>> with warnings.catch_warnings(action="ignore", category=CoordinateWarning):
        ...     reg = hazards_from_registry(demo.DEMO_DIR / "registry_gbk.csv", coords="gcj02")
        >>> print(reg.summary())  # doctest: +NORMALIZE_WHITESPACE
        Registry registry_gbk.csv: 88 rows read, 78 used (9 unclassified, kept as other),
        3 merged, 7 rejected; 3 used after a fix.
        """
        c = self.counts
        return (
            f"Registry {', '.join(Path(f).name for f in self.files)}: {c['read']} rows read, "
            f"{c['used']} used ({c['unclassified']} unclassified, kept as other), "
            f"{c['merged']} merged, {c['rejected']} rejected; {c['fixed']} used after a fix."
        )


def _hazard_ids(reps: pd.DataFrame) -> pd.Series:
    code = reps["credit_code"].astype(str).str.strip().str.upper()
    valid = codes_valid(code)
    lic = reps["licence"].astype(str).str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    # sha1 names the place compactly (an identifier, not a security measure); only the rows
    # with neither a valid code nor a licence need it, and rows whose ids clash
    digest = pd.Series("", index=reps.index, dtype=object)
    needs = (~valid & (lic == "")) | code.duplicated(keep=False) | lic.duplicated(keep=False)
    digest[needs] = reps.loc[needs, "k_place"].map(
        lambda s: hashlib.sha1(str(s).encode("utf-8")).hexdigest()[:12] if pd.notna(s) else ""
    )
    # a row with neither code, licence, name nor address has only its position (logged)
    digest = digest.where(digest != "", "row-" + reps["file"] + "#" + reps["row"].astype(str))
    ids = np.where(
        valid, "registry:" + code, np.where(lic != "", "registry:" + lic, "registry:" + digest)
    )
    out = pd.Series(ids, index=reps.index, dtype=object)
    clash = out.duplicated(keep=False)
    out[clash] = out[clash] + "~" + digest[clash].str[:8]
    return out


def _records(rows: pd.DataFrame, raw: dict[str, pd.DataFrame]) -> list[str]:
    """The cells of each row as read, as JSON (built for rejected rows only)."""
    texts: dict[object, str] = {}
    for path, part in rows.groupby("path", sort=False):
        cells = raw[str(path)].loc[part["row"].to_numpy()].to_dict("records")
        dumped = [
            json.dumps(
                {k: v for k, v in c.items() if v is not None}, ensure_ascii=False, default=str
            )
            for c in cells
        ]
        texts.update(zip(part.index, dumped, strict=True))
    return [texts[i] for i in rows.index]


def _reject_frame(
    rows: pd.DataFrame, column: pd.Series, reason: pd.Series, raw: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": rows["path"],
            "row": rows["row"].astype(str),
            "column": column,
            "reason": reason,
            "record": _records(rows, raw),
        },
        index=rows.index,
        columns=REJECT_COLUMNS,
    ).reset_index(drop=True)


def _points(rows: pd.DataFrame, ids: pd.Series) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {
            "name": rows["name"],
            "category": rows["category"],
            "subcategory": rows["subcategory"],
            "address": rows["address"],
            "source": "registry:" + rows["file"] + "#" + rows["row"].astype(str),
            "direction": np.nan,
            "licence": rows["licence"],
            "credit_code": rows["credit_code"],
            "status": rows["status"],
            "township": rows["township"],
            "notes": rows["notes"],
        },
        geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
        crs=DEFAULT_CRS,
    )
    gdf.index = pd.Index(ids.to_numpy(), name="hazard_id")
    return gdf


def hazards_from_registry(
    filepaths: str | Path | Sequence[str | Path],
    *,
    coords: str | Sequence[str | None] | None = None,
    categories: CategoryRegistry | None = None,
) -> Registry:
    """Read business registries (CSV or xlsx) into a hazards layer, with rejects and merges.

    Parameters
    ----------
    filepaths
        One file or several (duplicates are merged across them).
    coords
        Coordinate system of each file's lon/lat ("wgs84", "gcj02", "bd09"
        or an alias): one for all files or one per file. None: taken from a
        header such as 经度(GCJ-02), else WGS 84 with a warning.
    categories
        The hazard categories whose words classify the rows (the default rule
        table's when None; a user's table may add some).

    Returns
    -------
    Registry
        Hazards (EPSG:4326), closed businesses, rejects, merges, fixes, counts.

    Raises
    ------
    InputDataError
        A file that is missing, not UTF-8/GBK/GB18030 text or xlsx, has no
        header row naming the venue and its coordinates, or declares a
        coordinate system that its header contradicts.

    Warns
    -----
    CoordinateWarning
        A file without a declared coordinate system (taken as WGS 84); each row
        whose longitude and latitude were swapped back or split from one cell.

    Examples
    --------
    >>> import warnings
    >>> from campus_geo import CoordinateWarning, demo
    >>> with warnings.catch_warnings(record=True) as fixes:
    ...     warnings.simplefilter("always", CoordinateWarning)
    ...     reg = hazards_from_registry(demo.DEMO_DIR / "registry.xlsx", coords="gcj02")
    >>> print(fixes[1].message)  # each fixed row is a CoordinateWarning (and a log line)
    registry.xlsx row 131 (经度/纬度): longitude and latitude swapped (34.093164, 113.916121); swapped back
    >>> reg.hazards.loc["registry:92419950MA101NT60L", ["name", "category", "subcategory"]].tolist()
    ['阳光棋牌室', 'arcade', 'scope:棋牌室']
    """
    paths = [Path(filepaths)] if isinstance(filepaths, str | Path) else [Path(p) for p in filepaths]
    systems = (
        list(coords)
        if isinstance(coords, Sequence) and not isinstance(coords, str)
        else [coords] * len(paths)
    )
    if len(systems) != len(paths):
        msg = (
            f"{len(paths)} registry files but {len(systems)} coordinate systems; give one per file"
        )
        raise ValueError(msg)
    read = [_read_file(p, s, i) for i, (p, s) in enumerate(zip(paths, systems, strict=True))]
    rows = pd.concat([r[0] for r in read], ignore_index=True)
    raw = {str(p): r[1] for p, r in zip(paths, read, strict=True)}
    rows["active"] = ~rows["status"].str.contains("|".join(INACTIVE_WORDS), case=False, regex=True)
    rows["category"], rows["subcategory"] = classify_registry(rows, categories)
    reps, report = _dedupe(rows)
    reps["id"] = _hazard_ids(reps)
    merged = pd.DataFrame(
        {
            "file": rows["path"].to_numpy()[report["pos"]],
            "row": rows["row"].to_numpy()[report["pos"]].astype(str),
            "merged_into": reps["id"].reindex(report["rep"]).to_numpy(),
            "reason": report["reason"].to_numpy(),
        },
        columns=MERGE_COLUMNS,
    )
    usable = reps["problem"] == ""
    active = reps["active"]
    hazards = _points(reps[usable & active], reps.loc[usable & active, "id"])
    closed = _points(reps[usable & ~active], reps.loc[usable & ~active, "id"])
    no_xy = reps[~usable]
    shut = reps[usable & ~active]
    other = reps[usable & active & (reps["category"] == "other")]
    rejects = pd.concat(
        [
            _reject_frame(no_xy, no_xy["column"], no_xy["problem"], raw),
            _reject_frame(
                shut, shut["status_column"], "not active: 登记状态 " + shut["status"], raw
            ),
            _reject_frame(
                other,
                other["scope_column"].where(other["scope_column"] != "", other["name_column"]),
                pd.Series(
                    "unclassified: no 类别, licence, business scope or name keyword matched; "
                    "kept as category other",
                    index=other.index,
                ),
                raw,
            ),
        ],
        ignore_index=True,
    )
    fixed_rows = reps[usable & (reps["fix"] != "")]
    fixed = pd.DataFrame(
        {
            "file": fixed_rows["path"],
            "row": fixed_rows["row"].astype(str),
            "column": fixed_rows["column"],
            "reason": fixed_rows["fix"],
        }
    ).reset_index(drop=True)
    for r in fixed.itertuples():
        warn_data(
            log,
            f"{Path(str(r.file)).name} row {r.row} ({r.column}): {r.reason}",
            CoordinateWarning,
            stacklevel=None,
        )
    result = Registry(
        hazards=hazards,
        closed=closed,
        rejects=rejects,
        merged=merged,
        fixed=fixed,
        rows_read=len(rows),
        files=tuple(str(p) for p in paths),
    )
    log.info("%s", result.summary())
    return result


# ---------------------------------------------------------------------------
# registry venues that OSM already has


def _name_key(name: object) -> str:
    norm = unicodedata.normalize("NFKC", str(name or "")).lower()
    return re.sub(r"[\s\-_.,;:·、，。；：'\"“”‘’()（）\[\]【】]+", "", norm)


def _names_match(a: object, b: object) -> bool:
    ka, kb = _name_key(a), _name_key(b)
    if not ka or not kb:
        return False
    short, long_ = sorted((ka, kb), key=len)
    return short == long_ or (len(short) >= 2 and short in long_)


def _pairs(points: gpd.GeoDataFrame, osm: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
    """Registry point / OSM venue pairs of the same category and name within `dist` metres."""
    if points.empty or osm.empty:
        return pd.DataFrame(columns=["reg", "osm", "distance_m"])
    crs = local_crs(pd.concat([points.geometry, osm.geometry]))  # type: ignore[arg-type]
    # candidates in a local transverse Mercator (scale error < 1e-3 at district scale,
    # far below the merge distance); the reported distance is then measured on the ellipsoid
    near = gpd.sjoin(
        gpd.GeoDataFrame(geometry=points.geometry.to_crs(crs).to_numpy(), crs=crs),
        gpd.GeoDataFrame(geometry=osm.geometry.to_crs(crs).to_numpy(), crs=crs),
        predicate="dwithin",
        distance=dist * 1.01 + 0.01,
    )
    if near.empty:
        return pd.DataFrame(columns=["reg", "osm", "distance_m"])
    reg_ids = points.index.to_numpy()[near.index.to_numpy()]
    osm_ids = osm.index.to_numpy()[near["index_right"].to_numpy()]
    same = (
        points.loc[reg_ids, "category"].to_numpy() == osm.loc[osm_ids, "category"].to_numpy()
    ) & [
        _names_match(a, b)
        for a, b in zip(points.loc[reg_ids, "name"], osm.loc[osm_ids, "name"], strict=True)
    ]
    reg_ids, osm_ids = reg_ids[same], osm_ids[same]
    reg_geom = points.geometry.loc[reg_ids].to_numpy()
    osm_geom = osm.geometry.loc[osm_ids].to_numpy()
    import shapely

    ends = shapely.get_coordinates(shapely.shortest_line(reg_geom, osm_geom)).reshape(-1, 4)
    d = (
        geodesic_distance(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
        if len(ends)
        else np.empty(0)
    )
    pairs = pd.DataFrame({"reg": reg_ids, "osm": osm_ids, "distance_m": d})
    pairs = pairs[pairs["distance_m"] <= dist].sort_values(["distance_m", "reg", "osm"])
    # one to one: the nearest pairs first
    pairs = pairs.drop_duplicates("reg").drop_duplicates("osm")
    return pairs.reset_index(drop=True)


def merge_with_osm(
    osm_hazards: gpd.GeoDataFrame, registry: Registry, *, dist: float = MERGE_DIST_M
) -> tuple[gpd.GeoDataFrame, Registry]:
    """Join registry venues to the OSM venues they duplicate; return all hazards.

    A registry venue and an OSM venue are one venue when they have the same
    category, matching names (equal, or one contains the other, after NFKC
    and removing spaces and punctuation) and lie within `dist` metres on the
    WGS 84 ellipsoid. The OSM feature is kept: its id (findings keep their ids
    whether or not a registry is loaded) and its mapped geometry (an outline
    when OSM has one, where a registry has a geocoded address point). The
    registry's ``licence``, ``credit_code``, ``status`` and ``notes`` are
    attached to it and its ``source`` names the registry row, which is
    reported in ``merged``. A closed registry business matching an OSM venue
    leaves a note on it (the venue stays: verify on site).

    Parameters
    ----------
    osm_hazards
        Canonical hazards from OSM (any other source works too).
    registry
        From :func:`hazards_from_registry`.
    dist
        Largest distance in metres between the two (WGS 84 ellipsoid).

    Returns
    -------
    hazards, registry
        The OSM hazards (annotated) followed by the registry hazards that
        match none; the registry with the matched rows moved to ``merged``.

    Examples
    --------
    >>> import warnings
    >>> from campus_geo import CoordinateWarning, demo, layers
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> with warnings.catch_warnings(action="ignore", category=CoordinateWarning):
    ...     reg = hazards_from_registry(demo.DEMO_DIR / "registry_gbk.csv", coords="gcj02")
    >>> hazards, reg2 = merge_with_osm(osm.hazards, reg)
    >>> hazards.loc["node/1004240", ["name", "licence"]].tolist()
    ['和顺网咖', '豫网文〔2019〕0898-025号']
    """
    osm = osm_hazards.copy()
    for column in HAZARD_COLUMNS:
        if column not in osm.columns:
            osm[column] = pd.Series("", index=osm.index, dtype=object)
        osm[column] = osm[column].fillna("").astype(object)
    pairs = _pairs(registry.hazards, osm, dist)
    reg = registry.hazards
    rows = []
    for p in pairs.itertuples():
        r = reg.loc[p.reg]
        for column in ("licence", "credit_code", "status"):
            osm.loc[p.osm, column] = r[column]
        osm.loc[p.osm, "source"] = f"{osm.loc[p.osm, 'source']}; {r['source']}"
        note = r["notes"]
        osm.loc[p.osm, "notes"] = "; ".join(x for x in (osm.loc[p.osm, "notes"], note) if x)
        file, _, row = str(r["source"]).removeprefix("registry:").rpartition("#")
        rows.append(
            (
                file,
                row,
                p.osm,
                f"same venue as OSM {p.osm} {osm.loc[p.osm, 'name']} ({p.distance_m:.2f} m, same "
                f"category and name): the OSM feature is kept, the registry's licence attached",
            )
        )
    shut = _pairs(registry.closed, osm, dist)
    for p in shut.itertuples():
        c = registry.closed.loc[p.reg]
        note = f"registry says {c['status']} ({c['source']}): verify on site"
        osm.loc[p.osm, "notes"] = "; ".join(x for x in (osm.loc[p.osm, "notes"], note) if x)
    paths = {Path(f).name: f for f in registry.files}
    extra = pd.DataFrame(rows, columns=MERGE_COLUMNS)
    extra["file"] = extra["file"].map(lambda f: paths.get(f, f))
    kept = reg.drop(index=pairs["reg"].to_numpy())
    log.info(
        "%d registry venue(s) merged into OSM venues within %g m; %d closed ones noted",
        len(pairs),
        dist,
        len(shut),
    )
    combined = gpd.GeoDataFrame(pd.concat([osm, kept]), geometry="geometry", crs=DEFAULT_CRS)
    combined.index.name = "hazard_id"
    updated = replace(
        registry, hazards=kept, merged=pd.concat([registry.merged, extra], ignore_index=True)
    )
    return combined, updated
