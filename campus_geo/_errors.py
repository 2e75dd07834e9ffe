"""Exception and warning types of campus_geo.

Every message names the input (argument, file, row, column), what was expected,
what was found and how to fix it. The CLI turns the errors into exit status 2.
Data warnings (a coordinate system assumed or fixed, rows rejected) reach a Python
user as :class:`CampusGeoWarning` subclasses through :func:`warn_data`, as
geopandas warns about CRS mismatches, and go to the log as well.
"""

from __future__ import annotations

import inspect
import logging
import os
import warnings

__all__ = [
    "CampusGeoError",
    "CampusGeoWarning",
    "ConflictError",
    "CoordinateWarning",
    "FontMissingError",
    "InputDataError",
    "LedgerError",
    "RejectedRowsWarning",
    "RulesError",
    "warn_data",
]


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
    cli_message
        The same message for a command-line user, when the fix differs
        (``--coords gcj02`` rather than ``coords="gcj02"``); the ``campus-geo``
        command shows it instead of `message`.
    """

    def __init__(
        self, message: str, problems: list[str] | None = None, *, cli_message: str | None = None
    ) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])
        self.cli_message: str = cli_message or message


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


class ConflictError(LedgerError):
    """A change was made to a case as it was at a version that is no longer current.

    Someone else (the desk, the command line, an import or a sync) changed the
    case in between; nothing was changed. The message names the current
    version and the last change, and the fix: reload the case and redo the edit.
    """


class CampusGeoWarning(UserWarning):
    """Base class of the data warnings campus_geo gives (filter them by this class)."""


class CoordinateWarning(CampusGeoWarning):
    """A coordinate system was assumed (none declared) or coordinates were fixed.

    Examples: a table without ``--coords``/``system=`` read as WGS 84; longitude and
    latitude swapped back; a layer without a CRS taken as EPSG:4326.
    """


class RejectedRowsWarning(CampusGeoWarning):
    """Rows of an input could not be used and were left out (kept in ``rejects``)."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep  # noqa: PTH100, PTH120


def _outside_stacklevel() -> int:
    """The ``stacklevel`` of :func:`warn_data`'s warning that names the first frame outside campus_geo.

    As pandas' ``find_stack_level``: however deep in the package the warning is
    given (``schools_from_file`` -> ``read_table_points``, ``cameras_from_file`` ->
    ``read_table_points``), it points at the user's call of the public function.
    """
    here = inspect.currentframe()  # this function's frame; warn_data's is stacklevel 1
    if here is None or here.f_back is None:  # an interpreter without frames: warn_data's caller
        return 2
    frame = here.f_back
    level = 1
    while frame.f_back is not None and frame.f_back.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level + 1


def warn_data(
    log: logging.Logger,
    message: str,
    category: type[CampusGeoWarning] = CampusGeoWarning,
    *,
    stacklevel: int | None = 3,
) -> None:
    """Log ``message`` at WARNING on ``log`` and give it as a Python warning of ``category``.

    ``stacklevel`` 3 points the warning at the caller of the public function that
    called this helper; None at the first caller outside campus_geo (the user's
    call of the public function, however deep in the package the warning is given).
    """
    log.warning("%s", message, stacklevel=2)  # the record names the function that warns
    level = _outside_stacklevel() if stacklevel is None else stacklevel
    warnings.warn(message, category, stacklevel=level)
