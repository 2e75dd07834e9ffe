"""Names of school gates: by their side of the campus (东门, 南门, 西北门 ...) and their OSM name.

A gate in OSM is a node (``entrance=*`` or ``barrier=gate``) whose id means
nothing to an inspector (``node/1003704``). Offices name gates by the side of
the campus they open on, so each gate gets that side: the geodesic azimuth on
the WGS 84 ellipsoid (:data:`campus_geo.geodesy.GEOD`) from the campus's
representative point to the gate, in eight sectors of 45 degrees (north is
-22.5 to 22.5 degrees). A gate with its own name (``name:zh``, ``name``) keeps
it, the side following in brackets when the name does not say it: ``正门（南门）``.
Two unnamed gates on one side are numbered from west to east, then north to
south: ``东门1``, ``东门2``.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from campus_geo.geodesy import GEOD

__all__ = ["SIDES", "gate_names", "side_of"]

#: The eight sides, from north clockwise: (Chinese, English).
SIDES: Final[tuple[tuple[str, str], ...]] = (
    ("北门", "north gate"),
    ("东北门", "north-east gate"),
    ("东门", "east gate"),
    ("东南门", "south-east gate"),
    ("南门", "south gate"),
    ("西南门", "south-west gate"),
    ("西门", "west gate"),
    ("西北门", "north-west gate"),
)


def side_of(azimuth_deg: float | np.ndarray, lang: str = "zh") -> np.ndarray:
    """The side (北门, 东北门 ...) of gates at these azimuths from the campus centre.

    Examples
    --------
    >>> side_of(np.array([0.0, 44.0, 91.0, 180.0, -100.0, 337.6])).tolist()
    ['北门', '东北门', '东门', '南门', '西门', '北门']
    >>> side_of(225.0, lang="en").tolist()
    ['south-west gate']
    """
    sector = np.floor(((np.atleast_1d(np.asarray(azimuth_deg, dtype=float)) + 22.5) % 360) / 45)
    labels = np.array([zh if lang == "zh" else en for zh, en in SIDES], dtype=object)
    return labels[sector.astype(np.int64)]


def _own_names(entrances: pd.DataFrame) -> pd.Series:
    names = pd.Series("", index=entrances.index, dtype=object)
    for column in ("name:zh-Hans", "name:zh", "name"):  # the Chinese name first
        if column in entrances.columns:
            values = entrances[column].fillna("").astype(str).str.strip()
            names = names.where(names != "", values)
    return names


def gate_names(
    entrances: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, lang: str = "zh"
) -> pd.Series:
    """A name for each gate: its own name, else its side of the campus, numbered when repeated.

    Parameters
    ----------
    entrances
        Gates with a ``school_id`` column (points, EPSG:4326), optionally
        ``name:zh-Hans``, ``name:zh`` and ``name`` columns.
    schools
        The schools layer (EPSG:4326) the ``school_id`` values refer to.
    lang
        ``"zh"`` (东门) or ``"en"`` (east gate).

    Returns
    -------
    pandas.Series
        Indexed like `entrances`. A gate of a school not in `schools` gets its own
        name or its id.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> schools = gpd.GeoDataFrame({"name": ["小学"]}, geometry=[box(113.0, 34.0, 113.002, 34.002)],
    ...                            index=pd.Index(["s1"], name="school_id"), crs=4326)
    >>> gates = gpd.GeoDataFrame(
    ...     {"school_id": ["s1"] * 4, "name": ["", "", "", "正门"]},
    ...     geometry=[Point(113.002, 34.0008), Point(113.002, 34.0012), Point(113.001, 34.0),
    ...               Point(113.0, 34.001)],
    ...     index=pd.Index(["node/1", "node/2", "node/3", "node/4"], name="entrance_id"), crs=4326)
    >>> gate_names(gates, schools).tolist()
    ['东门2', '东门1', '南门', '正门（西门）']
    """
    names = _own_names(entrances)
    out = pd.Series(entrances.index.astype(str), index=entrances.index, dtype=object)
    out = out.where(names == "", names)
    known = entrances["school_id"].astype(str).isin(schools.index.astype(str))
    if not known.any():
        return out
    gates = entrances[known]
    centres = shapely.point_on_surface(
        schools.geometry.reindex(gates["school_id"].astype(str)).to_numpy()
    )
    glon, glat = shapely.get_x(gates.geometry.values), shapely.get_y(gates.geometry.values)
    azimuth, _, distance = GEOD.inv(shapely.get_x(centres), shapely.get_y(centres), glon, glat)
    side = pd.Series(side_of(np.asarray(azimuth), lang), index=gates.index, dtype=object)
    # a gate at the centre (a school mapped as a point) has no side
    side[np.asarray(distance) < 1e-3] = "校门" if lang == "zh" else "gate"
    own = names[known]
    # the unnamed gates of one side are numbered west to east, then north to south
    frame = pd.DataFrame(
        {"school": gates["school_id"].astype(str), "side": side, "lon": glon, "lat": -glat}
    )[(own == "").to_numpy()]
    frame = frame.sort_values(["school", "side", "lon", "lat"], kind="stable")
    count = frame.groupby(["school", "side"])["side"].transform("size")
    number = frame.groupby(["school", "side"]).cumcount() + 1
    numbered = frame["side"].where(count == 1, frame["side"] + number.astype(str))
    out[numbered.index] = numbered
    bracket = "{}（{}）" if lang == "zh" else "{} ({})"
    named = own[own != ""]
    out[named.index] = [
        n if s in n else bracket.format(n, s) for n, s in zip(named, side[named.index], strict=True)
    ]
    return out
