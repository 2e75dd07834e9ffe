"""Exception types of campus_geo.

Every message names the input (argument, file, row, column), what was expected,
what was found and how to fix it. The CLI turns these into exit status 2.
"""

from __future__ import annotations

__all__ = ["CampusGeoError", "FontMissingError", "InputDataError", "LedgerError", "RulesError"]


class CampusGeoError(Exception):
    """Base class of every campus_geo error."""


class InputDataError(CampusGeoError, ValueError):
    """A layer or input file cannot be used as given.

    Parameters
    ----------
    message
        One paragraph: what is wrong, where (file, row, column) and the fix.
    problems
        Every individual problem found, when several were collected.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])


class RulesError(CampusGeoError, ValueError):
    """A rule table (TOML) is malformed or inconsistent."""


class FontMissingError(CampusGeoError):
    """No font with Chinese glyphs is available to draw charts and evidence maps.

    The message names the fonts looked for and how to install one (Debian's
    fonts-noto-cjk) or point ``CAMPUS_GEO_CJK_FONT`` at a font file.
    """


class LedgerError(CampusGeoError):
    """The rectification ledger refuses an operation or cannot be used.

    Illegal status transitions, unknown cases, a damaged ledger file or one
    written by a newer campus_geo. The message says what was found and the fix.
    """
