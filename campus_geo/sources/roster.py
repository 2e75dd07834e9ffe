"""School rosters (学校名单) from the education bureau, matched to mapped campuses.

A county's education bureau keeps the authoritative list of its schools: name,
kind (学段/类型), township, village, address and, for some, coordinates (often
geocoded, GCJ-02). OpenStreetMap has the campus outlines, which the 200 m is
measured from, but not always the kind, the township or the village the
campaign reports by. :func:`schools_from_roster` joins the two:

- A roster row **with coordinates** is matched to a mapped school within
  `match_dist` metres (WGS 84 ellipsoid; 0 inside the outline) whose name
  matches: equal after NFKC and removing spaces and punctuation (青禾区实验小学
  (北校区) = 青禾区实验小学（北校区）, 柳湾镇 中心小学 = 柳湾镇中心小学), else one name
  containing the other, else a close spelling (difflib ratio >= 0.8); a point
  inside an outline of the same kind matches too, with a note.
- A row **without coordinates**, or whose point is far from any mapped school
  of that name, is matched by name alone: the one mapped school of that name
  (in the same township when the roster gives one).
- **Matched**: the mapped geometry is used for measurement (an outline beats a
  roster point) and the roster supplies ``kind``, ``township`` and ``village``;
  the school keeps its id (``way/123``) and its source names the roster row.
- **Roster only** with coordinates: a school of its own, a point (findings say
  the outline is unknown), id ``roster:<学校标识码>`` or ``roster:<name>``.
- **Unmatched** rows without coordinates cannot be screened: they are listed in
  ``unmatched`` and the rejects with the reason. Mapped schools that no roster
  row names are kept and listed in ``not_on_roster``.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo._errors import CoordinateWarning, InputDataError, warn_data
from campus_geo.categories import school_kinds
from campus_geo.coords import normalise_system, out_of_china, to_wgs84
from campus_geo.geodesy import geodesic_distance, local_crs
from campus_geo.settings import DEFAULT_CRS, SCHOOL_KINDS
from campus_geo.sources import tables as _tables
from campus_geo.sources.checks import REJECT_COLUMNS, undeclared_coords_error

__all__ = ["MATCH_COLUMNS", "ROSTER_FIELDS", "ROSTER_MATCH_M", "Roster", "schools_from_roster"]

log = logging.getLogger(__name__)

#: Field -> header names recognised (see campus_geo.sources.tables.normalise_header).
ROSTER_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "name": ("学校名称", "学校", "名称", "单位名称", "school_name", "school", "name"),
    "kind": ("学段/类型", "学段类型", "学段", "学校类型", "办学类型", "类型", "kind", "type", "level"),
    "code": ("学校标识码", "学校代码", "标识码", "school_code", "code", "id"),
    "township": ("所属乡镇", "乡镇", "乡镇街道", "街道", "township"),
    "village": ("所属村", "村", "社区", "村社区", "所属社区", "village", "community"),
    "address": ("地址", "学校地址", "详细地址", "address"),
    "lon": ("经度", "lon", "lng", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "coord": ("坐标", "经纬度", "coordinates", "lnglat", "lonlat"),
}  # fmt: skip
#: A roster point and a mapped school farther apart than this (metres) are not
#: matched by position (they may still match by name alone).
ROSTER_MATCH_M: Final = 300.0
#: Columns of the match report.
MATCH_COLUMNS: Final = [
    "file",
    "row",
    "roster_name",
    "school_id",
    "school_name",
    "how",
    "distance_m",
]
_SIMILAR: Final = 0.8


def _name_key(name: object) -> str:
    """Name for matching: NFKC, lower case, without spaces, punctuation or bracket marks."""
    norm = unicodedata.normalize("NFKC", str(name or "")).lower()
    return re.sub(r"[\s\-_.,;:·、，。；：'\"“”‘’()（）\[\]【】]+", "", norm)


def _name_score(a: str, b: str) -> int:
    """3 equal, 2 one contains the other, 1 similar spelling, 0 different (keys)."""
    if not a or not b:
        return 0
    if a == b:
        return 3
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and short in long_:
        return 2
    return int(difflib.SequenceMatcher(None, a, b).ratio() >= _SIMILAR)


@dataclass(frozen=True)
class Roster:
    """A roster joined to the mapped schools.

    Attributes
    ----------
    schools
        Canonical schools layer: the mapped schools (matched ones with the
        roster's kind, township, village) and the roster-only schools with
        coordinates (points); EPSG:4326, index ``school_id``.
    matches
        :data:`MATCH_COLUMNS`, one row per matched roster row; ``how`` says
        by what (``name+distance``, ``name``, ``inside outline``).
    unmatched
        Roster rows that could not be placed (no coordinates, no mapped school
        of that name): file, row, name, reason.
    not_on_roster
        Mapped schools no roster row names: school_id, name, kind, township.
    rejects
        :data:`~campus_geo.layers.REJECT_COLUMNS` for the unmatched rows.
    rows_read
        Data rows of the roster.
    """

    schools: gpd.GeoDataFrame
    matches: pd.DataFrame
    unmatched: pd.DataFrame
    not_on_roster: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int

    def summary(self) -> str:
        """One line for the command's summary."""
        added = int(self.schools["source"].astype(str).str.startswith("roster:").sum())
        return (
            f"Roster: {self.rows_read} rows read, {len(self.matches)} matched to mapped schools, "
            f"{added} added as points, {len(self.unmatched)} unmatched; "
            f"{len(self.not_on_roster)} mapped schools not on the roster."
        )


def _kinds(labels: pd.Series, names: pd.Series) -> pd.Series:
    """Kind from the 学段/类型 column (Chinese label or English kind), else from the name."""
    english = labels.str.strip().str.lower()
    from_label = school_kinds(labels.where(labels != "", ""))
    from_label = from_label.where(~english.isin(SCHOOL_KINDS), english)
    from_name = school_kinds(names)
    return from_label.where((labels != "") & (from_label != "other"), from_name)


def _read(path: Path, coords: str | None) -> pd.DataFrame:
    raw = _tables.read_table(path, ROSTER_FIELDS, required="name")
    cols = _tables.match_columns(raw.columns, ROSTER_FIELDS)
    frame = raw.frame
    out = pd.DataFrame(index=frame.index)
    for fld in ("name", "kind", "code", "township", "village", "address"):
        out[fld] = _tables.text_column(frame[cols[fld]]) if fld in cols else ""
    out["kind"] = _kinds(out["kind"], out["name"])
    has_xy = "coord" in cols or "lon" in cols
    if has_xy:
        xy = _tables.parse_lonlat(
            frame, lon=cols.get("lon"), lat=cols.get("lat"), pair=cols.get("coord")
        )
        ok = xy["problem"] == ""
        hint = _tables.system_from_header(cols.get("lon"), cols.get("lat"), cols.get("coord"))
        system = (
            _system(path, coords, hint, xy.loc[ok, "lon"].to_numpy(), xy.loc[ok, "lat"].to_numpy())
            if ok.any()
            else "wgs84"
        )
        if ok.any():
            lon, lat = to_wgs84(
                xy.loc[ok, "lon"].to_numpy(), xy.loc[ok, "lat"].to_numpy(), system, label=path.name
            )
            xy.loc[ok, "lon"], xy.loc[ok, "lat"] = lon, lat
        out = out.join(xy)
    else:
        out = out.assign(lon=np.nan, lat=np.nan, column="", problem="missing coordinates", fix="")
    for r in out[out["fix"] != ""].itertuples():
        warn_data(log, f"{path.name} row {r.Index}: {r.fix}", CoordinateWarning, stacklevel=None)
    out["file"], out["path"], out["row"] = path.name, str(path), out.index.astype(int)
    out["record"] = [
        str({k: v for k, v in r.items() if v is not None}) for r in frame.to_dict("records")
    ]
    return out.reset_index(drop=True)


def _system(
    path: Path, coords: str | None, hint: str | None, lon: np.ndarray, lat: np.ndarray
) -> str:
    """The declared system: `coords`, else the header's; refused for points in China if neither."""
    if coords is not None:
        declared = normalise_system(coords)
        if hint is not None and hint != declared:
            msg = f"{path}: coordinates declared {declared} but the header says {hint}"
            raise InputDataError(msg)
        return declared
    if hint is not None:
        return hint
    if not out_of_china(lon, lat).all():
        raise undeclared_coords_error(path, "coordinate")
    return "wgs84"  # no point in China: GCJ-02 and BD-09 equal WGS 84 there


def _by_position(roster: pd.DataFrame, schools: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
    """Candidate (roster row, school) pairs within `dist` metres, with name scores."""
    located = roster[roster["problem"] == ""]
    empty = pd.DataFrame(columns=["pos", "school_id", "score", "distance_m", "how"])
    if located.empty or schools.empty:
        return empty
    pts = gpd.GeoSeries(gpd.points_from_xy(located["lon"], located["lat"]), crs=DEFAULT_CRS)
    crs = local_crs(pd.concat([pts, schools.geometry]))  # type: ignore[arg-type]
    # candidates in a local transverse Mercator; distances measured on the ellipsoid below
    near = gpd.sjoin(
        gpd.GeoDataFrame(geometry=pts.to_crs(crs).to_numpy(), crs=crs),
        gpd.GeoDataFrame(geometry=schools.geometry.to_crs(crs).to_numpy(), crs=crs),
        predicate="dwithin",
        distance=dist * 1.01,
    )
    if near.empty:
        return empty
    pos = located.index.to_numpy()[near.index.to_numpy()]
    sid = schools.index.to_numpy()[near["index_right"].to_numpy()]
    pgeom = pts.to_numpy()[near.index.to_numpy()]
    sgeom = schools.geometry.to_numpy()[near["index_right"].to_numpy()]
    ends = shapely.get_coordinates(shapely.shortest_line(pgeom, sgeom)).reshape(-1, 4)
    d = geodesic_distance(ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3])
    d = np.where(shapely.intersects(pgeom, sgeom), 0.0, d)
    keys = schools["name"].map(_name_key)
    score = [
        _name_score(_name_key(roster.loc[p, "name"]), keys[s])
        for p, s in zip(pos, sid, strict=True)
    ]
    out = pd.DataFrame({"pos": pos, "school_id": sid, "score": score, "distance_m": d})
    inside = (out["score"] == 0) & (out["distance_m"] == 0.0)
    same_kind = (
        roster.loc[out["pos"], "kind"].to_numpy()
        == schools.loc[out["school_id"], "kind"].to_numpy()
    )
    out["how"] = np.where(out["score"] > 0, "name+distance", "inside outline (names differ)")
    keep = (out["distance_m"] <= dist) & ((out["score"] > 0) | (inside & same_kind))
    return pd.DataFrame(out[keep])


def _by_name(roster: pd.DataFrame, schools: gpd.GeoDataFrame, todo: pd.Index) -> pd.DataFrame:
    """(roster row, school) pairs by name alone: the one school of that name (per township)."""
    keys = schools["name"].map(_name_key)
    towns = schools["township"].fillna("").map(_name_key)
    rows = []
    for pos in todo:
        key = _name_key(roster.loc[pos, "name"])
        town = _name_key(roster.loc[pos, "township"])
        for wanted in (3, 2):
            scores = keys.map(lambda k, key=key: _name_score(key, k))
            hits = scores.index[scores == wanted]
            if len(hits) > 1 and town:
                hits = hits[(towns[hits] == town) | (towns[hits] == "")]
            if len(hits) == 1:
                rows.append((pos, hits[0], wanted, np.nan, "name"))
                break
            if len(hits) > 1:
                break
    return pd.DataFrame(rows, columns=["pos", "school_id", "score", "distance_m", "how"])


def _one_to_one(pairs: pd.DataFrame) -> pd.DataFrame:
    ranked = pairs.assign(d=pairs["distance_m"].fillna(np.inf)).sort_values(
        ["score", "d", "pos"], ascending=[False, True, True]
    )
    return ranked.drop_duplicates("pos").drop_duplicates("school_id").drop(columns="d")


def _roster_only(rows: pd.DataFrame, taken: set[str]) -> gpd.GeoDataFrame:
    ids = pd.Series(
        np.where(rows["code"] != "", "roster:" + rows["code"], "roster:" + rows["name"]),
        index=rows.index,
        dtype=object,
    )
    clash = ids.duplicated(keep=False) | ids.isin(taken)
    ids[clash] = (
        ids[clash] + "@" + rows.loc[clash, "township"] + "#" + rows.loc[clash, "row"].astype(str)
    )
    gdf = gpd.GeoDataFrame(
        {
            "name": rows["name"],
            "kind": rows["kind"],
            "township": rows["township"],
            "village": rows["village"],
            "alt_names": "",
            "source": "roster:" + rows["file"] + "#" + rows["row"].astype(str),
        },
        geometry=gpd.points_from_xy(rows["lon"], rows["lat"]),
        crs=DEFAULT_CRS,
    )
    gdf.index = pd.Index(ids.to_numpy(), name="school_id")
    return gdf


def _apply(
    schools: gpd.GeoDataFrame, roster: pd.DataFrame, pairs: pd.DataFrame
) -> gpd.GeoDataFrame:
    out = schools.copy()
    if "alt_names" not in out.columns:
        out["alt_names"] = ""
    out["alt_names"] = out["alt_names"].fillna("").astype(str)
    for pos, sid in zip(pairs["pos"].tolist(), pairs["school_id"].tolist(), strict=True):
        r = roster.loc[pos]
        changed = {k: r[k] for k in ("kind", "township", "village") if r[k]}
        for column, value in changed.items():
            out.loc[sid, column] = value
        if _name_key(r["name"]) != _name_key(out.loc[sid, "name"]):
            names = [n for n in str(out.loc[sid, "alt_names"]).split("；") if n]
            out.loc[sid, "alt_names"] = "；".join(dict.fromkeys([*names, str(r["name"])]))
        out.loc[sid, "source"] = f"{out.loc[sid, 'source']}; roster:{r['file']}#{r['row']}"
    return out


def schools_from_roster(
    filepath: str | Path,
    *,
    coords: str | None = None,
    schools: gpd.GeoDataFrame | None = None,
    match_dist: float = ROSTER_MATCH_M,
) -> Roster:
    """Read a school roster (CSV or xlsx) and join it to the mapped schools.

    Parameters
    ----------
    filepath
        The roster: a header naming 学校名称 (or name), optionally 学段/类型,
        学校标识码, 所属乡镇, 所属村（社区）, 地址, 经度/纬度 or 坐标.
    coords
        Coordinate system of its lon/lat ("wgs84", "gcj02", "bd09"); None:
        from the header, else WGS 84 with a warning.
    schools
        The mapped schools (canonical layer, e.g. from
        :func:`campus_geo.layers.layers_from_osm`); not modified.
    match_dist
        Metres (WGS 84 ellipsoid) within which a roster point may match a
        mapped school.

    Returns
    -------
    Roster

    Warns
    -----
    CoordinateWarning
        No coordinate system declared (taken as WGS 84); a row's longitude and
        latitude swapped back or split from one cell; a row's point far from
        the mapped school of its name (the mapped geometry is used).

    Examples
    --------
    >>> from campus_geo import demo, layers
    >>> osm = layers.layers_from_osm(demo.DEMO_DIR / "district.osm")
    >>> roster = schools_from_roster(
    ...     demo.DEMO_DIR / "schools_roster.xlsx", coords="gcj02", schools=osm.schools)
    >>> len(roster.schools), len(roster.matches), len(roster.unmatched)
    (77, 76, 0)
    """
    path = Path(filepath)
    roster = _read(path, coords)
    base = (
        schools
        if schools is not None
        else gpd.GeoDataFrame(
            {"name": [], "kind": [], "township": [], "village": [], "source": []},
            geometry=gpd.GeoSeries([], crs=DEFAULT_CRS),
        )
    )
    base = base.to_crs(DEFAULT_CRS)
    pairs = _one_to_one(_by_position(roster, base, match_dist))
    todo = roster.index.difference(pd.Index(pairs["pos"]))
    free = base.drop(index=pairs["school_id"].to_numpy())
    named = _one_to_one(_by_name(roster, free, todo))
    pairs = pd.concat([pairs, named], ignore_index=True) if len(named) else pairs
    far = named[roster.loc[named["pos"], "problem"].to_numpy() == ""] if len(named) else named
    for pos, sid in zip(far["pos"].tolist(), far["school_id"].tolist(), strict=True):
        warn_data(
            log,
            f"{path.name} row {roster.loc[pos, 'row']} {roster.loc[pos, 'name']}: its point is "
            f"over {match_dist:g} m from the mapped school of that name ({sid}); "
            "the mapped geometry is used",
            CoordinateWarning,
            stacklevel=None,
        )
    matched = set(pairs["pos"])
    left = roster[~roster.index.isin(matched)]
    placeable = left[left["problem"] == ""]
    lost = left[left["problem"] != ""]
    out = _apply(base, roster, pairs)
    if len(placeable):
        added = _roster_only(placeable, set(out.index))
        out = gpd.GeoDataFrame(pd.concat([out, added]), geometry="geometry", crs=DEFAULT_CRS)
    out.index.name = "school_id"
    reason = np.where(
        lost["problem"] == "missing coordinates",
        "no coordinates and no mapped school of this name; add 经度/纬度 or map the campus",
        lost["problem"] + "; and no mapped school of this name",
    )
    unmatched = pd.DataFrame(
        {
            "file": lost["path"],
            "row": lost["row"].astype(str),
            "name": lost["name"],
            "reason": reason,
        }
    ).reset_index(drop=True)
    rejects = pd.DataFrame(
        {
            "file": lost["path"],
            "row": lost["row"].astype(str),
            "column": lost["column"].where(lost["column"] != "", "经度/纬度"),
            "reason": reason,
            "record": lost["record"],
        },
        columns=REJECT_COLUMNS,
    ).reset_index(drop=True)
    matches = pd.DataFrame(
        {
            "file": roster.loc[pairs["pos"], "path"].to_numpy(),
            "row": roster.loc[pairs["pos"], "row"].astype(str).to_numpy(),
            "roster_name": roster.loc[pairs["pos"], "name"].to_numpy(),
            "school_id": pairs["school_id"].to_numpy(),
            "school_name": base.loc[pairs["school_id"], "name"].to_numpy(),
            "how": pairs["how"].to_numpy(),
            "distance_m": pairs["distance_m"].to_numpy(dtype=float),
        },
        columns=MATCH_COLUMNS,
    )
    missing = base.drop(index=pairs["school_id"].to_numpy())
    not_on_roster = pd.DataFrame(
        {
            "school_id": missing.index,
            "name": missing["name"],
            "kind": missing["kind"],
            "township": missing["township"],
        }
    ).reset_index(drop=True)
    result = Roster(
        schools=out,
        matches=matches,
        unmatched=unmatched,
        not_on_roster=not_on_roster,
        rejects=rejects,
        rows_read=len(roster),
    )
    log.info("%s: %s", path.name, result.summary())
    return result
