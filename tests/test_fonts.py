"""The CJK font: found, registered when matplotlib's cache is stale, refused when it lacks glyphs."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import pytest
from matplotlib import font_manager, ft2font

from campus_geo import FontMissingError
from campus_geo.fonts import CJK_FAMILIES, FONT_ENV, cjk_font, cjk_style
from campus_geo.reports.fonts import PROBE_TEXT

DEJAVU = Path(mpl.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


@pytest.fixture(autouse=True)
def no_env_font(monkeypatch):
    monkeypatch.delenv(FONT_ENV, raising=False)


def test_found_font_draws_every_probe_character():
    font = cjk_font()
    assert font.family in CJK_FAMILIES
    face = ft2font.FT2Font(str(font.path), face_index=font.index)
    # glyph index 0 is .notdef, the box drawn for a missing character ("tofu")
    indices = [face.get_char_index(ord(c)) for c in PROBE_TEXT]
    assert all(i > 0 for i in indices)
    assert len(set(indices)) == len(set(PROBE_TEXT))


def test_the_simplified_chinese_face_of_a_collection_is_chosen():
    font = cjk_font()
    if font.path.suffix.lower() != ".ttc":
        pytest.skip(f"the font found is a single face ({font.path.name})")
    assert font.family.endswith(("SC", "CN", "GB")), font


def test_style_sets_the_font_and_fixed_svg_ids():
    with cjk_style() as font:
        assert mpl.rcParams["font.sans-serif"][0] == font.family
        assert mpl.rcParams["svg.hashsalt"] == "campus_geo"
        assert mpl.rcParams["svg.fonttype"] == "path"
    assert mpl.rcParams["svg.hashsalt"] != "campus_geo"


def test_env_font_file_is_used(monkeypatch):
    found = cjk_font()
    monkeypatch.setenv(FONT_ENV, str(found.path))
    assert cjk_font().path == found.path


def test_env_pointing_at_a_missing_file(monkeypatch):
    monkeypatch.setenv(FONT_ENV, "/no/such/font.ttf")
    with pytest.raises(
        FontMissingError, match=r"CAMPUS_GEO_CJK_FONT=/no/such/font.ttf is not a font"
    ):
        cjk_font()


def test_env_pointing_at_a_latin_font_is_refused(monkeypatch):
    monkeypatch.setenv(FONT_ENV, str(DEJAVU))
    with pytest.raises(FontMissingError, match="has no glyphs for Simplified Chinese") as info:
        cjk_font()
    assert "apt-get install fonts-noto-cjk" in str(info.value)


def _without_cjk(monkeypatch):
    """Forget every file that has a CJK face, as a font cache made before they were installed."""
    names = set(CJK_FAMILIES)
    files = {e.fname for e in font_manager.fontManager.ttflist if e.name in names}
    kept = [e for e in font_manager.fontManager.ttflist if e.fname not in files]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", kept)


def test_no_cjk_font_anywhere_gives_install_instructions(monkeypatch):
    _without_cjk(monkeypatch)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(FontMissingError) as info:
        cjk_font()
    message = str(info.value)
    assert message.startswith("no font with Chinese glyphs is available")
    assert "apt-get install fonts-noto-cjk" in message
    assert FONT_ENV in message


def test_font_installed_after_matplotlib_cached_its_list_is_registered(monkeypatch):
    found = cjk_font()
    _without_cjk(monkeypatch)  # as if the font cache predates `apt-get install fonts-noto-cjk`
    again = cjk_font()
    assert (again.path, again.family) == (found.path, found.family)
