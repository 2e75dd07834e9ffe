"""Charts of the findings and the static map of one finding (matplotlib, offline).

Charts: findings by category and by township (stacked by category), saved as
PNG for the xlsx summary sheet and the HTML briefing page. Static map: the
campus outline, the hazard and the measured line with its length, drawn in the
transverse Mercator band the distance was measured in, with no basemap tiles.

Every label is drawn in a font with Chinese glyphs (:mod:`campus_geo.fonts`),
and output is byte-reproducible: figures are built with the object-oriented
API (no pyplot state), PNGs carry no software tag, SVGs no date and fixed ids,
and SVG text is drawn as paths, so the page that shows it needs no font.
"""

from __future__ import annotations

import io
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from matplotlib import patheffects as pe
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry.base import BaseGeometry

from campus_geo.category_registry import CategoryRegistry
from campus_geo.geodesy import band_crs, to_band
from campus_geo.reports.fonts import CJKFont, cjk_font, cjk_style
from campus_geo.rules import default_categories

__all__ = [
    "category_chart",
    "figure_png",
    "figure_svg",
    "finding_map",
    "save_charts",
    "township_chart",
]

log = logging.getLogger(__name__)

_INK: Final = "#1a1a1a"


def figure_png(fig: Figure, *, dpi: int = 150, font: CJKFont | None = None) -> bytes:
    """PNG bytes of a figure, the same bytes for the same figure (no software tag)."""
    buf = io.BytesIO()
    with cjk_style(font):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def figure_svg(fig: Figure, *, font: CJKFont | None = None) -> bytes:
    """SVG bytes of a figure: text as paths, no date, ids from a fixed salt."""
    buf = io.BytesIO()
    with cjk_style(font):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "campus_geo"})
    return buf.getvalue()


def _ordered_categories(values: pd.Series, categories: CategoryRegistry) -> list[str]:
    present = set(values.astype(str))
    known = [c for c in categories.keys if c in present]
    return known + sorted(present - set(known))


def category_chart(
    findings: pd.DataFrame,
    *,
    lang: str = "zh",
    font: CJKFont | None = None,
    categories: CategoryRegistry | None = None,
) -> Figure:
    """Horizontal bars: number of findings per hazard category (labels in `lang`).

    Parameters
    ----------
    findings
        Findings (a ``category`` column).
    lang
        "zh" or "en".
    font
        CJK font (found with :func:`cjk_font` when None).
    categories
        Labels and colours of the categories (the default rule table's when None).
    """
    table = default_categories() if categories is None else categories
    counts = findings["category"].astype(str).value_counts()
    order = sorted(_ordered_categories(findings["category"], table), key=lambda c: (-counts[c], c))
    with cjk_style(font):
        fig = Figure(figsize=(6.4, max(2.4, 0.9 + 0.32 * len(order))), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(order))[::-1]
        values = [int(counts[c]) for c in order]
        colours = [table.colour(c, "#888888") for c in order]
        ax.barh(y, values, color=colours, height=0.65)
        ax.set_yticks(y, [table.label(c, lang) for c in order])
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi, f" {v}", va="center", fontsize=9)
        ax.set_xlim(0, max(values, default=1) * 1.15 + 0.5)
        ax.set_title("各类别问题数" if lang == "zh" else "Findings by category", loc="left")
        ax.set_xlabel("问题数（处）" if lang == "zh" else "findings")
        _tidy(ax)
    return fig


def township_chart(
    findings: pd.DataFrame,
    *,
    lang: str = "zh",
    font: CJKFont | None = None,
    categories: CategoryRegistry | None = None,
) -> Figure:
    """Stacked horizontal bars: findings per township, split by category.

    Parameters
    ----------
    findings
        Findings (``township`` and ``category`` columns).
    lang
        "zh" or "en".
    font
        CJK font (found with :func:`cjk_font` when None).
    categories
        Labels, colours and order of the categories (the default rule table's when None).
    """
    registry = default_categories() if categories is None else categories
    unknown = "（未知）" if lang == "zh" else "(unknown)"
    township = findings["township"].fillna("").astype(str).replace("", unknown)
    table = pd.crosstab(township, findings["category"].astype(str))
    present = _ordered_categories(findings["category"], registry)
    categories_shown = [c for c in present if c in table.columns]
    table = table.reindex(columns=categories_shown, fill_value=0)
    totals = table.sum(axis=1)
    towns = sorted(table.index, key=lambda t: (-int(totals[t]), t))
    with cjk_style(font):
        fig = Figure(figsize=(7.2, max(2.6, 1.3 + 0.36 * len(towns))), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(towns))[::-1]
        left = np.zeros(len(towns))
        for category in categories_shown:
            width = table.loc[towns, category].to_numpy(dtype=float)
            ax.barh(
                y,
                width,
                left=left,
                height=0.65,
                color=registry.colour(category, "#888888"),
                label=registry.label(category, lang),
            )
            left += width
        for yi, total in zip(y, left, strict=True):
            ax.text(total, yi, f" {int(total)}", va="center", fontsize=9)
        ax.set_yticks(y, towns)
        ax.set_xlim(0, max(left, default=1) * 1.15 + 0.5)
        title = "各乡镇（街道）问题数" if lang == "zh" else "Findings by township"
        ax.set_title(title, loc="left")
        ax.set_xlabel("问题数（处）" if lang == "zh" else "findings")
        ax.legend(
            loc="lower right",
            fontsize=8,
            frameon=False,
            ncols=2 if len(categories_shown) > 5 else 1,
        )
        _tidy(ax)
    return fig


def _tidy(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def save_charts(
    findings: pd.DataFrame,
    dirpath: str | Path,
    *,
    lang: str = "zh",
    font: CJKFont | None = None,
    dpi: int = 150,
    categories: CategoryRegistry | None = None,
) -> dict[str, Path]:
    """Write ``findings_by_category.png`` and ``findings_by_township.png`` into `dirpath`.

    `categories`: labels, colours and order of the categories (the default rule table's when None).

    Returns
    -------
    dict
        ``{"category": path, "township": path}``.
    """
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    chosen = font or cjk_font()
    written = {}
    for key, make in (("category", category_chart), ("township", township_chart)):
        path = out / f"findings_by_{key}.png"
        fig = make(findings, lang=lang, font=chosen, categories=categories)
        path.write_bytes(figure_png(fig, dpi=dpi, font=chosen))
        written[key] = path
    log.info("wrote charts into %s", out)
    return written


# --- the static map of one finding -------------------------------------------------------

_NICE_LENGTHS: Final = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
_SCHOOL_FILL: Final = "#dbe8f5"
_SCHOOL_EDGE: Final = "#1f4e79"
_LINE: Final = "#c00000"
_ASPECT: Final = 1.6
_MAP_WIDTH_PT: Final = 6.4 * 72
_MOVE, _LINE_TO, _CLOSE = int(MplPath.MOVETO), int(MplPath.LINETO), int(MplPath.CLOSEPOLY)
_View = tuple[float, float, float, float]


def _patch(geom: BaseGeometry, **style: Any) -> PathPatch | None:
    """A matplotlib patch of a (multi)polygon with holes (one compound path)."""
    polygons = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if not polygons:
        return None
    vertices: list[Any] = []
    codes: list[int] = []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            vertices.extend(xy)
            codes += [_MOVE] + [_LINE_TO] * (len(xy) - 2) + [_CLOSE]
    return PathPatch(MplPath(np.asarray(vertices), codes), **style)


def _draw(ax: Axes, geom: BaseGeometry, *, colour: str, fill: str, z: float) -> None:
    """Polygons filled, lines stroked, points as round markers."""
    patch = _patch(geom, facecolor=fill, edgecolor=colour, linewidth=1.2, zorder=z)
    if patch is not None:
        ax.add_patch(patch)
    for part in shapely.get_parts(geom):
        if part.geom_type == "LineString":
            ax.plot(*part.xy, color=colour, linewidth=2.4, zorder=z, solid_capstyle="round")
        elif part.geom_type == "Point":
            ax.plot(part.x, part.y, "o", ms=9, mfc=colour, mec="white", mew=1.5, zorder=z + 5)


def _view(line: BaseGeometry, school: BaseGeometry | None) -> _View:
    """Map extent (minx, miny, maxx, maxy) around the line and the campus, at the map's aspect."""
    geoms = [line] + ([school] if school is not None else [])
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    pad = max(0.15 * max(maxx - minx, maxy - miny), 15.0)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    w, h = maxx - minx, maxy - miny
    if w / h < _ASPECT:
        grow = (h * _ASPECT - w) / 2
        return minx - grow, miny, maxx + grow, maxy
    grow = (w / _ASPECT - h) / 2
    return minx, miny - grow, maxx, maxy + grow


def _scale_bar(ax: Axes, view: _View, unit: str) -> None:
    # a scale bar is five strokes in a plane already in metres: no extra package for it
    minx, miny, maxx, maxy = view
    length = max(n for n in _NICE_LENGTHS if n <= max((maxx - minx) / 5, 1))
    x0 = minx + 0.04 * (maxx - minx)
    y0 = miny + 0.05 * (maxy - miny)
    tick = 0.012 * (maxy - miny)
    ax.plot([x0, x0 + length], [y0, y0], color=_INK, linewidth=2, zorder=20, solid_capstyle="butt")
    for x in (x0, x0 + length):
        ax.plot([x, x], [y0 - tick, y0 + tick], color=_INK, linewidth=1, zorder=20)
    ax.text(x0 + length / 2, y0 + 1.6 * tick, f"{length:g} {unit}", ha="center", fontsize=8)


def _north_arrow(ax: Axes, view: _View, north: str) -> None:
    minx, miny, maxx, maxy = view
    x = maxx - 0.05 * (maxx - minx)
    y = maxy - 0.16 * (maxy - miny)
    ax.annotate(
        north,
        xy=(x, y + 0.1 * (maxy - miny)),
        xytext=(x, y),
        ha="center",
        va="top",
        fontsize=9,
        arrowprops={"arrowstyle": "-|>", "color": _INK, "lw": 1.2},
        zorder=20,
    )


def _halo(width: float = 3.0) -> list[pe.AbstractPathEffect]:
    return [pe.withStroke(linewidth=width, foreground="white")]


def _inside(
    normal: tuple[float, float], at: tuple[float, float], view: _View, reach: float
) -> tuple[float, float]:
    """`normal`, or its opposite when a label reaching `reach` metres that way would leave the map."""
    nx, ny = normal
    x, y = at[0] + reach * nx, at[1] + reach * ny
    if view[0] <= x <= view[2] and view[1] <= y <= view[3]:
        return nx, ny
    return -nx, -ny


def _line_label(
    ax: Axes, xy: npt.NDArray[np.float64], text: str, view: _View, away_from: tuple[float, float]
) -> None:
    """The length of the measured line, on the side of the line away from `away_from`.

    Along the line, upright, when the line is straight and long enough on the
    map to hold it; otherwise (a walking route, a short line) level, beside
    the line, with a leader to its middle.
    """
    line = shapely.LineString(xy) if len(xy) > 1 else None
    length = float(line.length) if line is not None else 0.0
    if line is None or length == 0.0:
        mid, dx, dy = (float(xy[0][0]), float(xy[0][1])), 0.0, 0.0
    else:  # the middle of the line (of a walking route too) and the direction of its segment there
        at = line.interpolate(0.5, normalized=True)
        ahead = line.interpolate(min(length, line.project(at) + 0.01 * length))
        before = line.interpolate(max(0.0, line.project(at) - 0.01 * length))
        mid, dx, dy = (at.x, at.y), ahead.x - before.x, ahead.y - before.y
    direction = math.hypot(dx, dy)
    nx, ny = (-dy / direction, dx / direction) if direction else (0.0, 1.0)
    if (mid[0] - away_from[0]) * nx + (mid[1] - away_from[1]) * ny < 0:
        nx, ny = -nx, -ny
    style: dict[str, Any] = {
        "fontsize": 11,
        "fontweight": "bold",
        "color": _LINE,
        "path_effects": _halo(3.5),
        "zorder": 30,
        "textcoords": "offset points",
    }
    points_per_metre = _MAP_WIDTH_PT / (view[2] - view[0])
    # width of the label in points at 11 pt bold: about 11 for a Chinese character, 6.5 otherwise
    width = sum(11.0 if ord(c) > 0x2E80 else 6.5 for c in text)
    if len(xy) > 2 or length * points_per_metre < width + 16:  # a bent route, or too short
        nx, ny = _inside((nx, ny), mid, view, (width + 34) / points_per_metre)
        ax.annotate(
            text, xy=mid, xytext=(34 * nx, 34 * ny), ha="left" if nx >= 0 else "right",
            va="bottom" if ny >= 0 else "top",
            arrowprops={"arrowstyle": "-", "color": _LINE, "lw": 0.8, "shrinkA": 1, "shrinkB": 2},
            **style,
        )  # fmt: skip
        return
    angle = math.degrees(math.atan2(dy, dx))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    theta = math.radians(angle)
    # the text's "up" is (-sin, cos): with va="bottom" it sits on that side, so flip to the
    # other side (va="top") when the chosen normal points the other way
    up = -math.sin(theta) * nx + math.cos(theta) * ny >= 0
    ax.annotate(
        text, xy=mid, xytext=(6 * nx, 6 * ny), rotation=angle, rotation_mode="anchor",
        ha="center", va="bottom" if up else "top", **style,
    )  # fmt: skip


def _name_label(
    ax: Axes, xy: tuple[float, float], text: str, colour: str, toward: tuple[float, float]
) -> None:
    """A name beside its point, pushed in the direction `toward` (a vector on the map)."""
    tx, ty = toward
    norm = math.hypot(tx, ty) or 1.0
    ux, uy = tx / norm, ty / norm
    ax.annotate(
        text,
        xy=xy,
        xytext=(9 * ux, 9 * uy),
        textcoords="offset points",
        ha="left" if ux > 0.3 else "right" if ux < -0.3 else "center",
        va="bottom" if uy > 0.3 else "top" if uy < -0.3 else "center",
        fontsize=9,
        color=colour,
        path_effects=_halo(),
        zorder=30,
    )


@dataclass(frozen=True)
class _Words:
    unit: str
    north: str
    campus: str
    point_campus: str
    hazard: str
    line: str
    zone: str

    @classmethod
    def of(cls, lang: str) -> _Words:
        if lang == "zh":
            return cls(
                "米", "北", "校园", "学校点位（边界未知）", "隐患", "量测线", "{d:g} 米范围线"
            )
        return cls(
            "m", "N", "campus", "school point (outline unknown)", "hazard", "measured line",
            "{d:g} m zone",
        )  # fmt: skip


def _legend(ax: Axes, words: _Words, colour: str, point_school: bool, zone: str) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    campus: Any = (
        Line2D(
            [], [], marker="s", ls="", mfc=_SCHOOL_EDGE, mec="white", ms=8, label=words.point_campus
        )
        if point_school
        else Patch(facecolor=_SCHOOL_FILL, edgecolor=_SCHOOL_EDGE, label=words.campus)
    )
    handles = [
        campus,
        Line2D([], [], marker="o", ls="", mfc=colour, mec="white", ms=8, label=words.hazard),
        Line2D([], [], color=_LINE, lw=2.2, label=words.line),
    ]
    if zone:
        handles.append(Line2D([], [], color=_LINE, lw=1, ls=(0, (5, 3)), label=zone))
    ax.legend(handles=handles, loc="upper left", fontsize=7.5, framealpha=0.92, edgecolor="#bbbbbb")


def _draw_zone(
    ax: Axes, outline: BaseGeometry, dist: float, box: BaseGeometry, view: _View, words: _Words
) -> str:
    """Draw the edge of the zone at `dist` metres around the campus; its legend text if in view.

    The map plane is the band's transverse Mercator on the WGS 84 ellipsoid
    (scale error below 1.2e-5), so a planar buffer there is the geodesic zone
    of :func:`campus_geo.geodesy.geodesic_buffer` (never a buffer in degrees).
    """
    zone = shapely.buffer(outline, dist, quad_segs=32)
    ring = shapely.clip_by_rect(zone.boundary, *box.bounds)
    for part in shapely.get_parts(ring):
        ax.plot(*part.xy, color=_LINE, linewidth=1, linestyle=(0, (5, 3)), zorder=2)
    # legend only when the edge is in view, not just in the margin beyond it
    return "" if shapely.clip_by_rect(ring, *view).is_empty else words.zone.format(d=dist)


def finding_map(
    finding: pd.Series,
    *,
    school: BaseGeometry | None,
    hazard: BaseGeometry | None,
    band: int,
    streets: BaseGeometry | None = None,
    gates: BaseGeometry | None = None,
    lang: str = "zh",
    attribution: str = "",
    font: CJKFont | None = None,
    categories: CategoryRegistry | None = None,
) -> Figure:
    """A small static map of one finding, drawn in the band projection it was measured in.

    Draws the streets (grey), the edge of the zone at the rule's distance
    around the campus (dashed, when the profile is ``boundary`` and it is in
    view), the campus outline (or the school point when the outline is
    unknown), the gates, the hazard in its category colour, and the measured
    line labelled with its length to the centimetre; a scale bar and a north
    arrow (grid north of the band, within 0.25 degrees of true north). No
    basemap tiles: nothing is fetched.

    Parameters
    ----------
    finding
        One row of the findings: ``distance_m``, ``threshold_m``, ``profile``,
        ``category``, ``school_name``, ``hazard_name`` and the measured line
        ``geometry`` (lon/lat, EPSG:4326).
    school, hazard, streets, gates
        Geometries in lon/lat (EPSG:4326), or None when unknown.
    band
        Longitude band (:func:`campus_geo.geodesy.band_of`) whose transverse
        Mercator the map is drawn in (metres).
    lang
        "zh" or "en".
    attribution
        Data attribution written in the corner (e.g. © OpenStreetMap contributors).
    font
        CJK font (found with :func:`campus_geo.fonts.cjk_font` when None).
    categories
        Colour and label of the finding's category (the default rule table's when None).
    """
    transformer = to_band(band_crs(band))

    def local(geom: BaseGeometry | None) -> BaseGeometry | None:
        if geom is None or geom.is_empty:
            return None
        return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(*xy.T)))

    line = local(finding["geometry"])
    if line is None:
        msg = f"finding {finding.name} has no measured line"
        raise ValueError(msg)
    outline, venue, roads, doors = local(school), local(hazard), local(streets), local(gates)
    view = _view(line, outline)
    box = shapely.box(*view).buffer(0.05 * (view[2] - view[0]), join_style="mitre")
    registry = default_categories() if categories is None else categories
    colour = registry.colour(str(finding["category"]), "#555555")
    words = _Words.of(lang)
    xy = np.asarray(line.coords)[:, :2]
    point_school = outline is not None and outline.geom_type == "Point"
    with cjk_style(font):
        fig = Figure(figsize=(_MAP_WIDTH_PT / 72, _MAP_WIDTH_PT / 72 / _ASPECT))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_facecolor("#fbfbf8")
        if roads is not None:
            for part in shapely.get_parts(shapely.clip_by_rect(roads, *box.bounds)):
                if part.geom_type == "LineString":
                    ax.plot(*part.xy, color="#cccccc", linewidth=2.4, zorder=1)
        zone = ""
        if outline is not None and str(finding["profile"]) == "boundary":
            zone = _draw_zone(ax, outline, float(finding["threshold_m"]), box, view, words)
        if point_school:
            ax.plot(*xy[0], "s", ms=9, mfc=_SCHOOL_EDGE, mec="white", mew=1.5, zorder=12)
        elif outline is not None:
            _draw(ax, outline, colour=_SCHOOL_EDGE, fill=_SCHOOL_FILL, z=3)
        if venue is not None:
            _draw(
                ax, shapely.clip_by_rect(venue, *box.bounds), colour=colour, fill=colour + "55", z=4
            )
        for gate in shapely.get_parts(doors) if doors is not None else []:
            ax.plot(gate.x, gate.y, "s", ms=5, mfc="white", mec=_SCHOOL_EDGE, zorder=6)
        ax.plot(xy[:, 0], xy[:, 1], color=_LINE, linewidth=2.2, zorder=8)
        ax.plot(xy[[0, -1], 0], xy[[0, -1], 1], "o", ms=3.5, color=_LINE, zorder=15)
        anchor = outline.representative_point() if outline is not None else None
        inside = anchor is not None and box.contains(anchor)
        at_school = (anchor.x, anchor.y) if anchor is not None and inside else tuple(xy[0])
        _line_label(ax, xy, f"{float(finding['distance_m']):.2f} {words.unit}", view, at_school)
        school_name = str(finding["school_name"]) or str(finding["school_id"])
        centre = ((view[0] + view[2]) / 2, (view[1] + view[3]) / 2)
        toward = (centre[0] - at_school[0], centre[1] - at_school[1]) if not inside else (0, -1)
        _name_label(ax, at_school, school_name, _SCHOOL_EDGE, toward)
        hazard_name = str(finding["hazard_name"]) or registry.label(str(finding["category"]), lang)
        ahead = (xy[-1][0] - xy[0][0], xy[-1][1] - xy[0][1])
        _name_label(ax, tuple(xy[-1]), hazard_name, colour, ahead if any(ahead) else (1, -1))
        _scale_bar(ax, view, words.unit)
        _north_arrow(ax, view, words.north)
        _legend(ax, words, colour, point_school, zone)
        if attribution:
            ax.text(0.995, 0.006, attribution, transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=6.5, color="#555555", zorder=40)  # fmt: skip
        ax.set_xlim(view[0], view[2])
        ax.set_ylim(view[1], view[3])
        ax.set_aspect("equal")
        ax.set_axis_off()
        frame = PathPatch(MplPath.unit_rectangle(), transform=ax.transAxes, fill=False,
                          edgecolor="#777777", linewidth=1.2, zorder=50)  # fmt: skip
        ax.add_patch(frame)
    return fig
