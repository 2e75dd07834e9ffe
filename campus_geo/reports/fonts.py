"""A font with Chinese glyphs for every figure, and the style that makes figures reproducible.

Charts and evidence maps label schools, venues and townships in Chinese. A
Latin-only font (matplotlib's default DejaVu Sans) draws each of those
characters as an empty box ("tofu"), so every figure is drawn with a font
found by :func:`cjk_font`:

1. the font file named by the environment variable ``CAMPUS_GEO_CJK_FONT``
   (a .ttf, .otf or .ttc), when set;
2. otherwise the first family of :data:`CJK_FAMILIES` that matplotlib knows:
   Noto Sans CJK SC first (Debian's ``fonts-noto-cjk``, SIL Open Font License
   1.1, installed by ``.ci/run``), then Source Han Sans, WenQuanYi, and the
   Chinese system fonts of Windows (Microsoft YaHei, SimHei) and macOS
   (PingFang SC, Hiragino Sans GB);
3. otherwise CJK fonts installed after matplotlib built its font cache,
   found by file name among the system fonts and registered.

A font is taken only if it has a glyph for every character of a probe text.
When there is none, :class:`~campus_geo.FontMissingError` says how to install
one. campus_geo ships no font of its own: the PyPI packages that bundle one are
either unmaintained or carry fonts without an open licence, while every
desktop system has a Chinese font and Linux distributions package Noto CJK.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import matplotlib as mpl
from matplotlib import font_manager, ft2font

from campus_geo._errors import FontMissingError

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["CJK_FAMILIES", "FONT_ENV", "CJKFont", "cjk_font", "cjk_style", "figure_style"]

log = logging.getLogger(__name__)

#: Font families with Simplified Chinese glyphs, in order of preference.
CJK_FAMILIES: Final = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Sarasa Gothic SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
#: Environment variable naming a font file (.ttf, .otf, .ttc) to use instead.
FONT_ENV: Final = "CAMPUS_GEO_CJK_FONT"
#: Characters a font must draw to be chosen (form, chart and map vocabulary).
PROBE_TEXT: Final = "校园及周边安全问题排查表学校名称所在乡镇街道村社区距离米证据单类别牵头单位"
#: File names of CJK fonts, to register fonts installed after matplotlib built its cache.
_FILE_HINTS: Final = (
    "notosanscjk",
    "notoserifcjk",
    "notosanssc",
    "sourcehansans",
    "wqy",
    "msyh",
    "simhei",
    "pingfang",
    "hiragino",
    "droidsansfallback",
    "uming",
    "sarasa",
)
INSTALL_HINT: Final = (
    "Install one: on Debian/Ubuntu `apt-get install fonts-noto-cjk` (Noto Sans CJK, "
    "SIL Open Font License), on Fedora `dnf install google-noto-sans-cjk-fonts`; "
    "Windows and macOS already have one (Microsoft YaHei, PingFang SC). Or set "
    f"{FONT_ENV}=/path/to/font.ttf (or .otf/.ttc) to a font that covers Simplified Chinese."
)
#: Salt of the ids in matplotlib's SVG output (fixed: the same figure gives the same bytes).
SVG_SALT: Final = "campus_geo"
_FONT_ERRORS: Final = (OSError, RuntimeError, ValueError)


@dataclass(frozen=True)
class CJKFont:
    """A font face with Simplified Chinese glyphs, as matplotlib knows it.

    Attributes
    ----------
    family
        Family name matplotlib resolves (e.g. ``"Noto Sans CJK SC"``).
    path
        The font file.
    index
        Face index in a font collection (.ttc), 0 otherwise.
    """

    family: str
    path: Path
    index: int = 0

    def covers(self, text: str) -> bool:
        """Whether the face has a glyph for every character of `text` (spaces aside)."""
        return _covers(str(self.path), self.index, text)


def _covers(path: str, index: int, text: str) -> bool:
    try:
        charmap = ft2font.FT2Font(path, face_index=index).get_charmap()
    except _FONT_ERRORS:  # unreadable or not a font
        return False
    return all(ord(c) in charmap for c in text if not c.isspace())


def _entries(path: str | None = None) -> list[Any]:
    return [
        e
        for e in font_manager.fontManager.ttflist
        if (path is None or e.fname == path) and e.style == "normal"
    ]


def _choose(entries: list[Any]) -> CJKFont | None:
    rank = {family: i for i, family in enumerate(CJK_FAMILIES)}
    best: dict[tuple[str, int], tuple[int, int, str]] = {}
    for e in entries:
        best.setdefault(
            (e.fname, int(e.index)), (rank.get(e.name, len(rank)), abs(e.weight - 400), e.name)
        )
    for (fname, index), (_, _, name) in sorted(best.items(), key=lambda kv: kv[1]):
        if _covers(fname, index, PROBE_TEXT):
            return CJKFont(family=name, path=Path(fname), index=index)
    return None


def _from_env(value: str) -> CJKFont:
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        msg = f"{FONT_ENV}={value} is not a font file; point it at a .ttf, .otf or .ttc file"
        raise FontMissingError(msg)
    if not _entries(str(path)):
        try:
            font_manager.fontManager.addfont(path)
        except _FONT_ERRORS as exc:
            msg = f"{FONT_ENV}={value} cannot be read as a font ({exc}). {INSTALL_HINT}"
            raise FontMissingError(msg) from exc
    font = _choose(_entries(str(path)))
    if font is None:
        msg = f"{FONT_ENV}={value} has no glyphs for Simplified Chinese. {INSTALL_HINT}"
        raise FontMissingError(msg)
    return font


def _register_new_system_fonts() -> None:
    """Register CJK font files that matplotlib's cached font list does not know yet."""
    known = {e.fname for e in font_manager.fontManager.ttflist}
    for path in sorted(font_manager.findSystemFonts()):
        flat = Path(path).name.lower().replace("-", "").replace("_", "")
        if path not in known and any(hint in flat for hint in _FILE_HINTS):
            with contextlib.suppress(*_FONT_ERRORS):
                font_manager.fontManager.addfont(path)
                log.info("registered CJK font %s with matplotlib", path)


def cjk_font() -> CJKFont:
    """Find a font that draws Simplified Chinese, registering it with matplotlib if needed.

    Raises
    ------
    FontMissingError
        When no such font exists; the message says how to install one.

    Examples
    --------
    >>> font = cjk_font()
    >>> font.covers("校园及周边安全问题排查表")
    True
    """
    env = os.environ.get(FONT_ENV, "").strip()
    if env:
        return _from_env(env)
    names = set(CJK_FAMILIES)
    font = _choose([e for e in _entries() if e.name in names])
    if font is None:
        _register_new_system_fonts()
        font = _choose([e for e in _entries() if e.name in names])
    if font is None:
        msg = (
            "no font with Chinese glyphs is available for the charts and evidence maps "
            f"(looked for {', '.join(CJK_FAMILIES[:10])} ...). {INSTALL_HINT}"
        )
        raise FontMissingError(msg)
    log.debug("CJK font: %s (%s, face %d)", font.family, font.path, font.index)
    return font


def figure_style(font: CJKFont) -> dict[RcKeyType, Any]:
    """Matplotlib rcParams of every campus_geo figure: the CJK font, fixed SVG ids, text as paths."""
    # a concrete family (not the generic "sans-serif") is stored in every text created in
    # this style, so the figure still draws Chinese when it is saved or shown outside it
    return {
        "font.family": [font.family, "DejaVu Sans"],
        "font.sans-serif": [font.family, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "svg.hashsalt": SVG_SALT,
        "axes.edgecolor": "#555555",
        "axes.labelcolor": "#1a1a1a",
        "text.color": "#1a1a1a",
        "xtick.color": "#333333",
        "ytick.color": "#333333",
    }


@contextlib.contextmanager
def cjk_style(font: CJKFont | None = None) -> Iterator[CJKFont]:
    """Context in which matplotlib draws with `font` (found with :func:`cjk_font` when None).

    Yields
    ------
    CJKFont
        The font in use.
    """
    chosen = font or cjk_font()
    with mpl.rc_context():
        mpl.rcParams.update(figure_style(chosen))
        yield chosen
