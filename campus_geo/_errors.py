"""Exception types of campus_geo.

Every message names the input (argument, file, row, column), what was expected,
what was found and how to fix it. The CLI turns these into exit status 2.
"""

from __future__ import annotations

__all__ = ["CampusGeoError", "InputDataError", "RulesError"]


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
