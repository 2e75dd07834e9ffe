"""Charts and the static map of a finding: right counts, real Chinese glyphs, same bytes twice."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from campus_geo.charts import (
    category_chart,
    figure_png,
    figure_svg,
    finding_map,
    save_charts,
    township_chart,
)
from campus_geo.fonts import cjk_font
from campus_geo.geodesy import band_crs, band_of, to_band
from campus_geo.screen import screen


@pytest.fixture(scope="module")
def font():
    return cjk_font()


@pytest.fixture
def findings():
    return pd.DataFrame(
        {
            "township": ["甲镇", "甲镇", "甲镇", "乙乡", ""],
            "category": ["internet_cafe", "lottery", "internet_cafe", "water", "lottery"],
            "school_id": ["a", "a", "b", "c", "d"],
        }
    )


def _glyph_pixels(text: str, family: str) -> np.ndarray:
    fig = Figure(figsize=(1.2, 1.2), dpi=100)
    fig.text(0.5, 0.5, text, family=family, fontsize=48, ha="center", va="center")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0] < 128


def test_chinese_characters_are_drawn_not_tofu(font):
    # a Latin-only font draws every Chinese character as the same .notdef box, and warns
    with pytest.warns(UserWarning, match="missing from font"):
        tofu_xiao = _glyph_pixels("校", "DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        tofu_yuan = _glyph_pixels("园", "DejaVu Sans")
    assert (tofu_xiao == tofu_yuan).all()
    xiao, yuan = _glyph_pixels("校", font.family), _glyph_pixels("园", font.family)
    assert xiao.sum() > 150  # ink, not blank
    assert yuan.sum() > 150
    assert (xiao != yuan).sum() > 150  # two different glyphs
    assert (xiao != tofu_xiao).sum() > 150  # and neither is the box


def test_category_chart_counts_and_labels(findings, font):
    fig = category_chart(findings, font=font)
    ax = fig.axes[0]
    bars = {label.get_text(): patch.get_width() for label, patch in zip(
        sorted(ax.get_yticklabels(), key=lambda t: t.get_position()[1]),
        sorted(ax.patches, key=lambda p: p.get_y()), strict=True)}  # fmt: skip
    assert bars == {"上网服务场所": 2, "彩票销售点": 2, "水域": 1}
    assert ax.get_title(loc="left") == "各类别问题数"
    label = ax.get_yticklabels()[0]
    assert font_manager.findfont(label.get_fontproperties()) == str(font.path)
    png = figure_png(fig, font=font)
    assert Image.open(io.BytesIO(png)).size == (960, 360)


def test_township_chart_stacks_categories(findings, font):
    fig = township_chart(findings, font=font)
    ax = fig.axes[0]
    towns = [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]
    assert towns == ["甲镇", "乙乡", "（未知）"]
    totals = {}
    for patch in ax.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        totals[y] = max(totals.get(y, 0), patch.get_x() + patch.get_width())
    assert sorted(totals.values(), reverse=True) == [3, 1, 1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["上网服务场所", "彩票销售点", "水域"]
    english = township_chart(findings, lang="en", font=font).axes[0]
    assert english.get_title(loc="left") == "Findings by township"


def test_png_and_svg_are_byte_reproducible(findings, font, tmp_path):
    a = save_charts(findings, tmp_path / "a", font=font)
    b = save_charts(findings, tmp_path / "b", font=font)
    assert [p.name for p in a.values()] == ["findings_by_category.png", "findings_by_township.png"]
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes()
        assert b"matplotlib" not in a[key].read_bytes()
    svg1 = figure_svg(category_chart(findings, font=font), font=font)
    svg2 = figure_svg(category_chart(findings, font=font), font=font)
    assert svg1 == svg2
    assert b"<dc:date>" not in svg1
    # text is drawn as glyph outlines of the CJK font: the page needs no font
    assert re.search(rb'<path id="[^"]*CJK[^"]*-[0-9a-f]+" d="M ', svg1)


@pytest.fixture
def equator(equator_layers):
    schools, hazards = equator_layers
    findings = screen(schools, hazards)
    return schools, hazards, findings


def test_finding_map_draws_outline_hazard_and_labelled_line(equator, font):
    schools, hazards, findings = equator
    finding = findings[findings["hazard_id"] == "in_150"].iloc[0]
    band = int(band_of([0.0])[0])
    fig = finding_map(
        finding,
        school=schools.geometry.iloc[0],
        hazard=hazards.loc["in_150"].geometry,
        band=band,
        font=font,
    )
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "150.00 米" in texts
    assert {"赤道小学", "网吧丙"} <= set(texts)
    # the measured line, in the band's transverse Mercator, from the east edge to the venue
    x, y = to_band(band_crs(band)).transform(
        [finding["school_lon"], finding["hazard_lon"]],
        [finding["school_lat"], finding["hazard_lat"]],
    )
    drawn = [line.get_xydata() for line in ax.lines if line.get_color() == "#c00000"]
    assert any(
        d.shape == (2, 2) and np.allclose(d, np.column_stack([x, y]), atol=1e-6) for d in drawn
    )
    assert np.isclose(x[1] - x[0], 150.0, atol=0.01)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["校园", "隐患", "量测线", "200 米范围线"]
    # the whole campus (a 222 m square) and the line are in view
    x0, x1 = ax.get_xlim()
    square = shapely.transform(schools.geometry.iloc[0], lambda c: np.column_stack(
        to_band(band_crs(band)).transform(*c.T)))  # fmt: skip
    assert x0 < square.bounds[0]
    assert x1 > x[1]
    png = figure_png(fig, font=font)
    assert png == figure_png(fig, font=font)


def test_finding_map_without_outline_or_hazard_shape(equator, font):
    _, _, findings = equator
    finding = findings.iloc[0]
    fig = finding_map(
        finding, school=None, hazard=None, band=int(band_of([0.0])[0]), lang="en", font=font
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"{finding['distance_m']:.2f} m" in texts
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "campus",
        "hazard",
        "measured line",
    ]


def test_chart_saved_outside_the_style_still_draws_chinese(findings, font):
    # e.g. shown by Jupyter: the texts keep the CJK family; a missing glyph would warn (an error here)
    fig = township_chart(findings, font=font)
    fig.savefig(io.BytesIO(), format="png")
    fig = category_chart(findings, lang="zh", font=font)
    fig.savefig(io.BytesIO(), format="svg")
